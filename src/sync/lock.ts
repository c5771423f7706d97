import { SimultaneousSyncError } from '../errors.ts';

/** Releases a held sync lock; calling it twice is harmless. */
export type Release = () => void;

// Held locks of this JS realm, by database name: two runtimes over one database in one page
// (or one Node process) exclude each other too.
const held = new Set<string>();

interface WebLocks {
  request(
    name: string,
    options: { ifAvailable: boolean },
    callback: (lock: unknown) => Promise<void>,
  ): Promise<void>;
}

function webLocks(): WebLocks | undefined {
  const nav = (globalThis as { navigator?: { locks?: WebLocks } }).navigator;
  return nav?.locks;
}

/**
 * Takes the one-synchronization-at-a-time lock of a database, or throws SimultaneousSyncError
 * at once (nothing is queued). The in-realm part is taken synchronously, so of two syncs
 * started in the same tick exactly one gets it; the Web Locks part (where the platform has
 * it) extends the guard to every browser tab sharing the database.
 *
 * @example
 * const release = await acquireSyncLock('syncflow-alice');
 * try { await run(); } finally { release(); }
 */
export function acquireSyncLock(name: string): Promise<Release> {
  if (held.has(name)) return Promise.reject(new SimultaneousSyncError());
  held.add(name);
  let releasedLocally = false;
  const releaseLocal = () => {
    if (!releasedLocally) {
      releasedLocally = true;
      held.delete(name);
    }
  };
  const locks = webLocks();
  if (!locks) return Promise.resolve(releaseLocal);

  return new Promise<Release>((resolve, reject) => {
    locks
      .request(`syncflow:sync:${name}`, { ifAvailable: true }, (lock) => {
        if (!lock) {
          releaseLocal();
          reject(new SimultaneousSyncError());
          return Promise.resolve();
        }
        // The Web Lock is held until this promise settles, i.e. until release() is called.
        return new Promise<void>((unlock) => {
          resolve(() => {
            releaseLocal();
            unlock();
          });
        });
      })
      .catch((e: unknown) => {
        releaseLocal();
        reject(e);
      });
  });
}

/** Whether this realm holds the lock of a database (for status displays, not for exclusion). */
export function isSyncLockHeld(name: string): boolean {
  return held.has(name);
}
