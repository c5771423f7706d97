/**
 * `syncflow syncs | resync | clean-ghosts`: the real command (bin/syncflow.js, a child process)
 * against a real sync server with the demo app and its data, on a local database kept between
 * commands.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoData } from '../../src/server/demo.ts';
import { cli } from '../support/cli.ts';
import { closeSharedStorage, startWorld, type World } from '../support/world.ts';


let world: World;
let tmp: string;
beforeAll(async () => {
  world = await startWorld();
  await seedDemoData(world.server);
  tmp = await mkdtemp(join(tmpdir(), 'syncflow-syncs-'));
});
afterAll(async () => {
  await world.close();
  await closeSharedStorage();
  await rm(tmp, { recursive: true, force: true });
});

const as = (user: string, dbDir: string) => ['--server', world.url, '--user', user, '--db-dir', dbDir];

async function openTaskIds(user: string): Promise<string[]> {
  const page = await world.elsewhere(user).client.download({ entity: 'Task', constraint: { attribute: 'done', op: 'ne', value: true } });
  return page.objects.map((o) => o.id);
}

describe('syncflow named-sync commands', () => {
  it("list the demo app's syncs, resync one (full, then the delta only) and clean its ghosts, keeping state between commands", async () => {
    const db = join(tmp, 'alice');
    const listed = await cli(['syncs', ...as('alice', db)]);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n').filter(Boolean).map((l) => l.split('  ').slice(0, 3))).toEqual([
      ['myTasks', 'down Task (constrained)', 'new'],
      ['openTasks', 'down Task (constrained)', 'new'],
      ['taskChanges', 'up Task', 'new'],
    ]);

    const open = await openTaskIds('alice');
    const first = await cli(['resync', 'openTasks', ...as('alice', db), '--progress', 'lines']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`^openTasks  down Task \\(constrained\\)  done  ${open.length} records  up to \\d{4}-`));
    expect(first.stderr).toMatch(/openTasks: running, 0%\n[^]*openTasks: done, \d+ records, 100%\n/);

    await world.elsewhere('alice').upload([{ entity: 'Task', id: open[0], kind: 'delete', data: {} }]);
    const second = await cli(['resync', 'openTasks', ...as('alice', db), '--progress', 'lines']);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/  done  0 records  /); // the delete is not a record to fetch: it leaves a ghost

    const cleaned = await cli(['clean-ghosts', 'openTasks', ...as('alice', db)]);
    expect(cleaned).toMatchObject({ code: 0, stdout: 'openTasks: removed 1 ghost\n' });
  });

  it('fails with a typed error and exit code 1 for an unknown sync, and 2 for a bad server URL', async () => {
    const db = join(tmp, 'bob');
    const unknown = await cli(['resync', 'nope', ...as('bob', db)]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('error sync_unknown: No sync is defined with the id or name "nope"\n');

    const bad = await cli(['syncs', '--server', 'ftp://x', '--user', 'bob', '--db-dir', db]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error validation_failed: --server: "ftp:\/\/x" is not an http\(s\) URL/);
  });
});
