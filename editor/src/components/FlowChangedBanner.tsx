/**
 * Over the canvas: a save refused because the flow changed elsewhere (reload theirs, overwrite
 * with mine, or merge when our changes touch different nodes), and the notice that the open flow
 * changed elsewhere (as Node-RED warns when the flows changed on the server); after a node in the
 * middle of a line was deleted, the offer to join its neighbours again.
 */
import { useEditor, useEditorStore } from '../store/useEditor.ts';

export function FlowChangedBanner() {
  const store = useEditorStore();
  const conflict = useEditor((s) => s.conflict);
  const changed = useEditor((s) => s.changedElsewhere);
  const saving = useEditor((s) => s.saving);
  const rejoin = useEditor((s) => s.rejoinOffer);
  if (conflict) {
    const mergeable = conflict.overlapping.length === 0;
    return (
      <div className="flow-banner error" role="alertdialog" aria-labelledby="conflict-title" data-testid="save-conflict">
        <strong id="conflict-title">Not saved: {conflict.theirs.file} was changed elsewhere since you opened it.</strong>
        <span className="muted" data-testid="conflict-detail">
          {mergeable ? 'Your changes and theirs touch different nodes: they can be merged.' : `Both changed ${conflict.overlapping.join(', ')}: reload theirs or overwrite with yours.`}
        </span>
        <div className="row">
          <button type="button" disabled={saving} onClick={() => void store.getState().resolveConflict('reload')} data-testid="conflict-reload">
            Reload theirs
          </button>
          <button type="button" disabled={saving} onClick={() => void store.getState().resolveConflict('overwrite')} data-testid="conflict-overwrite">
            Overwrite with mine
          </button>
          <button type="button" className="primary" disabled={saving || !mergeable} onClick={() => void store.getState().resolveConflict('merge')} data-testid="conflict-merge">
            Merge and save
          </button>
        </div>
      </div>
    );
  }
  if (changed) {
    return (
      <div className="flow-banner" role="status" data-testid="changed-elsewhere">
        <span>
          <strong>{changed.file}</strong> was changed elsewhere.
        </span>
        <button type="button" onClick={() => void store.getState().reloadFromServer()} data-testid="changed-reload">
          Reload
        </button>
        <button type="button" onClick={() => store.getState().dismissChangedElsewhere()} data-testid="changed-dismiss">
          Keep editing mine
        </button>
      </div>
    );
  }
  if (rejoin) {
    return (
      <div className="flow-banner" role="status" data-testid="rejoin-offer">
        <span>
          Deleted <strong>{rejoin.deleted}</strong> from the middle of a line: join {rejoin.edge.from} → {rejoin.edge.to} again?
        </span>
        <button type="button" className="primary" onClick={() => store.getState().rejoin()} data-testid="rejoin">
          Rejoin
        </button>
        <button type="button" onClick={() => store.getState().dismissRejoin()} data-testid="rejoin-dismiss">
          Leave it
        </button>
      </div>
    );
  }
  return null;
}
