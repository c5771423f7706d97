/**
 * The palette: every node type and activity kind of the flow format; click (or drag) to add.
 * Type in its search field (or press / anywhere) to narrow it; Enter adds the first match.
 */
import { useEffect, useRef, useState } from 'react';
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
  const [query, setQuery] = useState('');
  const search = useRef<HTMLInputElement>(null);
  const matches = (label: string, description: string, key: string) => {
    const q = query.trim().toLowerCase();
    return !q || label.toLowerCase().includes(q) || key.toLowerCase().includes(q) || description.toLowerCase().includes(q);
  };
  const nodeKinds = NODE_KINDS.filter((k) => (k.type !== 'start' || !hasStart) && matches(k.label, k.description, k.type));
  const activityKinds = ACTIVITY_KINDS.filter((k) => matches(k.label, k.description, k.type));
  // "/" outside a text field goes to the search (quick add by typing).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (e.key === '/' && !(t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t?.isContentEditable)) {
        e.preventDefault();
        search.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  // The first match in the order shown: nodes, then activities.
  const first: NewNodeSpec | null = nodeKinds[0] ? { type: nodeKinds[0].type } : activityKinds[0] ? { type: 'activity', activity: activityKinds[0].type } : null;
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
      <input
        ref={search}
        type="search"
        className="palette-search"
        placeholder="Search nodes ( / )"
        aria-label="Search the palette; Enter adds the first match"
        value={query}
        disabled={!flow}
        onChange={(e) => setQuery(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && first && query.trim()) {
            e.preventDefault();
            add(first);
            setQuery('');
          } else if (e.key === 'Escape') setQuery('');
        }}
        data-testid="palette-search"
      />
      {nodeKinds.length > 0 && <h2>Nodes</h2>}
      <div className="palette-grid">
        {nodeKinds.map((k) => item(k.type, k.label, k.description, { type: k.type }))}
        {matches('Annotation', 'a free-text note on the canvas', 'note') && (
          <button
            type="button"
            className="palette-item palette-note"
            title="A free-text note on the canvas, saved with the flow (no effect on a run)"
            disabled={!flow}
            onClick={() => store.getState().addAnnotation(place())}
            data-testid="palette-annotation"
          >
            Annotation
          </button>
        )}
      </div>
      {activityKinds.length > 0 && <h2>Activities</h2>}
      <div className="palette-grid">{activityKinds.map((k) => item(k.type, k.label, k.description, { type: 'activity', activity: k.type }))}</div>
      {nodeKinds.length + activityKinds.length === 0 && <p className="hint">Nothing matches “{query}”.</p>}
    </nav>
  );
}
