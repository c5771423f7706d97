/**
 * Running flows in the page: an embedded runtime for the signed-in user (its own IndexedDB
 * database, talking to `/api` of this origin, where the editor server adds the user's token from
 * the session), the interpreter, and what the run panel shows — the
 * trace, the running sync machine's states, the local database, the SynchronizationFailures and
 * the sync journal.
 * A vanilla zustand store with the immer middleware, as the editor's.
 */
import Dexie, { liveQuery } from 'dexie';
import { castDraft } from 'immer';
import type { AnyStateMachine } from 'xstate';
import { immer } from 'zustand/middleware/immer';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { FlowDebugger, type PausedStep } from '../../../src/flow/FlowDebugger.ts';
import { Interpreter } from '../../../src/flow/Interpreter.ts';
import type { DataType, Flow } from '../../../src/flow/format.ts';
import type { JournalEntry } from '../../../src/journal/JournalEntry.ts';
import type { FlowEvent, StepOutcome } from '../../../src/flow/types.ts';
import type { Schema } from '../../../src/model/schema.ts';
import type { AppInfo } from '../api.ts';
import { createRuntime, type Runtime } from '../../../src/runtime/Runtime.ts';
import type { LocalObject } from '../../../src/store/types.ts';
import { syncMachines, type SyncActor } from '../../../src/sync/Synchronizer.ts';
import { managerMachine } from '../../../src/sync/manager/managerMachine.ts';
import type { SyncMode, SyncPhase } from '../../../src/sync/types.ts';
import type { ChangeKind, SynchronizationFailure } from '../../../src/transport/wire.ts';
import { runtimeHost } from './flowHost.ts';
import { profileRow, type ProfileRow } from './profileRows.ts';
import { machineGraph, statePath, topState, type MachineGraph } from './machineGraph.ts';

export interface TraceEntry {
  seq: number;
  /** What the line comes from: the flow run, or a synchronization started from the panel (`Sync all`). */
  source: string;
  depth: number;
  flow: string;
  kind: 'flow' | 'step' | 'message' | 'log' | 'error' | 'sync';
  nodeId?: string;
  text: string;
  outcome?: StepOutcome | 'running';
  ms?: number;
}

export interface MachineState {
  name: string;
  final: boolean;
}

/** The sync machine of the latest synchronization (or named-sync task), live. */
export interface SyncView {
  /** A Synchronize mode, or the named-sync task the manager machine works on (`reSync openTasks`). */
  mode: SyncMode | string;
  machineId: string;
  /** The machine's top-level states, read from its definition. */
  states: MachineState[];
  /** The states and transitions of the machine's definition, laid out to draw. */
  graph: MachineGraph;
  /** The top-level state the machine is in (a final state once it has ended). */
  current: string | null;
  /** The full state, nested states included (`downloading.Task`). */
  currentPath: string | null;
  /** Top-level states in the order the machine entered them. */
  visited: string[];
  running: boolean;
  phase: SyncPhase | null;
  entity: string | null;
  done: number;
  total: number | null;
  error: string | null;
}

export type ObjectRow = LocalObject & { $pending?: ChangeKind };

export interface RunState {
  /** Parameter values as typed: text for values, an id for objects, ids joined by commas for lists. */
  params: Record<string, string>;
  status: 'idle' | 'running' | 'ended' | 'failed';
  outcome: string | null;
  trace: TraceEntry[];
  /** The flow last run (by name): `nodeStates` belong to it. */
  runFlow: string | null;
  /** The flow object last run: the canvas lights its path only while the flow is unedited since. */
  ranFlow: Flow | null;
  /** Per node of the flow being run: how its latest step went (the canvas highlights it). */
  nodeStates: Record<string, 'current' | StepOutcome>;
  sync: SyncView | null;
  objects: Record<string, ObjectRow[]>;
  failures: SynchronizationFailure[];
  dataError: string | null;
  busy: boolean;
  /** Node ids the step debugger pauses before (in the flow run and the flows it calls). */
  breakpoints: string[];
  /** Where the running flow is paused, with its variables (as plain data); null while it runs. */
  paused: PausedStep | null;
  /** The app's sync profiles with their last run and next trigger, live once `watchProfiles` ran. */
  profiles: ProfileRow[];
  profilesError: string | null;
  /** The profile the Profiles tab is running, if any. */
  runningProfile: string | null;
  /** What the panel's right-hand columns show: the local database and failures, or the sync journal. */
  dataView: 'data' | 'journal';
  /** The sync journal's newest entries, newest first (at most `journalLimit`), live once `watchJournal` ran. */
  journal: JournalEntry[];
  /** How many entries the journal view reads: a page, grown by `moreJournal`. */
  journalLimit: number;
  /** Older entries exist past those shown. */
  journalMore: boolean;
  journalError: string | null;

  setParam(name: string, value: string): void;
  run(flow: Flow, resolveFlow: (name: string) => unknown): Promise<void>;
  stop(): void;
  synchronize(mode: 'all' | 'unsynchronized'): Promise<void>;
  refreshData(): Promise<void>;
  retryFailure(id: string): Promise<void>;
  dismissFailure(id: string): Promise<void>;
  clearTrace(): void;
  toggleBreakpoint(nodeId: string): void;
  /** The step debugger's controls (while a flow runs). */
  debug(command: 'pause' | 'continue' | 'stepOver' | 'stepInto'): void;
  /** Lists the profiles and keeps the list live (journal entries, scheduler states). */
  watchProfiles(): Promise<void>;
  /** Runs a profile now (refused and skipped runs are journaled and listed, never thrown). */
  runProfile(name: string): Promise<void>;
  setDataView(view: RunState['dataView']): void;
  /** Reads the journal's newest page and keeps it live (an entry written is shown at once). */
  watchJournal(): Promise<void>;
  /** Shows the next page of older entries. */
  moreJournal(): Promise<void>;
  /** The journal's own export (`runtime.journal.exportJson()`: no attribute values). */
  exportJournal(): Promise<string>;
}

export type RunStore = StoreApi<RunState>;

/** The states of a sync machine, read from its definition. */
export function machineStates(machine: AnyStateMachine): MachineState[] {
  return Object.values(machine.root.states).map((s) => ({ name: s.key, final: s.type === 'final' }));
}

const MAX_ROWS = 200;
/** Journal entries per page of the journal view. */
export const JOURNAL_PAGE = 50;

/**
 * @example
 * const run = createRunStore({ app: () => editor.getState().app, user: () => 'alice', serverUrl: location.origin });
 * await run.getState().run(flow, (name) => flowsByName.get(name));
 */
/**
 * The bearer token the page's runtime sends: a placeholder, since the editor server replaces the
 * Authorization of every proxied call with the signed-in user's own token (the page holds none).
 */
const SESSION_TOKEN = 'editor-session';

export function createRunStore(options: {
  /**
   * The app's schema and sync profiles (null until the page loaded them): the runtime, created
   * at its first use, works on this schema and runs the profiles by their triggers.
   */
  app: () => AppInfo | null;
  user: () => string | null;
  serverUrl: string;
}): RunStore {
  /** The app's schema; the page runs nothing before it is loaded. */
  const schemaOf = (): Schema => {
    const app = options.app();
    if (!app) throw new Error('the app is not loaded yet');
    return app.schema;
  };

  const runtimes = new Map<string, Promise<Runtime>>();
  let controller: AbortController | null = null;
  let seq = 0;
  /** The live view of the local database (Dexie liveQuery), for one runtime at a time. */
  let watching: { runtime: Runtime; stop(): void } | null = null;
  /** The debugger of the running flow. */
  let debugger_: FlowDebugger | null = null;
  /** The live profile list's subscriptions, for one runtime at a time. */
  let profileWatch: { runtime: Runtime; stop(): void } | null = null;
  /** The journal view's subscription, for one runtime at a time. */
  let journalWatch: { runtime: Runtime; stop(): void } | null = null;
  /** Numbers the journal reads: only the latest one started is shown (reads may end out of order). */
  let journalReads = 0;

  return createStore<RunState>()(
    immer((set, get) => {
      const runtimeFor = (): Promise<Runtime> => {
        const userId = options.user();
        if (!userId) return Promise.reject(new Error('sign in to run flows'));
        const app = options.app();
        if (!app) return Promise.reject(new Error('the app is not loaded yet'));
        let found = runtimes.get(userId);
        if (!found) {
          // One database per user: a sign-in as someone else never mixes their objects.
          found = createRuntime({
            schema: app.schema,
            serverUrl: options.serverUrl,
            token: SESSION_TOKEN,
            dbName: `syncflow-editor-${userId}`,
            // Always given, even empty: Run profile names are then checked against the app's, as the editor does.
            profiles: { definitions: app.profiles },
          });
          found.catch(() => runtimes.delete(userId));
          runtimes.set(userId, found);
        }
        return found;
      };

      /** What the trace's lines come from now: the flow being run, else the panel. */
      let source = 'panel';
      const trace = (entry: Omit<TraceEntry, 'seq' | 'source'> & { source?: string }) =>
        set((s) => {
          s.trace.push({ source, ...entry, seq: ++seq });
          if (s.trace.length > 2000) s.trace.splice(0, s.trace.length - 2000);
        });

      /** Shows a machine in the panel, from its definition, before it enters any state. */
      const showMachine = (mode: SyncView['mode'], machine: AnyStateMachine) =>
        set((s) => {
          s.sync = {
            mode,
            machineId: machine.id,
            states: machineStates(machine),
            graph: castDraft(machineGraph(machine)),
            current: null,
            currentPath: null,
            visited: [],
            running: true,
            phase: null,
            entity: null,
            done: 0,
            total: null,
            error: null,
          };
        });

      /**
       * The shown machine entered a state: the view follows it (top-level states in the order
       * entered) and the trace gets a line when the full state changed. With `task`, only while
       * the view still shows that task.
       */
      const enterState = (value: unknown, at: { from: string; label: string; task?: string; running?: boolean }) => {
        const state = topState(value);
        const path = statePath(value);
        const before = get().sync?.currentPath;
        set((s) => {
          if (!s.sync || (at.task !== undefined && s.sync.mode !== at.task)) return;
          if (s.sync.current !== state) s.sync.visited.push(state);
          s.sync.current = state;
          s.sync.currentPath = path;
          if (at.running !== undefined) s.sync.running = at.running;
        });
        if (before !== path) trace({ source: at.from, depth: 0, flow: '', kind: 'sync', text: `${at.label}: ${path}` });
      };

      /** Follows a sync machine's actor: its states, live. */
      const watchActor = (actor: SyncActor, runtime: Runtime, from = source) => {
        // The actor runs the machine of the request's mode: its definition lists the states.
        const mode: SyncMode = runtime.status.getState().mode ?? 'all';
        const machine = ((actor as { logic?: AnyStateMachine }).logic ?? syncMachines[mode]) as AnyStateMachine;
        showMachine(mode, machine);
        const stopStatus = runtime.status.subscribe((status) =>
          set((s) => {
            if (!s.sync) return;
            s.sync.phase = status.phase ?? s.sync.phase;
            s.sync.entity = status.entity;
            s.sync.done = status.done;
            s.sync.total = status.total;
          }),
        );
        (actor as { subscribe(o: { next(snap: { value: unknown; status: string }): void; complete(): void; error(): void }): unknown }).subscribe({
          next: (snapshot) => enterState(snapshot.value, { from, label: `sync machine ${machine.id}`, running: snapshot.status === 'active' }),
          complete: () => {
            stopStatus();
            const error = (actor.getSnapshot().output as { error?: { message?: string } | null } | undefined)?.error;
            set((s) => {
              if (!s.sync) return;
              s.sync.running = false;
              s.sync.error = error?.message ?? null;
            });
          },
          error: () => {
            stopStatus();
            set((s) => {
              if (s.sync) s.sync.running = false;
            });
          },
        });
      };

      /**
       * Follows the named-sync manager while a reSync or ghost cleaning activity runs: its machine
       * drawn, its states live. The manager outlives the task, so the returned stop ends the watch.
       */
      const watchManager = (actor: Runtime['syncs']['actor'], task: string, from = source) => {
        const machine = managerMachine as unknown as AnyStateMachine;
        showMachine(task, machine);
        const follow = (snapshot: { value: unknown }) => enterState(snapshot.value, { from, label: `sync manager (${task})`, task });
        follow(actor.getSnapshot());
        const subscription = actor.subscribe(follow);
        return () => {
          subscription.unsubscribe();
          set((s) => {
            if (s.sync?.mode === task) s.sync.running = false;
          });
        };
      };

      const onEvent = (e: FlowEvent) => {
        const base = { depth: e.depth, flow: e.flow };
        switch (e.type) {
          case 'syncState':
            // The manager's progress comes with the activity's events (a Synchronize's from the runtime's status).
            if (e.status.machine === 'manager') {
              set((s) => {
                if (!s.sync || s.sync.mode !== e.status.task) return;
                s.sync.phase = e.status.phase ?? s.sync.phase;
                s.sync.entity = e.status.entity ?? s.sync.entity;
                s.sync.done = e.status.done;
                s.sync.total = e.status.total;
                s.sync.error = e.status.lastError?.message ?? null;
              });
            }
            break;
          case 'flowStarted':
            trace({ ...base, kind: 'flow', text: `flow ${e.flow} started` });
            break;
          case 'stepStarted':
            if (e.depth === 0) set((s) => void (s.nodeStates[e.nodeId] = 'current'));
            break;
          case 'stepEnded':
            if (e.depth === 0) set((s) => void (s.nodeStates[e.nodeId] = e.outcome));
            trace({
              ...base,
              kind: 'step',
              nodeId: e.nodeId,
              outcome: e.outcome,
              ms: e.durationMs,
              text: `${e.nodeId} (${e.activityType ?? e.nodeType})${e.error ? `: ${e.error.type}: ${e.error.message}` : ''}${e.next ? ` → ${e.next}` : ''}`,
            });
            void get().refreshData();
            break;
          case 'message':
            trace({ ...base, kind: 'message', nodeId: e.nodeId, text: `[${e.messageType}] ${e.text}` });
            break;
          case 'log':
            trace({ ...base, kind: 'log', nodeId: e.nodeId, text: `log ${e.level}: ${e.text}` });
            break;
          case 'flowEnded':
            trace({ ...base, kind: 'flow', text: `flow ${e.flow} ended${e.result !== null && e.result !== undefined ? `: ${describe(e.result, schemaOf())}` : ''}` });
            break;
          case 'flowFailed':
            trace({ ...base, kind: 'error', text: `flow ${e.flow} failed: ${e.error.type}: ${e.error.message}` });
            break;
          default:
            break;
        }
      };

      /** Runs `fn` with trace lines attributed to `from` (events arrive synchronously from their source). */
      const withSource = <T,>(from: string, fn: () => T): T => {
        const before = source;
        source = from;
        try {
          return fn();
        } finally {
          source = before;
        }
      };

      /** The local database as the panel shows it: rows per entity (pending changes marked) and failures. */
      const readData = async (runtime: Runtime) => {
        const pending = new Map((await runtime.store.pendingChanges()).map((c) => [`${c.entity}:${c.id}`, c.kind]));
        const objects: Record<string, ObjectRow[]> = {};
        for (const entity of schemaOf().order) {
          const rows = await runtime.store.query(entity, { limit: MAX_ROWS });
          objects[entity] = rows.map((o) => {
            const kind = pending.get(`${entity}:${o.id}`);
            return kind ? { ...o, $pending: kind } : o;
          });
        }
        return { objects, failures: await runtime.listFailures() };
      };

      const showData = (data: { objects: Record<string, ObjectRow[]>; failures: SynchronizationFailure[] }) =>
        set((s) => {
          s.objects = castDraft(data.objects);
          s.failures = castDraft(data.failures);
          s.dataError = null;
        });

      /** Reads the journal's page into the view, if `runtime` is still the one watched and no newer read started. */
      const readJournal = async (runtime: Runtime) => {
        const ticket = ++journalReads;
        const limit = get().journalLimit;
        try {
          // One more than shown: is there an older page?
          const rows = await runtime.journal.list({ limit: limit + 1 });
          if (ticket !== journalReads || journalWatch?.runtime !== runtime) return;
          set((s) => {
            s.journal = castDraft(rows.slice(0, limit));
            s.journalMore = rows.length > limit;
            s.journalError = null;
          });
        } catch (e) {
          if (ticket === journalReads) set((s) => void (s.journalError = e instanceof Error ? e.message : String(e)));
        }
      };

      const parameterValue = async (runtime: Runtime, name: string, type: DataType, text: string): Promise<unknown> => {
        const t = text.trim();
        switch (type.type) {
          case 'integer':
          case 'decimal': {
            if (t === '') return null;
            const n = Number(t);
            if (!Number.isFinite(n)) throw new Error(`parameter ${name}: "${text}" is not a number`);
            return n;
          }
          case 'boolean':
            return t === '' ? null : t === 'true';
          case 'object': {
            if (t === '') return null;
            const found = await runtime.store.get(type.entity, t);
            if (!found) throw new Error(`parameter ${name}: no ${type.entity} ${t} in the local database`);
            return found;
          }
          case 'list': {
            const ids = t.split(',').map((x) => x.trim()).filter(Boolean);
            const found = await Promise.all(ids.map((id) => runtime.store.get(type.entity, id)));
            return found.filter((o): o is LocalObject => Boolean(o));
          }
          default:
            return t === '' ? null : text;
        }
      };

      return {
        params: {},
        status: 'idle',
        outcome: null,
        trace: [],
        runFlow: null,
        ranFlow: null,
        nodeStates: {},
        sync: null,
        objects: {},
        failures: [],
        dataError: null,
        busy: false,
        breakpoints: [],
        paused: null,
        profiles: [],
        profilesError: null,
        runningProfile: null,
        dataView: 'data',
        journal: [],
        journalLimit: JOURNAL_PAGE,
        journalMore: false,
        journalError: null,

        setParam(name, value) {
          set((s) => void (s.params[name] = value));
        },

        async run(flow, resolveFlow) {
          if (get().status === 'running') return;
          const syncing = get().busy;
          set((s) => {
            s.status = 'running';
            s.outcome = null;
            s.nodeStates = {};
            s.runFlow = flow.name;
            s.ranFlow = castDraft(flow);
            // A synchronization started from the panel is still running: its machine and its lines stay.
            if (!syncing) {
              s.trace = [];
              s.sync = null;
            }
          });
          const runSource = `flow ${flow.name}`;
          const traceRun = (entry: Omit<TraceEntry, 'seq' | 'source'>) => trace({ ...entry, source: runSource });
          controller = new AbortController();
          try {
            const runtime = await runtimeFor();
            const parameters: Record<string, unknown> = {};
            for (const p of flow.parameters ?? []) parameters[p.name] = await parameterValue(runtime, p.name, p.type, get().params[p.name] ?? '');
            const host = runtimeHost(runtime, {
              onActor: (actor) => watchActor(actor, runtime, runSource),
              onManager: (actor, task) => watchManager(actor, task, runSource),
              loadFlow: async (name) => resolveFlow(name),
            });
            const interpreter = new Interpreter(host, { flows: resolveFlow });
            debugger_ = new FlowDebugger({ breakpoints: get().breakpoints });
            debugger_.onPause((at) =>
              set((s) => {
                // Plain data for the pane (objects as they are now; the run may change them later).
                s.paused = at ? castDraft({ ...at, variables: plain(at.variables) as Record<string, unknown> }) : null;
              }),
            );
            const result = await interpreter.run(flow, parameters, { onEvent: (e) => withSource(runSource, () => onEvent(e)), signal: controller.signal, debug: debugger_ });
            set((s) => {
              s.status = 'ended';
              s.outcome = result === null || result === undefined ? 'ended' : `ended: ${describe(result, schemaOf())}`;
            });
          } catch (e) {
            const message = e instanceof Error ? e.message : String(e);
            set((s) => {
              s.status = 'failed';
              s.outcome = `failed: ${message}`;
            });
            if (!get().trace.some((t) => t.kind === 'error' && t.source === runSource)) traceRun({ depth: 0, flow: flow.name, kind: 'error', text: message });
          } finally {
            controller = null;
            debugger_ = null;
            set((s) => void (s.paused = null));
            await get().refreshData();
          }
        },

        toggleBreakpoint(nodeId) {
          const on = !get().breakpoints.includes(nodeId);
          set((s) => {
            s.breakpoints = on ? [...s.breakpoints, nodeId] : s.breakpoints.filter((b) => b !== nodeId);
          });
          // A breakpoint set while the flow runs applies to its next steps.
          if (on) debugger_?.breakpoints.add(nodeId);
          else debugger_?.breakpoints.delete(nodeId);
        },

        debug(command) {
          debugger_?.[command]();
        },

        stop() {
          controller?.abort(new Error('stopped from the editor'));
        },

        async synchronize(mode) {
          set((s) => void (s.busy = true));
          const from = mode === 'all' ? 'Sync all' : 'Sync unsynchronized';
          try {
            const runtime = await runtimeFor();
            trace({ source: from, depth: 0, flow: '', kind: 'sync', text: `synchronize (${mode}) started` });
            const result = await runtime.synchronize({ mode }, { onActor: (actor) => withSource(from, () => watchActor(actor, runtime, from)) });
            trace({ source: from, depth: 0, flow: '', kind: 'sync', text: `synchronized (${mode}): ${result.uploaded} uploaded, ${result.downloaded} downloaded, ${result.removed} removed, ${result.failed} failed` });
          } catch (e) {
            trace({ source: from, depth: 0, flow: '', kind: 'error', text: `synchronize (${mode}) failed: ${e instanceof Error ? e.message : String(e)}` });
          } finally {
            set((s) => void (s.busy = false));
            await get().refreshData();
          }
        },

        async refreshData() {
          try {
            const runtime = await runtimeFor();
            showData(await readData(runtime));
            // From now on the view follows the database itself (Dexie liveQuery): writes of this page,
            // and of other tabs on the same database, show without asking.
            if (watching?.runtime !== runtime) {
              watching?.stop();
              const { db } = runtime.store;
              // One read transaction: every read of the querier is observed (a native await would lose Dexie's zone).
              const subscription = liveQuery(() => db.transaction('r', db.tables, () => readData(runtime))).subscribe({
                next: showData,
                error: (e: unknown) => set((s) => void (s.dataError = e instanceof Error ? e.message : String(e))),
              });
              // Dexie's own mutation events (this tab's writes, and other tabs' through its BroadcastChannel) as
              // well: a write the liveQuery did not see as touching its reads still refreshes the view.
              const prefix = `idb://${db.name}/`;
              let pendingRead: ReturnType<typeof setTimeout> | null = null;
              const onMutated = (parts: Record<string, unknown>) => {
                if (pendingRead || !Object.keys(parts).some((k) => k.startsWith(prefix))) return;
                pendingRead = setTimeout(() => {
                  pendingRead = null;
                  void readData(runtime).then(showData, () => undefined);
                }, 50);
              };
              Dexie.on('storagemutated', onMutated);
              watching = {
                runtime,
                stop: () => {
                  subscription.unsubscribe();
                  Dexie.on('storagemutated').unsubscribe(onMutated);
                },
              };
            }
          } catch (e) {
            set((s) => void (s.dataError = e instanceof Error ? e.message : String(e)));
          }
        },

        async retryFailure(id) {
          set((s) => void (s.busy = true));
          try {
            const runtime = await runtimeFor();
            const result = await runtime.retryFailure(id);
            trace({
              depth: 0,
              flow: '',
              kind: 'sync',
              text: result.status === 'applied' ? `retried failure ${shortId(id)}: applied` : `retried failure ${shortId(id)}: still failing: ${result.failure.message}`,
            });
          } catch (e) {
            trace({ depth: 0, flow: '', kind: 'error', text: `retry failed: ${e instanceof Error ? e.message : String(e)}` });
          } finally {
            set((s) => void (s.busy = false));
            await get().refreshData();
          }
        },

        async dismissFailure(id) {
          set((s) => void (s.busy = true));
          try {
            const runtime = await runtimeFor();
            await runtime.dismissFailure(id);
            trace({ depth: 0, flow: '', kind: 'sync', text: `dismissed failure ${shortId(id)}` });
          } catch (e) {
            trace({ depth: 0, flow: '', kind: 'error', text: `dismiss failed: ${e instanceof Error ? e.message : String(e)}` });
          } finally {
            set((s) => void (s.busy = false));
            await get().refreshData();
          }
        },

        async watchProfiles() {
          try {
            const runtime = await runtimeFor();
            const refresh = async () => {
              const rows = (await runtime.profiles.list()).map(profileRow);
              set((s) => {
                s.profiles = rows;
                s.profilesError = null;
              });
            };
            const refreshLater = () => void refresh().catch((e: unknown) => set((s) => void (s.profilesError = e instanceof Error ? e.message : String(e))));
            await refresh();
            if (profileWatch?.runtime === runtime) return;
            profileWatch?.stop();
            // A run (background or by name, in this tab or another) ends with a journal entry; the scheduler's states move the next trigger.
            const offEntry = runtime.journal.onChange(refreshLater);
            const scheduler = runtime.profiles.scheduler.subscribe(refreshLater);
            profileWatch = {
              runtime,
              stop: () => {
                offEntry();
                scheduler.unsubscribe();
              },
            };
          } catch (e) {
            set((s) => void (s.profilesError = e instanceof Error ? e.message : String(e)));
          }
        },

        async runProfile(name) {
          set((s) => void (s.runningProfile = name));
          const from = `Profile ${name}`;
          try {
            const runtime = await runtimeFor();
            trace({ source: from, depth: 0, flow: '', kind: 'sync', text: `profile ${name} started` });
            const r = await runtime.profiles.run(name, 'editor');
            const why = r.refusal ? ` (${r.refusal.code})` : r.skip ? ` (${r.skip})` : r.error ? `: ${r.error.message}` : '';
            trace({
              source: from,
              depth: 0,
              flow: '',
              kind: r.outcome === 'done' ? 'sync' : 'error',
              text: `profile ${name} ${r.outcome}${why}: ${r.uploaded} uploaded, ${r.downloaded} downloaded, ${r.removed} removed`,
            });
          } catch (e) {
            trace({ source: from, depth: 0, flow: '', kind: 'error', text: `profile ${name} failed: ${e instanceof Error ? e.message : String(e)}` });
          } finally {
            set((s) => void (s.runningProfile = null));
            await get().refreshData();
            await get().watchProfiles();
          }
        },

        setDataView(view) {
          set((s) => void (s.dataView = view));
        },

        async watchJournal() {
          try {
            const runtime = await runtimeFor();
            if (journalWatch?.runtime !== runtime) {
              journalWatch?.stop();
              // Another user's runtime: start from its newest page, nothing of the previous user's shown.
              set((s) => {
                s.journal = [];
                s.journalLimit = JOURNAL_PAGE;
                s.journalMore = false;
              });
              // Entries written in this tab or another one (same database).
              const off = runtime.journal.onChange(() => void readJournal(runtime));
              journalWatch = { runtime, stop: off };
            }
            await readJournal(runtime);
          } catch (e) {
            set((s) => void (s.journalError = e instanceof Error ? e.message : String(e)));
          }
        },

        async moreJournal() {
          set((s) => void (s.journalLimit += JOURNAL_PAGE));
          if (journalWatch) await readJournal(journalWatch.runtime);
        },

        async exportJournal() {
          const runtime = await runtimeFor();
          return runtime.journal.exportJson();
        },

        clearTrace() {
          set((s) => {
            s.trace = [];
            s.nodeStates = {};
            s.outcome = null;
            s.status = 'idle';
          });
        },
      };
    }),
  );
}

/** A value as plain JSON data (objects, lists, dates as text), for the variables pane. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? null, (_k, v: unknown) => (v instanceof Date ? v.toISOString() : v))) as unknown;
}

/** A uuid made short enough to read, keeping both ends (the demo's ids differ at the end). */
export function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 4)}…${id.slice(-4)}` : id;
}

/** A short name for an object: its first text attribute's value, else its id. */
export function objectLabel(schema: Schema, o: LocalObject): string {
  const def = schema.entities[o.$entity];
  const text = def && Object.entries(def.attributes).find(([, a]) => a.type === 'string')?.[0];
  const value = text ? o[text] : undefined;
  return typeof value === 'string' && value ? value : shortId(o.id);
}

/** A value as the trace shows it: objects by entity and name, lists by size. */
export function describe(value: unknown, schema?: Schema): string {
  if (Array.isArray(value)) return `list of ${value.length}`;
  if (value && typeof value === 'object' && '$entity' in value && 'id' in value) {
    const o = value as LocalObject;
    return `${o.$entity} ${schema ? JSON.stringify(objectLabel(schema, o)) : shortId(o.id)}`;
  }
  return JSON.stringify(value);
}
