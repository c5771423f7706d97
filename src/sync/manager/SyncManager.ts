import { createActor, waitFor, type Actor } from 'xstate';
import { SyncManagerStoppedError, SyncNameTakenError, SyncRunningError, SyncStoppedError, UnknownSyncError, ValidationError } from '../../errors.ts';
import type { SyncDefinition, SyncDownOptions, SyncDownTarget, SyncState, SyncUpdate, SyncUpOptions, SyncUpTarget } from '../../model/syncState.ts';
import { acquireSyncLock } from '../lock.ts';
import type { SyncContext } from '../SyncContext.ts';
import { cleanGhosts } from './cleanGhostsTask.ts';
import { managerMachine, type ManagerTask } from './managerMachine.ts';
import { runSyncDown } from './syncDownTask.ts';
import { newSyncDown, newSyncUp } from './syncStates.ts';
import { runSyncUp } from './syncUpTask.ts';

const ignore: SyncUpdate = () => undefined;

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** The thunk that settles a caller's promise with a task's outcome (called by the manager machine). */
function settler<T>(resolve: (value: T) => void, reject: (error: unknown) => void) {
  return (outcome: Outcome<T>) => () => (outcome.ok ? resolve(outcome.value) : reject(outcome.error));
}

/**
 * Named syncs (Salesforce Mobile Sync's sync manager, made stricter): define sync downs and
 * sync ups, run them full (`syncDown`, `syncUp`) or incrementally (`reSync`), clean ghosts,
 * and stop / restart everything. Each sync's state is persisted in the local database.
 *
 * Tasks run one at a time in submission order (the manager machine's queue), and each takes
 * the database's sync lock: a Synchronize activity and a named sync never run together; the
 * one that comes second fails with SimultaneousSyncError and changes nothing.
 *
 * @example
 * await runtime.syncs.defineSyncDown({ entity: 'Task', constraint: { attribute: 'done', op: 'ne', value: true } }, { name: 'openTasks' });
 * await runtime.syncs.reSync('openTasks');            // full the first time, then only the delta
 * const removed = await runtime.syncs.cleanResyncGhosts('openTasks');
 */
export class SyncManager {
  /** The manager machine's actor: inspectable (getSnapshot, subscribe). */
  readonly actor: Actor<typeof managerMachine>;
  /** Ids of syncs queued or running in this manager. */
  readonly #busy = new Set<string>();
  #recovered: Promise<void> | null = null;

  constructor(
    private readonly context: SyncContext,
    private readonly lockName: string,
    /** Wraps each task's run under the lock (the runtime's sync journal records it). */
    private readonly journal?: <T>(state: SyncState, run: () => Promise<T>) => Promise<T>,
  ) {
    this.actor = createActor(managerMachine).start();
  }

  /** Defines a sync down without running it (its first reSync is full). */
  async defineSyncDown(target: SyncDownTarget, options: SyncDownOptions & { name?: string } = {}): Promise<SyncState> {
    const state = newSyncDown(this.context.schema, target, options);
    await this.context.store.createSyncState(state);
    return state;
  }

  /** Defines a sync up without running it. */
  async defineSyncUp(target: SyncUpTarget, options: SyncUpOptions & { name?: string } = {}): Promise<SyncState> {
    const state = newSyncUp(this.context.schema, target, options);
    await this.context.store.createSyncState(state);
    return state;
  }

  /**
   * Defines the declared syncs that this device does not have yet (by name); existing ones keep
   * their state and checkpoint. Returns the states of all of them.
   */
  async ensureDefined(definitions: readonly SyncDefinition[]): Promise<SyncState[]> {
    const out: SyncState[] = [];
    for (const d of definitions) {
      const existing = await this.context.store.findSyncState(d.name);
      if (existing && existing.type !== d.type) throw new SyncNameTakenError(d.name);
      out.push(
        existing ??
          (d.type === 'syncDown'
            ? await this.defineSyncDown(d.target, { ...d.options, name: d.name })
            : await this.defineSyncUp(d.target, { ...d.options, name: d.name })),
      );
    }
    return out;
  }

  /**
   * A full sync down: of a new target (defined here, with an optional unique name), or of a
   * defined sync by id or name. Resolves with the final state (done, failed or stopped).
   */
  async syncDown(
    target: SyncDownTarget | string,
    options: SyncDownOptions & { name?: string } = {},
    onUpdate: SyncUpdate = ignore,
  ): Promise<SyncState> {
    this.#assertAccepting();
    const state = typeof target === 'string' ? await this.#find(target, 'syncDown') : await this.defineSyncDown(target, options);
    return this.#submitSync(state, true, onUpdate);
  }

  /**
   * A sync up of a new target (defined here) or of a defined one: uploads its entity's local
   * changes; `mergeMode: 'leaveIfChanged'` keeps records changed on the server since (conflict failures).
   */
  async syncUp(target: SyncUpTarget | string, options: SyncUpOptions & { name?: string } = {}, onUpdate: SyncUpdate = ignore): Promise<SyncState> {
    this.#assertAccepting();
    const state = typeof target === 'string' ? await this.#find(target, 'syncUp') : await this.defineSyncUp(target, options);
    return this.#submitSync(state, true, onUpdate);
  }

  /**
   * Runs a defined sync incrementally: a sync down fetches only what changed since its last
   * completed run (a full run if it never ran; an unfinished run resumes where it stopped);
   * a sync up uploads what is still marked. Unknown id or name, or a sync already queued or
   * running: a typed error at once.
   */
  async reSync(idOrName: string, onUpdate: SyncUpdate = ignore): Promise<SyncState> {
    this.#assertAccepting();
    return this.#submitSync(await this.#find(idOrName), false, onUpdate);
  }

  /**
   * Removes the local objects a sync down wrote that the server no longer has for the user or
   * that no longer match its target; never a locally modified one. Returns how many were removed.
   */
  async cleanResyncGhosts(idOrName: string): Promise<number> {
    this.#assertAccepting();
    const state = await this.#find(idOrName, 'syncDown');
    this.#claim(state);
    return new Promise<number>((resolve, reject) => {
      this.#submit({
        kind: 'cleanGhosts',
        label: `cleanResyncGhosts ${state.name ?? state.id}`,
        controller: new AbortController(),
        execute: (signal) => this.#locked(state, () => cleanGhosts(this.context, state, signal)).then(settler(resolve, reject)),
        cancelQueued: async () => {
          this.#busy.delete(state.id);
          reject(new SyncStoppedError(`Ghost cleaning of sync "${state.name ?? state.id}"`));
        },
        refuse: () => {
          this.#busy.delete(state.id);
          reject(new SyncManagerStoppedError());
        },
      });
    });
  }

  /** A sync's persisted state, by id or name. */
  async getSyncStatus(idOrName: string): Promise<SyncState | undefined> {
    await this.#recover();
    return this.context.store.findSyncState(idOrName);
  }

  /** Every defined sync's state. */
  async listSyncs(): Promise<SyncState[]> {
    await this.#recover();
    return this.context.store.listSyncStates();
  }

  /** Forgets a sync (not while it is queued or running); its objects stay on the device. */
  async deleteSync(idOrName: string): Promise<void> {
    const state = await this.#find(idOrName);
    if (this.#busy.has(state.id)) throw new SyncRunningError(idOrName);
    await this.context.store.deleteSyncState(state.id);
  }

  /**
   * Asks every running and queued task to stop: sync downs and ups end with status stopped
   * (resumable with reSync or restart(true)), a ghost cleaning fails; syncs submitted from now
   * on fail at once until restart().
   */
  stop(): void {
    this.actor.send({ type: 'STOP' });
  }

  /** A stop was asked and a task still runs. */
  isStopping(): boolean {
    const s = this.actor.getSnapshot();
    return s.matches({ busy: 'stopping' }) || s.matches({ busy: 'restarting' });
  }

  /** A stop was asked and every task has ended. */
  isStopped(): boolean {
    return this.actor.getSnapshot().matches('stopped');
  }

  /**
   * Accepts syncs again (after the running task, if the manager is still stopping). With
   * `restartStoppedSyncs`, every stopped sync down and sync up is reSynced, reporting each
   * update to `onUpdate`; resolves with their final states.
   */
  async restart(restartStoppedSyncs: boolean, onUpdate: SyncUpdate = ignore): Promise<SyncState[]> {
    this.actor.send({ type: 'RESTART' });
    await waitFor(this.actor, (s) => !s.matches({ busy: 'stopping' }) && !s.matches({ busy: 'restarting' }));
    if (!restartStoppedSyncs) return [];
    await this.#recover();
    const stopped = (await this.context.store.listSyncStates()).filter((s) => s.status === 'stopped' && !this.#busy.has(s.id));
    return Promise.all(stopped.map((s) => this.#submitSync(s, false, onUpdate)));
  }

  // ---------------------------------------------------------------- internals

  #assertAccepting(): void {
    if (this.isStopping() || this.isStopped()) throw new SyncManagerStoppedError();
  }

  async #find(idOrName: string, type?: SyncState['type']): Promise<SyncState> {
    await this.#recover();
    const state = await this.context.store.findSyncState(idOrName);
    if (!state) throw new UnknownSyncError(idOrName);
    if (type && state.type !== type) {
      throw ValidationError.at('idOrName', `"${idOrName}" is a ${state.type === 'syncUp' ? 'sync up' : 'sync down'}; this needs a ${type === 'syncUp' ? 'sync up' : 'sync down'}`);
    }
    return state;
  }

  /** A sync may be queued once: a second reSync of it while it is queued or running is refused. */
  #claim(state: SyncState): void {
    if (this.#busy.has(state.id)) throw new SyncRunningError(state.name ?? state.id);
    this.#busy.add(state.id);
  }

  #submitSync(state: SyncState, full: boolean, onUpdate: SyncUpdate): Promise<SyncState> {
    this.#assertAccepting();
    this.#claim(state);
    return new Promise<SyncState>((resolve, reject) => {
      const markStopped = async () => {
        const latest = (await this.context.store.findSyncState(state.id)) ?? state;
        const stopped: SyncState = { ...latest, status: 'stopped', endTime: new Date().toISOString() };
        await this.context.store.putSyncState(stopped);
        onUpdate(stopped);
        return stopped;
      };
      this.#submit({
        kind: state.type,
        label: `${full ? state.type : 'reSync'} ${state.name ?? state.id}`,
        controller: new AbortController(),
        execute: (signal) =>
          this.#locked(state, async () => {
            // Re-read: the state may have changed while the task waited in the queue.
            const latest = (await this.context.store.findSyncState(state.id)) ?? state;
            return latest.type === 'syncDown'
              ? runSyncDown(this.context, latest, full, signal, onUpdate)
              : runSyncUp(this.context, latest, signal, onUpdate);
          }).then(settler(resolve, reject)),
        // Taken out of the queue by stop(): stopped without running, resumable like any stopped sync.
        cancelQueued: () =>
          markStopped()
            .then(resolve, reject)
            .finally(() => this.#busy.delete(state.id)),
        refuse: () => {
          this.#busy.delete(state.id);
          reject(new SyncManagerStoppedError());
        },
      });
    });
  }

  #submit(task: ManagerTask): void {
    this.actor.send({ type: 'SUBMIT', task });
  }

  /**
   * Runs a task under the database's sync lock (SimultaneousSyncError, state untouched, when
   * it is taken); never rejects: the outcome is settled later by the manager.
   */
  async #locked<T>(state: SyncState, run: () => Promise<T>): Promise<Outcome<T>> {
    try {
      const release = await acquireSyncLock(this.lockName);
      try {
        return { ok: true, value: await (this.journal ? this.journal(state, run) : run()) };
      } finally {
        release();
      }
    } catch (error) {
      return { ok: false, error };
    } finally {
      this.#busy.delete(state.id);
    }
  }

  /**
   * A sync persisted as running when this manager starts was cut by a crash or a closed tab:
   * it is stopped (its checkpoint is intact), so reSync or restart(true) resumes it.
   */
  #recover(): Promise<void> {
    this.#recovered ??= (async () => {
      for (const state of await this.context.store.listSyncStates()) {
        if (state.status === 'running') await this.context.store.putSyncState({ ...state, status: 'stopped' });
      }
    })();
    return this.#recovered;
  }
}
