/**
 * The failed sign-in limit over real HTTP: per client address (the tests connect from 127.0.0.1
 * and 127.0.0.2), counted in the database so that every server process shares it (two servers
 * over one PostgreSQL schema), with a low configured limit.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SIGN_IN_LIMIT } from '../../src/server/auth.ts';
import { pgliteTarget, postgresTarget, startTestServer, type TestServer } from './support.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/** GET /api/me with `token` (none when null), connecting from `from`. */
function me(url: string, token: string | null, from = '127.0.0.1'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/api/me`, { localAddress: from, headers: token === null ? {} : { authorization: `Bearer ${token}` }, agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const LIMIT = { max: 3, windowMs: 60_000 };

describe('failed sign-in limit', () => {
  it('defaults to 100 failures a minute per address', () => {
    expect(DEFAULT_SIGN_IN_LIMIT).toEqual({ max: 100, windowMs: 60_000 });
  });

  describe('on PGlite', () => {
    const target = pgliteTarget();
    let t: TestServer;
    beforeAll(async () => {
      t = await startTestServer(await target.open(), { signInLimit: LIMIT });
    }, 120_000);
    afterAll(async () => {
      await t.close();
      await target.cleanup();
    });

    it('answers 429 with Retry-After after the limit of wrong tokens, to that address only', async () => {
      for (let i = 0; i < LIMIT.max; i++) {
        const r = await me(t.url, `guess-${i}`);
        expect(r.status).toBe(401);
        expect(r.body.error.message).toBe('The bearer token is not valid');
      }
      const refused = await me(t.url, 'guess-again');
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('too_many_requests');
      expect(refused.headers.connection).toBe('close');
      const retryAfter = Number(refused.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(refused.body.error.message).toBe(`Too many failed sign-ins from this address: try again in ${retryAfter} s`);

      // A right token from the limited address is refused too: a hit must not show among the guesses.
      expect((await me(t.url, 'alice-token')).status).toBe(429);
      // Other addresses are untouched, and count their own failures.
      expect((await me(t.url, 'alice-token', '127.0.0.2')).body.user).toBe('alice');
      expect((await me(t.url, 'guess', '127.0.0.2')).status).toBe(401);
      expect((await me(t.url, 'bob-token', '127.0.0.2')).body.user).toBe('bob');
    });

    it('does not count requests without a token, nor successful ones', async () => {
      for (let i = 0; i < LIMIT.max + 2; i++) {
        expect((await me(t.url, null, '127.0.0.3')).status).toBe(401);
        expect((await me(t.url, 'carol-token', '127.0.0.3')).status).toBe(200);
      }
    });

    it('accepts the address again once its window has ended', async () => {
      const short = await startTestServer(await target.open(), { signInLimit: { max: 2, windowMs: 1_000 } });
      try {
        for (let i = 0; i < 2; i++) expect((await me(short.url, 'guess', '127.0.0.4')).status).toBe(401);
        const refused = await me(short.url, 'alice-token', '127.0.0.4');
        expect(refused.status).toBe(429);
        expect(refused.headers['retry-after']).toBe('1');
        await new Promise((resolve) => setTimeout(resolve, 1_100));
        expect((await me(short.url, 'alice-token', '127.0.0.4')).status).toBe(200);
      } finally {
        await short.server.close();
        await short.storage.close();
      }
    });

    it('can be turned off', async () => {
      const open = await startTestServer(await target.open(), { signInLimit: false });
      try {
        for (let i = 0; i < 10; i++) expect((await me(open.url, 'guess', '127.0.0.5')).status).toBe(401);
        expect((await me(open.url, 'alice-token', '127.0.0.5')).status).toBe(200);
      } finally {
        await open.server.close();
        await open.storage.close();
      }
    });
  });

  describe('on two server processes over one PostgreSQL schema', () => {
    const target = postgresTarget();
    let a: TestServer;
    let b: TestServer;
    beforeAll(async () => {
      const name = `${(await target.open()).schemaName}_shared`;
      a = await startTestServer(await target.open(name), { signInLimit: LIMIT });
      b = await startTestServer(await target.open(name), { signInLimit: LIMIT });
    }, 120_000);
    afterAll(async () => {
      await a?.close();
      await b?.close();
      await target.cleanup();
    });

    it('counts the failures made on either server', async () => {
      expect((await me(a.url, 'guess-1')).status).toBe(401);
      expect((await me(b.url, 'guess-2')).status).toBe(401);
      expect((await me(a.url, 'guess-3')).status).toBe(401);
      expect((await me(b.url, 'guess-4')).status).toBe(429);
      expect((await me(a.url, 'alice-token')).status).toBe(429);
      expect((await me(b.url, 'alice-token', '127.0.0.2')).status).toBe(200);
    });
  });
});
