import { SyncflowError } from '../../errors.ts';
import type { BinaryOp, Expr, ExprOf } from './ast.ts';
import { describeValue, FUNCTIONS, type FunctionContext } from './functions.ts';

/** What the evaluator needs from the running flow. */
export interface EvalContext extends FunctionContext {
  /** A variable's value; throws if the variable does not exist. */
  variable(name: string): unknown;
  /** Reads a member of an object: an attribute's value, or the object an association points to. */
  member(object: Record<string, unknown>, name: string): unknown | Promise<unknown>;
}

/**
 * Evaluates a parsed expression, without eval: a walk over the AST. Empty is `null`.
 * Empty semantics: `empty = empty`; ordering comparisons with empty are false; in a condition
 * (and, or, not, if) empty counts as false; `'a' + empty` is `'a'`; arithmetic with empty and
 * reading a member of an empty object fail with a `flow_runtime` error.
 *
 * @example
 * const ctx = { variable: (n) => ({ count: 4 })[n], member: (o, m) => o[m], now: () => new Date() };
 * await evaluate(parseExpression('$count > 3 and not false'), ctx);   // true
 */
export async function evaluate(e: Expr, ctx: EvalContext, source = ''): Promise<unknown> {
  return new Evaluator(ctx, source).visit(e);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Equality as flows see it: empty equals only empty; objects are equal when their ids are. */
export function valuesEqual(a: unknown, b: unknown): boolean {
  const x = a ?? null;
  const y = b ?? null;
  if (x === null || y === null) return x === y;
  if (isRecord(x) && isRecord(y) && typeof x.id === 'string') return x.id === y.id;
  return x === y;
}

class Evaluator {
  constructor(
    private readonly ctx: EvalContext,
    private readonly source: string,
  ) {}

  private fail(at: Expr | number, message: string): SyncflowError {
    const pos = typeof at === 'number' ? at : at.start;
    return new SyncflowError('flow_runtime', this.source ? `${message} (in "${this.source}" at ${pos})` : message);
  }

  async visit(e: Expr): Promise<unknown> {
    switch (e.kind) {
      case 'literal':
        return e.value;
      case 'path':
        return this.path(e);
      case 'unary':
        if (e.op === 'not') return !(await this.condition(e.operand));
        return -this.number(await this.visit(e.operand), e.operand, 'negate');
      case 'binary': {
        // A chain is evaluated in a loop, from its first operand up: no recursion per term. Messages
        // about a left side point at the chain's first operand, where that side starts.
        const first = e.operands[0];
        let value = await this.visit(first);
        for (let i = 1; i < e.count; i++) {
          const op = e.ops[i - 1];
          const r = e.operands[i];
          if (op === 'and' || op === 'or') {
            // and / or short-circuit, as authors expect from `$x != empty and $x/done`.
            const l = this.asCondition(value, first);
            value = op === 'and' ? l && (await this.condition(r)) : l || (await this.condition(r));
          } else {
            // Literals and plain variables are read without an await: a long chain costs no microtask per term.
            const rv = r.kind === 'literal' ? r.value : r.kind === 'path' && r.members.length === 0 ? this.ctx.variable(r.variable) : await this.visit(r);
            value = this.binary(op, first, r, value, rv);
          }
        }
        return value;
      }
      case 'if':
        return (await this.condition(e.condition)) ? this.visit(e.then) : this.visit(e.else);
      case 'call': {
        const args: unknown[] = [];
        for (const a of e.args) args.push(await this.visit(a));
        if (!Object.hasOwn(FUNCTIONS, e.name)) throw this.fail(e, `unknown function "${e.name}"`);
        try {
          return FUNCTIONS[e.name].invoke(args, this.ctx);
        } catch (err) {
          // A function given values of the wrong type at run time fails as the flow's error, never as a crash.
          throw this.fail(e, err instanceof SyncflowError ? err.message : `${e.name} failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
  }

  /** A condition: booleans, and empty as false. */
  private async condition(e: Expr): Promise<boolean> {
    return this.asCondition(await this.visit(e), e);
  }

  private asCondition(value: unknown, at: Expr): boolean {
    const v = value ?? null;
    if (v === null) return false;
    if (typeof v !== 'boolean') throw this.fail(at, `expected a boolean, got ${describeValue(v)}`);
    return v;
  }

  private number(v: unknown, at: Expr, what: string): number {
    if (v === null || v === undefined) throw this.fail(at, `cannot ${what} empty`);
    if (typeof v !== 'number') throw this.fail(at, `cannot ${what} ${describeValue(v)}: not a number`);
    return v;
  }

  private async path(e: ExprOf<'path'>): Promise<unknown> {
    let v: unknown = this.ctx.variable(e.variable);
    let shown = `$${e.variable}`;
    for (const m of e.members) {
      if (v === null || v === undefined) throw this.fail(m.start - 1, `${shown} is empty: cannot read "${m.name}"`);
      if (!isRecord(v)) throw this.fail(m.start - 1, `${shown} is not an object: cannot read "${m.name}"`);
      v = (await this.ctx.member(v, m.name)) ?? null;
      shown += `/${m.name}`;
    }
    return v ?? null;
  }

  /** `left op right` (any operator but and / or), whose sides gave `leftValue` and `rightValue`; `left` and `right` are for positions. */
  private binary(op: Exclude<BinaryOp, 'and' | 'or'>, left: Expr, right: Expr, leftValue: unknown, rightValue: unknown): unknown {
    const l = leftValue ?? null;
    const r = rightValue ?? null;
    switch (op) {
      case '=':
        return valuesEqual(l, r);
      case '!=':
        return !valuesEqual(l, r);
      case '<':
      case '<=':
      case '>':
      case '>=': {
        if (l === null || r === null) return false;
        const bothNumbers = typeof l === 'number' && typeof r === 'number';
        const bothStrings = typeof l === 'string' && typeof r === 'string';
        if (!bothNumbers && !bothStrings) throw this.fail(right, `cannot compare ${describeValue(l)} with ${describeValue(r)}`);
        const c = l < r ? -1 : l > r ? 1 : 0;
        return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
      }
      case '+':
        if (typeof l === 'string' || typeof r === 'string') return text(l) + text(r);
        return this.number(l, left, 'add') + this.number(r, right, 'add');
      case '-':
        return this.number(l, left, 'subtract') - this.number(r, right, 'subtract');
      case '*':
        return this.number(l, left, 'multiply') * this.number(r, right, 'multiply');
      case 'div': {
        const a = this.number(l, left, 'divide');
        const b = this.number(r, right, 'divide');
        if (b === 0) throw this.fail(right, 'division by zero');
        return a / b;
      }
      case 'mod': {
        const a = this.number(l, left, 'take the remainder of');
        const b = this.number(r, right, 'take the remainder of');
        if (b === 0) throw this.fail(right, 'division by zero');
        return a % b;
      }
    }
  }
}

function text(v: unknown): string {
  return v === null || v === undefined ? '' : String(v);
}

