import { demoSchema } from '../../src/demo/schema.ts';
import { storesFor, TAG } from '../../src/store/tables.ts';

/**
 * The floors' Dexie stores: the runtime's tables and indexes (storesFor(schema): id,
 * changedDate, every association) minus `$tag`, the runtime's own bookkeeping for the
 * all-objects cleanup, which a hand-written download does not need. (On fake-indexeddb a row
 * lacking an indexed field also costs a thrown DataError, so keeping the index without the
 * field would slow the floor down for nothing.) Browser-safe: the memory bench's page uses it too.
 */
export function floorStores(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(storesFor(demoSchema)).map(([table, spec]) => [table, spec.split(', ').filter((field) => field !== TAG).join(', ')]),
  );
}
