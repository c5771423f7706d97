/**
 * Apps that are not the demo: generated schemas (entity and member names a JavaScript object or
 * SQL might trip on — `constructor`, `toString`, `then`, `data`, `entity`, `Id` — every attribute
 * type, self and cyclic associations) with generated objects at the edges of each type, through a
 * real sync server and two devices of one user. What one device writes, the other reads back
 * unchanged; updates, cleared values and deletes travel too; a constraint selects the same
 * objects on the device and on the server.
 */
import fc from 'fast-check';
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Constraint } from '../../src/model/constraint.ts';
import { SchemaError } from '../../src/errors.ts';
import { defineSchema, type Schema } from '../../src/model/schema.ts';
import type { Values } from '../../src/model/values.ts';
import { createRuntime, type Runtime } from '../../src/runtime/Runtime.ts';
import { createSyncServer, type Storage } from '../../src/server/index.ts';
import type { LocalObject } from '../../src/store/types.ts';
import { fuzzParameters } from '../support/fuzz.ts';
import {
  appPlanOf,
  AWKWARD_MEMBER_NAMES,
  OBJECT_PROPERTY_NAMES,
  objectCounts,
  objectsOf,
  schemaInputOf,
  valueOf,
  type AppPlan,
  type MemberPlan,
} from '../support/generatedApps.ts';
import { closeSharedStorage, sharedStorage } from '../support/world.ts';

const appPlan = appPlanOf([...OBJECT_PROPERTY_NAMES, ...AWKWARD_MEMBER_NAMES], 6);

const isObjectProperty = (m: MemberPlan) => OBJECT_PROPERTY_NAMES.includes(m.name);

/** defineSchema refuses the plan as drawn exactly for its members named like Object properties. */
function expectRefused(plan: AppPlan): void {
  const expected = plan.entities.flatMap((e) =>
    e.members.filter(isObjectProperty).map((m) => `entities.${e.name}.${m.kind === 'association' ? 'associations' : 'attributes'}.${m.name}`),
  );
  let problems: Array<{ path: string; message: string }> = [];
  try {
    schemaOf(plan, false);
  } catch (e) {
    if (!(e instanceof SchemaError)) throw e;
    problems = e.problems;
  }
  expect(problems.map((p) => p.path).sort()).toEqual(expected.sort());
  for (const p of problems) expect(p.message).toMatch(/property of every JavaScript object/);
}

/** The plan with those members renamed (`toString` -> `toString_`), as an app maker would. */
function renamed(plan: AppPlan): AppPlan {
  const rename = (m: MemberPlan) => (isObjectProperty(m) ? { ...m, name: `${m.name}_` } : m);
  return { entities: plan.entities.map((e) => ({ ...e, members: e.members.map(rename), added: rename(e.added) })) };
}

/** The app's schema; with `next`, its next version (every entity has its added member). */
const schemaOf = (plan: AppPlan, next: boolean): Schema => defineSchema(schemaInputOf(plan, next));

/** Objects to create (ids made up front, so associations can point at any of them, cycles too). */
function objectsWithIds(plan: AppPlan): fc.Arbitrary<Array<{ entity: number; id: string; values: Values }>> {
  return objectCounts(plan)
    .chain((counts) => objectsOf(plan, counts.map((n) => Array.from({ length: n }, () => crypto.randomUUID()))))
    .map((objects) => objects.map(({ entity, ref, values }) => ({ entity, id: ref, values: values as Values })));
}

/** A constraint on one member of an entity, with an operator and value fit for its type. */
function constraintOf(plan: AppPlan, entity: number): fc.Arbitrary<Constraint> {
  const members = plan.entities[entity].members;
  return fc.constantFrom(...members).chain((m): fc.Arbitrary<Constraint> => {
    const value = valueOf({ ...m, required: false }, plan.entities.map(() => [crypto.randomUUID()]));
    const ops = m.kind === 'string' ? (['eq', 'ne', 'lt', 'gte', 'contains', 'startsWith'] as const)
      : m.kind === 'association' || m.kind === 'boolean' ? (['eq', 'ne'] as const)
      : (['eq', 'ne', 'lt', 'lte', 'gt', 'gte'] as const);
    return fc.record({ op: fc.constantFrom(...ops), value }).map(({ op, value: v }) =>
      (op === 'contains' || op === 'startsWith') && v === null ? { attribute: m.name, op: 'eq', value: null } : ({ attribute: m.name, op, value: v } as Constraint),
    );
  });
}

/** What an object holds for the app: members and system attributes, nothing of the store's own. */
const plain = (o: LocalObject | undefined | null) => (o ? Object.fromEntries(Object.entries(o).filter(([k]) => !k.startsWith('$'))) : o);

let storage: Storage;
let n = 0;
const run = `${process.pid}_${Date.now().toString(36)}`;
beforeAll(async () => void (storage = await sharedStorage()), 120_000);
afterAll(closeSharedStorage);

/**
 * A server for a generated app (its own SQL schema), one user with two devices. `restart` stops
 * everything and starts the app's next version over the same server data and device databases.
 */
async function startApp(first: Schema) {
  const app = `gen_${run}_${++n}`;
  const own = await storage.withSchema(app);
  const access = (schema: Schema) => Object.fromEntries(schema.order.map((e) => [e, { read: [{ scope: 'own' as const }], write: [{ scope: 'own' as const }] }]));
  let schema = first;
  let server = await createSyncServer({ schema, storage: own, access: access(schema), users: [{ id: 'ann', token: 'ann-secret-token', roles: [] }] });
  let url = await server.listen({ port: 0 });
  let devices: Runtime[] = [];
  /** Device `k` of the user (its database kept across restarts). */
  const device = async (k: number) => {
    const r = await createRuntime({ schema, serverUrl: url, token: 'ann-secret-token', dbName: `${app}_${k}`, indexedDB, IDBKeyRange });
    devices.push(r);
    return r;
  };
  const close = async () => {
    for (const d of devices) d.close();
    devices = [];
    await server.close();
  };
  const restart = async (next: Schema) => {
    await close();
    schema = next;
    server = await createSyncServer({ schema, storage: own, access: access(schema) });
    url = await server.listen({ port: 0 });
  };
  /** The ids of the objects the server selects with a constraint (through the download cursor). */
  const serverIds = async (entity: string, constraint: Constraint): Promise<string[]> => {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await fetch(`${url}/api/download`, {
        method: 'POST',
        headers: { authorization: 'Bearer ann-secret-token', 'content-type': 'application/json' },
        body: JSON.stringify({ entity, constraint, cursor, limit: 1000 }),
      });
      const body = (await res.json()) as { objects: Array<{ id: string }>; cursor: string | null };
      expect(res.status, JSON.stringify(body)).toBe(200);
      ids.push(...body.objects.map((o) => o.id));
      cursor = body.cursor;
    } while (cursor);
    return ids.sort();
  };
  return { device, close, restart, serverIds };
}

/** Every object of the app on a device, by entity, as the app sees them. */
async function contents(runtime: Runtime, schema: Schema) {
  const out: Record<string, unknown[]> = {};
  for (const e of schema.order) out[e] = (await runtime.store.query(e, { sort: [['id', 'asc']] })).map(plain);
  return out;
}

describe('generated apps: odd names, every type, edge values', () => {
  it('round-trips creates, updates, cleared values and deletes between two devices, and constraints select alike', async () => {
    const scenario = appPlan.chain((drawn) => {
      const plan = renamed(drawn);
      return fc.record({
        drawn: fc.constant(drawn),
        plan: fc.constant(plan),
        objects: objectsWithIds(plan),
        edits: objectsWithIds(plan),
        deletes: fc.array(fc.nat(), { maxLength: 3 }),
        constraints: fc.array(fc.nat({ max: plan.entities.length - 1 }).chain((e) => constraintOf(plan, e).map((c) => ({ entity: e, c }))), { minLength: 1, maxLength: 3 }),
        addedValues: fc.tuple(...plan.entities.map((e) => valueOf(e.added, plan.entities.map(() => [])))),
      });
    });
    let objectsSynced = 0;
    let refusedPlans = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async ({ drawn, plan, objects, edits, deletes, constraints, addedValues }) => {
        expectRefused(drawn);
        if (drawn.entities.some((e) => e.members.some(isObjectProperty))) refusedPlans++;
        const schema = schemaOf(plan, false);
        const app = await startApp(schema);
        try {
          const a = await app.device(0);
          const b = await app.device(1);
          const names = plan.entities.map((e) => e.name);

          // Device A creates every object in one commit (references in any order, cycles too).
          const sa = a.session();
          const made = objects.map((o) => sa.create(names[o.entity], {}));
          // create() makes its own ids: point associations at the made objects instead of the planned ids.
          const idOf = new Map(objects.map((o, i) => [o.id, made[i].id]));
          const remap = (values: Values, entity: number) =>
            Object.fromEntries(Object.entries(values).map(([k, v]) => {
              const m = plan.entities[entity].members.find((x) => x.name === k)!;
              return [k, m.kind === 'association' && typeof v === 'string' ? (idOf.get(v) ?? null) : v];
            }));
          const created = made.map((o, i) => sa.change(o, remap(objects[i].values, objects[i].entity)));
          if (created.length) await sa.commit(created);
          const up = await a.synchronize({ mode: 'unsynchronized' });
          expect(up.failures, JSON.stringify(up.failures)).toEqual([]);
          expect(up.uploaded).toBe(created.length);
          expect(await a.store.pendingCount()).toBe(0);
          objectsSynced += created.length;

          // Device B gets them all, member for member as A wrote them.
          await b.synchronize({ mode: 'all' });
          const onA = await contents(a, schema);
          expect(await contents(b, schema)).toEqual(onA);
          for (const [i, o] of created.entries()) {
            const stored = await b.store.get(names[objects[i].entity], o.id);
            for (const [k, v] of Object.entries(remap(objects[i].values, objects[i].entity))) expect(stored?.[k], `${names[objects[i].entity]}.${k}`).toEqual(v);
          }

          // B edits (new values, nulls) and deletes; A gets the result; both agree.
          const sb = b.session();
          const changed: LocalObject[] = [];
          for (const [i, o] of created.entries()) {
            const edit = edits.find((e) => e.entity === objects[i].entity);
            if (!edit || i % 2) continue;
            const members = plan.entities[objects[i].entity].members;
            const values = Object.fromEntries(Object.entries(edit.values).filter(([k]) => members.find((m) => m.name === k)!.kind !== 'association'));
            changed.push(sb.change((await b.store.get(names[objects[i].entity], o.id))!, values));
          }
          if (changed.length) await sb.commit(changed);
          const gone = created.length ? [...new Set(deletes.map((d) => created[d % created.length]))] : [];
          for (const o of gone) await sb.delete((await b.store.get(o.$entity, o.id))!);
          const bUp = await b.synchronize({ mode: 'unsynchronized' });
          expect(bUp.failures, JSON.stringify(bUp.failures)).toEqual([]);
          await b.synchronize({ mode: 'all' });
          await a.synchronize({ mode: 'all' });
          const after = await contents(a, schema);
          expect(await contents(b, schema)).toEqual(after);
          for (const o of gone) expect(await a.store.get(o.$entity, o.id)).toBeUndefined();

          // A constraint selects the same objects on the device and on the server.
          for (const { entity, c } of constraints) {
            const local = (await a.store.query(names[entity], { where: c, sort: [['id', 'asc']] })).map((o) => o.id);
            expect(await app.serverIds(names[entity], c), JSON.stringify(c)).toEqual(local);
          }

          // The app's next version adds a member to every entity: the devices' databases upgrade
          // (keeping every object, the new member null), and values of the new member sync.
          const next = schemaOf(plan, true);
          await app.restart(next);
          const a2 = await app.device(0);
          const b2 = await app.device(1);
          const upgraded = await contents(a2, next);
          for (const [e, objects] of Object.entries(after)) {
            const added = plan.entities.find((x) => x.name === e)!.added.name;
            expect(upgraded[e]).toEqual((objects as Array<Record<string, unknown>>).map((o) => ({ ...o, [added]: null })));
          }
          const s2 = a2.session();
          const survivors = (await Promise.all(names.map((e) => a2.store.query(e)))).flat();
          const set = survivors.map((o) => {
            const e = plan.entities.findIndex((x) => x.name === o.$entity);
            const added = plan.entities[e].added;
            // A new association points at some object of its target, when there is one.
            const target = survivors.find((t) => t.$entity === names[added.target]);
            return s2.change(o, { [added.name]: added.kind === 'association' ? (target?.id ?? null) : addedValues[e] });
          });
          if (set.length) await s2.commit(set);
          const up2 = await a2.synchronize({ mode: 'unsynchronized' });
          expect(up2.failures, JSON.stringify(up2.failures)).toEqual([]);
          await b2.synchronize({ mode: 'all' });
          expect(await contents(b2, next)).toEqual(await contents(a2, next));
        } finally {
          await app.close();
        }
      }),
      fuzzParameters({ runs: 12, soakRuns: 300 }),
    );
    // The generator reaches both sides: plans refused for their names, and plenty of objects.
    expect(objectsSynced).toBeGreaterThan(20);
    expect(refusedPlans).toBeGreaterThan(0);
  }, 300_000);
});
