/** The property panel: the selected node's fields, the selected edge's, or the flow's own. */
import { useMemo, useState, type ReactNode } from 'react';
import { ERROR_HANDLING, flowSchema, type ErrorHandling, type Flow, type FlowEdge, type FlowNode } from '../../../src/flow/format.ts';
import { memberNamesOf } from '../../../src/flow/expressions/types.ts';
import type { FlowProblem } from '../../../src/flow/validateFlow.ts';
import { formSpec, type FieldSpec } from '../flow/formSpec.ts';
import { edgeKeys } from '../flow/graph.ts';
import { activityLabel, activitySpec, hasActivityForm, humanize, nodeOption } from '../flow/kinds.ts';
import { declaredVariables } from '../flow/variables.ts';
import type { FieldPath } from '../store/editorStore.ts';
import { NOTE, profileNamesOf, validationOf } from '../store/editorStore.ts';
import { useRun, useRunStore } from '../run/useRun.ts';
import { useApp, useEditor, useEditorStore } from '../store/useEditor.ts';
import { FieldEditor, ObjectFields, type FormContext } from './fields/FieldEditor.tsx';

export const ERROR_HANDLING_LABELS: Record<ErrorHandling, string> = {
  abort: 'Abort (default)',
  customWithRollback: 'Custom with rollback',
  customWithoutRollback: 'Custom without rollback',
  continue: 'Continue',
};

/** Fields every node has, edited above the kind's own. */
const COMMON = ['id', 'type', 'caption', 'position', 'parent', 'activity', 'errorHandling'];

const flowSpec = formSpec(flowSchema) as Extract<FieldSpec, { kind: 'object' }>;

export function PropertyPanel() {
  const flow = useEditor((s) => s.flow);
  const selection = useEditor((s) => s.selection);
  if (!flow) return <div className="panel-empty">Open a flow from the list, or create one.</div>;
  const note = selection.nodes.length === 1 ? flow.annotations?.find((a) => `${NOTE}${a.id}` === selection.nodes[0]) : undefined;
  if (note) return <AnnotationProperties key={note.id} id={note.id} text={note.text} />;
  const node = selection.nodes.length === 1 ? flow.nodes.find((n) => n.id === selection.nodes[0]) : undefined;
  if (node) return <NodeProperties key={node.id} flow={flow} node={node} />;
  if (selection.nodes.length > 1) return <div className="panel-empty">{selection.nodes.length} nodes selected. Delete removes them all.</div>;
  if (selection.edges.length === 1) {
    const index = edgeKeys(flow.edges).indexOf(selection.edges[0]);
    if (index >= 0) return <EdgeProperties flow={flow} edge={flow.edges[index]} edgeKey={selection.edges[0]} index={index} />;
  }
  return <FlowProperties flow={flow} />;
}

function useProblems(): readonly FlowProblem[] {
  const validation = useEditor((s) => validationOf(s));
  const server = useEditor((s) => s.serverProblems);
  return useMemo(() => [...(validation?.problems ?? []), ...server], [validation, server]);
}

function useFormContext(flow: Flow, root: unknown, problemPrefix: string, onChange: FormContext['onChange']): FormContext {
  const store = useEditorStore();
  const problems = useProblems();
  const app = useApp();
  const variables = useMemo(() => declaredVariables(flow, app.schema), [flow, app]);
  const entities = useMemo(() => Object.keys(app.schema.entities), [app]);
  const membersOf = useMemo(() => (entity: string) => (entity ? memberNamesOf(app.schema, entity) : []), [app]);
  return {
    problemPrefix,
    problems,
    variables,
    entities,
    profiles: profileNamesOf(app),
    membersOf,
    root,
    onChange,
    onBlur: () => store.getState().endCoalescing(),
  };
}

function Section(props: { title: ReactNode; children: ReactNode; testid?: string }) {
  return (
    <section className="panel-section" data-testid={props.testid}>
      <h3>{props.title}</h3>
      {props.children}
    </section>
  );
}

function NodeProperties({ flow, node }: { flow: Flow; node: FlowNode }) {
  const store = useEditorStore();
  const index = flow.nodes.findIndex((n) => n.id === node.id);
  const change = (path: FieldPath, value: unknown, typing?: boolean) => {
    const s = store.getState();
    // Synchronize's variables only mean something in mode selected: leaving it drops them.
    if (node.type === 'activity' && node.activity.type === 'synchronize' && path.join('.') === 'activity.mode' && value !== 'selected') {
      s.edit(`edit ${node.id} activity.mode`, (f) => {
        const n = f.nodes.find((x) => x.id === node.id);
        if (n?.type === 'activity' && n.activity.type === 'synchronize') {
          n.activity.mode = value as 'all' | 'unsynchronized';
          delete n.activity.variables;
        }
      });
      return;
    }
    s.setNodeField(node.id, path, value, typing ? `${node.id}:${path.join('.')}` : undefined);
  };
  const ctx = useFormContext(flow, node, `nodes[${index}]`, change);
  const own = ctx.problems.filter((p) => p.path === `nodes[${index}]` || (p.nodeId === node.id && !p.path.startsWith('nodes[')));
  const loops = flow.nodes.filter((n) => n.type === 'loop' && n.id !== node.id);
  // A node or activity of a type the format does not know (a broken file) is edited as JSON.
  const nodeSpec = useMemo(() => {
    const option = nodeOption(node.type);
    return option ? (formSpec(option) as Extract<FieldSpec, { kind: 'object' }>) : null;
  }, [node.type]);
  const knownActivity = node.type === 'activity' && hasActivityForm(String(node.activity?.type));
  const title = node.type === 'activity' ? activityLabel(String(node.activity?.type)) : humanize(String(node.type));

  return (
    <div className="properties" data-testid="properties" data-node={node.id}>
      <h2>
        {title} <span className="muted mono">{node.id}</span>
      </h2>
      {own.map((p, i) => (
        <div key={i} className="field-error" data-testid="node-problem-message">
          {p.message}
        </div>
      ))}
      <Section title="Node">
        <RenameField node={node} flow={flow} />
        <FieldEditor spec={{ kind: 'text', role: 'text' }} value={node.caption} path={['caption']} optional ctx={ctx} />
        {node.type !== 'start' && (loops.length > 0 || node.parent) && (
          <div className="field" data-testid="field-parent">
            <label htmlFor={`${node.id}-parent`}>Inside loop</label>
            <select id={`${node.id}-parent`} value={node.parent ?? ''} onChange={(e) => change(['parent'], e.target.value || undefined)}>
              <option value="">(none)</option>
              {loops.map((l) => (
                <option key={l.id} value={l.id}>
                  {l.id}
                </option>
              ))}
              {node.parent && !loops.some((l) => l.id === node.parent) && <option value={node.parent}>{node.parent}</option>}
            </select>
          </div>
        )}
      </Section>
      {!nodeSpec ? (
        <Section title="Definition (JSON)">
          <FieldEditor spec={{ kind: 'json' }} value={node} path={[]} label="JSON" ctx={ctx} />
        </Section>
      ) : node.type === 'activity' ? (
        <>
          {knownActivity ? (
            <Section title={activityLabel(node.activity.type)} testid="activity-fields">
              <p className="hint">{activitySpec(node.activity.type).description}</p>
              <ObjectFields
                spec={activitySpec(node.activity.type)}
                value={node.activity}
                path={['activity']}
                ctx={ctx}
                // Synchronize picks variables only in mode selected.
                skip={node.activity.type === 'synchronize' && node.activity.mode !== 'selected' && !node.activity.variables ? ['variables'] : undefined}
              />
            </Section>
          ) : (
            // A kind the format has no schema for (or none at all): its definition as JSON.
            <Section title={`${activityLabel(String(node.activity?.type))} (JSON)`} testid="activity-fields">
              <FieldEditor spec={{ kind: 'json' }} value={node.activity} path={['activity']} label="Activity" ctx={ctx} />
            </Section>
          )}
          <Section title="Error handling">
            <ErrorHandlingField
              flow={flow}
              node={node}
              problems={ctx.problems.filter((p) => p.path === `nodes[${index}].errorHandling`)}
              onChange={(v) => change(['errorHandling'], v === 'abort' ? undefined : v)}
            />
          </Section>
        </>
      ) : (
        nodeSpec.fields.some((f) => !COMMON.includes(f.key)) && (
          <Section title={humanize(node.type)}>
            <ObjectFields spec={nodeSpec} value={node} path={[]} ctx={ctx} skip={COMMON} />
          </Section>
        )
      )}
      <Section title="Edges">
        <NodeEdges flow={flow} node={node} />
      </Section>
      <div className="row">
        <BreakpointToggle nodeId={node.id} />
        <button type="button" className="danger" onClick={() => store.getState().deleteSelection()} data-testid="delete-node" title="Delete (Del)">
          Delete node
        </button>
      </div>
    </div>
  );
}

/** An annotation: its text (saved with the flow). */
function AnnotationProperties({ id, text }: { id: string; text: string }) {
  const store = useEditorStore();
  return (
    <div className="properties" data-testid="annotation-properties">
      <h2>
        Annotation <span className="muted mono">{id}</span>
      </h2>
      <div className="field">
        <label htmlFor={`annotation-${id}`}>Text</label>
        <textarea
          id={`annotation-${id}`}
          rows={6}
          value={text}
          onChange={(e) => store.getState().setAnnotationText(id, e.target.value, `annotation-${id}`)}
          onBlur={() => store.getState().endCoalescing()}
          data-testid="annotation-text"
        />
      </div>
      <div className="row">
        <button type="button" className="danger" onClick={() => store.getState().deleteSelection()} data-testid="delete-annotation">
          Delete annotation
        </button>
      </div>
    </div>
  );
}

/** Focuses an element once it is rendered (a few frames at most). */
export function focusWhenThere(selector: string, frames = 30): void {
  const el = document.querySelector<HTMLElement>(selector);
  if (el) el.focus();
  else if (frames > 0) requestAnimationFrame(() => focusWhenThere(selector, frames - 1));
}

/** A breakpoint on the node: a run pauses before it (F9). */
function BreakpointToggle({ nodeId }: { nodeId: string }) {
  const run = useRunStore();
  const on = useRun((s) => s.breakpoints.includes(nodeId));
  return (
    <button type="button" aria-pressed={on} onClick={() => run.getState().toggleBreakpoint(nodeId)} title="Pause a run before this node (F9)" data-testid="toggle-breakpoint">
      {on ? '● Breakpoint' : '○ Breakpoint'}
    </button>
  );
}

function RenameField({ node, flow }: { node: FlowNode; flow: Flow }) {
  const store = useEditorStore();
  const [draft, setDraft] = useState(node.id);
  const taken = draft !== node.id && flow.nodes.some((n) => n.id === draft);
  const commit = () => {
    if (draft && !taken && draft !== node.id) store.getState().renameNode(node.id, draft);
    // A taken id stays in the field with its error (it does not silently revert): the author picks another.
    else if (taken) store.getState().setNotice({ kind: 'error', text: `Not renamed: another node has the id "${draft}"` });
    else setDraft(node.id);
  };
  return (
    <div className="field" data-testid="field-id">
      <label htmlFor={`${node.id}-rename`}>Id</label>
      <input
        id={`${node.id}-rename`}
        className="mono"
        value={draft}
        aria-invalid={taken}
        aria-describedby={taken ? `${node.id}-rename-error` : undefined}
        onChange={(e) => setDraft(e.target.value.trim())}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit();
          if (e.key === 'Escape') setDraft(node.id);
        }}
        data-testid="field-id-input"
      />
      {taken && (
        <div id={`${node.id}-rename-error`} className="field-error" role="alert" data-testid="field-id-error">
          Not renamed: another node has the id "{draft}" (Escape keeps "{node.id}")
        </div>
      )}
    </div>
  );
}

function ErrorHandlingField(props: { flow: Flow; node: Extract<FlowNode, { type: 'activity' }>; problems: readonly FlowProblem[]; onChange(v: ErrorHandling): void }) {
  const { flow, node, onChange } = props;
  const value = node.errorHandling ?? 'abort';
  const custom = value === 'customWithRollback' || value === 'customWithoutRollback';
  const hasHandler = flow.edges.some((e) => e.from === node.id && e.errorHandler);
  return (
    <div className="field" data-testid="field-errorHandling">
      <label htmlFor={`${node.id}-errorHandling`}>When the activity fails</label>
      <select id={`${node.id}-errorHandling`} value={value} onChange={(e) => onChange(e.target.value as ErrorHandling)} data-testid="field-errorHandling-select">
        {ERROR_HANDLING.map((h) => (
          <option key={h} value={h}>
            {ERROR_HANDLING_LABELS[h]}
          </option>
        ))}
      </select>
      <div className="hint" data-testid="field-errorHandling-hint">
        {value === 'abort' && 'The flow stops with the error (its uncommitted work is rolled back).'}
        {value === 'continue' && 'The flow goes on as if nothing happened; $latestError holds the error.'}
        {custom &&
          (hasHandler
            ? 'The error-handler edge (red) leads to the handling path; $latestError holds the error.'
            : 'Draw the error-handler edge from the red handle at the bottom of the node to the handling path.')}
        {value === 'customWithRollback' && ' The changes of the flow are rolled back first.'}
      </div>
      {props.problems.map((p, i) => (
        <div key={i} className="field-error" data-testid="field-errorHandling-problem">
          {forTheCanvas(p.message)}
        </div>
      ))}
    </div>
  );
}

/** The validator speaks of the file (`"errorHandler": true`); on the canvas, name the handle to draw it from. */
function forTheCanvas(message: string): string {
  return message.replace('(an edge with "errorHandler": true)', '(draw it from the red handle at the bottom of the node)');
}

/** The node's edges, and connecting it from the keyboard. */
function NodeEdges({ flow, node }: { flow: Flow; node: FlowNode }) {
  const store = useEditorStore();
  const keys = edgeKeys(flow.edges);
  const targets = flow.nodes.filter((n) => n.id !== node.id && n.type !== 'start');
  const [target, setTarget] = useState('');
  const [asError, setAsError] = useState(false);
  const canError = node.type === 'activity';
  const canOut = node.type !== 'end' && node.type !== 'break' && node.type !== 'continue';
  const edges = flow.edges.map((e, i) => ({ e, key: keys[i] })).filter(({ e }) => e.from === node.id || e.to === node.id);
  return (
    <>
      <ul className="edge-list">
        {edges.map(({ e, key }) => (
          <li key={key}>
            <button type="button" className="link mono" onClick={() => store.getState().select({ nodes: [], edges: [key] })}>
              {e.from === node.id ? `→ ${e.to}` : `← ${e.from}`}
              {e.errorHandler ? ' (error)' : ''}
              {e.case !== undefined ? ` [${JSON.stringify(e.case)}]` : ''}
            </button>
          </li>
        ))}
        {edges.length === 0 && <li className="hint">No edges.</li>}
      </ul>
      {canOut && (
        <div className="row">
          <select value={target} onChange={(e) => setTarget(e.target.value)} aria-label="Connect to node" data-testid="connect-target">
            <option value="">connect to…</option>
            {targets.map((n) => (
              <option key={n.id} value={n.id}>
                {n.id}
              </option>
            ))}
          </select>
          {canError && (
            <label className="field-inline">
              <input type="checkbox" checked={asError} onChange={(e) => setAsError(e.target.checked)} /> error
            </label>
          )}
          <button
            type="button"
            disabled={!target}
            onClick={() => {
              store.getState().connect(node.id, target, { errorHandler: asError });
              setTarget('');
              // The new edge is selected: focus follows it into its panel, not to the top of the page.
              focusWhenThere('[data-testid="edge-properties"] h2');
            }}
            data-testid="connect"
          >
            Connect
          </button>
        </div>
      )}
    </>
  );
}

function EdgeProperties({ flow, edge, edgeKey, index }: { flow: Flow; edge: FlowEdge; edgeKey: string; index: number }) {
  const store = useEditorStore();
  const problems = useProblems().filter((p) => p.path.startsWith(`edges[${index}]`));
  const source = flow.nodes.find((n) => n.id === edge.from);
  const caseValue = edge.case === undefined ? '' : JSON.stringify(edge.case);
  const [text, setText] = useState(typeof edge.case === 'string' ? edge.case : '');
  return (
    <div className="properties" data-testid="edge-properties">
      <h2 tabIndex={-1}>
        Edge <span className="muted mono">{edge.from} → {edge.to}</span>
      </h2>
      {problems.map((p, i) => (
        <div key={i} className="field-error">
          {p.path}: {p.message}
        </div>
      ))}
      {source?.type === 'decision' && (
        <div className="field">
          <label htmlFor="edge-case">Case (the decision’s value this edge is taken for)</label>
          <select
            id="edge-case"
            value={['true', 'false', 'null', ''].includes(caseValue) ? caseValue : 'text'}
            onChange={(e) => {
              const v = e.target.value;
              store.getState().setEdgeField(edgeKey, 'case', v === '' ? undefined : v === 'text' ? text || 'value' : JSON.parse(v));
            }}
            data-testid="edge-case"
          >
            <option value="">(none)</option>
            <option value="true">true</option>
            <option value="false">false</option>
            <option value="null">empty</option>
            <option value="text">an enumeration value…</option>
          </select>
          {typeof edge.case === 'string' && (
            <input
              value={text}
              aria-label="Enumeration value"
              onChange={(e) => {
                setText(e.target.value);
                store.getState().setEdgeField(edgeKey, 'case', e.target.value);
              }}
            />
          )}
        </div>
      )}
      {source?.type === 'activity' && (
        <div className="field field-inline">
          <input id="edge-error" type="checkbox" checked={edge.errorHandler === true} onChange={(e) => store.getState().setEdgeField(edgeKey, 'errorHandler', e.target.checked)} data-testid="edge-errorHandler" />
          <label htmlFor="edge-error">Error handler (taken when the activity fails, with custom error handling)</label>
        </div>
      )}
      <div className="row">
        <button type="button" className="danger" onClick={() => store.getState().deleteSelection()} data-testid="delete-edge" title="Delete (Del)">
          Delete edge
        </button>
      </div>
    </div>
  );
}

function FlowProperties({ flow }: { flow: Flow }) {
  const store = useEditorStore();
  const ctx = useFormContext(flow, flow, '', (path, value, typing) => store.getState().setFlowField(path, value, typing ? `flow:${path.join('.')}` : undefined));
  const general = ctx.problems.filter((p) => !p.nodeId && !p.path.startsWith('edges['));
  return (
    <div className="properties" data-testid="flow-properties">
      <h2>
        Flow <span className="muted mono">{flow.name}</span>
      </h2>
      <p className="hint">Select a node or an edge to edit it. Add nodes from the palette.</p>
      {general
        .filter((p) => !flowSpec.fields.some((f) => p.path === f.key || p.path.startsWith(`${f.key}[`) || p.path.startsWith(`${f.key}.`)))
        .map((p, i) => (
          <div key={i} className="field-error">
            {p.path ? `${p.path}: ` : ''}
            {p.message}
          </div>
        ))}
      <ObjectFields spec={flowSpec} value={flow} path={[]} ctx={ctx} skip={['$schema', 'nodes', 'edges']} />
    </div>
  );
}
