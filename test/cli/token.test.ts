/**
 * `syncflow token issue | list | revoke`: the real command (a child process) on the database of
 * a real sync server, PostgreSQL (while the server runs) and the embedded database's data
 * directory (between runs of the server, which holds that directory while it runs).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/server/storage/openStorage.ts';
import { apiClient, POSTGRES_URL, postgresTarget, startTestServer, type TestServer } from '../server/support.ts';
import { cli } from '../support/cli.ts';

const ID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

// Each command is a child process that compiles the CLI and opens the database: seconds apiece on a busy machine.
describe('syncflow token on PostgreSQL', { timeout: 120_000 }, () => {
  const target = postgresTarget();
  let t: TestServer;
  let db: string[];
  beforeAll(async () => {
    t = await startTestServer(await target.open());
    db = ['--database-url', POSTGRES_URL, '--schema', t.storage.schemaName];
  });
  afterAll(async () => {
    await t?.close();
    await target.cleanup();
  });

  it('issues a token printed once, lists it without the token, and revokes it while the server runs', async () => {
    const issued = await cli(['token', 'issue', '--user', 'alice', '--expires-in', '30d', ...db]);
    expect(issued.code, issued.stderr).toBe(0);
    const token = issued.stdout.trim();
    expect(token).toMatch(/^sf_[A-Za-z0-9_-]{43}$/);
    const id = ID.exec(issued.stderr)![0];
    expect(issued.stderr).toMatch(new RegExp(`^issued token ${id} for alice, expires \\d{4}-\\d\\d-\\d\\dT[^ ]+Z \\(it is shown only this once\\)\\n$`));
    expect((await apiClient(t.url, token).call('GET', '/api/me')).body.user).toBe('alice');

    const listed = await cli(['token', 'list', '--user', 'alice', ...db]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain(token);
    const lines = listed.stdout.trim().split('\n').map((l) => l.split('  ').slice(0, 4));
    expect(lines).toEqual([
      [expect.stringMatching(ID), 'alice', 'configured', 'active'],
      [id, 'alice', 'issued', 'active'],
    ]);
    expect(listed.stdout).toMatch(/configured {2}active {2}created \S+ {2}expires never\n/);

    const revoked = await cli(['token', 'revoke', token, ...db]);
    expect(revoked).toMatchObject({ code: 0, stdout: `revoked ${id} (alice, issued)\n` });
    const r = await apiClient(t.url, token).call('GET', '/api/me');
    expect(r.status).toBe(401);
    expect(r.body.error.message).toBe('The bearer token was revoked');
    expect((await cli(['token', 'list', '--user', 'alice', ...db])).stdout).toMatch(new RegExp(`${id}  alice  issued  revoked  .*  revoked \\S+Z\\n`));
  });

  it('revokes by id, and a token that never expires', async () => {
    const issued = await cli(['token', 'issue', '--user', 'bob', '--expires-in', 'never', ...db]);
    expect(issued.stderr).toMatch(/, expires never /);
    const id = ID.exec(issued.stderr)![0];
    expect((await apiClient(t.url, issued.stdout.trim()).call('GET', '/api/me')).status).toBe(200);
    expect((await cli(['token', 'revoke', id, ...db])).code).toBe(0);
    expect((await apiClient(t.url, issued.stdout.trim()).call('GET', '/api/me')).status).toBe(401);
  });

  it('fails clearly: unknown user or token (exit 1), bad duration or no database (exit 2)', async () => {
    expect(await cli(['token', 'issue', '--user', 'mallory', ...db])).toMatchObject({ code: 1, stdout: '', stderr: 'error not_found: No user "mallory"\n' });
    expect(await cli(['token', 'revoke', 'sf_nothing', ...db])).toMatchObject({ code: 1, stderr: 'error not_found: No such token\n' });
    const bad = await cli(['token', 'issue', '--user', 'alice', '--expires-in', '3 weeks', ...db]);
    expect(bad).toMatchObject({ code: 2, stdout: '' });
    expect(bad.stderr).toMatch(/^error validation_failed: --expires-in: must be a duration such as 30d/);
    const nowhere = await cli(['token', 'list'], {});
    expect(nowhere.code).toBe(process.env.DATABASE_URL ? 0 : 2);
  });
});

describe('syncflow token on the embedded database (--data-dir)', { timeout: 240_000 }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'syncflow-token-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs the demo server on the directory for one check, then lets go of it. */
  async function withServer<T>(check: (t: TestServer) => Promise<T>): Promise<T> {
    const t = await startTestServer(await openStorage({ dataDir: dir }));
    try {
      return await check(t);
    } finally {
      await t.close();
    }
  }

  it('issues a token the server then accepts, and revokes it', async () => {
    await withServer(async () => {}); // creates the tables and the demo users
    const issued = await cli(['token', 'issue', '--user', 'carol', '--expires-in', '12h', '--data-dir', dir]);
    expect(issued.code, issued.stderr).toBe(0);
    const token = issued.stdout.trim();
    expect(await withServer(async (t) => (await apiClient(t.url, token).call('GET', '/api/me')).body)).toMatchObject({ user: 'carol' });

    expect((await cli(['token', 'revoke', token, '--data-dir', dir])).code).toBe(0);
    const after = await withServer(async (t) => (await apiClient(t.url, token).call('GET', '/api/me')).body);
    expect(after.error.message).toBe('The bearer token was revoked');
  });
});
