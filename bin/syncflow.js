#!/usr/bin/env node
// The `syncflow` command. syncflow ships TypeScript sources: tsx's loader (registered here,
// Node >= 20.6) compiles them as they load, so the command needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/syncflow.ts');
