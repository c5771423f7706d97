/**
 * How many generated cases a property test runs: a fixed, seeded set in `npm test` (fast and
 * repeatable in CI), thousands in `npm run soak` (SYNCFLOW_SOAK=1, random seed unless
 * SYNCFLOW_SEED is given). A failure prints fast-check's seed and shrunk counterexample;
 * replay it with `SYNCFLOW_SEED=<seed> npm run soak -- <file>`.
 *
 * @example
 * await fc.assert(fc.asyncProperty(arb, check), fuzzParameters({ runs: 40, soakRuns: 2000 }));
 */
export const soaking = process.env.SYNCFLOW_SOAK === '1';

export function fuzzParameters(options: { runs: number; soakRuns: number; seed?: number }): {
  numRuns: number;
  seed?: number;
  endOnFailure: boolean;
} {
  const envSeed = process.env.SYNCFLOW_SEED ? Number(process.env.SYNCFLOW_SEED) : undefined;
  return {
    numRuns: soaking ? options.soakRuns : options.runs,
    // npm test: a fixed seed, the same cases on every run; soak: fresh cases each time.
    seed: envSeed ?? (soaking ? undefined : (options.seed ?? 20261202)),
    endOnFailure: true,
  };
}
