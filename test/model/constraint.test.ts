import { describe, expect, it } from 'vitest';
import { demoSchema } from '../../src/demo/schema.ts';
import { CURRENT_USER, matchConstraint, validateConstraint, type Constraint } from '../../src/model/constraint.ts';

const task = { id: 'x', owner: 'alice', title: 'Write Spec', done: false, estimate: 2.5, due: null, assignee: 'bob' };

describe('constraints', () => {
  it.each<[Constraint, boolean]>([
    [{ attribute: 'done', op: 'eq', value: false }, true],
    [{ attribute: 'estimate', op: 'gt', value: 2 }, true],
    [{ attribute: 'estimate', op: 'lte', value: 2 }, false],
    [{ attribute: 'due', op: 'eq', value: null }, true],
    [{ attribute: 'due', op: 'ne', value: null }, false],
    [{ attribute: 'due', op: 'lt', value: '2030-01-01T00:00:00.000Z' }, false],
    [{ attribute: 'assignee', op: 'ne', value: 'carol' }, true],
    [{ attribute: 'title', op: 'contains', value: 'spec' }, true],
    [{ attribute: 'title', op: 'startsWith', value: 'write' }, true],
    [{ attribute: 'owner', op: 'in', value: ['bob', 'alice'] }, true],
    [{ not: { attribute: 'done', op: 'eq', value: false } }, false],
    [{ or: [{ attribute: 'done', op: 'eq', value: true }, { attribute: 'owner', op: 'eq', value: 'alice' }] }, true],
    [{ and: [{ attribute: 'done', op: 'eq', value: false }, { attribute: 'owner', op: 'eq', value: 'bob' }] }, false],
  ])('%j matches: %s', (c, expected) => {
    expect(matchConstraint(validateConstraint(demoSchema, 'Task', c), task)).toBe(expected);
  });

  it('resolves the current user token', () => {
    const c = validateConstraint(demoSchema, 'Task', { attribute: 'assignee', op: 'eq', value: CURRENT_USER });
    expect(matchConstraint(c, task, 'bob')).toBe(true);
    expect(matchConstraint(c, task, 'alice')).toBe(false);
  });

  it('names the bad part of a constraint', () => {
    expect(() => validateConstraint(demoSchema, 'Task', { and: [{ attribute: 'nope', op: 'eq', value: 1 }] })).toThrow(
      'constraint.and[0].attribute: unknown attribute of Task: "nope"',
    );
    expect(() => validateConstraint(demoSchema, 'Task', { attribute: 'done', op: 'like', value: 1 })).toThrow(/constraint.op/);
    expect(() => validateConstraint(demoSchema, 'Task', { attribute: 'owner', op: 'in', value: 'x' })).toThrow(/constraint.value: must be a list/);
    expect(() => validateConstraint(demoSchema, 'Task', { or: [] })).toThrow(/constraint.or: must be a non-empty list/);
  });

  it('bounds the comparisons of a constraint and the values of an in list', () => {
    const eq = (i: number) => ({ attribute: 'title', op: 'eq', value: `t${i}` });
    expect(() => validateConstraint(demoSchema, 'Task', { or: Array.from({ length: 1000 }, (_, i) => eq(i)) })).not.toThrow();
    expect(() => validateConstraint(demoSchema, 'Task', { or: Array.from({ length: 1001 }, (_, i) => eq(i)) })).toThrow(
      /^constraint: has more than 1,000 comparisons \(the limit\)/,
    );
    const spread = { and: Array.from({ length: 40 }, () => ({ or: Array.from({ length: 30 }, () => ({ not: 1 })) })) };
    const e = (() => { try { validateConstraint(demoSchema, 'Task', spread); } catch (x) { return x as { problems: unknown[] }; } })();
    expect(e!.problems.length).toBeLessThanOrEqual(1002);
    expect(() => validateConstraint(demoSchema, 'Task', { attribute: 'title', op: 'in', value: Array.from({ length: 1001 }, String) })).toThrow(
      /constraint.value: has 1001 values; the limit is 1,000/,
    );
  });
});

