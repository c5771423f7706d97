import type { AnyStateMachine, EventObject, SnapshotFrom } from 'xstate';
import { getPathsFromEvents, getShortestPaths, getSimplePaths } from 'xstate/graph';
import { expect } from 'vitest';
import { NetworkError } from '../../src/errors.ts';
import type { SyncActor } from '../../src/sync/Synchronizer.ts';
import type { SyncRequest, SyncResult } from '../../src/sync/types.ts';
import type { TestNetwork } from './TestNetwork.ts';
import type { Device, Elsewhere } from './world.ts';

/** What a generated path asks the replay to do: the states it visits and how it ends. */
export interface PlannedPath {
  name: string;
  /** State values in order, from the initial state to the final one. */
  states: string[];
  /** The invoke whose actor fails on this path (its requests get a network fault), if any. */
  failingActor: string | null;
  /** The state in which CANCEL is sent, if the path cancels. */
  cancelIn: string | null;
}

/** The ids of every `invoke` in a machine, in document order. */
export function invokeIds(machine: AnyStateMachine): string[] {
  const walk = (node: AnyStateMachine['root']): string[] => [
    ...node.invoke.map((i) => i.id),
    ...Object.values(node.states).flatMap((child) => walk(child)),
  ];
  return walk(machine.root);
}

/**
 * Generates every simple path of a Synchronize machine that ends in a final state, from the
 * machine itself (xstate/graph). `outputs` gives, for each of the machine's invoke ids, an
 * output shaped like the real actor's; the events passed to the traversal are each actor's done
 * and error events plus CANCEL. That list replaces the machine's own, so an invoke left out
 * would silently cut every path through its state: it throws instead (a state added to a
 * machine must be added to its model test).
 */
export function planPaths(
  machine: AnyStateMachine,
  request: SyncRequest,
  outputs: Record<string, unknown>,
): PlannedPath[] {
  const ids = invokeIds(machine);
  const missing = ids.filter((id) => !(id in outputs));
  const unknown = Object.keys(outputs).filter((id) => !ids.includes(id));
  if (missing.length || unknown.length) {
    throw new Error(`planPaths(${machine.id}): outputs must list exactly the invoke ids [${ids.join(', ')}]; missing [${missing.join(', ')}], unknown [${unknown.join(', ')}]`);
  }
  const events = [
    ...Object.entries(outputs).flatMap(([id, output]) => [
      { type: `xstate.done.actor.${id}`, output },
      { type: `xstate.error.actor.${id}`, error: new NetworkError('planned fault') },
    ]),
    { type: 'CANCEL' },
  ];
  const paths = getSimplePaths(machine, {
    input: { sync: {} as never, request },
    events: events as never,
    serializeState: (s) => JSON.stringify((s as { value: unknown }).value),
  });
  return paths
    .filter((p) => p.state.status === 'done')
    .map((p) => {
      const states = p.steps.map((s) => String(s.state.value));
      const last = p.steps[p.steps.length - 1].event.type;
      const failing = /^xstate\.error\.actor\.(.+)$/.exec(last)?.[1] ?? null;
      const cancelIn = last === 'CANCEL' ? states[states.length - 2] : null;
      return { name: p.steps.map((s) => `${String(s.state.value)}`).join(' → '), states, failingActor: failing, cancelIn };
    });
}

export interface ReplayHooks {
  /** Asserts what must hold when the machine has just entered `state` (before its first request). */
  check(state: string): Promise<void>;
  /** Makes the named actor of this machine fail for real (e.g. a network fault on its endpoint); called as its state is entered. */
  fail(actorId: string): void;
  /**
   * Takes charge of cancelling in `state` (e.g. once the first file chunk was answered), calling
   * `cancel` itself; answers false to let the replay cancel on entry. Called as the state is entered.
   */
  cancel?(state: string, cancel: () => void): boolean;
}

export interface Replay {
  visited: string[];
  result: SyncResult | null;
  error: unknown;
}

/**
 * Replays a planned path against the real runtime, store and server: injects the fault the
 * path needs, sends CANCEL where it cancels, holds each state's first request until that
 * state's checks have run, and records the states the real machine visited.
 */
export async function replay(device: Device, request: SyncRequest, path: PlannedPath, hooks: ReplayHooks): Promise<Replay> {
  const visited: string[] = [];
  const checks = new Map<string, Promise<void>>();
  let actor: SyncActor | null = null;
  const failures: unknown[] = [];
  const checkOnce = (state: string): Promise<void> => {
    let pending = checks.get(state);
    if (!pending) {
      pending = hooks.check(state);
      pending.catch((e) => failures.push(e));
      checks.set(state, pending);
    }
    return pending;
  };
  device.network.gate = async () => {
    // A request belongs to the state the machine is in: it waits until that state was checked.
    await checkOnce(String(actor!.getSnapshot().value)).catch(() => undefined);
  };
  // The fault starts when the machine enters the failing actor's state, so that earlier states'
  // requests to the same endpoint (e.g. the upload's fetch of refused objects) still succeed.
  const failIn = path.failingActor ? path.states[path.states.length - 2] : null;
  if (failIn === path.states[0]) hooks.fail(path.failingActor!);

  const outcome: Replay = { visited, result: null, error: null };
  try {
    outcome.result = await device.runtime.synchronize(request, {
      onActor: (a) => {
        actor = a;
        a.subscribe((snapshot) => {
          const value = String(snapshot.value);
          const entered = visited.at(-1) !== value;
          if (entered) {
            visited.push(value);
            if (value === failIn && visited.length > 1) hooks.fail(path.failingActor!);
          }
          // States without requests (or final ones) are checked as they are entered.
          void checkOnce(value);
          // Cancel on entry, before the state's actor can get anywhere (the path is
          // deterministic), unless the test cancels at a point of its own inside the state.
          if (entered && path.cancelIn === value && !hooks.cancel?.(value, () => a.send({ type: 'CANCEL' }))) a.send({ type: 'CANCEL' });
        });
      },
    });
  } catch (e) {
    outcome.error = e;
  } finally {
    device.network.gate = null;
    device.network.onResponse = null;
    device.network.clear();
  }
  await Promise.allSettled([...checks.values()]);
  if (failures.length) throw failures[0];
  return outcome;
}

/** A request that sends one chunk of a file's contents (the status GET shares its path). */
export const FILE_CHUNK = /^PUT \/api\/files\/[^/]+\/[^/]+\/uploads\//;

/**
 * Calls `then` once, right after the server answered the first file chunk and before the
 * client sees the answer: the server then holds that chunk, staged, and nothing else has moved.
 */
export function afterFirstChunk(network: TestNetwork, then: () => void): void {
  network.onResponse = () => {
    if (!FILE_CHUNK.test(network.requests.at(-1)!)) return;
    network.onResponse = null;
    then();
  };
}

/** Contents attached offline in the Synchronize machines' model tests: 4-byte chunks make it 7 of them, so an upload can break off midway. */
export const OFFLINE_BODY = 'attached offline, 27 bytes.';
export const CHUNK = 4;
export const text = (s: string) => new TextEncoder().encode(s);
export const decode = (b: Uint8Array | undefined): string | undefined => (b ? new TextDecoder().decode(b) : undefined);

/**
 * The `fail` and `cancel` hooks of the Synchronize machines' model tests: the file upload breaks
 * off after its first chunk reached the server (a network fault, or the user stopping the sync in
 * the middle of the file); any other actor fails before its endpoint, `endpointOf[actor]`.
 */
export function fileUploadFaults(network: TestNetwork, endpointOf: Record<string, RegExp>): Pick<ReplayHooks, 'fail' | 'cancel'> {
  return {
    fail: (actor) => {
      if (actor === 'uploadFiles') afterFirstChunk(network, () => network.always(/\/uploads\//, 'unreachable'));
      else if (endpointOf[actor]) network.always(endpointOf[actor], 'unreachable');
      else throw new Error(`fileUploadFaults: no endpoint for actor ${actor}`);
    },
    cancel: (state, cancel) => {
      if (state !== 'uploadingFiles') return false;
      afterFirstChunk(network, cancel);
      return true;
    },
  };
}

/**
 * The chunks of OFFLINE_BODY the next sync sends after `path` broke off: all of them if it broke
 * off before the file upload, all but the first (staged on the server) if in it, none after it.
 */
export function chunksLeftAfter(path: PlannedPath): number {
  const chunks = Math.ceil(OFFLINE_BODY.length / CHUNK);
  if (path.states.at(-2) === 'uploadingFiles') return chunks - 1;
  return path.states.includes('uploadingFiles') ? 0 : chunks;
}

/** Reads the contents the server holds for an Attachment, as text (null if none). */
export async function serverFile(elsewhere: Elsewhere, id: string): Promise<string | null> {
  return decode((await elsewhere.client.getFile('Attachment', id))?.data) ?? null;
}

/**
 * Contents attached offline (OFFLINE_BODY) to Attachment `id`, followed through a path of a mode
 * that uploads every pending file (all objects, unsynchronized objects): its upload state and the
 * checks both machines' model tests make on it.
 */
export async function offlineAttachment(device: Device, elsewhere: Elsewhere, id: string) {
  const { store } = device.runtime;
  const { uploadId } = (await store.pendingFile('Attachment', id))!;
  const isPending = async () => (await store.pendingFiles()).some((f) => f.id === id);
  /** Bytes of the offline contents the server holds staged (a broken-off upload), 0 if none. */
  const staged = async () => (await elsewhere.client.fileUploadStatus('Attachment', id, uploadId)).offset;
  return {
    isPending,
    /** On the server whole, or still marked; on the device whole either way. */
    async expectWholeOrMarked(): Promise<void> {
      expect((await serverFile(elsewhere, id)) === OFFLINE_BODY).toBe(!(await isPending()));
      expect(decode((await store.getFile('Attachment', id))?.data)).toBe(OFFLINE_BODY);
    },
    /** In uploadingFiles: the objects went first, so the attachment (`name`) is on the server, its contents not yet. */
    async expectObjectBeforeContents(name: string): Promise<void> {
      expect(await store.pendingCount()).toBe(0);
      expect(await elsewhere.get('Attachment', id)).toMatchObject({ name });
      expect(await serverFile(elsewhere, id)).toBeNull();
      expect(await isPending()).toBe(true);
    },
    /** After `path` failed or was cancelled: how far the contents got, by the state it broke off in. */
    async expectBrokenOff(path: PlannedPath, name: string): Promise<void> {
      const brokeIn = path.states.at(-2);
      if (brokeIn === 'uploadingFiles') {
        // the object is confirmed, its contents stay marked; the server holds the first chunk, staged
        expect(await elsewhere.get('Attachment', id)).toMatchObject({ name });
        expect(await isPending()).toBe(true);
        expect(await staged()).toBe(CHUNK);
      } else if (brokeIn === 'uploading') {
        expect(await isPending()).toBe(true);
        expect(await staged()).toBe(0);
      } else {
        expect(await isPending()).toBe(false);
      }
    },
  };
}

/** A generated transition path: the events to send, and the snapshot key expected after each. */
export interface TransitionPath<E extends EventObject> {
  name: string;
  events: E[];
  expected: string[];
}

/**
 * Every transition of a machine whose invoked actors the test stands in for (xstate/graph cannot
 * run them): the shortest path to each state, followed by each event that state accepts (self-loops
 * included). `eventsIn` lists the events a state may take, `xstate.done.actor.<id>` ones included
 * (the list replaces the machine's own); `key` serializes a snapshot (its value, plus what the
 * model depends on); `label` names an event in the path's name.
 */
export function everyTransition<M extends AnyStateMachine, E extends EventObject>(
  machine: M,
  eventsIn: (s: SnapshotFrom<M>) => E[],
  key: (s: SnapshotFrom<M>) => string,
  label: (e: E) => string,
): Array<TransitionPath<E>> {
  const traversal = { events: eventsIn as never, serializeState: key as never };
  const paths: Array<TransitionPath<E>> = [];
  for (const to of getShortestPaths(machine, traversal)) {
    const prefix = to.steps.slice(1).map((s) => s.event as E);
    for (const event of eventsIn(to.state as SnapshotFrom<M>)) {
      const [path] = getPathsFromEvents(machine, [...prefix, event] as never, traversal);
      paths.push({
        name: [...prefix, event].map(label).join(' → ') + ` ⇒ ${key(path.state as SnapshotFrom<M>)}`,
        events: [...prefix, event],
        expected: path.steps.slice(1).map((s) => key(s.state as SnapshotFrom<M>)),
      });
    }
  }
  return paths;
}

/**
 * Lets held requests through one at a time, as a model's "actor done" events say: use `take` as
 * the network's gate for the requests that stand for the actor's work, `release` for the event.
 */
export class Tickets {
  #released = 0;
  #taken = 0;
  #waiting: Array<() => void> = [];
  release(n = 1): void {
    this.#released += n;
    while (this.#waiting.length && this.#taken < this.#released) {
      this.#taken++;
      this.#waiting.shift()!();
    }
  }
  take(): Promise<void> {
    if (this.#taken < this.#released) {
      this.#taken++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
  /** Requests held now. */
  get waiting(): number {
    return this.#waiting.length;
  }
}
