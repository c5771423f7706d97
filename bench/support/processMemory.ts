import { readFileSync, writeFileSync } from 'node:fs';

/** Memory of a Linux process from /proc/<pid>/status, in MiB. */
export interface ProcessMemory {
  /** Resident set size now (VmRSS). */
  rss: number;
  /** Peak resident set size since start or since the last `resetPeak` (VmHWM). */
  peak: number;
}

const MIB = 1024 * 1024;

export function readProcessMemory(pid: number): ProcessMemory | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (field: string) => Number.parseInt(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 'NaN', 10);
  return { rss: (kb('VmRSS') * 1024) / MIB, peak: (kb('VmHWM') * 1024) / MIB };
}

/**
 * Resets the peak (VmHWM) to the current RSS (`echo 5 > /proc/<pid>/clear_refs`, Linux 4.0+),
 * so a peak read later belongs to the work done in between, not to start-up. Answers false
 * where the kernel does not allow it (then only sampling tells the peak).
 */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Samples the RSS of some processes every `intervalMs` (a cross-check of VmHWM, and the only
 * peak for a sum over several processes). `pids` is re-evaluated at each tick.
 */
export function sampleMemory(pids: () => number[], intervalMs = 100) {
  const peaks = new Map<number, number>();
  let peakSum = 0;
  const tick = () => {
    let sum = 0;
    for (const pid of pids()) {
      const m = readProcessMemory(pid);
      if (!m) continue;
      sum += m.rss;
      peaks.set(pid, Math.max(peaks.get(pid) ?? 0, m.rss));
    }
    peakSum = Math.max(peakSum, sum);
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return {
    /** Stops sampling; the largest sampled RSS of each process and of their sum. */
    stop(): { perProcess: Map<number, number>; sum: number } {
      clearInterval(timer);
      tick();
      return { perProcess: peaks, sum: peakSum };
    },
  };
}
