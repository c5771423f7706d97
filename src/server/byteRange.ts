import { RangeNotSatisfiableError } from '../errors.ts';

/** Which bytes of a file to answer: all of them (200), or `start`..`end` inclusive (206). */
export type ByteRange = { kind: 'full' } | { kind: 'partial'; start: number; end: number };

/**
 * The byte range a GET of file contents answers, from its `Range` and `If-Range` headers
 * (RFC 9110 §14): one range of the `bytes` unit — `N-`, `N-M` or the suffix `-L` — clamped to the
 * file's `size`. Without `Range`, with a range unit other than bytes (which the RFC says to
 * ignore), or with an `If-Range` that is not exactly the current strong `etag` (the bytes a
 * device holds belong to another version: it must not glue them to these), the whole file.
 * Anything else — no `=`, a malformed range, several ranges, a start at or past the end, a
 * zero-length suffix — throws RangeNotSatisfiableError (416): never a server error.
 *
 * @example
 * selectRange('bytes=100-', 1000, undefined, '"v1"'); // { kind: 'partial', start: 100, end: 999 }
 */
export function selectRange(range: string | undefined, size: number, ifRange: string | undefined, etag: string): ByteRange {
  if (range === undefined || range.trim() === '') return { kind: 'full' };
  if (ifRange !== undefined && ifRange.trim() !== etag) return { kind: 'full' };
  const eq = range.indexOf('=');
  if (eq < 0) throw unsatisfiable('the Range header is not "bytes=<first>-<last>"', size);
  const unit = range.slice(0, eq).trim().toLowerCase();
  if (unit === '') throw unsatisfiable('the Range header names no unit', size);
  if (unit !== 'bytes') return { kind: 'full' };
  const parts = range
    .slice(eq + 1)
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length !== 1) throw unsatisfiable(parts.length ? 'only one byte range is served at a time' : 'the Range header names no range', size);
  const match = /^(\d*)[ \t]*-[ \t]*(\d*)$/.exec(parts[0]);
  if (!match || (match[1] === '' && match[2] === '')) throw unsatisfiable(`"${parts[0].slice(0, 40)}" is not a byte range`, size);
  if (match[1] === '') {
    // A suffix: the last L bytes (all of them when L is larger than the file).
    const length = Number(match[2]);
    if (length === 0 || size === 0) throw unsatisfiable('the range holds no byte of the file', size);
    return { kind: 'partial', start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(match[1]);
  const last = match[2] === '' ? Infinity : Number(match[2]);
  if (last < start) throw unsatisfiable('the range ends before it starts', size);
  if (start >= size) throw unsatisfiable(`the range starts at byte ${match[1].slice(0, 20)}, past the file's ${size} bytes`, size);
  return { kind: 'partial', start, end: Math.min(last, size - 1) };
}

function unsatisfiable(message: string, size: number): RangeNotSatisfiableError {
  return new RangeNotSatisfiableError(`Range: ${message}`, size);
}
