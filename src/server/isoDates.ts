/** Datetime checks done before a value reaches SQL, so a bad date is a 400 naming the field, never a database error. */
import { isIsoDateTime, parseIsoDateTime } from '../model/values.ts';

const WIRE_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** The server's own format, `YYYY-MM-DDTHH:MM:SS.ffffffZ` (changedDate, createdDate, cursors), naming a real instant. */
export function isWireDate(value: unknown): value is string {
  return typeof value === 'string' && WIRE_DATE.test(value) && parseIsoDateTime(value) !== null;
}

/**
 * Any ISO 8601 date and time with a zone (`Z` or `+hh:mm`), with a real calendar date and time:
 * the device's parser, so a value the device accepts is one the server accepts.
 */
export { isIsoDateTime };
