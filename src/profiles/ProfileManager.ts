import Dexie from 'dexie';
import { createActor, fromPromise, waitFor, type Actor } from 'xstate';
import { SyncflowError } from '../errors.ts';
import type { Journal } from '../journal/Journal.ts';
import type { JournalEntry } from '../journal/JournalEntry.ts';
import type { SyncManager } from '../sync/manager/SyncManager.ts';
import type { SyncContext } from '../sync/SyncContext.ts';
import { CHANGES } from '../store/tables.ts';
import { autoExclusions, globalExclusions } from './exclusions.ts';
import { parseProfiles } from './parseProfiles.ts';
import type { Profile } from './Profile.ts';
import { findEntity, profileEntities } from './profileEntities.ts';
import { runProfile, type ProfileRunResult, type SkipReason } from './runProfile.ts';
import { schedulerMachine, type Firing } from './schedulerMachine.ts';
import { FULL_SYNC_KEY, schemaPrint } from './startConditions.ts';

/** The app's profile settings (RuntimeOptions.profiles). */
export interface ProfileOptions {
  /** Profiles as JSON (an array or `{ profiles: [...] }`), or SmartSync.xml text. */
  definitions?: unknown;
  /** The app's switch: false refuses every run with `profiles_disabled` (default true). */
  enabled?: boolean;
  /** Refuse after this many connection failures within the window (default 3 in 300 s). */
  maxConnectionFailures?: number;
  connectionFailureWindowSeconds?: number;
  /** An entity is auto-excluded after this many empty downloads (default 3). */
  autoExclusionRuns?: number;
  /** Debounce of a record change trigger without its own (default 2 s). */
  debounceSeconds?: number;
  /** Hears every background run's result (refused and skipped ones too). */
  onRun?: (result: ProfileRunResult) => void;
  /** The clock of the triggers (tests pass a fake one); default the platform's timers. */
  timers?: TriggerTimers;
}

/** What the triggers need of a clock. */
export interface TriggerTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

const platformTimers: TriggerTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

/** A profile as the app and the editor list it. */
export interface ProfileInfo {
  profile: Profile;
  lastRun: JournalEntry | null;
  /** When the next periodic trigger fires (ISO), or null when none is scheduled. */
  nextTrigger: string | null;
  exclusions: { global: string[]; auto: string[] };
}

interface Deps {
  sync: SyncContext;
  lockName: string;
  journal: Journal;
  syncs: SyncManager;
}

/**
 * `runtime.profiles`: the sync profiles of the app (SmartSync), run by name or in the background
 * by their triggers. The scheduler machine runs one firing at a time; a firing while a profile
 * or any other sync runs is skipped and journaled (never queued, never an error). Triggers
 * stop while the sync manager is stopped and when the runtime closes, and resume on restart.
 *
 * @example
 * runtime.profiles.define(readFileSync('SmartSync.xml', 'utf8'));
 * runtime.profiles.start();                    // appStart triggers fire, timers begin
 * const result = await runtime.profiles.run('GetTasks');
 * if (result.outcome === 'refused') console.log(result.refusal);
 */
export class ProfileManager {
  readonly scheduler: Actor<typeof schedulerMachine>;
  readonly #profiles = new Map<string, Profile>();
  readonly #options: Required<Omit<ProfileOptions, 'definitions' | 'onRun'>> & Pick<ProfileOptions, 'onRun'>;
  readonly #timers = new Set<unknown>();
  readonly #debounce = new Map<string, unknown>();
  readonly #next = new Map<string, number>();
  #started = false;
  #lastSeq = 0;
  #unwatch: Array<() => void> = [];
  #stopSub: { unsubscribe(): void } | null = null;
  #manual: AbortController | null = null;

  constructor(private readonly deps: Deps, options: ProfileOptions = {}) {
    this.#options = {
      enabled: options.enabled ?? true,
      maxConnectionFailures: options.maxConnectionFailures ?? 3,
      connectionFailureWindowSeconds: options.connectionFailureWindowSeconds ?? 300,
      autoExclusionRuns: options.autoExclusionRuns ?? 3,
      debounceSeconds: options.debounceSeconds ?? 2,
      onRun: options.onRun,
      timers: options.timers ?? platformTimers,
    };
    // A completed all-objects Synchronize is the full sync profiles wait for (per schema).
    deps.journal.onEntry(async (e) => {
      if (e.kind === 'synchronize' && e.name === 'all' && e.outcome === 'done') {
        await deps.sync.store.setMeta(FULL_SYNC_KEY, await schemaPrint(deps.sync.store));
      }
    });
    const machine = schedulerMachine.provide({
      actors: { runProfile: fromPromise<unknown, Firing>(({ input, signal }) => this.#runFiring(input, signal)) },
      actions: {
        startTimers: () => this.#startTimers(),
        stopTimers: () => this.#stopTimers(),
        skipBusy: ({ event }) => this.#skip(event, 'profile_running', 'another profile run was in progress'),
        skipPaused: ({ event }) => this.#skip(event, 'sync_manager_stopped', 'the sync manager is stopped or profiles are not started'),
      },
    });
    this.scheduler = createActor(machine).start();
    if (options.definitions !== undefined) this.define(options.definitions);
  }

  /**
   * Adds (or replaces, by name) profiles: JSON (validated, errors name the field) or
   * SmartSync.xml text (errors name the element). Entity names are checked against the schema.
   */
  define(definitions: unknown): Profile[] {
    const profiles = parseProfiles(this.deps.sync.schema, definitions);
    for (const p of profiles) this.#profiles.set(p.name, p);
    if (this.#started && this.scheduler.getSnapshot().matches('active')) {
      this.#stopTimers();
      this.#startTimers();
    }
    return profiles;
  }

  /** The names of the defined profiles (a flow's Run profile activity is checked against them). */
  names(): string[] {
    return [...this.#profiles.keys()];
  }

  /** Every profile with its last run, next trigger and exclusion lists. */
  async list(): Promise<ProfileInfo[]> {
    return Promise.all([...this.#profiles.values()].map((p) => this.info(p.name)));
  }

  async info(name: string): Promise<ProfileInfo> {
    const profile = this.#get(name);
    const history = await this.deps.journal.list({ kind: 'profile', name, limit: 100 });
    const download = profileEntities(this.deps.sync.schema, profile).download;
    const next = [...this.#next.entries()].filter(([k]) => k.startsWith(`${name}\u0000`)).map(([, at]) => at);
    return {
      profile,
      lastRun: history[0] ?? null,
      nextTrigger: next.length ? new Date(Math.min(...next)).toISOString() : null,
      exclusions: {
        global: profile.globalExclusions ? globalExclusions(this.deps.sync.schema).filter((e) => download.includes(e)) : [],
        auto: profile.autoExclusions ? autoExclusions(history, download, this.#options.autoExclusionRuns) : [],
      },
    };
  }

  /**
   * Runs a profile now. Resolves with its result whatever happens: `refused` (a start condition,
   * with its reason), `skipped` (another sync runs), `failed` / `stopped` (with the error), `done`.
   * Rejects only for an unknown profile name. Aborting `signal` stops the run as `stop()` does
   * (at its next consistent point: what it received is kept; outcome `stopped`).
   */
  async run(name: string, trigger = 'app', options: { signal?: AbortSignal } = {}): Promise<ProfileRunResult> {
    const profile = this.#get(name);
    if (this.deps.syncs.isStopped() || this.deps.syncs.isStopping()) {
      const result = await this.#skipped(profile.name, trigger, 'sync_manager_stopped', 'the sync manager is stopped');
      return result;
    }
    const controller = new AbortController();
    const { signal } = options;
    const stop = () => controller.abort(signal?.reason);
    if (signal?.aborted) stop();
    else signal?.addEventListener('abort', stop, { once: true });
    this.#manual = controller;
    try {
      return await runProfile(this.#env(), profile, trigger, controller.signal);
    } finally {
      signal?.removeEventListener('abort', stop);
      if (this.#manual === controller) this.#manual = null;
    }
  }

  /**
   * Starts background work: `appStart` triggers fire, periodic timers and record change
   * watches begin (while the sync manager is not stopped). Called by createRuntime when the app
   * declares profiles; idempotent.
   */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    // The sync manager's stop pauses every trigger; its restart resumes them.
    const follow = () => {
      const s = this.deps.syncs;
      this.scheduler.send({ type: s.isStopped() || s.isStopping() ? 'PAUSE' : 'START' });
    };
    this.#stopSub = this.deps.syncs.actor.subscribe(follow);
    follow();
    for (const p of this.#profiles.values()) {
      if (p.triggers.some((t) => t.kind === 'appStart')) this.fire(p.name, 'appStart');
    }
  }

  /** Tells the scheduler the device is back online (browsers' `online` event does it too). */
  notifyOnline(): void {
    for (const p of this.#profiles.values()) if (p.triggers.some((t) => t.kind === 'online')) this.fire(p.name, 'online');
  }

  /** Fires a trigger of a profile through the scheduler (skipped and journaled when busy or paused). */
  fire(name: string, trigger: string): void {
    this.#get(name);
    this.scheduler.send({ type: 'TRIGGER', firing: { profile: name, trigger } });
  }

  /** Stops every trigger for good and aborts a running profile (runtime.close()). */
  close(): void {
    this.#stopSub?.unsubscribe();
    this.#manual?.abort();
    this.scheduler.send({ type: 'CLOSE' });
    this.#stopTimers();
  }

  /** Waits until no background run is in progress (tests, orderly shutdown). */
  async idle(): Promise<void> {
    await waitFor(this.scheduler, (s) => !s.matches({ active: 'running' }));
  }

  // ---------------------------------------------------------------- internals

  #get(name: string): Profile {
    const p = this.#profiles.get(name);
    if (!p) throw new SyncflowError('not_found', `No sync profile is named "${name}"`);
    return p;
  }

  #env() {
    const o = this.#options;
    return {
      sync: this.deps.sync,
      lockName: this.deps.lockName,
      journal: this.deps.journal,
      settings: {
        enabled: o.enabled,
        maxConnectionFailures: o.maxConnectionFailures,
        connectionFailureWindowSeconds: o.connectionFailureWindowSeconds,
        autoExclusionRuns: o.autoExclusionRuns,
      },
    };
  }

  async #runFiring(firing: Firing, signal: AbortSignal): Promise<ProfileRunResult> {
    const result = await runProfile(this.#env(), this.#get(firing.profile), firing.trigger, signal);
    this.#options.onRun?.(result);
    return result;
  }

  #skip(event: { type: string }, code: SkipReason, reason: string): void {
    if (event.type !== 'TRIGGER') return;
    const { firing } = event as { type: 'TRIGGER'; firing: Firing };
    void this.#skipped(firing.profile, firing.trigger, code, reason).then((r) => this.#options.onRun?.(r));
  }

  async #skipped(profile: string, trigger: string, code: SkipReason, reason: string): Promise<ProfileRunResult> {
    const now = new Date().toISOString();
    const skipped = [{ what: 'run', reason }];
    await this.deps.journal.append({
      kind: 'profile', name: profile, trigger, startedAt: now, endedAt: now,
      checkpoints: { before: {}, after: {} }, counts: [], bytes: { sent: 0, received: 0 }, failures: [], skipped, outcome: 'skipped', error: null,
    });
    return { profile, trigger, outcome: 'skipped', refusal: null, skip: code, uploaded: 0, downloaded: 0, removed: 0, files: 0, entities: { upload: [], download: [] }, skipped, failures: 0, error: null };
  }

  #startTimers(): void {
    for (const p of this.#profiles.values()) {
      for (const [i, t] of p.triggers.entries()) {
        if (t.kind !== 'periodic') continue;
        const key = `${p.name}\u0000${i}`;
        const arm = () => {
          const clock = this.#options.timers;
          this.#next.set(key, clock.now() + t.delaySeconds * 1000);
          const timer = clock.setTimeout(() => {
            this.#timers.delete(timer);
            arm();
            this.fire(p.name, 'periodic');
          }, t.delaySeconds * 1000);
          this.#timers.add(timer);
        };
        arm();
      }
    }
    this.#watchChanges();
    const target = globalThis as { addEventListener?: (t: string, f: () => void) => void; removeEventListener?: (t: string, f: () => void) => void };
    if (typeof target.addEventListener === 'function') {
      const online = () => this.notifyOnline();
      target.addEventListener('online', online);
      this.#unwatch.push(() => target.removeEventListener?.('online', online));
    }
  }

  #stopTimers(): void {
    for (const t of this.#timers) this.#options.timers.clearTimeout(t);
    for (const t of this.#debounce.values()) this.#options.timers.clearTimeout(t);
    this.#timers.clear();
    this.#debounce.clear();
    this.#next.clear();
    for (const u of this.#unwatch) u();
    this.#unwatch = [];
  }

  /**
   * Record change triggers: after each write to the database, the pending changes with a seq
   * past the last seen one are local commits (sync writes allocate no seq), by entity.
   */
  #watchChanges(): void {
    const watched = new Map<string, Array<{ profile: string; debounce: number }>>();
    for (const p of this.#profiles.values()) {
      for (const t of p.triggers) {
        if (t.kind !== 'recordChange') continue;
        const entity = findEntity(this.deps.sync.schema, t.entity)!;
        watched.set(entity, [...(watched.get(entity) ?? []), { profile: p.name, debounce: t.debounceSeconds ?? this.#options.debounceSeconds }]);
      }
    }
    if (watched.size === 0) return;
    const db = this.deps.sync.store.db;
    const table = db.table(CHANGES);
    let reading = Promise.resolve();
    const check = () => {
      reading = reading.then(async () => {
        const fresh = (await table.where('seq').above(this.#lastSeq).toArray()) as Array<{ entity: string; seq: number }>;
        for (const c of fresh) this.#lastSeq = Math.max(this.#lastSeq, c.seq);
        for (const entity of new Set(fresh.map((c) => c.entity))) {
          for (const w of watched.get(entity) ?? []) this.#debounced(w.profile, w.debounce);
        }
      }).catch(() => undefined);
    };
    reading = table.orderBy('seq').last().then((c: { seq?: number } | undefined) => {
      this.#lastSeq = c?.seq ?? 0;
    }).catch(() => undefined);
    const listener = (parts: Record<string, unknown>) => {
      if (Object.keys(parts).some((k) => k.startsWith(`idb://${db.name}/${CHANGES}/`))) check();
    };
    Dexie.on('storagemutated', listener);
    this.#unwatch.push(() => Dexie.on('storagemutated').unsubscribe(listener));
  }

  /** A burst of commits fires the profile once, `seconds` after the last of them. */
  #debounced(profile: string, seconds: number): void {
    const clock = this.#options.timers;
    const pending = this.#debounce.get(profile);
    if (pending !== undefined) clock.clearTimeout(pending);
    this.#debounce.set(
      profile,
      clock.setTimeout(() => {
        this.#debounce.delete(profile);
        this.fire(profile, 'recordChange');
      }, seconds * 1000),
    );
  }
}
