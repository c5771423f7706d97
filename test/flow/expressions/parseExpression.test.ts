import { describe, expect, it } from 'vitest';
import { ExpressionError } from '../../../src/errors.ts';
import type { Expr } from '../../../src/flow/expressions/ast.ts';
import { parseExpression } from '../../../src/flow/expressions/parseExpression.ts';

/** The AST as a compact, fully parenthesized string: shows how the parser grouped things. */
function show(e: Expr): string {
  switch (e.kind) {
    case 'literal':
      return e.type === 'string' ? `'${e.value}'` : e.type === 'empty' ? 'empty' : String(e.value);
    case 'path':
      return ['$' + e.variable, ...e.members.map((m) => m.name)].join('/');
    case 'unary':
      return `(${e.op} ${show(e.operand)})`;
    case 'binary':
      return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case 'if':
      return `(if ${show(e.condition)} then ${show(e.then)} else ${show(e.else)})`;
    case 'call':
      return `${e.name}(${e.args.map(show).join(', ')})`;
  }
}

const parsed = (s: string) => show(parseExpression(s));

function failure(source: string): ExpressionError {
  try {
    parseExpression(source);
  } catch (e) {
    expect(e).toBeInstanceOf(ExpressionError);
    return e as ExpressionError;
  }
  throw new Error(`"${source}" parsed`);
}

describe('parseExpression', () => {
  describe('literals and paths', () => {
    it('reads integers, decimals, strings, booleans and empty', () => {
      expect(parseExpression('42')).toMatchObject({ kind: 'literal', type: 'integer', value: 42 });
      expect(parseExpression('3.25')).toMatchObject({ kind: 'literal', type: 'decimal', value: 3.25 });
      expect(parseExpression("'it''s'")).toMatchObject({ kind: 'literal', type: 'string', value: "it's" });
      expect(parseExpression("''")).toMatchObject({ kind: 'literal', type: 'string', value: '' });
      expect(parseExpression('true')).toMatchObject({ kind: 'literal', type: 'boolean', value: true });
      expect(parseExpression('false')).toMatchObject({ kind: 'literal', type: 'boolean', value: false });
      expect(parseExpression('empty')).toMatchObject({ kind: 'literal', type: 'empty', value: null });
    });

    it('reads variables and member paths with their positions', () => {
      const e = parseExpression('  $task/project/name');
      expect(e).toMatchObject({
        kind: 'path',
        variable: 'task',
        start: 2,
        end: 20,
        members: [
          { name: 'project', start: 8, end: 15 },
          { name: 'name', start: 16, end: 20 },
        ],
      });
    });

    it('keeps keywords out of names but allows them as prefixes', () => {
      expect(parsed('notEmpty($a)')).toBe('notEmpty($a)');
      expect(parsed('$android or $order')).toBe('($android or $order)');
      expect(parsed('$x/empty')).toBe('$x/empty');
    });
  });

  describe('precedence', () => {
    it.each([
      ['1 + 2 * 3', '(1 + (2 * 3))'],
      ['1 - 2 - 3', '((1 - 2) - 3)'],
      ['8 div 2 : 2', '((8 div 2) div 2)'],
      ['7 mod 3 * 2', '((7 mod 3) * 2)'],
      ['-2 * 3', '((- 2) * 3)'],
      ['$a + 1 > $b * 2', '(($a + 1) > ($b * 2))'],
      ['$a = 1 or $b = 2 and $c = 3', '(($a = 1) or (($b = 2) and ($c = 3)))'],
      ['not $a = 1', '(not ($a = 1))'],
      ['not $a and $b', '((not $a) and $b)'],
      ['not($a) or $b', '((not $a) or $b)'],
      ['($a or $b) and $c', '(($a or $b) and $c)'],
      ["$task/title != empty and $count > 3", '(($task/title != empty) and ($count > 3))'],
      ['if $a then 1 else 2 + 3', '(if $a then 1 else (2 + 3))'],
      ['1 + (if $a then 1 else 2)', '(1 + (if $a then 1 else 2))'],
      ['if $a then if $b then 1 else 2 else 3', '(if $a then (if $b then 1 else 2) else 3)'],
      ["round(1.5 * 2, 1) + length('ab')", '(round((1.5 * 2), 1) + length(\'ab\'))'],
      ['currentDateTime()', 'currentDateTime()'],
      ['$a<=$b', '($a <= $b)'],
    ])('%s  =>  %s', (source, expected) => {
      expect(parsed(source)).toBe(expected);
    });

    it('gives parenthesized expressions the span of the parentheses', () => {
      expect(parseExpression('(1 + 2)')).toMatchObject({ start: 0, end: 7 });
    });
  });

  describe('malformed expressions', () => {
    it.each([
      ['$count >', 8, 'Expected an expression at 8, found the end'],
      ['1 = 2 = 3', 6, 'Unexpected "=" at 6'],
      ['(1 + 2', 6, 'Expected ")" at 6, found the end'],
      ['if true then 1', 14, 'Expected "else" at 14, found the end'],
      ['$', 1, 'Expected "_" or a letter at 1, found the end'],
      ['$a == 1', 4, 'Unexpected "=" at 4: compare with "=" (not "==")'],
      ['$a && $b', 3, 'Unexpected "&&" at 3: use "and" / "or"'],
      ["'open", 5, 'Expected "\'" at 5, found the end'],
      ['length(1,', 9, 'Expected an expression at 9, found the end'],
      ['1 +* 2', 3, 'Expected an expression at 3, found "*"'],
      ['foo bar', 4, 'Expected "(" at 4, found "b"'],
      ['$a / 2', 3, 'Unexpected "/" at 3: "/" reads a member ($task/title, no spaces); divide with "div" or ":"'],
      ['$a/ b', 3, 'Expected "_" or a letter at 3, found " "'],
    ])('%s fails at %i', (source, position, message) => {
      const e = failure(source);
      expect(e.position).toBe(position);
      expect(e.message).toBe(message);
      expect(e.expression).toBe(source);
      expect(e.code).toBe('expression_invalid');
    });

    it('rejects an empty expression at 0', () => {
      expect(failure('   ').position).toBe(0);
    });
  });

  describe('large and hostile input (issue 16)', () => {
    it('parses a sum of 16,000 terms (32 KB) as a left fold, without a stack overflow', () => {
      const e = parseExpression(Array(16_000).fill('1').join('+'));
      let depth = 0;
      for (let x = e; x.kind === 'binary'; x = x.left) depth++;
      expect(depth).toBe(15_999);
      expect(e).toMatchObject({ kind: 'binary', op: '+', start: 0, end: 31_999 });
    });

    it('keeps an operator chain as one node over its operands, read as nested binary nodes with their spans', () => {
      const e = parseExpression('$a - 2 + ($b * 3) + 4');
      if (e.kind !== 'binary') throw new Error(e.kind);
      expect(e.operands.map(show)).toEqual(['$a', '2', '($b * 3)', '4']);
      expect(e.ops).toEqual(['-', '+', '+']);
      expect(e).toMatchObject({ op: '+', start: 0, end: 21, right: { kind: 'literal', value: 4, start: 20 } });
      // The left side spans what it folds; the parenthesized operand keeps the parentheses' span.
      expect(e.left).toMatchObject({ kind: 'binary', op: '+', start: 0, end: 17, right: { kind: 'binary', op: '*', start: 9, end: 17 } });
      expect(e.left.kind === 'binary' && e.left.left).toMatchObject({ kind: 'binary', op: '-', start: 0, end: 6, left: { variable: 'a' } });
      const sum = parseExpression(Array(16_000).fill('$n').join('+'));
      expect(sum.kind === 'binary' && sum.operands.length).toBe(16_000);
    });

    it('reads each path of a chain with its own members, and a path without members has none', () => {
      const e = parseExpression('$task/title + $task/title + $other/title');
      const names = e.kind === 'binary' ? e.operands.map((x) => (x.kind === 'path' ? [x.variable, ...x.members.map((m) => m.name)] : [])) : [];
      expect(names).toEqual([['task', 'title'], ['task', 'title'], ['other', 'title']]);
      expect(parseExpression('$task')).toMatchObject({ kind: 'path', members: [] });
    });

    it('accepts 256 levels of nesting and refuses the 257th at its position', () => {
      expect(parsed('('.repeat(256) + '1' + ')'.repeat(256))).toBe('1');
      const e = failure('('.repeat(10_000) + '1' + ')'.repeat(10_000));
      expect(e.position).toBe(256);
      expect(e.message).toMatch(/nests more than 256 levels deep .* at 256$/);
      expect(failure('not '.repeat(257) + 'true').position).toBe(256 * 4);
      expect(failure('abs('.repeat(300) + '1' + ')'.repeat(300)).position).toBe(256 * 4);
      expect(failure('$v' + '/m'.repeat(257)).message).toMatch(/at most 256 members/);
    });

    it('takes a string literal of 64 KB and refuses a longer expression at 65,536', () => {
      const body = "it''s ".repeat(10_000);
      const literal = `'${body}${'x'.repeat(65_534 - body.length)}'`;
      expect(literal.length).toBe(65_536);
      expect(parseExpression(literal)).toMatchObject({ kind: 'literal', value: expect.stringMatching(/^it's it's/) });
      const e = failure(literal + ' ');
      expect(e.position).toBe(65_536);
      expect(e.message).toBe('The expression is 65537 characters long: at most 65536 are allowed');
    });

    it('reads Unicode names and strings, and refuses a lone surrogate outside a string', () => {
      expect(parseExpression("$größe + 'x\ud800'")).toMatchObject({ left: { variable: 'größe' }, right: { value: 'x\ud800' } });
      expect(failure('$a + \ud800').message).toBe('Expected an expression at 5, found "\\ud800"');
      expect(failure('1 + 😀').message).toBe('Expected an expression at 4, found "😀"');
    });

    it('names a function that Object.prototype has as unknown, not as a crash', async () => {
      const { evaluate } = await import('../../../src/flow/expressions/evaluate.ts');
      await expect(evaluate(parseExpression('hasOwnProperty(1)'), { variable: () => null, member: () => null, now: () => new Date() })).rejects.toMatchObject({
        code: 'flow_runtime',
        message: 'unknown function "hasOwnProperty"',
      });
    });
  });
});
