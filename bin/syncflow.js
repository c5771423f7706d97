#!/usr/bin/env node
// The `syncflow` command. In a checkout of the repository it runs the TypeScript sources through
// tsx's loader (no build step while working on syncflow); an installed package runs dist/.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/syncflow.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('../dist/cli/syncflow.js');
}
