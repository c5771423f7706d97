import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { demoSchema } from '../../src/demo/schema.ts';
import { NetworkError } from '../../src/errors.ts';
import { createRuntime } from '../../src/runtime/Runtime.ts';
import { demoUsers } from '../../src/server/demo.ts';
import { useWorld } from '../support/world.ts';

const world = useWorld({ scope: 'test' });
const uuid = () => crypto.randomUUID();
const CHUNK = 64 * 1024;

/**
 * A fetch to the real server that counts the file bytes it delivers, and can break the body of
 * the next file download after `cut` bytes: with a network fault, or by holding it while `onCut`
 * runs (e.g. cancels the sync; the body then fails with the request's abort).
 */
class FileLink {
  served = 0;
  ranges: Array<string | null> = [];
  cut: { after: number; onCut?: () => void } | null = null;

  readonly fetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const res = await fetch(input, init);
    if (!/^\/api\/files\/[^/]+\/[^/]+$/.test(url.pathname) || init?.method !== 'GET' || !res.body) return res;
    this.ranges.push(new Headers(init.headers).get('range'));
    const cut = this.cut;
    this.cut = null;
    const reader = res.body.getReader();
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const { done, value } = await reader.read();
        if (done) return controller.close();
        let chunk = value;
        if (cut && sent + chunk.byteLength > cut.after) chunk = chunk.subarray(0, cut.after - sent);
        sent += chunk.byteLength;
        this.served += chunk.byteLength;
        if (chunk.byteLength) controller.enqueue(chunk);
        if (cut && sent >= cut.after) {
          void reader.cancel();
          if (cut.onCut) {
            const signal = init.signal!;
            cut.onCut();
            await new Promise((resolve) => (signal.aborted ? resolve(null) : signal.addEventListener('abort', resolve)));
            controller.error(signal.reason);
          } else controller.error(new TypeError('terminated: other side closed (injected)'));
        }
      },
    });
    return new Response(body, { status: res.status, headers: res.headers });
  };
}

async function device(link: FileLink, dbName = `resume-${uuid()}`) {
  const runtime = await createRuntime({
    schema: demoSchema,
    serverUrl: world.url,
    token: demoUsers.find((u) => u.id === 'alice')!.token,
    dbName,
    indexedDB,
    IDBKeyRange,
    fetch: link.fetch,
    files: { chunkSize: CHUNK },
  });
  return runtime;
}

function bytes(size: number, salt = 0): Uint8Array<ArrayBuffer> {
  return Uint8Array.from({ length: size }, (_, i) => (i * 7 + salt) % 256);
}

async function attachmentOnServer(data: Uint8Array<ArrayBuffer>) {
  const alice = world.elsewhere('alice');
  const task = uuid();
  const id = uuid();
  await alice.upload([{ entity: 'Task', id: task, kind: 'create', data: { title: 'T' } }]);
  await alice.upload([{ entity: 'Attachment', id, kind: 'create', data: { name: 'big.bin', task } }]);
  await alice.client.putFile('Attachment', id, data, 'application/octet-stream');
  return { alice, id };
}

describe('resumable downloads of large files', () => {
  it('a download broken at 60 % fetches only the remaining 40 % next time', async () => {
    const size = 10 * CHUNK;
    const body = bytes(size);
    const { id } = await attachmentOnServer(body);
    const link = new FileLink();
    const runtime = await device(link);
    link.cut = { after: Math.floor(size * 0.6) };

    await expect(runtime.synchronize({ mode: 'all' })).rejects.toBeInstanceOf(NetworkError);
    expect((await runtime.store.partialFile('Attachment', id))!.data.byteLength).toBe(Math.floor(size * 0.6));
    link.served = 0;
    await runtime.synchronize({ mode: 'all' });
    console.log(`download resume: ${size}-byte file broken at 60 %; the next sync fetched ${link.served} bytes (${((100 * link.served) / size).toFixed(1)} %; it fetched 100 % before)`);
    expect(link.served).toBe(size - Math.floor(size * 0.6));
    expect(link.ranges.at(-1)).toBe(`bytes=${Math.floor(size * 0.6)}-`);
    expect(Buffer.from((await runtime.store.getFile('Attachment', id))!.data).equals(Buffer.from(body))).toBe(true);
    expect(await runtime.store.partialFile('Attachment', id)).toBeUndefined();
    runtime.close();
  });

  it('never glues bytes of two versions: contents changed since the break are fetched whole', async () => {
    const size = 4 * CHUNK;
    const { alice, id } = await attachmentOnServer(bytes(size));
    const link = new FileLink();
    const runtime = await device(link);
    link.cut = { after: size / 2 };
    await expect(runtime.synchronize({ mode: 'all' })).rejects.toBeInstanceOf(NetworkError);
    const next = bytes(size + 100, 1);
    await alice.client.putFile('Attachment', id, next, 'application/octet-stream');

    link.served = 0;
    await runtime.synchronize({ mode: 'all' });
    expect(link.served).toBe(size + 100);
    expect(Buffer.from((await runtime.store.getFile('Attachment', id))!.data).equals(Buffer.from(next))).toBe(true);
    runtime.close();
  });

  it('keeps the bytes across a stop in the middle and a restart, and asks for the rest only', async () => {
    const size = 8 * CHUNK;
    const body = bytes(size, 3);
    const { id } = await attachmentOnServer(body);
    const link = new FileLink();
    const dbName = `resume-${uuid()}`;
    const runtime = await device(link, dbName);
    link.cut = { after: 3 * CHUNK, onCut: () => runtime.synchronizer.cancel() };
    await expect(runtime.synchronize({ mode: 'all' })).rejects.toMatchObject({ code: 'sync_cancelled' });
    runtime.close();

    const again = await device(link, dbName);
    expect((await again.store.partialFile('Attachment', id))!.data.byteLength).toBe(3 * CHUNK);
    link.served = 0;
    await again.synchronize({ mode: 'all' });
    expect(link.served).toBe(size - 3 * CHUNK);
    expect(Buffer.from((await again.store.getFile('Attachment', id))!.data).equals(Buffer.from(body))).toBe(true);
    again.close();
  });

  it('keeps nothing of a file no larger than one chunk: it is fetched whole again', async () => {
    const size = CHUNK;
    const { id } = await attachmentOnServer(bytes(size));
    const link = new FileLink();
    const runtime = await device(link);
    link.cut = { after: size / 2 };
    await expect(runtime.synchronize({ mode: 'all' })).rejects.toBeInstanceOf(NetworkError);
    expect(await runtime.store.partialFile('Attachment', id)).toBeUndefined();
    link.served = 0;
    await runtime.synchronize({ mode: 'all' });
    expect(link.served).toBe(size);
    expect(link.ranges.at(-1)).toBeNull();
    runtime.close();
  });
});
