/**
 * The expression parser: a hand-written scanner and precedence-climbing parser. This file is the
 * grammar, in one place; each rule below is one method of `Parser`.
 *
 *   Exp      = OrExp
 *   OrExp    = AndExp ("or" AndExp)*                      a chain is one node (BinaryExpr) over its operands
 *   AndExp   = NotExp ("and" NotExp)*
 *   NotExp   = "not"* CmpExp
 *   CmpExp   = AddExp (cmpOp AddExp)?                     not associative: 1 = 2 = 3 is an error
 *   AddExp   = MulExp (("+" | "-") MulExp)*
 *   MulExp   = UnaryExp (("*" | ":" | "div" | "mod") UnaryExp)*
 *   UnaryExp = "-"* Primary
 *   Primary  = "(" Exp ")" | IfExp | Call | path | literal
 *   IfExp    = "if" Exp "then" Exp "else" Exp
 *   Call     = ident "(" (Exp ("," Exp)*)? ")"
 *   path     = "$" name ("/" name)*                        no spaces inside a path
 *   literal  = digit+ ("." digit+)? | "'" ("''" | any but "'")* "'" | "true" | "false" | "empty"
 *   cmpOp    = "<=" | ">=" | "!=" | "=" | "<" | ">"
 *   name     = (letter | "_") (letter | digit | "_")*      letter: any Unicode letter; ident: a name that is no keyword
 *   keywords: if then else and or not div mod true false empty; spaces (any character up to U+0020) separate tokens.
 *
 * Why not a parser library: Ohm (used before) memoizes every rule at every position, so a 1 MB
 * string literal cost ~1.1 GB and a sum of 1,000 terms overflowed the stack. This parser keeps
 * no memo table and no token list: it reads one token at a time, so time and memory are linear
 * in the input (the AST is the only allocation), chains cost no stack, and recursion happens
 * only where the text nests, which is bounded by MAX_EXPRESSION_DEPTH. It needs no eval or
 * new Function and no dependency, and it runs in the browser as it is.
 */
import { ExpressionError } from '../../errors.ts';
import { BinaryExpr, NO_MEMBERS, withSpan, type BinaryOp, type Expr, type Member } from './ast.ts';

/** The longest expression accepted, in UTF-16 code units (64 KB). */
export const MAX_EXPRESSION_LENGTH = 65_536;
/** How deep parentheses, calls, `if`, `not` / `-` chains may nest, and how many members a path may read. */
export const MAX_EXPRESSION_DEPTH = 256;

/**
 * Parses an expression into an AST with source positions. Throws an ExpressionError whose
 * `position` is the 0-based offset where the text stops making sense; it throws nothing else,
 * whatever the input.
 *
 * @example
 * const ast = parseExpression("$task/title != empty and $count > 3");
 * // { kind: 'binary', op: 'and', left: { kind: 'binary', op: '!=', ... }, ... }
 * parseExpression('$count >');  // throws ExpressionError: Expected an expression at 8, found the end
 */
export function parseExpression(source: string): Expr {
  if (typeof source !== 'string') throw new ExpressionError('An expression is text', 0, String(source));
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionError(
      `The expression is ${source.length} characters long: at most ${MAX_EXPRESSION_LENGTH} are allowed`,
      MAX_EXPRESSION_LENGTH,
      source,
    );
  }
  if (source.trim() === '') throw new ExpressionError('The expression is empty', 0, source);
  return new Parser(source).parse();
}

const KEYWORDS = new Set(['if', 'then', 'else', 'and', 'or', 'not', 'div', 'mod', 'true', 'false', 'empty']);
const CMP_OPS = new Set(['<=', '>=', '!=', '=', '<', '>']);

type TokenKind = 'end' | 'number' | 'string' | 'path' | 'word' | 'punct' | 'other';

const isDigit = (c: number) => c >= 48 && c <= 57;
const isSpace = (c: number) => c <= 32;
// Ohm's `letter` (Unicode categories Lu, Ll, Lt, Lm, Lo), kept so names written before still parse.
const LETTER = /\p{L}/u;

class Parser {
  private pos = 0;
  private depth = 0;
  // The current token: its kind, span and text (for punctuation and words), and its AST for literals and paths.
  private kind: TokenKind = 'end';
  private start = 0;
  private end = 0;
  private text = '';
  private value: Expr | undefined;

  constructor(private readonly src: string) {
    this.next();
  }

  parse(): Expr {
    const e = this.exp();
    if (this.kind !== 'end') throw this.error(this.start, 'end');
    return e;
  }

  // -- rules ------------------------------------------------------------------------------------

  private exp(): Expr {
    return this.orExp();
  }

  private orExp(): Expr {
    const first = this.andExp();
    if (!this.isWord('or')) return first;
    const operands = [first];
    const ops: BinaryOp[] = [];
    while (this.isWord('or')) {
      this.next();
      ops.push('or');
      operands.push(this.andExp());
    }
    return BinaryExpr.chain(operands, ops);
  }

  private andExp(): Expr {
    const first = this.notExp();
    if (!this.isWord('and')) return first;
    const operands = [first];
    const ops: BinaryOp[] = [];
    while (this.isWord('and')) {
      this.next();
      ops.push('and');
      operands.push(this.notExp());
    }
    return BinaryExpr.chain(operands, ops);
  }

  private notExp(): Expr {
    const starts: number[] = [];
    while (this.isWord('not')) {
      starts.push(this.start);
      this.enter(this.start);
      this.next();
    }
    let e = this.cmpExp();
    for (let i = starts.length - 1; i >= 0; i--) e = { kind: 'unary', op: 'not', operand: e, start: starts[i], end: e.end };
    this.depth -= starts.length;
    return e;
  }

  private cmpExp(): Expr {
    const left = this.addExp();
    if (this.kind !== 'punct' || !CMP_OPS.has(this.text)) return left;
    const op = this.text as BinaryOp;
    this.next();
    return BinaryExpr.chain([left, this.addExp()], [op]);
  }

  private addExp(): Expr {
    const first = this.mulExp();
    if (!this.isAddOp()) return first;
    const operands = [first];
    const ops: BinaryOp[] = [];
    while (this.isAddOp()) {
      ops.push(this.text as BinaryOp);
      this.next();
      operands.push(this.mulExp());
    }
    return BinaryExpr.chain(operands, ops);
  }

  private mulExp(): Expr {
    const first = this.unaryExp();
    let op = this.mulOp();
    if (!op) return first;
    const operands = [first];
    const ops: BinaryOp[] = [];
    for (; op; op = this.mulOp()) {
      ops.push(op);
      this.next();
      operands.push(this.unaryExp());
    }
    return BinaryExpr.chain(operands, ops);
  }

  private unaryExp(): Expr {
    const starts: number[] = [];
    while (this.kind === 'punct' && this.text === '-') {
      starts.push(this.start);
      this.enter(this.start);
      this.next();
    }
    let e = this.primary();
    for (let i = starts.length - 1; i >= 0; i--) e = { kind: 'unary', op: '-', operand: e, start: starts[i], end: e.end };
    this.depth -= starts.length;
    return e;
  }

  private primary(): Expr {
    const start = this.start;
    if (this.kind === 'number' || this.kind === 'string' || this.kind === 'path') {
      const e = this.value!;
      this.next();
      return e;
    }
    if (this.isPunct('(')) {
      this.enter(start);
      this.next();
      const inner = this.exp();
      const end = this.expectPunct(')');
      this.depth--;
      return withSpan(inner, start, end);
    }
    if (this.kind === 'word') {
      const end = this.end;
      switch (this.text) {
        case 'true':
        case 'false':
          this.next();
          return { kind: 'literal', type: 'boolean', value: end - start === 4, start, end };
        case 'empty':
          this.next();
          return { kind: 'literal', type: 'empty', value: null, start, end };
        case 'if':
          return this.ifExp();
      }
      if (!KEYWORDS.has(this.text)) return this.call();
    }
    throw this.error(start, 'an expression');
  }

  private ifExp(): Expr {
    const start = this.start;
    this.enter(start);
    this.next();
    const condition = this.exp();
    this.expectWord('then');
    const then = this.exp();
    this.expectWord('else');
    const otherwise = this.exp();
    this.depth--;
    return { kind: 'if', condition, then, else: otherwise, start, end: otherwise.end };
  }

  private call(): Expr {
    const start = this.start;
    const name = this.text;
    this.next();
    this.expectPunct('(');
    this.enter(start);
    const args: Expr[] = [];
    if (!this.isPunct(')')) {
      for (;;) {
        args.push(this.exp());
        if (!this.isPunct(',')) break;
        this.next();
      }
    }
    if (!this.isPunct(')')) throw this.error(this.start, args.length ? '"," or ")"' : '")"');
    const end = this.end;
    this.next();
    this.depth--;
    return { kind: 'call', name, args, start, end };
  }

  // -- helpers ----------------------------------------------------------------------------------

  private enter(at: number): void {
    if (++this.depth > MAX_EXPRESSION_DEPTH) {
      throw new ExpressionError(
        `The expression nests more than ${MAX_EXPRESSION_DEPTH} levels deep (parentheses, function calls, if, not, minus) at ${at}`,
        at,
        this.src,
      );
    }
  }

  private isWord(w: string): boolean {
    return this.kind === 'word' && this.text === w;
  }

  private isAddOp(): boolean {
    return this.kind === 'punct' && (this.text === '+' || this.text === '-');
  }

  /** The multiplicative operator at the current token (`:` is `div`), or undefined. */
  private mulOp(): BinaryOp | undefined {
    if (this.kind === 'punct') return this.text === '*' ? '*' : this.text === ':' ? 'div' : undefined;
    return this.isWord('div') || this.isWord('mod') ? (this.text as BinaryOp) : undefined;
  }

  private isPunct(p: string): boolean {
    return this.kind === 'punct' && this.text === p;
  }

  private expectPunct(p: string): number {
    if (!this.isPunct(p)) throw this.error(this.start, `"${p}"`);
    const end = this.end;
    this.next();
    return end;
  }

  private expectWord(w: string): void {
    if (!this.isWord(w)) throw this.error(this.start, `"${w}"`);
    this.next();
  }

  private error(position: number, expected: string): ExpressionError {
    return new ExpressionError(syntaxMessage(this.src, position, expected), position, this.src);
  }

  // -- scanner ----------------------------------------------------------------------------------

  /** Reads the next token into kind / start / end / text / value. */
  private next(): void {
    const s = this.src;
    let i = this.pos;
    while (i < s.length && isSpace(s.charCodeAt(i))) i++;
    this.start = i;
    this.value = undefined;
    if (i >= s.length) {
      this.kind = 'end';
      this.end = this.pos = i;
      this.text = '';
      return;
    }
    const c = s.charCodeAt(i);
    if (isDigit(c)) return this.number(i);
    if (c === 39 /* ' */) return this.string(i);
    if (c === 36 /* $ */) return this.path(i);
    const nameEnd = this.nameAt(i);
    if (nameEnd > i) {
      this.token('word', i, nameEnd);
      return;
    }
    const two = s.slice(i, i + 2);
    if (two === '<=' || two === '>=' || two === '!=') return this.token('punct', i, i + 2);
    if ('()+-*:=<>,'.includes(s[i])) return this.token('punct', i, i + 1);
    this.token('other', i, i + 1);
  }

  private token(kind: TokenKind, start: number, end: number): void {
    this.kind = kind;
    this.start = start;
    this.end = this.pos = end;
    this.text = this.src.slice(start, end);
  }

  private number(start: number): void {
    const s = this.src;
    let i = start;
    while (i < s.length && isDigit(s.charCodeAt(i))) i++;
    let type: 'integer' | 'decimal' = 'integer';
    if (s[i] === '.') {
      if (!isDigit(s.charCodeAt(i + 1))) throw this.error(i + 1, 'a digit');
      type = 'decimal';
      i++;
      while (i < s.length && isDigit(s.charCodeAt(i))) i++;
    }
    this.kind = 'number';
    this.text = '';
    this.end = this.pos = i;
    this.value = { kind: 'literal', type, value: Number(s.slice(start, i)), start, end: i };
  }

  private string(start: number): void {
    const s = this.src;
    const parts: string[] = [];
    let i = start + 1;
    for (;;) {
      const close = s.indexOf("'", i);
      if (close < 0) throw this.error(s.length, `"'"`);
      parts.push(s.slice(i, close));
      if (s[close + 1] !== "'") {
        i = close + 1;
        break;
      }
      parts.push("'");
      i = close + 2;
    }
    this.kind = 'string';
    this.text = '';
    this.end = this.pos = i;
    this.value = { kind: 'literal', type: 'string', value: parts.length === 1 ? parts[0] : parts.join(''), start, end: i };
  }

  private path(start: number): void {
    const s = this.src;
    const nameStart = start + 1;
    const nameEnd = this.nameAt(nameStart);
    if (nameEnd === nameStart) throw this.error(nameStart, '"_" or a letter');
    let members: Member[] | undefined;
    let i = nameEnd;
    while (s[i] === '/') {
      const mEnd = this.nameAt(i + 1);
      if (mEnd === i + 1) throw this.error(i + 1, '"_" or a letter');
      members ??= [];
      if (members.length >= MAX_EXPRESSION_DEPTH) {
        throw new ExpressionError(`A path reads at most ${MAX_EXPRESSION_DEPTH} members (at ${i + 1})`, i + 1, s);
      }
      members.push({ name: s.slice(i + 1, mEnd), start: i + 1, end: mEnd });
      i = mEnd;
    }
    this.kind = 'path';
    this.text = '';
    this.end = this.pos = i;
    this.value = { kind: 'path', variable: s.slice(nameStart, nameEnd), members: members ?? NO_MEMBERS, start, end: i };
  }

  /** The end of the name starting at `i` (`i` itself if none starts there). */
  private nameAt(i: number): number {
    const s = this.src;
    let first = true;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 95 /* _ */ || (c < 128 ? (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (!first && isDigit(c)) : false)) {
        i++;
      } else if (c >= 128) {
        const cp = s.codePointAt(i)!;
        if (!LETTER.test(String.fromCodePoint(cp))) break;
        i += cp > 0xffff ? 2 : 1;
      } else {
        break;
      }
      first = false;
    }
    return i;
  }
}

/** A readable syntax message for a failure at `position`, where `expected` was (or 'end': nothing more). */
function syntaxMessage(source: string, position: number, expected: string): string {
  const cp = source.codePointAt(position);
  const found = cp === undefined ? 'the end' : JSON.stringify(String.fromCodePoint(cp));
  if (source[position] === '=' && source[position - 1] === '=') return `Unexpected "=" at ${position}: compare with "=" (not "==")`;
  if (source.startsWith('&&', position) || source.startsWith('||', position)) {
    return `Unexpected "${source.slice(position, position + 2)}" at ${position}: use "and" / "or"`;
  }
  if (source[position] === '/') {
    return `Unexpected "/" at ${position}: "/" reads a member ($task/title, no spaces); divide with "div" or ":"`;
  }
  if (expected === 'end') return `Unexpected ${found} at ${position}`;
  return `Expected ${expected} at ${position}, found ${found}`;
}
