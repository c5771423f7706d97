import { assign, fromPromise, setup } from 'xstate';

/** A trigger that fired for a profile (or a run asked for by name: trigger `app`). */
export interface Firing {
  profile: string;
  trigger: string;
}

export type SchedulerEvent =
  | { type: 'START' }
  | { type: 'PAUSE' }
  | { type: 'TRIGGER'; firing: Firing }
  | { type: 'CLOSE' };

export interface SchedulerContext {
  /** The run in progress, if any. */
  running: Firing | null;
}

/**
 * The profile scheduler (SPEC §5 triggers):
 *
 * paused ──START──▶ active.idle ──TRIGGER──▶ active.running ──run ends──▶ active.idle
 *    ▲                   │ PAUSE                  │ TRIGGER: skipped (journaled), never queued
 *    └───────────────────┘                        │ PAUSE: the run is aborted, then paused
 * any ──CLOSE──▶ closed (final)
 *
 * Timers (periodic, debounced record changes) run only in `active`: entering it starts them,
 * leaving it stops them, so a stopped sync manager or a closed runtime stops every trigger and
 * a restart resumes them. While paused a firing is skipped too. Timers live outside the
 * machine: the owner provides `runProfile`, `startTimers`, `stopTimers`, `skipBusy` and
 * `skipPaused` with `machine.provide(...)`, so the machine stays a plain graph for the
 * model-based tests.
 */
export const schedulerMachine = setup({
  types: {
    context: {} as SchedulerContext,
    events: {} as SchedulerEvent,
  },
  actors: {
    // Provided by the owner (ProfileManager); this default runs nothing.
    runProfile: fromPromise<unknown, Firing>(async () => undefined),
  },
  actions: {
    startTimers: () => undefined,
    stopTimers: () => undefined,
    skipBusy: () => undefined,
    skipPaused: () => undefined,
  },
}).createMachine({
  id: 'profileScheduler',
  context: { running: null },
  initial: 'paused',
  on: { CLOSE: '.closed' },
  states: {
    paused: {
      on: {
        START: 'active',
        TRIGGER: { actions: 'skipPaused' },
      },
    },
    active: {
      entry: 'startTimers',
      exit: 'stopTimers',
      initial: 'idle',
      on: { PAUSE: 'paused' },
      states: {
        idle: {
          on: {
            TRIGGER: { target: 'running', actions: assign({ running: ({ event }) => event.firing }) },
          },
        },
        running: {
          invoke: {
            id: 'run',
            src: 'runProfile',
            input: ({ context }) => context.running!,
            onDone: { target: 'idle', actions: assign({ running: null }) },
            onError: { target: 'idle', actions: assign({ running: null }) },
          },
          on: { TRIGGER: { actions: 'skipBusy' } },
        },
      },
    },
    closed: { type: 'final', entry: assign({ running: null }) },
  },
});
