import type { Queryable } from './storage/Storage.ts';
import { wireDateSql } from './objectSql.ts';

/**
 * Takes the write clock for this transaction and answers its time stamp (wire format).
 *
 * Every write transaction calls this first. The row lock on sf_clock is held until commit, so
 * writers take turns: commit order equals changedDate order, across every server process on
 * the database, and a reader's cursor (changedDate, id) can never be passed by a row that
 * commits later with a smaller stamp. The stamp always grows, even if the system clock steps back.
 */
export async function tickClock(tx: Queryable): Promise<string> {
  const { rows } = await tx.query<{ t: string }>(
    `UPDATE sf_clock SET t = greatest(clock_timestamp(), t + interval '1 microsecond') RETURNING ${wireDateSql('t')} AS t`,
  );
  return rows[0].t;
}
