/**
 * Access rules that are not the demo's: generated read and write rules (all, own, a field that
 * names the user, each with or without a role) over objects three users create, hand over and
 * delete. Every answer of the server — what each user may create, list, fetch, change, delete —
 * is checked against an oracle written from the rules' definition (docs/protocol.md, "Access").
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { defineSchema } from '../../src/model/schema.ts';
import type { AccessRule, AccessRules } from '../../src/server/access.ts';
import { createSyncServer } from '../../src/server/index.ts';
import { fuzzParameters } from '../support/fuzz.ts';
import { apiClient, change, pgliteTarget, uuid, type ApiClient } from './support.ts';

const USERS = [
  { id: 'ann', token: 'ann-secret-token', roles: [] },
  { id: 'ben', token: 'ben-secret-token', roles: ['boss'] },
  { id: 'cat', token: 'cat-secret-token', roles: ['clerk', 'boss'] },
] as const;
type User = (typeof USERS)[number]['id'];

/** `who` and `helper` are string attributes a field rule can name; `folder` an association. */
const schema = defineSchema({
  entities: {
    Folder: { attributes: { who: { type: 'string' }, title: { type: 'string' } } },
    Note: { attributes: { who: { type: 'string' }, helper: { type: 'string' }, title: { type: 'string' } }, associations: { folder: { target: 'Folder' } } },
  },
});
const FIELDS: Record<string, string[]> = { Folder: ['who'], Note: ['who', 'helper'] };

const rule = (entity: string): fc.Arbitrary<AccessRule> =>
  fc.record({
    role: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('boss', 'clerk', 'nobody') }),
    scope: fc.oneof(fc.constantFrom<'all' | 'own'>('all', 'own'), fc.constantFrom(...FIELDS[entity]).map((field) => ({ field }))),
  }).map((r) => (r.role === undefined ? { scope: r.scope } : r));
const rules: fc.Arbitrary<AccessRules> = fc.record({
  // Some write rule (else nothing is ever created); no read rule at all now and then.
  Folder: fc.record({ read: fc.array(rule('Folder'), { maxLength: 3 }), write: fc.array(rule('Folder'), { minLength: 1, maxLength: 3 }) }),
  Note: fc.record({ read: fc.array(rule('Note'), { maxLength: 3 }), write: fc.array(rule('Note'), { minLength: 1, maxLength: 3 }) }),
});

/** A value a field may hold: a user's id, one that only looks like it, or nothing. */
const fieldValue = fc.constantFrom<string | null>('ann', 'ben', 'cat', null, 'ANN', 'ann ', '', 'nobody');

const step = fc.oneof(
  fc.record({ op: fc.constant('create' as const), as: fc.constantFrom<User>('ann', 'ben', 'cat'), entity: fc.constantFrom('Folder', 'Note'), who: fieldValue, helper: fieldValue }),
  fc.record({ op: fc.constant('handOver' as const), as: fc.constantFrom<User>('ann', 'ben', 'cat'), pick: fc.nat(), who: fieldValue }),
  fc.record({ op: fc.constant('delete' as const), as: fc.constantFrom<User>('ann', 'ben', 'cat'), pick: fc.nat() }),
);

type Stored = { entity: string; id: string; owner: string; who: string | null; helper: string | null };

/** The oracle: the rules as docs/protocol.md defines them. */
function grants(all: AccessRules, mode: 'read' | 'write', user: User, o: Stored): boolean {
  const roles: readonly string[] = USERS.find((u) => u.id === user)!.roles;
  return all[o.entity][mode].some((r) => {
    if (r.role !== undefined && !roles.includes(r.role)) return false;
    if (r.scope === 'all') return true;
    if (r.scope === 'own') return o.owner === user;
    return (o as Record<string, unknown>)[r.scope.field] === user;
  });
}

const target = pgliteTarget();
afterAll(() => target.cleanup());

describe('generated access rules', () => {
  it('answer every create, list, fetch, hand-over and delete as the rules say, for every user', async () => {
    let applied = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(rules, fc.array(step, { minLength: 4, maxLength: 16 }), async (access, steps) => {
        const server = await createSyncServer({ schema, storage: await target.open(), access, users: USERS.map((u) => ({ ...u, roles: [...u.roles] })) });
        const url = await server.listen({ port: 0 });
        const as = Object.fromEntries(USERS.map((u) => [u.id, apiClient(url, u.token)])) as Record<User, ApiClient>;
        const stored = new Map<string, Stored>();
        try {
          for (const s of steps) {
            const objects = [...stored.values()];
            if (s.op === 'create') {
              const o: Stored = { entity: s.entity, id: uuid(), owner: s.as, who: s.who, helper: s.entity === 'Note' ? s.helper : null };
              const data = { who: s.who, title: 't', ...(s.entity === 'Note' ? { helper: s.helper } : {}) };
              const r = await as[s.as].upload([change('create', s.entity, o.id, data)]);
              expect(r.status, r.text).toBe(200);
              // A create is checked on the object as it will be, owned by its creator.
              const allowed = grants(access, 'write', s.as, o);
              expect(r.body.results[0].status, JSON.stringify({ access, o })).toBe(allowed ? 'applied' : 'failed');
              if (allowed) applied++;
              else refused++;
              if (allowed) {
                stored.set(o.id, o);
                // The answer holds the object only when its creator may read it.
                expect(r.body.results[0].object?.id ?? null).toBe(grants(access, 'read', s.as, o) ? o.id : null);
              } else expect(r.body.results[0].failure.reason).toBe('inaccessible');
            } else if (objects.length) {
              const o = objects[s.pick % objects.length];
              const allowed = grants(access, 'read', s.as, o) && grants(access, 'write', s.as, o);
              const r = s.op === 'delete'
                ? await as[s.as].upload([change('delete', o.entity, o.id)])
                : await as[s.as].upload([change('update', o.entity, o.id, { who: s.who })]);
              expect(r.status, r.text).toBe(200);
              expect(r.body.results[0].status, JSON.stringify({ access, o, s })).toBe(allowed ? 'applied' : 'failed');
              if (allowed) applied++;
              else refused++;
              if (!allowed) expect(r.body.results[0].failure.reason).toBe('inaccessible');
              else if (s.op === 'delete') stored.delete(o.id);
              else stored.set(o.id, { ...o, who: s.who });
            }
          }
          // Every user tries to change every object (a title: no field a rule reads): exactly the
          // objects the user may read and write apply, in one batch, the others fail alone.
          for (const u of USERS) {
            const everything = [...stored.values()];
            if (!everything.length) break;
            const r = await as[u.id].upload(everything.map((o) => change('update', o.entity, o.id, { title: `seen by ${u.id}` })));
            expect(r.status, r.text).toBe(200);
            const expected = everything.map((o) => (grants(access, 'read', u.id, o) && grants(access, 'write', u.id, o) ? 'applied' : 'failed'));
            expect(r.body.results.map((x: { status: string }) => x.status), `${u.id} ${JSON.stringify(access)}`).toEqual(expected);
            applied += expected.filter((x) => x === 'applied').length;
            refused += expected.filter((x) => x === 'failed').length;
          }
          // Every user lists, downloads and fetches exactly what the read rules grant.
          for (const u of USERS) {
            for (const entity of ['Folder', 'Note']) {
              const everything = [...stored.values()].filter((o) => o.entity === entity);
              const readable = everything.filter((o) => grants(access, 'read', u.id, o)).map((o) => o.id).sort();
              const downloaded = (await as[u.id].all(entity)).map((o: { id: string }) => o.id).sort();
              expect(downloaded, `${u.id} ${entity} ${JSON.stringify(access[entity].read)}`).toEqual(readable);
              const ids = await as[u.id].ids({ entity });
              expect(ids.status).toBe(200);
              expect([...ids.body.ids].sort()).toEqual(readable);
              if (everything.length) {
                const fetched = await as[u.id].fetch(entity, everything.map((o) => o.id));
                expect(fetched.body.objects.map((o: { id: string }) => o.id).sort()).toEqual(readable);
                expect([...fetched.body.missing].sort()).toEqual(everything.map((o) => o.id).filter((id) => !readable.includes(id)).sort());
              }
            }
          }
        } finally {
          await server.close();
        }
      }),
      fuzzParameters({ runs: 25, soakRuns: 1000 }),
    );
    // The generator reaches both sides of the rules.
    expect(applied).toBeGreaterThan(30);
    expect(refused).toBeGreaterThan(30);
  }, 300_000);
});
