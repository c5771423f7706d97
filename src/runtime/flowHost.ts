/**
 * The flow interpreter's host over an embedded Runtime: its offline database, its Synchronize
 * machines and SynchronizationFailures, plus the app's JavaScript actions and message and log
 * handlers. While a Synchronize activity runs, the observer hears every state the sync machine
 * enters (its final state too) together with the live progress; while a reSync or ghost cleaning
 * runs, the named-sync manager's states and the sync's progress (status.machine = 'manager').
 */
import { SyncflowError } from '../errors.ts';
import type { FlowHost, JavaScriptAction, LogLevel, MessageType } from '../flow/types.ts';
import type { SyncActor } from '../sync/Synchronizer.ts';
import type { SyncRequest, SyncResult, SyncStatus } from '../sync/types.ts';
import type { Runtime } from './Runtime.ts';
import type { SyncUpdate } from '../model/syncState.ts';
import type { SyncManager } from '../sync/manager/SyncManager.ts';

export interface RuntimeFlowHostOptions {
  /** Each synchronization's machine, as soon as it is created (before it starts). */
  onActor?(actor: SyncActor): void;
  /** The JavaScript actions flows may call, by name. */
  actions?: Readonly<Record<string, JavaScriptAction>>;
  /** Shows a flow's message to the user (awaited: a dialog may wait for the user). */
  showMessage?(message: { type: MessageType; text: string }): void | Promise<void>;
  log?(level: LogLevel, text: string): void;
  /** Loads a flow by name for Call flow. */
  loadFlow?(name: string): Promise<unknown>;
  /** The user '[%CurrentUser%]' stands for (default: the runtime's user). */
  currentUser?: string | null;
  /** Aborting it cancels a synchronization this host started (the machine stops at its next consistent point). */
  signal?: AbortSignal;
  /**
   * The named-sync manager's machine (XState actor) when a reSync or ghost cleaning starts, with
   * the task (`reSync openTasks`); the function it returns, if any, is called when the task ends.
   */
  onManager?(actor: SyncManager['actor'], task: string): (() => void) | void;
}

/**
 * A FlowHost over a runtime.
 *
 * @example
 * const host = createFlowHost(runtime, { showMessage: (m) => alert(m.text) });
 * const result = await new Interpreter(host).run(flowJson, { task });
 */
export function createFlowHost(runtime: Runtime, options: RuntimeFlowHostOptions = {}): FlowHost {
  return {
    schema: runtime.schema,
    store: runtime.store,
    synchronize: (request, observe) => synchronizeObserved(runtime, request, observe, options),
    listFailures: () => runtime.listFailures(),
    retryFailure: (id) => runtime.retryFailure(id),
    dismissFailure: (id) => runtime.dismissFailure(id),
    reSync: (idOrName, observe) =>
      managerObserved(runtime, `reSync ${idOrName}`, observe, options, (onUpdate) => runtime.syncs.reSync(idOrName, onUpdate)),
    cleanResyncGhosts: (idOrName, observe) =>
      managerObserved(runtime, `cleanResyncGhosts ${idOrName}`, observe, options, () => runtime.syncs.cleanResyncGhosts(idOrName)),
    // The run's own signal (the flow stopped), and the host's (as for Synchronize).
    runProfile: (name, run) => runtime.profiles.run(name, 'flow', { signal: anySignal(run?.signal, options.signal) }),
    profileNames: () => {
      const names = runtime.profiles.names();
      // An app without profiles (yet: the CLI defines them after loading) checks names when they run.
      return names.length ? names : undefined;
    },
    actions: options.actions ? { ...options.actions } : undefined,
    showMessage: options.showMessage,
    log: options.log,
    loadFlow: options.loadFlow,
    // Read when a Retrieve runs: the runtime may learn its user after the host was made.
    get currentUser() {
      return options.currentUser !== undefined ? options.currentUser : runtime.user;
    },
  };
}

async function synchronizeObserved(
  runtime: Runtime,
  request: SyncRequest,
  observe: ((status: SyncStatus) => void) | undefined,
  options: RuntimeFlowHostOptions,
): Promise<SyncResult> {
  if (options.signal?.aborted) {
    throw new SyncflowError('sync_cancelled', 'The synchronization did not start: the run was cancelled', { cause: options.signal.reason });
  }
  let actor: SyncActor | null = null;
  let last: SyncStatus | null = null;
  const stops: Array<() => void> = [];

  // One status per change, built from the machine's own snapshot: the runtime's status store
  // clears machineState when the machine ends, but observers should see the final state it reached.
  const report = () => {
    if (!observe || !actor) return;
    const snapshot = actor.getSnapshot();
    const status: SyncStatus = {
      ...runtime.status.getState(),
      machineState: stateName(snapshot.value),
      running: snapshot.status === 'active',
    };
    if (last && sameStatus(last, status)) return;
    last = status;
    observe(status);
  };
  const cancel = () => actor?.send({ type: 'CANCEL' });
  options.signal?.addEventListener('abort', cancel, { once: true });

  try {
    return await runtime.synchronize(request, {
      onActor: (a) => {
        actor = a;
        options.onActor?.(a);
        if (!observe) return;
        // Subscribed only once this run's machine exists: a sync refused as simultaneous reports
        // nothing, and another run's progress never leaks into this flow's events.
        stops.push(runtime.status.subscribe(report));
        const subscription = a.subscribe({ next: report, complete: report, error: () => undefined });
        stops.push(() => subscription.unsubscribe());
      },
    });
  } finally {
    options.signal?.removeEventListener('abort', cancel);
    for (const stop of stops) stop();
  }
}

/**
 * Runs a named-sync task and reports, like Synchronize does, every state the manager machine
 * enters while the task runs (its state once the task ended too) with the sync's progress: a
 * sync down's batches (phase download), a sync up's changes (phase upload).
 */
async function managerObserved<T>(
  runtime: Runtime,
  task: string,
  observe: ((status: SyncStatus) => void) | undefined,
  options: RuntimeFlowHostOptions,
  run: (onUpdate: SyncUpdate) => Promise<T>,
): Promise<T> {
  const actor = runtime.syncs.actor;
  const done = options.onManager?.(actor, task);
  let running = true;
  let last: SyncStatus | null = null;
  let progress: Pick<SyncStatus, 'phase' | 'entity' | 'done' | 'total' | 'lastError'> = { phase: null, entity: null, done: 0, total: null, lastError: null };
  const report = () => {
    if (!observe) return;
    const status: SyncStatus = {
      running,
      mode: null,
      ...progress,
      machineState: stateName(actor.getSnapshot().value),
      lastResult: null,
      machine: 'manager',
      task,
    };
    if (last && sameStatus(last, status)) return;
    last = status;
    observe(status);
  };
  const onUpdate: SyncUpdate = (state) => {
    const total = state.totalSize;
    progress = {
      phase: state.type === 'syncDown' ? 'download' : 'upload',
      entity: state.target.entity,
      done: total === null ? 0 : Math.round((total * state.progress) / 100),
      total,
      lastError: state.error ? { code: state.error.code, message: state.error.message } : null,
    };
    report();
  };
  const subscription = observe ? actor.subscribe(report) : null;
  try {
    // The subscription hears the manager take the task (busy.working), its progress, its end.
    return await run(onUpdate);
  } catch (error) {
    progress = { ...progress, lastError: { code: (error as { code?: string }).code ?? 'internal', message: (error as Error).message } };
    throw error;
  } finally {
    running = false;
    report();
    subscription?.unsubscribe();
    done?.();
  }
}

/** A machine's state value as one name: `uploading`, or `downloading.entity` for nested states. */
export function stateName(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) {
    const [key, inner] = Object.entries(value)[0] ?? [];
    if (key === undefined) return '';
    const rest = stateName(inner);
    return rest ? `${key}.${rest}` : key;
  }
  return String(value);
}

const STATUS_KEYS = ['running', 'mode', 'phase', 'entity', 'done', 'total', 'machineState', 'lastResult', 'lastError', 'task'] as const;

function sameStatus(a: SyncStatus, b: SyncStatus): boolean {
  return STATUS_KEYS.every((k) => a[k] === b[k]);
}

/** One signal for several (either aborting aborts it); undefined when none is given. */
function anySignal(...signals: Array<AbortSignal | undefined>): AbortSignal | undefined {
  const given = signals.filter((s): s is AbortSignal => s !== undefined);
  return given.length <= 1 ? given[0] : AbortSignal.any(given);
}
