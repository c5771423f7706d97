/**
 * A sync journal entry as the run panel's Sync journal shows it: plain text read from
 * `runtime.journal.list()` (what ran, when and for how long, counts per entity, bytes).
 */
import type { JournalCount, JournalEntry, JournalKind } from '../../../src/journal/JournalEntry.ts';

const KINDS: Record<JournalKind, string> = {
  synchronize: 'Synchronize',
  namedSync: 'Named sync',
  ghostCleaning: 'Ghost cleaning',
  profile: 'Profile',
};

/** `Synchronize`, `Named sync`, `Ghost cleaning`, `Profile`. */
export function kindLabel(kind: JournalKind): string {
  return KINDS[kind] ?? kind;
}

/**
 * How long a run took: `692 ms`, `1.4 s`, `2 min 5 s`.
 *
 * @example
 * runDuration({ startedAt: '2025-01-01T10:00:00.000Z', endedAt: '2025-01-01T10:00:01.400Z' }); // '1.4 s'
 */
export function runDuration(entry: Pick<JournalEntry, 'startedAt' | 'endedAt'>): string {
  const ms = Math.max(0, Date.parse(entry.endedAt) - Date.parse(entry.startedAt));
  if (!Number.isFinite(ms)) return '?';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** A byte count to read: `0 B`, `812 B`, `1.2 kB`, `3.4 MB` (powers of 1,000). */
export function byteSize(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)} kB`;
  return `${(n / 1_000_000).toFixed(1)} MB`;
}

/**
 * The counts grouped per entity, in the order first met, the directions as `download 3`; the
 * totals of entity `*` (a Synchronize's removed objects and files) read `all entities`.
 *
 * @example
 * countGroups([{ entity: 'Task', direction: 'download', count: 3 }, { entity: 'Task', direction: 'upload', count: 1 }]);
 * // [{ entity: 'Task', parts: ['download 3', 'upload 1'] }]
 */
export function countGroups(counts: readonly JournalCount[]): Array<{ entity: string; parts: string[] }> {
  const byEntity = new Map<string, string[]>();
  for (const c of counts) {
    const parts = byEntity.get(c.entity) ?? [];
    parts.push(`${c.direction} ${c.count}`);
    byEntity.set(c.entity, parts);
  }
  return [...byEntity].map(([entity, parts]) => ({ entity: entity === '*' ? 'all entities' : entity, parts }));
}

/**
 * When a run started: the time of day for today's entries, else the date too (the journal
 * outlives restarts, so entries of other days are common).
 */
export function startedText(iso: string, now = new Date()): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const time = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  const sameDay = at.getFullYear() === now.getFullYear() && at.getMonth() === now.getMonth() && at.getDate() === now.getDate();
  if (sameDay) return time;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${time}`;
}

/** The file name an export downloads as: `syncflow-journal-<user>-<date>.json`. */
export function exportFileName(user: string, now = new Date()): string {
  const safe = user.replace(/[^A-Za-z0-9._-]+/g, '_') || 'user';
  return `syncflow-journal-${safe}-${now.toISOString().slice(0, 19).replace(/:/g, '-')}.json`;
}
