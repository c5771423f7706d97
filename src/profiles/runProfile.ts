import { SimultaneousSyncError, toSyncflowError } from '../errors.ts';
import type { Journal } from '../journal/Journal.ts';
import type { JournalCount, JournalEntry } from '../journal/JournalEntry.ts';
import { CURRENT_USER, type Constraint } from '../model/constraint.ts';
import { laterStamp } from '../model/values.ts';
import { acquireSyncLock } from '../sync/lock.ts';
import type { SyncContext } from '../sync/SyncContext.ts';
import { downloadEntity } from '../sync/steps/downloadEntity.ts';
import { downloadRefreshedFiles } from '../sync/steps/downloadFiles.ts';
import { uploadChanges } from '../sync/steps/uploadChanges.ts';
import { uploadFiles } from '../sync/steps/uploadFiles.ts';
import { DEFAULT_BATCH, isDeviceSideFailure } from '../transport/wire.ts';
import { AUTO_EXCLUSION, autoExclusions, GLOBAL_EXCLUSION, globalExclusions } from './exclusions.ts';
import type { Profile } from './Profile.ts';
import { profileEntities } from './profileEntities.ts';
import { checkStart, describeRefusal, type RefusalReason, type StartSettings } from './startConditions.ts';
import { stepPlan } from './stepPlan.ts';

/** What a profile run did; a refused or skipped run is an outcome, never an error. */
export interface ProfileRunResult {
  profile: string;
  trigger: string;
  outcome: JournalEntry['outcome'];
  /** Why it did not start (outcome `refused`). */
  refusal: RefusalReason | null;
  /** Why it was skipped (outcome `skipped`): another sync held the lock, a profile was running, or the sync manager is stopped. */
  skip: SkipReason | null;
  uploaded: number;
  downloaded: number;
  removed: number;
  files: number;
  /** The entities it uploaded / downloaded (after exclusions). */
  entities: { upload: string[]; download: string[] };
  skipped: Array<{ what: string; reason: string }>;
  failures: number;
  error: { code: string; message: string } | null;
}

/** Why a run was skipped rather than run: never an error, and never queued. */
export type SkipReason = 'sync_running' | 'profile_running' | 'sync_manager_stopped';

export interface ProfileEnv {
  sync: SyncContext;
  lockName: string;
  journal: Journal;
  settings: StartSettings & { autoExclusionRuns: number };
}

const checkpointKey = (profile: string) => `profiles.checkpoints.${profile}`;

/**
 * Runs a profile once: start conditions, then under the database's one-sync lock the pipeline's
 * own steps (uploadChanges, uploadFiles, downloadEntity, downloadRefreshedFiles), limited to the
 * profile's entities and direction; downloads are incremental per entity from the stamp the
 * profile's last run reached. Journals every outcome, a refusal and a skip included.
 */
export async function runProfile(env: ProfileEnv, profile: Profile, trigger: string, signal: AbortSignal): Promise<ProfileRunResult> {
  const { sync: ctx, journal } = env;
  const base: ProfileRunResult = {
    profile: profile.name,
    trigger,
    outcome: 'done',
    refusal: null,
    skip: null,
    uploaded: 0,
    downloaded: 0,
    removed: 0,
    files: 0,
    entities: { upload: [], download: [] },
    skipped: [],
    failures: 0,
    error: null,
  };
  const head = { kind: 'profile' as const, name: profile.name, trigger };
  let refusal = await checkStart(ctx.store, journal, env.settings);
  if (refusal?.code === 'unresolved_failures' && stepPlan(profile.excludedSteps).runs.has('remoteConflicts')) {
    // Remote conflicts: failures resolved or dismissed elsewhere (another device, a back office)
    // no longer hold the profile back. Unreachable server: the refusal stands as it was.
    const reconciled = await reconcileFailures(ctx, signal).then(() => true, () => false);
    if (reconciled) refusal = await checkStart(ctx.store, journal, env.settings);
  }
  if (refusal) {
    const skipped = [{ what: 'run', reason: describeRefusal(refusal) }];
    await journalNotRun(journal, head, 'refused', skipped, { code: refusal.code, message: describeRefusal(refusal) });
    return { ...base, outcome: 'refused', refusal, skipped };
  }
  let release: () => void;
  try {
    release = await acquireSyncLock(env.lockName);
  } catch (e) {
    if (!(e instanceof SimultaneousSyncError)) throw e;
    // Another sync runs: this trigger is dropped (journaled), not queued; the next one will run.
    const skipped = [{ what: 'run', reason: 'another synchronization was running' }];
    await journalNotRun(journal, head, 'skipped', skipped, null);
    return { ...base, outcome: 'skipped', skip: 'sync_running', skipped };
  }
  const result = { ...base };
  const counts: JournalCount[] = [];
  const failures: JournalEntry['failures'] = [];
  const stamps: Record<string, string | null> = (await ctx.store.getMeta<Record<string, string | null>>(checkpointKey(profile.name))) ?? {};
  try {
    // Which entities it moves is settled first, so the entry's checkpoints before and after cover the same ones.
    const planned = await planEntities(env, profile, result);
    await journal.record(
      head,
      () => pipeline(env, profile, planned, signal, result, counts, failures, stamps),
      (_value, error) => ({
        outcome: error ? (signal.aborted ? 'stopped' : 'failed') : 'done',
        counts,
        failures,
        skipped: result.skipped,
      }),
      async () => Object.fromEntries(result.entities.download.map((e) => [e, stamps[e] ?? null])),
    );
  } catch (e) {
    result.outcome = signal.aborted ? 'stopped' : 'failed';
    result.error = toSyncflowError(e).toJSON();
  } finally {
    release();
  }
  return result;
}

async function journalNotRun(journal: Journal, head: { kind: 'profile'; name: string; trigger: string }, outcome: 'refused' | 'skipped', skipped: JournalEntry['skipped'], error: JournalEntry['error']) {
  const now = new Date().toISOString();
  await journal.append({ ...head, startedAt: now, endedAt: now, checkpoints: { before: {}, after: {} }, counts: [], bytes: { sent: 0, received: 0 }, failures: [], skipped, outcome, error });
}

/** The profile's entities after the exclusion lists (which apply to downloads only: they save polling the server). */
async function planEntities(env: ProfileEnv, profile: Profile, result: ProfileRunResult): Promise<{ upload: string[]; download: string[] }> {
  const ctx = env.sync;
  const entities = profileEntities(ctx.schema, profile);
  let download = entities.download;
  if (download.length) {
    const global = profile.globalExclusions ? new Set(globalExclusions(ctx.schema)) : new Set<string>();
    const history = profile.autoExclusions ? await env.journal.list({ kind: 'profile', name: profile.name, limit: 100 }) : [];
    const auto = new Set(profile.autoExclusions ? autoExclusions(history, download, env.settings.autoExclusionRuns) : []);
    for (const e of download) {
      if (global.has(e)) result.skipped.push({ what: `entity ${e}`, reason: GLOBAL_EXCLUSION });
      else if (auto.has(e)) result.skipped.push({ what: `entity ${e}`, reason: AUTO_EXCLUSION });
    }
    download = download.filter((e) => !global.has(e) && !auto.has(e));
  }
  result.entities = { upload: entities.upload, download };
  return result.entities;
}

async function pipeline(
  env: ProfileEnv,
  profile: Profile,
  entities: { upload: string[]; download: string[] },
  signal: AbortSignal,
  result: ProfileRunResult,
  counts: JournalCount[],
  failures: JournalEntry['failures'],
  stamps: Record<string, string | null>,
): Promise<void> {
  const ctx = env.sync;
  const plan = stepPlan(profile.excludedSteps);
  result.skipped.push(...plan.report);
  const download = entities.download;

  if (plan.runs.has('preparation')) {
    const { user } = await ctx.client.me(signal);
    await ctx.store.setMeta('user', user);
  }

  if (entities.upload.length) {
    const only = new Set(entities.upload);
    const listed = await ctx.store.pendingChangesAt();
    let changes = listed.changes.filter((c) => only.has(c.entity));
    if (!plan.runs.has('syncDeletes')) {
      const held = changes.filter((c) => c.kind === 'delete').length;
      if (held) result.skipped.push({ what: `${held} local deletion(s)`, reason: 'NoSyncDeletes: kept marked for a later sync' });
      changes = changes.filter((c) => c.kind !== 'delete');
    }
    const outcome = await uploadChanges(ctx, changes, signal, { listedAt: listed.seq });
    result.uploaded = outcome.uploaded;
    // Objects the upload's handlers deleted on the server, removed here at once.
    result.removed += outcome.deleted.length;
    result.failures += outcome.failures.length;
    for (const f of outcome.failures) failures.push({ entity: f.entity, objectId: f.objectId, reason: f.reason });
    for (const entity of entities.upload) {
      const sent = changes.filter((c) => c.entity === entity).length - outcome.failures.filter((f) => f.entity === entity).length;
      if (sent > 0) counts.push({ entity, direction: 'upload', count: sent });
    }
    if (plan.runs.has('attachments')) {
      const pending = (await ctx.store.pendingFiles()).filter((f) => only.has(f.entity));
      if (pending.length) {
        const files = await uploadFiles(ctx, pending, signal);
        result.files += files.uploaded;
      }
    }
  }

  if (plan.runs.has('remoteConflicts')) await reconcileFailures(ctx, signal);

  const user = (await ctx.store.getMeta<string>('user')) ?? null;
  for (const entity of download) {
    const setting = ctx.config[entity] ?? { download: 'all' };
    if (setting.download === 'nothing') {
      result.skipped.push({ what: `entity ${entity}`, reason: 'the sync configuration downloads nothing of it' });
      continue;
    }
    const filter = setting.download === 'constraint' ? setting.constraint : undefined;
    const own: Constraint | undefined = plan.runs.has('shared') ? undefined : { attribute: 'owner', op: 'eq', value: CURRENT_USER };
    const constraint = filter && own ? { and: [filter, own] } : (filter ?? own);
    const isFile = ctx.schema.entities[entity].file && plan.runs.has('attachments');
    const received: Array<{ entity: string; id: string }> = [];
    const outcome = await downloadEntity(
      ctx,
      entity,
      { constraint, since: stamps[entity] ?? null, onBatch: isFile ? ({ objects }) => void received.push(...objects.map((o) => ({ entity, id: o.id }))) : undefined },
      signal,
    );
    stamps[entity] = laterStamp(stamps[entity] ?? null, outcome.maxChangedDate);
    await ctx.store.setMeta(checkpointKey(profile.name), { ...stamps });
    result.downloaded += outcome.downloaded;
    counts.push({ entity, direction: 'download', count: outcome.downloaded + outcome.skipped });
    if (received.length) {
      const n = await downloadRefreshedFiles(ctx, received, signal);
      result.files += n;
      if (n) counts.push({ entity, direction: 'files', count: n });
    }
    if (plan.runs.has('syncDeletes') || plan.runs.has('cleanup')) {
      const removed = await removeGone(ctx, entity, plan.runs.has('syncDeletes'), plan.runs.has('cleanup') ? filter : undefined, user, signal);
      result.removed += removed;
      if (removed) counts.push({ entity, direction: 'removed', count: removed });
    }
  }
}

/**
 * Remote conflicts: failures resolved or dismissed on the server (by another device, or a
 * back office) are dropped here; open ones the device lacks are added.
 */
async function reconcileFailures(ctx: SyncContext, signal: AbortSignal): Promise<void> {
  const { failures: open } = await ctx.client.failures('open', signal);
  const mine = open.filter((f) => f.device === ctx.client.deviceId);
  const local = await ctx.store.listFailures();
  const openIds = new Set(mine.map((f) => f.id));
  // Device-side failures (refused file contents, changes too large to send) are not the server's to close.
  for (const f of local) if (!isDeviceSideFailure(f) && !openIds.has(f.id)) await ctx.store.deleteFailure(f.id);
  const localIds = new Set(local.map((f) => f.id));
  await ctx.store.putFailures(mine.filter((f) => !localIds.has(f.id)));
}

/**
 * Removes local objects of an entity the server no longer has for the user (sync deletes), and
 * with a filter, those that no longer match it (cleanup). Objects with local changes stay.
 */
async function removeGone(
  ctx: SyncContext,
  entity: string,
  deletes: boolean,
  filter: Constraint | undefined,
  _user: string | null,
  signal: AbortSignal,
): Promise<number> {
  if (!deletes && !filter) return 0;
  const all = await serverIds(ctx, entity, undefined, signal);
  const matching = filter ? await serverIds(ctx, entity, filter, signal) : all;
  const local = (await ctx.store.db.table(entity).toCollection().primaryKeys()) as string[];
  const gone = local.filter((id) => (deletes && !all.has(id)) || (filter !== undefined && all.has(id) && !matching.has(id)));
  return ctx.store.removeObjects(entity, gone);
}

async function serverIds(ctx: SyncContext, entity: string, constraint: Constraint | undefined, signal: AbortSignal): Promise<Set<string>> {
  const out = new Set<string>();
  let after: string | null = null;
  do {
    const page = await ctx.client.ids({ entity, constraint, after, limit: DEFAULT_BATCH }, signal);
    for (const id of page.ids) out.add(id);
    after = page.next;
  } while (after);
  return out;
}
