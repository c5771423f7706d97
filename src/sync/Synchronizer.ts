import { createActor, type Actor, type AnyStateMachine } from 'xstate';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { SyncflowError, toSyncflowError } from '../errors.ts';
import { acquireSyncLock } from './lock.ts';
import { allObjectsMachine } from './machines/allObjects.ts';
import { selectedMachine } from './machines/selected.ts';
import type { SyncMachineOutput } from './machines/shared.ts';
import { unsynchronizedMachine } from './machines/unsynchronized.ts';
import type { SyncContext } from './SyncContext.ts';
import type { SyncMode, SyncRequest, SyncResult, SyncStatus } from './types.ts';

export const syncMachines: Record<SyncMode, AnyStateMachine> = {
  all: allObjectsMachine,
  unsynchronized: unsynchronizedMachine,
  selected: selectedMachine,
};

export type SyncActor = Actor<typeof allObjectsMachine | typeof unsynchronizedMachine | typeof selectedMachine>;

const idle: SyncStatus = {
  running: false,
  mode: null,
  phase: null,
  entity: null,
  done: 0,
  total: null,
  machineState: null,
  lastResult: null,
  lastError: null,
};

export interface SynchronizeOptions {
  /** Called with the machine's actor as soon as it starts (to inspect or subscribe to it). */
  onActor?: (actor: SyncActor) => void;
}

/**
 * Runs the Synchronize machines, one at a time per database (across tabs with Web Locks),
 * and keeps a zustand store of the live status for UIs.
 *
 * @example
 * const result = await synchronizer.synchronize({ mode: 'unsynchronized' });
 * synchronizer.status.subscribe((s) => console.log(s.machineState, s.done, s.total));
 */
export class Synchronizer {
  readonly status: StoreApi<SyncStatus> = createStore<SyncStatus>(() => idle);
  #actor: SyncActor | null = null;

  constructor(
    private readonly context: SyncContext,
    private readonly lockName: string,
    /** Wraps each run under the lock (the runtime's sync journal records it). */
    private readonly journal?: (request: SyncRequest, run: () => Promise<SyncResult>) => Promise<SyncResult>,
  ) {}

  /** The running machine's actor, or null: inspectable (getSnapshot, subscribe) and cancellable. */
  get actor(): SyncActor | null {
    return this.#actor;
  }

  /**
   * Runs one synchronization. Fails at once with SimultaneousSyncError while another runs
   * (nothing queued, nothing changed); otherwise resolves with the result or rejects with
   * the typed error that ended it.
   */
  synchronize(request: SyncRequest, options: SynchronizeOptions = {}): Promise<SyncResult> {
    // The lock is taken synchronously here, before any await: of two calls in one tick, one wins.
    const locked = acquireSyncLock(this.lockName);
    return locked.then(async (release) => {
      try {
        return await (this.journal ? this.journal(request, () => this.#run(request, options)) : this.#run(request, options));
      } finally {
        this.#actor = null;
        release();
      }
    });
  }

  /** Asks the running synchronization to stop at its next consistent point. */
  cancel(): void {
    this.#actor?.send({ type: 'CANCEL' });
  }

  #run(request: SyncRequest, options: SynchronizeOptions): Promise<SyncResult> {
    const machine = syncMachines[request.mode];
    const sync: SyncContext = {
      ...this.context,
      onProgress: (p) => {
        this.status.setState({ phase: p.phase, entity: p.entity, done: p.done, total: p.total });
        this.context.onProgress?.(p);
      },
    };
    this.status.setState({ ...idle, running: true, mode: request.mode, lastResult: null, lastError: null });
    const actor = createActor(machine, { input: { sync, request } }) as SyncActor;
    this.#actor = actor;

    return new Promise<SyncResult>((resolve, reject) => {
      actor.subscribe({
        next: (snapshot) => {
          if (snapshot.status === 'active') this.status.setState({ machineState: String(snapshot.value) });
        },
        complete: () => {
          const output = actor.getSnapshot().output as SyncMachineOutput;
          if (output.state === 'done') {
            this.status.setState({ running: false, machineState: null, phase: null, lastResult: output.result });
            resolve(output.result);
          } else {
            const error =
              output.error ??
              new SyncflowError('sync_cancelled', 'The synchronization was cancelled; local changes stay marked for the next one');
            this.status.setState({ running: false, machineState: null, phase: null, lastError: error.toJSON() });
            reject(error);
          }
        },
        error: (e) => {
          const error = toSyncflowError(e);
          this.status.setState({ running: false, machineState: null, lastError: error.toJSON() });
          reject(error);
        },
      });
      options.onActor?.(actor);
      actor.start();
    });
  }
}
