/**
 * What `syncflow run` prints while a flow runs: one line per step (outcome, node id, kind,
 * label, duration), the flow's messages and logs, and the running synchronization's progress:
 * a cli-progress bar on a terminal, a line per machine state / phase / entity otherwise (logs
 * and CI keep a readable record instead of redraw codes). Steps, messages and the result go to
 * `out`; progress and errors to `err`, so `out` can be piped.
 */
import cliProgress from 'cli-progress';
import type { FlowEvent } from '../flow/types.ts';
import type { SyncStatus } from '../sync/types.ts';

export interface ReporterOptions {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream & { isTTY?: boolean };
  /** The caption of a node, by flow name and node id (the step's label). */
  captionOf(flow: string, nodeId: string): string | undefined;
  /** Column widths of node ids, kinds and labels (default: 16, 20, 28). */
  widths?: { id: number; kind: number; label: number };
  /** Print no steps (messages, logs, progress and the result still print). */
  quiet?: boolean;
  /** Draw a progress bar (default: when `err` is a terminal). */
  bar?: boolean;
}

export class RunReporter {
  readonly #drawBar: boolean;
  #bar: cliProgress.SingleBar | null = null;
  /** The node whose synchronization is on screen, its latest status, and what was last printed of it. */
  #syncNode: string | null = null;
  #status: SyncStatus | null = null;
  #lastLine = '';
  #lastKey = '';

  constructor(private readonly options: ReporterOptions) {
    this.#drawBar = options.bar ?? Boolean(options.err.isTTY);
  }

  /** The flow observer. */
  readonly onEvent = (event: FlowEvent): void => {
    switch (event.type) {
      case 'stepEnded': {
        if (event.nodeId === this.#syncNode) this.#endSync();
        if (this.options.quiet) return;
        const kind = event.activityType ?? event.nodeType;
        const label = this.options.captionOf(event.flow, event.nodeId) ?? '';
        const outcome = event.outcome === 'ok' ? 'ok' : event.outcome === 'failed' ? 'FAILED' : event.outcome;
        const w = this.options.widths ?? { id: 16, kind: 20, label: 28 };
        let line = `${indent(event.depth)}${outcome.padEnd(9)} ${event.nodeId.padEnd(w.id)} ${kind.padEnd(w.kind)} ${label.padEnd(w.label)} ${formatMs(event.durationMs).padStart(8)}`;
        if (event.nodeType === 'decision' && event.next) line += `  -> ${event.next}`;
        if (event.error) line += `  ${event.error.type}: ${event.error.message}`;
        this.#print(line.trimEnd());
        return;
      }
      case 'syncState':
        this.#syncState(event.nodeId, event.status);
        return;
      case 'message':
        this.#print(`${indent(event.depth)}message (${event.messageType}): ${event.text}`);
        return;
      case 'log':
        this.#print(`${indent(event.depth)}log (${event.level}): ${event.text}`);
        return;
      case 'flowStarted':
        if (event.depth > 0 && !this.options.quiet) this.#print(`${indent(event.depth)}call ${event.flow}`);
        return;
      default:
        return;
    }
  };

  /** Stops a bar left drawing (the run ended inside a synchronization). */
  close(): void {
    this.#endSync();
  }

  #print(line: string): void {
    // A line printed while the bar draws would be overwritten: the bar stops and restarts below it.
    const bar = this.#bar;
    if (bar) bar.stop();
    this.options.out.write(`${line}\n`);
    if (bar) {
      this.#bar = null;
      this.#startBar();
    }
  }

  #syncState(nodeId: string, status: SyncStatus): void {
    if (this.#syncNode !== nodeId) {
      this.#endSync();
      this.#syncNode = nodeId;
    }
    this.#status = status;
    if (this.#drawBar) {
      if (!this.#bar) this.#startBar();
      else {
        this.#bar.setTotal(status.total ?? 0);
        this.#bar.update(status.done, barPayload(status));
      }
      return;
    }
    // Without a terminal: a line when the state, phase or entity changes, when a count completes,
    // and one when the machine has ended (with its result or error).
    if (!status.running) {
      if (status.lastResult || status.lastError) this.#line(progressLine(status));
      return;
    }
    const key = `${status.machineState}|${status.phase}|${status.entity}`;
    const complete = status.total !== null && status.total > 0 && status.done >= status.total;
    if (key !== this.#lastKey || complete) this.#line(progressLine(status));
    this.#lastKey = key;
  }

  #line(line: string): void {
    if (line === this.#lastLine) return;
    this.options.err.write(`${line}\n`);
    this.#lastLine = line;
  }

  #startBar(): void {
    const status = this.#status;
    if (!status) return;
    this.#bar = new cliProgress.SingleBar(
      {
        stream: this.options.err,
        format: '  sync {mode} [{bar}] {count} {detail}',
        barsize: 24,
        hideCursor: null,
        emptyOnZero: true,
        // A bar that was redrawn in place would be lost in a non-terminal: draw only on a terminal.
        noTTYOutput: !this.options.err.isTTY,
        notTTYSchedule: 250,
      },
      cliProgress.Presets.shades_classic,
    );
    this.#bar.start(status.total ?? 0, status.done, barPayload(status));
  }

  #endSync(): void {
    if (this.#bar) {
      if (this.#status) this.#bar.update(this.#status.done, barPayload(this.#status));
      this.#bar.stop();
    }
    this.#bar = null;
    this.#syncNode = null;
    this.#status = null;
    this.#lastKey = '';
    this.#lastLine = '';
  }
}

function barPayload(status: SyncStatus): Record<string, string> {
  return {
    mode: status.mode ?? '',
    count: `${status.done}/${status.total ?? '?'}`,
    // While running: the machine's state, phase and entity; once ended: its result or error.
    detail: status.running
      ? [status.machineState, status.phase, status.entity].filter(Boolean).join(' ')
      : progressLine(status).replace(/^ {2}sync \S*: /, ''),
  };
}

/** `  sync all: downloading  download Task 8/20`; at the end `  sync all: done: 0 uploaded, 14 downloaded, ...` */
export function progressLine(status: SyncStatus): string {
  const head = `  sync ${status.mode ?? ''}: ${status.machineState ?? ''}`;
  if (!status.running) {
    const r = status.lastResult;
    if (r) return `${head}: ${r.uploaded} uploaded, ${r.downloaded} downloaded, ${r.removed} removed, ${r.failed} failed`;
    if (status.lastError) return `${head}: ${status.lastError.code}: ${status.lastError.message}`;
    return head;
  }
  return status.phase ? `${head}  ${status.phase}${status.entity ? ` ${status.entity}` : ''} ${status.done}/${status.total ?? '?'}` : head;
}

function indent(depth: number): string {
  return '  '.repeat(depth + 1);
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`;
}
