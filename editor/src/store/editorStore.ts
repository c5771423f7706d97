/**
 * The editor's state: the open flow (the document), its undo / redo history as immer patches,
 * the selection, and the flows of the folder. A vanilla zustand store with the immer
 * middleware; React binds to it in `useEditor.ts`, tests drive it directly.
 *
 * Every change of the document goes through `edit`, which records the change's patches and
 * their inverse (`produceWithPatches`): undo applies the inverse, redo the patches again.
 */
import { applyPatches, castDraft, enablePatches, produceWithPatches, type Draft, type Patch } from 'immer';
import { immer } from 'zustand/middleware/immer';
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ActivityType, Flow, FlowEdge, FlowNode, NodeType } from '../../../src/flow/format.ts';
import type { FlowProblem } from '../../../src/flow/validateFlow.ts';
import { ApiError, type AppInfo, type EditorSession, type FlowSummary, type SaveOptions } from '../api.ts';
import { edgeIndex, edgeKeys, freshEdgeId, freshName, layoutMissing, numbered, type XY } from '../flow/graph.ts';
import { newActivity, newNode } from '../flow/kinds.ts';
import { mergeFlows } from '../flow/mergeFlows.ts';
import { validate, type Validation } from '../flow/validation.ts';
import { declaredVariables } from '../flow/variables.ts';

enablePatches();

export interface HistoryEntry {
  label: string;
  patches: Patch[];
  inverse: Patch[];
}

export interface Selection {
  nodes: string[];
  /** Edge keys (see `edgeKeys`). */
  edges: string[];
}

export interface Notice {
  kind: 'info' | 'error';
  text: string;
}

/** What the palette adds: a node type, or an activity of a kind. */
export type NewNodeSpec = { type: Exclude<NodeType, 'activity'> } | { type: 'activity'; activity: ActivityType };

export type FieldPath = ReadonlyArray<string | number>;

/** The server side the store talks to (the page's `api`, or a fake in tests). */
export interface EditorApi {
  session(): Promise<EditorSession>;
  signIn(token: string): Promise<EditorSession>;
  signOut(): Promise<void>;
  app(): Promise<AppInfo>;
  list(): Promise<FlowSummary[]>;
  read(id: string): Promise<FlowSummary>;
  save(id: string, flow: unknown, options?: SaveOptions): Promise<FlowSummary>;
  create(name: string): Promise<FlowSummary>;
}

/** The canvas id of an annotation: `note:<id>` (never a node id: those start with a letter and have no colon). */
export const NOTE = 'note:';

/** Nodes on the clipboard (as JSON text, so they paste across flows and tabs). */
export interface ClipboardNodes {
  syncflowNodes: 1;
  nodes: FlowNode[];
  edges: FlowEdge[];
}

/** Clipboard text as nodes, or null when it is something else. */
export function parseClipboard(text: string): ClipboardNodes | null {
  try {
    const value = JSON.parse(text) as Partial<ClipboardNodes> | null;
    if (value?.syncflowNodes !== 1 || !Array.isArray(value.nodes) || !Array.isArray(value.edges)) return null;
    const nodes = value.nodes.filter((n): n is FlowNode => typeof n === 'object' && n !== null && typeof (n as FlowNode).id === 'string' && typeof (n as FlowNode).type === 'string');
    const edges = value.edges.filter((e): e is FlowEdge => typeof e === 'object' && e !== null && typeof (e as FlowEdge).from === 'string' && typeof (e as FlowEdge).to === 'string');
    return { syncflowNodes: 1, nodes, edges };
  } catch {
    return null;
  }
}

/** A save refused because the file changed since it was opened: the file as it is now, and what both sides changed. */
export interface SaveConflict {
  theirs: FlowSummary;
  /** Nodes (and `flow <field>`s) both sides changed differently; empty: the changes merge. */
  overlapping: string[];
}

export interface EditorState {
  flows: FlowSummary[];
  /** Who is signed in: 'checking' until the server said, then the session or 'signedOut'. */
  auth: 'checking' | 'signedOut' | 'signedIn';
  session: EditorSession | null;
  /** Why the last sign-in failed. */
  signInError: string | null;
  /** The app's schema and profiles, loaded from the server after sign-in (the page waits for it). */
  app: AppInfo | null;
  /** Why the app could not be loaded. */
  appError: string | null;
  /** The open flow's id (its file name without `.flow.json`). */
  currentId: string | null;
  flow: Flow | null;
  /** The flow as last loaded or saved (JSON), to tell unsaved changes. */
  savedJson: string | null;
  /** Layout positions of nodes that have none in the file (not part of the document). */
  autoPositions: Record<string, XY>;
  past: HistoryEntry[];
  future: HistoryEntry[];
  /** Consecutive edits of one field (typing) merge into one history entry while this stays the same. */
  coalesceKey: string | null;
  selection: Selection;
  notice: Notice | null;
  saving: boolean;
  /** Problems the server answered to the last refused save. */
  serverProblems: FlowProblem[];
  /** The open flow's version (the server's ETag) as last loaded or saved: a save is based on it. */
  version: string | null;
  /** The last save was refused as stale (409): reload, overwrite or merge. */
  conflict: SaveConflict | null;
  /** The open flow's file changed elsewhere since it was loaded (another tab, another author, an editor). */
  changedElsewhere: FlowSummary | null;
  /** A node in the middle of a line was deleted: the edge that would join its neighbours again, offered. */
  rejoinOffer: { deleted: string; edge: FlowEdge } | null;

  /** Asks the server who is signed in (the page holds no token: the session cookie is HttpOnly). */
  checkSession(): Promise<void>;
  signIn(token: string): Promise<boolean>;
  signOut(): Promise<void>;
  /** Loads the app's schema and profiles (signed in; once: a reload of the page loads it again). */
  loadApp(): Promise<void>;
  init(): Promise<void>;
  refreshList(): Promise<void>;
  open(id: string): Promise<void>;
  create(name: string): Promise<void>;
  /**
   * Saves the open flow, based on the version it was loaded at. With problems, only as a draft
   * (`draft`); `overwrite` saves over whatever the file holds now.
   */
  save(options?: { draft?: boolean; overwrite?: boolean }): Promise<boolean>;
  /** Answers a save conflict: the file's version, mine over it, or both merged (then saved). */
  resolveConflict(how: 'reload' | 'overwrite' | 'merge'): Promise<boolean>;
  /** Asks the server whether the open flow changed elsewhere (the page calls it now and then). */
  checkForChanges(): Promise<void>;
  /** Loads the file's version of the open flow (after a notice that it changed elsewhere). */
  reloadFromServer(): Promise<void>;
  dismissChangedElsewhere(): void;
  edit(label: string, recipe: (flow: Draft<Flow>) => void, coalesceKey?: string): void;
  /** Ends typing coalescing (a field lost focus): the next edit is a history entry of its own. */
  endCoalescing(): void;
  undo(): void;
  redo(): void;
  select(selection: Partial<Selection>): void;
  /** Every node and edge of the open flow (Ctrl+A). */
  selectAll(): void;
  /** Adds a free-text note on the canvas (selected as `note:<id>`); returns its id. */
  addAnnotation(position: XY): string | null;
  setAnnotationText(id: string, text: string, coalesceKey?: string): void;
  /** The selected nodes and the edges between them, as the clipboard carries them (null: nothing selected). */
  copySelection(): ClipboardNodes | null;
  /** Adds copied nodes (new ids where taken, moved a little, edges between them kept); returns their ids. */
  paste(clip: ClipboardNodes): string[];
  /** Copies and pastes the selection in one go (Ctrl+D). */
  duplicate(): string[];
  addNode(spec: NewNodeSpec, position: XY): string | null;
  /** Adds a node into an edge: the edge now ends at the node (its case or error flag kept), a new edge goes on to the old target. */
  insertNode(spec: NewNodeSpec, position: XY, edgeKey: string): string | null;
  deleteSelection(): void;
  /** After deleting a node in the middle of a line: joins its neighbours again (one undoable edit). */
  rejoin(): void;
  dismissRejoin(): void;
  moveNodes(positions: Record<string, XY>): void;
  connect(from: string, to: string, options?: { errorHandler?: boolean }): void;
  setNodeField(nodeId: string, path: FieldPath, value: unknown, coalesceKey?: string): void;
  renameNode(from: string, to: string): void;
  setEdgeField(key: string, field: 'case' | 'errorHandler', value: unknown): void;
  setFlowField(path: FieldPath, value: unknown, coalesceKey?: string): void;
  autoLayout(): void;
  setNotice(notice: Notice | null): void;
}

export type EditorStore = StoreApi<EditorState>;

/** Sets `value` at `path` inside `target`; `undefined` removes the field (optional fields). */
function setIn(target: Record<string | number, unknown>, path: FieldPath, value: unknown): void {
  let here: Record<string | number, unknown> = target;
  for (const key of path.slice(0, -1)) {
    if (typeof here[key] !== 'object' || here[key] === null) here[key] = typeof key === 'number' ? [] : {};
    here = here[key] as Record<string | number, unknown>;
  }
  const last = path[path.length - 1];
  if (value === undefined) {
    if (Array.isArray(here) && typeof last === 'number') here.splice(last, 1);
    else delete here[last];
  } else {
    here[last] = value;
  }
}

/** A flow as the canvas needs it: a JSON object with node and edge arrays (a broken file still opens). */
function asFlow(json: unknown, id: string): Flow {
  const raw = (typeof json === 'object' && json !== null && !Array.isArray(json) ? json : {}) as Record<string, unknown>;
  return {
    ...raw,
    name: typeof raw.name === 'string' ? raw.name : id,
    nodes: Array.isArray(raw.nodes) ? raw.nodes.filter((n) => typeof n === 'object' && n !== null && typeof (n as FlowNode).id === 'string') : [],
    edges: Array.isArray(raw.edges) ? raw.edges.filter((e) => typeof e === 'object' && e !== null) : [],
  } as Flow;
}

/**
 * @example
 * const store = createEditorStore({ api });
 * await store.getState().loadApp();
 * await store.getState().open('editTaskAndSync');
 * store.getState().addNode({ type: 'activity', activity: 'synchronize' }, { x: 0, y: 300 });
 * store.getState().undo();
 *
 * @param options.app the app, known already (tests); otherwise `loadApp` asks the server.
 */
export function createEditorStore(options: { api: EditorApi; app?: AppInfo }): EditorStore {
  const { api } = options;

  return createStore<EditorState>()(
    immer((set, get) => {
      const edit = (label: string, recipe: (flow: Draft<Flow>) => void, coalesceKey?: string) => {
        const flow = get().flow;
        if (!flow) return;
        const [next, patches, inverse] = produceWithPatches(flow, recipe);
        if (patches.length === 0) return;
        set((s) => {
          const last = s.past[s.past.length - 1];
          if (coalesceKey !== undefined && s.coalesceKey === coalesceKey && last) {
            last.patches.push(...castDraft(patches));
            last.inverse.unshift(...castDraft(inverse));
          } else {
            s.past.push(castDraft({ label, patches, inverse }));
          }
          s.future = [];
          s.flow = castDraft(next);
          s.coalesceKey = coalesceKey ?? null;
          s.serverProblems = [];
          s.notice = null;
          s.rejoinOffer = null;
        });
      };

      /** Keeps the selection to what exists after an edit, undo or redo. */
      const pruneSelection = (s: Draft<EditorState>) => {
        if (!s.flow) return;
        const nodes = new Set([...s.flow.nodes.map((n) => n.id), ...(s.flow.annotations ?? []).map((a) => `${NOTE}${a.id}`)]);
        const edges = new Set(edgeKeys(s.flow.edges));
        s.selection.nodes = s.selection.nodes.filter((id) => nodes.has(id));
        s.selection.edges = s.selection.edges.filter((k) => edges.has(k));
      };

      const travel = (from: 'past' | 'future') => {
        const state = get();
        const entry = state[from][state[from].length - 1];
        if (!entry || !state.flow) return;
        const flow = applyPatches(state.flow, from === 'past' ? entry.inverse : entry.patches);
        set((s) => {
          s[from].pop();
          s[from === 'past' ? 'future' : 'past'].push(castDraft(entry));
          s.flow = castDraft(flow);
          s.coalesceKey = null;
          pruneSelection(s);
          s.notice = { kind: 'info', text: `${from === 'past' ? 'Undid' : 'Redid'}: ${entry.label}` };
          s.rejoinOffer = null;
        });
      };

      const load = (summary: FlowSummary) => {
        const flow = asFlow(summary.flow, summary.id);
        set((s) => {
          s.currentId = summary.id;
          s.flow = castDraft(flow);
          s.savedJson = JSON.stringify(summary.flow);
          s.autoPositions = layoutMissing(flow);
          s.past = [];
          s.future = [];
          s.coalesceKey = null;
          s.selection = { nodes: [], edges: [] };
          s.serverProblems = [];
          s.version = summary.version ?? null;
          s.conflict = null;
          s.changedElsewhere = null;
          s.rejoinOffer = null;
        });
      };

      /** The merge of my edits into their version, or why not. */
      const mergeWith = (theirs: FlowSummary) => {
        const { flow, savedJson, currentId } = get();
        if (!flow || !savedJson || !currentId) return { flow: null, overlapping: [] as string[] };
        return mergeFlows(asFlow(JSON.parse(savedJson), currentId), flow, asFlow(theirs.flow, theirs.id));
      };

      return {
        flows: [],
        auth: 'checking',
        session: null,
        signInError: null,
        app: options.app ?? null,
        appError: null,
        currentId: null,
        flow: null,
        savedJson: null,
        autoPositions: {},
        past: [],
        future: [],
        coalesceKey: null,
        selection: { nodes: [], edges: [] },
        notice: null,
        saving: false,
        serverProblems: [],
        version: null,
        conflict: null,
        changedElsewhere: null,
        rejoinOffer: null,

        async checkSession() {
          try {
            const session = await api.session();
            set((s) => {
              s.session = castDraft(session);
              s.auth = 'signedIn';
            });
          } catch (e) {
            if (!(e instanceof ApiError && e.status === 401)) throw e;
            set((s) => {
              s.session = null;
              s.auth = 'signedOut';
            });
          }
        },

        async signIn(token) {
          try {
            const session = await api.signIn(token.trim());
            set((s) => {
              s.session = castDraft(session);
              s.auth = 'signedIn';
              s.signInError = null;
            });
            return true;
          } catch (e) {
            set((s) => {
              s.signInError = e instanceof ApiError && e.status === 401 ? 'The sync server does not know this token.' : e instanceof Error ? e.message : String(e);
            });
            return false;
          }
        },

        async signOut() {
          await api.signOut();
          set((s) => {
            s.session = null;
            s.auth = 'signedOut';
          });
        },

        async loadApp() {
          if (get().app) return;
          try {
            const app = await api.app();
            set((s) => {
              s.app = castDraft(app);
              s.appError = null;
            });
          } catch (e) {
            set((s) => {
              s.appError = e instanceof Error ? e.message : String(e);
            });
          }
        },

        async init() {
          const flows = await api.list();
          set((s) => {
            s.flows = castDraft(flows);
          });
        },

        async refreshList() {
          const flows = await api.list();
          set((s) => {
            s.flows = castDraft(flows);
          });
        },

        async open(id) {
          try {
            load(await api.read(id));
            set((s) => {
              s.notice = null;
            });
          } catch (e) {
            set((s) => {
              s.notice = { kind: 'error', text: e instanceof Error ? e.message : String(e) };
            });
          }
        },

        async create(name) {
          try {
            const summary = await api.create(name.trim());
            await get().refreshList();
            load(summary);
            set((s) => {
              s.notice = { kind: 'info', text: `Created ${summary.file}` };
            });
          } catch (e) {
            set((s) => {
              s.notice = { kind: 'error', text: e instanceof ApiError && e.problems.length ? `${e.problems[0].path}: ${e.problems[0].message}` : String((e as Error).message ?? e) };
            });
          }
        },

        async save(options = {}) {
          const { flow, currentId, version } = get();
          if (!flow || !currentId) return false;
          const problems = validationOf(get())?.problems ?? [];
          const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
          if (problems.length && !options.draft) {
            set((s) => {
              s.notice = { kind: 'error', text: `Cannot save: ${count} (see Problems); Save draft keeps it with them` };
            });
            return false;
          }
          set((s) => {
            s.saving = true;
          });
          try {
            const summary = await api.save(currentId, flow, { ifMatch: options.overwrite ? '*' : (version ?? undefined), draft: problems.length > 0 });
            set((s) => {
              s.saving = false;
              s.savedJson = JSON.stringify(flow);
              s.version = summary.version ?? null;
              s.conflict = null;
              s.changedElsewhere = null;
              s.coalesceKey = null;
              s.flows = castDraft(s.flows.map((f) => (f.id === summary.id ? summary : f)));
              s.notice = problems.length
                ? { kind: 'info', text: `Saved ${summary.file} as a draft with ${count}: it cannot run until they are fixed` }
                : { kind: 'info', text: `Saved ${summary.file}` };
            });
            return true;
          } catch (e) {
            const theirs = e instanceof ApiError && e.status === 409 ? e.current : null;
            set((s) => {
              s.saving = false;
              s.serverProblems = castDraft(e instanceof ApiError ? e.problems : []);
              if (theirs) {
                s.conflict = castDraft({ theirs, overlapping: mergeWith(theirs).overlapping });
                s.changedElsewhere = null;
                s.notice = { kind: 'error', text: 'Not saved: the flow was changed elsewhere since you opened it' };
              } else {
                s.notice = { kind: 'error', text: `Not saved: ${e instanceof Error ? e.message : String(e)}` };
              }
            });
            return false;
          }
        },

        async resolveConflict(how) {
          const conflict = get().conflict;
          if (!conflict) return false;
          const draft = (validationOf(get())?.problems.length ?? 0) > 0;
          if (how === 'reload') {
            load(conflict.theirs);
            set((s) => {
              s.flows = castDraft(s.flows.map((f) => (f.id === conflict.theirs.id ? conflict.theirs : f)));
              s.notice = { kind: 'info', text: `Reloaded ${conflict.theirs.file}: your changes were dropped` };
            });
            return true;
          }
          if (how === 'overwrite') return get().save({ overwrite: true, draft });
          const { flow: merged, overlapping } = mergeWith(conflict.theirs);
          if (!merged) {
            set((s) => {
              s.conflict = castDraft({ ...conflict, overlapping });
              s.notice = { kind: 'error', text: `Cannot merge: both changed ${overlapping.join(', ')}` };
            });
            return false;
          }
          // One undoable edit, now based on their version; then saved over it.
          edit('merge the changes made elsewhere', (f) => {
            for (const key of Object.keys(f)) delete (f as Record<string, unknown>)[key];
            Object.assign(f, castDraft(structuredClone(merged)));
          });
          set((s) => {
            s.savedJson = JSON.stringify(conflict.theirs.flow);
            s.version = conflict.theirs.version ?? null;
            s.conflict = null;
          });
          return get().save({ draft: (validationOf(get())?.problems.length ?? 0) > 0 });
        },

        async checkForChanges() {
          const { currentId, version, saving, conflict } = get();
          if (!currentId || version === null || saving || conflict) return;
          const now = await api.read(currentId).catch(() => null);
          const state = get();
          // Another flow opened, or a save ran meanwhile: this answer is about something else.
          if (!now || state.currentId !== currentId || state.version !== version || state.saving) return;
          if (now.version !== version && state.changedElsewhere?.version !== now.version) {
            set((s) => {
              s.changedElsewhere = castDraft(now);
            });
          }
        },

        async reloadFromServer() {
          const changed = get().changedElsewhere;
          if (!changed) return;
          load(changed);
          set((s) => {
            s.flows = castDraft(s.flows.map((f) => (f.id === changed.id ? changed : f)));
            s.notice = { kind: 'info', text: `Reloaded ${changed.file}` };
          });
        },

        dismissChangedElsewhere() {
          set((s) => {
            s.changedElsewhere = null;
          });
        },

        edit,

        endCoalescing() {
          if (get().coalesceKey !== null) set((s) => void (s.coalesceKey = null));
        },

        undo: () => travel('past'),
        redo: () => travel('future'),

        select(selection) {
          set((s) => {
            if (selection.nodes) s.selection.nodes = [...selection.nodes];
            if (selection.edges) s.selection.edges = [...selection.edges];
          });
        },

        addAnnotation(position) {
          const flow = get().flow;
          if (!flow) return null;
          const taken = new Set((flow.annotations ?? []).map((a) => a.id));
          const id = numbered('note', (n) => taken.has(n));
          edit(`add annotation ${id}`, (f) => {
            (f.annotations ??= []).push({ id, text: '', position: { x: Math.round(position.x), y: Math.round(position.y) } });
          });
          set((s) => {
            s.selection = { nodes: [`${NOTE}${id}`], edges: [] };
          });
          return id;
        },

        setAnnotationText(id, text, coalesceKey) {
          edit(
            `edit annotation ${id}`,
            (f) => {
              const a = f.annotations?.find((x) => x.id === id);
              if (a) a.text = text;
            },
            coalesceKey,
          );
        },

        selectAll() {
          const flow = get().flow;
          if (!flow) return;
          set((s) => {
            s.selection = { nodes: [...flow.nodes.map((n) => n.id), ...(flow.annotations ?? []).map((a) => `${NOTE}${a.id}`)], edges: edgeKeys(flow.edges) };
          });
        },

        copySelection() {
          const { flow, selection, autoPositions } = get();
          if (!flow || selection.nodes.length === 0) return null;
          const chosen = new Set(selection.nodes);
          const nodes = flow.nodes
            .filter((n) => chosen.has(n.id) && n.type !== 'start')
            .map((n) => ({ ...n, position: n.position ?? autoPositions[n.id] ?? { x: 0, y: 0 } }));
          const ids = new Set(nodes.map((n) => n.id));
          const edges = flow.edges.filter((e) => ids.has(e.from) && ids.has(e.to));
          return nodes.length ? (JSON.parse(JSON.stringify({ syncflowNodes: 1, nodes, edges })) as ClipboardNodes) : null;
        },

        paste(clip) {
          const flow = get().flow;
          if (!flow || clip.nodes.length === 0) return [];
          const taken = new Set(flow.nodes.map((n) => n.id));
          const renamed = new Map<string, string>();
          for (const n of clip.nodes) {
            const id = taken.has(n.id) ? freshName(n.id.replace(/\d+$/, ''), (x) => taken.has(x)) : n.id;
            taken.add(id);
            renamed.set(n.id, id);
          }
          const nodes = clip.nodes.map((n): FlowNode => {
            const copy = { ...n, id: renamed.get(n.id)! };
            // A node whose loop came along stays inside it (its position is the loop's); others land beside the originals.
            if (copy.parent && renamed.has(copy.parent)) copy.parent = renamed.get(copy.parent);
            else {
              delete copy.parent;
              copy.position = { x: Math.round((n.position?.x ?? 0) + 40), y: Math.round((n.position?.y ?? 0) + 40) };
            }
            return copy;
          });
          let next = flow;
          const edges = clip.edges.map((e) => {
            const edge: FlowEdge = { ...e, id: freshEdgeId(next), from: renamed.get(e.from)!, to: renamed.get(e.to)! };
            next = { ...next, edges: [...next.edges, edge] };
            return edge;
          });
          edit(`paste ${nodes.length === 1 ? nodes[0].id : `${nodes.length} nodes`}`, (f) => {
            f.nodes.push(...castDraft(nodes));
            f.edges.push(...castDraft(edges));
          });
          set((s) => {
            s.selection = { nodes: nodes.map((n) => n.id), edges: [] };
          });
          return nodes.map((n) => n.id);
        },

        duplicate() {
          const clip = get().copySelection();
          return clip ? get().paste(clip) : [];
        },

        addNode(spec, position) {
          const flow = get().flow;
          if (!flow) return null;
          const ids = new Set(flow.nodes.map((n) => n.id));
          const base = spec.type === 'activity' ? spec.activity : spec.type;
          // Activities are numbered from 1 (commit1, commit2 ...); other nodes get their type, then a number.
          const id = spec.type === 'activity' ? numbered(base, (n) => ids.has(n)) : freshName(base, (n) => ids.has(n));
          const schema = get().app?.schema;
          const variables = new Set(schema ? declaredVariables(flow, schema).map((v) => v.name) : []);
          const node: FlowNode =
            spec.type === 'activity'
              ? { id, type: 'activity', activity: newActivity(spec.activity, (b) => freshName(b, (n) => variables.has(n))) }
              : newNode(spec.type, id);
          node.position = { x: Math.round(position.x), y: Math.round(position.y) };
          edit(`add ${base}`, (f) => {
            f.nodes.push(castDraft(node));
          });
          set((s) => {
            s.selection = { nodes: [id], edges: [] };
          });
          return id;
        },

        insertNode(spec, position, edgeKey) {
          const flow = get().flow;
          const index = flow ? edgeIndex(flow, edgeKey) : -1;
          if (!flow || index < 0) return null;
          const old = flow.edges[index];
          const before = get().past.length;
          const id = get().addNode(spec, position);
          if (!id) return null;
          const edge: FlowEdge = { id: freshEdgeId(get().flow!), from: id, to: old.to };
          edit(`insert ${id} into ${old.from} → ${old.to}`, (f) => {
            f.edges[index].to = id;
            f.edges.push(edge);
          });
          set((s) => {
            // The add and the re-pointing are one history entry: one undo takes the insert back.
            if (s.past.length === before + 2) {
              const last = s.past.pop()!;
              const first = s.past[s.past.length - 1];
              first.label = last.label;
              first.patches.push(...last.patches);
              first.inverse.unshift(...last.inverse);
            }
            s.selection = { nodes: [id], edges: [] };
          });
          return id;
        },

        rejoin() {
          const offer = get().rejoinOffer;
          if (!offer || !get().flow) return;
          const edge = { ...offer.edge, id: freshEdgeId(get().flow!) };
          edit(`rejoin ${edge.from} → ${edge.to}`, (f) => {
            f.edges.push(castDraft(edge));
          });
        },

        dismissRejoin() {
          set((s) => {
            s.rejoinOffer = null;
          });
        },

        deleteSelection() {
          const { selection, flow } = get();
          if (!flow || (selection.nodes.length === 0 && selection.edges.length === 0)) return;
          const gone = new Set(selection.nodes);
          // A loop takes its body with it.
          for (let grew = true; grew; ) {
            grew = false;
            for (const n of flow.nodes) {
              if (n.parent && gone.has(n.parent) && !gone.has(n.id)) {
                gone.add(n.id);
                grew = true;
              }
            }
          }
          const keys = edgeKeys(flow.edges);
          const goneEdges = new Set(selection.edges);
          const what = [gone.size ? `${gone.size} node${gone.size === 1 ? '' : 's'}` : '', goneEdges.size ? `${goneEdges.size} edge${goneEdges.size === 1 ? '' : 's'}` : '']
            .filter(Boolean)
            .join(' and ');
          // One node with one way in and one way on (no error or case edge on): its neighbours may be joined again.
          let offer: EditorState['rejoinOffer'] = null;
          if (gone.size === 1 && goneEdges.size === 0) {
            const [id] = gone;
            const into = flow.edges.filter((e) => e.to === id);
            const on = flow.edges.filter((e) => e.from === id);
            if (into.length === 1 && on.length === 1 && !on[0].errorHandler && on[0].case === undefined && into[0].from !== on[0].to) {
              const { id: _old, ...rest } = into[0];
              offer = { deleted: id, edge: { ...rest, to: on[0].to } };
            }
          }
          edit(`delete ${what}`, (f) => {
            if (f.annotations) f.annotations = f.annotations.filter((a) => !gone.has(`${NOTE}${a.id}`));
            f.nodes = f.nodes.filter((n) => !gone.has(n.id));
            f.edges = f.edges.filter((e, i) => !goneEdges.has(keys[i]) && !gone.has(e.from) && !gone.has(e.to));
          });
          set((s) => {
            s.selection = { nodes: [], edges: [] };
            s.rejoinOffer = castDraft(offer);
          });
        },

        moveNodes(positions) {
          const entries = Object.entries(positions);
          if (entries.length === 0) return;
          edit(`move ${entries.length === 1 ? entries[0][0] : `${entries.length} nodes`}`, (f) => {
            const place = (item: { position?: XY }, key: string) => {
              const p = positions[key];
              if (p && (item.position?.x !== Math.round(p.x) || item.position?.y !== Math.round(p.y))) item.position = { x: Math.round(p.x), y: Math.round(p.y) };
            };
            for (const n of f.nodes) place(n, n.id);
            for (const a of f.annotations ?? []) place(a, `${NOTE}${a.id}`);
          });
        },

        connect(from, to, options = {}) {
          const flow = get().flow;
          if (!flow || from === to) return;
          const source = flow.nodes.find((n) => n.id === from);
          if (!source) return;
          const edge: FlowEdge = { id: freshEdgeId(flow), from, to };
          if (options.errorHandler) edge.errorHandler = true;
          else if (source.type === 'decision') {
            // The first case not taken yet; the panel offers the others.
            const taken = new Set(flow.edges.filter((e) => e.from === from && !e.errorHandler).map((e) => JSON.stringify(e.case)));
            edge.case = [true, false].find((c) => !taken.has(JSON.stringify(c))) ?? null;
          }
          edit(`connect ${from} to ${to}`, (f) => {
            f.edges.push(edge);
          });
          set((s) => {
            s.selection = { nodes: [], edges: [edge.id!] };
          });
        },

        setNodeField(nodeId, path, value, coalesceKey) {
          edit(
            `edit ${nodeId} ${path.join('.')}`,
            (f) => {
              const index = f.nodes.findIndex((n) => n.id === nodeId);
              if (index < 0) return;
              // An empty path replaces the whole node (the JSON editor of a node of an unknown type).
              if (path.length === 0) f.nodes[index] = castDraft(value as FlowNode);
              else setIn(f.nodes[index] as unknown as Record<string, unknown>, path, value);
            },
            coalesceKey,
          );
        },

        renameNode(from, to) {
          const flow = get().flow;
          if (!flow || from === to || !to || flow.nodes.some((n) => n.id === to)) return;
          edit(`rename ${from} to ${to}`, (f) => {
            for (const n of f.nodes) {
              if (n.id === from) n.id = to;
              if (n.parent === from) n.parent = to;
            }
            for (const e of f.edges) {
              if (e.from === from) e.from = to;
              if (e.to === from) e.to = to;
            }
          });
          set((s) => {
            s.selection.nodes = s.selection.nodes.map((id) => (id === from ? to : id));
            pruneSelection(s);
            if (s.autoPositions[from]) s.autoPositions[to] = s.autoPositions[from];
          });
        },

        setEdgeField(key, field, value) {
          const flow = get().flow;
          if (!flow) return;
          const index = edgeIndex(flow, key);
          if (index < 0) return;
          const before = edgeKeys(flow.edges);
          edit(`edit edge ${key}`, (f) => {
            const e = f.edges[index] as Record<string, unknown>;
            if (value === undefined || value === false) delete e[field];
            else e[field] = value;
          });
          // An edge without id is keyed by its fields: follow it to its new key.
          const after = edgeKeys(get().flow!.edges);
          set((s) => {
            s.selection.edges = s.selection.edges.map((k) => (k === before[index] ? after[index] : k));
          });
        },

        setFlowField(path, value, coalesceKey) {
          edit(`edit flow ${path.join('.')}`, (f) => setIn(f as unknown as Record<string, unknown>, path, value), coalesceKey);
        },

        autoLayout() {
          const flow = get().flow;
          if (!flow) return;
          const positions = layoutMissing(flow, true);
          edit('auto layout', (f) => {
            for (const n of f.nodes) n.position = positions[n.id];
          });
        },

        setNotice(notice) {
          set((s) => {
            s.notice = notice;
          });
        },
      };
    }),
  );
}

/**
 * The validation of the open flow (cached per flow object) against the app's schema, Run profile
 * names against the app's profiles; null while no flow is open or the app is not loaded.
 */
export function validationOf(state: Pick<EditorState, 'flow' | 'flows' | 'currentId' | 'app'>): Validation | null {
  const { flow, flows, currentId, app } = state;
  if (!flow || !app) return null;
  return validate(flow, app.schema, (name) => (flow.name === name ? flow : flows.find((f) => f.id !== currentId && f.name === name)?.flow), flows, profileNamesOf(app));
}

const profileNames = new WeakMap<AppInfo, readonly string[]>();

/** The app's profile names, one array per app (the validation cache compares it by identity). */
export function profileNamesOf(app: AppInfo): readonly string[] {
  let names = profileNames.get(app);
  if (!names) {
    names = app.profiles.map((p) => p.name);
    profileNames.set(app, names);
  }
  return names;
}

/** Unsaved changes? */
export function isDirty(state: Pick<EditorState, 'flow' | 'savedJson'>): boolean {
  return state.flow !== null && JSON.stringify(state.flow) !== state.savedJson;
}
