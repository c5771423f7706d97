import { ValidationError } from '../errors.ts';
import { isUuid } from '../model/values.ts';
import { isWireDate } from './isoDates.ts';

/** A download position: after the object with this (changedDate, id). */
export interface CursorPosition {
  changedDate: string;
  id: string;
}

const VERSION = 'c1';

/**
 * Encodes a download position as an opaque base64url token. Clients must not look inside:
 * the format may change (it carries a version).
 *
 * @example
 * encodeCursor({ changedDate: '2024-05-01T10:00:00.000001Z', id: '9b2c...' }) // 'YzF8MjAyNC0w...'
 */
export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(`${VERSION}|${position.changedDate}|${position.id}`, 'utf8').toString('base64url');
}

/** Decodes a cursor; anything that is not one of ours is a ValidationError naming `path`. */
export function decodeCursor(cursor: string, path = 'cursor'): CursorPosition {
  const bad = () => ValidationError.at(path, 'is not a cursor of this server (pass back the cursor of the previous batch, or null)');
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw bad();
  const [version, changedDate, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (version !== VERSION || rest.length || !isWireDate(changedDate) || !isUuid(id)) throw bad();
  return { changedDate, id: id.toLowerCase() };
}
