/**
 * Token expiry and revocation over real HTTP, on PGlite and PostgreSQL: issued tokens work until
 * they expire or are revoked (401 saying which), configured tokens never expire, and on
 * PostgreSQL a revocation made through one server process applies at once on another.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken, listTokens, parseDuration, revokeToken } from '../../src/server/tokens.ts';
import { apiClient, pgliteTarget, postgresTarget, startTestServer, WIRE_DATE, type StorageTarget, type TestServer } from './support.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const target of [pgliteTarget(), postgresTarget()] as StorageTarget[]) {
  describe(`tokens on ${target.name}`, () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await startTestServer(await target.open(), { signInLimit: false });
    }, 120_000);
    afterAll(async () => {
      await t?.close();
      await target.cleanup();
    });

    it('lets an issued token sign in until it is revoked, by token or by id', async () => {
      const first = await issueToken(t.storage, 'bob', parseDuration('30d'));
      const second = await issueToken(t.storage, 'bob', null);
      expect(first.token).toMatch(/^sf_[A-Za-z0-9_-]{43}$/);
      expect(first.record).toMatchObject({ user: 'bob', source: 'issued', status: 'active', revokedDate: null });
      expect(first.record.expiresDate).toMatch(WIRE_DATE);
      expect(second.record.expiresDate).toBeNull();
      for (const { token } of [first, second]) expect((await apiClient(t.url, token).call('GET', '/api/me')).body.user).toBe('bob');

      await revokeToken(t.storage, first.token);
      await revokeToken(t.storage, second.record.id);
      for (const { token } of [first, second]) {
        const r = await apiClient(t.url, token).call('GET', '/api/me');
        expect(r.status).toBe(401);
        expect(r.body.error).toEqual({ code: 'unauthorized', message: 'The bearer token was revoked' });
      }
      // The configured token of the same user still works.
      expect((await t.bob.call('GET', '/api/me')).status).toBe(200);
    });

    it('refuses an expired token with the time it expired', async () => {
      const { token, record } = await issueToken(t.storage, 'alice', 1);
      await sleep(20);
      const r = await apiClient(t.url, token).upload([]);
      expect(r.status).toBe(401);
      expect(r.body.error.message).toBe(`The bearer token expired at ${record.expiresDate}`);
      expect((await listTokens(t.storage, 'alice')).find((x) => x.id === record.id)?.status).toBe('expired');
    });

    it('keeps configured tokens without expiry, and can revoke one', async () => {
      const configured = (await listTokens(t.storage, 'carol')).filter((x) => x.source === 'configured');
      expect(configured).toEqual([expect.objectContaining({ user: 'carol', status: 'active', expiresDate: null })]);
      await revokeToken(t.storage, 'carol-token');
      expect((await t.carol.call('GET', '/api/me')).body.error.message).toBe('The bearer token was revoked');
      // Restarting with the same configuration does not bring a revoked token back.
      const again = await startTestServer(t.storage, { signInLimit: false });
      try {
        expect((await again.carol.call('GET', '/api/me')).status).toBe(401);
      } finally {
        await again.server.close();
      }
    });

    it('replaces a configured token when the configuration changes it', async () => {
      const storage = await target.open();
      const before = await startTestServer(storage, { signInLimit: false });
      await before.server.close();
      const after = await startTestServer(storage, {
        signInLimit: false,
        users: [{ id: 'alice', token: 'alice-new-token', roles: ['user'] }],
      });
      try {
        expect((await after.alice.call('GET', '/api/me')).status).toBe(401);
        expect((await apiClient(after.url, 'alice-new-token').call('GET', '/api/me')).body.user).toBe('alice');
      } finally {
        await after.close();
      }
    });

    it('refuses to issue a token for an unknown user, or to revoke an unknown token', async () => {
      await expect(issueToken(t.storage, 'mallory', null)).rejects.toMatchObject({ code: 'not_found', message: 'No user "mallory"' });
      await expect(revokeToken(t.storage, 'no-such-token')).rejects.toMatchObject({ code: 'not_found' });
      await expect(revokeToken(t.storage, crypto.randomUUID())).rejects.toMatchObject({ code: 'not_found' });
      expect(() => parseDuration('30 days')).toThrow(/expiresIn: must be a duration/);
    });

    it('stores only hashes of tokens', async () => {
      const { token } = await issueToken(t.storage, 'alice', null);
      const { rows } = await t.storage.query<{ dump: string }>('SELECT string_agg(t::text, \'|\') AS dump FROM sf_tokens t');
      expect(rows[0].dump).not.toContain(token);
      expect(rows[0].dump).not.toContain('alice-token');
    });
  });
}

describe('revocation across server processes on PostgreSQL', () => {
  const target = postgresTarget();
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    const name = `${(await target.open()).schemaName}_shared`;
    a = await startTestServer(await target.open(name));
    b = await startTestServer(await target.open(name));
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await target.cleanup();
  });

  it('refuses a token on every process from the request after its revocation', async () => {
    const { token } = await issueToken(a.storage, 'alice', parseDuration('1h'));
    expect((await apiClient(b.url, token).call('GET', '/api/me')).status).toBe(200);
    await revokeToken(a.storage, token);
    const r = await apiClient(b.url, token).call('GET', '/api/me');
    expect(r.status).toBe(401);
    expect(r.body.error.message).toBe('The bearer token was revoked');
  });
});
