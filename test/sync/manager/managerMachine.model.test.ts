import { waitFor, type SnapshotFrom } from 'xstate';
import { describe, expect, it } from 'vitest';
import { SyncManagerStoppedError } from '../../../src/errors.ts';
import type { SyncState } from '../../../src/model/syncState.ts';
import { managerMachine, type ManagerEvent, type ManagerTask } from '../../../src/sync/manager/managerMachine.ts';
import { everyTransition, Tickets } from '../../support/machinePaths.ts';
import { useWorld } from '../../support/world.ts';

type Snapshot = SnapshotFrom<typeof managerMachine>;
type ModelEvent = ManagerEvent | { type: 'xstate.done.actor.task'; output: () => void };

const DONE = 'xstate.done.actor.task';
const dummy: ManagerTask = {
  kind: 'syncDown',
  label: 'model',
  controller: new AbortController(),
  execute: async () => () => undefined,
  cancelQueued: async () => undefined,
  refuse: () => undefined,
};

/** The events the model may take in a state: two queued tasks are enough to show the queue. */
function eventsIn(s: Snapshot): ModelEvent[] {
  const events: ModelEvent[] = [{ type: 'STOP' }, { type: 'RESTART' }];
  if (s.context.queue.length < 2) events.push({ type: 'SUBMIT', task: dummy });
  if (s.matches('busy')) events.push({ type: DONE, output: () => undefined });
  return events;
}

const key = (s: Snapshot) => JSON.stringify([s.value, s.context.queue.length]);

interface Submitted {
  name: string;
  refusedExpected: boolean;
  outcome: { settled: boolean; state?: SyncState; error?: unknown };
}

const world = useWorld();

/**
 * Every transition of the manager machine: the shortest path to each state, followed by each
 * event that state accepts (self-loops such as a refused SUBMIT included).
 */
const paths = everyTransition(managerMachine, eventsIn, key, (e) => (e.type === DONE ? 'task ends' : e.type));

describe('sync manager machine: every transition, replayed against a real manager, store and server', () => {
  it('covers each state and event', () => {
    const reached = new Set(paths.map((p) => p.expected.at(-1)));
    expect(reached).toEqual(
      new Set([
        '["idle",0]',
        '["stopped",0]',
        '[{"busy":"working"},1]',
        '[{"busy":"working"},2]',
        '[{"busy":"stopping"},1]',
        '[{"busy":"restarting"},1]',
      ]),
    );
    expect(paths.length).toBeGreaterThanOrEqual(15);
  });

  it.each(paths.map((p) => [p.name, p] as const))('%s', async (_name, path) => {
    const device = await world.device();
    const { syncs } = device.runtime;
    // Each sync is one download request (an empty target), held until the model's task ends.
    for (let i = 0; i < 8; i++) {
      await syncs.defineSyncDown({ entity: 'Project', constraint: { attribute: 'name', op: 'eq', value: `none ${i}` } }, { name: `s${i}` });
    }
    const tickets = new Tickets();
    device.network.gate = (p) => (p === '/api/download' ? tickets.take() : Promise.resolve());
    const submitted: Submitted[] = [];
    const status = async (name: string) => (await syncs.getSyncStatus(name))!.status;

    for (const [i, event] of path.events.entries()) {
      const before = syncs.actor.getSnapshot();
      switch (event.type) {
        case 'SUBMIT': {
          const entry: Submitted = {
            name: `s${submitted.length}`,
            refusedExpected: before.matches({ busy: 'stopping' }) || before.matches({ busy: 'restarting' }) || before.matches('stopped'),
            outcome: { settled: false },
          };
          submitted.push(entry);
          syncs.reSync(entry.name).then(
            (state) => Object.assign(entry.outcome, { settled: true, state }),
            (error) => Object.assign(entry.outcome, { settled: true, error }),
          );
          break;
        }
        case 'STOP':
          syncs.stop();
          break;
        case 'RESTART':
          // While a stopped task still finishes, restart() waits for it: don't wait here.
          void syncs.restart(false);
          break;
        case DONE:
          tickets.release();
          break;
      }
      await waitFor(syncs.actor, (s) => key(s) === path.expected[i], { timeout: 5000 });

      // What must hold in the state reached.
      const now = syncs.actor.getSnapshot();
      const stopping = now.matches({ busy: 'stopping' }) || now.matches({ busy: 'restarting' });
      expect(syncs.isStopping()).toBe(stopping);
      expect(syncs.isStopped()).toBe(now.matches('stopped'));
      for (const s of submitted.filter((x) => x.refusedExpected)) {
        await expect.poll(() => s.outcome.settled).toBe(true);
        expect(s.outcome.error).toBeInstanceOf(SyncManagerStoppedError);
      }
      const accepted = submitted.filter((x) => !x.refusedExpected);
      // The running task heads the queue; in busy.working nothing queued was cancelled.
      const running = now.matches('busy') && !stopping ? accepted[accepted.length - now.context.queue.length] : undefined;
      if (running) await expect.poll(() => status(running.name)).toBe('running');
      if (now.matches('idle') || now.matches('stopped')) {
        for (const s of accepted) await expect.poll(() => s.outcome.settled).toBe(true);
      }
      for (const s of accepted.filter((x) => x.outcome.settled)) {
        expect(s.outcome.error).toBeUndefined();
        expect(['done', 'stopped']).toContain(s.outcome.state!.status);
        expect(await status(s.name)).toBe(s.outcome.state!.status);
      }
      if (stopping || now.matches('stopped')) {
        // Stop ends everything that was queued as stopped; only the task it aborted may still be finishing.
        const aborted = stopping ? accepted.find((x) => !x.outcome.settled && x.outcome.state === undefined) : undefined;
        for (const s of accepted.filter((x) => x !== aborted)) {
          await expect.poll(() => s.outcome.settled).toBe(true);
          if (s.outcome.state!.status !== 'done') expect(s.outcome.state!.status).toBe('stopped');
        }
      }
    }

    // Let whatever still runs finish, and check that nothing was left unsettled.
    syncs.stop();
    tickets.release(10);
    await waitFor(syncs.actor, (s) => s.matches('stopped'), { timeout: 5000 });
    for (const s of submitted) await expect.poll(() => s.outcome.settled).toBe(true);
  });
});
