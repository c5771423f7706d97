/** The top bar: the open flow, undo / redo, delete, layout, save, the last notice, and who is signed in. */
import { useReactFlow } from '@xyflow/react';
import { isDirty, validationOf } from '../store/editorStore.ts';
import { useEditor, useEditorStore } from '../store/useEditor.ts';

export function Toolbar() {
  const store = useEditorStore();
  const { fitView } = useReactFlow();
  const flow = useEditor((s) => s.flow);
  const canUndo = useEditor((s) => s.past.length > 0);
  const canRedo = useEditor((s) => s.future.length > 0);
  const undoLabel = useEditor((s) => s.past[s.past.length - 1]?.label);
  const redoLabel = useEditor((s) => s.future[s.future.length - 1]?.label);
  const dirty = useEditor(isDirty);
  const problems = useEditor((s) => validationOf(s)?.problems.length ?? 0);
  const hasSelection = useEditor((s) => s.selection.nodes.length + s.selection.edges.length > 0);
  const saving = useEditor((s) => s.saving);
  const notice = useEditor((s) => s.notice);
  const file = useEditor((s) => s.flows.find((f) => f.id === s.currentId)?.file);
  const session = useEditor((s) => s.session);
  const canAuthor = session?.canAuthor ?? false;
  const saveTitle = !canAuthor
    ? 'Only authors may save flows: you may open and run them'
    : problems
      ? `Save as a draft with its ${problems} problem(s) (Ctrl+S): it cannot run until they are fixed`
      : dirty ? 'Save (Ctrl+S)' : 'No unsaved changes';
  return (
    <header className="toolbar" role="toolbar" aria-label="Editor">
      <div className="brand">syncflow</div>
      <div className="flow-title" data-testid="flow-title">
        {flow ? (
          <>
            <strong>{flow.name}</strong> <span className="muted">{file}</span>
            {dirty && (
              <span className="dirty" title="Unsaved changes" data-testid="dirty">
                ●
              </span>
            )}
          </>
        ) : (
          <span className="muted">no flow open</span>
        )}
      </div>
      <button type="button" disabled={!canUndo} onClick={() => store.getState().undo()} title={`Undo ${undoLabel ?? ''} (Ctrl+Z)`} data-testid="undo">
        ↶ Undo
      </button>
      <button type="button" disabled={!canRedo} onClick={() => store.getState().redo()} title={`Redo ${redoLabel ?? ''} (Ctrl+Shift+Z / Ctrl+Y)`} data-testid="redo">
        ↷ Redo
      </button>
      <button type="button" disabled={!hasSelection} onClick={() => store.getState().deleteSelection()} title="Delete the selection (Del)" data-testid="delete">
        Delete
      </button>
      <button type="button" disabled={!flow} onClick={() => {
          store.getState().autoLayout();
          // The laid-out flow is fitted into view once its nodes moved (a frame later).
          setTimeout(() => void fitView({ padding: 0.15, maxZoom: 1.1, duration: 200 }), 50);
        }}
        title="Lay the flow out again"
        data-testid="layout"
      >
        Layout
      </button>
      <button
        type="button"
        className="primary"
        disabled={!canAuthor || !flow || !dirty || saving}
        onClick={() => void store.getState().save({ draft: problems > 0 })}
        title={saveTitle}
        data-testid="save"
        data-draft={problems > 0}
      >
        {saving ? 'Saving…' : problems ? 'Save draft' : 'Save'}
      </button>
      <div className={`notice ${notice?.kind ?? ''}`} role="status" aria-live="polite" title={notice?.text} data-testid="notice">
        {notice?.text}
      </div>
      <span className="who muted" data-testid="signed-in-as" title={session?.roles.join(', ')}>
        {session?.user}
        {canAuthor ? '' : ' (read only)'}
      </span>
      <button
        type="button"
        onClick={() => {
          // A fresh page after sign-out: nothing of this user's flows or local database stays in memory.
          void store
            .getState()
            .signOut()
            .then(() => location.reload());
        }}
        data-testid="sign-out"
      >
        Sign out
      </button>
    </header>
  );
}
