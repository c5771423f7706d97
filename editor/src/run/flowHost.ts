/**
 * The flow interpreter's host over an embedded runtime: its offline database, its Synchronize
 * machines and SynchronizationFailures. (When the runtime offers its own FlowHost, this file
 * becomes a call to it.)
 */
import type { FlowHost, LogLevel, MessageType } from '../../../src/flow/types.ts';
import type { Runtime } from '../../../src/runtime/Runtime.ts';
import type { SyncActor } from '../../../src/sync/Synchronizer.ts';

export interface HostHooks {
  /** Each synchronization's machine, as soon as it starts. */
  onActor?(actor: SyncActor): void;
  showMessage?(message: { type: MessageType; text: string }): void;
  log?(level: LogLevel, text: string): void;
  loadFlow?(name: string): Promise<unknown>;
}

export function runtimeHost(runtime: Runtime, hooks: HostHooks = {}): FlowHost {
  return {
    schema: runtime.schema,
    store: runtime.store,
    async synchronize(request, observe) {
      const stop = observe ? runtime.status.subscribe((status) => observe(status)) : undefined;
      try {
        return await runtime.synchronize(request, { onActor: hooks.onActor });
      } finally {
        stop?.();
      }
    },
    listFailures: () => runtime.listFailures(),
    retryFailure: (id) => runtime.retryFailure(id),
    dismissFailure: (id) => runtime.dismissFailure(id),
    showMessage: hooks.showMessage,
    log: hooks.log,
    loadFlow: hooks.loadFlow,
  };
}
