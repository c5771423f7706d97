/**
 * What the flow interpreter needs from its surroundings (FlowHost), and what it reports
 * (FlowEvent). The runtime implements FlowHost over its store and synchronizer; tests use a
 * small one of their own.
 */
import type { Schema } from '../model/schema.ts';
import type { SyncState } from '../model/syncState.ts';
import type { ProfileRunResult } from '../profiles/runProfile.ts';
import type { LocalStore } from '../store/LocalStore.ts';
import type { Session } from '../store/Session.ts';
import type { SyncRequest, SyncResult, SyncStatus } from '../sync/types.ts';
import type { SynchronizationFailure } from '../transport/wire.ts';
import type { ErrorHandling, Flow } from './format.ts';

/** A unit of uncommitted work: the store's Session (objects are immutable; a change gives a new version). */
export type FlowSession = Session;

/** The part of the LocalStore the interpreter uses (`getMany`: re-reading held objects after a sync). */
export type FlowStore = Pick<LocalStore, 'get' | 'getMany' | 'query' | 'count' | 'follow' | 'referrers' | 'session'>;

/** A JavaScript action registered by the app. `signal` aborts with the flow. */
export type JavaScriptAction = (
  args: Record<string, unknown>,
  context: { signal?: AbortSignal; flow: string },
) => unknown | Promise<unknown>;

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';
export type MessageType = 'info' | 'warning' | 'error';

/**
 * The interpreter's host: the offline database, synchronization, SynchronizationFailures,
 * the app's JavaScript actions and message handler, and sub-flow loading.
 */
export interface FlowHost {
  /** The app's data model (entities, attributes, associations). */
  schema: Schema;
  store: FlowStore;
  /** Runs one synchronization; rejects with SimultaneousSyncError, NetworkError, ServerError, ... */
  synchronize(request: SyncRequest, observe?: (status: SyncStatus) => void): Promise<SyncResult>;
  listFailures?(): Promise<SynchronizationFailure[]>;
  /** Asks the server to apply a failed change again; a `ChangeResult` tells whether it was applied. */
  retryFailure?(id: string): Promise<unknown>;
  dismissFailure?(id: string): Promise<void>;
  /**
   * Runs a named sync incrementally (by name or id); resolves with its final state. `observe`
   * hears the sync manager's states and the run's progress while it works.
   */
  reSync?(idOrName: string, observe?: (status: SyncStatus) => void): Promise<SyncState>;
  /** Removes a named sync down's ghosts; resolves with how many objects were removed. `observe` as for reSync. */
  cleanResyncGhosts?(idOrName: string, observe?: (status: SyncStatus) => void): Promise<number>;
  /**
   * Runs a sync profile by name; resolves with its result whatever the outcome (refused and
   * skipped included). Aborting `signal` (the flow's run stopped) stops the profile run at its
   * next consistent point (outcome `stopped`).
   */
  runProfile?(name: string, options?: { signal?: AbortSignal }): Promise<ProfileRunResult>;
  /** The app's profile names, or undefined while it has none: a Run profile naming another one does not load. */
  profileNames?(): readonly string[] | undefined;
  actions?: Record<string, JavaScriptAction>;
  showMessage?(message: { type: MessageType; text: string }): void | Promise<void>;
  log?(level: LogLevel, text: string): void;
  /** The user the app runs for: a Retrieve constraint value '[%CurrentUser%]' stands for it. */
  currentUser?: string | null;
  /** Loads a flow by name, for Call flow (when the interpreter was not given it). */
  loadFlow?(name: string): Promise<Flow | unknown>;
}

/** An error as a flow sees it in `$latestError`. */
export interface FlowErrorInfo {
  /** The error's code, e.g. `simultaneous_sync`, `network`, `validation_failed`. */
  type: string;
  message: string;
}

interface EventBase {
  /** One id per top-level run; sub-flows share their caller's. */
  runId: string;
  /** The flow this event comes from (a sub-flow's name inside Call flow). */
  flow: string;
  /** 0 for the flow that was run, 1 for a flow it called, ... */
  depth: number;
}

export type StepOutcome = 'ok' | 'failed' | 'handled' | 'continued';

/** What an observer sees while a flow runs. */
export type FlowEvent = EventBase &
  (
    | { type: 'flowStarted'; parameters: Record<string, unknown> }
    | { type: 'stepStarted'; nodeId: string; nodeType: string; activityType?: string }
    | {
        type: 'stepEnded';
        nodeId: string;
        nodeType: string;
        activityType?: string;
        outcome: StepOutcome;
        /** The node the flow goes on with (absent after an end node or a failure). */
        next?: string;
        error?: FlowErrorInfo;
        errorHandling?: ErrorHandling;
        durationMs: number;
      }
    | { type: 'variableChanged'; nodeId: string | null; name: string; value: unknown }
    | { type: 'syncState'; nodeId: string; status: SyncStatus }
    | { type: 'message'; nodeId: string; messageType: MessageType; text: string }
    | { type: 'log'; nodeId: string; level: LogLevel; text: string }
    | { type: 'flowEnded'; result: unknown }
    | { type: 'flowFailed'; error: FlowErrorInfo }
  );

export type FlowEventType = FlowEvent['type'];
export type FlowObserver = (event: FlowEvent) => void;

/** Distributes `Omit` over the event union (a plain Omit would merge the variants). */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event as an activity emits it; the interpreter adds runId, flow and depth. */
export type FlowEventInit = DistributiveOmit<FlowEvent, keyof EventBase>;
