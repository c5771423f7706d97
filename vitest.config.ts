import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'editor/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // 2-core machines: PGlite instances are heavy, keep workers few.
    maxWorkers: 2,
    pool: 'forks',
  },
});
