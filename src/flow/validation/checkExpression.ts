import { ExpressionError } from '../../errors.ts';
import type { ExpressionOptions } from '../activities/ActivityKind.ts';
import { parseExpression } from '../expressions/parseExpression.ts';
import { typecheck } from '../expressions/typecheck.ts';
import { describeType, isAssignable, Types, type StaticType } from '../expressions/types.ts';
import type { CheckState } from './CheckState.ts';
import { typeEnv } from './typeEnv.ts';

/**
 * Parses (once per source text) and type-checks an expression of node `id`, reporting syntax and
 * type errors at their positions; answers its type, or unknown when it has errors.
 */
export function checkExpression(s: CheckState, id: string, field: string, source: string, options: ExpressionOptions = {}): StaticType {
  let ast = s.expressions.get(source);
  if (!ast) {
    try {
      ast = parseExpression(source);
    } catch (e) {
      if (!(e instanceof ExpressionError)) throw e;
      s.nodeProblem(id, field, e.message, e.position);
      return Types.unknown;
    }
    s.expressions.set(source, ast);
  }
  const { type, errors } = typecheck(ast, source, typeEnv(s, id, options.extra));
  for (const e of errors) s.nodeProblem(id, field, e.message, e.position);
  if (errors.length) return Types.unknown;
  if (options.expected && !isAssignable(options.expected, type)) {
    s.nodeProblem(id, field, `must be ${describeType(options.expected)}, but the expression gives ${describeType(type)}`, 0);
  }
  return type;
}
