import { describe, expect, it } from 'vitest';
import { SyncflowError } from '../../../src/errors.ts';
import { evaluate } from '../../../src/flow/expressions/evaluate.ts';
import { FUNCTIONS, roundHalfAway, signatureOf } from '../../../src/flow/expressions/functions.ts';
import { parseExpression } from '../../../src/flow/expressions/parseExpression.ts';

const vars: Record<string, unknown> = { none: null, list: [1, 2, 3], when: '2024-02-28T12:00:00.000Z' };
const ctx = { variable: (n: string) => vars[n], member: () => null, now: () => new Date('2024-05-06T07:08:09.000Z') };
const ev = (s: string) => evaluate(parseExpression(s), ctx, s);

describe('expression functions', () => {
  it.each([
    ['toString(12)', '12'],
    ['toString(2.5)', '2.5'],
    ['toString(true)', 'true'],
    ['toString(empty)', ''],
    ["toString('x')", 'x'],
    ["length('hello')", 5],
    ['length(empty)', 0],
    ['length($list)', 3],
    ["contains('syncflow', 'flow')", true],
    ["contains('syncflow', 'Flow')", false],
    ["contains(empty, 'x')", false],
    ["startsWith('syncflow', 'sync')", true],
    ["startsWith('syncflow', 'flow')", false],
    ["startsWith(empty, 'a')", false],
    ["endsWith('syncflow', 'flow')", true],
    ["toLowerCase('AbC')", 'abc'],
    ["toUpperCase('AbC')", 'ABC'],
    ["toUpperCase(empty)", null],
    ["trim('  a b  ')", 'a b'],
    ['round(2.5)', 3],
    ['round(-2.5)', -3],
    ['round(2.4)', 2],
    ['round(1.005, 2)', 1.01],
    ['round(1234.5678, 2)', 1234.57],
    ['round(empty)', null],
    ['floor(2.7)', 2],
    ['ceil(2.1)', 3],
    ['abs(-3)', 3],
    ['min(3, 1, 2)', 1],
    ['max(3, 1.5, 2)', 3],
    ['max(empty, 2)', 2],
    ["parseInteger(' 42 ')", 42],
    ["parseInteger('-7')", -7],
    ["parseDecimal('2.50')", 2.5],
    ["parseDecimal('1e3')", 1000],
    ['parseInteger(empty)', null],
    ['dateTime(2024, 2, 29)', '2024-02-29T00:00:00.000Z'],
    ['dateTime(2024, 12, 31, 23, 59, 58)', '2024-12-31T23:59:58.000Z'],
    ['addDays($when, 2)', '2024-03-01T12:00:00.000Z'],
    ['addDays($when, -1)', '2024-02-27T12:00:00.000Z'],
    ['addDays(empty, 1)', null],
    ['addHours($when, 13)', '2024-02-29T01:00:00.000Z'],
    ['addMinutes($when, 90)', '2024-02-28T13:30:00.000Z'],
    ['currentDateTime()', '2024-05-06T07:08:09.000Z'],
    ['addDays(currentDateTime(), 1) > currentDateTime()', true],
  ])('%s = %j', async (source, value) => {
    expect(await ev(source)).toEqual(value);
  });

  it.each([
    ["parseInteger('4.5')", 'parseInteger: "4.5" is not an integer'],
    ["parseDecimal('abc')", 'parseDecimal: "abc" is not a number'],
    ['dateTime(2023, 2, 29)', 'dateTime: 2023, 2, 29 is not a valid date and time'],
    ['dateTime(2024, 13, 1)', 'dateTime: 2024, 13, 1 is not a valid date and time'],
    ["addDays('soon', 1)", 'addDays: "soon" is not a datetime'],
    // Date.parse would move these to March 2nd / the next day, or guess a year.
    ["addDays('2025-02-30T10:00:00Z', 1)", 'addDays: "2025-02-30T10:00:00Z" is not a datetime'],
    ["addHours('2025-03-01T24:00:00Z', 1)", 'addHours: "2025-03-01T24:00:00Z" is not a datetime'],
    ["addMinutes('March 7, 2025', 1)", 'addMinutes: "March 7, 2025" is not a datetime'],
    // Past 9999 the ISO text would be +010000-…, which no datetime parser here accepts.
    ["addDays('9999-12-31T00:00:00Z', 1)", 'addDays: the result is outside the range of dates'],
    ["addHours('0001-01-01T00:30:00Z', -1)", 'addHours: the result is outside the range of dates'],
    ['dateTime(10000, 1, 1)', 'dateTime: 10000, 1, 1 is not a valid date and time'],
  ])('%s fails', async (source, message) => {
    const e = await ev(source).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(SyncflowError);
    expect((e as SyncflowError).message).toBe(`${message} (in "${source}" at 0)`);
  });

  it('rounds half away from zero without binary noise', () => {
    expect(roundHalfAway(0.5)).toBe(1);
    expect(roundHalfAway(-0.5)).toBe(-1);
    expect(roundHalfAway(2.675, 2)).toBe(2.68);
  });

  it('describes every signature', () => {
    expect(signatureOf('round')).toBe('round(number, integer?)');
    expect(signatureOf('max')).toBe('max(number, number?, ...)');
    expect(Object.keys(FUNCTIONS)).toEqual(expect.arrayContaining(['toString', 'length', 'contains', 'startsWith', 'round', 'dateTime', 'addDays', 'currentDateTime']));
  });
});
