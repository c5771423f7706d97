import { waitFor, type SnapshotFrom } from 'xstate';
import { describe, expect, it } from 'vitest';
import { schedulerMachine, type SchedulerEvent } from '../../src/profiles/schedulerMachine.ts';
import { isSyncLockHeld } from '../../src/sync/lock.ts';
import { everyTransition, Tickets } from '../support/machinePaths.ts';
import { useWorld } from '../support/world.ts';
import { closeProfileDevices, ManualClock, profileDevice } from './support.ts';

type Snapshot = SnapshotFrom<typeof schedulerMachine>;
type ModelEvent = SchedulerEvent | { type: 'xstate.done.actor.run'; output: unknown };

const DONE = 'xstate.done.actor.run';
const firing = { profile: 'p', trigger: 'periodic' };

function eventsIn(s: Snapshot): ModelEvent[] {
  if (s.status === 'done') return [];
  const events: ModelEvent[] = [{ type: 'START' }, { type: 'PAUSE' }, { type: 'TRIGGER', firing }, { type: 'CLOSE' }];
  if (s.matches({ active: 'running' })) events.push({ type: DONE, output: undefined });
  return events;
}

const key = (s: Snapshot) => JSON.stringify(s.value);

const world = useWorld({ seed: true, beforeClose: closeProfileDevices });

/** The shortest path to each state, followed by each event that state accepts. */
const paths = everyTransition(schedulerMachine, eventsIn, key, (e) => (e.type === DONE ? 'run ends' : e.type));

describe('profile scheduler machine: every transition, replayed against a real runtime, journal and server', () => {
  it('covers each state and event', () => {
    expect(new Set(paths.map((p) => p.expected.at(-1)))).toEqual(
      new Set(['"paused"', '{"active":"idle"}', '{"active":"running"}', '"closed"']),
    );
    expect(paths.length).toBeGreaterThanOrEqual(12);
  });

  it.each(paths.map((p) => [p.name, p] as const))('%s', async (_name, path) => {
    const first = await profileDevice(world);
    await first.runtime.synchronize({ mode: 'all' });
    const clock = new ManualClock();
    const { runtime, network, dbName } = await profileDevice(world, {
      dbName: first.dbName,
      profiles: { timers: clock },
    });
    runtime.profiles.define([{ name: 'p', direction: 'download', entities: { include: ['Task'] }, triggers: [{ kind: 'periodic', delaySeconds: 3600 }] }]);
    const tickets = new Tickets();
    network.gate = (p) => (p === '/api/download' ? tickets.take() : Promise.resolve());
    const { profiles, syncs } = runtime;
    let started = false;
    let skips = 0;
    let runs = 0;
    const outcomes = async () => (await runtime.journal.list({ kind: 'profile' })).map((e) => e.outcome);

    for (const [i, event] of path.events.entries()) {
      const before = profiles.scheduler.getSnapshot();
      switch (event.type) {
        case 'START':
          if (!started) profiles.start();
          else await syncs.restart(false);
          started = true;
          break;
        case 'PAUSE':
          syncs.stop();
          if (before.matches({ active: 'running' })) {
            // The run was aborted: let its held request through so it ends and frees the lock.
            tickets.release();
            await expect.poll(() => isSyncLockHeld(dbName)).toBe(false);
          }
          break;
        case 'TRIGGER':
          if (before.matches({ active: 'idle' })) runs++;
          else if (before.status !== 'done') skips++;
          profiles.fire('p', 'periodic');
          break;
        case DONE:
          tickets.release();
          break;
        case 'CLOSE':
          profiles.close();
          if (before.matches({ active: 'running' })) {
            tickets.release();
            await expect.poll(() => isSyncLockHeld(dbName)).toBe(false);
          }
          break;
      }
      // A PAUSE or START before profiles.start() changes nothing: the scheduler follows the manager only once started.
      if (!started && (event.type === 'PAUSE' || event.type === 'START')) profiles.scheduler.send(event as SchedulerEvent);
      await waitFor(profiles.scheduler, (s) => key(s) === path.expected[i], { timeout: 5000 });

      const now = profiles.scheduler.getSnapshot();
      // Timers run only while active.
      expect(clock.pending).toBe(now.matches('active') ? 1 : 0);
      if (now.matches({ active: 'running' })) await expect.poll(() => tickets.waiting).toBe(1);
      // Every firing that could not run is journaled as skipped; every run that ended is journaled once.
      await expect.poll(async () => (await outcomes()).filter((o) => o === 'skipped').length).toBe(skips);
      const ended = runs - (now.matches({ active: 'running' }) ? 1 : 0);
      await expect.poll(async () => (await outcomes()).filter((o) => o !== 'skipped').length).toBe(ended);
      for (const o of (await outcomes()).filter((x) => x !== 'skipped')) expect(['done', 'stopped', 'failed']).toContain(o);
    }
    tickets.release(10);
    profiles.close();
    await expect.poll(() => isSyncLockHeld(dbName)).toBe(false);
  });
});
