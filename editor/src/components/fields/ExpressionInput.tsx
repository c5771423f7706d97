import { useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { ExpressionError } from '../../../../src/errors.ts';
import { evaluate } from '../../../../src/flow/expressions/evaluate.ts';
import { parseExpression } from '../../../../src/flow/expressions/parseExpression.ts';
import type { FlowProblem } from '../../../../src/flow/validateFlow.ts';
import { completions, type CompletionResult } from '../../flow/completions.ts';
import { useRun } from '../../run/useRun.ts';
import { useApp, useEditor } from '../../store/useEditor.ts';

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

/** The word at `position` (what the underline marks): up to the next space or operator, at least one character. */
function spanAt(text: string, position: number): [number, number] {
  const start = Math.min(Math.max(position, 0), Math.max(text.length - 1, 0));
  const m = /^(\$?[\w/]+|'[^']*'?|\S)/.exec(text.slice(start));
  return [start, start + (m?.[0].length ?? 1)];
}

/**
 * The expression editor: a multi-line field parsed on every keystroke with the runtime's parser;
 * the error (parse, or the validator's, e.g. an unknown variable) underlined at its position;
 * autocomplete of variables, members, enumeration values and functions (Ctrl+Space, or after
 * `$` and `/`); and, while the debugger is paused, "Try it" evaluates it against the paused values.
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
  const flow = useEditor((s) => s.flow);
  const { schema } = useApp();
  const paused = useRun((s) => s.paused);
  const error = useMemo(() => parseError(props.value), [props.value]);
  const messages = error ? [] : props.problems.map((p) => p.message);
  const position = error ? error.position : props.problems.find((p) => p.position !== undefined)?.position;
  const field = useRef<HTMLTextAreaElement>(null);
  const [suggest, setSuggest] = useState<(CompletionResult & { active: number }) | null>(null);
  const [tried, setTried] = useState<{ ok: boolean; text: string } | null>(null);

  const open = (text: string, caret: number) => {
    const result = completions(text, caret, flow, schema);
    setSuggest(result.items.length ? { ...result, active: 0 } : null);
  };
  const accept = (index: number) => {
    const el = field.current;
    if (!suggest || !el) return;
    const item = suggest.items[index];
    const caret = el.selectionStart ?? props.value.length;
    const next = props.value.slice(0, suggest.from) + item.insert + props.value.slice(caret);
    props.onChange(next);
    setSuggest(null);
    const at = suggest.from + item.insert.length;
    requestAnimationFrame(() => {
      el.focus();
      el.setSelectionRange(at, at);
    });
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === ' ' && e.ctrlKey) {
      e.preventDefault();
      open(props.value, e.currentTarget.selectionStart ?? props.value.length);
    } else if (suggest && (e.key === 'ArrowDown' || e.key === 'ArrowUp')) {
      e.preventDefault();
      const n = suggest.items.length;
      setSuggest({ ...suggest, active: (suggest.active + (e.key === 'ArrowDown' ? 1 : n - 1)) % n });
    } else if (suggest && (e.key === 'Enter' || e.key === 'Tab')) {
      e.preventDefault();
      accept(suggest.active);
    } else if (suggest && e.key === 'Escape') {
      e.stopPropagation();
      setSuggest(null);
    }
  };
  const tryIt = async () => {
    if (!paused) return;
    try {
      const vars = paused.variables;
      const value = await evaluate(
        parseExpression(props.value),
        {
          variable: (name) => {
            if (!Object.hasOwn(vars, name)) throw new Error(`$${name} has no value at ${paused.nodeId}`);
            return vars[name];
          },
          member: (o, name) => o[name],
          now: () => new Date(),
        },
        props.value,
      );
      setTried({ ok: true, text: JSON.stringify(value ?? null) });
    } catch (e) {
      setTried({ ok: false, text: e instanceof Error ? e.message : String(e) });
    }
  };
  const [from, to] = position !== undefined ? spanAt(props.value, position) : [0, 0];
  const listId = `${props.id}-suggestions`;
  return (
    <div className="expression">
      <textarea
        ref={field}
        id={props.id}
        className={`mono${error || messages.length ? ' invalid' : ''}`}
        value={props.value}
        rows={Math.min(6, props.value.split('\n').length)}
        spellCheck={false}
        autoComplete="off"
        placeholder={props.placeholder ?? 'expression, e.g. $task/title != empty (Ctrl+Space completes)'}
        aria-invalid={Boolean(error || messages.length)}
        aria-autocomplete="list"
        aria-expanded={suggest !== null}
        aria-controls={suggest ? listId : undefined}
        onChange={(e) => {
          const text = e.target.value;
          props.onChange(text);
          setTried(null);
          const caret = e.target.selectionStart ?? text.length;
          // Typing `$` or `/` opens the list; further typing narrows an open one.
          if (suggest || /[$/]$/.test(text.slice(0, caret))) open(text, caret);
        }}
        onKeyDown={onKeyDown}
        onBlur={() => {
          // Late, so a click on a suggestion lands first; not if the field has the focus again by then.
          setTimeout(() => {
            if (document.activeElement !== field.current) setSuggest(null);
          }, 150);
          props.onBlur?.();
        }}
        data-testid={`${props.testid}-input`}
      />
      {suggest && (
        <ul className="suggestions" role="listbox" id={listId} data-testid={`${props.testid}-suggestions`}>
          {suggest.items.slice(0, 30).map((item, i) => (
            <li
              key={item.label}
              role="option"
              aria-selected={i === suggest.active}
              className={i === suggest.active ? 'active' : ''}
              onMouseDown={(e) => {
                e.preventDefault();
                accept(i);
              }}
              data-testid={`${props.testid}-suggestion`}
            >
              <span className="mono">{item.label}</span> <span className="muted">{item.detail}</span>
            </li>
          ))}
        </ul>
      )}
      {position !== undefined && props.value && (
        // The text again, with what is wrong underlined where it is.
        <pre className="underline-mirror" aria-hidden data-testid={`${props.testid}-underlined`}>
          {props.value.slice(0, from)}
          <span className="squiggle" data-testid={`${props.testid}-underline`}>
            {props.value.slice(from, to) || ' '}
          </span>
          {props.value.slice(to)}
        </pre>
      )}
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
      {paused && props.value.trim() && !error && (
        <div className="try-it">
          <button type="button" className="link" onClick={() => void tryIt()} data-testid={`${props.testid}-try`}>
            Try it at {paused.nodeId}
          </button>
          {tried && (
            <span className={`mono ${tried.ok ? 'ok' : 'field-error'}`} data-testid={`${props.testid}-try-result`}>
              {tried.ok ? `= ${tried.text}` : tried.text}
            </span>
          )}
        </div>
      )}
    </div>
  );
}
