import { describe, expect, it } from 'vitest';
import { defineSchema } from '../../src/model/schema.ts';
import { change, startTestServer, useTestServer, uuid, type ApiClient, type StorageTarget } from './support.ts';

/**
 * Regression tests of the server-side input defects of issue 10 (forward references, deep
 * nesting, unstorable text, huge constraints, impossible dates), over real HTTP, written once
 * and run on every storage target: test/server/inputDefects.*.test.ts.
 */
export function inputDefectTests(target: StorageTarget): void {
  describe(`hostile input on ${target.name}`, () => {
    const t = useTestServer(target);

    const statuses = (r: { body: any }) => r.body.results.map((x: any) => (x.status === 'applied' ? 'applied' : `failed:${x.failure.reason}`));
    const create = async (who: ApiClient, entity: string, data: Record<string, unknown>) => {
      const id = uuid();
      const r = await who.upload([change('create', entity, id, data)]);
      expect(r.body.results[0].status, r.text).toBe('applied');
      return id;
    };
    const stored = async (entity: string, id: string) =>
      (await t.storage.query<{ data: any }>('SELECT data FROM sf_objects WHERE entity = $1 AND id = $2::uuid', [entity, id])).rows[0]?.data ?? null;

    describe('forward references within one upload', () => {
      it("refuses an attachment on another user's private task by a create of that task id later in the batch", async () => {
        const secret = await create(t.alice, 'Task', { title: 'Private plans' });
        const att = uuid();
        const r = await t.bob.upload([
          change('create', 'Attachment', att, { name: 'peek.txt', task: secret }),
          change('create', 'Task', secret, { title: 'Mine now' }),
        ]);
        expect(r.status).toBe(200);
        expect(statuses(r)).toEqual(['failed:invalid', 'failed:inaccessible']);
        expect(r.body.results[0].failure.message).toMatch(/^data\.task: no Task with id .* \(not found or not accessible\)$/);
        expect(await stored('Attachment', att)).toBeNull();
        expect((await stored('Task', secret)).title).toBe('Private plans');
        expect(r.text).not.toContain('Private plans');
      });

      it('refuses a task pointing at a project whose create in the same batch failed', async () => {
        const tk = uuid();
        const p = uuid();
        const r = await t.bob.upload([change('create', 'Task', tk, { title: 'Orphan', project: p }), change('create', 'Project', p, {})]);
        expect(statuses(r)).toEqual(['failed:invalid', 'failed:invalid']);
        expect(await stored('Task', tk)).toBeNull();
      });

      it('resolves chains of forward references in any order, and fails the whole chain when its root fails', async () => {
        const [att, tk, p] = [uuid(), uuid(), uuid()];
        const good = await t.bob.upload([
          change('create', 'Attachment', att, { name: 'a', task: tk }),
          change('create', 'Task', tk, { title: 'T', project: p }),
          change('create', 'Project', p, { name: 'P' }),
        ]);
        expect(statuses(good)).toEqual(['applied', 'applied', 'applied']);
        expect(good.body.results[0].object.task).toBe(tk);

        const [att2, tk2, p2] = [uuid(), uuid(), uuid()];
        const bad = await t.bob.upload([
          change('create', 'Attachment', att2, { name: 'a', task: tk2 }),
          change('create', 'Task', tk2, { title: 'T', project: p2 }),
          change('create', 'Project', p2, { name: 'x'.repeat(201) }),
        ]);
        expect(statuses(bad)).toEqual(['failed:invalid', 'failed:invalid', 'failed:invalid']);
        for (const [e, id] of [['Attachment', att2], ['Task', tk2], ['Project', p2]]) expect(await stored(e, id)).toBeNull();
      });

      it('counts a duplicated create of one id only when one of its copies applies', async () => {
        const tk = uuid();
        const att = uuid();
        const r = await t.bob.upload([
          change('create', 'Attachment', att, { name: 'a', task: tk }),
          change('create', 'Task', tk, { title: '' }),
          change('create', 'Task', tk, { title: 'Second copy' }),
        ]);
        expect(statuses(r)).toEqual(['applied', 'failed:invalid', 'applied']);

        const secret = await create(t.alice, 'Task', { title: 'Private' });
        const att2 = uuid();
        const again = await t.bob.upload([
          change('create', 'Attachment', att2, { name: 'a', task: secret }),
          change('create', 'Task', secret, { title: 'One' }),
          change('create', 'Task', secret, { title: 'Two' }),
        ]);
        expect(statuses(again)).toEqual(['failed:invalid', 'failed:inaccessible', 'failed:inaccessible']);
        expect(await stored('Attachment', att2)).toBeNull();
      });

      it('checks references of updates the same way', async () => {
        const mine = await create(t.bob, 'Task', { title: 'Mine' });
        const att = await create(t.bob, 'Attachment', { name: 'a', task: mine });
        const secret = await create(t.alice, 'Task', { title: 'Private' });
        const p = uuid();
        const r = await t.bob.upload([
          change('update', 'Task', mine, { project: p }),
          change('update', 'Attachment', att, { task: secret }),
          change('create', 'Task', secret, { title: 'Hijack' }),
          change('create', 'Project', p, { name: 'x'.repeat(201) }),
        ]);
        expect(statuses(r)).toEqual(['failed:invalid', 'failed:invalid', 'failed:inaccessible', 'failed:invalid']);
        expect((await stored('Task', mine)).project).toBeNull();
        expect((await stored('Attachment', att)).task).toBe(mine);
      });

      it('keeps the order of changes to one object while one of them waits for a later create', async () => {
        const [tk, p] = [uuid(), uuid()];
        const r = await t.bob.upload([
          change('create', 'Task', tk, { title: 'First', project: p }),
          change('update', 'Task', tk, { title: 'Second' }),
          change('create', 'Project', p, { name: 'P' }),
        ]);
        expect(statuses(r)).toEqual(['applied', 'applied', 'applied']);
        expect((await stored('Task', tk)).title).toBe('Second');
      });

      it('accepts a cycle of new objects referring to each other, but not one closed through a failing create', async () => {
        const schema = defineSchema({
          entities: { Node: { attributes: { name: { type: 'string', required: true, maxLength: 10 } }, associations: { next: { target: 'Node' } } } },
        });
        const s = await startTestServer(await target.open(), {
          schema,
          handlers: {},
          access: { Node: { read: [{ scope: 'own' }], write: [{ scope: 'own' }] } },
        });
        try {
          const [a, b, c] = [uuid(), uuid(), uuid()];
          const ring = await s.bob.upload([
            change('create', 'Node', a, { name: 'a', next: b }),
            change('create', 'Node', b, { name: 'b', next: c }),
            change('create', 'Node', c, { name: 'c', next: a }),
          ]);
          expect(statuses(ring)).toEqual(['applied', 'applied', 'applied']);

          const [x, y, z] = [uuid(), uuid(), uuid()];
          const broken = await s.bob.upload([
            change('create', 'Node', x, { name: 'x', next: y }),
            change('create', 'Node', y, { name: 'y', next: z }),
            change('create', 'Node', z, { name: 'far too long', next: x }),
          ]);
          expect(statuses(broken)).toEqual(['failed:invalid', 'failed:invalid', 'failed:invalid']);
          expect((await s.counts()).objects).toBe(3);
        } finally {
          await s.close();
        }
      });
    });

    describe('values the server cannot keep as they are', () => {
      /** JSON text of a value nested `depth` deep (JSON.stringify itself overflows the stack there). */
      const nested = (depth: number) => `${'{"v":'.repeat(depth)}"bottom"${'}'.repeat(depth)}`;

      it('fails a change nested 5,000 deep alone, as invalid, and keeps it as a failure', async () => {
        for (const depth of [5_000, 100_000]) {
          const ok = uuid();
          const deep = JSON.stringify(change('create', 'Task', uuid(), { title: 'Deep', priority: '$' })).replace('"$"', nested(depth));
          const body = `{"changes":[${deep},${JSON.stringify(change('create', 'Task', ok, { title: 'Fine' }))}]}`;
          const r = await t.alice.call('POST', '/api/upload', body);
          expect(r.status, r.text.slice(0, 300)).toBe(200);
          expect(statuses(r)).toEqual(['failed:invalid', 'applied']);
          expect(r.body.results[0].failure.message).toMatch(/nested too deeply/);
          expect(r.body.results[0].failure.data.title).toBe('Deep');
        }
        expect((await t.alice.failures()).body.failures).toHaveLength(2);
      });

      it('fails a change with a lone surrogate or NUL alone, and stores its data with U+FFFD instead', async () => {
        const cut = `${'x'.repeat(498)}😀`.slice(0, 499);
        const ok = uuid();
        const r = await t.alice.upload([
          change('create', 'Task', uuid(), { title: cut, assignee: 'bob' }),
          change('create', 'Task', uuid(), { title: 'nul \u0000 here' }),
          change('create', 'Task', uuid(), { title: 'Key', ['bad\ud800key']: 1 }),
          change('create', 'Task', ok, { title: 'Fine 😀' }),
        ]);
        expect(r.status, r.text.slice(0, 300)).toBe(200);
        expect(statuses(r)).toEqual(['failed:invalid', 'failed:invalid', 'failed:invalid', 'applied']);
        const [surrogate, nul, key] = r.body.results.map((x: any) => x.failure);
        expect(surrogate.message).toMatch(/^data\.title: .*lone surrogate/);
        expect(surrogate.message).toMatch(/U\+FFFD/);
        expect(surrogate.data).toEqual({ title: `${'x'.repeat(498)}\ufffd`, assignee: 'bob' });
        expect(nul.data.title).toBe('nul \ufffd here');
        expect(key.data).toEqual({ title: 'Key', 'bad\ufffdkey': 1 });
        expect((await stored('Task', ok)).title).toBe('Fine 😀');
        expect((await t.alice.failures()).body.failures).toHaveLength(3);
      });

      it('refuses a constraint with too many comparisons with a 400 naming the limit, never a 500', async () => {
        const eq = (i: number) => ({ attribute: 'title', op: 'eq', value: `t${i}` });
        const cases: Array<[unknown, string]> = [
          [{ or: Array.from({ length: 66_000 }, (_, i) => eq(i)) }, 'constraint'],
          [{ or: Array.from({ length: 1_001 }, (_, i) => eq(i)) }, 'constraint'],
          [{ attribute: 'title', op: 'in', value: Array.from({ length: 66_000 }, (_, i) => `t${i}`) }, 'constraint.value'],
        ];
        for (const [constraint, path] of cases) {
          for (const r of [await t.alice.download({ entity: 'Task', constraint }), await t.alice.ids({ entity: 'Task', constraint })]) {
            expect(r.status, r.text.slice(0, 200)).toBe(400);
            expect(r.body.error.problems.map((p: any) => p.path)).toContain(path);
            expect(r.body.error.message).toMatch(/1,?000/);
          }
        }
        const fine = await t.alice.download({ entity: 'Task', constraint: { or: Array.from({ length: 1_000 }, (_, i) => eq(i)) } });
        expect(fine.status, fine.text.slice(0, 200)).toBe(200);
      });

      it('refuses an impossible date instead of moving it to another day', async () => {
        const r = await t.alice.upload([
          change('create', 'Task', uuid(), { title: 'Feb 30', due: '2025-02-30T10:00:00Z' }),
          change('create', 'Task', uuid(), { title: '24 h', due: '2025-03-01T24:00:00Z' }),
          change('create', 'Task', uuid(), { title: 'Leap', due: '2024-02-29T10:00:00+02:00' }),
        ]);
        expect(statuses(r)).toEqual(['failed:invalid', 'failed:invalid', 'applied']);
        expect(r.body.results[0].failure.message).toMatch(/^data\.due: /);
        expect(r.body.results[2].object.due).toBe('2024-02-29T08:00:00.000Z');
      });

      it('refuses a base version that names no real instant with a 400, and writes nothing', async () => {
        const id = uuid();
        expect(statuses(await t.alice.upload([change('create', 'Task', id, { title: 'Based' })]))).toEqual(['applied']);
        const before = await t.counts();
        for (const base of ['2025-02-30T10:00:00.000000Z', '2025-03-01T24:00:00.000000Z', '0000-01-01T00:00:00.000000Z']) {
          const r = await t.alice.upload([{ ...change('update', 'Task', id, { title: 'x' }), base }]);
          expect(r.status, base).toBe(400);
          expect(r.body.error.problems.map((p: { path: string }) => p.path), base).toEqual(['changes[0].base']);
        }
        expect(await t.counts()).toEqual(before);
      });
    });
  });
}
