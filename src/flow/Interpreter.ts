/**
 * The flow interpreter: runs a validated flow as a step loop over its nodes, with variables,
 * decisions, merges, loops (break / continue), sub-flows, per-activity error handling and
 * observers. It needs no eval: expressions were parsed when the flow loaded.
 */
import { SyncflowError, toSyncflowError, ValidationError, type Problem } from '../errors.ts';
import { newId } from '../model/values.ts';
import type { LocalObject } from '../store/types.ts';
import { ACTIVITIES } from './activities/index.ts';
import type { FlowDebugger } from './FlowDebugger.ts';
import type { ActivityRuntime } from './activities/ActivityKind.ts';
import { rollbackObjects } from './activities/rollback.ts';
import type { Expr } from './expressions/ast.ts';
import { evaluate, type EvalContext } from './expressions/evaluate.ts';
import { parseExpression } from './expressions/parseExpression.ts';
import { ERROR_ENTITY, Types } from './expressions/types.ts';
import type { NodeOf } from './format.ts';
import { checkValue, emptyValueOf, isEntityObject, isRecord, objectsIn } from './runtimeValues.ts';
import type { FlowErrorInfo, FlowEvent, FlowEventInit, FlowHost, FlowObserver, FlowSession, StepOutcome } from './types.ts';
import { isCompiledFlow, loadFlow, validateFlow, type CompiledFlow, type FlowProblem } from './validateFlow.ts';

export interface InterpreterOptions {
  /** The flows Call flow may call, by name (also used to check calls when flows load). */
  flows?: Readonly<Record<string, unknown>> | ((name: string) => unknown);
  /** An observer of every run (more can be added with `onEvent`). */
  onEvent?: FlowObserver;
  /** The clock of `currentDateTime()`. */
  now?: () => Date;
  /** A run fails after this many steps (a guard against endless cycles; default 1,000,000). */
  maxSteps?: number;
  /** Call flow may nest this deep (default 64). */
  maxDepth?: number;
}

export interface RunOptions {
  /** Aborting it stops the flow before its next step (error handlers do not catch this). */
  signal?: AbortSignal;
  /** The app's uncommitted work to run in (default: a new session of the store). */
  session?: FlowSession;
  /** An observer of this run only. */
  onEvent?: FlowObserver;
  /** A step debugger: breakpoints, pause and stepping (the run waits before a step while it is paused). */
  debug?: FlowDebugger;
}

interface LoopState {
  loop: string;
  /** The list as it was when the loop started; removed objects become null and are skipped. */
  items: Array<LocalObject | null>;
  index: number;
}

interface Frame {
  flow: CompiledFlow;
  depth: number;
  vars: Map<string, unknown>;
  loops: LoopState[];
  latestError: (FlowErrorInfo & { id: string; $entity: string }) | null;
  /** What activities of this frame see, made once (activities of a frame run one at a time). */
  activityRuntime?: ActivityRuntime & { nodeId: string };
}

interface Run {
  id: string;
  session: FlowSession;
  signal?: AbortSignal;
  observers: FlowObserver[];
  steps: number;
  frames: Frame[];
  /** Objects this run created or changed: what customWithRollback and a failed run roll back. */
  touched: Map<string, LocalObject>;
  /** Sub-flows by name, resolved once per run (a run sees one version of each). */
  flows: Map<string, CompiledFlow>;
  debug?: FlowDebugger;
}

// Errors thrown because the run's signal aborted: no error handler catches them. Their code,
// 'flow_cancelled', lets apps (and the CLI's exit message) tell a stop from a failure.
const cancellations = new WeakSet<object>();

function cancelled(reason: unknown): SyncflowError {
  const error = new SyncflowError('flow_cancelled', 'The flow run was cancelled', { cause: reason });
  cancellations.add(error);
  return error;
}

const isCancellation = (e: unknown) => typeof e === 'object' && e !== null && cancellations.has(e);

/**
 * Runs flows against a host (offline database, synchronization, the app's actions).
 *
 * @example
 * const interpreter = new Interpreter(host, { flows: { editTaskAndSync } });
 * const stop = interpreter.onEvent((e) => console.log(e.type, 'nodeId' in e ? e.nodeId : ''));
 * const task = await interpreter.run('editTaskAndSync', { task, title: 'New title' });
 * stop();
 */
export class Interpreter {
  private readonly observers = new Set<FlowObserver>();
  private readonly compiled = new WeakMap<object, CompiledFlow>();

  constructor(
    readonly host: FlowHost,
    private readonly options: InterpreterOptions = {},
  ) {
    if (options.onEvent) this.observers.add(options.onEvent);
  }

  /**
   * Adds an observer of every run; returns the function that removes it.
   *
   * @example
   * const off = interpreter.onEvent((e) => { if (e.type === 'syncState') render(e.status); });
   */
  onEvent(observer: FlowObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /**
   * Validates a flow against the host's schema (and the known flows, for Call flow) without
   * throwing: the editor shows `problems` inline.
   *
   * @example
   * const { problems } = interpreter.validate(json);
   */
  validate(flow: unknown): { flow?: CompiledFlow; problems: FlowProblem[] } {
    if (isCompiledFlow(flow)) return { flow, problems: [] };
    return validateFlow(flow, { schema: this.host.schema, resolveFlow: this.options.flows ? (n) => this.lookup(n) : undefined, profiles: this.host.profileNames?.() });
  }

  /**
   * Validates and compiles a flow once (cached per object); throws FlowValidationError.
   *
   * @example
   * const flow = interpreter.load(JSON.parse(text));
   */
  load(flow: unknown): CompiledFlow {
    if (isCompiledFlow(flow)) return flow;
    if (typeof flow === 'object' && flow !== null) {
      const cached = this.compiled.get(flow);
      if (cached) return cached;
    }
    const compiled = loadFlow(flow, { schema: this.host.schema, resolveFlow: this.options.flows ? (n) => this.lookup(n) : undefined, profiles: this.host.profileNames?.() });
    if (typeof flow === 'object' && flow !== null) this.compiled.set(flow, compiled);
    return compiled;
  }

  private lookup(name: string): unknown {
    const flows = this.options.flows;
    if (!flows) return undefined;
    if (typeof flows === 'function') return flows(name);
    return Object.hasOwn(flows, name) ? flows[name] : undefined;
  }

  /** Finds a flow by name: the interpreter's flows first, then the host's loader. */
  async resolve(name: string): Promise<CompiledFlow> {
    // Looked up each time (flows may change while an editor runs them); compiled once per object.
    let raw = this.lookup(name);
    if (raw === undefined && this.host.loadFlow) raw = await this.host.loadFlow(name);
    if (raw === undefined || raw === null) throw new SyncflowError('not_found', `Unknown flow "${name}"`);
    const compiled = this.load(raw);
    if (compiled.name !== name) {
      throw new SyncflowError('flow_invalid', `The flow loaded as "${name}" is named "${compiled.name}"`);
    }
    return compiled;
  }

  /**
   * Runs a flow (by name, as JSON, or compiled) with its parameters and returns its return
   * value. An invalid flow never starts (FlowValidationError); parameters are checked against
   * their types (ValidationError); an error the flow does not handle rejects with that error,
   * after rolling back the uncommitted work the run did. Uncommitted work of a successful run
   * stays in the session (pass `options.session` to keep using it).
   *
   * @example
   * const count = await interpreter.run('openTasksLoop', {});
   * const task = await interpreter.run(flowJson, { task, title: 'Ship it' }, { signal: controller.signal });
   */
  async run(flow: unknown, parameters: Record<string, unknown> = {}, options: RunOptions = {}): Promise<unknown> {
    const compiled = typeof flow === 'string' ? await this.resolve(flow) : this.load(flow);
    const run: Run = {
      id: newId(),
      session: options.session ?? this.host.store.session(),
      signal: options.signal,
      observers: [...this.observers, ...(options.onEvent ? [options.onEvent] : [])],
      steps: 0,
      frames: [],
      touched: new Map(),
      flows: new Map(),
      debug: options.debug,
    };
    try {
      return await this.runFrame(run, compiled, parameters, 0);
    } catch (e) {
      // A failed run leaves no uncommitted work behind (as a failed Mendix microflow rolls back).
      await this.rollbackTouched(run).catch(() => undefined);
      throw e;
    }
  }

  // -- frames ---------------------------------------------------------------------------------

  private async runFrame(run: Run, flow: CompiledFlow, parameters: Record<string, unknown>, depth: number): Promise<unknown> {
    const maxDepth = this.options.maxDepth ?? 64;
    if (depth > maxDepth) throw new SyncflowError('flow_runtime', `Flows call each other more than ${maxDepth} levels deep`);
    const frame: Frame = { flow, depth, vars: new Map(), loops: [], latestError: null };
    const emit = (e: FlowEventInit) => this.emit(run, frame, e);
    let started = false;
    try {
      this.bindParameters(run, frame, parameters);
      run.frames.push(frame);
      started = true;
      emit({ type: 'flowStarted', parameters: Object.fromEntries(frame.vars) });
      const result = await this.steps(run, frame);
      emit({ type: 'flowEnded', result });
      return result;
    } catch (e) {
      const error = toSyncflowError(e);
      if (started) emit({ type: 'flowFailed', error: { type: error.code, message: error.message } });
      throw error;
    } finally {
      if (started) run.frames.pop();
    }
  }

  private bindParameters(run: Run, frame: Frame, given: Record<string, unknown>): void {
    const problems: Problem[] = [];
    const declared = new Map(frame.flow.parameters.map((p) => [p.name, p.type]));
    for (const name of Object.keys(given)) {
      if (!declared.has(name)) problems.push({ path: `parameters.${name}`, message: `flow "${frame.flow.name}" has no such parameter` });
    }
    for (const [name, type] of declared) {
      try {
        const value = checkValue(type, given[name], `parameter "${name}"`);
        frame.vars.set(name, Array.isArray(value) ? value.map((o) => this.current(run, o)) : this.current(run, value));
      } catch (e) {
        problems.push({ path: `parameters.${name}`, message: e instanceof Error ? e.message : String(e) });
      }
    }
    if (problems.length) throw new ValidationError(problems);
  }

  /** The step loop. Returns the flow's return value. */
  private async steps(run: Run, frame: Frame): Promise<unknown> {
    const flow = frame.flow;
    const maxSteps = this.options.maxSteps ?? 1_000_000;
    let id: string | undefined = flow.start;
    while (id !== undefined) {
      if (run.debug) {
        const at = flow.nodes.get(id)!;
        const variables = Object.fromEntries(frame.vars);
        if (frame.latestError) variables.latestError = frame.latestError;
        await run.debug.beforeStep({ flow: flow.name, depth: frame.depth, nodeId: id, nodeType: at.type, variables }, run.signal);
      }
      this.throwIfCancelled(run);
      if (++run.steps > maxSteps) throw new SyncflowError('flow_runtime', `The flow ran more than ${maxSteps} steps (an endless cycle?)`);
      const node = flow.nodes.get(id)!;
      const activityType = node.type === 'activity' ? node.activity.type : undefined;
      const base = { nodeId: id, nodeType: node.type, ...(activityType ? { activityType } : {}) };
      const t0 = Date.now();
      this.emit(run, frame, { type: 'stepStarted', ...base });
      let outcome: StepOutcome = 'ok';
      let next: string | undefined;
      let error: FlowErrorInfo | undefined;
      try {
        switch (node.type) {
          case 'start':
          case 'merge':
            next = this.after(flow, id);
            break;
          case 'end': {
            const value = node.returnValue === undefined ? null : await this.evaluate(run, frame, node.returnValue);
            const result = this.current(run, checkValue(flow.returnType, value, 'the return value'));
            this.emit(run, frame, { type: 'stepEnded', ...base, outcome, durationMs: Date.now() - t0 });
            return result;
          }
          case 'decision':
            next = await this.decide(run, frame, node);
            break;
          case 'loop':
            next = this.iterate(run, frame, node);
            break;
          case 'break': {
            const loop = flow.parentOf.get(id)!;
            this.leaveLoop(frame, loop);
            next = this.exitOf(flow, loop);
            break;
          }
          case 'continue':
            next = flow.parentOf.get(id);
            break;
          case 'activity': {
            const handled = await this.activity(run, frame, node);
            ({ outcome, next, error } = handled);
            break;
          }
        }
      } catch (e) {
        const err = toSyncflowError(e);
        this.emit(run, frame, {
          type: 'stepEnded',
          ...base,
          outcome: 'failed',
          error: { type: err.code, message: err.message },
          ...(node.type === 'activity' ? { errorHandling: node.errorHandling ?? 'abort' } : {}),
          durationMs: Date.now() - t0,
        });
        throw err;
      }
      this.emit(run, frame, {
        type: 'stepEnded',
        ...base,
        outcome,
        ...(next !== undefined ? { next } : {}),
        ...(error ? { error, errorHandling: (node as NodeOf<'activity'>).errorHandling } : {}),
        durationMs: Date.now() - t0,
      });
      id = next;
    }
    // Validation guarantees every path ends at an end node; this is a guard, not a path.
    throw new SyncflowError('internal', `Flow "${flow.name}" stopped without reaching an end node`);
  }

  /** The normal next node; at the end of a loop body's path, the loop (next iteration). */
  private after(flow: CompiledFlow, id: string): string | undefined {
    return flow.next.get(id) ?? flow.parentOf.get(id);
  }

  private exitOf(flow: CompiledFlow, loop: string): string | undefined {
    return flow.loops.get(loop)?.after ?? flow.parentOf.get(loop);
  }

  private async decide(run: Run, frame: Frame, node: NodeOf<'decision'>): Promise<string> {
    const value = (await this.evaluate(run, frame, node.expression)) ?? null;
    const cases = frame.flow.cases.get(node.id) ?? [];
    // Empty takes the null case if there is one, else counts as false (as in every condition).
    const match = cases.find((c) => c.value === value) ?? (value === null ? cases.find((c) => c.value === false) : undefined);
    if (!match) {
      throw new SyncflowError('flow_runtime', `Decision "${node.id}" has no edge for the value ${JSON.stringify(value)}`);
    }
    return match.to;
  }

  private iterate(run: Run, frame: Frame, node: NodeOf<'loop'>): string | undefined {
    let state = frame.loops.at(-1);
    if (!state || state.loop !== node.id) {
      const list = frame.vars.get(node.list) ?? null;
      if (list !== null && !Array.isArray(list)) throw new SyncflowError('flow_runtime', `$${node.list} is not a list`);
      state = { loop: node.id, items: [...((list as LocalObject[] | null) ?? [])], index: 0 };
      frame.loops.push(state);
    } else {
      state.index++;
    }
    while (state.index < state.items.length && state.items[state.index] === null) state.index++;
    if (state.index < state.items.length) {
      this.setVar(run, frame, node.id, node.iterator, this.current(run, state.items[state.index]!));
      return frame.flow.loops.get(node.id)!.entry;
    }
    this.leaveLoop(frame, node.id);
    return this.exitOf(frame.flow, node.id);
  }

  private leaveLoop(frame: Frame, loop: string): void {
    while (frame.loops.length) {
      const state = frame.loops.pop()!;
      if (state.loop === loop) break;
    }
    const node = frame.flow.nodes.get(loop) as NodeOf<'loop'>;
    // The iterator is out of scope after the loop.
    frame.vars.delete(node.iterator);
  }

  // -- activities and error handling ----------------------------------------------------------

  private async activity(
    run: Run,
    frame: Frame,
    node: NodeOf<'activity'>,
  ): Promise<{ outcome: StepOutcome; next?: string; error?: FlowErrorInfo }> {
    const flow = frame.flow;
    const kind = ACTIVITIES[node.activity.type] as { run(a: unknown, r: ActivityRuntime): Promise<void> };
    try {
      await kind.run(node.activity, this.runtime(run, frame, node.id));
      return { outcome: 'ok', next: this.after(flow, node.id) };
    } catch (e) {
      this.throwIfCancelled(run);
      if (isCancellation(e)) throw e;
      const handling = node.errorHandling ?? 'abort';
      const err = toSyncflowError(e);
      if (handling === 'abort') throw err;
      const info = { type: err.code, message: err.message };
      frame.latestError = { ...info, id: newId(), $entity: ERROR_ENTITY };
      this.emit(run, frame, { type: 'variableChanged', nodeId: node.id, name: 'latestError', value: frame.latestError });
      if (handling === 'continue') {
        // Go on as if nothing happened: the activity's outputs are empty.
        for (const name of flow.outputs.get(node.id) ?? []) {
          this.setVar(run, frame, node.id, name, emptyValueOf(flow.variables.get(name) ?? Types.unknown));
        }
        return { outcome: 'continued', next: this.after(flow, node.id), error: info };
      }
      if (handling === 'customWithRollback') await this.rollbackTouched(run);
      return { outcome: 'handled', next: flow.errorNext.get(node.id), error: info };
    }
  }

  private async rollbackTouched(run: Run): Promise<void> {
    const objects = [...run.touched.values()];
    run.touched.clear();
    if (objects.length === 0) return;
    await rollbackObjects(
      {
        session: run.session,
        host: this.host,
        replaceObjects: (o) => this.replaceObjects(run, o),
        removeObjects: (ids) => this.removeObjects(run, ids),
      },
      objects,
    );
  }

  private throwIfCancelled(run: Run): void {
    if (run.signal?.aborted) throw cancelled(run.signal.reason);
  }

  /** What an activity sees of the run. */
  private runtime(run: Run, frame: Frame, nodeId: string): ActivityRuntime {
    if (frame.activityRuntime) {
      frame.activityRuntime.nodeId = nodeId;
      return frame.activityRuntime;
    }
    // Built once per frame, not per step: the closures read the running node from `r.nodeId`.
    const r: ActivityRuntime & { nodeId: string } = {
      host: this.host,
      schema: this.host.schema,
      session: run.session,
      signal: run.signal,
      flow: frame.flow.name,
      nodeId,
      evaluate: (source, extra) => this.evaluate(run, frame, source, extra),
      get: (name) => this.getVar(frame, name),
      set: (name, value) => this.setVar(run, frame, r.nodeId, name, value),
      emit: (e) => this.emit(run, frame, e),
      replaceObjects: (objects) => this.replaceObjects(run, objects, r.nodeId),
      removeObjects: (ids) => this.removeObjects(run, ids, r.nodeId),
      heldObjects: () => this.heldObjects(run),
      touch: (objects) => {
        for (const o of objects) run.touched.set(o.id, o);
      },
      resolve: (entity, id) => this.resolveObject(run, entity, id),
      current: (o) => this.current(run, o),
      callFlow: async (name, parameters) => {
        let flow = run.flows.get(name);
        if (!flow) run.flows.set(name, (flow = await this.resolve(name)));
        return this.runFrame(run, flow, parameters, frame.depth + 1);
      },
    };
    frame.activityRuntime = r;
    return r;
  }

  // -- variables ------------------------------------------------------------------------------

  private getVar(frame: Frame, name: string): unknown {
    if (name === 'latestError') return frame.latestError;
    if (!frame.vars.has(name)) throw new SyncflowError('flow_runtime', `$${name} has no value here`);
    return frame.vars.get(name);
  }

  private setVar(run: Run, frame: Frame, nodeId: string | null, name: string, value: unknown): void {
    const type = frame.flow.variables.get(name) ?? Types.unknown;
    const checked = checkValue(type, value, `$${name}`);
    frame.vars.set(name, checked);
    this.emit(run, frame, { type: 'variableChanged', nodeId, name, value: checked });
  }

  private current<T>(run: Run, value: T): T {
    if (!isEntityObject(value) || !Object.hasOwn(this.host.schema.entities, value.$entity)) return value;
    return (run.session.current(value) ?? value) as T;
  }

  private async resolveObject(run: Run, entity: string, id: string): Promise<LocalObject | null> {
    const held = run.session.uncommitted().find((o) => o.id === id && o.$entity === entity);
    if (held) return this.current(run, held);
    const stored = await this.host.store.get(entity, id);
    return stored ? this.current(run, stored) : null;
  }

  /** Applies `map` to every object held by the run (all frames, lists, loop snapshots); emits the changes. */
  private mapHeld(run: Run, map: (o: LocalObject) => LocalObject | null, nodeId: string | null): void {
    for (const frame of run.frames) {
      for (const [name, value] of frame.vars) {
        let next: unknown = value;
        if (isEntityObject(value)) next = map(value);
        else if (Array.isArray(value)) {
          const mapped = value.map((o) => (isEntityObject(o) ? map(o) : o));
          next = mapped.some((o, i) => o !== value[i]) ? mapped.filter((o) => o !== null) : value;
        }
        if (next !== value) {
          frame.vars.set(name, next);
          // nodeId: the running activity, for its own frame's variables (a caller's node is not the one running).
          this.emit(run, frame, { type: 'variableChanged', nodeId: frame === run.frames.at(-1) ? nodeId : null, name, value: next });
        }
      }
      for (const state of frame.loops) state.items = state.items.map((o) => (o ? map(o) : o));
    }
  }

  private replaceObjects(run: Run, objects: readonly LocalObject[], nodeId: string | null = null): void {
    if (objects.length === 0) return;
    const byId = new Map(objects.map((o) => [o.id, o]));
    this.mapHeld(
      run,
      (o) => {
        const v = byId.get(o.id);
        // A fresh read with the same values is the same version: observers hear only of real changes.
        return v && v.$entity === o.$entity && !sameValues(v, o) ? v : o;
      },
      nodeId,
    );
    for (const o of objects) if (run.touched.has(o.id)) run.touched.set(o.id, o);
  }

  private removeObjects(run: Run, ids: Iterable<string>, nodeId: string | null = null): void {
    const gone = new Set(ids);
    if (gone.size === 0) return;
    this.mapHeld(run, (o) => (gone.has(o.id) ? null : o), nodeId);
  }

  private heldObjects(run: Run): LocalObject[] {
    const out: LocalObject[] = [];
    for (const frame of run.frames) {
      for (const value of frame.vars.values()) out.push(...objectsIn(value));
      for (const state of frame.loops) out.push(...objectsIn(state.items));
    }
    return out.filter((o) => Object.hasOwn(this.host.schema.entities, o.$entity));
  }

  // -- expressions ----------------------------------------------------------------------------

  private async evaluate(run: Run, frame: Frame, source: string, extra: Record<string, unknown> = {}): Promise<unknown> {
    // Every expression was parsed when the flow loaded; parsing here is only a fallback.
    const ast: Expr = frame.flow.expressions.get(source) ?? parseExpression(source);
    const ctx: EvalContext = {
      variable: (name) => (Object.hasOwn(extra, name) ? extra[name] : this.getVar(frame, name)),
      member: (object, name) => this.member(run, object, name),
      now: () => (this.options.now ? this.options.now() : new Date()),
    };
    return evaluate(ast, ctx, source);
  }

  /** `$obj/member`: an attribute's value, or over an association the object it points to. */
  private async member(run: Run, object: Record<string, unknown>, name: string): Promise<unknown> {
    if (isEntityObject(object) && Object.hasOwn(this.host.schema.entities, object.$entity)) {
      const o = this.current(run, object);
      const assoc = this.host.schema.entities[o.$entity].associations[name];
      if (assoc && Object.hasOwn(this.host.schema.entities[o.$entity].associations, name)) {
        const id = o[name];
        return typeof id === 'string' ? this.resolveObject(run, assoc.target, id) : null;
      }
      return Object.hasOwn(o, name) ? (o[name] ?? null) : null;
    }
    // Own members only: `constructor` of a record is not one of its values.
    return isRecord(object) && Object.hasOwn(object, name) ? (object[name] ?? null) : null;
  }

  // -- observers ------------------------------------------------------------------------------

  private emit(run: Run, frame: Frame, init: FlowEventInit): void {
    // Unobserved runs (an app's background flow) skip building events: a step costs microseconds.
    if (run.observers.length === 0) return;
    const event = { ...init, runId: run.id, flow: frame.flow.name, depth: frame.depth } as FlowEvent;
    for (const observer of run.observers) {
      try {
        observer(event);
      } catch (e) {
        // An observer's bug must not change the flow's outcome; the host's log hears of it.
        this.host.log?.('error', `A flow observer failed on ${event.type}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
}

function sameValues(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  if (a === b) return true;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.is(a[k], b[k]));
}

/**
 * Runs one flow with a one-off interpreter.
 *
 * @example
 * const result = await runFlow(host, flowJson, { task }, { onEvent: (e) => trace.push(e) });
 */
export function runFlow(
  host: FlowHost,
  flow: unknown,
  parameters: Record<string, unknown> = {},
  options: RunOptions & InterpreterOptions = {},
): Promise<unknown> {
  const { signal, session, onEvent, ...interpreterOptions } = options;
  return new Interpreter(host, interpreterOptions).run(flow, parameters, { signal, session, onEvent });
}
