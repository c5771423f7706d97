import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoHandlers } from '../../src/server/demo.ts';
import type { Handlers } from '../../src/server/handlers.ts';
import { change, postgresTarget, startTestServer, uuid, type ApiClient, type TestServer } from './support.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Holds each write transaction open a little, after its changedDate is taken, to widen every race. */
const slowHandlers: Handlers = {
  ...demoHandlers,
  Project: {
    async beforeCommit() {
      await sleep(Math.random() * 4);
    },
  },
};

describe('two server processes over one PostgreSQL schema', () => {
  const target = postgresTarget();
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    const name = `${(await target.open()).schemaName}_shared`;
    // Two apps, two pools, one schema: what two processes behind a load balancer see.
    a = await startTestServer(await target.open(name), { handlers: slowHandlers });
    b = await startTestServer(await target.open(name), { handlers: slowHandlers });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await target.cleanup();
  });

  it('lets a cursor download see every row exactly once while both servers write', async () => {
    const written: string[] = [];
    const writer = async (client: ApiClient) => {
      for (let i = 0; i < 12; i++) {
        const ids = Array.from({ length: 15 }, () => uuid());
        const r = await client.upload(ids.map((id) => change('create', 'Project', id, { name: `w${i}` })));
        expect(r.status).toBe(200);
        written.push(...ids);
      }
    };
    const seen: string[] = [];
    let writing = true;
    const reader = async (client: ApiClient) => {
      let cursor: string | null = null;
      let since: string | null = null;
      for (;;) {
        const done = !writing;
        const r: any = await client.download({ entity: 'Project', limit: 13, cursor, since: cursor ? null : since });
        expect(r.status).toBe(200);
        seen.push(...r.body.objects.map((o: any) => o.id));
        if (r.body.cursor) cursor = r.body.cursor;
        else {
          cursor = null;
          since = r.body.maxChangedDate ?? since;
          if (done) return; // a full pass that started after the writers finished
        }
      }
    };
    const reading = reader(b.bob);
    await Promise.all([writer(a.alice), writer(b.alice), writer(a.carol), writer(b.bob)]);
    writing = false;
    await reading;
    expect(written).toHaveLength(720);
    expect(seen).toHaveLength(written.length);
    expect(new Set(seen)).toEqual(new Set(written));
  });

  it('applies a change sent to both servers at once only once', async () => {
    for (let i = 0; i < 5; i++) {
      const id = uuid();
      const changes = [change('create', 'Project', id, { name: `dup ${i}` }), change('update', 'Project', id, { archived: true })];
      const [ra, rb] = await Promise.all([a.alice.upload(changes), b.alice.upload(changes)]);
      expect(ra.status).toBe(200);
      expect(rb.status).toBe(200);
      const outcome = (body: typeof ra.body) => body.results.map((r: { changeId: string; status: string }) => [r.changeId, r.status]);
      expect(outcome(rb.body)).toEqual(outcome(ra.body));
      const { rows } = await a.storage.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM sf_applied WHERE user_id = $1 AND change_id = ANY($2::text[])',
        ['alice', changes.map((c) => c.changeId)],
      );
      expect(rows[0].n).toBe(2);
      const stored = (await b.alice.fetch('Project', [id])).body.objects[0];
      // One copy applied both changes, the other was answered again: both answer every change with
      // the object as the upload committed it (the create's answer too, the update applied after it).
      expect(rb.body).toEqual(ra.body);
      for (const r of ra.body.results) expect(r.object).toEqual(stored);
    }
  });

  it('sees a role change made through the other server on the next request', async () => {
    const before = (await b.carol.call('GET', '/api/me')).body.roles;
    await a.server.setRoles('carol', ['user', 'auditor']);
    expect((await b.carol.call('GET', '/api/me')).body.roles).toEqual(['user', 'auditor']);
    await b.server.setRoles('carol', before);
  });
});
