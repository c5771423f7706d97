import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoSyncServer, demoUsers } from '../../src/server/demo.ts';
import { fuzzParameters } from '../support/fuzz.ts';
import { closeSharedStorage, sharedStorage } from '../support/world.ts';
import { apiClient, newAttachment } from './support.ts';

let url: string;
let close: () => Promise<void>;
const token = (u: string) => demoUsers.find((x) => x.id === u)!.token;
const SIZE = 1000;
const body = Uint8Array.from({ length: SIZE }, (_, i) => i % 251);

beforeAll(async () => {
  const storage = await (await sharedStorage()).withSchema(`frange_${process.pid}_${Date.now().toString(36)}`);
  const server = await createDemoSyncServer(storage);
  url = await server.listen({ port: 0 });
  close = () => server.close();
}, 120_000);
afterAll(async () => {
  await close();
  await closeSharedStorage();
});

async function attachmentWithFile(data: Uint8Array = body) {
  const alice = apiClient(url, token('alice'));
  const id = await newAttachment(alice);
  const put = await alice.putFile('Attachment', id, data as Uint8Array<ArrayBuffer>, 'application/octet-stream');
  return { id, version: put.body.object.changedDate as string };
}

const get = (id: string, headers: Record<string, string>, user = 'alice') =>
  fetch(`${url}/api/files/Attachment/${id}`, { headers: { authorization: `Bearer ${token(user)}`, ...headers } });

describe('GET /api/files with Range', () => {
  it('announces byte ranges and the version as a strong ETag', async () => {
    const { id, version } = await attachmentWithFile();
    const res = await get(id, {});
    expect(res.status).toBe(200);
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('etag')).toBe(`"${version}"`);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(body);
  });

  it('answers the rest from byte N with 206 and Content-Range, when If-Range is the current version', async () => {
    const { id, version } = await attachmentWithFile();
    const res = await get(id, { range: 'bytes=600-', 'if-range': `"${version}"` });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 600-999/${SIZE}`);
    expect(res.headers.get('content-length')).toBe('400');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(body.subarray(600));
  });

  it('answers the whole new file (200) when the contents changed since the bytes the device holds', async () => {
    const { id, version } = await attachmentWithFile();
    const next = Uint8Array.from(body, (b) => 255 - b);
    await apiClient(url, token('alice')).putFile('Attachment', id, next as Uint8Array<ArrayBuffer>, 'application/octet-stream');
    const res = await get(id, { range: 'bytes=600-', 'if-range': `"${version}"` });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).not.toBe(`"${version}"`);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(next);
  });

  it('is a 404 with another user\'s token, whatever the range', async () => {
    const { id } = await attachmentWithFile();
    for (const range of ['bytes=0-', 'bytes=5000-', 'garbage']) {
      const res = await get(id, { range }, 'bob');
      expect(res.status).toBe(404);
      expect((await res.json()).error.code).toBe('not_found');
    }
  });

  it('refuses malformed, multiple and out-of-file ranges with 416 and Content-Range: bytes */size, huge numbers included', async () => {
    const { id } = await attachmentWithFile();
    for (const range of ['bytes=abc', 'bytes=0-1,5-6', 'bytes=1000-', 'bytes=99999999999999999999999999999999-', 'bytes=5-1', 'bytes', `bytes=${'9'.repeat(5000)}-`]) {
      const res = await get(id, { range });
      expect(res.status, range).toBe(416);
      expect(res.headers.get('content-range')).toBe(`bytes */${SIZE}`);
      expect((await res.json()).error.code).toBe('range_not_satisfiable');
    }
  });

  it('never answers 5xx, and only bytes of the file, for generated Range and If-Range headers', async () => {
    const { id, version } = await attachmentWithFile();
    // Header values travel as Latin-1 without control characters; fetch refuses anything else before sending.
    const headerText = fc.stringMatching(/^[\x20-\x7e]{0,60}$/);
    const range = fc.oneof(headerText, headerText.map((s) => `bytes=${s}`), fc.stringMatching(/^bytes=[-0-9, ]{0,40}$/));
    const ifRange = fc.option(fc.oneof(headerText, fc.constant(`"${version}"`)), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(range, ifRange, async (r, ir) => {
        const res = await get(id, { range: r, ...(ir === undefined ? {} : { 'if-range': ir }) });
        const bytes = new Uint8Array(await res.arrayBuffer());
        expect([200, 206, 416]).toContain(res.status);
        if (res.status === 200) expect(bytes).toEqual(body);
        if (res.status === 206) {
          const [, start, end, total] = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers.get('content-range')!)!.map(Number);
          expect(total).toBe(SIZE);
          expect(bytes).toEqual(body.subarray(start, end + 1));
        }
      }),
      fuzzParameters({ runs: 60, soakRuns: 3000 }),
    );
  }, 60_000);
});
