import cliProgress from 'cli-progress';

/**
 * A progress bar for long steps (seeding, a 1M download), drawn only on a terminal: when the
 * output is piped (CI, `npm run bench > log`) it prints one line at the start and one at the end.
 */
export interface Progress {
  update(done: number): void;
  stop(): void;
}

export function progressBar(label: string, total: number): Progress {
  if (!process.stdout.isTTY) {
    const start = performance.now();
    console.log(`  ${label}: ${total.toLocaleString('en-US')} …`);
    return {
      update() {},
      stop() {
        console.log(`  ${label}: done in ${((performance.now() - start) / 1000).toFixed(1)} s`);
      },
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: `  ${label.padEnd(28)} [{bar}] {percentage}% | {value}/{total} | {duration_formatted}`, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    update: (done) => bar.update(done),
    stop: () => bar.stop(),
  };
}
