/**
 * `syncflow serve` for an app of its own (test/config/fixtures/notes): the real command in a
 * child process, a device syncing with it, and `syncflow run` on the app's schema and flows.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/index.ts';
import { bin, cli, root } from '../support/cli.ts';
import { schema } from './fixtures/notes/syncflow.config.ts';

const config = 'test/config/fixtures/notes/syncflow.config.ts';

/** Starts `syncflow serve` and waits for the URL it prints. */
function serve(args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string; out: string }> {
  const child = spawn(process.execPath, [bin, 'serve', ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1', ...env } });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const url = /sync server: (http:\/\/\S+)/.exec(out)?.[1];
      if (url) resolve({ child, url, out });
    });
    child.stderr!.on('data', (d) => (out += d));
    child.on('close', (code) => reject(new Error(`serve ended (${code}): ${out}`)));
  });
}

describe('syncflow serve --config', () => {
  let server: { child: ChildProcess; url: string; out: string };
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'syncflow-serve-'));
    // PORT says 1 (not ours to take): the flag wins, and 0 picks a free port that is printed.
    server = await serve(['--config', config, '--port', '0', '--no-editor'], { PORT: '1', HOST: '127.0.0.1' });
  }, 60_000);

  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the port it picked and the app it serves; / is a page, not a 404', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:(?!0\b|1\b)\d+$/);
    expect(server.out).toContain('fixtures/notes/syncflow.config.ts');
    const home = await fetch(`${server.url}/`);
    expect(home.status).toBe(200);
    expect(home.headers.get('content-type')).toMatch(/text\/html/);
    expect(await home.text()).toContain('/api/health');
  });

  it("serves the config's schema, users and handlers to a device", async () => {
    const runtime = await createRuntime({ schema, serverUrl: server.url, token: 'ann-secret-token', dbName: 'serve-ann', indexedDB, IDBKeyRange });
    try {
      const session = runtime.session();
      const note = session.create('Note', { text: 'four' });
      await session.commit(note);
      await runtime.synchronize({ mode: 'all' });
      const [stored] = await runtime.store.query('Note');
      expect(stored).toMatchObject({ text: 'four', length: 4, owner: 'ann' });
      const me = await fetch(`${server.url}/api/schema`, { headers: { authorization: 'Bearer ann-secret-token' } });
      expect(Object.keys((await me.json()).entities)).toEqual(['Note']);
    } finally {
      runtime.close();
    }
  });

  it("runs the app's flows on its schema with syncflow run --config", async () => {
    // By name: the flow of that name in the config's flows folder.
    const run = await cli(['run', 'addNote', '--config', config, '--server', server.url,
      '--user', 'ann', '--token', 'ann-secret-token', '--db-dir', dir, '--param', 'text=hello there', '-q']);
    expect(run.stderr).not.toMatch(/error/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/"length": 11/);
    const syncs = await cli(['syncs', '--config', config, '--server', server.url, '--user', 'ann', '--token', 'ann-secret-token', '--db-dir', dir]);
    expect(syncs.stdout).toContain('allNotes');
    const unknown = await cli(['run', 'nothingHere', '--config', config, '--server', server.url, '--user', 'ann', '--token', 'ann-secret-token', '--db-dir', dir]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/No flow file .*fixtures\/notes\/flows\/nothingHere\.flow\.json/);
  });

  it("lists and runs the config's sync profiles without a --profiles file", async () => {
    const args = ['--config', config, '--server', server.url, '--user', 'ann', '--token', 'ann-secret-token', '--db-dir', join(dir, 'profiles')];
    const listed = await cli(['profiles', ...args]);
    expect(listed.stderr).toBe('');
    expect(listed.stdout).toBe('notesDown  download  Note  triggers: appStart  never run\n');
    // A profile runs after a first full synchronization (any app's flow that synchronizes all).
    const synced = await cli(['run', 'flows/syncAllAtStartup.flow.json', ...args, '-q']);
    expect(synced.code).toBe(0);
    const ran = await cli(['profile', 'run', 'notesDown', ...args]);
    expect(ran.stderr).toBe('');
    expect(ran.stdout).toMatch(/^notesDown {2}done {2}uploaded 0, downloaded \d+, removed 0, files 0\n/);
    // The demo app (no config here names profiles) says what to give.
    const none = await cli(['profiles', '--server', server.url, '--user', 'ann', '--db-dir', join(dir, 'none')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("--profiles: the app's config defines no profiles");
  });

  it('refuses a bad config at start, naming the field (exit 2)', async () => {
    const bad = await cli(['serve', '--config', 'test/config/fixtures/bad/syncflow.config.ts', '--port', '0', '--no-editor']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/access\.Memo: unknown entity "Memo"/);
    const missing = await cli(['serve', '--config', 'nowhere.config.ts']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--config: no config file/);
    const port = await cli(['serve', '--config', config, '--port', 'eighty']);
    expect(port.code).toBe(2);
    expect(port.stderr).toMatch(/not a port/);
  });
});
