/**
 * Time limits of the sync server over real sockets (node:net): a client that trickles its body
 * or headers, or that keeps an idle socket, is cut off by the server; a refused sign-in closes
 * its connection. The limits are configured short; the defaults are SERVER_TIMEOUTS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_TIMEOUTS } from '../../src/server/createSyncServer.ts';
import { bodyOf, trickleRequest } from './rawSocket.ts';
import { pgliteTarget, startTestServer, type TestServer } from './support.ts';

const target = pgliteTarget();
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer(await target.open(), { timeouts: { requestMs: 1_000, headersMs: 600, keepAliveMs: 300, idleMs: 5_000 } });
});
afterAll(async () => {
  await t.close();
  await target.cleanup();
});

const uploadHead = (token: string, length: number) =>
  `POST /api/upload HTTP/1.1\r\nHost: sync\r\nAuthorization: Bearer ${token}\r\nX-Device-Id: slow\r\n` +
  `Content-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

describe('request time limits', () => {
  it('has defaults that bound every phase of a request', () => {
    expect(SERVER_TIMEOUTS).toEqual({ requestMs: 30_000, headersMs: 10_000, idleMs: 120_000, keepAliveMs: 10_000 });
  });

  it('answers 408 and closes the socket of a signed-in request whose body trickles in', async () => {
    const body = JSON.stringify({ changes: [] }).padEnd(400, ' ');
    const before = await t.counts();
    // 400 bytes at one per 50 ms would take 20 s: the 1 s request limit must end it long before.
    const outcome = await trickleRequest(t.url, uploadHead('alice-token', body.length), body, 50);
    expect(outcome.status).toBe(408);
    expect(outcome.answer).toMatch(/\r\nConnection: close\r\n/i);
    expect(bodyOf(outcome.answer)).toEqual({ error: { code: 'request_timeout', message: 'The request was not received within 1000 ms' } });
    expect(outcome.written).toBeLessThan(uploadHead('alice-token', body.length).length + body.length);
    expect(await t.counts()).toEqual(before);
  });

  it('closes the socket of a request whose headers never end', async () => {
    const outcome = await trickleRequest(t.url, 'GET /api/me HTTP/1.1\r\nHost: sync\r\n', 'X-Slow: ' + 'a'.repeat(400), 50);
    expect(outcome.status).toBe(408);
    expect(outcome.written).toBeLessThan(500);
  });

  it('closes a socket that connects and sends nothing', async () => {
    const outcome = await trickleRequest(t.url, '');
    expect([408, null]).toContain(outcome.status);
  });

  it('closes a kept-alive socket that sends no next request', async () => {
    const outcome = await trickleRequest(t.url, 'GET /api/me HTTP/1.1\r\nHost: sync\r\nAuthorization: Bearer alice-token\r\n\r\n');
    expect(outcome.status).toBe(200);
    expect(bodyOf(outcome.answer).user).toBe('alice');
  });

  it('answers 401 with Connection: close and closes the socket, even while the body still trickles', async () => {
    const body = JSON.stringify({ changes: [] }).padEnd(400, ' ');
    for (const head of [uploadHead('wrong-token', body.length), uploadHead('', body.length).replace(/Authorization: Bearer \r\n/, '')]) {
      const outcome = await trickleRequest(t.url, head, body, 50);
      expect(outcome.status).toBe(401);
      expect(outcome.answer).toMatch(/\r\nconnection: close\r\n/i);
      expect(bodyOf(outcome.answer).error.code).toBe('unauthorized');
      expect(outcome.written).toBeLessThan(head.length + body.length);
    }
  });

  it('still serves a request that arrives within the limits, several on one socket', async () => {
    const me = 'GET /api/me HTTP/1.1\r\nHost: sync\r\nAuthorization: Bearer bob-token\r\n\r\n';
    const outcome = await trickleRequest(t.url, me + me);
    expect(outcome.answer.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
  });
});
