import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoSyncServer, demoUsers } from '../../src/server/demo.ts';
import { closeSharedStorage, sharedStorage } from '../support/world.ts';
import { apiClient, newAttachment } from './support.ts';

let url: string;
let close: () => Promise<void>;
const token = (u: string) => demoUsers.find((x) => x.id === u)!.token;
const uuid = () => crypto.randomUUID();

beforeAll(async () => {
  const storage = await (await sharedStorage()).withSchema(`files_${process.pid}_${Date.now().toString(36)}`);
  const server = await createDemoSyncServer(storage, { fileLimit: 64 });
  url = await server.listen({ port: 0 });
  close = () => server.close();
});
afterAll(async () => {
  await close();
  await closeSharedStorage();
});

async function attachment() {
  const alice = apiClient(url, token('alice'));
  return { alice, id: await newAttachment(alice) };
}

describe('user files', () => {
  it('are served nosniff, and as attachments unless a raster image: stored HTML never renders inline', async () => {
    const { alice, id } = await attachment();
    await alice.putFile('Attachment', id, '<script>alert(1)</script>', 'text/html');
    const html = await alice.getFile('Attachment', id);
    expect(html.headers.get('x-content-type-options')).toBe('nosniff');
    expect(html.headers.get('content-disposition')).toBe('attachment');
    await alice.putFile('Attachment', id, '<svg onload="alert(1)"/>', 'image/svg+xml');
    expect((await alice.getFile('Attachment', id)).headers.get('content-disposition')).toBe('attachment');
    await alice.putFile('Attachment', id, new Uint8Array([0x89, 0x50]), 'image/png');
    const png = await alice.getFile('Attachment', id);
    expect(png.headers.get('content-disposition')).toBe('inline');
    expect(png.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('resumable uploads', () => {
  const chunkUrl = (id: string, upload: string, offset: number, size: number) => `/api/files/Attachment/${id}/uploads/${upload}?offset=${offset}&size=${size}`;

  it('stage chunks until the last one, then swap the whole file in; a wrong offset is a conflict; a repeat of the last chunk is answered again', async () => {
    const { alice, id } = await attachment();
    const upload = uuid();
    const put = (offset: number, body: string) => alice.call('PUT', chunkUrl(id, upload, offset, 10), body, { 'content-type': 'text/plain' });
    expect((await put(0, 'hello')).body).toEqual({ offset: 5, size: 10, complete: false });
    expect((await alice.getFile('Attachment', id)).status).toBe(404); // half a file is never visible
    expect((await put(3, 'xxxxx')).status).toBe(409);
    expect((await alice.call('GET', `/api/files/Attachment/${id}/uploads/${upload}`)).body).toEqual({ offset: 5, size: 10, complete: false });
    const last = await put(5, 'world');
    expect(last.body).toMatchObject({ offset: 10, complete: true, object: { id } });
    expect(await (await alice.getFile('Attachment', id)).text()).toBe('helloworld');
    expect((await put(5, 'world')).body).toEqual({ offset: 10, size: 10, complete: true });
  });

  it('refuse a declared size over the limit with a typed 413 before storing anything', async () => {
    const { alice, id } = await attachment();
    const upload = uuid();
    const r = await alice.call('PUT', chunkUrl(id, upload, 0, 65), 'x', { 'content-type': 'text/plain' });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('payload_too_large');
    expect((await alice.call('GET', `/api/files/Attachment/${id}/uploads/${upload}`)).body).toEqual({ offset: 0, size: null, complete: false });
  });

  it('belong to their user: another user cannot see or add to them, nor start one on an object they cannot write', async () => {
    const { alice, id } = await attachment();
    const bob = apiClient(url, token('bob'));
    const upload = uuid();
    await alice.call('PUT', chunkUrl(id, upload, 0, 4), 'ab', { 'content-type': 'text/plain' });
    expect((await bob.call('GET', `/api/files/Attachment/${id}/uploads/${upload}`)).body).toEqual({ offset: 0, size: null, complete: false });
    expect((await bob.call('PUT', chunkUrl(id, upload, 2, 4), 'cd', { 'content-type': 'text/plain' })).status).toBe(404);
    expect((await bob.call('PUT', chunkUrl(id, uuid(), 0, 2), 'cd', { 'content-type': 'text/plain' })).status).toBe(404);
    expect((await alice.call('PUT', chunkUrl(id, upload, 0, -1), 'x', { 'content-type': 'text/plain' })).status).toBe(400);
  });
});
