/**
 * The functions of the expression language, each with its static signature (checked at load
 * time) and its implementation. Datetimes are ISO 8601 strings in UTC, as the store keeps them.
 * "Empty in, empty out": a function given empty returns empty where no better answer exists
 * (length(empty) is 0, contains(empty, 'x') is false, toString(empty) is '').
 */
import { SyncflowError } from '../../errors.ts';
import { parseIsoDateTime } from '../../model/values.ts';
import { isLoose, isNumeric, Types, type StaticType } from './types.ts';

export interface FunctionContext {
  now(): Date;
}

interface Param {
  /** What the parameter takes, for messages: "a string". */
  what: string;
  accepts(t: StaticType): boolean;
}

export interface FunctionDef {
  params: Param[];
  /** How many of `params` are required; the rest are optional. */
  required: number;
  /** The last parameter repeats (min, max). */
  variadic?: boolean;
  result(args: StaticType[]): StaticType;
  invoke(args: unknown[], ctx: FunctionContext): unknown;
}

const ok = (accepts: (t: StaticType) => boolean) => (t: StaticType) => isLoose(t) || accepts(t);
const text: Param = { what: 'a string', accepts: ok((t) => t.kind === 'string' || t.kind === 'enum') };
const number: Param = { what: 'a number', accepts: ok(isNumeric) };
const integer: Param = { what: 'an integer', accepts: ok((t) => t.kind === 'integer') };
const datetime: Param = { what: 'a datetime', accepts: ok((t) => t.kind === 'datetime') };
const printable: Param = {
  what: 'a string, number, boolean, datetime or enumeration value',
  accepts: ok((t) => t.kind !== 'list' && t.kind !== 'object' && t.kind !== 'nothing'),
};
const textOrList: Param = { what: 'a string or a list', accepts: ok((t) => t.kind === 'string' || t.kind === 'enum' || t.kind === 'list') };

/** A value for a message: JSON, cut short (a 64 KB string stays readable), never throwing (a cycle, a BigInt). */
export function describeValue(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = Object.prototype.toString.call(v);
  }
  return s.length > 60 ? `${s.slice(0, 60)}...` : s;
}

const fail = (message: string) => new SyncflowError('flow_runtime', message);

function num(v: unknown, fn: string): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw fail(`${fn}: ${describeValue(v)} is not a number`);
  return v;
}

function str(v: unknown, fn: string): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') throw fail(`${fn}: ${describeValue(v)} is not a string`);
  return v;
}

function time(v: unknown, fn: string): number | null {
  const s = str(v, fn);
  if (s === null) return null;
  // Not Date.parse: it moves 2025-02-30 to March and reads non-ISO text such as 'March 7'.
  const d = parseIsoDateTime(s);
  if (!d) throw fail(`${fn}: ${describeValue(s)} is not a datetime`);
  return d.getTime();
}

/** Rounds half away from zero (as people round by hand: 2.5 -> 3, -2.5 -> -3). */
export function roundHalfAway(x: number, digits = 0): number {
  const factor = 10 ** digits;
  // toPrecision removes binary noise first: 1.005 * 100 is 100.49999999999999.
  const scaled = Number((Math.abs(x) * factor).toPrecision(15));
  return (Math.sign(x) * Math.round(scaled)) / factor;
}

const numericResult = (args: StaticType[]) =>
  args.some((a) => a.kind === 'decimal') ? Types.decimal : args.every((a) => a.kind === 'integer') ? Types.integer : Types.decimal;

const DAY = 86_400_000;
const addTime = (unit: number, fn: string): FunctionDef => ({
  params: [datetime, number],
  required: 2,
  result: () => Types.datetime,
  invoke: ([d, n]) => {
    const t = time(d, fn);
    const k = num(n, fn);
    if (t === null || k === null) return null;
    const result = new Date(t + k * unit);
    // Outside the years 0001-9999 the ISO text (+010000-…) is not a datetime any other part accepts; past
    // year 275,760 there is no Date at all: say so instead of a RangeError.
    const iso = Number.isNaN(result.getTime()) ? null : result.toISOString();
    if (iso === null || !parseIsoDateTime(iso)) throw fail(`${fn}: the result is outside the range of dates`);
    return iso;
  },
});

export const FUNCTIONS: Readonly<Record<string, FunctionDef>> = {
  toString: {
    params: [printable],
    required: 1,
    result: () => Types.string,
    invoke: ([v]: unknown[]) => (v === null || v === undefined ? '' : String(v)),
  },
  length: {
    params: [textOrList],
    required: 1,
    result: () => Types.integer,
    invoke: ([v]) => {
      if (v === null || v === undefined) return 0;
      if (typeof v === 'string' || Array.isArray(v)) return v.length;
      throw fail(`length: ${describeValue(v)} is not a string or a list`);
    },
  },
  contains: {
    params: [text, text],
    required: 2,
    result: () => Types.boolean,
    invoke: ([s, sub]) => {
      const a = str(s, 'contains');
      return a !== null && a.includes(str(sub, 'contains') ?? '');
    },
  },
  startsWith: {
    params: [text, text],
    required: 2,
    result: () => Types.boolean,
    invoke: ([s, p]) => {
      const a = str(s, 'startsWith');
      return a !== null && a.startsWith(str(p, 'startsWith') ?? '');
    },
  },
  endsWith: {
    params: [text, text],
    required: 2,
    result: () => Types.boolean,
    invoke: ([s, p]) => {
      const a = str(s, 'endsWith');
      return a !== null && a.endsWith(str(p, 'endsWith') ?? '');
    },
  },
  toLowerCase: {
    params: [text],
    required: 1,
    result: () => Types.string,
    invoke: ([s]) => str(s, 'toLowerCase')?.toLowerCase() ?? null,
  },
  toUpperCase: {
    params: [text],
    required: 1,
    result: () => Types.string,
    invoke: ([s]) => str(s, 'toUpperCase')?.toUpperCase() ?? null,
  },
  trim: {
    params: [text],
    required: 1,
    result: () => Types.string,
    invoke: ([s]) => str(s, 'trim')?.trim() ?? null,
  },
  round: {
    params: [number, integer],
    required: 1,
    result: (args) => (args.length > 1 ? Types.decimal : Types.integer),
    invoke: ([x, digits]) => {
      const v = num(x, 'round');
      return v === null ? null : roundHalfAway(v, num(digits, 'round') ?? 0);
    },
  },
  floor: { params: [number], required: 1, result: () => Types.integer, invoke: ([x]) => nullable(num(x, 'floor'), Math.floor) },
  ceil: { params: [number], required: 1, result: () => Types.integer, invoke: ([x]) => nullable(num(x, 'ceil'), Math.ceil) },
  abs: { params: [number], required: 1, result: (a) => numericResult(a), invoke: ([x]) => nullable(num(x, 'abs'), Math.abs) },
  min: {
    params: [number, number],
    required: 1,
    variadic: true,
    result: numericResult,
    invoke: (args) => extreme(args, 'min', Math.min),
  },
  max: {
    params: [number, number],
    required: 1,
    variadic: true,
    result: numericResult,
    invoke: (args) => extreme(args, 'max', Math.max),
  },
  parseInteger: {
    params: [text],
    required: 1,
    result: () => Types.integer,
    invoke: ([s]) => {
      const v = str(s, 'parseInteger');
      if (v === null) return null;
      if (!/^\s*[-+]?\d+\s*$/.test(v) || !Number.isSafeInteger(Number(v))) throw fail(`parseInteger: ${describeValue(v)} is not an integer`);
      return Number(v);
    },
  },
  parseDecimal: {
    params: [text],
    required: 1,
    result: () => Types.decimal,
    invoke: ([s]) => {
      const v = str(s, 'parseDecimal');
      if (v === null) return null;
      if (!/^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/.test(v)) throw fail(`parseDecimal: ${describeValue(v)} is not a number`);
      return Number(v);
    },
  },
  dateTime: {
    params: [integer, integer, integer, integer, integer, integer],
    required: 3,
    result: () => Types.datetime,
    invoke: (args) => {
      const [y, mo, d, h = 0, mi = 0, s = 0] = args.map((a) => num(a, 'dateTime'));
      if ([y, mo, d, h, mi, s].some((v) => v === null)) return null;
      const date = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
      // Date.UTC rolls 31 February over to March: refuse what is not a real date.
      if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo! - 1 || date.getUTCDate() !== d || date.getUTCHours() !== h ||
        date.getUTCMinutes() !== mi || date.getUTCSeconds() !== s || y! > 9999) {
        throw fail(`dateTime: ${args.map(describeValue).join(', ')} is not a valid date and time`);
      }
      return date.toISOString();
    },
  },
  addDays: addTime(DAY, 'addDays'),
  addHours: addTime(3_600_000, 'addHours'),
  addMinutes: addTime(60_000, 'addMinutes'),
  currentDateTime: {
    params: [],
    required: 0,
    result: () => Types.datetime,
    invoke: (_args, ctx) => ctx.now().toISOString(),
  },
};

function nullable(v: number | null, f: (x: number) => number): number | null {
  return v === null ? null : f(v);
}

function extreme(args: unknown[], fn: string, pick: (...xs: number[]) => number): number | null {
  let out: number | null = null;
  // A loop, not pick(...xs): spreading tens of thousands of arguments overflows the stack.
  for (const a of args) {
    const x = num(a, fn);
    if (x !== null) out = out === null ? x : pick(out, x);
  }
  return out;
}

/** For messages: `round(number, integer?)`. */
export function signatureOf(name: string): string {
  const f = FUNCTIONS[name];
  const params = f.params.map((p, i) => p.what.replace(/^an? /, '') + (i >= f.required ? '?' : ''));
  return `${name}(${params.join(', ')}${f.variadic ? ', ...' : ''})`;
}
