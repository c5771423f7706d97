import { ExpressionError } from '../../errors.ts';
import type { Schema } from '../../model/schema.ts';
import type { BinaryOp, Expr, ExprOf } from './ast.ts';
import { FUNCTIONS, signatureOf } from './functions.ts';
import {
  describeType,
  isComparable,
  isLoose,
  isNumeric,
  isOrdered,
  memberNamesOf,
  memberOf,
  sameType,
  Types,
  type StaticType,
} from './types.ts';

/** What the type checker knows about the variables in scope. */
export interface TypeEnv {
  schema: Schema;
  /** The variable's type, or a message saying why it cannot be used here. */
  variable(name: string): StaticType | { error: string };
}

export interface TypeResult {
  type: StaticType;
  /** Every problem found, each with the position of the offending part. */
  errors: ExpressionError[];
}

/**
 * Infers an expression's type and reports every type error with its position. Where a type is
 * not known at load time (`unknown`), the check passes and the evaluator checks at run time.
 *
 * @example
 * const env = { schema, variable: (n) => (n === 'count' ? Types.integer : { error: `unknown variable $${n}` }) };
 * typecheck(parseExpression('$count + 1'), '$count + 1', env).type;   // { kind: 'integer' }
 * typecheck(parseExpression("$count + true"), '...', env).errors[0].position;  // 0
 */
export function typecheck(e: Expr, source: string, env: TypeEnv): TypeResult {
  const errors: ExpressionError[] = [];
  const report = (at: number, message: string) => errors.push(new ExpressionError(`${message} (at ${at})`, at, source));
  const type = infer(e, env, report);
  return { type, errors };
}

type Report = (at: number, message: string) => void;

function infer(e: Expr, env: TypeEnv, report: Report): StaticType {
  switch (e.kind) {
    case 'literal':
      return e.type === 'empty' ? Types.empty : Types[e.type];
    case 'path':
      return path(e, env, report);
    case 'unary': {
      const t = infer(e.operand, env, report);
      if (e.op === 'not') {
        expectBoolean(t, e.operand, report, '"not"');
        return Types.boolean;
      }
      if (!isLoose(t) && !isNumeric(t)) report(e.operand.start, `"-" needs a number, not ${describeType(t)}`);
      return isNumeric(t) ? t : Types.decimal;
    }
    case 'binary': {
      // A chain is checked in a loop, from its first operand up: no recursion per term. A left side
      // starts where the chain's first operand does, so that operand stands for it in messages.
      const first = e.operands[0];
      let t = infer(first, env, report);
      for (let i = 1; i < e.count; i++) t = binary(e.ops[i - 1], first, e.operands[i], t, infer(e.operands[i], env, report), report);
      return t;
    }
    case 'if': {
      expectBoolean(infer(e.condition, env, report), e.condition, report, '"if"');
      const a = infer(e.then, env, report);
      const b = infer(e.else, env, report);
      const u = unify(a, b);
      if (!u) report(e.else.start, `"then" gives ${describeType(a)} but "else" gives ${describeType(b)}`);
      return u ?? Types.unknown;
    }
    case 'call':
      return call(e, env, report);
  }
}

function expectBoolean(t: StaticType, at: Expr, report: Report, what: string): void {
  if (!isLoose(t) && t.kind !== 'boolean') report(at.start, `${what} needs a boolean, not ${describeType(t)}`);
}

function path(e: ExprOf<'path'>, env: TypeEnv, report: Report): StaticType {
  const v = env.variable(e.variable);
  if ('error' in v) {
    report(e.start, v.error);
    return Types.unknown;
  }
  let t: StaticType = v;
  let shown = `$${e.variable}`;
  for (const m of e.members) {
    if (t.kind === 'unknown') return t;
    if (t.kind === 'list') {
      report(m.start - 1, `${shown} is a list: read members of its objects in a loop or a list operation`);
      return Types.unknown;
    }
    if (t.kind !== 'object') {
      report(m.start - 1, `${shown} is ${describeType(t)}: it has no members`);
      return Types.unknown;
    }
    const info = memberOf(env.schema, t.entity, m.name);
    if (!info) {
      report(m.start, `${t.entity} has no member "${m.name}" (it has ${memberNamesOf(env.schema, t.entity).join(', ')})`);
      return Types.unknown;
    }
    t = info.type;
    shown += `/${m.name}`;
  }
  return t;
}

/** The common type of two branches, or undefined if they have none. */
export function unify(a: StaticType, b: StaticType): StaticType | undefined {
  if (a.kind === 'empty') return b;
  if (b.kind === 'empty' || b.kind === 'unknown') return a;
  if (a.kind === 'unknown') return b;
  if (isNumeric(a) && isNumeric(b)) return a.kind === b.kind ? a : Types.decimal;
  if ((a.kind === 'string' || a.kind === 'enum') && (b.kind === 'string' || b.kind === 'enum')) {
    return sameType(a, b) ? a : Types.string;
  }
  return sameType(a, b) ? a : undefined;
}

// Module-level helpers, not closures per node: a 10,000-term chain would create 10,000 of each.
const isText = (t: StaticType) => t.kind === 'string' || t.kind === 'enum';
const isArithmetic = (t: StaticType) => isLoose(t) || isNumeric(t);

function mismatch(right: Expr, l: StaticType, r: StaticType, report: Report, what: string): void {
  report(right.start, `cannot ${what} ${describeType(l)} and ${describeType(r)}`);
}

/**
 * The type of `left op right` given the sides' types `l` and `r`. In a chain, `left` is its first
 * operand, which starts where the left side does (comparisons never chain: there it is the left
 * side itself, as enumLiteral needs).
 */
function binary(op: BinaryOp, left: Expr, right: Expr, l: StaticType, r: StaticType, report: Report): StaticType {
  switch (op) {
    case 'and':
    case 'or':
      expectBoolean(l, left, report, `"${op}"`);
      expectBoolean(r, right, report, `"${op}"`);
      return Types.boolean;
    case '=':
    case '!=':
      if (!isComparable(l, r)) report(right.start, `cannot compare ${describeType(l)} with ${describeType(r)}`);
      else enumLiteral(l, right, report) || enumLiteral(r, left, report);
      return Types.boolean;
    case '<':
    case '<=':
    case '>':
    case '>=':
      if (!isOrdered(l, r)) report(right.start, `cannot order ${describeType(l)} and ${describeType(r)} with "${op}"`);
      return Types.boolean;
    case '+': {
      if (isText(l) || isText(r)) {
        const other = isText(l) ? r : l;
        if (other.kind === 'list' || other.kind === 'object') mismatch(right, l, r, report, 'add');
        return Types.string;
      }
      return arithmetic(right, l, r, report, 'add');
    }
    case '-':
    case '*':
    case 'mod':
      return arithmetic(right, l, r, report, op === '-' ? 'subtract' : op === '*' ? 'multiply' : 'take the remainder of');
    case 'div':
      arithmetic(right, l, r, report, 'divide');
      return Types.decimal;
  }
}

function arithmetic(right: Expr, l: StaticType, r: StaticType, report: Report, what: string): StaticType {
  if (!isArithmetic(l) || !isArithmetic(r)) {
    mismatch(right, l, r, report, what);
    return Types.unknown;
  }
  if (l.kind === 'integer' && r.kind === 'integer') return Types.integer;
  if (l.kind === 'decimal' || r.kind === 'decimal') return Types.decimal;
  return Types.unknown;
}

/** `$task/priority = 'urgent'`: a string literal compared with an enumeration must be one of its values. */
function enumLiteral(t: StaticType, other: Expr, report: Report): boolean {
  if (t.kind !== 'enum' || other.kind !== 'literal' || other.type !== 'string') return false;
  if (!t.values.includes(other.value as string)) {
    report(other.start, `${quote(other.value as string)} is not a value of the enumeration (${t.values.join(', ')})`);
  }
  return true;
}

function call(e: ExprOf<'call'>, env: TypeEnv, report: Report): StaticType {
  const f = Object.hasOwn(FUNCTIONS, e.name) ? FUNCTIONS[e.name] : undefined;
  const args = e.args.map((a) => infer(a, env, report));
  if (!f) {
    report(e.start, `unknown function "${e.name}" (known: ${Object.keys(FUNCTIONS).join(', ')})`);
    return Types.unknown;
  }
  const max = f.variadic ? Infinity : f.params.length;
  if (args.length < f.required || args.length > max) {
    report(e.start, `${e.name} takes ${f.required === max ? f.required : `${f.required} to ${max === Infinity ? 'any number of' : max}`} argument${max === 1 ? '' : 's'}: ${signatureOf(e.name)}`);
    return f.result(args);
  }
  args.forEach((t, i) => {
    const p = f.params[Math.min(i, f.params.length - 1)];
    if (!p.accepts(t)) report(e.args[i].start, `${e.name} needs ${p.what} here, not ${describeType(t)}`);
  });
  return f.result(args);
}

/** A string literal for a message: quoted, and cut short so a 64 KB literal does not fill the message. */
function quote(s: string): string {
  return `'${s.length > 40 ? `${s.slice(0, 40)}...` : s}'`;
}
