/** Find usages: of a variable in the open flow (`$task`), or of a flow across the folder (who calls it). */
import { useState } from 'react';
import { flowUsages, variableUsages, type Usage } from '../flow/usages.ts';
import { useEditor, useEditorStore } from '../store/useEditor.ts';

export function UsagesPanel() {
  const store = useEditorStore();
  const flow = useEditor((s) => s.flow);
  const currentId = useEditor((s) => s.currentId);
  const flows = useEditor((s) => s.flows);
  const [query, setQuery] = useState('');
  const q = query.trim();
  let results: Usage[] = [];
  if (flow && currentId && q) {
    results = q.startsWith('$') ? variableUsages(currentId, flow, q.slice(1)) : flowUsages(flows.map((f) => (f.id === currentId ? { id: f.id, flow } : f)), q);
  }
  const reveal = async (u: Usage) => {
    if (u.flowId !== store.getState().currentId) await store.getState().open(u.flowId);
    store.getState().select({ nodes: [u.nodeId], edges: [] });
  };
  return (
    <div className="usages" data-testid="usages">
      <input
        type="search"
        value={query}
        placeholder="$variable, or a flow's name"
        aria-label="Find usages of a variable ($name) or a flow (its name)"
        onChange={(e) => setQuery(e.target.value)}
        data-testid="usages-query"
      />
      {q && (
        <p className="muted" data-testid="usages-count">
          {results.length} usage{results.length === 1 ? '' : 's'} of {q.startsWith('$') ? `${q} in ${flow?.name}` : `flow ${q}`}
        </p>
      )}
      <ul className="usage-list">
        {results.map((u, i) => (
          <li key={i}>
            <button type="button" className="link" onClick={() => void reveal(u)} data-testid="usage-item" data-node={u.nodeId} data-flow={u.flowId}>
              <span className="mono">
                {u.flowId !== currentId ? `${u.flowId} › ` : ''}
                {u.nodeId}
              </span>{' '}
              <span className="muted mono">{u.field}</span> {u.text}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
