import { describe, expect, it } from 'vitest';
import { SIMULTANEOUS_SYNC_MESSAGE, SimultaneousSyncError } from '../../src/errors.ts';
import { acquireSyncLock, isSyncLockHeld } from '../../src/sync/lock.ts';

describe('acquireSyncLock', () => {
  it('lets exactly one of two same-tick attempts through', async () => {
    const [a, b] = await Promise.allSettled([acquireSyncLock('db-1'), acquireSyncLock('db-1')]);
    expect(a.status).toBe('fulfilled');
    expect(b.status).toBe('rejected');
    const error = (b as PromiseRejectedResult).reason;
    expect(error).toBeInstanceOf(SimultaneousSyncError);
    expect(error.message).toBe(SIMULTANEOUS_SYNC_MESSAGE);
    (a as PromiseFulfilledResult<() => void>).value();
    expect(isSyncLockHeld('db-1')).toBe(false);
  });

  it('is free again after release, and per database', async () => {
    const release = await acquireSyncLock('db-2');
    const other = await acquireSyncLock('db-3');
    release();
    release(); // twice is harmless
    const again = await acquireSyncLock('db-2');
    again();
    other();
  });

  it('uses Web Locks where the platform has them, failing at once when another holder has the lock', async () => {
    const held = new Set<string>();
    const locks = {
      request: async (name: string, options: { ifAvailable: boolean }, cb: (lock: unknown) => Promise<void>) => {
        expect(options.ifAvailable).toBe(true);
        if (held.has(name)) return cb(null);
        held.add(name);
        try {
          await cb({ name });
        } finally {
          held.delete(name);
        }
      },
    };
    const original = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
    Object.defineProperty(globalThis, 'navigator', { value: { locks }, configurable: true });
    try {
      held.add('syncflow:sync:db-4'); // another tab holds it
      await expect(acquireSyncLock('db-4')).rejects.toBeInstanceOf(SimultaneousSyncError);
      expect(isSyncLockHeld('db-4')).toBe(false);
      held.clear();
      const release = await acquireSyncLock('db-4');
      expect(held.has('syncflow:sync:db-4')).toBe(true);
      release();
      await new Promise((r) => setTimeout(r, 0));
      expect(held.has('syncflow:sync:db-4')).toBe(false);
    } finally {
      if (original) Object.defineProperty(globalThis, 'navigator', original);
      else delete (globalThis as { navigator?: unknown }).navigator;
    }
  });
});
