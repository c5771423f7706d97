/** What a journal entry is about. */
export type JournalKind = 'synchronize' | 'namedSync' | 'ghostCleaning' | 'profile';

/** How a run ended; `skipped` and `refused` runs never started (a profile whose trigger came at a bad time). */
export type JournalOutcome = 'done' | 'failed' | 'cancelled' | 'stopped' | 'skipped' | 'refused';

export interface JournalCount {
  /** The entity, or `*` when only a total is known (a Synchronize's removed objects and files). */
  entity: string;
  direction: 'upload' | 'download' | 'removed' | 'files';
  count: number;
}

/**
 * One durable record of a sync run (SPEC §5's sync log): a Synchronize, a named sync, a ghost
 * cleaning or a profile run. It holds no attribute values: failures carry ids and reasons only.
 */
export interface JournalEntry {
  /** Ascending in the order entries were written (the table's key). */
  seq: number;
  kind: JournalKind;
  /** The mode (Synchronize), the sync's name or id, or the profile's name. */
  name: string;
  /** What started it: `app` (a call), or a profile trigger such as `periodic`. */
  trigger: string;
  startedAt: string;
  endedAt: string;
  /**
   * Resume points before and after: per entity the newest local changedDate (Synchronize), the
   * sync's max time stamp (named sync), or the profile's per-entity download stamps.
   */
  checkpoints: { before: Record<string, string | null>; after: Record<string, string | null> };
  counts: JournalCount[];
  /** HTTP bytes of the run's requests: bodies sent, and answers' Content-Length received. */
  bytes: { sent: number; received: number };
  failures: Array<{ entity: string; objectId: string; reason: string }>;
  /** What the run left out and why (entities excluded, steps excluded or not applicable, the trigger skipped). */
  skipped: Array<{ what: string; reason: string }>;
  outcome: JournalOutcome;
  error: { code: string; message: string } | null;
}

export type NewJournalEntry = Omit<JournalEntry, 'seq'>;
