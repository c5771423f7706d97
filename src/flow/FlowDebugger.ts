/**
 * A step debugger for the interpreter: breakpoints on nodes, pause / step over / step into /
 * continue, and the variables of the step it stopped at. Pass one to `Interpreter.run` (option
 * `debug`); the interpreter asks it before each step and waits while it is paused. Editors, tests
 * and the CLI (`syncflow run --break node-id`) drive the same object.
 *
 *   run ──▶ breakpoint / pause() ──▶ paused ──┬─ continue()  ──▶ runs to the next breakpoint
 *                                             ├─ stepOver()  ──▶ the next step of this flow (or a caller's)
 *                                             └─ stepInto()  ──▶ the very next step, inside a called flow too
 */

export interface PausedStep {
  /** The flow the step belongs to, and its depth (0: the flow run; 1: a flow it called ...). */
  flow: string;
  depth: number;
  nodeId: string;
  nodeType: string;
  /** Why it stopped here. */
  reason: 'breakpoint' | 'step' | 'pause';
  /** The variables of that flow as they are before the step (`latestError` while it is set). */
  variables: Record<string, unknown>;
}

type Mode = { kind: 'run' } | { kind: 'into' } | { kind: 'over'; depth: number } | { kind: 'pause' };

/**
 * @example
 * const debug = new FlowDebugger({ breakpoints: ['commitTask'] });
 * debug.onPause((at) => { console.log(at.nodeId, at.variables); debug.stepOver(); });
 * await interpreter.run(flow, params, { debug });
 */
export class FlowDebugger {
  /** Node ids (any flow) or `flowName:nodeId`. */
  readonly breakpoints: Set<string>;
  #mode: Mode = { kind: 'run' };
  #paused: PausedStep | null = null;
  #resume: (() => void) | null = null;
  readonly #listeners = new Set<(step: PausedStep | null) => void>();

  constructor(options: { breakpoints?: Iterable<string>; pauseAtStart?: boolean } = {}) {
    this.breakpoints = new Set(options.breakpoints ?? []);
    if (options.pauseAtStart) this.#mode = { kind: 'into' };
  }

  /** Where the run is paused (null while it runs). */
  get paused(): PausedStep | null {
    return this.#paused;
  }

  /** Hears each pause, and `null` when the run goes on; returns the function that stops listening. */
  onPause(listener: (step: PausedStep | null) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops before the next step. */
  pause(): void {
    if (!this.#paused) this.#mode = { kind: 'pause' };
  }

  /** Runs on to the next breakpoint. */
  continue(): void {
    this.#go({ kind: 'run' });
  }

  /** Runs the paused step (a Call flow as a whole) and stops at the next step of this flow, or of its caller once it ends. */
  stepOver(): void {
    if (this.#paused) this.#go({ kind: 'over', depth: this.#paused.depth });
  }

  /** Runs the paused step and stops at the very next one: the first step of a flow it calls. */
  stepInto(): void {
    this.#go({ kind: 'into' });
  }

  /**
   * The interpreter's hook, before each step: resolves at once, or when the user goes on (or the
   * run's signal aborts: the interpreter then stops the run).
   */
  async beforeStep(step: Omit<PausedStep, 'reason'>, signal?: AbortSignal): Promise<void> {
    const reason = this.#reasonToStop(step);
    if (!reason || signal?.aborted) return;
    this.#paused = { ...step, reason };
    this.#mode = { kind: 'run' };
    const resumed = new Promise<void>((resolve) => {
      this.#resume = resolve;
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    this.#tell(this.#paused);
    await resumed;
    this.#paused = null;
    this.#resume = null;
    this.#tell(null);
  }

  #reasonToStop(step: Omit<PausedStep, 'reason'>): PausedStep['reason'] | null {
    const mode = this.#mode;
    if (mode.kind === 'pause') return 'pause';
    if (mode.kind === 'into') return 'step';
    if (mode.kind === 'over' && step.depth <= mode.depth) return 'step';
    if (this.breakpoints.has(step.nodeId) || this.breakpoints.has(`${step.flow}:${step.nodeId}`)) return 'breakpoint';
    return null;
  }

  #go(mode: Mode): void {
    this.#mode = mode;
    this.#resume?.();
  }

  #tell(step: PausedStep | null): void {
    for (const listener of this.#listeners) listener(step);
  }
}
