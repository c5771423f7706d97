/** Small statistics and timing helpers shared by the benchmarks. */

/** The median of some numbers (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Milliseconds spent in `fn` (wall clock). */
export async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Asks V8 for a full collection when the process runs with --expose-gc (run.ts passes it). */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * One variant of an interleaved measurement: `run` does its own setup and teardown and answers
 * the milliseconds of the part it measures (setup such as opening a fresh database is not timed).
 */
export interface Variant {
  name: string;
  run(repetition: number): Promise<number>;
}

export interface Samples {
  name: string;
  samples: number[];
  median: number;
}

/**
 * Runs every variant `repetitions` times, interleaved (A B C, A B C, ...), so that a noisy
 * neighbour slows all variants alike rather than one of them. `warmup` rounds are run first
 * and thrown away (JIT, connection pools, PostgreSQL's buffer cache).
 */
export async function interleave(
  variants: readonly Variant[],
  options: { repetitions: number; warmup?: number; onSample?: (variant: string, repetition: number, ms: number) => void },
): Promise<Map<string, Samples>> {
  const out = new Map<string, Samples>(variants.map((v) => [v.name, { name: v.name, samples: [], median: Number.NaN }]));
  const warmup = options.warmup ?? 0;
  for (let round = 0; round < warmup + options.repetitions; round++) {
    for (const variant of variants) {
      collectGarbage();
      const ms = await variant.run(round);
      options.onSample?.(variant.name, round - warmup, ms);
      if (round >= warmup) out.get(variant.name)!.samples.push(ms);
    }
  }
  for (const s of out.values()) s.median = median(s.samples);
  return out;
}

/** `1234.5` → `"1,235 ms"`; seconds above 10 s. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms).toLocaleString('en-US')} ms`;
}

/** A ratio as `1.23x`. */
export function formatRatio(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : 'n/a';
}

/** Objects per second as `12.3k/s`. */
export function formatRate(count: number, ms: number): string {
  const perSecond = (count / ms) * 1000;
  return perSecond >= 1000 ? `${(perSecond / 1000).toFixed(1)}k/s` : `${perSecond.toFixed(0)}/s`;
}
