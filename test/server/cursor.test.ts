import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.ts';
import { decodeCursor, encodeCursor } from '../../src/server/cursor.ts';
import { isIsoDateTime, isWireDate } from '../../src/server/isoDates.ts';

describe('download cursor', () => {
  const position = { changedDate: '2024-05-01T10:00:00.000001Z', id: '0b7f4f0e-8f43-4c4e-9a5b-0a1c2d3e4f50' };

  it('round-trips a position through an opaque base64url token', () => {
    const cursor = encodeCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(position);
  });

  it('refuses anything that is not one of its cursors, naming the field', () => {
    const forge = (text: string) => Buffer.from(text).toString('base64url');
    for (const bad of [
      '',
      'not a cursor',
      forge('c2|2024-05-01T10:00:00.000001Z|0b7f4f0e-8f43-4c4e-9a5b-0a1c2d3e4f50'),
      forge('c1|2024-05-01T10:00:00Z|0b7f4f0e-8f43-4c4e-9a5b-0a1c2d3e4f50'),
      forge('c1|2024-02-30T10:00:00.000001Z|0b7f4f0e-8f43-4c4e-9a5b-0a1c2d3e4f50'),
      forge('c1|2024-05-01T10:00:00.000001Z|42'),
      forge('c1|2024-05-01T10:00:00.000001Z|0b7f4f0e-8f43-4c4e-9a5b-0a1c2d3e4f50|x'),
    ]) {
      expect(() => decodeCursor(bad), bad).toThrow(ValidationError);
      try {
        decodeCursor(bad);
      } catch (e) {
        expect((e as ValidationError).problems[0].path).toBe('cursor');
      }
    }
  });
});

describe('date checks', () => {
  it('accepts only real calendar dates and times', () => {
    expect(isWireDate('2024-02-29T23:59:59.999999Z')).toBe(true);
    expect(isWireDate('2023-02-29T00:00:00.000000Z')).toBe(false);
    expect(isWireDate('2024-01-01T24:00:00.000000Z')).toBe(false);
    expect(isIsoDateTime('2024-01-01T10:00Z')).toBe(true);
    expect(isIsoDateTime('2024-01-01T10:00:00.123+02:00')).toBe(true);
    expect(isIsoDateTime('2024-01-01T10:00:00')).toBe(false);
    expect(isIsoDateTime('2024-13-01T10:00:00Z')).toBe(false);
    expect(isIsoDateTime('yesterday')).toBe(false);
  });
});
