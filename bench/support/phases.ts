import type { Runtime } from '../../src/runtime/Runtime.ts';

export interface PhaseTimes<T> {
  result: T;
  total: number;
  /** Milliseconds per machine state (uploading, downloading, downloadingFiles, refreshing, …). */
  phases: Record<string, number>;
  /**
   * Milliseconds from the last download progress (the last batch stored) to the end of the
   * downloading state: the all-objects cleanup (removeUntagged) of the last entity.
   */
  afterLastBatch: number;
}

/** Times the states of a Synchronize machine from the runtime's live status while `run` runs. */
export async function timePhases<T>(runtime: Runtime, run: () => Promise<T>): Promise<PhaseTimes<T>> {
  const phases: Record<string, number> = {};
  let state: string | null = null;
  let since = performance.now();
  const start = since;
  let lastBatch = { at: 0, key: '' };
  let downloadingEnded = 0;
  const leave = (now: number) => {
    if (state) phases[state] = (phases[state] ?? 0) + (now - since);
    if (state === 'downloading') downloadingEnded = now;
  };
  const unsubscribe = runtime.status.subscribe((s) => {
    const now = performance.now();
    const key = `${s.entity}:${s.done}`;
    if (state === 'downloading' && s.phase === 'download' && key !== lastBatch.key) lastBatch = { at: now, key };
    if (s.machineState === state) return;
    leave(now);
    state = s.machineState;
    since = now;
  });
  try {
    const result = await run();
    const now = performance.now();
    leave(now);
    return { result, total: now - start, phases, afterLastBatch: downloadingEnded && lastBatch.at ? downloadingEnded - lastBatch.at : 0 };
  } finally {
    unsubscribe();
  }
}
