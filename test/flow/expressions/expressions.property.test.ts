/**
 * Generated tests of the expression language (issue 16): well-typed expressions, built together
 * with the value and type they must have, evaluate to that value; random and hostile text never
 * makes the parser, the type checker or the evaluator throw anything but their typed errors.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExpressionError, SyncflowError } from '../../../src/errors.ts';
import { demoSchema } from '../../../src/demo/schema.ts';
import type { Expr } from '../../../src/flow/expressions/ast.ts';
import { evaluate, type EvalContext } from '../../../src/flow/expressions/evaluate.ts';
import { FUNCTIONS } from '../../../src/flow/expressions/functions.ts';
import { parseExpression } from '../../../src/flow/expressions/parseExpression.ts';
import { typecheck, type TypeEnv } from '../../../src/flow/expressions/typecheck.ts';
import { Types, type StaticType } from '../../../src/flow/expressions/types.ts';
import { fuzzParameters } from '../../support/fuzz.ts';

// -- well-typed expressions with their value ------------------------------------------------------

type Kind = 'integer' | 'decimal' | 'string' | 'boolean';

/**
 * A generated expression: its text, its value, its type, and how tightly it binds (so the
 * generator adds only the parentheses precedence needs, which exercises precedence and
 * associativity): 1 or, 2 and, 3 not, 4 comparison, 5 + -, 6 * div mod, 7 unary minus, 8 primary;
 * 0 for `if`, whose else branch would swallow what follows.
 */
interface Gen {
  source: string;
  value: unknown;
  kind: Kind;
  prec: number;
}

// The variables the well-typed expressions read, with their values and types.
const VARS: Record<string, { value: unknown; kind: Kind }> = {
  n: { value: 7, kind: 'integer' },
  m: { value: -3, kind: 'integer' },
  x: { value: 2.5, kind: 'decimal' },
  s: { value: "it's ü 😀", kind: 'string' },
  b: { value: true, kind: 'boolean' },
  e: { value: null, kind: 'string' },
};

const wrap = (g: Gen, min: number) => (g.prec < min ? `(${g.source})` : g.source);
const numeric = (k: Kind) => k === 'integer' || k === 'decimal';

const stringLiteral = (v: string) => `'${v.replaceAll("'", "''")}'`;

const leaf: fc.Arbitrary<Gen> = fc.oneof(
  fc.integer({ min: 0, max: 1_000_000 }).map((v) => ({ source: String(v), value: v, kind: 'integer' as Kind, prec: 8 })),
  fc
    .tuple(fc.integer({ min: 0, max: 9999 }), fc.stringMatching(/^[0-9]{1,4}$/))
    .map(([i, f]) => ({ source: `${i}.${f}`, value: Number(`${i}.${f}`), kind: 'decimal' as Kind, prec: 8 })),
  // Any UTF-16 text, lone surrogates included.
  fc.string({ unit: 'binary', maxLength: 12 }).map((v) => ({ source: stringLiteral(v), value: v, kind: 'string' as Kind, prec: 8 })),
  fc.boolean().map((v) => ({ source: String(v), value: v, kind: 'boolean' as Kind, prec: 8 })),
  fc.constantFrom(...Object.keys(VARS)).map((name) => ({ source: `$${name}`, value: VARS[name].value, kind: VARS[name].kind, prec: 8 })),
);

/** `a op b` for an operator of precedence `prec`: left-associative unless the sides' minimum precedences say otherwise. */
function binaryGen(op: string, prec: number, a: Gen, b: Gen, value: unknown, kind: Kind, sides = { left: prec, right: prec + 1 }): Gen {
  return { source: `${wrap(a, sides.left)} ${op} ${wrap(b, sides.right)}`, value, kind, prec };
}

// Comparisons are not associative: both sides bind tighter.
const CMP = { left: 5, right: 5 };

/** Combines generated operands into a bigger well-typed expression, computing its value the plain way. */
function combine(choice: number, a: Gen, b: Gen, c: Gen): Gen | undefined {
  const text = (v: unknown) => (v === null ? '' : String(v));
  switch (choice % 14) {
    case 0: // + on numbers, or text
      if (numeric(a.kind) && numeric(b.kind)) {
        return binaryGen('+', 5, a, b, (a.value as number) + (b.value as number), a.kind === 'integer' && b.kind === 'integer' ? 'integer' : 'decimal');
      }
      // Text wins when a side is a string value: $e (empty) + 1 is arithmetic, and fails.
      if (typeof a.value === 'string' && b.kind !== 'boolean') return binaryGen('+', 5, a, b, text(a.value) + text(b.value), 'string');
      return undefined;
    case 1:
      if (!numeric(a.kind) || !numeric(b.kind)) return undefined;
      return binaryGen('-', 5, a, b, (a.value as number) - (b.value as number), a.kind === 'integer' && b.kind === 'integer' ? 'integer' : 'decimal');
    case 2:
      if (!numeric(a.kind) || !numeric(b.kind)) return undefined;
      return binaryGen('*', 6, a, b, (a.value as number) * (b.value as number), a.kind === 'integer' && b.kind === 'integer' ? 'integer' : 'decimal');
    case 3:
      if (!numeric(a.kind) || !numeric(b.kind) || b.value === 0) return undefined;
      return binaryGen(choice % 2 ? 'div' : ':', 6, a, b, (a.value as number) / (b.value as number), 'decimal');
    case 4:
      if (a.kind !== 'integer' || b.kind !== 'integer' || b.value === 0) return undefined;
      return binaryGen('mod', 6, a, b, (a.value as number) % (b.value as number), 'integer');
    case 5:
      if (numeric(a.kind) && numeric(b.kind)) return binaryGen('<', 4, a, b, (a.value as number) < (b.value as number), 'boolean', CMP);
      if (typeof a.value === 'string' && typeof b.value === 'string') return binaryGen('>=', 4, a, b, a.value >= b.value, 'boolean', CMP);
      return undefined;
    case 6:
      if (a.kind !== b.kind && !(numeric(a.kind) && numeric(b.kind))) return undefined;
      return binaryGen('=', 4, a, b, a.value === b.value, 'boolean', CMP);
    case 7:
      if (a.kind !== b.kind) return undefined;
      return binaryGen('!=', 4, a, b, a.value !== b.value, 'boolean', CMP);
    case 8:
      if (a.kind !== 'boolean' || b.kind !== 'boolean') return undefined;
      return binaryGen('and', 2, a, b, (a.value as boolean) && (b.value as boolean), 'boolean');
    case 9:
      if (a.kind !== 'boolean' || b.kind !== 'boolean') return undefined;
      return binaryGen('or', 1, a, b, (a.value as boolean) || (b.value as boolean), 'boolean');
    case 10:
      if (a.kind === 'boolean') return { source: `not ${wrap(a, 3)}`, value: !a.value, kind: 'boolean', prec: 3 };
      if (numeric(a.kind)) return { source: `-${wrap(a, 7)}`, value: -(a.value as number), kind: a.kind, prec: 7 };
      return undefined;
    case 11: // if: branches of one type
      if (a.kind !== 'boolean' || b.kind !== c.kind) return undefined;
      return { source: `if ${a.source} then ${b.source} else ${c.source}`, value: a.value ? b.value : c.value, kind: b.kind, prec: 0 };
    case 12: // string functions
      if (a.kind !== 'string') return undefined;
      if (choice % 3 === 0) return { source: `length(${a.source})`, value: a.value === null ? 0 : (a.value as string).length, kind: 'integer', prec: 8 };
      if (choice % 3 === 1) return { source: `toUpperCase(${a.source})`, value: a.value === null ? null : (a.value as string).toUpperCase(), kind: 'string', prec: 8 };
      if (b.kind !== 'string' || a.value === null) return undefined;
      return { source: `contains(${a.source}, ${b.source})`, value: (a.value as string).includes((b.value as string | null) ?? ''), kind: 'boolean', prec: 8 };
    case 13: // number functions
      if (!numeric(a.kind) || !numeric(b.kind)) return undefined;
      if (choice % 2) return { source: `abs(${a.source})`, value: Math.abs(a.value as number), kind: a.kind, prec: 8 };
      return {
        source: `max(${a.source}, ${b.source}, ${a.source})`,
        value: Math.max(a.value as number, b.value as number),
        kind: a.kind === 'integer' && b.kind === 'integer' ? 'integer' : 'decimal',
        prec: 8,
      };
  }
  return undefined;
}

/** The first combination, from `choice` on, that the operands' types allow. */
function combineAny(choice: number, a: Gen, b: Gen, c: Gen): Gen {
  for (let k = 0; k < 14; k++) {
    const g = combine(choice + k * 15, a, b, c);
    if (g) return g;
  }
  return a;
}

const wellTyped: fc.Arbitrary<Gen> = fc.letrec<{ e: Gen }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'medium', withCrossShrink: true },
    { arbitrary: leaf, weight: 1 },
    { arbitrary: fc.tuple(fc.nat(), tie('e'), tie('e'), tie('e')).map(([choice, a, b, c]) => combineAny(choice, a, b, c)), weight: 2 },
  ),
})).e;

/** A long chain of one operator over generated terms: what a code generator writes. */
const longChain: fc.Arbitrary<Gen> = fc
  .tuple(fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 500, maxLength: 3000 }), fc.constantFrom('+', '-', '*'))
  .map(([xs, op]) => {
    let value = xs[0];
    for (const x of xs.slice(1)) value = op === '+' ? value + x : op === '-' ? value - x : value * x;
    return { source: xs.join(` ${op} `), value, kind: 'integer' as Kind, prec: 5 };
  });

const typeEnv: TypeEnv = {
  schema: demoSchema,
  variable: (name) => (Object.hasOwn(VARS, name) ? Types[VARS[name].kind] : { error: `unknown variable $${name}` }),
};

const ctxFor = (vars: Record<string, unknown>): EvalContext => ({
  variable: (name) => {
    if (!Object.hasOwn(vars, name)) throw new SyncflowError('flow_runtime', `unknown variable $${name}`);
    return vars[name];
  },
  member: (o, m) => (Object.hasOwn(o, m) ? o[m] : null),
  now: () => new Date('2026-01-02T03:04:05.000Z'),
});

const values = Object.fromEntries(Object.entries(VARS).map(([k, v]) => [k, v.value]));

describe('expressions (generated)', () => {
  it('evaluates every well-typed generated expression to the value it was built with, with no type error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 5, arbitrary: wellTyped }, { weight: 1, arbitrary: longChain }), async (g) => {
        const ast = parseExpression(g.source);
        const { type, errors } = typecheck(ast, g.source, typeEnv);
        expect(errors.map((e) => e.message)).toEqual([]);
        // A literal empty string variable ($e) is typed string; integer arithmetic may be typed decimal only when a decimal is in it.
        expect(type.kind === g.kind || (g.kind === 'integer' && type.kind === 'decimal') || (g.kind === 'decimal' && type.kind === 'integer')).toBe(true);
        const got = await evaluate(ast, ctxFor(values), g.source);
        expect(Object.is(got, g.value) || got === g.value).toBe(true);
      }),
      fuzzParameters({ runs: 300, soakRuns: 20_000 }),
    );
  });

  // -- hostile text ------------------------------------------------------------------------------

  const TOKENS = [
    ...['+', '-', '*', ':', 'div', 'mod', '=', '!=', '<', '<=', '>', '>=', 'and', 'or', 'not', '(', ')', ',', '/', '$', "'", '==', '&&'],
    ...['if', 'then', 'else', 'true', 'false', 'empty', '1', '2.5', '0', "'x'", "''", '$n', '$s/title', '$obj/a/b', '$list', '$nope'],
    ...[...Object.keys(FUNCTIONS), 'constructor', 'hasOwnProperty', '__proto__', 'ü', '😀', '\ud800', '\udc00', '\u0000', ' ', '\n'],
  ];

  /** Token soup, long chains, deep nesting, long literals, lone surrogates, arbitrary Unicode. */
  const hostile: fc.Arbitrary<string> = fc.oneof(
    fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }).map((ts) => ts.join(' ')),
    fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }).map((ts) => ts.join('')),
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.tuple(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom('(', 'not ', '-', 'abs(', 'if true then ', '((1+'), fc.boolean()).map(([n, open, close]) => {
      const closing = open === '(' || open === 'abs(' ? ')' : open === '((1+' ? '))' : open === 'if true then ' ? ' else 1' : '';
      return open.repeat(n) + '1' + (close ? closing.repeat(n) : '');
    }),
    fc.tuple(fc.integer({ min: 1, max: 40_000 }), fc.constantFrom(' + ', ' and ', ' = ', '*', ' or not ', ', ')).map(([n, op]) => Array(n).fill('1').join(op)),
    fc.tuple(fc.integer({ min: 60_000, max: 70_000 }), fc.boolean()).map(([n, closed]) => "'" + 'ä'.repeat(n) + (closed ? "'" : '')),
    fc.integer({ min: 200, max: 300 }).map((n) => '$v' + '/m'.repeat(n)),
  );

  // Values of every kind, for variables an expression reads whatever their declared type.
  const anyValue = fc.oneof(
    fc.constantFrom(null, undefined, 0, -0, 1, NaN, Infinity, 'text', '', '2024-01-01T00:00:00.000Z', true, false, [], [{ id: 'a' }], { id: 'o', a: { b: 1 } }),
    fc.string({ unit: 'binary', maxLength: 8 }),
    fc.double(),
  );
  const anyType = fc.constantFrom<StaticType>(
    Types.string, Types.integer, Types.decimal, Types.boolean, Types.datetime, Types.unknown, Types.empty,
    { kind: 'object', entity: 'Task' }, { kind: 'list', entity: 'Task' }, { kind: 'enum', values: ['low', 'high'] },
  );

  it('never throws anything but its typed errors from the parser, the type checker or the evaluator', async () => {
    await fc.assert(
      fc.asyncProperty(hostile, fc.dictionary(fc.constantFrom('n', 's', 'obj', 'list', 'v'), anyValue), anyType, async (source, vars, type) => {
        let ast: Expr;
        try {
          ast = parseExpression(source);
        } catch (e) {
          expect(e).toBeInstanceOf(ExpressionError);
          expect((e as ExpressionError).position).toBeGreaterThanOrEqual(0);
          expect((e as ExpressionError).position).toBeLessThanOrEqual(source.length);
          return;
        }
        const env: TypeEnv = { schema: demoSchema, variable: (name) => (Object.hasOwn(vars, name) ? type : { error: `unknown variable $${name}` }) };
        const { errors } = typecheck(ast, source, env);
        for (const e of errors) expect(e).toBeInstanceOf(ExpressionError);
        try {
          await evaluate(ast, ctxFor(vars), source);
        } catch (e) {
          expect(e).toBeInstanceOf(SyncflowError);
        }
      }),
      fuzzParameters({ runs: 400, soakRuns: 20_000 }),
    );
  });

  it('gives every operator and function wrong types without a crash: a type error at load time, a flow_runtime error when run', async () => {
    const literal = fc.constantFrom('1', '2.5', "'a'", 'true', 'empty', '$v', "'2024-01-01T00:00:00.000Z'", '(1 div 0)', '-$v');
    const call = fc
      .tuple(fc.constantFrom(...Object.keys(FUNCTIONS), 'toString', 'nope'), fc.array(literal, { maxLength: 8 }))
      .map(([f, args]) => `${f}(${args.join(', ')})`);
    const op = fc
      .tuple(literal, fc.constantFrom('+', '-', '*', ':', 'div', 'mod', '=', '!=', '<', '<=', '>', '>=', 'and', 'or'), fc.oneof(literal, call))
      .map(([a, o, b]) => `${a} ${o} ${b}`);
    const unary = fc.tuple(fc.constantFrom('not ', '-', 'if '), literal).map(([u, a]) => (u === 'if ' ? `if ${a} then 1 else 'x'` : u + a));
    await fc.assert(
      fc.asyncProperty(fc.oneof(call, op, unary), anyValue, anyType, async (source, v, type) => {
        const ast = parseExpression(source);
        const { errors } = typecheck(ast, source, { schema: demoSchema, variable: () => type });
        for (const e of errors) expect(e.position).toBeLessThanOrEqual(source.length);
        try {
          await evaluate(ast, ctxFor({ v }), source);
        } catch (e) {
          expect(e).toBeInstanceOf(SyncflowError);
          expect((e as SyncflowError).code).toBe('flow_runtime');
        }
      }),
      fuzzParameters({ runs: 400, soakRuns: 20_000 }),
    );
  });
});
