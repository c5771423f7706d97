import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { demoSchema } from '../../src/demo/schema.ts';
import { defineSchema, type Schema } from '../../src/model/schema.ts';
import type { ProfileOptions } from '../../src/profiles/ProfileManager.ts';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime/Runtime.ts';
import { demoUsers } from '../../src/server/demo.ts';
import type { Device, World } from '../support/world.ts';
import { TestNetwork } from '../support/TestNetwork.ts';

let count = 0;
const opened: Runtime[] = [];

/** The demo schema with Project marked stable (the server's schema is the same; `stable` is device-side metadata). */
export const stableProjectSchema: Schema = defineSchema({
  entities: Object.fromEntries(
    demoSchema.order.map((name) => {
      const e = demoSchema.entities[name];
      return [name, { attributes: { ...e.attributes }, associations: { ...e.associations }, file: e.file, ...(name === 'Project' ? { stable: true } : {}) }];
    }),
  ),
});

/** A device of `user` on the world's server with profiles (and any other runtime options). */
export async function profileDevice(
  world: World,
  options: { user?: string; profiles?: ProfileOptions; schema?: Schema; dbName?: string } & Partial<RuntimeOptions> = {},
): Promise<Device & { dbName: string }> {
  const network = new TestNetwork();
  const user = options.user ?? 'alice';
  const dbName = options.dbName ?? `profiles_${process.pid}_${Date.now().toString(36)}_${++count}`;
  const runtime = await createRuntime({
    ...options,
    schema: options.schema ?? demoSchema,
    serverUrl: world.url,
    token: demoUsers.find((u) => u.id === user)!.token,
    dbName,
    indexedDB,
    IDBKeyRange,
    fetch: network.fetch,
  });
  opened.push(runtime);
  return { runtime, network, dbName };
}

export function closeProfileDevices(): void {
  for (const r of opened.splice(0)) r.close();
}

/** A fake clock for the profile triggers: timers fire only when the test advances time. */
export class ManualClock {
  #now = Date.parse('2030-01-01T00:00:00.000Z');
  #next = 1;
  readonly #timers = new Map<number, { at: number; callback: () => void }>();

  setTimeout = (callback: () => void, ms: number): unknown => {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + ms, callback });
    return id;
  };
  clearTimeout = (handle: unknown): void => void this.#timers.delete(handle as number);
  now = (): number => this.#now;

  /** Timers pending. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time on by `ms`, firing due timers in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const due = [...this.#timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.#now = due[1].at;
      due[1].callback();
    }
    this.#now = end;
  }
}
