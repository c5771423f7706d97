/** Every problem of the open flow, as the runtime's validator reports it; a click selects the node. */
import { edgeKeys } from '../flow/graph.ts';
import { validationOf } from '../store/editorStore.ts';
import { useEditor, useEditorStore } from '../store/useEditor.ts';

export function ProblemsPanel() {
  const store = useEditorStore();
  const validation = useEditor((s) => validationOf(s));
  const server = useEditor((s) => s.serverProblems);
  if (!validation) return null;
  const problems = [...validation.problems, ...server];
  if (problems.length === 0) {
    return (
      <div className="problems ok" data-testid="problems">
        No problems: the flow loads.
      </div>
    );
  }
  const select = (nodeId: string | undefined, path: string) => {
    const flow = store.getState().flow;
    const edge = /^edges\[(\d+)\]/.exec(path);
    if (edge && flow) store.getState().select({ nodes: [], edges: [edgeKeys(flow.edges)[Number(edge[1])]] });
    else if (nodeId) store.getState().select({ nodes: [nodeId], edges: [] });
    else store.getState().select({ nodes: [], edges: [] });
  };
  return (
    <ul className="problems" data-testid="problems">
      {problems.map((p, i) => (
        <li key={i}>
          <button type="button" className="problem-item" onClick={() => select(p.nodeId, p.path)} data-testid="problem-item">
            {p.nodeId && <span className="mono node-ref">{p.nodeId}</span>}
            <span className="mono path">{p.path || 'flow'}</span>
            <span>{p.message}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}
