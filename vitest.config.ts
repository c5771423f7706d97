import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'editor/test/**/*.test.ts'],
    // Hang guards, not performance checks: CLI tests spawn the real command several times and
    // PGlite takes seconds to start, both slower on a busy 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // 2-core machines: PGlite instances are heavy, keep workers few.
    maxWorkers: 2,
    pool: 'forks',
  },
});
