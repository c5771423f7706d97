/**
 * Runs the open flow in the page as the signed-in user: the embedded runtime on IndexedDB
 * against `/api` of this origin (the editor server adds the user's token). Shows the trace, the sync machine's states (the current one
 * highlighted, live), the local database and the SynchronizationFailures (retry / dismiss), or in
 * their place the sync journal.
 */
import { useEffect, useRef, useState } from 'react';
import type { FlowParameter } from '../../../src/flow/format.ts';
import { objectLabel, shortId, type RunState } from '../run/runStore.ts';
import { useRun, useRunStore } from '../run/useRun.ts';
import { validationOf } from '../store/editorStore.ts';
import { useApp, useEditor, useEditorStore } from '../store/useEditor.ts';
import { DataViewTabs, SyncJournal } from './SyncJournal.tsx';

export function RunPanel() {
  const view = useRun((s) => s.dataView);
  return (
    <div className="run-panel" data-testid="run-panel">
      <RunControls />
      <DebugOrMachine />
      {view === 'journal' ? (
        <SyncJournal />
      ) : (
        <>
          <LocalDatabase />
          <Failures />
        </>
      )}
    </div>
  );
}

function RunControls() {
  const editor = useEditorStore();
  const run = useRunStore();
  const user = useEditor((s) => s.session?.user);
  const flow = useEditor((s) => s.flow);
  const problems = useEditor((s) => validationOf(s)?.problems.length ?? 0);
  const status = useRun((s) => s.status);
  const outcome = useRun((s) => s.outcome);
  const busy = useRun((s) => s.busy);
  const trace = useRun((s) => s.trace);
  const params = useRun((s) => s.params);
  const end = useRef<HTMLLIElement>(null);
  useEffect(() => {
    end.current?.scrollIntoView({ block: 'nearest' });
  }, [trace.length]);
  const start = () => {
    const s = editor.getState();
    if (!s.flow) return;
    const { flows, currentId } = s;
    const current = s.flow;
    void run.getState().run(current, (name) => (name === current.name ? current : flows.find((f) => f.id !== currentId && f.name === name)?.flow));
  };
  return (
    <section className="run-col run-controls" aria-label="Run">
      <div className="row">
        <span className="muted">
          As <strong data-testid="run-user">{user}</strong>
        </span>
        <button type="button" className="primary" disabled={!flow || problems > 0 || status === 'running'} onClick={start} title={problems ? `A flow with problems cannot run: fix its ${problems} problem(s) first (see Problems)` : 'Run the flow in this page'} data-testid="run-start">
          ▶ Run
        </button>
        {status === 'running' && (
          <button type="button" onClick={() => run.getState().stop()} data-testid="run-stop">
            Stop
          </button>
        )}
        {status === 'running' && <DebugControls />}
      </div>
      {problems > 0 && (
        <p className="muted" role="note" data-testid="run-blocked">
          Cannot run: {problems} problem{problems === 1 ? '' : 's'} (see Problems). A draft is saved with its problems, but only a flow without any runs.
        </p>
      )}
      {(flow?.parameters ?? []).map((p) => (
        <ParameterInput key={p.name} parameter={p} value={params[p.name] ?? ''} />
      ))}
      <div className="row">
        <button type="button" disabled={busy || status === 'running'} onClick={() => void run.getState().synchronize('all')} title="Synchronize all objects now (outside any flow)" data-testid="sync-all">
          Sync all
        </button>
        <button type="button" disabled={busy || status === 'running'} onClick={() => void run.getState().synchronize('unsynchronized')} data-testid="sync-unsynchronized">
          Sync changes
        </button>
        <button type="button" onClick={() => run.getState().clearTrace()} disabled={status === 'running'}>
          Clear
        </button>
      </div>
      <div className={`run-status ${status}`} data-testid="run-status" data-status={status}>
        {status === 'idle' ? 'Not run yet' : status === 'running' ? 'Running…' : outcome}
      </div>
      {/* Focusable: it scrolls, and a keyboard user must be able to scroll it. */}
      <ol className="trace" data-testid="run-trace" tabIndex={0} aria-label="Trace">
        {trace.map((t) => (
          <li key={t.seq} className={`trace-${t.kind} ${t.outcome ? `outcome-${t.outcome}` : ''}`} style={{ paddingLeft: 4 + t.depth * 12 }} data-testid="trace-item" data-kind={t.kind} data-node={t.nodeId} data-source={t.source}>
            {/* Lines of a synchronization started from the panel say so: it may end after the flow did. */}
            {!t.source.startsWith('flow ') && t.source !== 'panel' && <span className="trace-source">{t.source}</span>}
            {t.kind === 'step' && <span className="outcome">{t.outcome === 'ok' ? '✓' : t.outcome === 'failed' ? '✗' : '↪'}</span>}
            <span className="mono">{t.text}</span>
            {t.ms !== undefined && <span className="muted"> {t.ms} ms</span>}
          </li>
        ))}
        <li ref={end} aria-hidden />
      </ol>
    </section>
  );
}

/** Pause / continue / step over / step into, for the running flow (F8, F10, F11 as in most debuggers). */
function DebugControls() {
  const run = useRunStore();
  const paused = useRun((s) => s.paused !== null);
  return (
    <span className="debug-controls" role="group" aria-label="Debugger">
      {!paused && (
        <button type="button" onClick={() => run.getState().debug('pause')} title="Pause before the next step" data-testid="debug-pause">
          ❚❚ Pause
        </button>
      )}
      {paused && (
        <>
          <button type="button" onClick={() => run.getState().debug('continue')} title="Continue to the next breakpoint (F8)" data-testid="debug-continue">
            ▶ Continue
          </button>
          <button type="button" onClick={() => run.getState().debug('stepOver')} title="Step over: run this step, a called flow as a whole (F10)" data-testid="debug-step-over">
            ↷ Step over
          </button>
          <button type="button" onClick={() => run.getState().debug('stepInto')} title="Step into a called flow (F11)" data-testid="debug-step-into">
            ↘ Step into
          </button>
        </>
      )}
    </span>
  );
}

/** While the debugger is paused: where, and the variables; otherwise the sync machine. */
function DebugOrMachine() {
  const paused = useRun((s) => s.paused);
  if (!paused) return <SyncMachineView />;
  const names = Object.keys(paused.variables);
  return (
    <section className="run-col run-debugger" aria-label="Debugger" data-testid="debugger">
      <h3>
        Paused at{' '}
        <span className="mono" data-testid="paused-at">
          {paused.depth > 0 ? `${paused.flow} › ` : ''}
          {paused.nodeId}
        </span>{' '}
        <span className="muted">({paused.reason})</span>
      </h3>
      <ul className="variables" data-testid="debug-variables">
        {names.length === 0 && <li className="muted">No variables yet.</li>}
        {names.map((name) => (
          <li key={name} data-testid={`var-${name}`}>
            <ValueView name={`$${name}`} value={paused.variables[name]} />
          </li>
        ))}
      </ul>
    </section>
  );
}

/** A variable's value: a scalar inline, an object or list expandable. */
function ValueView({ name, value }: { name: string; value: unknown }) {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value).filter(([k]) => k !== '$entity');
    const entity = !Array.isArray(value) && typeof (value as { $entity?: unknown }).$entity === 'string' ? (value as { $entity: string }).$entity : null;
    return (
      <details>
        <summary>
          <span className="mono">{name}</span> <span className="muted">{Array.isArray(value) ? `list of ${value.length}` : (entity ?? 'object')}</span>
        </summary>
        <ul className="variables">
          {entries.map(([k, v]) => (
            <li key={k}>
              <ValueView name={k} value={v} />
            </li>
          ))}
        </ul>
      </details>
    );
  }
  return (
    <span>
      <span className="mono">{name}</span> = <span className="mono var-value">{JSON.stringify(value)}</span>
    </span>
  );
}

function ParameterInput({ parameter, value }: { parameter: FlowParameter; value: string }) {
  const run = useRunStore();
  const objects = useRun((s) => (parameter.type.type === 'object' || parameter.type.type === 'list' ? s.objects[parameter.type.entity] : undefined));
  const { schema } = useApp();
  const id = `param-${parameter.name}`;
  const t = parameter.type;
  return (
    <div className="row param">
      <label htmlFor={id} className="mono">
        ${parameter.name}
      </label>
      {t.type === 'object' ? (
        <select id={id} value={value} onChange={(e) => run.getState().setParam(parameter.name, e.target.value)} data-testid={`run-param-${parameter.name}`}>
          <option value="">(empty) — {objects?.length ? `pick a ${t.entity}` : `no ${t.entity} locally: Sync all first`}</option>
          {(objects ?? []).map((o) => (
            <option key={o.id} value={o.id}>
              {objectLabel(schema, o)}
            </option>
          ))}
        </select>
      ) : t.type === 'boolean' ? (
        <select id={id} value={value} onChange={(e) => run.getState().setParam(parameter.name, e.target.value)} data-testid={`run-param-${parameter.name}`}>
          <option value="">(empty)</option>
          <option value="true">true</option>
          <option value="false">false</option>
        </select>
      ) : t.type === 'enum' ? (
        <select id={id} value={value} onChange={(e) => run.getState().setParam(parameter.name, e.target.value)} data-testid={`run-param-${parameter.name}`}>
          <option value="">(empty)</option>
          {t.values.map((v) => (
            <option key={v}>{v}</option>
          ))}
        </select>
      ) : (
        <input
          id={id}
          value={value}
          placeholder={t.type === 'list' ? `${t.entity} ids, comma separated` : t.type}
          onChange={(e) => run.getState().setParam(parameter.name, e.target.value)}
          data-testid={`run-param-${parameter.name}`}
        />
      )}
    </div>
  );
}

function SyncMachineView() {
  const sync = useRun((s) => s.sync);
  return (
    <section className="run-col run-machine" aria-label="Sync machine" data-testid="sync-machine" tabIndex={0}>
      <h3>Sync machine {sync && <span className="mono muted">{sync.machineId}</span>}</h3>
      {!sync && <div className="hint" data-testid="no-sync">No synchronization yet. A Synchronize activity (or Sync all) shows its machine here, live; a reSync or clean ghosts activity shows the sync manager's.</div>}
      {sync && (
        <>
          <MachineDiagram sync={sync} />
          <div className="machine-status" data-testid="sync-status">
            <strong className={`machine-now${sync.running ? ' running' : ''}`}>{sync.currentPath ?? '…'}</strong>
            {' · '}
            {sync.running ? 'running' : 'ended'} · {sync.mode}
            {sync.phase && ` · ${sync.phase}`}
            {sync.entity && ` ${sync.entity}`}
            {sync.total !== null ? ` · ${sync.done}/${sync.total}` : sync.done ? ` · ${sync.done}` : ''}
          </div>
          <div className="machine-path mono" data-testid="sync-path">
            {sync.visited.join(' → ')}
          </div>
          {sync.error && <div className="field-error">{sync.error}</div>}
        </>
      )}
    </section>
  );
}

/**
 * The machine's states and transitions as its definition has them: the current state filled,
 * the states and transitions it went through marked.
 */
function MachineDiagram({ sync }: { sync: NonNullable<RunState['sync']> }) {
  const { graph } = sync;
  const taken = new Set(sync.visited.slice(1).map((to, i) => `${sync.visited[i]}->${to}`));
  const line = (points: Array<{ x: number; y: number }>) => points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
  return (
    <svg
      className="machine"
      viewBox={`0 0 ${graph.width} ${graph.height}`}
      style={{ maxWidth: graph.width * 1.25 }}
      role="list"
      aria-label={`States of the ${graph.id} machine`}
      data-testid="sync-states"
    >
      <defs>
        <marker id="machine-arrow" viewBox="0 0 6 6" refX="5.5" refY="3" markerWidth="5" markerHeight="5" orient="auto-start-reverse">
          <path d="M0,0 L6,3 L0,6 z" className="machine-arrow" />
        </marker>
      </defs>
      {graph.edges.map((e) => (
        <path
          key={`${e.from}->${e.to}`}
          d={line(e.points)}
          className={`machine-edge${taken.has(`${e.from}->${e.to}`) ? ' taken' : ''}${e.events.some((x) => x.startsWith('done:')) ? ' forward' : ''}`}
          markerEnd="url(#machine-arrow)"
          data-testid={`sync-edge-${e.from}-${e.to}`}
        >
          <title>{`${e.from} → ${e.to}: ${e.events.join(', ')}`}</title>
        </path>
      ))}
      {graph.states.map((st) => {
        const current = sync.current === st.name;
        const visited = sync.visited.includes(st.name);
        return (
          <g
            key={st.name}
            role="listitem"
            className={`machine-state${current ? ' current' : ''}${visited ? ' visited' : ''}${st.final ? ' final' : ''}${current && sync.running ? ' running' : ''} state-${st.name}`}
            data-testid={`sync-state-${st.name}`}
            data-current={current}
            data-visited={visited}
            data-initial={st.initial || undefined}
            data-final={st.final || undefined}
            aria-current={current ? 'step' : undefined}
          >
            <rect className="shape" x={st.x} y={st.y} width={st.width} height={st.height} rx={st.height / 2} />
            {st.final && <rect className="final-ring" x={st.x + 2} y={st.y + 2} width={st.width - 4} height={st.height - 4} rx={st.height / 2 - 2} />}
            <text x={st.x + st.width / 2} y={st.y + st.height / 2} dominantBaseline="central" textAnchor="middle">
              {st.name}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

function LocalDatabase() {
  const objects = useRun((s) => s.objects);
  const error = useRun((s) => s.dataError);
  const run = useRunStore();
  const { schema } = useApp();
  const [entity, setEntity] = useState(schema.order.includes('Task') ? 'Task' : schema.order[0]);
  useEffect(() => {
    void run.getState().refreshData();
  }, [run]);
  const rows = objects[entity] ?? [];
  const def = schema.entities[entity];
  const columns = def ? [...Object.keys(def.attributes), ...Object.keys(def.associations)].slice(0, 4) : [];
  return (
    <section className="run-col" role="tabpanel" id="local-db-panel" aria-labelledby="data-view-data" data-testid="local-db">
      <DataViewTabs />
      <div className="tabs" role="tablist" aria-label="Entities">
        {schema.order.map((e) => (
          <button key={e} type="button" role="tab" aria-selected={e === entity} className={e === entity ? 'active' : ''} onClick={() => setEntity(e)} data-testid={`local-db-tab-${e}`}>
            {e} <span className="muted">{objects[e]?.length ?? 0}</span>
          </button>
        ))}
        <button type="button" className="link" onClick={() => void run.getState().refreshData()} title="Read the local database again" aria-label="Refresh the local database view" data-testid="local-db-refresh">
          ⟳
        </button>
      </div>
      {error && <div className="field-error">{error}</div>}
      <div className="table-wrap">
        <table data-testid={`local-db-${entity}`}>
          <thead>
            <tr>
              <th>id</th>
              {columns.map((c) => (
                <th key={c}>{c}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((o) => (
              <tr key={o.id} className={o.$pending ? 'pending' : ''} data-testid="local-db-row" title={o.$pending ? `local change not synchronized yet: ${o.$pending}` : undefined}>
                <td className="mono">
                  {shortId(o.id)}
                  {o.$pending && <span className="pending-mark"> {o.$pending}</span>}
                </td>
                {columns.map((c) => (
                  <td key={c}>{o[c] === null || o[c] === undefined ? '' : String(o[c])}</td>
                ))}
              </tr>
            ))}
            {rows.length === 0 && (
              <tr>
                <td colSpan={columns.length + 1} className="hint">
                  No {entity} objects in the local database.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Failures() {
  const failures = useRun((s) => s.failures);
  const busy = useRun((s) => s.busy);
  const run = useRunStore();
  return (
    <section className="run-col" aria-label="Synchronization failures" data-testid="failures">
      <h3>
        SynchronizationFailures <span className="muted">{failures.length}</span>
      </h3>
      {failures.length === 0 && <div className="hint">None: every change reached the server.</div>}
      <ul className="failure-list">
        {failures.map((f) => (
          <li key={f.id} className="failure" data-testid="failure-item" data-failure={f.id}>
            <div>
              <strong>{f.reason}</strong> · {f.kind} {f.entity} <span className="mono">{shortId(f.objectId)}</span>
            </div>
            <div className="failure-message">{f.message}</div>
            <div className="muted mono small">{Object.entries(f.data).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ').slice(0, 120)}</div>
            <div className="row">
              <button type="button" disabled={busy} onClick={() => void run.getState().retryFailure(f.id)} data-testid="failure-retry">
                Retry
              </button>
              <button type="button" disabled={busy} onClick={() => void run.getState().dismissFailure(f.id)} data-testid="failure-dismiss">
                Dismiss
              </button>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
