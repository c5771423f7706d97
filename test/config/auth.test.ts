/**
 * Auth that fits an app: the config's own token verifier, or a JWT verifier (jose) with a PEM
 * public key or a JWKS file; the token table stays the default. Over real HTTP and PGlite.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineConfig, defineSchema } from '../../src/index.ts';
import { openStorage, resolveAuth, startSyncServer, type RunningSyncServer, type Storage, type SyncflowConfig } from '../../src/server/index.ts';

const schema = defineSchema({ entities: { Note: { attributes: { text: { type: 'string' } } } } });
const access = { Note: { read: [{ scope: 'own' as const }], write: [{ scope: 'own' as const }] } };
const me = (url: string, token: string) => fetch(`${url}/api/me`, { headers: { authorization: `Bearer ${token}` } });

describe('auth from the config', () => {
  let keys: Awaited<ReturnType<typeof generateKeyPair>>;
  let dir: string;
  let storage: Storage;
  const servers: RunningSyncServer[] = [];
  const start = async (config: SyncflowConfig) => {
    const server = await startSyncServer(defineConfig(config), { port: 0, storage, verifyToken: await resolveAuth(config, dir) });
    servers.push(server);
    return server.url;
  };
  const jwt = (claims: Record<string, unknown>, options: { issuer?: string; audience?: string; expires?: string; key?: CryptoKey } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(options.issuer ?? 'https://id.example.com')
      .setAudience(options.audience ?? 'notes')
      .setIssuedAt()
      .setExpirationTime(options.expires ?? '5m')
      .sign(options.key ?? keys.privateKey);

  beforeAll(async () => {
    // One PGlite for the file: each server is an app over the same storage.
    storage = await openStorage({});
    keys = await generateKeyPair('ES256');
    dir = await mkdtemp(join(tmpdir(), 'syncflow-auth-'));
    await writeFile(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'ES256' }] }));
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("asks the config's function who a token belongs to", async () => {
    const url = await start({
      schema,
      access,
      auth: { verify: async (token) => (token === 'open-sesame' ? { id: 'ali', roles: ['user'] } : null) },
    });
    expect(await (await me(url, 'open-sesame')).json()).toEqual({ user: 'ali', roles: ['user'] });
    const refused = await me(url, 'guess');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('refuses, never 500s, when the verifier throws', async () => {
    const url = await start({ schema, access, auth: { verify: () => { throw new Error('identity provider down'); } } });
    const answer = await me(url, 'anything');
    expect(answer.status).toBe(401);
    expect(await answer.text()).not.toContain('identity provider');
  });

  it('verifies JWTs with a PEM public key: signature, issuer, audience, expiry; user and roles from claims', async () => {
    const url = await start({ schema, access, auth: { jwt: { issuer: 'https://id.example.com', audience: 'notes', publicKey: await exportSPKI(keys.publicKey), algorithms: ['ES256'] } } });
    expect(await (await me(url, await jwt({ sub: 'june', roles: ['editor'] }))).json()).toEqual({ user: 'june', roles: ['editor'] });
    const other = await generateKeyPair('ES256');
    for (const token of [
      await jwt({ sub: 'june' }, { key: other.privateKey }),
      await jwt({ sub: 'june' }, { issuer: 'https://evil.example.com' }),
      await jwt({ sub: 'june' }, { audience: 'billing' }),
      await jwt({ sub: 'june' }, { expires: '-1m' }),
      await jwt({ roles: ['editor'] }),
      'not-a-jwt',
    ]) {
      expect((await me(url, token)).status).toBe(401);
    }
  });

  it('verifies JWTs with a JWKS file beside the config, and data stays per user', async () => {
    const url = await start({ schema, access, auth: { jwt: { issuer: 'https://id.example.com', audience: 'notes', jwksFile: 'jwks.json', algorithms: ['ES256'] } } });
    const june = await jwt({ sub: 'june' });
    const kim = await jwt({ sub: 'kim' });
    const id = crypto.randomUUID();
    const upload = await fetch(`${url}/api/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${june}`, 'content-type': 'application/json', 'x-device-id': 'd1' },
      body: JSON.stringify({ changes: [{ changeId: 'c1', kind: 'create', entity: 'Note', id, data: { text: 'mine' } }] }),
    });
    expect((await upload.json()).results[0].status).toBe('applied');
    const fetchAs = async (token: string) =>
      (await (await fetch(`${url}/api/fetch`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ entity: 'Note', ids: [id] }) })).json()).objects;
    expect(await fetchAs(june)).toHaveLength(1);
    expect(await fetchAs(kim)).toHaveLength(0);
  });

  it('keeps the token table as the default (configured users)', async () => {
    const url = await start({ schema, access, users: [{ id: 'ann', token: 'ann-secret-token', roles: ['user'] }] });
    expect(await (await me(url, 'ann-secret-token')).json()).toEqual({ user: 'ann', roles: ['user'] });
    expect((await me(url, 'ann-wrong-token')).status).toBe(401);
  });

  it('refuses a JWKS file that cannot be read, naming the field', async () => {
    await expect(resolveAuth({ schema, access, auth: { jwt: { issuer: 'i', audience: 'a', jwksFile: 'missing.json' } } }, dir)).rejects.toThrow(/auth\.jwt\.jwksFile/);
  });
});
