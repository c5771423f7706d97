import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkError, ProtocolError, ServerError, SyncflowError } from '../../src/errors.ts';
import { SyncClient } from '../../src/transport/SyncClient.ts';
import { closeSharedStorage, startWorld, type World } from '../support/world.ts';

let world: World;
let odd: Server;
let oddUrl: string;

beforeAll(async () => {
  world = await startWorld();
  // A server that answers things that are not the protocol, and one request that never ends.
  odd = createServer((req, res) => {
    if (req.url === '/api/download') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"objects": "not a list"}');
    } else if (req.url === '/api/ids') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>proxy login</html>');
    } else if (req.url?.startsWith('/api/failures')) {
      // Every page points at itself: a client that follows it blindly never ends.
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"failures": [], "nextCursor": "again"}');
    } else if (req.url === '/api/fetch') {
      res.writeHead(502, { 'content-type': 'text/plain' }).end('Bad gateway');
    } else {
      // /api/upload: hang (the client's timeout must end it)
    }
  });
  await new Promise<void>((resolve) => odd.listen(0, '127.0.0.1', resolve));
  oddUrl = `http://127.0.0.1:${(odd.address() as AddressInfo).port}`;
});

afterAll(async () => {
  odd.closeAllConnections();
  await new Promise((resolve) => odd.close(resolve));
  await world.close();
  await closeSharedStorage();
});

const client = (baseUrl: string, token = 'alice-token', timeoutMs?: number) => new SyncClient({ baseUrl, token, deviceId: 'test-device', timeoutMs });

describe('SyncClient against the real server', () => {
  it('uploads, downloads in batches with a cursor, and fetches by id', async () => {
    const alice = client(world.url + '/');
    const ids = Array.from({ length: 5 }, () => crypto.randomUUID());
    const { results } = await alice.upload(
      ids.map((id, i) => ({ changeId: crypto.randomUUID(), entity: 'Task', id, kind: 'create' as const, data: { title: `t${i}` } })),
    );
    expect(results.map((r) => r.status)).toEqual(['applied', 'applied', 'applied', 'applied', 'applied']);

    const seen: string[] = [];
    let cursor: string | null = null;
    let total: number | undefined;
    do {
      const page = await alice.download({ entity: 'Task', cursor, limit: 2, count: cursor === null });
      total ??= page.total;
      seen.push(...page.objects.map((o) => o.id));
      cursor = page.cursor;
    } while (cursor);
    expect(total).toBe(5);
    expect(seen.sort()).toEqual([...ids].sort());

    const missing = crypto.randomUUID();
    const fetched = await alice.fetchObjects('Task', [ids[0], missing]);
    expect(fetched.objects.map((o) => o.id)).toEqual([ids[0]]);
    expect(fetched.missing).toEqual([missing]);
  });

  it('maps a wrong token to an unauthorized ServerError', async () => {
    const error = await client(world.url, 'wrong-token').download({ entity: 'Task' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it("keeps the server's code and message for bad input (the message names the field)", async () => {
    const error = await client(world.url).download({ entity: 'Task', cursor: 'not-a-cursor!' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ status: 400, serverCode: 'validation_failed' });
    expect((error as Error).message).toMatch(/cursor/);
  });
});

describe('SyncClient faults', () => {
  it('is a NetworkError when nothing listens', async () => {
    // A port that was just free: connection refused.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    await expect(client(`http://127.0.0.1:${port}`).download({ entity: 'Task' })).rejects.toBeInstanceOf(NetworkError);
  });

  it('is a ProtocolError when the answer is not the protocol', async () => {
    await expect(client(oddUrl).download({ entity: 'Task' })).rejects.toBeInstanceOf(ProtocolError);
    await expect(client(oddUrl).ids({ entity: 'Task' })).rejects.toThrow(/not JSON/);
  });

  it('is a ProtocolError when failure pages do not move on', async () => {
    await expect(client(oddUrl).failures('open')).rejects.toThrow(/the next cursor does not move/);
  });

  it('is a ServerError with the status line when an error answer has no protocol body', async () => {
    const error = await client(oddUrl).fetchObjects('Task', [crypto.randomUUID()]).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 502, code: 'server', serverCode: undefined, message: 'the server answered 502' });
  });

  it('ends a request that hangs with a NetworkError after the timeout, and a cancelled one as cancelled', async () => {
    await expect(client(oddUrl, 'alice-token', 200).upload([])).rejects.toBeInstanceOf(NetworkError);
    const controller = new AbortController();
    const pending = client(oddUrl).upload([], controller.signal);
    controller.abort();
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SyncflowError);
    expect(error).toMatchObject({ code: 'sync_cancelled' });
  });
});
