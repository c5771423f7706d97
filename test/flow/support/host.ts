/**
 * A FlowHost for interpreter tests: the real offline store (fake-indexeddb) and a synchronize
 * that records each request and answers what the test says (the lead's end-to-end tests use
 * the real sync machines and server).
 */
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { demoSchema } from '../../../src/demo/schema.ts';
import { Interpreter, type InterpreterOptions } from '../../../src/flow/Interpreter.ts';
import type { FlowEvent, FlowHost, LogLevel, MessageType } from '../../../src/flow/types.ts';
import { newId, type Values } from '../../../src/model/values.ts';
import type { LocalStore } from '../../../src/store/LocalStore.ts';
import { openStore } from '../../../src/store/openStore.ts';
import type { LocalObject } from '../../../src/store/types.ts';
import type { SyncRequest, SyncResult, SyncStatus } from '../../../src/sync/types.ts';
import type { SynchronizationFailure } from '../../../src/transport/wire.ts';
import { failureFixture } from '../../support/failures.ts';

export type SyncHandler = (request: SyncRequest, observe?: (status: SyncStatus) => void) => Promise<Partial<SyncResult>>;

export interface TestWorld {
  store: LocalStore;
  host: FlowHost;
  /** Every request the flow's Synchronize activities made. */
  syncRequests: SyncRequest[];
  /** What the next synchronizations do (default: report two machine states and succeed). */
  onSync: SyncHandler;
  /** What retrying a failure answers (default: applied, and the failure is gone). */
  onRetry: (id: string) => Promise<unknown>;
  messages: Array<{ type: MessageType; text: string }>;
  logs: Array<[LogLevel, string]>;
  events: FlowEvent[];
  interpreter(options?: InterpreterOptions): Interpreter;
  /** Creates and commits an object. */
  seed(entity: string, values: Values): Promise<LocalObject>;
  failure(values?: Partial<SynchronizationFailure>): SynchronizationFailure;
}

export const status = (machineState: string | null, extra: Partial<SyncStatus> = {}): SyncStatus => ({
  running: machineState !== null,
  mode: 'all',
  phase: null,
  entity: null,
  done: 0,
  total: null,
  machineState,
  lastResult: null,
  lastError: null,
  ...extra,
});

export function syncResult(request: SyncRequest, extra: Partial<SyncResult> = {}): SyncResult {
  return { mode: request.mode, uploaded: 0, downloaded: 0, removed: 0, failed: 0, failures: [], skipped: [], removedIds: [], ...extra };
}

export async function makeWorld(): Promise<TestWorld> {
  const store = await openStore({ schema: demoSchema, name: `flow-test-${newId()}`, indexedDB, IDBKeyRange });
  const world: TestWorld = {
    store,
    syncRequests: [],
    onSync: async (request, observe) => {
      observe?.(status('uploading', { mode: request.mode, phase: 'upload' }));
      observe?.(status('downloading', { mode: request.mode, phase: 'download' }));
      return {};
    },
    onRetry: async (id) => {
      await store.deleteFailure(id);
      return { changeId: 'c', status: 'applied', object: null };
    },
    messages: [],
    logs: [],
    events: [],
    host: undefined as unknown as FlowHost,
    interpreter: (options = {}) => new Interpreter(world.host, { ...options, onEvent: (e) => world.events.push(e) }),
    seed: async (entity, values) => {
      const session = store.session();
      const [saved] = await session.commit(session.create(entity, values));
      return saved;
    },
    failure: failureFixture,
  };
  world.host = {
    schema: demoSchema,
    store,
    synchronize: async (request, observe) => {
      world.syncRequests.push(request);
      return syncResult(request, await world.onSync(request, observe));
    },
    listFailures: () => store.listFailures(),
    retryFailure: (id) => world.onRetry(id),
    dismissFailure: (id) => store.deleteFailure(id),
    showMessage: (m) => void world.messages.push(m),
    log: (level, text) => void world.logs.push([level, text]),
  };
  return world;
}

/** The problems of a flow (for activity checks), as `path: message` lines. */
export function problemLines(world: TestWorld, flow: unknown): string[] {
  return world.interpreter().validate(flow).problems.map((p) => `${p.nodeId ?? ''} ${p.path}: ${p.message}`);
}
