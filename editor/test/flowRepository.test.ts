/** The flows folder behind the editor: each flow validated once per change, and a validator that throws is a problem. */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { demoSchema } from '../../src/demo/schema.ts';
import { validateFlow } from '../../src/flow/validateFlow.ts';
import { FlowRepository, InvalidFlowError, type ValidateFlow } from '../server/flowRepository.ts';

const flowsSource = fileURLToPath(new URL('../../flows', import.meta.url));
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'syncflow-flow-repository-'));
  await cp(flowsSource, dir, { recursive: true });
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The real validator, counting which flows it is asked to validate. */
function counting(): { validate: ValidateFlow; calls: string[] } {
  const calls: string[] = [];
  const validate: ValidateFlow = (input, options) => {
    calls.push(String((input as { name?: unknown }).name));
    return validateFlow(input, options);
  };
  return { validate, calls };
}

describe('FlowRepository', () => {
  it('validates each flow once per change, not on every list', async () => {
    const { validate, calls } = counting();
    const repository = new FlowRepository(dir, demoSchema, validate);
    const first = await repository.list();
    expect(calls.length).toBe(first.length);
    calls.length = 0;
    for (let i = 0; i < 5; i++) expect(await repository.list()).toEqual(first);
    expect(calls).toEqual([]);

    // One flow saved: that one is validated again (once to save, once to list), no other.
    const flow = first.find((f) => f.id === 'retryFailures')!.flow as Record<string, unknown>;
    await repository.save('retryFailures', { ...flow, description: 'changed' });
    await repository.list();
    expect(calls.filter((n) => n !== 'retryFailures')).toEqual([]);
    calls.length = 0;
    // Changed by hand outside the editor: seen too.
    const path = join(dir, 'syncAllAtStartup.flow.json');
    await writeFile(path, JSON.stringify({ ...JSON.parse(await readFile(path, 'utf8')), description: 'by hand' }));
    const listed = await repository.list();
    expect(calls).toEqual(['syncAllAtStartup']);
    expect(listed.find((f) => f.id === 'syncAllAtStartup')?.description).toBe('by hand');
  });

  it('validates a flow again when a flow it calls changes or appears', async () => {
    const { validate, calls } = counting();
    const repository = new FlowRepository(dir, demoSchema, validate);
    const caller = {
      name: 'caller',
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'call', type: 'activity', activity: { type: 'callFlow', flow: 'callee' } },
        { id: 'end', type: 'end' },
      ],
      edges: [
        { from: 'start', to: 'call' },
        { from: 'call', to: 'end' },
      ],
    };
    await writeFile(join(dir, 'caller.flow.json'), JSON.stringify(caller));
    const before = (await repository.list()).find((f) => f.id === 'caller')!;
    expect(before.problems.length).toBeGreaterThan(0);
    calls.length = 0;
    await writeFile(join(dir, 'callee.flow.json'), JSON.stringify({ name: 'callee', nodes: [{ id: 'start', type: 'start' }, { id: 'end', type: 'end' }], edges: [{ from: 'start', to: 'end' }] }));
    const after = (await repository.list()).find((f) => f.id === 'caller')!;
    expect(calls.sort()).toEqual(['callee', 'caller']);
    expect(after.problems).toEqual([]);
  });

  it('turns a validator that throws into a problem: the list answers, a save is refused', async () => {
    const validate: ValidateFlow = () => {
      throw new RangeError('Maximum call stack size exceeded');
    };
    const repository = new FlowRepository(dir, demoSchema, validate);
    const flows = await repository.list();
    expect(flows.length).toBeGreaterThan(0);
    for (const f of flows) expect(f.problems).toEqual([{ path: '', message: 'The flow could not be validated: it is too large or too deeply nested' }]);
    const before = await readFile(join(dir, 'retryFailures.flow.json'), 'utf8');
    await expect(repository.save('retryFailures', flows[0].flow)).rejects.toBeInstanceOf(InvalidFlowError);
    expect(await readFile(join(dir, 'retryFailures.flow.json'), 'utf8')).toBe(before);
  });

  it("refuses to save a Run profile of a profile the app does not have (the page's check, on the server too)", async () => {
    const runs = (profile: string) => ({
      name: 'runsProfile',
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'run', type: 'activity', activity: { type: 'runProfile', profile } },
        { id: 'end', type: 'end' },
      ],
      edges: [
        { from: 'start', to: 'run' },
        { from: 'run', to: 'end' },
      ],
    });
    const repository = new FlowRepository(dir, demoSchema, undefined, ['GetTasks']);
    await repository.create('runsProfile');
    const refused = await repository.save('runsProfile', runs('Nope')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InvalidFlowError);
    expect((refused as InvalidFlowError).problems).toEqual([expect.objectContaining({ message: expect.stringContaining('unknown sync profile "Nope"') })]);
    expect((await repository.save('runsProfile', runs('GetTasks'))).problems).toEqual([]);
    // An app with no profiles at all: every name is unknown.
    const none = new FlowRepository(dir, demoSchema, undefined, []);
    expect((await none.list()).find((f) => f.id === 'runsProfile')?.problems).toEqual([expect.objectContaining({ message: expect.stringContaining('unknown sync profile "GetTasks"') })]);
  });
});
