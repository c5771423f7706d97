/** The flows of `flows/`: open one, or create a new one. */
import { useState } from 'react';
import { useEditor, useEditorStore } from '../store/useEditor.ts';
import { focusWhenThere } from './PropertyPanel.tsx';

export function FlowList() {
  const store = useEditorStore();
  const flows = useEditor((s) => s.flows);
  const currentId = useEditor((s) => s.currentId);
  const canAuthor = useEditor((s) => s.session?.canAuthor ?? false);
  const [name, setName] = useState('');
  const [creating, setCreating] = useState(false);
  // Why the name was refused, shown under the field (not cut off in the toolbar, far from it).
  const [error, setError] = useState<string | null>(null);
  const confirmLeave = () => !store.getState().flow || JSON.stringify(store.getState().flow) === store.getState().savedJson || window.confirm('Discard the unsaved changes?');
  const create = async () => {
    if (!name.trim() || !confirmLeave()) return;
    await store.getState().create(name);
    if (store.getState().currentId === name.trim()) {
      setName('');
      setCreating(false);
      setError(null);
      // The work goes on on the canvas: focus its start node (not the top of the page).
      focusWhenThere('.react-flow__node[data-id="start"]');
    } else {
      const notice = store.getState().notice;
      setError(notice?.kind === 'error' ? notice.text : 'The flow was not created');
    }
  };
  return (
    <div className="flow-list" data-testid="flow-list">
      <div className="flow-list-head">
        <h2>Flows</h2>
        <button type="button" onClick={() => setCreating((c) => !c)} disabled={!canAuthor} title={canAuthor ? 'Create a flow' : 'Only authors may create flows'} data-testid="new-flow" aria-expanded={creating}>
          + New
        </button>
      </div>
      {creating && (
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            void create();
          }}
        >
          <input
            autoFocus
            value={name}
            placeholder="flowName"
            aria-label="New flow name"
            aria-invalid={error !== null}
            aria-describedby={error ? 'new-flow-error' : undefined}
            onChange={(e) => {
              setName(e.target.value);
              setError(null);
            }}
            data-testid="new-flow-name"
          />
          <button type="submit" disabled={!name.trim()} data-testid="new-flow-create">
            Create
          </button>
          {error && (
            <div id="new-flow-error" className="field-error new-flow-error" role="alert" data-testid="new-flow-error">
              {error}
            </div>
          )}
        </form>
      )}
      <ul>
        {flows.map((f) => (
          <li key={f.id}>
            <button
              type="button"
              className={`flow-item${f.id === currentId ? ' current' : ''}`}
              aria-current={f.id === currentId}
              title={f.description ?? f.file}
              onClick={() => {
                if (f.id !== currentId && confirmLeave()) void store.getState().open(f.id);
              }}
              data-testid={`flow-item-${f.id}`}
            >
              <span>{f.name}</span>
              {f.problems.length > 0 && (
                <span className="badge small" title={`${f.problems.length} problem(s) in the saved file`}>
                  {f.problems.length}
                </span>
              )}
            </button>
          </li>
        ))}
        {flows.length === 0 && <li className="hint">No flows yet.</li>}
      </ul>
    </div>
  );
}
