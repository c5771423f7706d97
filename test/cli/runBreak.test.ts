/**
 * `syncflow run --break node`: the real command (a child process) pauses before the node, prints
 * the variables, and takes debugger commands on stdin (issue 15's step debugger on the CLI).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin } from '../support/cli.ts';
import { closeSharedStorage, startWorld, type World } from '../support/world.ts';

let world: World;
let tmp: string;

beforeAll(async () => {
  world = await startWorld();
  tmp = await mkdtemp(join(tmpdir(), 'syncflow-cli-break-'));
  const counter = {
    name: 'counter',
    returnType: { type: 'integer' },
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'count', type: 'activity', activity: { type: 'createVariable', variable: 'count', variableType: { type: 'integer' }, value: '20' } },
      { id: 'add', type: 'activity', activity: { type: 'changeVariable', variable: 'count', value: '$count + 22' } },
      { id: 'end', type: 'end', returnValue: '$count' },
    ],
    edges: [
      { from: 'start', to: 'count' },
      { from: 'count', to: 'add' },
      { from: 'add', to: 'end' },
    ],
  };
  await writeFile(join(tmp, 'counter.flow.json'), JSON.stringify(counter));
});

afterAll(async () => {
  await world.close();
  await closeSharedStorage();
  await rm(tmp, { recursive: true, force: true });
});

function runWithInput(args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('syncflow run --break', { timeout: 60_000 }, () => {
  it('pauses before the node with the variables, steps, and continues', async () => {
    const file = join(tmp, 'counter.flow.json');
    const r = await runWithInput(['run', file, '--server', world.url, '--user', 'alice', '--db-dir', join(tmp, 'db'), '--break', 'add'], 'n\nc\n');
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('paused at add (breakpoint)\n  $count = 20\n');
    expect(r.stdout).toContain('paused at end (step)\n  $count = 42\n');
    expect(r.stdout).toContain('result: 42');
  });

  it('stops the run with q', async () => {
    const file = join(tmp, 'counter.flow.json');
    const r = await runWithInput(['run', file, '--server', world.url, '--user', 'alice', '--db-dir', join(tmp, 'db2'), '--break', 'count'], 'q\n');
    expect(r.stdout).toContain('paused at count (breakpoint)');
    expect(r.code).toBe(130);
    expect(r.stdout).not.toContain('result:');
  });
});
