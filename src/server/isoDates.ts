/** Datetime checks done before a value reaches SQL, so a bad date is a 400 naming the field, never a database error. */

const WIRE_DATE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}Z$/;
const ISO_DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/** The server's own format, `YYYY-MM-DDTHH:MM:SS.ffffffZ` (changedDate, createdDate, cursors). */
export function isWireDate(value: unknown): value is string {
  const m = typeof value === 'string' ? WIRE_DATE.exec(value) : null;
  return !!m && validParts(m[1], m[2], m[3], m[4], m[5], m[6]);
}

/** Any ISO 8601 date and time with a zone (`Z` or `+hh:mm`), with a real calendar date. */
export function isIsoDateTime(value: unknown): value is string {
  const m = typeof value === 'string' ? ISO_DATETIME.exec(value) : null;
  if (!m || !validParts(m[1], m[2], m[3], m[4], m[5], m[6] ?? '00')) return false;
  return m[7] === undefined || (Number(m[8]) <= 15 && Number(m[9]) <= 59);
}

function validParts(y: string, mo: string, d: string, h: string, mi: string, s: string): boolean {
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  return (
    date.getUTCFullYear() === Number(y) &&
    date.getUTCMonth() === Number(mo) - 1 &&
    date.getUTCDate() === Number(d) &&
    Number(h) <= 23 &&
    Number(mi) <= 59 &&
    Number(s) <= 59
  );
}
