/**
 * A profile as the Profiles tab shows it: plain text fields read from `runtime.profiles.list()`
 * (the profile, its last run from the journal, its next trigger).
 */
import type { JournalEntry } from '../../../src/journal/JournalEntry.ts';
import type { ProfileInfo } from '../../../src/profiles/ProfileManager.ts';
import type { ProfileTrigger } from '../../../src/profiles/Profile.ts';

export interface ProfileRow {
  name: string;
  description: string;
  direction: string;
  /** `Task, Project`, or `all but X` for an exclude list. */
  entities: string;
  triggers: string[];
  lastRun: {
    /** When it ended (ISO). */
    at: string;
    outcome: JournalEntry['outcome'];
    trigger: string;
    /** `Task download 3, Task upload 1`, or `nothing moved`. */
    counts: string;
    /** Why it did not run or failed, if it did not complete. */
    reason: string | null;
  } | null;
  /** When the next periodic trigger fires (ISO), or null when none is scheduled. */
  nextAt: string | null;
  /** The next trigger in words: the periodic one's time, else the kinds that may start it. */
  next: string;
}

function triggerText(t: ProfileTrigger): string {
  switch (t.kind) {
    case 'periodic':
      return `every ${t.delaySeconds} s`;
    case 'recordChange':
      return `a commit of ${t.entity}`;
    case 'appStart':
      return 'app start';
    case 'online':
      return 'back online';
  }
}

/** `14:05:09` in the page's time zone (the tab shows times of today). */
function clock(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

/**
 * @example
 * const rows = (await runtime.profiles.list()).map(profileRow);
 */
export function profileRow(info: ProfileInfo): ProfileRow {
  const p = info.profile;
  const last = info.lastRun;
  const others = p.triggers.filter((t) => t.kind !== 'periodic').map(triggerText);
  const next = info.nextTrigger
    ? `periodic at ${clock(info.nextTrigger)}${others.length ? `; or on ${others.join(', ')}` : ''}`
    : others.length
      ? `on ${others.join(', ')}`
      : p.triggers.length
        ? 'paused'
        : 'run by name only';
  return {
    name: p.name,
    description: p.description ?? '',
    direction: p.direction,
    entities: 'include' in p.entities ? p.entities.include.join(', ') : p.entities.exclude.length ? `all but ${p.entities.exclude.join(', ')}` : 'all',
    triggers: p.triggers.map(triggerText),
    lastRun: last
      ? {
          at: last.endedAt,
          outcome: last.outcome,
          trigger: last.trigger,
          counts: last.counts.length ? last.counts.map((c) => `${c.entity} ${c.direction} ${c.count}`).join(', ') : 'nothing moved',
          reason: last.outcome === 'done' ? null : (last.error?.message ?? last.skipped.find((s) => s.what === 'run')?.reason ?? null),
        }
      : null,
    nextAt: info.nextTrigger,
    next,
  };
}

export { clock as timeOfDay };
