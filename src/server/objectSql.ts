/**
 * SQL that renders objects and dates in their wire format, so that download batches are built
 * by the database and sent without being parsed in JavaScript.
 */

/**
 * A timestamptz column as fixed-width UTC ISO text with microseconds,
 * `YYYY-MM-DDTHH:MM:SS.ffffffZ`: string order equals time order.
 */
export function wireDateSql(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** The jsonb of a SyncObject from a row of sf_objects aliased `alias`: system attributes plus members. */
export function objectJsonSql(alias = 'o'): string {
  return `(jsonb_build_object('id', ${alias}.id, 'owner', ${alias}.owner, 'createdDate', ${wireDateSql(`${alias}.created_date`)}, 'changedDate', ${wireDateSql(`${alias}.changed_date`)}) || ${alias}.data)`;
}
