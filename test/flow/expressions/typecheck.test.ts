import { describe, expect, it } from 'vitest';
import { demoSchema } from '../../../src/demo/schema.ts';
import { parseExpression } from '../../../src/flow/expressions/parseExpression.ts';
import { typecheck, unify, type TypeEnv } from '../../../src/flow/expressions/typecheck.ts';
import { describeType, Types, type StaticType } from '../../../src/flow/expressions/types.ts';

const vars: Record<string, StaticType> = {
  count: Types.integer,
  price: Types.decimal,
  name: Types.string,
  flag: Types.boolean,
  when: Types.datetime,
  task: { kind: 'object', entity: 'Task' },
  tasks: { kind: 'list', entity: 'Task' },
  failure: { kind: 'object', entity: 'System.SynchronizationFailure' },
  anything: Types.unknown,
  level: { kind: 'enum', values: ['low', 'high'] },
};

const env: TypeEnv = {
  schema: demoSchema,
  variable: (n) => (Object.hasOwn(vars, n) ? vars[n] : n === 'later' ? { error: '$later is not defined on every path to this node' } : { error: `unknown variable $${n}` }),
};

const typeOf = (s: string) => {
  const r = typecheck(parseExpression(s), s, env);
  expect(r.errors.map((e) => e.message)).toEqual([]);
  return describeType(r.type);
};

const errorsOf = (s: string) => typecheck(parseExpression(s), s, env).errors.map((e) => ({ position: e.position, message: e.message }));

describe('typecheck', () => {
  it.each([
    ['1 + 2', 'integer'],
    ['1 + 2.5', 'decimal'],
    ['$count * $price', 'decimal'],
    ['7 div 2', 'decimal'],
    ['7 : 7', 'decimal'],
    ['7 mod 2', 'integer'],
    ['-$count', 'integer'],
    ["'n: ' + $count", 'string'],
    ["$name + empty", 'string'],
    ['$task/title', 'string'],
    ['$task/priority', 'enumeration (low, normal, high)'],
    ['$task/project', 'Project'],
    ['$task/project/name', 'string'],
    ['$task/due', 'datetime'],
    ['$task/id', 'string'],
    ['$task/changedDate', 'datetime'],
    ['$failure/reason', 'enumeration (deleted, inaccessible, rejected, invalid)'],
    ['$latest', 'unknown'],
    ['$tasks', 'list of Task'],
    ['$count > 3 and not $flag', 'boolean'],
    ['$task = empty', 'boolean'],
    ["$task/priority = 'high'", 'boolean'],
    ['$when < currentDateTime()', 'boolean'],
    ['if $flag then 1 else 2.5', 'decimal'],
    ['if $flag then $task else empty', 'Task'],
    ["if $flag then 'a' else $task/priority", 'string'],
    ['$anything/whatever/goes + 1', 'unknown'],
    ['length($tasks)', 'integer'],
    ['round($price)', 'integer'],
    ['round($price, 2)', 'decimal'],
    ['max(1, 2.5, $count)', 'decimal'],
    ['addDays($when, 1)', 'datetime'],
    ['toString($task/priority)', 'string'],
  ])('%s : %s', (source, type) => {
    vars.latest = Types.unknown;
    expect(typeOf(source)).toBe(type);
  });

  it.each([
    ['$nope + 1', 0, 'unknown variable $nope (at 0)'],
    ['1 + $later', 4, '$later is not defined on every path to this node (at 4)'],
    ['$task/titel', 6, 'Task has no member "titel" (it has id, createdDate, changedDate, owner, title, done, priority, estimate, words, due, assignee, project) (at 6)'],
    ['$tasks/title', 6, '$tasks is a list: read members of its objects in a loop or a list operation (at 6)'],
    ['$count/x', 6, '$count is integer: it has no members (at 6)'],
    ['$task/title/x', 11, '$task/title is string: it has no members (at 11)'],
    ['$count + true', 9, 'cannot add integer and boolean (at 9)'],
    ["$task - 1", 8, 'cannot subtract Task and integer (at 8)'],
    ['$flag * 2', 8, 'cannot multiply boolean and integer (at 8)'],
    ["$count = 'a'", 9, 'cannot compare integer with string (at 9)'],
    ['$task = $failure', 8, 'cannot compare Task with System.SynchronizationFailure (at 8)'],
    ['$flag < true', 8, 'cannot order boolean and boolean with "<" (at 8)'],
    ['$when > 3', 8, 'cannot order datetime and integer with ">" (at 8)'],
    ['$count and $flag', 0, '"and" needs a boolean, not integer (at 0)'],
    ['not $name', 4, '"not" needs a boolean, not string (at 4)'],
    ['if 1 then 2 else 3', 3, '"if" needs a boolean, not integer (at 3)'],
    ["if $flag then 1 else 'one'", 21, '"then" gives integer but "else" gives string (at 21)'],
    ['-$name', 1, '"-" needs a number, not string (at 1)'],
    ["$task/priority = 'urgent'", 17, "'urgent' is not a value of the enumeration (low, normal, high) (at 17)"],
    ['nosuch(1)', 0, 'unknown function "nosuch" (known: toString, length, contains, startsWith, endsWith, toLowerCase, toUpperCase, trim, round, floor, ceil, abs, min, max, parseInteger, parseDecimal, dateTime, addDays, addHours, addMinutes, currentDateTime) (at 0)'],
    ['length()', 0, 'length takes 1 argument: length(string or a list) (at 0)'],
    ['round(1, 2, 3)', 0, 'round takes 1 to 2 arguments: round(number, integer?) (at 0)'],
    ['contains($count, \'x\')', 9, 'contains needs a string here, not integer (at 9)'],
    ['addDays($name, 1)', 8, 'addDays needs a datetime here, not string (at 8)'],
    ['toString($task)', 9, 'toString needs a string, number, boolean, datetime or enumeration value here, not Task (at 9)'],
    ["'a' + $tasks", 6, 'cannot add string and list of Task (at 6)'],
  ])('%s fails at %i', (source, position, message) => {
    expect(errorsOf(source)).toEqual([{ position, message }]);
  });

  it('places the errors of an operator chain at the operand that breaks it', () => {
    expect(errorsOf("1 + 2 - 'x' - 3")).toEqual([
      { position: 8, message: 'cannot subtract integer and string (at 8)' },
    ]);
    expect(errorsOf('$flag and $flag or $count and $flag')).toEqual([{ position: 19, message: '"and" needs a boolean, not integer (at 19)' }]);
    expect(typeOf('1 + 2 - 3 * 4 div 2')).toBe('decimal');
  });

  it('reports every error of an expression, each at its place', () => {
    expect(errorsOf('$nope + 1 > $task/titel')).toEqual([
      { position: 0, message: 'unknown variable $nope (at 0)' },
      { position: 18, message: expect.stringContaining('Task has no member "titel"') },
    ]);
  });

  it('unifies branch types', () => {
    expect(unify(Types.integer, Types.decimal)).toEqual(Types.decimal);
    expect(unify(Types.empty, Types.string)).toEqual(Types.string);
    expect(unify(Types.boolean, Types.string)).toBeUndefined();
  });
});
