import { useMemo } from 'react';
import { ExpressionError } from '../../../../src/errors.ts';
import { parseExpression } from '../../../../src/flow/expressions/parseExpression.ts';
import type { FlowProblem } from '../../../../src/flow/validateFlow.ts';

/** The parse error of an expression, or null (empty text is left to the validator's message). */
export function parseError(source: string): ExpressionError | null {
  if (source.trim() === '') return null;
  try {
    parseExpression(source);
    return null;
  } catch (e) {
    return e instanceof ExpressionError ? e : new ExpressionError(String(e), 0, source);
  }
}

/**
 * A text field for an expression: parsed on every keystroke with the runtime's parser, its
 * syntax error shown under it with a caret at the position; otherwise the validator's problems
 * of the field (unknown variables, types).
 */
export function ExpressionInput(props: {
  id: string;
  value: string;
  onChange(value: string): void;
  onBlur?(): void;
  problems: readonly FlowProblem[];
  testid: string;
  placeholder?: string;
}) {
  const error = useMemo(() => parseError(props.value), [props.value]);
  const messages = error ? [] : props.problems.map((p) => p.message);
  return (
    <div className="expression">
      <input
        id={props.id}
        className={`mono${error || messages.length ? ' invalid' : ''}`}
        value={props.value}
        spellCheck={false}
        autoComplete="off"
        placeholder={props.placeholder ?? 'expression, e.g. $task/title != empty'}
        aria-invalid={Boolean(error || messages.length)}
        onChange={(e) => props.onChange(e.target.value)}
        onBlur={props.onBlur}
        data-testid={`${props.testid}-input`}
      />
      {error && (
        <div className="field-error" role="alert" data-testid={`${props.testid}-parse-error`}>
          {error.message}
          <pre className="caret">
            {props.value}
            {'\n'}
            {' '.repeat(Math.min(error.position, props.value.length))}^
          </pre>
        </div>
      )}
      {messages.map((m, i) => (
        <div key={i} className="field-error" data-testid={`${props.testid}-problem`}>
          {m}
        </div>
      ))}
    </div>
  );
}
