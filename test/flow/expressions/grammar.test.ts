import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXPRESSION_GRAMMAR } from '../../../src/flow/expressions/grammar.ts';

describe('expression grammar', () => {
  it('bundles the same text as expression.ohm', () => {
    const file = readFileSync(new URL('../../../src/flow/expressions/expression.ohm', import.meta.url), 'utf8');
    expect(EXPRESSION_GRAMMAR.trim()).toBe(file.trim());
  });
});
