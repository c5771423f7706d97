import type { Constraint } from '../model/constraint.ts';
import type { Session } from '../store/Session.ts';
import type { LocalObject } from '../store/types.ts';
import type { SynchronizationFailure } from '../transport/wire.ts';

export type SyncMode = 'all' | 'unsynchronized' | 'selected';

/** What a Synchronize activity (or an app) asks for. */
export type SyncRequest =
  | { mode: 'all' }
  | { mode: 'unsynchronized' }
  | {
      mode: 'selected';
      /** Objects and lists chosen by the flow; nested lists are flattened. */
      objects: ReadonlyArray<LocalObject | ReadonlyArray<LocalObject | null | undefined> | null | undefined>;
      /** The caller's uncommitted work: objects it holds uncommitted are skipped. */
      session?: Session;
    };

/** Per-entity download setting of the all-objects mode (Mendix's synchronization configuration). */
export type EntitySyncConfig =
  | { download: 'all' }
  | { download: 'constraint'; constraint: Constraint }
  | { download: 'nothing' };

export type SyncConfig = Readonly<Record<string, EntitySyncConfig>>;

export interface SyncResult {
  mode: SyncMode;
  uploaded: number;
  downloaded: number;
  /** Local objects removed because the server no longer has them for this user. */
  removed: number;
  failed: number;
  /** The SynchronizationFailures this run created (also kept in the local store). */
  failures: SynchronizationFailure[];
  /** Selected mode: ids skipped because they were uncommitted. */
  skipped: string[];
  /** Ids of objects removed locally: in selected mode the flow's variables holding them become empty. */
  removedIds: string[];
  /**
   * File contents moved by this run (absent when none): uploaded (attached on the device) and
   * downloaded; `refused` files the server will not take as they stand (too large, object gone
   * or read-only): each is kept on the device by a SynchronizationFailure (`failureId`, also in
   * `failures`), not sent again until retried.
   */
  files?: { uploaded: number; downloaded: number; refused: Array<{ entity: string; id: string; code: string; message: string; failureId?: string }> };
}

export type SyncPhase = 'upload' | 'download' | 'files' | 'refresh';

/** The live state of the running synchronization, for UIs (zustand store) and flows. */
export interface SyncStatus {
  running: boolean;
  mode: SyncMode | null;
  phase: SyncPhase | null;
  entity: string | null;
  done: number;
  total: number | null;
  /** The sync machine's current state value, e.g. "uploading" (null when idle). */
  machineState: string | null;
  /**
   * Set when the state is the named-sync manager's (`manager`: a reSync or ghost cleaning run
   * by a flow), with the task, e.g. `reSync openTasks`; absent for the Synchronize machines.
   */
  machine?: 'manager';
  task?: string;
  /** The last run's outcome. */
  lastResult: SyncResult | null;
  lastError: { code: string; message: string } | null;
}
