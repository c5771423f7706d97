/**
 * The expression AST. Every node carries its source span (`start`, `end`: 0-based offsets into
 * the expression text) so a type error names the exact place.
 */

export type BinaryOp =
  | 'or'
  | 'and'
  | '='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | '+'
  | '-'
  | '*'
  | 'div'
  | 'mod';

export interface Span {
  start: number;
  end: number;
}

/** A member read by a path: `title` in `$task/title`. */
export type Member = Span & { name: string };

export type Expr =
  | (Span & { kind: 'literal'; type: 'string' | 'integer' | 'decimal' | 'boolean' | 'empty'; value: string | number | boolean | null })
  /** `$name/member/member`: a variable and the members (attributes or associations) read from it. */
  | (Span & { kind: 'path'; variable: string; members: readonly Member[] })
  | (Span & { kind: 'unary'; op: '-' | 'not'; operand: Expr })
  | BinaryExpr
  | (Span & { kind: 'if'; condition: Expr; then: Expr; else: Expr })
  | (Span & { kind: 'call'; name: string; args: Expr[] });

export type ExprOf<K extends Expr['kind']> = Extract<Expr, { kind: K }>;

/** The members of a path that reads none, shared: most paths in a long expression are bare variables. */
export const NO_MEMBERS: readonly Member[] = Object.freeze([]);

/**
 * A chain of one precedence level's operators, folded left: `a - b + c` is `(a - b) + c`, kept as
 * its operands `[a, b, c]` and operators `['-', '+']`. One node per chain rather than one per
 * operator keeps a long sum's AST small (issue 16), and walkers loop over the operands instead of
 * recursing once per term.
 *
 * It still reads as a binary node: `op`, `right`, and `left`, which is the chain's first
 * `count - 1` operands (a node made on demand, or the first operand itself).
 */
export class BinaryExpr {
  readonly kind = 'binary';

  constructor(
    /** The chain's operands, first to last; the nodes `left` makes share them. */
    readonly operands: readonly Expr[],
    /** `ops[i]` joins the fold of `operands[0..i]` and `operands[i + 1]`. */
    readonly ops: readonly BinaryOp[],
    /** How many of the operands this node folds (at least 2). */
    readonly count: number,
    readonly start: number,
    readonly end: number,
  ) {}

  /** A chain of `operands` joined by `ops` (one fewer), spanning them. */
  static chain(operands: readonly Expr[], ops: readonly BinaryOp[]): BinaryExpr {
    return new BinaryExpr(operands, ops, operands.length, operands[0].start, operands[operands.length - 1].end);
  }

  get op(): BinaryOp {
    return this.ops[this.count - 2];
  }

  get right(): Expr {
    return this.operands[this.count - 1];
  }

  get left(): Expr {
    const n = this.count - 1;
    return n === 1 ? this.operands[0] : new BinaryExpr(this.operands, this.ops, n, this.operands[0].start, this.operands[n - 1].end);
  }

  /** The same chain with another span (a parenthesized chain spans its parentheses). */
  withSpan(start: number, end: number): BinaryExpr {
    return new BinaryExpr(this.operands, this.ops, this.count, start, end);
  }
}

/** `e` with the span `start`..`end`, for the parentheses around it: messages point at what the author wrote. */
export function withSpan(e: Expr, start: number, end: number): Expr {
  return e instanceof BinaryExpr ? e.withSpan(start, end) : { ...e, start, end };
}

/** The variables an expression reads (without `$`), in order of first use. */
export function variablesOf(e: Expr, out: Set<string> = new Set()): Set<string> {
  // An explicit stack, children pushed last-first: a long chain costs no call stack.
  const stack: Expr[] = [e];
  while (stack.length) {
    const x = stack.pop()!;
    switch (x.kind) {
      case 'path':
        out.add(x.variable);
        break;
      case 'unary':
        stack.push(x.operand);
        break;
      case 'binary':
        for (let i = x.count - 1; i >= 0; i--) stack.push(x.operands[i]);
        break;
      case 'if':
        stack.push(x.else, x.then, x.condition);
        break;
      case 'call':
        for (let i = x.args.length - 1; i >= 0; i--) stack.push(x.args[i]);
        break;
    }
  }
  return out;
}
