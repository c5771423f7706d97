import type { Constraint } from '../model/constraint.ts';
import type { Schema } from '../model/schema.ts';
import type { SyncObject, Values } from '../model/values.ts';
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
}

export interface QueryOptions {
  where?: Constraint;
  sort?: Array<[member: string, direction: 'asc' | 'desc']>;
  limit?: number;
  offset?: number;
}

/** The server's answer for one uploaded change, handed back to the store. */
export interface Confirmation {
  entity: string;
  id: string;
  /** The `seq` of the change that was uploaded. */
  seq: number;
  /** The server's version after the write; null after a delete. */
  object: SyncObject | null;
}

export interface ApplyResult {
  written: number;
  /** Objects left alone because they have local changes (leave-if-changed). */
  skipped: number;
}
