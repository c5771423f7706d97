/**
 * The generated-batch world both differential tests of the upload paths use (uploadPaths.ts,
 * batchHandlers.ts): a few objects of alice's and bob's (one deleted), fresh ids for creates,
 * change templates resolved against a world, batches shaped as a device sends them, and the
 * stored rows both paths must leave the same.
 */
import fc from 'fast-check';
import type { ChangeRequest } from '../../src/transport/wire.ts';
import { change, uuid, type TestServer } from './support.ts';

export interface World {
  aliceProject: string;
  bobProject: string;
  aliceTask: string;
  bobTask: string;
  goneTask: string;
  fresh: string[];
  all(): string[];
}

/** New ids for one run, with `fresh` ids for objects the batch may create. */
export function newWorld(fresh = 4): World {
  const w = { aliceProject: uuid(), bobProject: uuid(), aliceTask: uuid(), bobTask: uuid(), goneTask: uuid(), fresh: Array.from({ length: fresh }, uuid) };
  return { ...w, all: () => [w.aliceProject, w.bobProject, w.aliceTask, w.bobTask, w.goneTask, ...w.fresh] };
}

/** An object of the world, chosen before the world exists. */
export type Pick = (w: World) => string;

/** Any object of the world: stored (alice's, bob's), deleted, or new (the first four fresh ids). */
export const objectRef: fc.Arbitrary<Pick> = fc.constantFrom<Pick>(
  (w) => w.aliceProject,
  (w) => w.bobProject,
  (w) => w.aliceTask,
  (w) => w.bobTask,
  (w) => w.goneTask,
  (w) => w.fresh[0],
  (w) => w.fresh[1],
  (w) => w.fresh[2],
  (w) => w.fresh[3],
);

/** Stores the world on a server: alice's archived project and task, bob's project and private task, a deleted task. */
export async function seedWorld(server: TestServer, ids: World): Promise<void> {
  await server.alice.upload([change('create', 'Project', ids.aliceProject, { name: 'alice', archived: true })]);
  await server.bob.upload([
    change('create', 'Project', ids.bobProject, { name: 'bob' }),
    change('create', 'Task', ids.bobTask, { title: 'bob private' }),
  ]);
  await server.alice.upload([
    change('create', 'Task', ids.aliceTask, { title: 'alice task', project: ids.aliceProject }),
    change('create', 'Task', ids.goneTask, { title: 'to delete' }),
  ]);
  await server.alice.upload([change('delete', 'Task', ids.goneTask)]);
}

/** A generated change as a template: its id and any data value that is a Pick name objects of the world. */
export function changeTemplate({ kind, entity, id, data }: { kind: string; entity: string; id: Pick; data: Record<string, unknown> }): (w: World) => ChangeRequest {
  return (w) => {
    const values = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, typeof v === 'function' ? (v as Pick)(w) : v]));
    return change(kind as 'create' | 'update' | 'delete', entity, id(w), kind === 'delete' ? {} : values);
  };
}

/** A batch as a device sends it (one change per object, deletes last) when `deviceShaped`; else as generated. */
export function shaped(changes: ChangeRequest[], deviceShaped: boolean): ChangeRequest[] {
  if (!deviceShaped) return changes;
  const seen = new Set<string>();
  const unique = changes.filter((c) => !seen.has(`${c.entity}:${c.id}`) && !!seen.add(`${c.entity}:${c.id}`));
  return [...unique.filter((c) => c.kind !== 'delete'), ...unique.filter((c) => c.kind === 'delete')];
}

/** The world's rows as stored (entity, id, owner, data), in key order. */
export async function storedRows(server: TestServer, ids: World): Promise<Array<{ entity: string; id: string; owner: string; data: unknown }>> {
  const { rows } = await server.storage.query<{ entity: string; id: string; owner: string; data: unknown }>(
    `SELECT entity, id::text AS id, owner, data FROM sf_objects WHERE id::text = ANY($1) ORDER BY entity, id`,
    [ids.all()],
  );
  return rows;
}
