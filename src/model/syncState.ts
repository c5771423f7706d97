import type { SyncflowError } from '../errors.ts';
import type { Constraint } from './constraint.ts';

/**
 * Which objects of an entity a named sync down keeps on the device. The modification field is
 * `changedDate`: the server assigns it inside each write transaction under a lock, so it only
 * grows in commit order. A member set by clients could go backwards and make a delta miss
 * records, so it is not accepted.
 */
export interface SyncDownTarget {
  entity: string;
  constraint?: Constraint;
  modificationField?: 'changedDate';
}

/** Which local changes a named sync up uploads: one entity, optionally only some members. */
export interface SyncUpTarget {
  entity: string;
  /**
   * Members to upload (default: all). Changes to other members stay marked for a later sync:
   * unlike Salesforce's field lists, nothing is dropped.
   */
  fields?: string[];
}

/**
 * How a sync down treats local records with pending changes (Salesforce's merge modes).
 * `leaveIfChanged` (default): never overwritten. `overwrite`: server values win and the local
 * change marks are cleared. Ghost cleaning never removes a locally modified record either way.
 */
export type MergeMode = 'leaveIfChanged' | 'overwrite';

/**
 * How a sync up treats a record changed on the server since the device's version of it (its
 * base changedDate). `overwrite` (default, as in Salesforce): the uploaded members win.
 * `leaveIfChanged`: the server's record stays and the local change becomes a
 * SynchronizationFailure with reason `conflict` holding both versions (retry = apply anyway,
 * dismiss = keep the server's).
 */
export interface SyncUpOptions {
  mergeMode?: MergeMode;
}

export interface SyncDownOptions {
  mergeMode?: MergeMode;
  /** Records per request, 1..5000 (default 1000): smaller batches checkpoint more often. */
  batchSize?: number;
}

export type SyncType = 'syncDown' | 'syncUp';
export type SyncStateStatus = 'new' | 'running' | 'done' | 'failed' | 'stopped';

/** Where an unfinished sync down run stands: resuming continues strictly after `cursor`. */
export interface ResumePoint {
  /** The delta start of the run (null: a full run). */
  since: string | null;
  /** The server's cursor after the last stored batch ((changedDate, id): strictly ordered). */
  cursor: string | null;
  /** The greatest changedDate stored by the run so far. */
  maxTimeStamp: string | null;
  /** The run's id, written with each object it stores: a full run then knows what it did not write. */
  run: string;
}

/** A named sync's persisted state (readable by id and by name). */
export interface SyncState {
  id: string;
  name: string | null;
  type: SyncType;
  target: SyncDownTarget | SyncUpTarget;
  options: SyncDownOptions;
  status: SyncStateStatus;
  /** 0..100 of the current or last run. */
  progress: number;
  /** Records the current or last run had to transfer, once known (null before). */
  totalSize: number | null;
  /** Sync down: the greatest changedDate of a completed run; the next reSync fetches only later ones. */
  maxTimeStamp: string | null;
  /** Sync down: set while a run is unfinished (running, stopped or failed): where it resumes. */
  resume: ResumePoint | null;
  startTime: string | null;
  endTime: string | null;
  error: ReturnType<SyncflowError['toJSON']> | null;
}

/** Called with every state change of a running sync: running (progress, total) then done / failed / stopped. */
export type SyncUpdate = (state: SyncState) => void;

/** A named sync as an app declares it (e.g. in its configuration), defined on first start. */
export type SyncDefinition =
  | { type: 'syncDown'; name: string; target: SyncDownTarget; options?: SyncDownOptions }
  | { type: 'syncUp'; name: string; target: SyncUpTarget; options?: SyncUpOptions };
