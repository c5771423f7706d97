import type { Journal } from '../journal/Journal.ts';
import type { LocalStore } from '../store/LocalStore.ts';
import { FAILURES, META, SCHEMA_KEY } from '../store/tables.ts';
import { parseIsoDateTime } from '../model/values.ts';

/** Why a profile did not start (SmartSync's "cannot start if"); the app and the journal show it. */
export type RefusalReason =
  | { code: 'profiles_disabled' }
  | { code: 'unresolved_failures'; count: number }
  | { code: 'authentication_required' }
  | { code: 'connection_failures'; count: number; windowSeconds: number }
  | { code: 'full_sync_required'; why: 'first_run' | 'schema_changed' };

export interface StartSettings {
  /** The app's switch for profiles (default true). */
  enabled: boolean;
  /** Refuse after this many connection failures (journaled runs that failed with `network`) ... */
  maxConnectionFailures: number;
  /** ... within this many seconds. */
  connectionFailureWindowSeconds: number;
}

/** Meta key: the schema fingerprint of the last completed all-objects Synchronize. */
export const FULL_SYNC_KEY = 'profiles.fullSync';

/**
 * Checks SmartSync's start conditions, cheapest first; null means the profile may start.
 * Authentication: the newest journaled run that reached the server was refused with 401 (a
 * successful sync, e.g. after signing in again, clears it). Full sync: no all-objects
 * Synchronize has completed on this device for the current schema (first run, schema change).
 */
export async function checkStart(store: LocalStore, journal: Journal, settings: StartSettings, now = Date.now()): Promise<RefusalReason | null> {
  if (!settings.enabled) return { code: 'profiles_disabled' };
  const failures = await store.db.table(FAILURES).count();
  if (failures > 0) return { code: 'unresolved_failures', count: failures };
  const recent = await journal.list({ limit: 200 });
  const decisive = recent.find((e) => e.outcome === 'done' || e.error?.code === 'unauthorized');
  if (decisive && decisive.outcome !== 'done') return { code: 'authentication_required' };
  const since = now - settings.connectionFailureWindowSeconds * 1000;
  const network = recent.filter((e) => e.error?.code === 'network' && (parseIsoDateTime(e.endedAt)?.getTime() ?? -Infinity) >= since).length;
  if (network >= settings.maxConnectionFailures) {
    return { code: 'connection_failures', count: network, windowSeconds: settings.connectionFailureWindowSeconds };
  }
  const full = await store.getMeta<string>(FULL_SYNC_KEY);
  if (full === undefined) return { code: 'full_sync_required', why: 'first_run' };
  if (full !== (await schemaPrint(store))) return { code: 'full_sync_required', why: 'schema_changed' };
  return null;
}

/** The fingerprint the store keeps of its tables (it changes with the schema). */
export async function schemaPrint(store: LocalStore): Promise<string> {
  return ((await store.db.table(META).get(SCHEMA_KEY)) as { value?: string } | undefined)?.value ?? '';
}

/** A refusal as one line for people. */
export function describeRefusal(r: RefusalReason): string {
  switch (r.code) {
    case 'profiles_disabled':
      return 'sync profiles are disabled in the app configuration';
    case 'unresolved_failures':
      return `${r.count} unresolved synchronization failure(s)`;
    case 'authentication_required':
      return 'the server needs authentication: the last request was refused (401)';
    case 'connection_failures':
      return `${r.count} connection failures in the last ${r.windowSeconds} s`;
    case 'full_sync_required':
      return r.why === 'first_run' ? 'a full synchronization is required first (first run)' : 'a full synchronization is required (the schema changed)';
  }
}
