import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.ts';
import { demoSchema } from '../../src/demo/schema.ts';
import { validateValues } from '../../src/model/values.ts';

const projectId = '6f1c7a52-0000-4000-8000-000000000001';

describe('validateValues', () => {
  it('normalizes datetimes to UTC ISO and ids to lower case', () => {
    const out = validateValues(demoSchema, 'Task', {
      title: 'a',
      due: '2026-01-02T03:04:05+02:00',
      project: projectId.toUpperCase(),
    });
    expect(out).toEqual({ title: 'a', due: '2026-01-02T01:04:05.000Z', project: projectId });
  });

  it('names every bad field', () => {
    try {
      validateValues(demoSchema, 'Task', { title: 3, done: 'yes', priority: 'urgent', estimate: Infinity, words: 1.5, nope: 1 }, { path: 'data' });
      throw new Error('expected a ValidationError');
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).problems.map((p) => p.path).sort()).toEqual(
        ['data.done', 'data.estimate', 'data.nope', 'data.priority', 'data.title', 'data.words'].sort(),
      );
    }
  });

  it('requires required members unless partial', () => {
    expect(() => validateValues(demoSchema, 'Task', {})).toThrow(/values.title: is required/);
    expect(validateValues(demoSchema, 'Task', {}, { partial: true })).toEqual({});
    expect(() => validateValues(demoSchema, 'Attachment', { name: 'x' })).toThrow(/values.task: is required/);
  });

  it('enforces maxLength and rejects non-UUID references', () => {
    expect(() => validateValues(demoSchema, 'Project', { name: 'x'.repeat(201) })).toThrow(/longer than 200/);
    expect(() => validateValues(demoSchema, 'Task', { title: 't', project: 'p1' })).toThrow(/values.project: must be the id/);
  });
});
