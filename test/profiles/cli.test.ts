/**
 * `syncflow profiles` and `syncflow profile run <name>`: the real command (bin/syncflow.js, a
 * child process) against a real sync server with the demo app, on a local database kept between
 * commands, with seed 003's SmartSync.xml (entity `task` is the demo's Task).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, root } from '../support/cli.ts';
import { seed003SmartSyncXml } from '../support/smartSyncSeed.ts';
import { useWorld } from '../support/world.ts';


const world = useWorld({ seed: true });
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'syncflow-profiles-'));
  await writeFile(join(tmp, 'SmartSync.xml'), seed003SmartSyncXml());
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('syncflow profile commands', () => {
  it('lists the profiles, refuses a run before the full sync, then runs it', async () => {
    const db = join(tmp, 'alice');
    const args = ['--server', world.url, '--user', 'alice', '--db-dir', db, '--profiles', join(tmp, 'SmartSync.xml')];
    const listed = await cli(['profiles', ...args]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toBe('GetTasks  download  task  triggers: periodic  never run\n');

    const refused = await cli(['profile', 'run', 'GetTasks', ...args]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^GetTasks {2}refused/);
    expect(refused.stderr).toContain('refused full_sync_required: a full synchronization is required first (first run)');

    const synced = await cli(['run', join(root, 'flows/syncAllAtStartup.flow.json'), '--server', world.url, '--user', 'alice', '--db-dir', db]);
    expect(synced.code).toBe(0);
    const ran = await cli(['profile', 'run', 'GetTasks', ...args]);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/^GetTasks {2}done {2}uploaded 0, downloaded \d+, removed 0, files 0\n/);

    const again = await cli(['profiles', ...args]);
    expect(again.stdout).toMatch(/^GetTasks {2}download {2}task {2}triggers: periodic {2}last run done at \d{4}-/);
  }, 180_000);

  it('names the element of a bad profiles file and exits 2', async () => {
    await writeFile(join(tmp, 'bad.xml'), '<SmartSyncSetup><SmartSync Name="A" Colour="red"><Entities><Entity Name="Task"/></Entities></SmartSync></SmartSyncSetup>');
    const r = await cli(['profiles', '--server', world.url, '--user', 'alice', '--db-dir', join(tmp, 'bad'), '--profiles', join(tmp, 'bad.xml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('SmartSyncSetup/SmartSync[A]@Colour: unknown attribute "Colour" on <SmartSync>');
  });
});
