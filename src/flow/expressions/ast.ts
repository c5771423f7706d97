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

/** The variables an expression reads (without `$`), in order of first use. */
export function variablesOf(e: Expr, out: Set<string> = new Set()): Set<string> {
  switch (e.kind) {
    case 'path':
      out.add(e.variable);
      break;
    case 'unary':
      variablesOf(e.operand, out);
      break;
    case 'binary':
      variablesOf(e.left, out);
      variablesOf(e.right, out);
      break;
    case 'if':
      variablesOf(e.condition, out);
      variablesOf(e.then, out);
      variablesOf(e.else, out);
      break;
    case 'call':
      for (const a of e.args) variablesOf(a, out);
      break;
  }
  return out;
}
