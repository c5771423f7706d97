import * as ohm from 'ohm-js';
import { ExpressionError } from '../../errors.ts';
import type { BinaryOp, Expr } from './ast.ts';
import { EXPRESSION_GRAMMAR } from './grammar.ts';

// Built once: Ohm compiles the grammar into an interpreter of its own (no eval / new Function).
const grammar = ohm.grammar(EXPRESSION_GRAMMAR);

const span = (node: ohm.Node) => ({ start: node.source.startIdx, end: node.source.endIdx });

const binary = (left: ohm.Node, op: ohm.Node, right: ohm.Node): Expr => ({
  kind: 'binary',
  op: (op.sourceString === ':' ? 'div' : op.sourceString) as BinaryOp,
  left: left.toAst(),
  right: right.toAst(),
  start: left.source.startIdx,
  end: right.source.endIdx,
});

const semantics = grammar.createSemantics().addOperation<Expr>('toAst', {
  OrExp_or: binary,
  AndExp_and: binary,
  CmpExp_cmp: binary,
  AddExp_add: binary,
  MulExp_mul: binary,
  NotExp_not(_not, operand) {
    return { kind: 'unary', op: 'not', operand: operand.toAst(), ...span(this) };
  },
  UnaryExp_neg(_minus, operand) {
    return { kind: 'unary', op: '-', operand: operand.toAst(), ...span(this) };
  },
  Primary_paren(_open, e, _close) {
    // The span widens to the parentheses, so messages point at what the author wrote.
    return { ...e.toAst(), ...span(this) };
  },
  IfExp(_if, condition, _then, then, _else, otherwise) {
    return { kind: 'if', condition: condition.toAst(), then: then.toAst(), else: otherwise.toAst(), ...span(this) };
  },
  Call(name, _open, args, _close) {
    return {
      kind: 'call',
      name: name.sourceString,
      nameEnd: name.source.endIdx,
      args: args.asIteration().children.map((a) => a.toAst()),
      ...span(this),
    };
  },
  path(_dollar, variable, _slashes, members) {
    return {
      kind: 'path',
      variable: variable.sourceString,
      members: members.children.map((m) => ({ name: m.sourceString, ...span(m) })),
      ...span(this),
    };
  },
  number_decimal(_int, _dot, _frac) {
    return { kind: 'literal', type: 'decimal', value: Number(this.sourceString), ...span(this) };
  },
  number_integer(_digits) {
    return { kind: 'literal', type: 'integer', value: Number(this.sourceString), ...span(this) };
  },
  string(_open, chars, _close) {
    return { kind: 'literal', type: 'string', value: chars.sourceString.replaceAll("''", "'"), ...span(this) };
  },
  true(_t) {
    return { kind: 'literal', type: 'boolean', value: true, ...span(this) };
  },
  false(_f) {
    return { kind: 'literal', type: 'boolean', value: false, ...span(this) };
  },
  empty(_e) {
    return { kind: 'literal', type: 'empty', value: null, ...span(this) };
  },
});

const EXPRESSION_STARTS = ['a digit', '"$"', '"\'"'];

/** A readable syntax message for a failed match at `position`. */
function syntaxMessage(source: string, position: number, expected: string): string {
  const found = position >= source.length ? 'the end' : JSON.stringify(source[position]);
  if (source[position] === '=' && source[position - 1] === '=') return `Unexpected "=" at ${position}: compare with "=" (not "==")`;
  if (source.startsWith('&&', position) || source.startsWith('||', position)) {
    return `Unexpected "${source.slice(position, position + 2)}" at ${position}: use "and" / "or"`;
  }
  if (source[position] === '/' && expected.includes('end of input')) {
    return `Unexpected "/" at ${position}: "/" reads a member ($task/title, no spaces); divide with "div" or ":"`;
  }
  if (expected.includes('end of input')) return `Unexpected ${found} at ${position}`;
  const what = EXPRESSION_STARTS.every((s) => expected.includes(s)) ? 'an expression' : expected;
  return `Expected ${what} at ${position}, found ${found}`;
}

/**
 * Parses an expression into an AST with source positions. Throws an ExpressionError whose
 * `position` is the 0-based offset where the text stops making sense.
 *
 * @example
 * const ast = parseExpression("$task/title != empty and $count > 3");
 * // { kind: 'binary', op: 'and', left: { kind: 'binary', op: '!=', ... }, ... }
 * parseExpression('$count >');  // throws ExpressionError: Expected an expression at 8, found the end
 */
export function parseExpression(source: string): Expr {
  if (source.trim() === '') throw new ExpressionError('The expression is empty', 0, source);
  const match = grammar.match(source);
  if (match.failed()) {
    const position = match.getRightmostFailurePosition();
    throw new ExpressionError(syntaxMessage(source, position, match.getExpectedText()), position, source);
  }
  return semantics(match).toAst();
}
