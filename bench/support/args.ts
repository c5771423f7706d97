/**
 * Command-line flags every bench file understands (bench/run.ts passes them through):
 * `--quick` smaller sizes for a smoke run, `--reps <n>` overrides the repetition count.
 */
export interface BenchArgs {
  quick: boolean;
  reps?: number;
}

export function benchArgs(argv: readonly string[] = process.argv.slice(2)): BenchArgs {
  const quick = argv.includes('--quick');
  const i = argv.indexOf('--reps');
  const reps = i >= 0 ? Number.parseInt(argv[i + 1] ?? '', 10) : undefined;
  return { quick, reps: reps && reps > 0 ? reps : undefined };
}
