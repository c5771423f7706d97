import { describe, expect, it } from 'vitest';
import type { ProfileInput } from '../../src/profiles/Profile.ts';
import { useWorld } from '../support/world.ts';
import { closeProfileDevices, ManualClock, profileDevice } from './support.ts';

const world = useWorld({ seed: true, beforeClose: closeProfileDevices });

const profile = (p: Partial<ProfileInput> & { name: string }): ProfileInput => ({ entities: { include: ['Task'] }, direction: 'download', globalExclusions: false, ...p });

/**
 * A device that completed its full sync, then reopened (a restart) with profiles over a fake
 * clock, as an app declares them.
 */
async function started(profiles: ProfileInput[]) {
  const first = await profileDevice(world);
  await first.runtime.synchronize({ mode: 'all' });
  first.runtime.close();
  const clock = new ManualClock();
  const device = await profileDevice(world, { dbName: first.dbName, profiles: { definitions: profiles, timers: clock } });
  await device.runtime.profiles.idle();
  return { ...device, clock };
}

const profileRuns = async (d: { runtime: { journal: { list(q: object): Promise<Array<{ trigger: string; outcome: string; skipped: Array<{ reason: string }> }>> } } }) =>
  (await d.runtime.journal.list({ kind: 'profile' })).reverse().map((e) => `${e.trigger}:${e.outcome}`);

describe('profile triggers (fake clock, real server)', () => {
  it('appStart runs the profile when the runtime starts', async () => {
    const d = await started([profile({ name: 'p', triggers: [{ kind: 'appStart' }] })]);
    expect(await profileRuns(d)).toEqual(['appStart:done']);
  });

  it('periodic fires every delay, shows its next trigger, pauses while the sync manager is stopped and resumes on restart', async () => {
    const d = await started([profile({ name: 'p', triggers: [{ kind: 'periodic', delaySeconds: 300 }] })]);
    const { runtime, clock } = d;
    expect((await runtime.profiles.info('p')).nextTrigger).toBe(new Date(clock.now() + 300_000).toISOString());
    clock.advance(299_000);
    await runtime.profiles.idle();
    expect(await profileRuns(d)).toEqual([]);
    clock.advance(1_000);
    await runtime.profiles.idle();
    await expect.poll(() => profileRuns(d)).toEqual(['periodic:done']);
    expect((await runtime.profiles.info('p')).lastRun).toMatchObject({ trigger: 'periodic', outcome: 'done' });

    runtime.syncs.stop();
    expect(runtime.profiles.scheduler.getSnapshot().value).toBe('paused');
    expect(clock.pending).toBe(0);
    expect((await runtime.profiles.info('p')).nextTrigger).toBeNull();
    clock.advance(3_000_000);
    expect(await profileRuns(d)).toEqual(['periodic:done']);

    await runtime.syncs.restart(false);
    expect(runtime.profiles.scheduler.getSnapshot().matches('active')).toBe(true);
    clock.advance(300_000);
    await expect.poll(() => profileRuns(d)).toEqual(['periodic:done', 'periodic:done']);
  });

  it('stops every trigger when the runtime closes', async () => {
    const d = await started([profile({ name: 'p', triggers: [{ kind: 'periodic', delaySeconds: 60 }, { kind: 'recordChange', entity: 'Task' }] })]);
    expect(d.clock.pending).toBe(1);
    d.runtime.close();
    expect(d.clock.pending).toBe(0);
    expect(d.runtime.profiles.scheduler.getSnapshot().status).toBe('done');
  });

  it('a commit of the watched entity fires once per burst (debounced); other entities do not', async () => {
    const d = await started([profile({ name: 'p', triggers: [{ kind: 'recordChange', entity: 'task', debounceSeconds: 2 }] })]);
    const { runtime, clock } = d;
    const session = runtime.session();
    await session.commit(session.create('Project', { name: 'not watched' }));
    await new Promise((r) => setTimeout(r, 50));
    clock.advance(5_000);
    expect(await profileRuns(d)).toEqual([]);
    for (let i = 0; i < 3; i++) {
      await session.commit(session.create('Task', { title: `burst ${i}` }));
      await expect.poll(() => clock.pending).toBe(1);
      clock.advance(1_000);
    }
    expect(await profileRuns(d)).toEqual([]);
    clock.advance(1_000);
    await expect.poll(() => profileRuns(d)).toEqual(['recordChange:done']);
  });

  it('coming back online fires the online trigger', async () => {
    const d = await started([profile({ name: 'p', triggers: [{ kind: 'online' }] })]);
    d.runtime.profiles.notifyOnline();
    await expect.poll(() => profileRuns(d)).toEqual(['online:done']);
  });

  it('a trigger while a Synchronize runs is skipped and journaled; one while a profile runs too; neither is an error', async () => {
    const d = await started([profile({ name: 'p', triggers: [{ kind: 'periodic', delaySeconds: 10 }] })]);
    const { runtime, network, clock } = d;
    const held = network.hold('/api/download');
    const sync = runtime.synchronize({ mode: 'all' });
    await held.arrived;
    clock.advance(10_000);
    await expect.poll(() => profileRuns(d)).toEqual(['periodic:skipped']);
    held.release();
    await sync;

    const heldAgain = network.hold('/api/download');
    clock.advance(10_000); // the profile starts and waits on its download
    await heldAgain.arrived;
    clock.advance(10_000); // fires while it runs: skipped at once, not queued
    await expect.poll(async () => (await runtime.journal.list({ kind: 'profile' })).length).toBe(2);
    const [busy] = await runtime.journal.list({ kind: 'profile' });
    expect(busy).toMatchObject({ outcome: 'skipped', skipped: [{ what: 'run', reason: 'another profile run was in progress' }], error: null });
    heldAgain.release();
    await runtime.profiles.idle();
    expect(await profileRuns(d)).toEqual(['periodic:skipped', 'periodic:skipped', 'periodic:done']);
  });
});
