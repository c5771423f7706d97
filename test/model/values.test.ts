import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.ts';
import { demoSchema } from '../../src/demo/schema.ts';
import { parseIsoDateTime, storableText, validateValues } from '../../src/model/values.ts';

const projectId = '6f1c7a52-0000-4000-8000-000000000001';

describe('validateValues', () => {
  it('normalizes datetimes to UTC ISO and ids to lower case', () => {
    const out = validateValues(demoSchema, 'Task', {
      title: 'a',
      due: '2026-01-02T03:04:05+02:00',
      project: projectId.toUpperCase(),
    });
    expect(out).toEqual({ title: 'a', due: '2026-01-02T01:04:05.000Z', project: projectId });
  });

  it('names every bad field', () => {
    try {
      validateValues(demoSchema, 'Task', { title: 3, done: 'yes', priority: 'urgent', estimate: Infinity, words: 1.5, nope: 1 }, { path: 'data' });
      throw new Error('expected a ValidationError');
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).problems.map((p) => p.path).sort()).toEqual(
        ['data.done', 'data.estimate', 'data.nope', 'data.priority', 'data.title', 'data.words'].sort(),
      );
    }
  });

  it('requires required members unless partial', () => {
    expect(() => validateValues(demoSchema, 'Task', {})).toThrow(/values.title: is required/);
    expect(validateValues(demoSchema, 'Task', {}, { partial: true })).toEqual({});
    expect(() => validateValues(demoSchema, 'Attachment', { name: 'x' })).toThrow(/values.task: is required/);
  });

  it('enforces maxLength and rejects non-UUID references', () => {
    expect(() => validateValues(demoSchema, 'Project', { name: 'x'.repeat(201) })).toThrow(/longer than 200/);
    expect(() => validateValues(demoSchema, 'Task', { title: 't', project: 'p1' })).toThrow(/values.project: must be the id/);
  });

  it('refuses impossible calendar dates and times instead of moving them', () => {
    for (const due of ['2025-02-30T10:00:00Z', '2023-02-29T10:00:00Z', '2025-04-31T00:00:00Z', '2025-03-01T24:00:00Z', '2025-03-01T10:60:00Z', '2025-03-01T10:00:60Z', '2025-03-01T10:00:00+16:00', '2025-13-01T10:00:00Z']) {
      expect(() => validateValues(demoSchema, 'Task', { title: 't', due }), due).toThrow(/values.due: must be an ISO 8601 date and time/);
    }
    expect(validateValues(demoSchema, 'Task', { title: 't', due: '2024-02-29T23:59:59.5-01:00' }).due).toBe('2024-03-01T00:59:59.500Z');
    expect(parseIsoDateTime('2025-02-30T10:00:00Z')).toBeNull();
  });

  it('refuses strings no storage can keep: U+0000 and lone surrogates', () => {
    const cut = '😀'.slice(0, 1);
    expect(() => validateValues(demoSchema, 'Task', { title: `a${cut}` })).toThrow(/values.title: must not contain a lone surrogate/);
    expect(() => validateValues(demoSchema, 'Task', { title: `${'😀'.slice(1)}b` })).toThrow(/lone surrogate/);
    expect(() => validateValues(demoSchema, 'Task', { title: 'a\u0000b' })).toThrow(/values.title: must not contain the character U\+0000/);
    expect(validateValues(demoSchema, 'Task', { title: '😀 ok' }).title).toBe('😀 ok');
    expect(storableText(`a${cut}b\u0000😀`)).toBe('a\ufffdb\ufffd😀');
  });
});
