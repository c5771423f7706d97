import { describe, expect, it } from 'vitest';
import { demoSchema } from '../../src/demo/schema.ts';
import { ValidationError } from '../../src/errors.ts';
import { CURRENT_USER } from '../../src/model/constraint.ts';
import { constraintSql } from '../../src/server/constraintSql.ts';
import { SqlParams } from '../../src/server/SqlParams.ts';

// The SQL results are checked against matchConstraint on real data in serverTests.ts; these
// check the compilation itself.
describe('constraintSql', () => {
  it('never puts a value into the SQL text', () => {
    const p = new SqlParams();
    const evil = "x'); DROP TABLE sf_objects; --";
    const sql = constraintSql(
      demoSchema,
      'Task',
      { or: [{ attribute: 'title', op: 'eq', value: evil }, { attribute: 'title', op: 'in', value: [evil] }, { attribute: 'title', op: 'contains', value: evil }] },
      'alice',
      p,
    );
    expect(sql).not.toContain('DROP');
    expect(p.values.join(' ')).toContain(evil);
  });

  it('resolves the current user token to the user id', () => {
    const p = new SqlParams();
    constraintSql(demoSchema, 'Task', { attribute: 'assignee', op: 'eq', value: CURRENT_USER }, 'bob', p);
    expect(p.values).toEqual(['bob']);
  });

  it('maps ne to IS DISTINCT FROM and eq null to IS NULL', () => {
    const p = new SqlParams();
    expect(constraintSql(demoSchema, 'Task', { attribute: 'done', op: 'ne', value: true }, 'a', p)).toContain('IS DISTINCT FROM');
    expect(constraintSql(demoSchema, 'Task', { attribute: 'done', op: 'eq', value: null }, 'a', p)).toContain('IS NULL');
  });

  it('names the bad part of a constraint', () => {
    const problems = (c: unknown) => {
      try {
        constraintSql(demoSchema, 'Task', c, 'a', new SqlParams());
      } catch (e) {
        expect(e).toBeInstanceOf(ValidationError);
        return (e as ValidationError).problems.map((x) => x.path);
      }
      return [];
    };
    expect(problems({ attribute: 'nope', op: 'eq', value: 1 })).toEqual(['constraint.attribute']);
    expect(problems({ or: [{ attribute: 'done', op: 'eq', value: 'yes' }] })).toEqual(['constraint.or[0].value']);
    expect(problems({ attribute: 'estimate', op: 'in', value: [1, 'two'] })).toEqual(['constraint.value[1]']);
    expect(problems({ attribute: 'due', op: 'gt', value: CURRENT_USER })).toEqual(['constraint.value']);
    expect(problems({ not: { attribute: 'words', op: 'lt', value: true } })).toEqual(['constraint.not.value']);
  });
});
