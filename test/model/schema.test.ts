import { describe, expect, it } from 'vitest';
import { SchemaError } from '../../src/errors.ts';
import { defineSchema } from '../../src/model/schema.ts';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SchemaError);
    return (e as SchemaError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected a SchemaError');
}

describe('defineSchema', () => {
  it('orders entities so that association targets come first', () => {
    const schema = defineSchema({
      entities: {
        Attachment: { associations: { task: { target: 'Task' } } },
        Task: { associations: { project: { target: 'Project' } } },
        Project: { attributes: { name: { type: 'string' } } },
      },
    });
    expect(schema.order).toEqual(['Project', 'Task', 'Attachment']);
  });

  it('accepts self references and cycles', () => {
    const schema = defineSchema({
      entities: {
        Node: { associations: { parent: { target: 'Node' }, other: { target: 'Other' } } },
        Other: { associations: { node: { target: 'Node' } } },
      },
    });
    expect([...schema.order].sort()).toEqual(['Node', 'Other']);
  });

  it('names an unknown association target', () => {
    expect(problemsOf(() => defineSchema({ entities: { Task: { associations: { project: { target: 'Nope' } } } } }))).toEqual([
      'entities.Task.associations.project.target: unknown entity "Nope"',
    ]);
  });

  it('refuses system attribute names, bad names and enums without values', () => {
    const problems = problemsOf(() =>
      defineSchema({
        entities: {
          task: { attributes: { id: { type: 'string' }, 'bad-name': { type: 'string' }, state: { type: 'enum' } } },
        },
      }),
    );
    expect(problems).toContain('entities.task: entity names start with a capital letter and use letters, digits and _');
    expect(problems).toContain('entities.task.attributes.id: "id" is a system attribute');
    expect(problems).toContain('entities.task.attributes.bad-name: names start with a letter and use letters, digits and _');
    expect(problems).toContain('entities.task.attributes.state.values: an enum needs values');
  });

  it('refuses member names every JavaScript object has (toString, constructor), but not other words', () => {
    const problems = problemsOf(() =>
      defineSchema({
        entities: {
          Note: { attributes: { toString: { type: 'string' as const }, valueOf: { type: 'integer' as const } }, associations: { constructor: { target: 'Note' } } },
        },
      }),
    );
    expect(problems).toEqual([
      'entities.Note.attributes.toString: "toString" is a property of every JavaScript object; choose another name',
      'entities.Note.attributes.valueOf: "valueOf" is a property of every JavaScript object; choose another name',
      'entities.Note.associations.constructor: "constructor" is a property of every JavaScript object; choose another name',
    ]);
    const fine = defineSchema({ entities: { Note: { attributes: { then: { type: 'string' }, length: { type: 'integer' }, data: { type: 'string' } }, associations: { entity: { target: 'Note' } } } } });
    expect(Object.keys(fine.entities.Note.associations)).toEqual(['entity']);
  });

  it('refuses an unknown attribute type and unknown keys', () => {
    const problems = problemsOf(() =>
      defineSchema({ entities: { Task: { attributes: { title: { type: 'text' as never } }, extra: true } as never } }),
    );
    expect(problems.some((p) => p.startsWith('entities.Task.attributes.title.type'))).toBe(true);
    expect(problems.some((p) => p.includes('extra'))).toBe(true);
  });

  it('refuses a name used both as attribute and association', () => {
    expect(
      problemsOf(() =>
        defineSchema({
          entities: {
            P: {},
            T: { attributes: { p: { type: 'string' } }, associations: { p: { target: 'P' } } },
          },
        }),
      ),
    ).toEqual(['entities.T.associations.p: "p" is already an attribute']);
  });
});
