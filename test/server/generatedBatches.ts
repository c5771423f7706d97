/**
 * The generated-batch world the differential tests of the upload paths use (uploadPaths.ts,
 * uploadDeleted.ts, batchHandlers.ts, afterCommitBatch.ts): a few objects of alice's and bob's
 * (one deleted), fresh ids for creates, change templates resolved against a world, the batches
 * they draw, batches shaped as a device sends them, and what both paths must answer and store alike.
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

/** Seeds the world `ids` on each server (in turn); answers the batch's changes on it, shaped as planned. */
export async function seededChanges(ids: World, servers: TestServer[], plan: GeneratedBatch): Promise<ChangeRequest[]> {
  for (const server of servers) await seedWorld(server, ids);
  return shaped(plan.changes.map((c) => c(ids)), plan.deviceShaped);
}

/** A generated change as a template: its id and any data value that is a Pick name objects of the world. */
export function changeTemplate({ kind, entity, id, data }: { kind: string; entity: string; id: Pick; data: Record<string, unknown> }): (w: World) => ChangeRequest {
  return (w) => {
    const values = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, typeof v === 'function' ? (v as Pick)(w) : v]));
    return change(kind as 'create' | 'update' | 'delete', entity, id(w), kind === 'delete' ? {} : values);
  };
}

/** A generated batch: who sends it, its changes as templates, and whether it is shaped as a device sends it. */
export interface GeneratedBatch {
  user: 'alice' | 'bob' | 'carol';
  changes: Array<(w: World) => ChangeRequest>;
  deviceShaped: boolean;
}

/** A create, update or delete of `entity` on any object of the world, with `data`. */
const anyChangeOf = (entity: 'Task' | 'Project', data: fc.Arbitrary<Record<string, unknown>>) =>
  fc.record({ kind: fc.constantFrom('create', 'update', 'delete'), entity: fc.constant(entity), id: objectRef, data });

/**
 * Batches of 1 to 8 changes of tasks and projects on any object of the world; three in four
 * shaped as a device sends them (one change per object, deletes last), which the set-based path
 * takes; the others (any order, repeats) go change by change.
 */
export function worldBatches(taskData: fc.Arbitrary<Record<string, unknown>>, projectData: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<GeneratedBatch> {
  return fc.record({
    user: fc.constantFrom('alice' as const, 'bob' as const, 'carol' as const),
    changes: fc.array(fc.oneof(anyChangeOf('Task', taskData), anyChangeOf('Project', projectData)).map(changeTemplate), { minLength: 1, maxLength: 8 }),
    deviceShaped: fc.nat(3).map((n) => n > 0),
  });
}

/** A project a task may refer to: alice's, bob's, or one the batch may create (fresh 0 and 1). */
const projectRef: fc.Arbitrary<Pick> = fc.constantFrom<Pick>(
  (w) => w.aliceProject,
  (w) => w.bobProject,
  (w) => w.fresh[0],
  (w) => w.fresh[1],
);
/** New tasks (most of a device's batch): fresh 2 to 7. */
const freshTask: fc.Arbitrary<Pick> = fc.constantFrom<Pick>(...[2, 3, 4, 5, 6, 7].map((n) => (w: World) => w.fresh[n]));

/**
 * Batches of 2 to 10 changes for the batch-handler tests (a world of 8 fresh ids), mostly new
 * tasks (`newTaskWeight` against 2 for any task change, 2 for any project change and 1 for a new
 * project) with the titles and project names the handlers react to; most shaped as a device sends
 * them (the set-based path takes those), the others go change by change.
 */
export function handlerBatches(o: { titles: string[]; newTitles: string[]; projectNames: string[]; newTaskWeight: number }): fc.Arbitrary<GeneratedBatch> {
  const taskData = fc.record({ title: fc.constantFrom(...o.titles), done: fc.boolean(), project: fc.option(projectRef, { nil: undefined }) }, { requiredKeys: [] });
  const newTaskData = fc.record({ title: fc.constantFrom(...o.newTitles), done: fc.boolean(), project: fc.option(projectRef, { nil: undefined }) }, { requiredKeys: ['title'] });
  const projectData = fc.record({ name: fc.constantFrom(...o.projectNames), archived: fc.boolean() }, { requiredKeys: [] });
  const newProjectData = fc.record({ name: fc.constantFrom('P', 'Fresh'), archived: fc.boolean() }, { requiredKeys: ['name'] });
  const oneChange = fc.oneof(
    { weight: o.newTaskWeight, arbitrary: fc.record({ kind: fc.constant('create'), entity: fc.constant('Task'), id: freshTask, data: newTaskData }) },
    { weight: 2, arbitrary: anyChangeOf('Task', taskData) },
    { weight: 2, arbitrary: anyChangeOf('Project', projectData) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('create'), entity: fc.constant('Project'), id: fc.constantFrom<Pick>((w) => w.fresh[0], (w) => w.fresh[1]), data: newProjectData }) },
  ).map(changeTemplate);
  return fc.record({
    user: fc.constantFrom('alice' as const, 'alice' as const, 'bob' as const, 'carol' as const),
    changes: fc.array(oneChange, { minLength: 2, maxLength: 10 }),
    deviceShaped: fc.nat(4).map((n) => n > 0),
  });
}

/** A batch as a device sends it (one change per object, deletes last) when `deviceShaped`; else as generated. */
export function shaped(changes: ChangeRequest[], deviceShaped: boolean): ChangeRequest[] {
  if (!deviceShaped) return changes;
  const seen = new Set<string>();
  const unique = changes.filter((c) => !seen.has(`${c.entity}:${c.id}`) && !!seen.add(`${c.entity}:${c.id}`));
  return [...unique.filter((c) => c.kind !== 'delete'), ...unique.filter((c) => c.kind === 'delete')];
}

/** Each change's outcome in an upload answer: `applied`, or the failure's reason and message. */
export const statuses = (r: { body: any }): string[] =>
  r.body.results.map((x: any) => (x.status === 'applied' ? 'applied' : `${x.failure.reason}: ${x.failure.message}`));

/** The world's rows as stored (entity, id, owner, data), in key order. */
export async function storedRows(server: TestServer, ids: World): Promise<Array<{ entity: string; id: string; owner: string; data: unknown }>> {
  const { rows } = await server.storage.query<{ entity: string; id: string; owner: string; data: unknown }>(
    `SELECT entity, id::text AS id, owner, data FROM sf_objects WHERE id::text = ANY($1) ORDER BY entity, id`,
    [ids.all()],
  );
  return rows;
}
