/**
 * The editor page: flows and palette on the left, the canvas, the property panel, and a dock
 * (problems, run, find usages, profiles); the sign-in page until the server knows who is there.
 */
import { ReactFlowProvider } from '@xyflow/react';
import { useEffect, useLayoutEffect, useState } from 'react';
import { Canvas } from './components/Canvas.tsx';
import { FlowChangedBanner } from './components/FlowChangedBanner.tsx';
import { FlowList } from './components/FlowList.tsx';
import { Palette } from './components/Palette.tsx';
import { ProblemsPanel } from './components/ProblemsPanel.tsx';
import { ProfilesPanel } from './components/ProfilesPanel.tsx';
import { PropertyPanel } from './components/PropertyPanel.tsx';
import { RunPanel } from './components/RunPanel.tsx';
import { SignIn } from './components/SignIn.tsx';
import { Toolbar } from './components/Toolbar.tsx';
import { UsagesPanel } from './components/UsagesPanel.tsx';
import { useRunStore } from './run/useRun.ts';
import { isDirty, parseClipboard, validationOf } from './store/editorStore.ts';
import { useEditor, useEditorStore } from './store/useEditor.ts';

const FLOW_HASH = /^#\/flow\/(.+)$/;
/** How often the page asks whether the open flow changed elsewhere. */
const CHANGE_CHECK_MS = 2000;

/** True when keys typed go into a text field (Delete and Backspace must edit the text there). */
function isTextField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && !['checkbox', 'radio', 'button', 'submit'].includes(target.type);
}

export function App() {
  const store = useEditorStore();
  const auth = useEditor((s) => s.auth);
  useEffect(() => {
    store
      .getState()
      .checkSession()
      .catch((e: unknown) => store.getState().setNotice({ kind: 'error', text: `Cannot reach the editor server: ${String(e)}` }));
  }, [store]);
  const app = useEditor((s) => s.app);
  const appError = useEditor((s) => s.appError);
  // Signed in (now or before a reload): the app's schema and profiles come from the server.
  useEffect(() => {
    if (auth === 'signedIn' && !app) void store.getState().loadApp();
  }, [store, auth, app]);
  if (auth === 'signedOut') return <SignIn />;
  if (auth === 'checking' || !app) {
    return (
      <div className="sign-in-page" data-testid="checking-session">
        {appError && (
          <p className="field-error" role="alert" data-testid="app-error">
            Cannot load the app from the editor server: {appError}
          </p>
        )}
      </div>
    );
  }
  return <EditorPage />;
}

function EditorPage() {
  const store = useEditorStore();
  const run = useRunStore();
  const currentId = useEditor((s) => s.currentId);
  const problemCount = useEditor((s) => validationOf(s)?.problems.length ?? 0);
  const [tab, setTab] = useState<'problems' | 'run' | 'usages' | 'profiles'>('problems');

  // Load the list, then the flow named in the address (a reload shows the same flow).
  useEffect(() => {
    void store
      .getState()
      .init()
      .then(async () => {
        const wanted = FLOW_HASH.exec(location.hash)?.[1];
        const id = wanted ? decodeURIComponent(wanted) : undefined;
        if (id && store.getState().flows.some((f) => f.id === id)) await store.getState().open(id);
        void run.getState().refreshData();
      })
      .catch((e: unknown) => store.getState().setNotice({ kind: 'error', text: `Cannot reach the editor server: ${String(e)}` }));
  }, [store, run]);

  // A layout effect: the address names the shown flow before anything can see the new canvas (a reload
  // right after opening a flow shows that flow, not the previous one).
  useLayoutEffect(() => {
    if (currentId) history.replaceState(null, '', `#/flow/${encodeURIComponent(currentId)}`);
  }, [currentId]);

  // Is the open flow still what its file holds? Asked every few seconds and when the page comes back into view.
  useEffect(() => {
    const check = () => void store.getState().checkForChanges();
    const timer = setInterval(check, CHANGE_CHECK_MS);
    window.addEventListener('focus', check);
    return () => {
      clearInterval(timer);
      window.removeEventListener('focus', check);
    };
  }, [store]);

  // Keyboard: Delete, Ctrl+Z, Ctrl+Shift+Z / Ctrl+Y, Ctrl+S.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const s = store.getState();
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      if (mod && key === 's') {
        e.preventDefault();
        // With problems, Ctrl+S keeps a draft (listed with its problems), as Save draft does.
        void s.save({ draft: (validationOf(s)?.problems.length ?? 0) > 0 });
      } else if (mod && ((key === 'z' && e.shiftKey) || key === 'y')) {
        e.preventDefault();
        s.redo();
      } else if (mod && key === 'd' && !isTextField(e.target)) {
        // Duplicate, not the browser's bookmark.
        e.preventDefault();
        s.duplicate();
      } else if (mod && key === 'a' && !isTextField(e.target)) {
        // Select all selects the flow's nodes and edges, not the page's text.
        e.preventDefault();
        s.selectAll();
      } else if (mod && key === 'z') {
        e.preventDefault();
        s.undo();
      } else if ((e.key === 'Delete' || e.key === 'Backspace') && !mod && !isTextField(e.target)) {
        // Delete acts on the focused node (Tab moves focus without selecting).
        const focused = e.target instanceof HTMLElement ? e.target.closest<HTMLElement>('.react-flow__node')?.dataset.id : undefined;
        if (focused && !s.selection.nodes.includes(focused)) s.select({ nodes: [focused], edges: [] });
        const { selection } = store.getState();
        if (selection.nodes.length || selection.edges.length) {
          e.preventDefault();
          s.deleteSelection();
        }
      } else if (e.key === 'F9' && s.selection.nodes.length === 1) {
        e.preventDefault();
        run.getState().toggleBreakpoint(s.selection.nodes[0]);
      } else if ((e.key === 'F8' || e.key === 'F10' || e.key === 'F11') && run.getState().paused) {
        e.preventDefault();
        run.getState().debug(e.key === 'F8' ? 'continue' : e.key === 'F10' ? 'stepOver' : 'stepInto');
      } else if (e.key === 'Escape' && !isTextField(e.target)) {
        s.select({ nodes: [], edges: [] });
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [store, run]);

  // Copy / paste of nodes as JSON text on the system clipboard: across flows, tabs and editors.
  useEffect(() => {
    const onCopy = (e: ClipboardEvent) => {
      if (isTextField(e.target) || window.getSelection()?.toString()) return;
      const clip = store.getState().copySelection();
      if (!clip || !e.clipboardData) return;
      e.preventDefault();
      e.clipboardData.setData('text/plain', JSON.stringify(clip, null, 2));
      store.getState().setNotice({ kind: 'info', text: `Copied ${clip.nodes.length} node${clip.nodes.length === 1 ? '' : 's'}` });
    };
    const onPaste = (e: ClipboardEvent) => {
      if (isTextField(e.target)) return;
      const clip = parseClipboard(e.clipboardData?.getData('text/plain') ?? '');
      if (!clip) return;
      e.preventDefault();
      store.getState().paste(clip);
    };
    document.addEventListener('copy', onCopy);
    document.addEventListener('paste', onPaste);
    return () => {
      document.removeEventListener('copy', onCopy);
      document.removeEventListener('paste', onPaste);
    };
  }, [store]);

  useEffect(() => {
    const onUnload = (e: BeforeUnloadEvent) => {
      if (isDirty(store.getState())) e.preventDefault();
    };
    window.addEventListener('beforeunload', onUnload);
    return () => window.removeEventListener('beforeunload', onUnload);
  }, [store]);

  return (
    <ReactFlowProvider>
      <a className="skip-link" href="#canvas" data-testid="skip-to-canvas">
        Skip to the canvas
      </a>
      <div className="app">
        <Toolbar />
        <aside className="left">
          <FlowList />
          <Palette />
        </aside>
        <main className="canvas" aria-label="Canvas" id="canvas" tabIndex={-1}>
          <FlowChangedBanner />
          <Canvas />
        </main>
        <aside className="right" aria-label="Properties">
          <PropertyPanel />
        </aside>
        <section className="dock">
          <div className="tabs" role="tablist">
            <button type="button" role="tab" aria-selected={tab === 'problems'} className={tab === 'problems' ? 'active' : ''} onClick={() => setTab('problems')} data-testid="tab-problems">
              Problems <span className={problemCount ? 'badge small' : 'muted'}>{problemCount}</span>
            </button>
            <button type="button" role="tab" aria-selected={tab === 'run'} className={tab === 'run' ? 'active' : ''} onClick={() => setTab('run')} data-testid="tab-run">
              Run
            </button>
            <button type="button" role="tab" aria-selected={tab === 'usages'} className={tab === 'usages' ? 'active' : ''} onClick={() => setTab('usages')} data-testid="tab-usages">
              Find usages
            </button>
            <button type="button" role="tab" aria-selected={tab === 'profiles'} className={tab === 'profiles' ? 'active' : ''} onClick={() => setTab('profiles')} data-testid="tab-profiles">
              Profiles
            </button>
          </div>
          <div className="dock-body">
            {tab === 'problems' ? <ProblemsPanel /> : tab === 'run' ? <RunPanel /> : tab === 'usages' ? <UsagesPanel /> : <ProfilesPanel />}
          </div>
        </section>
      </div>
    </ReactFlowProvider>
  );
}
