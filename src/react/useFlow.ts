import { useCallback, useRef, useState } from 'react';
import { toSyncflowError } from '../errors.ts';
import type { FlowEvent } from '../flow/index.ts';
import type { RunFlowOptions } from '../runtime/Runtime.ts';
import { useRuntime } from './SyncflowProvider.ts';

export interface FlowRun {
  /** Runs the flow; resolves with its result (and rejects with its error). */
  run(parameters?: Record<string, unknown>, options?: Omit<RunFlowOptions, 'signal'>): Promise<unknown>;
  /** Stops the running flow before its next step. */
  stop(): void;
  running: boolean;
  /** The last step started or ended, or sync state: what the flow is doing now. */
  progress: FlowEvent | null;
  result: unknown;
  error: { code: string; message: string } | null;
}

/**
 * Runs a flow the runtime knows by name (`createRuntime({ flows })` or `registerFlows`) with its
 * progress and result.
 *
 * @example
 * const addTask = useFlow('addTask');
 * <button onClick={() => addTask.run({ title })}>Add</button> {addTask.error?.message}
 */
export function useFlow(name: string): FlowRun {
  const runtime = useRuntime();
  const [state, setState] = useState<Omit<FlowRun, 'run' | 'stop'>>({ running: false, progress: null, result: undefined, error: null });
  const controller = useRef<AbortController | null>(null);
  const run = useCallback(
    async (parameters: Record<string, unknown> = {}, options: Omit<RunFlowOptions, 'signal'> = {}) => {
      const abort = (controller.current = new AbortController());
      setState({ running: true, progress: null, result: undefined, error: null });
      try {
        const result = await runtime.runFlow(name, parameters, {
          ...options,
          signal: abort.signal,
          onEvent: (event) => {
            options.onEvent?.(event);
            setState((s) => ({ ...s, progress: event }));
          },
        });
        setState((s) => ({ ...s, running: false, result }));
        return result;
      } catch (e) {
        const error = toSyncflowError(e);
        setState((s) => ({ ...s, running: false, error: { code: error.code, message: error.message } }));
        throw error;
      }
    },
    [runtime, name],
  );
  const stop = useCallback(() => controller.current?.abort(new Error('stopped')), []);
  return { ...state, run, stop };
}
