import { describe, expect, it } from 'vitest';
import { SyncflowError } from '../../../src/errors.ts';
import { evaluate, valuesEqual } from '../../../src/flow/expressions/evaluate.ts';
import { parseExpression } from '../../../src/flow/expressions/parseExpression.ts';

const project = { $entity: 'Project', id: 'p1', name: 'Apollo' };
const vars: Record<string, unknown> = {
  count: 4,
  price: 2.5,
  name: 'Ada',
  flag: true,
  none: null,
  task: { $entity: 'Task', id: 't1', title: 'Write', done: null, project: 'p1', due: '2024-03-01T10:00:00.000Z' },
  same: { $entity: 'Task', id: 't1', title: 'Other version' },
  other: { $entity: 'Task', id: 't2', title: 'Read' },
  tasks: [{ id: 'a' }, { id: 'b' }],
};

const ctx = {
  variable: (n: string) => {
    if (!Object.hasOwn(vars, n)) throw new Error(`no $${n}`);
    return vars[n];
  },
  // Associations resolve to objects, as the interpreter does it.
  member: async (o: Record<string, unknown>, m: string) => (m === 'project' ? (o.project === 'p1' ? project : null) : o[m]),
  now: () => new Date('2024-05-06T07:08:09.000Z'),
};

const ev = (s: string) => evaluate(parseExpression(s), ctx, s);

async function fails(s: string): Promise<SyncflowError> {
  try {
    await ev(s);
  } catch (e) {
    expect(e).toBeInstanceOf(SyncflowError);
    expect((e as SyncflowError).code).toBe('flow_runtime');
    return e as SyncflowError;
  }
  throw new Error(`${s} evaluated`);
}

describe('evaluate', () => {
  it.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 - 2 - 3', 5],
    ['7 div 2', 3.5],
    ['9 : 3', 3],
    ['7 mod 3', 1],
    ['-$count + 1', -3],
    ['$count * $price', 10],
    ["'n=' + $count", 'n=4'],
    ["$name + ' ' + true", 'Ada true'],
    ["'a' + empty", 'a'],
    ['$count > 3 and $price < 3', true],
    ['$count = 4 or 1 div 0 = 1', true],
    ['$count = 5 and 1 div 0 = 1', false],
    ['not $flag', false],
    ['not $count = 4', false],
    ['if $count > 3 then \'many\' else \'few\'', 'many'],
    ['if false then 1 div 0 else 2', 2],
    ['$task/title', 'Write'],
    ['$task/project/name', 'Apollo'],
    ['$task/project = empty', false],
    ['$other/project = empty', true],
    ['$task/due < currentDateTime()', true],
    ["'abc' < 'abd'", true],
    ['2 >= 2', true],
    ['2 != 2.0', false],
  ])('%s = %j', async (source, value) => {
    expect(await ev(source)).toEqual(value);
  });

  describe('empty semantics', () => {
    it.each([
      ['empty = empty', true],
      ['$none = empty', true],
      ['$name = empty', false],
      ['$name != empty', true],
      ["'' = empty", false],
      ['$task/done = empty', true],
      ['$none < 1', false],
      ['$none >= 1', false],
      ['1 > empty', false],
      ['not $none', true],
      ['$none and true', false],
      ['$none or true', true],
      ['if $none then 1 else 2', 2],
      ['$task/done', null],
    ])('%s = %j', async (source, value) => {
      expect(await ev(source)).toEqual(value);
    });

    it('fails on arithmetic with empty', async () => {
      expect((await fails('$none + 1')).message).toBe('cannot add empty (in "$none + 1" at 0)');
      expect((await fails('2 * empty')).message).toBe('cannot multiply empty (in "2 * empty" at 4)');
      expect((await fails('-$none')).message).toBe('cannot negate empty (in "-$none" at 1)');
    });

    it('fails on reading a member of an empty object', async () => {
      expect((await fails('$none/title')).message).toBe('$none is empty: cannot read "title" (in "$none/title" at 5)');
      expect((await fails('$other/project/name')).message).toBe('$other/project is empty: cannot read "name" (in "$other/project/name" at 14)');
    });
  });

  it('places a failure inside an operator chain at the side that failed', async () => {
    // A left side that is itself a fold starts at the chain's first operand.
    expect((await fails("$name + 1 - 2")).message).toBe('cannot subtract "Ada1": not a number (in "$name + 1 - 2" at 0)');
    expect((await fails("1 + ($name + 1 - 2)")).message).toBe('cannot subtract "Ada1": not a number (in "1 + ($name + 1 - 2)" at 5)');
    expect((await fails('1 + 2 - $none')).message).toBe('cannot subtract empty (in "1 + 2 - $none" at 8)');
    expect((await fails('$flag and $flag and $count')).message).toBe('expected a boolean, got 4 (in "$flag and $flag and $count" at 20)');
    expect(await ev('10 - 4 - 3 + 2 * 3 div 2')).toBe(6);
  });

  it('compares objects by id', async () => {
    expect(await ev('$task = $same')).toBe(true);
    expect(await ev('$task = $other')).toBe(false);
    expect(valuesEqual({ id: 'x' }, { id: 'x' })).toBe(true);
    expect(valuesEqual(undefined, null)).toBe(true);
  });

  it('fails on division by zero and on values of the wrong kind', async () => {
    expect((await fails('1 div 0')).message).toBe('division by zero (in "1 div 0" at 6)');
    expect((await fails('1 mod 0')).message).toContain('division by zero');
    expect((await fails('$count and true')).message).toBe('expected a boolean, got 4 (in "$count and true" at 0)');
    expect((await fails("$count < 'a'")).message).toContain('cannot compare 4 with "a"');
    expect((await fails('$name/x')).message).toBe('$name is not an object: cannot read "x" (in "$name/x" at 5)');
  });
});
