import type { JournalEntry } from '../journal/JournalEntry.ts';
import type { Schema } from '../model/schema.ts';

/** The reasons the journal gives for an excluded entity. */
export const GLOBAL_EXCLUSION = 'global exclusion: the schema marks it stable';
export const AUTO_EXCLUSION = 'auto exclusion: no server change over the recent runs';

/**
 * The global exclusion list: entities the schema marks `stable` (SmartSync's list built from
 * the metadata).
 *
 * @example
 * globalExclusions(schema); // ['Country', 'Currency']
 */
export function globalExclusions(schema: Schema): string[] {
  return schema.order.filter((e) => schema.entities[e].stable === true);
}

/**
 * The automatic exclusion list of a profile, from its journal entries (newest first): an
 * entity is left out when its last `runs` downloads brought nothing. It costs no request: the
 * journal is local. So that a changed entity is not left out for ever, it is downloaded again
 * once it has been left out `runs` times in a row.
 */
export function autoExclusions(entries: readonly JournalEntry[], entities: readonly string[], runs: number): string[] {
  const out: string[] = [];
  for (const entity of entities) {
    let skippedInARow = 0;
    let emptyDownloads = 0;
    let seenDownload = false;
    for (const e of entries) {
      if (e.outcome !== 'done') continue;
      const downloaded = e.checkpoints.after[entity] !== undefined;
      if (!downloaded) {
        if (!seenDownload && e.skipped.some((s) => s.what === `entity ${entity}` && s.reason === AUTO_EXCLUSION)) skippedInARow++;
        continue;
      }
      seenDownload = true;
      const count = e.counts.find((c) => c.entity === entity && c.direction === 'download')?.count ?? 0;
      if (count > 0) break;
      if (++emptyDownloads >= runs) break;
    }
    if (emptyDownloads >= runs && skippedInARow < runs) out.push(entity);
  }
  return out;
}
