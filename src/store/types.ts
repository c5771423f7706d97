import type { SyncState } from '../model/syncState.ts';
import type { Constraint } from '../model/constraint.ts';
import type { SyncObject, Values } from '../model/values.ts';
import type { Schema } from '../model/schema.ts';
import type { ChangeKind, SynchronizationFailure } from '../transport/wire.ts';

/** An object read from the local store or made by a session; `$entity` names its entity. */
export type LocalObject = SyncObject & { readonly $entity: string };

/**
 * A committed local change that the server has not confirmed yet. One per object: later
 * commits merge into it (the `changed` members are unioned, `seq` and `changeId` renewed).
 */
export interface LocalChange {
  entity: string;
  id: string;
  kind: ChangeKind;
  /** Changed members (update); every member (create); empty (delete). */
  changed: string[];
  /** Store-wide increasing number of the commit that last touched this change. */
  seq: number;
  /** Sent to the server; stays the same until the object is committed again (idempotent retries). */
  changeId: string;
  /** For deletes: the object's last values, so a refused delete can be reported and restored. */
  data?: Values;
  /**
   * Creates: sent to the server at least once, so the server may have the object even though no
   * answer arrived. A local delete then becomes a delete to send instead of dropping the create.
   */
  sent?: boolean;
}

export interface QueryOptions {
  where?: Constraint;
  /** Ties are broken by `id`; empty (null) values sort last ascending, first descending, as in PostgreSQL. */
  sort?: Array<[member: string, direction: 'asc' | 'desc']>;
  limit?: number;
  offset?: number;
  /** The value of `[%CurrentUser%]` in `where` (default null, as matchConstraint does: `eq` then matches empty values). */
  currentUser?: string | null;
}

/** The server's answer for one uploaded change, handed back to the store. */
/** The server refused an uploaded change: what `LocalStore.refuse` records and reverts. */
export interface Refusal {
  entity: string;
  id: string;
  /** The `seq` of the change that was uploaded. */
  seq: number;
  /** The server's SynchronizationFailure, holding the discarded change. */
  failure: SynchronizationFailure;
  /** The server's version of the object; null when it has none for this user. */
  restore: SyncObject | null;
}

export interface ApplyOptions {
  /** Server values win over pending local changes (whose marks are cleared). */
  overwrite?: boolean;
  /** A sync run id stored on each written row, for `removeUntagged`. */
  tag?: string;
  /** A named sync down writing these objects, and its checkpoint to store in the same transaction. */
  /** `run` marks which run last wrote each object, so a full run can tell what it did not write. */
  sync?: { id: string; run?: string; checkpoint?: SyncState };
}

export interface Confirmation {
  entity: string;
  id: string;
  /** The `seq` of the change that was uploaded. */
  seq: number;
  /** The server's version after the write; null after a delete. */
  object: SyncObject | null;
  /** Changed members that were not uploaded (a sync up's field list): they stay marked. */
  remaining?: string[];
}

export interface ConfirmOptions {
  /**
   * The store's change counter when the uploaded changes were listed (`pendingChangesAt`): while
   * it has not moved, the confirmations skip reading the change records again. Without it every
   * record is read (changes listed another way, e.g. one by one).
   */
  listedAt?: number;
}

export interface ApplyResult {
  written: number;
  /** Objects left alone because they have local changes (leave-if-changed). */
  skipped: number;
}

/** Options of `openStore`. */
export interface StoreOptions {
  schema: Schema;
  /** The IndexedDB database name; one per user and app. */
  name: string;
  /** For Node: fake-indexeddb's `indexedDB` and `IDBKeyRange`. Browsers use their own. */
  indexedDB?: IDBFactory;
  IDBKeyRange?: typeof IDBKeyRange;
  /**
   * The Dexie schema version. Default: derived — the installed version when the stored
   * schema fingerprint matches, else the installed version + 1 (so a changed app schema
   * upgrades the database; Dexie versions may only grow, which a plain hash could not promise).
   */
  version?: number;
}
