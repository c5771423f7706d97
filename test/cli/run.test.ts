/**
 * `syncflow run`: the real command (bin/syncflow.js, a child process) against a real sync
 * server with the demo app and its data, started here on an ephemeral port.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flow } from '../../src/flow/format.ts';
import { demoId, seedDemoData, wordCount } from '../../src/server/demo.ts';
import { bin, cli, root, type CliResult } from '../support/cli.ts';
import { closeSharedStorage, startWorld, type World } from '../support/world.ts';

const flowFile = (name: string) => join(root, 'flows', `${name}.flow.json`);

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let world: World;
let tmp: string;
let port: string;

beforeAll(async () => {
  world = await startWorld();
  await seedDemoData(world.server);
  port = new URL(world.url).port;
  tmp = await mkdtemp(join(tmpdir(), 'syncflow-cli-'));
});

afterAll(async () => {
  await world.close();
  await closeSharedStorage();
  await rm(tmp, { recursive: true, force: true });
});

/** `run <file> --server <world> --user <user> --db-dir <dir>` plus more arguments. */
function run(file: string, user: string, dbDir: string, ...more: string[]): Promise<CliResult> {
  return cli(['run', file, '--server', world.url, '--user', user, '--db-dir', dbDir, ...more]);
}

async function serverCount(user: string): Promise<{ tasks: number; all: number }> {
  const elsewhere = world.elsewhere(user);
  const counts = await Promise.all(['Project', 'Task', 'Attachment'].map(async (e) => (await elsewhere.ids(e)).length));
  return { tasks: counts[1], all: counts[0] + counts[1] + counts[2] };
}

describe('syncflow run', () => {
  it('synchronizes everything at start-up: prints each step, the progress and the result, and keeps the database in a file', async () => {
    const dir = join(tmp, 'startup');
    const r = await run(flowFile('syncAllAtStartup'), 'alice', dir);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.code).toBe(0);

    const dbFile = join(dir, `127.0.0.1_${port}-alice.idb`);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`run syncAllAtStartup as alice on ${world.url}`);
    expect(lines[1]).toBe(`local database: ${dbFile} (new)`);
    // One line per step: outcome, node id, kind, label, duration; in order.
    const steps = lines.filter((l) => /^\s+ok\s/.test(l)).map((l) => l.trim().split(/\s{2,}|\s(?=(?:\d+ ms|\d+\.\d\d s)$)/));
    expect(steps.map((s) => s[1])).toEqual(['start', 'syncAll', 'logDone', 'end']);
    expect(r.stdout).toMatch(/^ {2}ok +syncAll +synchronize +Synchronize all objects +(?:\d+ ms|\d+\.\d\d s)$/m);
    expect(r.stdout).toMatch(/^ {2}ok +logDone +logMessage +Log +(?:\d+ ms|\d+\.\d\d s)$/m);
    expect(r.stdout).toMatch(/^ {2}log \(info\): Synchronized all objects at \d{4}-\d\d-\d\dT[\d:.]+Z$/m);
    expect(lines.at(-1)).toBe('result: nothing');

    // The synchronization's progress (lines without a terminal): machine states, phase, entity, done/total.
    const { tasks, all } = await serverCount('alice');
    expect(r.stderr).toContain('  sync all: uploading');
    expect(r.stderr).toContain(`  sync all: downloading  download Task ${tasks}/${tasks}`);
    expect(r.stderr).toContain(`  sync all: done: 0 uploaded, ${all} downloaded, 0 removed, 0 failed`);

    expect(existsSync(dbFile)).toBe(true);
    expect(existsSync(`${dbFile}.lock`)).toBe(false);
  });

  it('keeps the offline database between runs: edits a task given by id, then counts open tasks with the server gone', async () => {
    const dir = join(tmp, 'persist');
    expect((await run(flowFile('syncAllAtStartup'), 'alice', dir)).code).toBe(0);

    const title = 'Collect quotes from five happy customers';
    const edit = await run(flowFile('editTaskAndSync'), 'alice', dir, '--param', `task=${demoId(13)}`, '--param', `title=${title}`);
    expect(edit.stderr).not.toMatch(/^error/m);
    expect(edit.code).toBe(0);
    expect(edit.stdout).not.toContain('(new)');
    expect(edit.stdout).toMatch(/^ {2}ok +syncTask +synchronize +Synchronize the task +(?:\d+ ms|\d+\.\d\d s)$/m);
    expect(edit.stderr).toContain('  sync selected: done: 1 uploaded');
    const result = JSON.parse(edit.stdout.slice(edit.stdout.indexOf('result: ') + 'result: '.length));
    expect(result).toMatchObject({ $entity: 'Task', id: demoId(13), title, words: wordCount(title) });
    expect(await world.elsewhere('alice').get('Task', demoId(13))).toMatchObject({ title, words: wordCount(title) });

    // Offline: the same server address with nothing behind it would fail a sync, but the loop reads the local database.
    const tasks = (await world.elsewhere('alice').client.fetchObjects('Task', await world.elsewhere('alice').ids('Task'))).objects;
    const open = tasks.filter((t) => t.done !== true).length;
    const loop = await run(flowFile('openTasksLoop'), 'alice', dir, '--quiet');
    expect(loop.code).toBe(0);
    expect(loop.stdout.trimEnd().split('\n').at(-1)).toBe(`result: ${open}`);
    expect(loop.stdout).not.toMatch(/^\s+ok\s/m);
  });

  it('prints the messages a flow shows: offline, the error handler catches the failed upload of a change made earlier', async () => {
    const server = `http://127.0.0.1:${await closedPort()}`;
    const dir = join(tmp, 'offline');
    const draft: Flow = {
      name: 'draftTask',
      parameters: [{ name: 'title', type: { type: 'string' } }],
      returnType: { type: 'object', entity: 'Task' },
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'create', type: 'activity', caption: 'New task', activity: { type: 'createObject', entity: 'Task', values: { title: '$title' }, outputVariable: 'task' } },
        { id: 'commit', type: 'activity', caption: 'Commit', activity: { type: 'commit', variables: ['task'] } },
        { id: 'end', type: 'end', returnValue: '$task' },
      ],
      edges: [
        { from: 'start', to: 'create' },
        { from: 'create', to: 'commit' },
        { from: 'commit', to: 'end' },
      ],
    };
    const file = join(tmp, 'draftTask.flow.json');
    await writeFile(file, JSON.stringify(draft));
    // No server needed to work offline: the change is committed to the local database file.
    const drafted = await cli(['run', file, '--server', server, '--user', 'bob', '--db-dir', dir, '--param', 'title=Written on the train']);
    expect(drafted.code).toBe(0);
    expect(JSON.parse(drafted.stdout.slice(drafted.stdout.indexOf('result: ') + 8))).toMatchObject({ $entity: 'Task', title: 'Written on the train', owner: null });

    const r = await cli(['run', flowFile('syncWithErrorHandler'), '--server', server, '--user', 'bob', '--db-dir', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}handled +sync +synchronize +Synchronize unsynchronized objects +(?:\d+ ms|\d+\.\d\d s) {2}network: POST \/api\/upload failed: fetch failed$/m);
    expect(r.stdout).toMatch(/^ {2}message \(error\): Synchronization failed: POST \/api\/upload failed: fetch failed$/m);
    expect(r.stdout).toMatch(/^ {2}ok +showError +showMessage +Show the error +(?:\d+ ms|\d+\.\d\d s)$/m);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('result: false');
    expect(r.stderr).toContain('  sync unsynchronized: uploading  upload Task 0/1');
    expect(r.stderr).toContain('  sync unsynchronized: failed: network: POST /api/upload failed: fetch failed');
  });

  it('exits 1 with the error code and message when the flow fails', async () => {
    const r = await run(flowFile('syncAllAtStartup'), 'alice', join(tmp, 'badtoken'), '--token', 'not-a-token');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^ {2}FAILED +syncAll +synchronize +Synchronize all objects +(?:\d+ ms|\d+\.\d\d s) {2}unauthorized: The bearer token is not valid$/m);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe('error unauthorized: The bearer token is not valid');
    expect(r.stdout).not.toContain('result:');
  });

  it('lists SynchronizationFailures made for real and retries them', async () => {
    const dir = join(tmp, 'failures');
    // A task with "forbidden" in its title, made with a flow: the demo server's handler rejects it.
    const create: Flow = {
      name: 'createTask',
      parameters: [{ name: 'title', type: { type: 'string' } }],
      returnType: { type: 'integer' },
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'create', type: 'activity', activity: { type: 'createObject', entity: 'Task', values: { title: '$title' }, outputVariable: 'task' } },
        { id: 'commit', type: 'activity', activity: { type: 'commit', variables: ['task'] } },
        { id: 'sync', type: 'activity', activity: { type: 'synchronize', mode: 'unsynchronized' } },
        { id: 'failures', type: 'activity', activity: { type: 'listSynchronizationFailures', outputVariable: 'failures' } },
        { id: 'end', type: 'end', returnValue: 'length($failures)' },
      ],
      edges: [
        { from: 'start', to: 'create' },
        { from: 'create', to: 'commit' },
        { from: 'commit', to: 'sync' },
        { from: 'sync', to: 'failures' },
        { from: 'failures', to: 'end' },
      ],
    };
    const file = join(tmp, 'createTask.flow.json');
    await writeFile(file, JSON.stringify(create));
    const made = await run(file, 'alice', dir, '--param', 'title=A forbidden idea');
    expect(made.code).toBe(0);
    // The refused new task stays in the local database (it never reached the server), with its failure.
    expect(made.stderr).toContain('  sync unsynchronized: done: 0 uploaded, 0 downloaded, 0 removed, 1 failed');
    expect(made.stdout.trimEnd().split('\n').at(-1)).toBe('result: 1');

    // The failure is in the offline database of the next run; the server still refuses it.
    const retry = await run(flowFile('retryFailures'), 'alice', dir);
    expect(retry.code).toBe(0);
    expect(retry.stdout).toMatch(/^ {2}log \(warning\): Still failing: Task [0-9a-f-]{36}$/m);
    expect(retry.stdout).toMatch(/^ {2}ok +wasApplied +decision +Applied\? +(?:\d+ ms|\d+\.\d\d s) {2}-> logStillFailing$/m);
    expect(retry.stdout.trimEnd().split('\n').at(-1)).toBe('result: 0');
  });

  it('parses each parameter against its declared type, and rejects bad ones with exit code 2', async () => {
    const flow: Flow = {
      name: 'describe',
      parameters: [
        { name: 'count', type: { type: 'integer' } },
        { name: 'factor', type: { type: 'decimal' } },
        { name: 'urgent', type: { type: 'boolean' } },
        { name: 'due', type: { type: 'datetime' } },
        { name: 'priority', type: { type: 'enum', values: ['low', 'normal', 'high'] } },
        { name: 'note', type: { type: 'string' } },
        { name: 'tasks', type: { type: 'list', entity: 'Task' } },
      ],
      returnType: { type: 'string' },
      nodes: [
        { id: 'start', type: 'start' },
        {
          id: 'end',
          type: 'end',
          returnValue:
            "toString($count * $factor) + ' ' + toString($urgent) + ' ' + toString($due) + ' ' + toString($priority) + ' ' + $note + ' ' + toString(length($tasks))",
        },
      ],
      edges: [{ from: 'start', to: 'end' }],
    };
    const file = join(tmp, 'describe.flow.json');
    await writeFile(file, JSON.stringify(flow));
    const dir = join(tmp, 'params');
    expect((await run(flowFile('syncAllAtStartup'), 'alice', dir, '--quiet')).code).toBe(0);

    const good = await run(file, 'alice', dir, '--param', 'count=3', '--param', 'factor=1.5', '--param', 'urgent=true', '--param', 'due=2030-02-01', '--param', 'priority=high', '--param', 'note=a=b', '--param', `tasks=${demoId(10)}, ${demoId(12)}`);
    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    expect(good.stdout.trimEnd().split('\n').at(-1)).toBe('result: "4.5 true 2030-02-01T00:00:00.000Z high a=b 2"');

    const bad = await run(file, 'alice', dir, '--param', 'count=3.5', '--param', 'factor=lots', '--param', 'urgent=yes', '--param', 'due=tomorrow', '--param', 'priority=urgent', '--param', `tasks=${demoId(10)},nope`, '--param', 'colour=red');
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr.split('\n')).toEqual([
      'error validation_failed: Invalid input (7 problems)',
      '  --param count: "3.5" is not an integer',
      '  --param factor: "lots" is not a number',
      '  --param urgent: "yes" is not true or false',
      '  --param due: "tomorrow" is not a date (2030-01-31) or a date and time with a zone (2030-01-31T09:00:00Z)',
      '  --param priority: "urgent" is not one of low, normal, high',
      "  --param tasks: no Task nope in the local database (synchronize first to have the server's objects)",
      '  --param colour: the flow has no such parameter (it has count, factor, urgent, due, priority, note, tasks)',
      '',
    ]);

    const malformed = await run(file, 'alice', dir, '--param', 'count');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toBe('error validation_failed: --param: "count" is not name=value\n');
  });

  it('runs a flow that calls another flow from the same folder', async () => {
    const folder = join(tmp, 'calls');
    const child: Flow = {
      name: 'countTasks',
      returnType: { type: 'integer' },
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'all', type: 'activity', caption: 'All tasks', activity: { type: 'retrieve', source: { from: 'database', entity: 'Task' }, outputVariable: 'tasks' } },
        { id: 'end', type: 'end', returnValue: 'length($tasks)' },
      ],
      edges: [
        { from: 'start', to: 'all' },
        { from: 'all', to: 'end' },
      ],
    };
    const parent: Flow = {
      name: 'syncAndCount',
      returnType: { type: 'integer' },
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'sync', type: 'activity', activity: { type: 'callFlow', flow: 'syncAllAtStartup' } },
        { id: 'count', type: 'activity', caption: 'Count', activity: { type: 'callFlow', flow: 'countTasks', outputVariable: 'n' } },
        { id: 'end', type: 'end', returnValue: '$n' },
      ],
      edges: [
        { from: 'start', to: 'sync' },
        { from: 'sync', to: 'count' },
        { from: 'count', to: 'end' },
      ],
    };
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'countTasks.flow.json'), JSON.stringify(child));
    await writeFile(join(folder, 'syncAndCount.flow.json'), JSON.stringify(parent));
    await writeFile(join(folder, 'syncAllAtStartup.flow.json'), await readFile(flowFile('syncAllAtStartup'), 'utf8'));

    const r = await run(join(folder, 'syncAndCount.flow.json'), 'bob', join(tmp, 'callsdb'));
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {4}call syncAllAtStartup$/m);
    expect(r.stdout).toMatch(/^ {4}ok +syncAll +synchronize +Synchronize all objects +(?:\d+ ms|\d+\.\d\d s)$/m);
    expect(r.stdout).toMatch(/^ {4}ok +all +retrieve +All tasks +(?:\d+ ms|\d+\.\d\d s)$/m);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(`result: ${(await serverCount('bob')).tasks}`);
  });

  it('rejects an invalid flow, listing each problem with its node and field', async () => {
    const file = join(tmp, 'broken.flow.json');
    await writeFile(
      file,
      JSON.stringify({
        name: 'broken',
        returnType: { type: 'integer' },
        nodes: [
          { id: 'start', type: 'start' },
          { id: 'make', type: 'activity', activity: { type: 'createObject', entity: 'Tsk', values: {}, outputVariable: 't' } },
          { id: 'end', type: 'end', returnValue: '$missing + 1' },
        ],
        edges: [
          { from: 'start', to: 'make' },
          { from: 'make', to: 'end' },
        ],
      }),
    );
    const r = await run(file, 'alice', join(tmp, 'broken'));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^error flow_invalid: Flow "broken" is invalid \(\d+ problems\)$/);
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}node make: nodes\[1\]\.activity\.entity: .*Tsk/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}node end: nodes\[2\]\.returnValue: .*\$missing/));
  });

  it('rejects what cannot start with exit code 2: no file, bad JSON, bad arguments', async () => {
    const missing = await run(join(tmp, 'nope.flow.json'), 'alice', join(tmp, 'x'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`error not_found: No flow file ${join(tmp, 'nope.flow.json')}\n`);

    const file = join(tmp, 'notjson.flow.json');
    await writeFile(file, '{ "name": ');
    const notJson = await run(file, 'alice', join(tmp, 'x'));
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/^error flow_invalid: .*notjson\.flow\.json is not valid JSON/);

    const noServer = await cli(['run', flowFile('syncAllAtStartup'), '--user', 'alice']);
    expect(noServer.code).toBe(2);
    expect(noServer.stderr).toContain("error: required option '--server <url>' not specified");

    const badServer = await cli(['run', flowFile('syncAllAtStartup'), '--user', 'alice', '--server', 'localhost:4000']);
    expect(badServer.code).toBe(2);
    expect(badServer.stderr).toBe('error validation_failed: --server: "localhost:4000" is not an http(s) URL, e.g. http://127.0.0.1:4000\n');

    // `npx syncflow` finds this package's own bin.
    const help = await cli(['syncflow', 'run', '--help'], { command: ['npx'] });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: syncflow run [options] <flow>');
    expect(help.stdout).toContain('--param <name=value>');
  });

  it('refuses a local database another live run holds, and takes over the lock of a run that died', async () => {
    const dir = join(tmp, 'locked');
    await mkdir(dir, { recursive: true });
    const lock = join(dir, `127.0.0.1_${port}-alice.idb.lock`);
    await writeFile(lock, String(process.pid));
    const held = await run(flowFile('syncAllAtStartup'), 'alice', dir);
    expect(held.code).toBe(2);
    expect(held.stderr).toBe(`error conflict: The local database ${lock.slice(0, -5)} is in use by another syncflow run (process ${process.pid})\n`);

    const gone = spawn(process.execPath, ['-e', '0']);
    const deadPid = await new Promise<number>((resolve) => gone.on('exit', () => resolve(gone.pid!)));
    await writeFile(lock, String(deadPid));
    const taken = await run(flowFile('syncAllAtStartup'), 'alice', dir, '--quiet');
    expect(taken.code).toBe(0);
    expect(existsSync(lock)).toBe(false);
  });

  it('draws a cli-progress bar with --progress bar', async () => {
    const r = await run(flowFile('syncAllAtStartup'), 'carol', join(tmp, 'bar'), '--progress', 'bar', '--quiet');
    expect(r.code).toBe(0);
    const { all } = await serverCount('carol');
    expect(r.stderr).toMatch(/^ {2}sync all \[░+\] 0\/\? uploading$/m);
    expect(r.stderr).toMatch(new RegExp(`^ {2}sync all \\[█+\\] \\d+/\\d+ done: 0 uploaded, ${all} downloaded, 0 removed, 0 failed$`, 'm'));
  });

  it('stops on Ctrl-C during a synchronization: the machine is cancelled, the database saved, exit code 130', async () => {
    // A server that accepts connections and never answers: the download waits forever.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const server = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    const dir = join(tmp, 'interrupted');
    try {
      const started = Date.now();
      const child = spawn(process.execPath, [bin, 'run', flowFile('syncAllAtStartup'), '--server', server, '--user', 'alice', '--db-dir', dir], { cwd: root });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => {
        stderr += d;
        if (stderr.includes('sync all: downloading') && !child.killed) child.kill('SIGINT');
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code).toBe(130);
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(stderr).toContain('stopping (Ctrl-C again to quit at once)');
      expect(stderr).toContain('  sync all: cancelled: sync_cancelled: The synchronization was cancelled; local changes stay marked for the next one');
      expect(stderr.trimEnd().split('\n').at(-1)).toBe('error flow_cancelled: The flow run was cancelled');
      expect(stdout).not.toContain('result:');
      expect(existsSync(join(dir, `127.0.0.1_${new URL(server).port}-alice.idb`))).toBe(true);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
