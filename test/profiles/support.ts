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
