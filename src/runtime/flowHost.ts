/**
 * The flow interpreter's host over an embedded Runtime: its offline database, its Synchronize
 * machines and SynchronizationFailures, plus the app's JavaScript actions and message and log
 * handlers. While a Synchronize activity runs, the observer hears every state the sync machine
 * enters (its final state too) together with the live progress.
 */
import { SyncflowError } from '../errors.ts';
import type { FlowHost, JavaScriptAction, LogLevel, MessageType } from '../flow/types.ts';
import type { SyncActor } from '../sync/Synchronizer.ts';
import type { SyncRequest, SyncResult, SyncStatus } from '../sync/types.ts';
import type { Runtime } from './Runtime.ts';

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
    reSync: (idOrName) => runtime.syncs.reSync(idOrName),
    cleanResyncGhosts: (idOrName) => runtime.syncs.cleanResyncGhosts(idOrName),
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

const STATUS_KEYS = ['running', 'mode', 'phase', 'entity', 'done', 'total', 'machineState', 'lastResult', 'lastError'] as const;

function sameStatus(a: SyncStatus, b: SyncStatus): boolean {
  return STATUS_KEYS.every((k) => a[k] === b[k]);
}
