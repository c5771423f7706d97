/**
 * The flow interpreter's host over an embedded runtime: the runtime's own FlowHost
 * (src/runtime/flowHost.ts), under the names the run store uses.
 */
import type { FlowHost } from '../../../src/flow/types.ts';
import { createFlowHost, type RuntimeFlowHostOptions } from '../../../src/runtime/flowHost.ts';
import type { Runtime } from '../../../src/runtime/Runtime.ts';

export type HostHooks = RuntimeFlowHostOptions;

export function runtimeHost(runtime: Runtime, hooks: HostHooks = {}): FlowHost {
  return createFlowHost(runtime, hooks);
}
