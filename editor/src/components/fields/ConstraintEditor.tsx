/**
 * The form of a Retrieve's `where`: the format's constraint tree (`constraintSchema`) — all of,
 * any of, not, or a condition "attribute op expression" — each expression parsed as you type.
 */
import { useId } from 'react';
import { COMPARISON_OPS, type FlowConstraint } from '../../../../src/flow/format.ts';
import type { FlowProblem } from '../../../../src/flow/validateFlow.ts';
import { formatPath } from '../../flow/validation.ts';
import type { FieldPath } from '../../store/editorStore.ts';
import { ExpressionInput } from './ExpressionInput.tsx';

type Op = (typeof COMPARISON_OPS)[number];
type Kind = 'condition' | 'and' | 'or' | 'not';

const OP_LABELS: Record<string, string> = {
  eq: '=',
  ne: '≠',
  lt: '<',
  lte: '≤',
  gt: '>',
  gte: '≥',
  in: 'in (one of)',
  contains: 'contains',
  startsWith: 'starts with',
};

const KIND_LABELS: Record<Kind, string> = { condition: 'condition', and: 'all of', or: 'any of', not: 'not' };

export interface ConstraintContext {
  problemPrefix: string;
  problems: readonly FlowProblem[];
  /** The attributes and associations of the retrieved entity. */
  members: readonly string[];
  onChange(path: FieldPath, value: unknown, typing?: boolean): void;
  onBlur(): void;
}

const newCondition = (): FlowConstraint => ({ attribute: '', op: 'eq', value: '' });

function kindOf(c: FlowConstraint | undefined): Kind {
  if (c && typeof c === 'object' && !Array.isArray(c)) {
    if ('and' in c) return 'and';
    if ('or' in c) return 'or';
    if ('not' in c) return 'not';
  }
  return 'condition';
}

/** The constraint turned into another kind, keeping what can be kept. */
function convert(c: FlowConstraint, to: Kind): FlowConstraint {
  const from = kindOf(c);
  if (from === to) return c;
  const children: FlowConstraint[] = 'and' in c ? c.and : 'or' in c ? c.or : 'not' in c ? [c.not] : [c];
  if (to === 'and') return { and: children.length ? children : [newCondition()] };
  if (to === 'or') return { or: children.length ? children : [newCondition()] };
  if (to === 'not') return { not: from === 'condition' ? c : (children[0] ?? newCondition()) };
  return children.find((x) => kindOf(x) === 'condition') ?? newCondition();
}

export function ConstraintEditor(props: { value: FlowConstraint; path: FieldPath; ctx: ConstraintContext; depth?: number; onRemove?(): void }) {
  const { value, path, ctx } = props;
  const id = useId();
  const kind = kindOf(value);
  const key = path.join('.');
  const at = (p: FieldPath) => formatPath(ctx.problemPrefix, p);
  const problemsAt = (p: FieldPath) => ctx.problems.filter((x) => x.path === at(p));
  const own = problemsAt(path);
  const wellFormed =
    typeof value === 'object' &&
    value !== null &&
    (kind === 'and' || kind === 'or' ? Array.isArray((value as Record<string, unknown>)[kind]) : kind === 'not' ? typeof (value as { not: unknown }).not === 'object' : 'attribute' in value);
  if (!wellFormed) {
    return (
      <div className="constraint" data-testid={`constraint-${key}`}>
        <div className="field-error">not a constraint: {JSON.stringify(value)}</div>
        <button type="button" onClick={() => ctx.onChange(path, newCondition())}>
          Replace with a condition
        </button>
      </div>
    );
  }
  return (
    <div className={`constraint constraint-${kind}`} data-testid={`constraint-${key}`}>
      <div className="row constraint-head">
        <select
          value={kind}
          aria-label="Kind of constraint"
          onChange={(e) => ctx.onChange(path, convert(value, e.target.value as Kind))}
          data-testid={`constraint-${key}-kind`}
        >
          {(Object.keys(KIND_LABELS) as Kind[]).map((k) => (
            <option key={k} value={k}>
              {KIND_LABELS[k]}
            </option>
          ))}
        </select>
        {props.onRemove && (
          <button type="button" className="link" onClick={props.onRemove} aria-label="Remove this constraint">
            remove
          </button>
        )}
      </div>
      {own.map((p, i) => (
        <div key={i} className="field-error">
          {p.message}
        </div>
      ))}
      {kind === 'condition' && 'attribute' in value && <Condition value={value} path={path} ctx={ctx} id={id} problemsAt={problemsAt} />}
      {(kind === 'and' || kind === 'or') && (
        <div className="constraint-children">
          {((value as Record<string, FlowConstraint[]>)[kind] ?? []).map((child, i, all) => (
            <ConstraintEditor
              key={i}
              value={child}
              path={[...path, kind, i]}
              ctx={ctx}
              depth={(props.depth ?? 0) + 1}
              onRemove={all.length > 1 ? () => ctx.onChange([...path, kind], all.filter((_, j) => j !== i)) : undefined}
            />
          ))}
          <button
            type="button"
            onClick={() => ctx.onChange([...path, kind], [...((value as Record<string, FlowConstraint[]>)[kind] ?? []), newCondition()])}
            data-testid={`constraint-${key}-add`}
          >
            + Condition
          </button>
        </div>
      )}
      {kind === 'not' && 'not' in value && (
        <div className="constraint-children">
          <ConstraintEditor value={value.not} path={[...path, 'not']} ctx={ctx} depth={(props.depth ?? 0) + 1} />
        </div>
      )}
    </div>
  );
}

function Condition(props: {
  value: Extract<FlowConstraint, { attribute: string }>;
  path: FieldPath;
  ctx: ConstraintContext;
  id: string;
  problemsAt(p: FieldPath): FlowProblem[];
}) {
  const { value, path, ctx, id, problemsAt } = props;
  const key = path.join('.');
  const listId = `${id}-members`;
  const setOp = (op: Op) => {
    // "in" takes a list of expressions, the others one.
    const next = op === 'in' ? (Array.isArray(value.value) ? value.value : value.value ? [value.value] : ['']) : Array.isArray(value.value) ? (value.value[0] ?? '') : value.value;
    ctx.onChange(path, { ...value, op, value: next });
  };
  const values = Array.isArray(value.value) ? value.value : null;
  return (
    <div className="constraint-condition">
      <div className="row">
        <input
          className={`mono constraint-attribute${problemsAt([...path, 'attribute']).length ? ' invalid' : ''}`}
          value={value.attribute}
          list={ctx.members.length ? listId : undefined}
          placeholder="attribute"
          aria-label="Attribute"
          onChange={(e) => ctx.onChange([...path, 'attribute'], e.target.value, true)}
          onBlur={ctx.onBlur}
          data-testid={`constraint-${key}-attribute`}
        />
        {ctx.members.length > 0 && (
          <datalist id={listId}>
            {ctx.members.map((m) => (
              <option key={m} value={m} />
            ))}
          </datalist>
        )}
        <select value={value.op} aria-label="Comparison" onChange={(e) => setOp(e.target.value as Op)} data-testid={`constraint-${key}-op`}>
          {COMPARISON_OPS.map((op) => (
            <option key={op} value={op}>
              {OP_LABELS[op] ?? op}
            </option>
          ))}
        </select>
      </div>
      {[...problemsAt([...path, 'attribute']), ...problemsAt([...path, 'op'])].map((p, i) => (
        <div key={i} className="field-error">
          {p.message}
        </div>
      ))}
      {values === null ? (
        <ExpressionInput
          id={`${id}-value`}
          value={typeof value.value === 'string' ? value.value : ''}
          onChange={(v) => ctx.onChange([...path, 'value'], v, true)}
          onBlur={ctx.onBlur}
          problems={problemsAt([...path, 'value'])}
          testid={`constraint-${key}-value`}
        />
      ) : (
        <>
          {values.map((v, i) => (
            <div key={i} className="row constraint-in">
              <ExpressionInput
                id={`${id}-value-${i}`}
                value={v}
                onChange={(x) => ctx.onChange([...path, 'value', i], x, true)}
                onBlur={ctx.onBlur}
                problems={problemsAt([...path, 'value', i])}
                testid={`constraint-${key}-value-${i}`}
              />
              {values.length > 1 && (
                <button type="button" className="link" onClick={() => ctx.onChange([...path, 'value'], values.filter((_, j) => j !== i))} aria-label={`Remove value ${i + 1}`}>
                  remove
                </button>
              )}
            </div>
          ))}
          {problemsAt([...path, 'value']).map((p, i) => (
            <div key={i} className="field-error">
              {p.message}
            </div>
          ))}
          <button type="button" onClick={() => ctx.onChange([...path, 'value'], [...values, ''])}>
            + Value
          </button>
        </>
      )}
    </div>
  );
}
