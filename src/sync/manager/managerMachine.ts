import { assign, fromPromise, setup, stateIn } from 'xstate';

/**
 * One unit of work of the sync manager: a sync down, a sync up or a ghost cleaning. The
 * manager runs tasks one at a time, in submission order; the task settles its caller's promise.
 */
export interface ManagerTask {
  kind: 'syncDown' | 'syncUp' | 'cleanGhosts';
  /** For messages and inspection, e.g. `reSync openTasks`. */
  label: string;
  /** Aborted by stop(): the task checks it at least between batches. */
  controller: AbortController;
  /**
   * Runs the task; never rejects. Resolves with the settling of the caller's promise, which the
   * manager calls once it has moved on, so a caller who awaits a task sees the manager's new
   * state (e.g. isStopped()).
   */
  execute(signal: AbortSignal): Promise<() => void>;
  /** Settles a task that stop() takes out of the queue before it ran (stopped, or failed for a cleaning). */
  cancelQueued(): Promise<void>;
  /** Settles a task submitted while the manager stops or is stopped: it fails at once. */
  refuse(): void;
}

export interface ManagerContext {
  /** The running task first, then the queued ones. */
  queue: ManagerTask[];
}

export type ManagerEvent =
  | { type: 'SUBMIT'; task: ManagerTask }
  | { type: 'STOP' }
  | { type: 'RESTART' };

/**
 * The sync manager (Salesforce's stop / restart, with a task queue):
 *
 * idle ──SUBMIT──▶ busy.working ──STOP──▶ busy.stopping ──task ends──▶ stopped ──RESTART──▶ idle
 *   └────────────────────STOP──────────────────────────────────────────▶ stopped
 *                                   busy.stopping ──RESTART──▶ busy.restarting ──task ends──▶ idle
 *
 * In busy.working a SUBMIT queues the task; when the running one ends the next starts (busy is
 * re-entered) or the manager goes idle. STOP aborts the running task (it checks between
 * batches and ends as stopped, a ghost cleaning as failed) and settles every queued one without
 * running it. While stopping or stopped, a SUBMIT is refused at once with a typed error.
 */
/** Where the manager goes when the running task ends: restarted, stopped, the next task, or idle. */
const afterTask = [
  { guard: 'restarting', target: 'idle', actions: ['dequeue', 'settle'] },
  { guard: 'stopping', target: 'stopped', actions: ['dequeue', 'settle'] },
  { guard: 'moreQueued', target: 'busy', reenter: true, actions: ['dequeue', 'settle'] },
  { target: 'idle', actions: ['dequeue', 'settle'] },
] as const;

export const managerMachine = setup({
  types: {
    context: {} as ManagerContext,
    events: {} as ManagerEvent,
  },
  actors: {
    runTask: fromPromise<() => void, ManagerTask>(({ input, signal }) => {
      // The machine never stops this actor while it runs, but follow its signal anyway.
      signal.addEventListener('abort', () => input.controller.abort(), { once: true });
      return input.execute(input.controller.signal);
    }),
  },
  actions: {
    enqueue: assign({
      queue: ({ context, event }) => (event.type === 'SUBMIT' ? [...context.queue, event.task] : context.queue),
    }),
    dequeue: assign({ queue: ({ context }) => context.queue.slice(1) }),
    settle: ({ event }) => {
      if ('output' in event && typeof event.output === 'function') (event.output as () => void)();
    },
    refuse: ({ event }) => {
      if (event.type === 'SUBMIT') event.task.refuse();
    },
    abortRunning: ({ context }) => context.queue[0]?.controller.abort(),
    cancelQueued: ({ context }) => {
      for (const task of context.queue.slice(1)) void task.cancelQueued();
    },
    keepRunningOnly: assign({ queue: ({ context }) => context.queue.slice(0, 1) }),
  },
  guards: {
    stopping: stateIn({ busy: 'stopping' }),
    restarting: stateIn({ busy: 'restarting' }),
    moreQueued: ({ context }) => context.queue.length > 1,
  },
}).createMachine({
  id: 'syncManager',
  context: { queue: [] },
  initial: 'idle',
  states: {
    idle: {
      on: {
        SUBMIT: { target: 'busy', actions: 'enqueue' },
        STOP: 'stopped',
      },
    },
    busy: {
      invoke: {
        id: 'task',
        src: 'runTask',
        input: ({ context }) => context.queue[0],
        onDone: afterTask,
        // execute() never rejects; should it, the queue still moves on (`settle` finds no output).
        onError: afterTask,
      },
      initial: 'working',
      states: {
        working: {
          on: {
            SUBMIT: { actions: 'enqueue' },
            STOP: { target: 'stopping', actions: ['abortRunning', 'cancelQueued', 'keepRunningOnly'] },
          },
        },
        stopping: {
          on: {
            SUBMIT: { actions: 'refuse' },
            RESTART: 'restarting',
          },
        },
        // Restart was asked while the stopped task still finishes: accept syncs again once it has.
        restarting: {
          on: {
            SUBMIT: { actions: 'refuse' },
            STOP: 'stopping',
          },
        },
      },
    },
    stopped: {
      on: {
        SUBMIT: { actions: 'refuse' },
        RESTART: 'idle',
      },
    },
  },
});
