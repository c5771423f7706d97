import { liveQuery } from 'dexie';
import { toSyncflowError } from '../errors.ts';
import type { SyncState } from '../model/syncState.ts';
import type { LocalStore } from '../store/LocalStore.ts';
import { JOURNAL } from '../store/tables.ts';
import type { Progress } from '../sync/SyncContext.ts';
import type { SyncRequest, SyncResult } from '../sync/types.ts';
import type { ByteMeter } from './ByteMeter.ts';
import type { JournalCount, JournalEntry, JournalKind, NewJournalEntry } from './JournalEntry.ts';

export interface JournalOptions {
  /** Entries kept; the oldest are pruned past it (default 500). */
  maxEntries?: number;
}

export interface JournalQuery {
  kind?: JournalKind;
  name?: string;
  /** At most this many, newest first (default all). */
  limit?: number;
}

/** What a run is, before it runs. */
export interface RunHead {
  kind: JournalKind;
  name: string;
  trigger: string;
}

/** What a finished run adds to its entry. */
export type RunSummary = Partial<Pick<JournalEntry, 'counts' | 'failures' | 'skipped' | 'outcome' | 'error'>>;

const DEFAULT_MAX = 500;

/**
 * The sync journal: a durable entry per Synchronize, named sync, ghost cleaning and profile run,
 * in the local database's `$journal` table (so it survives restarts), bounded to `maxEntries`.
 * Writing an entry never fails the sync it describes: a write error is kept in `writeError`.
 *
 * @example
 * const [last] = await runtime.journal.list({ limit: 1 });
 * console.log(last.kind, last.name, last.outcome, last.counts);
 * download(await runtime.journal.exportJson()); // no attribute values in it
 */
export class Journal {
  readonly maxEntries: number;
  /** The last error writing an entry, if any (the sync it described went on). */
  writeError: unknown = null;
  /** The last error a listener of `onEntry` threw (the entry itself was written; the other listeners ran). */
  listenerError: unknown = null;
  #counts: Map<string, JournalCount> | null = null;
  readonly #listeners = new Set<(entry: JournalEntry) => void | Promise<void>>();

  constructor(
    private readonly store: LocalStore,
    private readonly meter: ByteMeter | null = null,
    options: JournalOptions = {},
  ) {
    this.maxEntries = Math.max(1, Math.floor(options.maxEntries ?? DEFAULT_MAX));
  }

  /** Entries, newest first. */
  async list(query: JournalQuery = {}): Promise<JournalEntry[]> {
    let rows = this.store.db.table(JOURNAL).orderBy('seq').reverse();
    if (query.kind || query.name !== undefined) rows = rows.filter((e: JournalEntry) => (!query.kind || e.kind === query.kind) && (query.name === undefined || e.name === query.name));
    if (query.limit !== undefined) rows = rows.limit(query.limit);
    return (await rows.toArray()) as JournalEntry[];
  }

  /** The newest entry matching, if any. */
  async last(query: Omit<JournalQuery, 'limit'> = {}): Promise<JournalEntry | undefined> {
    return (await this.list({ ...query, limit: 1 }))[0];
  }

  /**
   * The journal as JSON (oldest first): entries hold ids, counts, reasons and error messages,
   * never attribute values.
   */
  async exportJson(): Promise<string> {
    const entries = (await this.list()).reverse().map(exported);
    return JSON.stringify({ format: 'syncflow-journal', version: 1, entries }, null, 2);
  }

  /**
   * Hears every entry written (profiles use it to learn of a completed full sync); awaited
   * before the run's caller sees its result, so what it writes is there when the sync resolves.
   */
  onEntry(listener: (entry: JournalEntry) => void | Promise<void>): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Hears that the journal changed, whoever wrote it: this runtime, or another connection to the
   * same database — another tab of the app (Dexie's liveQuery, which tabs share through a
   * BroadcastChannel). For views; unlike `onEntry` it is not awaited by the run and carries no
   * entry (read the journal again). Not called for the journal as it is when subscribing.
   *
   * @example
   * const stop = runtime.journal.onChange(() => void render(runtime.journal.list({ limit: 50 })));
   */
  onChange(listener: () => void): () => void {
    const table = this.store.db.table(JOURNAL);
    let seen: number | undefined;
    // The newest seq moves with every entry written (pruning only removes older ones).
    const subscription = liveQuery(async () => ((await table.orderBy('seq').last()) as JournalEntry | undefined)?.seq ?? 0).subscribe({
      next: (seq) => {
        const first = seen === undefined;
        if (seq === seen) return;
        seen = seq;
        if (!first) listener();
      },
      // A closed database ends the watch; the view keeps what it shows.
      error: () => undefined,
    });
    return () => subscription.unsubscribe();
  }

  /** Writes an entry and prunes the oldest past `maxEntries`; resolves with it stored (or null if the write failed). */
  async append(entry: NewJournalEntry): Promise<JournalEntry | null> {
    let stored: JournalEntry;
    try {
      const table = this.store.db.table(JOURNAL);
      stored = await this.store.db.transaction('rw', [JOURNAL], async () => {
        const seq = (await table.add(entry)) as number;
        const excess = (await table.count()) - this.maxEntries;
        if (excess > 0) await table.orderBy('seq').limit(excess).delete();
        return { ...entry, seq };
      });
    } catch (e) {
      this.writeError = e;
      return null;
    }
    // A listener that throws neither unwrites the entry nor keeps the others from hearing of it.
    for (const listener of this.#listeners) {
      try {
        await listener(stored);
      } catch (e) {
        this.listenerError = e;
      }
    }
    return stored;
  }

  /** Fed with the pipeline's progress: a download's `done` per entity is what the journal counts. */
  progress(p: Progress): void {
    if (!this.#counts || p.phase !== 'download' || !p.entity) return;
    const key = `download:${p.entity}`;
    const c = this.#counts.get(key);
    if (!c) this.#counts.set(key, { entity: p.entity, direction: 'download', count: p.done });
    else c.count = Math.max(c.count, p.done);
  }

  /** Fed by `countUploads`: changes the server applied for an entity during the run being journaled. */
  uploaded(entity: string, count: number): void {
    if (!this.#counts) return;
    const key = `upload:${entity}`;
    const c = this.#counts.get(key);
    if (!c) this.#counts.set(key, { entity, direction: 'upload', count });
    else c.count += count;
  }

  /**
   * Runs `run` and journals it: times, bytes, checkpoints before and after, the download counts
   * the pipeline reported and the upload counts per entity the client saw applied, and what
   * `summarize` adds from the outcome (its counts replace those of the same entity and direction).
   * Rethrows run's error.
   */
  async record<T>(
    head: RunHead,
    run: () => Promise<T>,
    summarize: (value: T | undefined, error: unknown) => RunSummary,
    checkpoints: () => Promise<Record<string, string | null>>,
  ): Promise<T> {
    const startedAt = new Date().toISOString();
    const before = await checkpoints().catch(() => ({}));
    const sent = this.meter?.sent ?? 0;
    const received = this.meter?.received ?? 0;
    const counts = new Map<string, JournalCount>();
    this.#counts = counts;
    let value: T | undefined;
    let error: unknown = null;
    try {
      value = await run();
      return value;
    } catch (e) {
      error = e;
      throw e;
    } finally {
      if (this.#counts === counts) this.#counts = null;
      const summary = summarize(value, error);
      const extra = summary.counts ?? [];
      const merged = [...[...counts.values()].filter((c) => !extra.some((x) => x.entity === c.entity && x.direction === c.direction)), ...extra];
      await this.append({
        ...head,
        startedAt,
        endedAt: new Date().toISOString(),
        checkpoints: { before, after: await checkpoints().catch(() => ({})) },
        counts: merged.filter((c) => c.count > 0),
        bytes: { sent: (this.meter?.sent ?? 0) - sent, received: (this.meter?.received ?? 0) - received },
        failures: summary.failures ?? [],
        skipped: summary.skipped ?? [],
        outcome: summary.outcome ?? (error ? 'failed' : 'done'),
        error: summary.error !== undefined ? summary.error : error ? toSyncflowError(error).toJSON() : null,
      });
    }
  }

  /** The Synchronizer's hook: journals each Synchronize (its uploads per entity come from `countUploads`). */
  readonly synchronizeHook = (request: SyncRequest, run: () => Promise<SyncResult>): Promise<SyncResult> =>
    this.record(
      { kind: 'synchronize', name: request.mode, trigger: 'app' },
      run,
      (result, error) => ({
        outcome: error ? (toSyncflowError(error).code === 'sync_cancelled' ? 'cancelled' : 'failed') : 'done',
        counts: result
          ? [
              { entity: '*', direction: 'removed', count: result.removed },
              { entity: '*', direction: 'files', count: (result.files?.uploaded ?? 0) + (result.files?.downloaded ?? 0) },
            ]
          : [],
        failures: (result?.failures ?? []).map((f) => ({ entity: f.entity, objectId: f.objectId, reason: f.reason })),
        skipped: result?.skipped.length ? [{ what: `${result.skipped.length} uncommitted objects`, reason: 'uncommitted' }] : [],
      }),
      () => this.#localStamps(),
    );

  /** The SyncManager's hook: journals each named sync run (a SyncState) and ghost cleaning (a count). */
  readonly syncHook = <T>(state: SyncState, run: () => Promise<T>): Promise<T> => {
    const name = state.name ?? state.id;
    // Read when the entry is written: only then is it known to be a ghost cleaning.
    const head: RunHead = { kind: 'namedSync', name, trigger: 'app' };
    return this.record(
      head,
      async () => {
        const value = await run();
        // The tasks report a sync's failure in its state; only a ghost cleaning returns a count (or throws).
        if (typeof value === 'number') head.kind = 'ghostCleaning';
        return value;
      },
      (value, error) => {
        if (error || typeof value === 'number') {
          head.kind = 'ghostCleaning';
          return {
            outcome: error ? (toSyncflowError(error).code === 'sync_stopped' ? 'stopped' : 'failed') : 'done',
            counts: typeof value === 'number' ? [{ entity: entityOf(state), direction: 'removed', count: value }] : [],
          };
        }
        const s = value as SyncState;
        return {
          outcome: s.status === 'done' ? 'done' : s.status === 'stopped' ? 'stopped' : 'failed',
          error: s.error ? { code: s.error.code, message: s.error.message } : null,
          counts: s.type === 'syncUp' ? [{ entity: entityOf(s), direction: 'upload', count: s.totalSize ?? 0 }] : [],
        };
      },
      async () => ({ [name]: ((await this.store.findSyncState(state.id)) ?? state).maxTimeStamp ?? null }),
    );
  };

  /** Per entity, the newest changedDate on the device (one index read each). */
  async #localStamps(): Promise<Record<string, string | null>> {
    const out: Record<string, string | null> = {};
    for (const entity of this.store.schema.order) {
      const row = (await this.store.db.table(entity).orderBy('changedDate').last()) as { changedDate?: string } | undefined;
      out[entity] = row?.changedDate ?? null;
    }
    return out;
  }
}

function entityOf(state: SyncState): string {
  return (state.target as { entity: string }).entity;
}

/** An entry as exported: listed fields only, so nothing else a future version stores leaks out. */
function exported(e: JournalEntry): JournalEntry {
  return {
    seq: e.seq,
    kind: e.kind,
    name: e.name,
    trigger: e.trigger,
    startedAt: e.startedAt,
    endedAt: e.endedAt,
    checkpoints: e.checkpoints,
    counts: e.counts.map((c) => ({ entity: c.entity, direction: c.direction, count: c.count })),
    bytes: e.bytes,
    failures: e.failures.map((f) => ({ entity: f.entity, objectId: f.objectId, reason: f.reason })),
    skipped: e.skipped,
    outcome: e.outcome,
    error: e.error,
  };
}
