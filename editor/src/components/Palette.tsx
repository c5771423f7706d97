/** The palette: every node type and activity kind of the flow format; click (or drag) to add. */
import { ACTIVITY_KINDS, NODE_KINDS } from '../flow/kinds.ts';
import type { NewNodeSpec } from '../store/editorStore.ts';
import { useEditor, useEditorStore } from '../store/useEditor.ts';
import { PALETTE_MIME, usePlacement } from './Canvas.tsx';

export function Palette() {
  const store = useEditorStore();
  const flow = useEditor((s) => s.flow);
  const place = usePlacement();
  const hasStart = flow?.nodes.some((n) => n.type === 'start') ?? true;
  const add = (spec: NewNodeSpec) => store.getState().addNode(spec, place());
  const item = (key: string, label: string, description: string, spec: NewNodeSpec) => (
    <button
      key={key}
      type="button"
      className={`palette-item palette-${spec.type === 'activity' ? 'activity' : spec.type}`}
      title={description}
      disabled={!flow}
      draggable={Boolean(flow)}
      onDragStart={(e) => {
        e.dataTransfer.setData(PALETTE_MIME, JSON.stringify(spec));
        e.dataTransfer.effectAllowed = 'copy';
      }}
      onClick={() => add(spec)}
      data-testid={`palette-${key}`}
    >
      {label}
    </button>
  );
  return (
    <nav className="palette" aria-label="Palette" data-testid="palette">
      <h2>Nodes</h2>
      <div className="palette-grid">
        {NODE_KINDS.filter((k) => k.type !== 'start' || !hasStart).map((k) => item(k.type, k.label, k.description, { type: k.type }))}
      </div>
      <h2>Activities</h2>
      <div className="palette-grid">
        {ACTIVITY_KINDS.map((k) => item(k.type, k.label, k.description, { type: 'activity', activity: k.type }))}
      </div>
    </nav>
  );
}
