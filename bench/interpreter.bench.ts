/**
 * Issue 5: the flow interpreter's overhead. A flow loops 100,000 times (merge + decision as a
 * while loop; per iteration: create variable, change variable with an expression, a decision,
 * and every 7th time one more change) through runtime.runFlow over a real runtime (Dexie store
 * on fake-indexeddb, no server needed), beside the same work as a plain async TypeScript
 * function in the same run. Prints the medians, the ratio and the overhead per step.
 *
 * Self-contained (no bench/support): `npx tsx bench/interpreter.bench.ts [--quick] [--reps n]`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { demoSchema } from '../src/demo/schema.ts';
import type { Flow } from '../src/flow/format.ts';
import { createRuntime } from '../src/runtime/Runtime.ts';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const repsAt = argv.indexOf('--reps');
const REPS = repsAt >= 0 ? Number.parseInt(argv[repsAt + 1] ?? '', 10) || 5 : 5;
const N = quick ? 10_000 : 100_000;
const WARMUP = 1;

/** i = 0; total = 0; zeros = 0; while (i < n) { k = i mod 7; total = total + k * 2; if (k = 0) zeros = zeros + 1; i = i + 1 } */
const loopFlow: Flow = {
  name: 'benchLoop',
  parameters: [{ name: 'n', type: { type: 'integer' } }],
  returnType: { type: 'integer' },
  nodes: [
    { id: 'start', type: 'start' },
    { id: 'i0', type: 'activity', activity: { type: 'createVariable', variable: 'i', variableType: { type: 'integer' }, value: '0' } },
    { id: 'total0', type: 'activity', activity: { type: 'createVariable', variable: 'total', variableType: { type: 'integer' }, value: '0' } },
    { id: 'zeros0', type: 'activity', activity: { type: 'createVariable', variable: 'zeros', variableType: { type: 'integer' }, value: '0' } },
    { id: 'head', type: 'merge' },
    { id: 'more', type: 'decision', expression: '$i < $n' },
    { id: 'k', type: 'activity', activity: { type: 'createVariable', variable: 'k', variableType: { type: 'integer' }, value: '$i mod 7' } },
    { id: 'add', type: 'activity', activity: { type: 'changeVariable', variable: 'total', value: '$total + $k * 2' } },
    { id: 'isZero', type: 'decision', expression: '$k = 0' },
    { id: 'bump', type: 'activity', activity: { type: 'changeVariable', variable: 'zeros', value: '$zeros + 1' } },
    { id: 'join', type: 'merge' },
    { id: 'next', type: 'activity', activity: { type: 'changeVariable', variable: 'i', value: '$i + 1' } },
    { id: 'end', type: 'end', returnValue: '$total + $zeros' },
  ],
  edges: [
    { from: 'start', to: 'i0' },
    { from: 'i0', to: 'total0' },
    { from: 'total0', to: 'zeros0' },
    { from: 'zeros0', to: 'head' },
    { from: 'head', to: 'more' },
    { from: 'more', to: 'k', case: true },
    { from: 'more', to: 'end', case: false },
    { from: 'k', to: 'add' },
    { from: 'add', to: 'isZero' },
    { from: 'isZero', to: 'bump', case: true },
    { from: 'isZero', to: 'join', case: false },
    { from: 'bump', to: 'join' },
    { from: 'join', to: 'next' },
    { from: 'next', to: 'head' },
  ],
};

/** The same work as a developer would write it. */
async function plainLoop(n: number): Promise<number> {
  let i = 0;
  let total = 0;
  let zeros = 0;
  while (i < n) {
    const k = i % 7;
    total = total + k * 2;
    if (k === 0) zeros = zeros + 1;
    i = i + 1;
  }
  return total + zeros;
}

/** The same work awaiting once per step, as the interpreter does: the part of its cost that is just being async. */
async function awaitPerStep(n: number): Promise<number> {
  let i = 0;
  let total = 0;
  let zeros = 0;
  const step = async <T>(v: T) => v;
  while (await step(i < n)) {
    const k = await step(i % 7);
    total = await step(total + k * 2);
    if (await step(k === 0)) zeros = await step(zeros + 1);
    i = await step(i + 1);
  }
  return total + zeros;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const runtime = await createRuntime({
  schema: demoSchema,
  serverUrl: 'http://127.0.0.1:9',
  token: 'bench',
  dbName: `interpreter-bench-${process.pid}`,
  indexedDB,
  IDBKeyRange,
});
try {
  const flow = await runtime.loadFlow(loopFlow);
  const maxSteps = N * 10 + 100;
  const expected = await plainLoop(N);

  // One observed run: checks the result and counts the steps the interpreter executes.
  let steps = 0;
  let events = 0;
  const observed = await runtime.runFlow(flow, { n: N }, { maxSteps, onEvent: (e) => void (events++, e.type === 'stepEnded' && steps++) });
  if (observed !== expected || (await awaitPerStep(N)) !== expected) throw new Error(`results differ: flow ${String(observed)}, plain ${expected}`);

  console.log(`interpreter: a ${N.toLocaleString('en-US')}-iteration loop flow (${steps.toLocaleString('en-US')} steps) vs plain TypeScript, ${REPS} repetitions (+${WARMUP} warm-up), interleaved`);
  const samples = { flow: [] as number[], observed: [] as number[], plain: [] as number[], awaited: [] as number[] };
  for (let rep = -WARMUP; rep < REPS; rep++) {
    const flowMs = await time(async () => {
      if ((await runtime.runFlow(flow, { n: N }, { maxSteps })) !== expected) throw new Error('wrong result');
    });
    const observedMs = await time(() => runtime.runFlow(flow, { n: N }, { maxSteps, onEvent: () => undefined }));
    const plainMs = await time(() => plainLoop(N));
    const awaitedMs = await time(() => awaitPerStep(N));
    if (rep < 0) continue;
    samples.flow.push(flowMs);
    samples.observed.push(observedMs);
    samples.plain.push(plainMs);
    samples.awaited.push(awaitedMs);
  }

  const m = { flow: median(samples.flow), observed: median(samples.observed), plain: median(samples.plain), awaited: median(samples.awaited) };
  const perStepUs = ((m.flow - m.plain) / steps) * 1000;
  const perIterationUs = ((m.flow - m.plain) / N) * 1000;
  const ratio = m.flow / m.plain;
  const ms = (x: number) => `${x < 10 ? x.toFixed(2) : x.toFixed(0)} ms`;
  const rows: Array<[string, string]> = [
    [`flow through the interpreter (runtime.runFlow)`, ms(m.flow)],
    [`  the same with an observer of every event (${events.toLocaleString('en-US')} events)`, ms(m.observed)],
    [`plain async TypeScript function`, ms(m.plain)],
    [`plain, awaiting once per step (the cost of being async)`, ms(m.awaited)],
    [`ratio interpreter / plain`, `${ratio.toFixed(0)}x`],
    [`overhead per step (node executed)`, `${perStepUs.toFixed(2)} µs`],
    [`overhead per loop iteration (~${(steps / N).toFixed(1)} steps)`, `${perIterationUs.toFixed(2)} µs`],
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  for (const [label, value] of rows) console.log(`  ${label.padEnd(width)}  ${value.padStart(10)}`);

  const round = (x: number) => Math.round(x * 1000) / 1000;
  const result = {
    name: 'interpreter',
    title: `Flow interpreter overhead: a ${N.toLocaleString('en-US')}-iteration loop flow vs plain TypeScript (issue 5)`,
    date: new Date().toISOString(),
    quick,
    machine: {
      cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
      cores: os.cpus().length,
      memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
      os: `${os.type()} ${os.release()}`,
      node: process.version,
      loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    },
    params: { iterations: N, steps, events, repetitions: REPS, warmup: WARMUP, store: 'Dexie on fake-indexeddb' },
    metrics: [
      { key: 'flow', label: 'loop flow through runtime.runFlow', unit: 'ms', value: m.flow, samples: samples.flow.map(round) },
      { key: 'flow.observed', label: 'the same with an observer of every event', unit: 'ms', value: m.observed, samples: samples.observed.map(round) },
      { key: 'floor.plain', label: 'plain async TypeScript function', unit: 'ms', value: m.plain, samples: samples.plain.map(round) },
      { key: 'floor.awaitPerStep', label: 'plain, awaiting once per step', unit: 'ms', value: m.awaited, samples: samples.awaited.map(round) },
      { key: 'ratio.flow/floor.plain', label: 'interpreter / plain', unit: 'x', value: ratio },
      { key: 'ratio.flow/floor.awaitPerStep', label: 'interpreter / plain awaiting per step', unit: 'x', value: m.flow / m.awaited },
      { key: 'overhead.perStep', label: 'overhead per step (µs)', unit: 'µs', value: perStepUs },
      { key: 'overhead.perIteration', label: 'overhead per loop iteration (µs)', unit: 'µs', value: perIterationUs },
    ],
    notes: [
      'Medians of interleaved repetitions after a warm-up; the flow is compiled once (runtime.loadFlow) and not timed.',
      `Each iteration runs a merge, a decision, create variable, change variable (expression), a decision, a merge, change variable, and every 7th time one more change variable: ${steps.toLocaleString('en-US')} steps in all.`,
      'The plain function is the loop a developer would write (no await inside); the await-per-step floor shows how much of the gap is only being async.',
      'Variable steps do not touch the store; the runtime (store, session per run) is real.',
    ],
  };
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}interpreter.json`, JSON.stringify(result, null, 2) + '\n');
  console.log('  → bench/results/interpreter.json');
} finally {
  runtime.close();
}
