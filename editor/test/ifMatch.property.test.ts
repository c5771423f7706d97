/**
 * Generated conditional saves (If-Match) against the editor server: a save overwrites a flow only
 * when its If-Match accepts the version on disk, as RFC 9110 says (`*`, or a list of entity tags
 * of which a STRONG one equals the ETag; a weak tag never matches), and otherwise changes nothing:
 * 409 with the flow as it is for a version that does not match, 400 for a header that is not a
 * list of entity tags. The oracle below is written from the RFC's grammar, not from the server's
 * parser; the flow is changed behind the client's back between reads, so stale tags are real.
 */
import fc from 'fast-check';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzParameters } from '../../test/support/fuzz.ts';
import { ifMatchOf } from '../server/ifMatch.ts';
import { startEditorHttp, type EditorHttp } from './support/editorHttp.ts';

let t: EditorHttp;
let alice: string;
let flow: Record<string, unknown>;
const FLOW = '/editor-api/flows/renameTask';
const json = { 'content-type': 'application/json' };

beforeAll(async () => {
  t = await startEditorHttp();
  alice = await t.signIn('alice-token');
  flow = JSON.parse(await readFile(join(t.flowsDir, 'renameTask.flow.json'), 'utf8')) as Record<string, unknown>;
}, 120_000);

afterAll(async () => {
  await t?.close();
});

/** What the client puts in one list element, and whether the RFC says it matches the current version. */
type Element =
  | { kind: 'current'; weak: boolean }
  | { kind: 'stale'; weak: boolean }
  | { kind: 'other'; tag: string; weak: boolean }
  | { kind: 'empty' };

/** A header: the `*`, a list of elements with random spacing, or bytes that are not a list of entity tags. */
type Header = { kind: 'none' } | { kind: 'star' } | { kind: 'list'; elements: Element[]; spaces: string[] } | { kind: 'garbage'; text: string };

const etagc = fc.string({ unit: fc.constantFrom(...'abcdef0123456789-_:.!#~'), maxLength: 20 });
const element: fc.Arbitrary<Element> = fc.oneof(
  fc.record({ kind: fc.constant('current' as const), weak: fc.boolean() }),
  fc.record({ kind: fc.constant('stale' as const), weak: fc.boolean() }),
  fc.record({ kind: fc.constant('other' as const), tag: etagc, weak: fc.boolean() }),
  fc.constant({ kind: 'empty' as const }),
);
const header: fc.Arbitrary<Header> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.constant({ kind: 'star' as const }),
  { arbitrary: fc.record({ kind: fc.constant('list' as const), elements: fc.array(element, { minLength: 1, maxLength: 4 }), spaces: fc.array(fc.constantFrom('', ' ', '  ', '\t'), { minLength: 8, maxLength: 8 }) }), weight: 4 },
  fc.record({
    kind: fc.constant('garbage' as const),
    // Unquoted tags, a quote left open, a tag followed by junk, W/ without a tag, a bare comma list.
    text: fc.oneof(etagc.filter((s) => s.length > 0 && s !== '*'), etagc.map((s) => `"${s}`), etagc.map((s) => `"${s}"x`), fc.constantFrom('W/', ',', ' , ', '**', '"a" "b"', 'W/ "a"')),
  }),
);

function render(h: Header, current: string, stale: string): string | undefined {
  if (h.kind === 'none') return undefined;
  if (h.kind === 'star') return '*';
  if (h.kind === 'garbage') return h.text;
  return h.elements
    .map((e, i) => {
      const pad = h.spaces[i % h.spaces.length];
      if (e.kind === 'empty') return pad;
      const tag = e.kind === 'current' ? current : e.kind === 'stale' ? stale : e.tag;
      return `${pad}${e.weak ? 'W/' : ''}"${tag}"${pad}`;
    })
    .join(',');
}

/** The RFC's answer: save, refuse as stale (409), or refuse the header (400). */
function expected(h: Header, current: string, stale: string): 'save' | 'stale' | 'bad' {
  if (h.kind === 'none' || h.kind === 'star') return 'save';
  if (h.kind === 'garbage') return 'bad';
  const tags = h.elements.filter((e) => e.kind !== 'empty');
  if (tags.length === 0) return 'bad';
  const strong = tags.filter((e) => !e.weak).map((e) => (e.kind === 'current' ? current : e.kind === 'stale' ? stale : (e as { tag: string }).tag));
  return strong.includes(current) ? 'save' : 'stale';
}

describe('conditional saves (If-Match)', () => {
  it('parses the RFC examples', () => {
    expect(ifMatchOf(undefined)).toBeUndefined();
    expect(ifMatchOf(' * ')).toBe('*');
    expect(ifMatchOf('"xyzzy"')).toEqual(['xyzzy']);
    expect(ifMatchOf('"xyzzy", "r2d2xxxx", "c3piozzzz"')).toEqual(['xyzzy', 'r2d2xxxx', 'c3piozzzz']);
    expect(ifMatchOf('W/"xyzzy", "a"')).toEqual(['a']);
    expect(ifMatchOf('"", ,"b"')).toEqual(['', 'b']);
    for (const bad of ['xyzzy', '"open', '"a"b', 'W/', ',', '"a" "b"', '**']) expect(() => ifMatchOf(bad), bad).toThrow(/If-Match|entity tags/);
  });

  it('overwrites a flow only when a strong tag of If-Match (or *) names the version on disk; otherwise changes nothing', async () => {
    let round = 0;
    const outcomes = { save: 0, stale: 0, bad: 0 };
    await fc.assert(
      fc.asyncProperty(header, async (h) => {
        round++;
        // Read (version A), then another author saves behind the client's back (version B = current).
        const first = await t.send('GET', FLOW, { session: alice });
        const stale = String(first.headers.etag).replace(/^"|"$/g, '');
        const behind = await t.send('PUT', FLOW, { session: alice, headers: json, body: JSON.stringify({ ...flow, description: `changed behind the client ${round}` }) });
        expect(behind.status).toBe(200);
        const current = String(behind.headers.etag).replace(/^"|"$/g, '');
        expect(current).not.toBe(stale);
        const before = await readFile(join(t.flowsDir, 'renameTask.flow.json'), 'utf8');

        const ifMatch = render(h, current, stale);
        const description = `saved with If-Match ${JSON.stringify(ifMatch)} (${round})`;
        const res = await t.send('PUT', FLOW, { session: alice, headers: { ...json, ...(ifMatch === undefined ? {} : { 'if-match': ifMatch }) }, body: JSON.stringify({ ...flow, description }) });
        const after = await readFile(join(t.flowsDir, 'renameTask.flow.json'), 'utf8');
        const want = expected(h, current, stale);
        outcomes[want]++;
        if (want === 'save') {
          expect(res.status, res.text).toBe(200);
          expect(JSON.parse(after).description).toBe(description);
        } else {
          expect(res.status, res.text).toBe(want === 'stale' ? 409 : 400);
          expect(after).toBe(before);
          if (want === 'stale') expect(JSON.parse(res.text).current).toMatchObject({ version: current });
          else {
            expect(JSON.parse(res.text).error.code).toBe('validation_failed');
            expect(res.text).toContain('If-Match');
          }
        }
      }),
      fuzzParameters({ runs: 120, soakRuns: 2000 }),
    );
    // Each outcome is reached often enough to mean something.
    expect(outcomes.save).toBeGreaterThan(10);
    expect(outcomes.stale).toBeGreaterThan(10);
    expect(outcomes.bad).toBeGreaterThan(5);
  }, 180_000);
});
