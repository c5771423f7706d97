/**
 * Edits one value by its form spec (read from the flow format's zod schema): texts by role
 * (expressions are parsed as you type, variables and entities are offered), enums, numbers,
 * lists, records, variants (a retrieve's source, a data type) and, for what has no simpler
 * form (a constraint tree), JSON.
 */
import { useEffect, useId, useState } from 'react';
import type { FlowProblem } from '../../../../src/flow/validateFlow.ts';
import { defaultValue, type FieldSpec } from '../../flow/formSpec.ts';
import { humanize } from '../../flow/kinds.ts';
import { formatPath } from '../../flow/validation.ts';
import type { DeclaredVariable } from '../../flow/variables.ts';
import type { FieldPath } from '../../store/editorStore.ts';
import type { FlowConstraint } from '../../../../src/flow/format.ts';
import { ConstraintEditor } from './ConstraintEditor.tsx';
import { ExpressionInput } from './ExpressionInput.tsx';

export interface FormContext {
  /** The edited object's path in the flow, for its problems: `nodes[3]`, or '' for the flow. */
  problemPrefix: string;
  problems: readonly FlowProblem[];
  variables: readonly DeclaredVariable[];
  entities: readonly string[];
  /** The app's sync profile names (a Run profile's field offers them). */
  profiles: readonly string[];
  membersOf(entity: string): string[];
  /** The edited object (a node): lets member fields find their entity. */
  root: unknown;
  onChange(path: FieldPath, value: unknown, typing?: boolean): void;
  onBlur(): void;
}

export function pathKey(path: FieldPath): string {
  return path.length ? path.join('.') : 'root';
}

function fieldProblems(ctx: FormContext, path: FieldPath): FlowProblem[] {
  const full = formatPath(ctx.problemPrefix, path);
  return ctx.problems.filter((p) => p.path === full);
}

function get(root: unknown, path: FieldPath): unknown {
  let here = root;
  for (const key of path) here = here && typeof here === 'object' ? (here as Record<string | number, unknown>)[key] : undefined;
  return here;
}

/** The entity a member field belongs to: the nearest `entity` beside or above it, or its variable's entity. */
function entityFor(ctx: FormContext, path: FieldPath): string | undefined {
  for (let i = path.length - 1; i >= 0; i--) {
    const here = get(ctx.root, path.slice(0, i));
    if (here && typeof here === 'object') {
      const h = here as Record<string, unknown>;
      if (typeof h.entity === 'string') return h.entity;
      if (typeof h.variable === 'string') {
        const t = ctx.variables.find((v) => v.name === h.variable)?.type;
        if (t && (t.kind === 'object' || t.kind === 'list')) return t.entity;
      }
    }
  }
  return undefined;
}

export function FieldEditor(props: { spec: FieldSpec; value: unknown; path: FieldPath; optional?: boolean; label?: string; ctx: FormContext }) {
  const { spec, value, path, ctx } = props;
  const id = useId();
  const key = pathKey(path);
  const label = props.label ?? humanize(String(path[path.length - 1] ?? ''));
  const problems = fieldProblems(ctx, path);
  const description = 'description' in spec ? spec.description : undefined;
  if (spec.kind === 'literal') return null;

  const absent = value === undefined;
  // An absent optional list is edited as an empty one (removing the last item leaves the field out).
  const canAdd = props.optional && absent && ['object', 'variant', 'json', 'record', 'count', 'number', 'constraint'].includes(spec.kind);
  const remove = props.optional && !absent && ['object', 'variant', 'json', 'record', 'count', 'number', 'constraint'].includes(spec.kind);

  const header = (
    <div className="field-label">
      <label htmlFor={id} title={description}>
        {label}
        {props.optional ? <span className="optional"> (optional)</span> : null}
      </label>
      {remove && (
        <button type="button" className="link" onClick={() => ctx.onChange(path, undefined)} aria-label={`Remove ${label}`}>
          remove
        </button>
      )}
    </div>
  );

  if (canAdd) {
    return (
      <div className="field" data-testid={`field-${key}`}>
        <div className="field-label">
          <span title={description}>
            {label} <span className="optional">(optional)</span>
          </span>
          <button type="button" className="link" onClick={() => ctx.onChange(path, defaultValue(spec))} data-testid={`field-${key}-add`}>
            + add
          </button>
        </div>
        {problems.map((p, i) => (
          <div key={i} className="field-error" data-testid={`field-${key}-problem`}>
            {p.message}
          </div>
        ))}
      </div>
    );
  }

  const problemList = problems.map((p, i) => (
    <div key={i} className="field-error" data-testid={`field-${key}-problem`}>
      {p.message}
    </div>
  ));

  switch (spec.kind) {
    case 'text': {
      const text = typeof value === 'string' ? value : '';
      const change = (v: string) => ctx.onChange(path, v === '' && props.optional ? undefined : v, true);
      if (spec.role === 'expression') {
        return (
          <div className="field" data-testid={`field-${key}`}>
            {header}
            <ExpressionInput id={id} value={text} onChange={change} onBlur={ctx.onBlur} problems={problems} testid={`field-${key}`} />
          </div>
        );
      }
      if (spec.role === 'entity') {
        const options = ctx.entities.includes(text) || text === '' ? ctx.entities : [text, ...ctx.entities];
        return (
          <div className="field" data-testid={`field-${key}`}>
            {header}
            <select id={id} value={text} onChange={(e) => ctx.onChange(path, e.target.value === '' && props.optional ? undefined : e.target.value)}>
              <option value="">(choose an entity)</option>
              {options.map((e) => (
                <option key={e} value={e}>
                  {e}
                </option>
              ))}
            </select>
            {problemList}
          </div>
        );
      }
      const listId = `${id}-options`;
      const options =
        spec.role === 'variable'
          ? ctx.variables.map((v) => v.name)
          : spec.role === 'member'
            ? ctx.membersOf(entityFor(ctx, path) ?? '')
            : spec.role === 'profile'
              ? [...ctx.profiles]
              : [];
      return (
        <div className="field" data-testid={`field-${key}`}>
          {header}
          <input
            id={id}
            className={`${spec.role === 'variable' ? 'mono' : ''}${problems.length ? ' invalid' : ''}`}
            value={text}
            list={options.length ? listId : undefined}
            spellCheck={false}
            autoComplete="off"
            placeholder={spec.role === 'variable' ? 'variable name, without $' : undefined}
            onChange={(e) => change(e.target.value)}
            onBlur={ctx.onBlur}
            data-testid={`field-${key}-input`}
          />
          {options.length > 0 && (
            <datalist id={listId}>
              {options.map((o) => (
                <option key={o} value={o} />
              ))}
            </datalist>
          )}
          {problemList}
        </div>
      );
    }
    case 'number':
      return (
        <div className="field" data-testid={`field-${key}`}>
          {header}
          <input id={id} type="number" value={typeof value === 'number' ? value : ''} onChange={(e) => ctx.onChange(path, e.target.value === '' ? undefined : Number(e.target.value), true)} onBlur={ctx.onBlur} />
          {problemList}
        </div>
      );
    case 'count': {
      const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value : '';
      return (
        <div className="field" data-testid={`field-${key}`}>
          {header}
          <input
            id={id}
            className="mono"
            value={text}
            placeholder="a number or an expression"
            onChange={(e) => {
              const v = e.target.value;
              ctx.onChange(path, v === '' ? (props.optional ? undefined : 0) : /^\d+$/.test(v) ? Number(v) : v, true);
            }}
            onBlur={ctx.onBlur}
          />
          {problemList}
        </div>
      );
    }
    case 'boolean':
      return (
        <div className="field field-inline" data-testid={`field-${key}`}>
          <input id={id} type="checkbox" checked={value === true} onChange={(e) => ctx.onChange(path, e.target.checked ? true : props.optional ? undefined : false)} />
          <label htmlFor={id} title={description}>
            {label}
          </label>
          {problemList}
        </div>
      );
    case 'enum':
      return (
        <div className="field" data-testid={`field-${key}`}>
          {header}
          <select id={id} value={typeof value === 'string' ? value : ''} onChange={(e) => ctx.onChange(path, e.target.value === '' ? undefined : e.target.value)} data-testid={`field-${key}-select`}>
            {props.optional && <option value="">(default)</option>}
            {spec.values.map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
          </select>
          {problemList}
        </div>
      );
    case 'object':
      return (
        <fieldset className="field group" data-testid={`field-${key}`}>
          <legend title={description}>{label}</legend>
          <ObjectFields spec={spec} value={value} path={path} ctx={ctx} />
          {problemList}
        </fieldset>
      );
    case 'variant': {
      const current = (value as Record<string, unknown> | undefined)?.[spec.discriminator];
      const option = spec.options.find((o) => o.value === current);
      return (
        <fieldset className="field group" data-testid={`field-${key}`}>
          <legend title={description}>{label}</legend>
          <div className="field-label">
            <label htmlFor={id}>{humanize(spec.discriminator)}</label>
            {remove && (
              <button type="button" className="link" onClick={() => ctx.onChange(path, undefined)}>
                remove
              </button>
            )}
          </div>
          <select
            id={id}
            value={String(current ?? '')}
            onChange={(e) => ctx.onChange(path, defaultValue(spec.options.find((o) => o.value === e.target.value)!.spec))}
            data-testid={`field-${key}-select`}
          >
            {!option && <option value="">(choose)</option>}
            {spec.options.map((o) => (
              <option key={o.value} value={o.value}>
                {o.value}
              </option>
            ))}
          </select>
          {option && <ObjectFields spec={option.spec} value={value} path={path} ctx={ctx} />}
          {problemList}
        </fieldset>
      );
    }
    case 'array':
      if (spec.element.kind === 'text' && spec.element.role === 'variable') {
        return <VariableList id={id} label={label} value={Array.isArray(value) ? (value as string[]) : []} path={path} optional={props.optional} ctx={ctx} />;
      }
      return <ListEditor spec={spec} label={label} value={Array.isArray(value) ? value : []} path={path} optional={props.optional} ctx={ctx} />;
    case 'record':
      return <RecordEditor spec={spec} label={label} value={(value ?? {}) as Record<string, unknown>} path={path} ctx={ctx} remove={remove} />;
    case 'constraint':
      return (
        <fieldset className="field group" data-testid={`field-${key}`}>
          <legend title={description}>{label}</legend>
          {remove && (
            <div className="field-label">
              <span className="hint">{description}</span>
              <button type="button" className="link" onClick={() => ctx.onChange(path, undefined)} aria-label={`Remove ${label}`} data-testid={`field-${key}-remove`}>
                remove
              </button>
            </div>
          )}
          <ConstraintEditor
            value={value as FlowConstraint}
            path={path}
            ctx={{ problemPrefix: ctx.problemPrefix, problems: ctx.problems, members: ctx.membersOf(entityFor(ctx, path) ?? ''), onChange: ctx.onChange, onBlur: ctx.onBlur }}
          />
        </fieldset>
      );
    case 'json':
      return (
        <div className="field" data-testid={`field-${key}`}>
          {header}
          <JsonEditor id={id} value={value} onChange={(v) => ctx.onChange(path, v)} />
          {ctx.problems
            .filter((p) => p.path.startsWith(formatPath(ctx.problemPrefix, path)))
            .map((p, i) => (
              <div key={i} className="field-error">
                {p.path.slice(formatPath(ctx.problemPrefix, path).length)} {p.message}
              </div>
            ))}
        </div>
      );
  }
}

export function ObjectFields(props: { spec: Extract<FieldSpec, { kind: 'object' }>; value: unknown; path: FieldPath; ctx: FormContext; skip?: readonly string[] }) {
  const value = (props.value ?? {}) as Record<string, unknown>;
  return (
    <>
      {props.spec.fields
        .filter((f) => f.spec.kind !== 'literal' && !props.skip?.includes(f.key))
        .map((f) => (
          <FieldEditor key={f.key} spec={f.spec} value={value[f.key]} path={[...props.path, f.key]} optional={f.optional} ctx={props.ctx} />
        ))}
    </>
  );
}

/** Variables of objects and lists to pick (commit, delete, synchronize ...), plus any name typed in. */
function VariableList(props: { id: string; label: string; value: string[]; path: FieldPath; optional?: boolean; ctx: FormContext }) {
  const { value, path, ctx } = props;
  const key = pathKey(path);
  const [extra, setExtra] = useState('');
  const candidates = ctx.variables.filter((v) => v.type.kind === 'object' || v.type.kind === 'list' || v.type.kind === 'unknown').map((v) => v.name);
  const shown = [...candidates, ...value.filter((v) => !candidates.includes(v))];
  const set = (next: string[]) => ctx.onChange(path, next.length === 0 && props.optional ? undefined : next);
  const problems = ctx.problems.filter((p) => p.path.startsWith(formatPath(ctx.problemPrefix, path)));
  return (
    <fieldset className="field group" data-testid={`field-${key}`}>
      <legend>{props.label}</legend>
      {shown.length === 0 && <div className="hint">No object or list variables yet.</div>}
      {shown.map((name) => (
        <label key={name} className="field-inline">
          <input
            type="checkbox"
            checked={value.includes(name)}
            onChange={(e) => set(e.target.checked ? [...value, name] : value.filter((v) => v !== name))}
            data-testid={`field-${key}-var-${name}`}
          />
          <span className="mono">${name}</span>
          {!candidates.includes(name) && <span className="hint"> (not declared)</span>}
        </label>
      ))}
      <div className="row">
        <input
          className="mono"
          value={extra}
          placeholder="another variable"
          aria-label={`Add a variable to ${props.label}`}
          onChange={(e) => setExtra(e.target.value.replace(/^\$/, ''))}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && extra) {
              set([...value, extra]);
              setExtra('');
            }
          }}
        />
        <button
          type="button"
          disabled={!extra || value.includes(extra)}
          onClick={() => {
            set([...value, extra]);
            setExtra('');
          }}
        >
          Add
        </button>
      </div>
      {problems.map((p, i) => (
        <div key={i} className="field-error" data-testid={`field-${key}-problem`}>
          {p.message}
        </div>
      ))}
    </fieldset>
  );
}

function ListEditor(props: { spec: Extract<FieldSpec, { kind: 'array' }>; label: string; value: unknown[]; path: FieldPath; optional?: boolean; ctx: FormContext }) {
  const { spec, value, path, ctx } = props;
  return (
    <fieldset className="field group" data-testid={`field-${pathKey(path)}`}>
      <legend title={spec.description}>{props.label}</legend>
      {value.map((item, i) => (
        <div key={i} className="list-item">
          <FieldEditor spec={spec.element} value={item} path={[...path, i]} label={`${props.label.replace(/s$/, '')} ${i + 1}`} ctx={ctx} />
          <button type="button" className="link" onClick={() => ctx.onChange(path, value.length === 1 && props.optional ? undefined : value.filter((_, j) => j !== i))}>
            remove
          </button>
        </div>
      ))}
      <button type="button" onClick={() => ctx.onChange(path, [...value, defaultValue(spec.element)])} data-testid={`field-${pathKey(path)}-add`}>
        + Add
      </button>
    </fieldset>
  );
}

function RecordEditor(props: { spec: Extract<FieldSpec, { kind: 'record' }>; label: string; value: Record<string, unknown>; path: FieldPath; ctx: FormContext; remove?: boolean }) {
  const { spec, value, path, ctx } = props;
  const [name, setName] = useState('');
  const listId = useId();
  const members = path[path.length - 1] === 'values' ? ctx.membersOf(entityFor(ctx, [...path, '*']) ?? '') : [];
  const add = () => {
    if (!name || Object.hasOwn(value, name)) return;
    ctx.onChange([...path, name], defaultValue(spec.value));
    setName('');
  };
  return (
    <fieldset className="field group" data-testid={`field-${pathKey(path)}`}>
      <legend title={spec.description}>{props.label}</legend>
      {Object.entries(value).map(([k, v]) => (
        <div key={k} className="list-item">
          <FieldEditor spec={spec.value} value={v} path={[...path, k]} label={k} ctx={ctx} />
          <button type="button" className="link" onClick={() => ctx.onChange([...path, k], undefined)} aria-label={`Remove ${k}`}>
            remove
          </button>
        </div>
      ))}
      <div className="row">
        <input value={name} list={members.length ? listId : undefined} placeholder="name" aria-label={`New entry of ${props.label}`} onChange={(e) => setName(e.target.value)} onKeyDown={(e) => e.key === 'Enter' && add()} />
        {members.length > 0 && (
          <datalist id={listId}>
            {members.map((m) => (
              <option key={m} value={m} />
            ))}
          </datalist>
        )}
        <button type="button" onClick={add} disabled={!name || Object.hasOwn(value, name)}>
          Add
        </button>
      </div>
    </fieldset>
  );
}

function JsonEditor(props: { id: string; value: unknown; onChange(value: unknown): void }) {
  const text = JSON.stringify(props.value ?? null, null, 2);
  const [draft, setDraft] = useState(text);
  const [focused, setFocused] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!focused) setDraft(text);
  }, [text, focused]);
  return (
    <>
      <textarea
        id={props.id}
        className="mono"
        rows={Math.min(10, draft.split('\n').length + 1)}
        value={draft}
        spellCheck={false}
        onFocus={() => setFocused(true)}
        onBlur={() => setFocused(false)}
        onChange={(e) => {
          setDraft(e.target.value);
          try {
            const v = JSON.parse(e.target.value) as unknown;
            setError(null);
            props.onChange(v);
          } catch (err) {
            setError(err instanceof Error ? err.message : String(err));
          }
        }}
      />
      {error && <div className="field-error">{error}</div>}
    </>
  );
}
