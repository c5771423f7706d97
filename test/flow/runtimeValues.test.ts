import { describe, expect, it } from 'vitest';
import { SyncflowError } from '../../src/errors.ts';
import { compareValues } from '../../src/model/values.ts';
import { checkValue, emptyValueOf, objectsIn } from '../../src/flow/runtimeValues.ts';

const task = { $entity: 'Task', id: 't1' };

describe('runtime values', () => {
  it('checks and normalizes values against static types', () => {
    expect(checkValue({ kind: 'datetime' }, new Date('2024-01-01T01:00:00+01:00'), 'x')).toBe('2024-01-01T00:00:00.000Z');
    expect(checkValue({ kind: 'datetime' }, '2024-01-01T01:00:00+01:00', 'x')).toBe('2024-01-01T00:00:00.000Z');
    expect(checkValue({ kind: 'list', entity: 'Task' }, undefined, 'x')).toEqual([]);
    expect(checkValue({ kind: 'object', entity: 'Task' }, task, 'x')).toBe(task);
    expect(checkValue({ kind: 'unknown' }, 5, 'x')).toBe(5);
    expect(() => checkValue({ kind: 'integer' }, 1.5, '$n')).toThrow('$n must be an integer, not 1.5');
    expect(() => checkValue({ kind: 'enum', values: ['a'] }, 'b', '$e')).toThrow('$e must be an enumeration (a), not "b"');
    expect(() => checkValue({ kind: 'object', entity: 'Project' }, task, '$p')).toThrow('$p must be a Project, not a Task');
    expect(() => checkValue({ kind: 'list', entity: 'Task' }, [task, { $entity: 'Project', id: 'p' }], '$l')).toThrow('$l must be a list of Task, not a list');
    expect(() => checkValue({ kind: 'datetime' }, 'tomorrow', '$d')).toThrow('$d must be a datetime, not "tomorrow"');
  });

  it('refuses datetimes Date would shift or guess at, with a flow_runtime error', () => {
    for (const text of ['2025-02-30T10:00:00Z', '2025-03-01T24:00:00Z', '2025-03-01T10:00:00+99:99', 'March 7, 2025', '2025-03-01', '2025-03-01T10:00:00']) {
      let error: unknown;
      try {
        checkValue({ kind: 'datetime' }, text, '$d');
      } catch (e) {
        error = e;
      }
      expect(error, text).toBeInstanceOf(SyncflowError);
      expect((error as SyncflowError).code).toBe('flow_runtime');
      expect((error as SyncflowError).message).toBe(`$d must be a datetime, not ${JSON.stringify(text)}`);
    }
    expect(checkValue({ kind: 'datetime' }, '2024-02-29T23:30:00-01:00', 'x')).toBe('2024-03-01T00:30:00.000Z');
  });

  it('finds the objects in values and lists', () => {
    expect(objectsIn([task, null, [task], 'x'])).toEqual([task, task]);
    expect(emptyValueOf({ kind: 'string' })).toBeNull();
  });

  it('sorts empty last, numbers numerically', () => {
    expect([3, null, 10, 2].sort(compareValues)).toEqual([2, 3, 10, null]);
    expect(['b', 'a'].sort(compareValues)).toEqual(['a', 'b']);
  });
});
