import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { formatMs, formatRatio } from './stats.ts';

/**
 * The machine-readable result of one bench file, written to bench/results/<name>.json;
 * bench/run.ts turns the latest full run's files into bench/RESULTS.md.
 */
export interface BenchResult {
  /** The bench file's name without `.bench.ts`. */
  name: string;
  title: string;
  date: string;
  quick: boolean;
  machine: MachineInfo;
  /** Sizes, repetitions and whatever else the figures depend on. */
  params: Record<string, unknown>;
  metrics: Metric[];
  /** What the reader must know to read the figures honestly. */
  notes: string[];
}

export interface Metric {
  /** A stable key, e.g. `protocol`, `floor.http`, `ratio.protocol/floor.http`. */
  key: string;
  label: string;
  /** Known units are formatted; any other is printed after the value as it is. */
  unit: 'ms' | 'µs' | 'MiB' | 'x' | 'count' | (string & {});
  /** The median for timings; the figure itself otherwise. */
  value: number;
  /** Each repetition's figure (timings). */
  samples?: number[];
  /** A bound the figure must stay under (`value <= max`). */
  target?: { max: number; description: string };
  pass?: boolean;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  postgres?: string;
  chromium?: string;
  loadAverage: number[];
}

export function machineInfo(extra: { postgres?: string; chromium?: string } = {}): MachineInfo {
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    ...extra,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** Chromium's version, or undefined when it is not installed. */
export function chromiumVersion(path = '/usr/bin/chromium'): string | undefined {
  try {
    return execFileSync(path, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

/** A timing metric from samples (value = median). */
export function timing(key: string, label: string, samples: number[], median: number): Metric {
  return { key, label, unit: 'ms', value: median, samples: samples.map((s) => Math.round(s * 10) / 10) };
}

/** A ratio metric, optionally against a target. */
export function ratio(key: string, label: string, value: number, target?: { max: number; description: string }): Metric {
  return { key, label, unit: 'x', value, ...(target ? { target, pass: value <= target.max } : {}) };
}

export function formatValue(m: Metric): string {
  switch (m.unit) {
    case 'ms':
      return formatMs(m.value);
    case 'x':
      return formatRatio(m.value);
    case 'MiB':
      return `${m.value.toFixed(0)} MiB`;
    case 'count':
      return m.value.toLocaleString('en-US');
    case 'µs':
      return `${m.value.toFixed(2)} µs`;
    default:
      return `${Number(m.value.toPrecision(4)).toLocaleString('en-US')} ${m.unit}`;
  }
}

export function verdict(m: Metric): string {
  if (!m.target) return '';
  return `${m.pass ? 'PASS' : 'OVER TARGET'} (target ${m.target.description})`;
}

/** Prints the result as a table and writes bench/results/<name>.json. */
export function report(result: BenchResult): void {
  const rows = result.metrics.map((m) => {
    const spread =
      m.samples && m.samples.length > 1
        ? `${formatValue({ ...m, value: Math.min(...m.samples) })} … ${formatValue({ ...m, value: Math.max(...m.samples) })}`
        : '';
    return [m.label, formatValue(m), spread, verdict(m)];
  });
  const head = ['', result.metrics.some((m) => m.samples) ? 'median' : 'value', 'range (min … max)', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 1 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  console.log(`\n${result.title}${result.quick ? ' (--quick)' : ''}`);
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  for (const note of result.notes) console.log(`  * ${note}`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(`${RESULTS_DIR}${result.name}.json`, JSON.stringify(result, null, 2) + '\n');
  console.log(`  → bench/results/${result.name}.json`);
}
