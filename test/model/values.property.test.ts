import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isIsoDateTime, parseIsoDateTime } from '../../src/model/values.ts';
import { fuzzParameters } from '../support/fuzz.ts';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Whether y-m-d is on the calendar: an independent oracle (month lengths and leap years by rule, not by Date). */
function onCalendar(y: number, m: number, d: number): boolean {
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
  return y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= days;
}

/** Parts of an ISO text, mostly in range, sometimes just outside it (day 30 of February, hour 24, zone +16:00). */
const parts = fc.record({
  y: fc.oneof(fc.integer({ min: 1, max: 9999 }), fc.constantFrom(0, 1, 99, 100, 1900, 2000, 2024, 2100, 9999)),
  m: fc.integer({ min: 0, max: 13 }),
  d: fc.integer({ min: 0, max: 32 }),
  h: fc.integer({ min: 0, max: 24 }),
  mi: fc.integer({ min: 0, max: 60 }),
  s: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
  fraction: fc.option(fc.stringMatching(/^\d{1,6}$/), { nil: undefined }),
  zone: fc.oneof(fc.constant('Z'), fc.record({ sign: fc.constantFrom('+', '-'), h: fc.integer({ min: 0, max: 16 }), m: fc.integer({ min: 0, max: 60 }) })),
});

type Parts = typeof parts extends fc.Arbitrary<infer T> ? T : never;

const text = (p: Parts): string => {
  const seconds = p.s === undefined ? '' : `:${pad(p.s)}${p.fraction === undefined ? '' : `.${p.fraction}`}`;
  const zone = p.zone === 'Z' ? 'Z' : `${p.zone.sign}${pad(p.zone.h)}:${pad(p.zone.m)}`;
  return `${pad(p.y, 4)}-${pad(p.m)}-${pad(p.d)}T${pad(p.h)}:${pad(p.mi)}${seconds}${zone}`;
};

describe('parseIsoDateTime', () => {
  it('accepts exactly the real dates and times, and every accepted text round-trips', () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(parts, (p) => {
        const source = text(p);
        const date = parseIsoDateTime(source);
        const zoneMinutes = p.zone === 'Z' ? 0 : (p.zone.sign === '-' ? -1 : 1) * (p.zone.h * 60 + p.zone.m);
        const real =
          onCalendar(p.y, p.m, p.d) && p.h <= 23 && p.mi <= 59 && (p.s ?? 0) <= 59 && (p.zone === 'Z' || (p.zone.h <= 15 && p.zone.m <= 59));
        // The instant the parts name, computed from day numbers (no Date parsing): days since 0001-01-01.
        const daysBefore = (y: number) => (y - 1) * 365 + Math.floor((y - 1) / 4) - Math.floor((y - 1) / 100) + Math.floor((y - 1) / 400);
        const monthDays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        const leap = (p.y % 4 === 0 && p.y % 100 !== 0) || p.y % 400 === 0;
        const dayOfYear = monthDays.slice(0, Math.max(0, p.m - 1)).reduce((a, b) => a + b, 0) + (leap && p.m > 2 ? 1 : 0) + p.d - 1;
        // A fraction is written only after seconds; beyond milliseconds it is cut.
        const ms = p.s === undefined ? 0 : Number((p.fraction ?? '').padEnd(3, '0').slice(0, 3));
        const instant =
          ((daysBefore(p.y) + dayOfYear) * 86_400 + p.h * 3600 + p.mi * 60 + (p.s ?? 0) - zoneMinutes * 60) * 1000 + ms + EPOCH_FROM_YEAR_1;
        const inRange = instant >= FIRST && instant <= LAST;
        expect(date !== null, source).toBe(real && inRange);
        if (!date) {
          refused++;
          return;
        }
        accepted++;
        expect(date.getTime(), source).toBe(instant);
        // Round trip: the UTC text of the instant parses back to the same instant, and is valid itself.
        const iso = date.toISOString();
        expect(iso, source).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
        expect(parseIsoDateTime(iso)?.getTime(), source).toBe(date.getTime());
        expect(isIsoDateTime(iso)).toBe(true);
      }),
      fuzzParameters({ runs: 3000, soakRuns: 200_000 }),
    );
    // The generator reaches both sides of the rule.
    expect(accepted).toBeGreaterThan(300);
    expect(refused).toBeGreaterThan(300);
  });

  it('refuses text Date would accept: shifted dates, other formats, no zone', () => {
    for (const s of [
      '2025-02-30T10:00:00Z', '2025-03-01T24:00:00Z', '2025-03-01T10:00:60Z', '2025-03-01T10:00:00+99:99', '0000-01-01T00:00:00Z',
      '0001-01-01T00:30:00+01:00', '9999-12-31T23:00:00-05:00', '+275760-09-13T00:00:00Z', '2025-03-01', '2025-03-01T10:00:00',
      'March 7, 2025', 'Sat Mar 01 2025 10:00:00 GMT+0000', '2025-03-01 10:00:00Z', ' 2025-03-01T10:00:00Z', '2025-03-01T10:00:00.1234567Z', '',
    ]) {
      expect(parseIsoDateTime(s), s).toBeNull();
    }
    expect(parseIsoDateTime(12 as unknown as string)).toBeNull();
    expect(parseIsoDateTime('0050-06-15T12:00:00Z')?.toISOString()).toBe('0050-06-15T12:00:00.000Z');
    expect(parseIsoDateTime('2024-02-29T23:59:59.999999-15:59')?.toISOString()).toBe('2024-03-01T15:58:59.999Z');
  });
});

// Milliseconds from 0001-01-01T00:00:00Z to 1970-01-01, by day count (719,162 days), and the accepted range.
const EPOCH_FROM_YEAR_1 = -719_162 * 86_400_000;
const FIRST = EPOCH_FROM_YEAR_1;
const LAST = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
