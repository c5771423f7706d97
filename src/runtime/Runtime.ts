import { SyncflowError } from '../errors.ts';
import { Interpreter, type InterpreterOptions } from '../flow/Interpreter.ts';
import type { FlowDebugger } from '../flow/FlowDebugger.ts';
import type { FlowObserver, JavaScriptAction, LogLevel, MessageType } from '../flow/types.ts';
import { isCompiledFlow, type CompiledFlow } from '../flow/validateFlow.ts';
import type { Schema } from '../model/schema.ts';
import type { SyncDefinition } from '../model/syncState.ts';
import { newId } from '../model/values.ts';
import { openStore } from '../store/openStore.ts';
import type { LocalStore } from '../store/LocalStore.ts';
import type { Session } from '../store/Session.ts';
import type { Progress, SyncContext } from '../sync/SyncContext.ts';
import { SyncManager } from '../sync/manager/SyncManager.ts';
import { retryFileFailure } from '../sync/steps/retryFileFailure.ts';
import { retryTooLargeFailure } from '../sync/steps/retryTooLargeFailure.ts';
import { Synchronizer, type SyncActor, type SynchronizeOptions } from '../sync/Synchronizer.ts';
import type { SyncConfig, SyncRequest, SyncResult } from '../sync/types.ts';
import { SyncClient } from '../transport/SyncClient.ts';
import { isDeviceSideFailure, type ChangeResult, type SynchronizationFailure } from '../transport/wire.ts';
import { createFlowHost } from './flowHost.ts';
import { ByteMeter } from '../journal/ByteMeter.ts';
import { countUploads } from '../journal/countUploads.ts';
import { Journal, type JournalOptions } from '../journal/Journal.ts';
import { ProfileManager, type ProfileOptions } from '../profiles/ProfileManager.ts';

/**
 * Where runFlow and Call flow find flows by name: flow definitions (JSON or compiled) by name,
 * or a loader (e.g. one that reads `flows/<name>.flow.json`); `undefined` means unknown.
 */
export type FlowSource = Readonly<Record<string, unknown>> | ((name: string) => unknown | Promise<unknown>);

export interface RuntimeOptions {
  schema: Schema;
  /** The sync server, e.g. `http://127.0.0.1:4000`. */
  serverUrl: string;
  /** The user's bearer token. */
  token: string;
  /** Local database name; one per user and app (default derived from the server and token). */
  dbName?: string;
  /** Per-entity download settings of the all-objects mode (default: download all). */
  syncConfig?: SyncConfig;
  /** For Node: fake-indexeddb's `indexedDB` and `IDBKeyRange`. Browsers use their own. */
  indexedDB?: IDBFactory;
  IDBKeyRange?: typeof IDBKeyRange;
  /** Custom fetch (tests inject network faults with it). */
  fetch?: typeof fetch;
  /** File uploads: the largest file sent (default 64 MiB) and the bytes per resumable chunk (default 4 MiB). */
  files?: { maxFileSize?: number; chunkSize?: number };
  onProgress?: (progress: Progress) => void;
  /** Flows `runFlow(name)` and Call flow find by name (more with `registerFlows`). */
  flows?: FlowSource;
  /** JavaScript actions flows may call, by name (more with `registerActions`). */
  actions?: Readonly<Record<string, JavaScriptAction>>;
  /** The user's id, which '[%CurrentUser%]' stands for in flows (kept in the offline database). */
  user?: string;
  /** Named syncs the app declares: defined on first start, kept (with their checkpoints) after. */
  syncs?: readonly SyncDefinition[];
  /** Sync profiles (SmartSync): definitions (JSON or SmartSync.xml text) and settings; with definitions they start in the background. */
  profiles?: ProfileOptions;
  /** The sync journal's bound (default 500 entries). */
  journal?: JournalOptions;
}

/** The runtime's flow settings (createRuntime fills them from RuntimeOptions). */
export interface RuntimeFlowOptions {
  flows?: FlowSource;
  actions?: Readonly<Record<string, JavaScriptAction>>;
  user?: string | null;
}

export interface RunFlowOptions {
  /** Aborting it stops the flow before its next step and cancels a synchronization it runs. */
  signal?: AbortSignal;
  /** Hears each step started / ended, variable change, sync machine state, message and log. */
  onEvent?: FlowObserver;
  /** JavaScript actions for this run (over the runtime's, by name). */
  actions?: Readonly<Record<string, JavaScriptAction>>;
  /** Shows a flow's message to the user; awaited, so a dialog may wait for an answer. */
  showMessage?(message: { type: MessageType; text: string }): void | Promise<void>;
  log?(level: LogLevel, text: string): void;
  /** Flows for this run, looked up before the runtime's. */
  flows?: FlowSource;
  /** A step debugger (breakpoints, pause, stepping) for this run. */
  debug?: FlowDebugger;
  /** The app's uncommitted work to run in (default: a new session). */
  session?: Session;
  /** Each synchronization's machine (XState actor), as soon as it is created. */
  onActor?(actor: SyncActor): void;
  /** The clock of `currentDateTime()`. */
  now?: InterpreterOptions['now'];
  /** A run fails after this many steps (default 1,000,000). */
  maxSteps?: number;
}

/**
 * An app's embedded syncflow: the local offline database, the protocol client and the
 * Synchronize machines, wired together. Data flows one way: app or flow → runtime → sync
 * machine → store / client → server.
 *
 * @example
 * const runtime = await createRuntime({ schema, serverUrl: 'http://127.0.0.1:4000', token: 'alice-token' });
 * const session = runtime.session();
 * const task = session.create('Task', { title: 'Write the spec' });
 * await session.commit(task);
 * const result = await runtime.synchronize({ mode: 'unsynchronized' });
 */
export class Runtime {
  readonly synchronizer: Synchronizer;
  /** Named syncs: syncDown / syncUp / reSync / cleanResyncGhosts, stop and restart. */
  readonly syncs: SyncManager;
  /** The durable log of every sync run (Synchronize, named sync, ghost cleaning, profile). */
  readonly journal: Journal;
  /** Sync profiles: list, run(name), their last run and next trigger. */
  readonly profiles: ProfileManager;
  /** The user's id ('[%CurrentUser%]' in flows), or null when not known. */
  user: string | null;
  readonly #flows = new Map<string, unknown>();
  readonly #flowLoaders: Array<(name: string) => unknown | Promise<unknown>> = [];
  readonly #actions = new Map<string, JavaScriptAction>();

  constructor(
    readonly schema: Schema,
    readonly store: LocalStore,
    readonly client: SyncClient,
    syncConfig: SyncConfig,
    onProgress?: (progress: Progress) => void,
    flowOptions: RuntimeFlowOptions = {},
    extras: { journal?: Journal; profiles?: ProfileOptions } = {},
  ) {
    const journal = (this.journal = extras.journal ?? new Journal(store));
    const report = (p: Progress) => (journal.progress(p), onProgress?.(p));
    // The pipeline's client counts uploads per entity for the journal; `this.client` stays the plain one.
    const counted = countUploads(client, (entity, n) => journal.uploaded(entity, n));
    const context: SyncContext = { schema, store, client: counted, config: syncConfig, onProgress: report };
    this.synchronizer = new Synchronizer(context, store.db.name, journal.synchronizeHook);
    // One lock name: a named sync, a Synchronize and a profile never run at the same time.
    this.syncs = new SyncManager(context, store.db.name, journal.syncHook);
    this.profiles = new ProfileManager({ sync: context, lockName: store.db.name, journal, syncs: this.syncs }, extras.profiles);
    this.user = flowOptions.user ?? null;
    if (flowOptions.flows) this.registerFlows(flowOptions.flows);
    if (flowOptions.actions) this.registerActions(flowOptions.actions);
  }

  /** Live status of the synchronization (zustand store: subscribe / getState). */
  get status() {
    return this.synchronizer.status;
  }

  /** A unit of uncommitted work (create / change / commit / rollback). */
  session(): Session {
    return this.store.session();
  }

  /** Runs one synchronization; rejects with SimultaneousSyncError while another runs. */
  async synchronize(request: SyncRequest, options?: SynchronizeOptions): Promise<SyncResult> {
    const result = await this.synchronizer.synchronize(request, options);
    // The server knows who the token belongs to: learn it once online, for '[%CurrentUser%]'.
    if (this.user === null) await this.learnUser().catch(() => undefined);
    return result;
  }

  /** Asks the server who this runtime's token belongs to and keeps it with the local database. */
  async learnUser(): Promise<string> {
    const { user } = await this.client.me();
    await this.store.setMeta('user', user);
    this.user = user;
    return user;
  }

  /** The SynchronizationFailures kept on this device (the server keeps them too). */
  listFailures(): Promise<SynchronizationFailure[]> {
    return this.store.listFailures();
  }

  /**
   * Asks the server to apply a failed change again. On success the object comes back into
   * the local database and the failure is gone; otherwise the failure stays, with the
   * server's new message. A device-side failure (refused file contents, a change too large to
   * send) is sent again from the device: the server never had it.
   */
  async retryFailure(id: string): Promise<ChangeResult> {
    const failure = (await this.store.listFailures()).find((f) => f.id === id);
    // Refused file contents kept on the device: the server never had this failure; the retry uploads them again.
    if (failure?.file) return retryFileFailure(this.store, this.client, failure);
    // A change the server could not receive (too large): it never had this failure either; sent again.
    if (failure?.tooLarge) return retryTooLargeFailure(this.store, this.client, failure);
    const { result } = await this.client.retryFailure(id);
    if (result.status === 'applied') {
      if (result.object && failure) await this.store.applyServerObjects(failure.entity, [result.object]);
      await this.store.deleteFailure(id);
    } else {
      await this.store.putFailures([result.failure]);
    }
    return result;
  }

  /**
   * Gives up a failed change for good, on the server and on this device (for a conflict: the
   * server's version stays; for a refused create: the object kept on the device goes).
   */
  async dismissFailure(id: string): Promise<void> {
    const failure = (await this.store.listFailures()).find((f) => f.id === id);
    // Refused file contents kept on the device: the server never had this failure; they go with it.
    if (failure?.file) return this.store.deleteFailure(id);
    if (!failure || !isDeviceSideFailure(failure)) await this.client.dismissFailure(id);
    await this.store.deleteFailure(id);
    // A refused create kept on the device until now: given up, so it goes (the server never had
    // it). An object with a newer local change stays: that change is the user's latest word.
    // Its unsent file contents go with it: they belonged to the object given up.
    if (failure?.kind === 'create') await this.store.removeObjects(failure.entity, [failure.objectId], { discardFiles: true });
  }

  /**
   * The file contents a failure keeps on the device (one with `file`: contents the server
   * refused for good), or undefined.
   *
   * @example
   * const kept = await runtime.failureFile(failure.id); // { data, contentType }
   */
  failureFile(id: string): Promise<{ data: Uint8Array; contentType: string } | undefined> {
    return this.store.failureFile(id);
  }

  /**
   * Makes flows known by name to `runFlow` and Call flow: a record adds (or replaces) flows, a
   * loader is asked, in the order registered, for names the records do not have.
   *
   * @example
   * runtime.registerFlows({ editTaskAndSync: editTaskJson });
   * runtime.registerFlows(async (name) => (await fetch(`/flows/${name}.flow.json`)).json());
   */
  registerFlows(flows: FlowSource): void {
    if (typeof flows === 'function') this.#flowLoaders.push(flows);
    else for (const [name, flow] of Object.entries(flows)) this.#flows.set(name, flow);
  }

  /**
   * Makes JavaScript actions callable from flows (Call JavaScript action), by name.
   *
   * @example
   * runtime.registerActions({ notify: async ({ text }) => showToast(String(text)) });
   */
  registerActions(actions: Readonly<Record<string, JavaScriptAction>>): void {
    for (const [name, action] of Object.entries(actions)) {
      if (typeof action !== 'function') throw new SyncflowError('validation_failed', `JavaScript action "${name}" is not a function`);
      this.#actions.set(name, action);
    }
  }

  /**
   * Runs a flow (by name, as JSON, or compiled) with its parameters against this runtime's
   * offline database and sync server, and returns its return value. Rejects with the typed
   * error that ended it: FlowValidationError (the flow never started), ValidationError (bad
   * parameters), the error of an activity no handler caught, or `flow_cancelled`. Flows it
   * calls are loaded before it starts, so a call to an unknown flow fails validation.
   *
   * @example
   * const task = await runtime.runFlow('editTaskAndSync', { task, title: 'Ship it' }, {
   *   onEvent: (e) => { if (e.type === 'syncState') console.log(e.status.machineState, e.status.done); },
   *   showMessage: (m) => alert(m.text),
   * });
   */
  async runFlow(flow: unknown, parameters: Record<string, unknown> = {}, options: RunFlowOptions = {}): Promise<unknown> {
    // An aborted signal is the interpreter's to report: it fails the run with flow_cancelled.
    const { interpreter, target } = await this.#prepare(flow, options);
    return interpreter.run(target, parameters, { signal: options.signal, session: options.session, onEvent: options.onEvent, debug: options.debug });
  }

  /**
   * Validates and compiles a flow (by name or as JSON) with the flows it calls, without running
   * it: throws FlowValidationError naming each problem's node and field. `runFlow` takes the result.
   *
   * @example
   * const flow = await runtime.loadFlow(JSON.parse(text));
   * console.log(flow.parameters.map((p) => p.name));
   */
  async loadFlow(flow: unknown, options: Pick<RunFlowOptions, 'flows'> = {}): Promise<CompiledFlow> {
    const { interpreter, target } = await this.#prepare(flow, options);
    return typeof target === 'string' ? interpreter.resolve(target) : interpreter.load(target);
  }

  /** An interpreter for one run: its flows found (called ones included) and a host with the run's handlers. */
  async #prepare(flow: unknown, options: RunFlowOptions): Promise<{ interpreter: Interpreter; target: unknown }> {
    const sources: FlowSource[] = [...(options.flows ? [options.flows] : []), Object.fromEntries(this.#flows), ...this.#flowLoaders];
    const loaded = new Map<string, unknown>();
    const find = async (name: string): Promise<unknown> => {
      if (loaded.has(name)) return loaded.get(name);
      let found: unknown;
      for (const source of sources) {
        found = typeof source === 'function' ? await source(name) : Object.hasOwn(source, name) ? source[name] : undefined;
        if (found !== undefined && found !== null) break;
      }
      loaded.set(name, found ?? undefined);
      return found ?? undefined;
    };
    const root = typeof flow === 'string' ? await find(flow) : flow;
    if (root === undefined) throw new SyncflowError('not_found', `Unknown flow "${String(flow)}"`);
    // Called flows are loaded up front (loaders may be async), so the flow's calls are checked when it loads.
    const pending = calledFlows(root);
    while (pending.length) {
      const name = pending.pop()!;
      if (loaded.has(name)) continue;
      const sub = await find(name);
      if (sub !== undefined) pending.push(...calledFlows(sub));
    }
    const host = createFlowHost(this, {
      actions: { ...Object.fromEntries(this.#actions), ...options.actions },
      showMessage: options.showMessage,
      log: options.log,
      onActor: options.onActor,
      signal: options.signal,
      loadFlow: find,
    });
    const interpreter = new Interpreter(host, { flows: (name) => loaded.get(name), now: options.now, maxSteps: options.maxSteps });
    return { interpreter, target: typeof flow === 'string' ? flow : root };
  }

  close(): void {
    this.profiles.close();
    this.synchronizer.cancel();
    this.syncs.stop();
    this.store.close();
  }
}

/** Opens the local database and connects a runtime to the sync server. */
export async function createRuntime(options: RuntimeOptions): Promise<Runtime> {
  const dbName = options.dbName ?? `syncflow:${new URL(options.serverUrl).host}:${await digest(options.token)}`;
  const store = await openStore({
    schema: options.schema,
    name: dbName,
    indexedDB: options.indexedDB,
    IDBKeyRange: options.IDBKeyRange,
  });
  let deviceId = await store.getMeta<string>('deviceId');
  if (!deviceId) {
    deviceId = newId();
    await store.setMeta('deviceId', deviceId);
  }
  const meter = new ByteMeter(options.fetch ?? ((input, init) => globalThis.fetch(input, init)));
  const client = new SyncClient({
    baseUrl: options.serverUrl,
    token: options.token,
    deviceId,
    fetch: meter.fetch,
    maxFileSize: options.files?.maxFileSize,
    fileChunkSize: options.files?.chunkSize,
  });
  // The user is kept with the database: a later start without `user` still knows it.
  if (options.user) await store.setMeta('user', options.user);
  const user = options.user ?? (await store.getMeta<string>('user')) ?? null;
  const runtime = new Runtime(options.schema, store, client, options.syncConfig ?? {}, options.onProgress, {
    flows: options.flows,
    actions: options.actions,
    user,
  }, { journal: new Journal(store, meter, options.journal), profiles: options.profiles });
  if (options.syncs?.length) await runtime.syncs.ensureDefined(options.syncs);
  if (options.profiles?.definitions !== undefined) runtime.profiles.start();
  return runtime;
}

/** The names of the flows a flow's Call flow activities call (without validating the flow). */
function calledFlows(flow: unknown): string[] {
  const definition = isCompiledFlow(flow) ? flow.definition : flow;
  const nodes = (definition as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes)) return [];
  const names: string[] = [];
  for (const node of nodes) {
    const activity = (node as { activity?: { type?: unknown; flow?: unknown } } | null)?.activity;
    if (activity?.type === 'callFlow' && typeof activity.flow === 'string') names.push(activity.flow);
  }
  return names;
}

/** A short, stable name part for a token, without keeping the token itself in the name. */
async function digest(text: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(bytes.slice(0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
}
