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

export type Expr = Span &
  (
    | { kind: 'literal'; type: 'string' | 'integer' | 'decimal' | 'boolean' | 'empty'; value: string | number | boolean | null }
    /** `$name/member/member`: a variable and the members (attributes or associations) read from it. */
    | { kind: 'path'; variable: string; members: Array<Span & { name: string }> }
    | { kind: 'unary'; op: '-' | 'not'; operand: Expr }
    | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr }
    | { kind: 'if'; condition: Expr; then: Expr; else: Expr }
    | { kind: 'call'; name: string; nameEnd: number; args: Expr[] }
  );

export type ExprOf<K extends Expr['kind']> = Extract<Expr, { kind: K }>;

/**
 * The binary nodes down an expression's left edge, top first, and the first operand below them.
 * The parser folds a chain (`1 + 2 + ... + n`) into a left-leaning tree as deep as the chain is
 * long: walkers loop over this list instead of recursing once per term.
 */
export function leftChain(e: ExprOf<'binary'>): { chain: Array<ExprOf<'binary'>>; first: Expr } {
  const chain: Array<ExprOf<'binary'>> = [];
  let first: Expr = e;
  while (first.kind === 'binary') {
    chain.push(first);
    first = first.left;
  }
  return { chain, first };
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
        stack.push(x.right, x.left);
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
