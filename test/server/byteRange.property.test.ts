import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RangeNotSatisfiableError } from '../../src/errors.ts';
import { selectRange } from '../../src/server/byteRange.ts';
import { fuzzParameters } from '../support/fuzz.ts';

const ETAG = '"2026-01-01T00:00:00.000001Z"';
const select = (range: string | undefined, size: number, ifRange?: string) => {
  try {
    return selectRange(range, size, ifRange, ETAG);
  } catch (e) {
    if (e instanceof RangeNotSatisfiableError) return { kind: 'unsatisfiable' as const, size: e.size };
    throw e;
  }
};

/**
 * The oracle, from RFC 9110 §14.1.2 for one range of the bytes unit: a first-last or first-
 * range, or a suffix; satisfiable when its first byte lies in the file (a suffix: when it and
 * the file are not empty).
 */
function oracle(first: bigint | null, last: bigint | null, size: number): { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' } {
  const n = BigInt(size);
  if (first === null) {
    if (last === null || last === 0n || n === 0n) return { kind: 'unsatisfiable' };
    const start = n - last > 0n ? n - last : 0n;
    return { kind: 'partial', start: Number(start), end: size - 1 };
  }
  if (last !== null && last < first) return { kind: 'unsatisfiable' };
  if (first >= n) return { kind: 'unsatisfiable' };
  const end = last === null || last >= n ? n - 1n : last;
  return { kind: 'partial', start: Number(first), end: Number(end) };
}

describe('selectRange (Range and If-Range of GET /api/files)', () => {
  it('answers the bytes from N of `bytes=N-`, and the whole file without a range', () => {
    expect(select('bytes=100-', 1000)).toEqual({ kind: 'partial', start: 100, end: 999 });
    expect(select('bytes=0-0', 1000)).toEqual({ kind: 'partial', start: 0, end: 0 });
    expect(select('bytes=-10', 1000)).toEqual({ kind: 'partial', start: 990, end: 999 });
    expect(select('BYTES = 5 - 9', 1000)).toEqual({ kind: 'partial', start: 5, end: 9 });
    expect(select(undefined, 1000)).toEqual({ kind: 'full' });
    expect(select('', 1000)).toEqual({ kind: 'full' });
  });

  it('answers the whole file when If-Range names another version (never bytes of two versions glued)', () => {
    expect(select('bytes=100-', 1000, ETAG)).toEqual({ kind: 'partial', start: 100, end: 999 });
    expect(select('bytes=100-', 1000, '"2025-01-01T00:00:00.000001Z"')).toEqual({ kind: 'full' });
    expect(select('bytes=100-', 1000, `W/${ETAG}`)).toEqual({ kind: 'full' }); // a weak tag never matches
    expect(select('bytes=100-', 1000, 'Wed, 21 Oct 2015 07:28:00 GMT')).toEqual({ kind: 'full' });
  });

  it('ignores a range unit it does not know, as the RFC requires', () => {
    expect(select('items=0-5', 1000)).toEqual({ kind: 'full' });
  });

  it('refuses malformed, multiple, reversed, empty and out-of-file ranges with 416, huge numbers included', () => {
    for (const bad of ['bytes', 'bytes=', 'bytes=-', 'bytes=abc', 'bytes=1-2-3', 'bytes=5-4', 'bytes=0-1,3-4', 'bytes=1000-', 'bytes=-0', 'bytes=0x10-', 'bytes=+1-', 'bytes=99999999999999999999999999-', '=0-']) {
      expect(select(bad, 1000), bad).toEqual({ kind: 'unsatisfiable', size: 1000 });
    }
    expect(select('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable', size: 0 });
    expect(select('bytes=0-99999999999999999999999999', 10)).toEqual({ kind: 'partial', start: 0, end: 9 });
    expect(select('bytes=-99999999999999999999999999', 10)).toEqual({ kind: 'partial', start: 0, end: 9 });
  });

  it('agrees with the RFC oracle on generated single ranges', () => {
    const digits = fc.oneof(fc.bigInt({ min: 0n, max: 2000n }), fc.bigInt({ min: 0n, max: 10n ** 30n }));
    fc.assert(
      fc.property(fc.option(digits, { nil: null }), fc.option(digits, { nil: null }), fc.integer({ min: 0, max: 1500 }), (first, last, size) => {
        const header = `bytes=${first ?? ''}-${last ?? ''}`;
        const got = select(header, size);
        const want = oracle(first, last, size);
        expect(got.kind === 'unsatisfiable' ? { kind: 'unsatisfiable' } : got).toEqual(want);
        if (got.kind === 'partial') expect(got.start <= got.end && got.end < size).toBe(true);
      }),
      fuzzParameters({ runs: 500, soakRuns: 20000 }),
    );
  });

  it('never throws anything but a RangeNotSatisfiableError, and never answers bytes outside the file, whatever the header', () => {
    const header = fc.oneof(fc.string(), fc.string().map((s) => `bytes=${s}`), fc.stringMatching(/^bytes=[-0-9, ]{0,30}$/));
    fc.assert(
      fc.property(header, fc.integer({ min: 0, max: 1 << 20 }), fc.option(fc.string(), { nil: undefined }), (range, size, ifRange) => {
        const got = select(range, size, ifRange);
        if (got.kind === 'partial') expect(0 <= got.start && got.start <= got.end && got.end < size).toBe(true);
        if (got.kind === 'unsatisfiable') expect(got.size).toBe(size);
      }),
      fuzzParameters({ runs: 1000, soakRuns: 50000 }),
    );
  });
});
