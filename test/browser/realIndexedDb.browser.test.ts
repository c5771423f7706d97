/**
 * The device runtime in a real browser: Chromium's own IndexedDB instead of fake-indexeddb,
 * the runtime bundled from src/ as an app ships it, real sync servers started here in Node.
 * - Generated apps (odd names, every type at its edges, self and cyclic associations) go from one
 *   device to the server and to a second device unchanged, and the app's next version upgrades
 *   both device databases keeping every object.
 * - A real full disk: the origin's quota lowered through the DevTools protocol makes IndexedDB
 *   fail as a full device does; commits, downloads and uploads whose answer cannot be stored end
 *   with a typed StorageFullError that keeps nothing of itself, and once the quota is raised
 *   nothing is missing or applied twice.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SchemaInput } from '../../src/model/schema.ts';
import { DEFAULT_BATCH } from '../../src/transport/wire.ts';
import { apiClient, change } from '../server/support.ts';
import { fuzzParameters, soaking } from '../support/fuzz.ts';
import { closeSharedStorage, sharedStorage } from '../support/world.ts';
import { startApp, startBrowser, TOKEN, type DevicePage } from './support/browserDevices.ts';
import type { ErrorShape, Outcome, SyncSummary } from './support/devicePage.ts';
import { generatedApp, schemaInputOf, type PlannedRef } from './support/generatedApp.ts';

let browser: Awaited<ReturnType<typeof startBrowser>>;
/**
 * `apps`: the generated apps' origin. Each full-disk test has an origin of its own, whose quota it
 * lowers before its first IndexedDB write (see DevicePage.setQuota).
 */
let apps: DevicePage;
let rawFull: DevicePage;
let commitFull: DevicePage;
let downloadFull: DevicePage;
let answerFull: DevicePage;

beforeAll(async () => {
  [, browser] = await Promise.all([sharedStorage(), startBrowser(5)]);
  [apps, rawFull, commitFull, downloadFull, answerFull] = browser.pages;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await closeSharedStorage();
});

/** The value of a successful call; a failed one fails the test with what the page threw. */
function ok<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new Error(`the page failed (${outcome.code}): ${JSON.stringify(outcome.error)}`);
  return outcome.value;
}

/** Every name down an error's chain of wrappers. */
function chain(shape: ErrorShape | null | undefined): string[] {
  if (!shape) return [];
  return [`${shape.name}/${shape.constructorName}`, ...chain(shape.inner), ...chain(shape.cause), ...(shape.failures ?? []).flatMap(chain)];
}

/** The page's calls, typed (each runs inside Chromium). */
const device = (p: DevicePage) => ({
  open: (o: { device: string; schema: SchemaInput; serverUrl: string; dbName: string }) => p.page.evaluate((x) => window.deviceOpen(x), { ...o, token: TOKEN }),
  closeAll: () => p.page.evaluate(() => window.deviceCloseAll()),
  create: (o: Parameters<Window['deviceCreate']>[0]) => p.page.evaluate((x) => window.deviceCreate(x), o),
  changeAll: (o: Parameters<Window['deviceChangeAll']>[0]) => p.page.evaluate((x) => window.deviceChangeAll(x), o),
  commitBulky: (o: Parameters<Window['deviceCommitBulky']>[0]) => p.page.evaluate((x) => window.deviceCommitBulky(x), o),
  commitKept: (name: string) => p.page.evaluate((x) => window.deviceCommitKept(x), { device: name }),
  synchronize: (name: string, mode: 'all' | 'unsynchronized'): Promise<Outcome<SyncSummary>> => p.page.evaluate((x) => window.deviceSynchronize(x), { device: name, mode }),
  contents: (name: string) => p.page.evaluate((x) => window.deviceContents(x), { device: name }),
  ids: (name: string, entity: string) => p.page.evaluate((x) => window.deviceIds(x), { device: name, entity }),
  pending: (name: string) => p.page.evaluate((x) => window.devicePending(x), { device: name }),
  status: (name: string) => p.page.evaluate((x) => window.deviceStatus(x), { device: name }),
});

const isRef = (v: unknown): v is PlannedRef => typeof v === 'object' && v !== null && 'object' in v;

describe('generated apps in Chromium IndexedDB', () => {
  it('round-trips every value between two devices and upgrades both databases to the next version keeping every object', async () => {
    const page = device(apps);
    let objectsSynced = 0;
    await fc.assert(
      fc.asyncProperty(generatedApp, async ({ plan, objects, addedValues }) => {
        const first = schemaInputOf(plan, false);
        const next = schemaInputOf(plan, true);
        const app = await startApp(await sharedStorage(), first);
        try {
          const open = async (schema: SchemaInput) => {
            await page.open({ device: 'a', schema, serverUrl: app.url, dbName: `${app.name}_a` });
            await page.open({ device: 'b', schema, serverUrl: app.url, dbName: `${app.name}_b` });
          };
          await open(first);

          // Device A creates every object in one commit (associations in any order, cycles too) and uploads.
          const ids = ok(await page.create({ device: 'a', objects }));
          const up = ok(await page.synchronize('a', 'unsynchronized'));
          expect(up.failures, JSON.stringify(up.failures)).toEqual([]);
          expect(up.uploaded).toBe(objects.length);
          expect(up.pending).toBe(0);
          objectsSynced += objects.length;

          // Device B (another database of the same origin) downloads them, member for member as planned.
          const down = ok(await page.synchronize('b', 'all'));
          expect(down.failures, JSON.stringify(down.failures)).toEqual([]);
          const onA = await page.contents('a');
          const onB = await page.contents('b');
          expect(onB).toEqual(onA);
          for (const [i, o] of objects.entries()) {
            const stored = onB[o.entity].find((x) => x.id === ids[i]);
            expect(stored, `${o.entity} ${ids[i]}`).toBeDefined();
            for (const [k, v] of Object.entries(o.values)) expect(stored![k], `${o.entity}.${k}`).toEqual(isRef(v) ? ids[v.object] : v);
          }

          // The app's next version adds a member to every entity: both databases upgrade in place.
          await page.closeAll();
          await app.restart(next);
          await open(next);
          const addedName = (entity: string) => plan.entities.find((e) => e.name === entity)!.added.name;
          const withAdded = (contents: typeof onA) =>
            Object.fromEntries(Object.entries(contents).map(([e, list]) => [e, list.map((o) => ({ ...o, [addedName(e)]: null }))]));
          expect(await page.contents('a')).toEqual(withAdded(onA));
          expect(await page.contents('b')).toEqual(withAdded(onB));

          // Values of the new member travel from A to B.
          const values = Object.fromEntries(
            plan.entities.map((e) => {
              const v = addedValues[e.name];
              return [e.name, { [e.added.name]: isRef(v) ? ids[v.object] : v }];
            }),
          );
          ok(await page.changeAll({ device: 'a', values }));
          const up2 = ok(await page.synchronize('a', 'unsynchronized'));
          expect(up2.failures, JSON.stringify(up2.failures)).toEqual([]);
          expect(up2.pending).toBe(0);
          ok(await page.synchronize('b', 'all'));
          const afterA = await page.contents('a');
          expect(await page.contents('b')).toEqual(afterA);
          for (const e of plan.entities) for (const o of afterA[e.name]) expect(o[e.added.name]).toEqual(values[e.name][e.added.name]);
        } finally {
          await page.closeAll();
          await app.close();
        }
      }),
      fuzzParameters({ runs: 10, soakRuns: 200 }),
    );
    expect(objectsSynced).toBeGreaterThan(15);
    expect(apps.pageErrors).toEqual([]);
  }, soaking ? 0 : 120_000);
});

const NOTES: SchemaInput = { entities: { Note: { attributes: { text: { type: 'string' } } } } };
const KiB = 1024;
const NOTES_ON_SERVER = 2_500;
/** Room for a device database with a few small notes, not for a MiB more. */
const SMALL_QUOTA = 512 * KiB;

describe('a full disk in Chromium (the origin quota lowered through the DevTools protocol)', () => {
  it('reports a full origin as a QuotaExceededError on the transaction, which Dexie wraps and isQuotaExceeded finds', async () => {
    await rawFull.setQuota(SMALL_QUOTA);
    const raw = await rawFull.page.evaluate((x) => window.rawWriteShape(x), { dbName: 'raw-quota', bytes: 1024 * KiB });
    // Chromium fails the commit, not the request: the request has no error, the transaction aborts.
    expect(raw).toMatchObject({ end: 'abort', requestError: null, transactionError: { name: 'QuotaExceededError', constructorName: 'QuotaExceededError', isDOMException: true } });
    const dexie = await rawFull.page.evaluate((x) => window.dexieWriteShape(x), { dbName: 'dexie-quota', bytes: 1024 * KiB });
    expect(chain(dexie)).toContain('QuotaExceededError/QuotaExceededError');
    expect(rawFull.pageErrors).toEqual([]);
  });

  it('refuses a commit over the quota with StorageFullError, stores nothing of it, and commits it once the quota is raised', async () => {
    const page = device(commitFull);
    const app = await startApp(await sharedStorage(), NOTES);
    try {
      await commitFull.setQuota(SMALL_QUOTA);
      await page.open({ device: 'c', schema: NOTES, serverUrl: app.url, dbName: `${app.name}_c` });
      ok(await page.create({ device: 'c', objects: [{ entity: 'Note', values: { text: 'kept' } }] }));
      expect(ok(await page.synchronize('c', 'unsynchronized'))).toMatchObject({ uploaded: 1, pending: 0 });
      const before = await page.ids('c', 'Note');

      // 16 notes of 64 KiB of random text (Chromium compresses what it stores; random text does not shrink).
      const refused = await page.commitBulky({ device: 'c', entity: 'Note', member: 'text', count: 16, bytes: 64 * KiB });
      expect(refused.ok).toBe(false);
      if (refused.ok) return;
      expect(refused.code).toBe('storage_full');
      expect(refused.isStorageFullError).toBe(true);
      expect(chain(refused.error)).toContain('QuotaExceededError/QuotaExceededError');
      expect(await page.ids('c', 'Note')).toEqual(before);
      expect(await page.pending('c')).toBe(0);

      // The same session commits the same objects once there is room; they upload.
      await commitFull.setQuota(null);
      expect(ok(await page.commitKept('c'))).toBe(16);
      expect(await page.ids('c', 'Note')).toHaveLength(17);
      expect(ok(await page.synchronize('c', 'unsynchronized'))).toMatchObject({ uploaded: 16, failures: [], pending: 0 });
      const server = await apiClient(app.url, TOKEN, 'elsewhere').all('Note');
      expect(server.map((o) => o.id).sort()).toEqual(await page.ids('c', 'Note'));
    } finally {
      await commitFull.setQuota(null);
      await page.closeAll();
      await app.close();
    }
    expect(commitFull.pageErrors).toEqual([]);
  });

  it('stops a download that does not fit with storage_full in the status, keeps the local change, and completes once the quota is raised', async () => {
    const page = device(downloadFull);
    const app = await startApp(await sharedStorage(), NOTES);
    try {
      // 2,500 notes of 1.5 KiB of random text on the server, written elsewhere: 3 download batches
      // of about 1.5, 1.5 and 0.75 MiB, for a device with room for one.
      const elsewhere = apiClient(app.url, TOKEN, 'elsewhere');
      const text = () => crypto.getRandomValues(Buffer.alloc(1152)).toString('base64');
      for (let sent = 0; sent < NOTES_ON_SERVER; sent += DEFAULT_BATCH) {
        const upload = await elsewhere.upload(Array.from({ length: Math.min(DEFAULT_BATCH, NOTES_ON_SERVER - sent) }, () => change('create', 'Note', crypto.randomUUID(), { text: text() })));
        expect(upload.status, upload.text).toBe(200);
      }

      await downloadFull.setQuota(2 * 1024 * KiB);
      await page.open({ device: 'd', schema: NOTES, serverUrl: app.url, dbName: `${app.name}_d` });
      const [mine] = ok(await page.create({ device: 'd', objects: [{ entity: 'Note', values: { text: 'written offline' } }] }));

      const stopped = await page.synchronize('d', 'all');
      expect(stopped.ok).toBe(false);
      if (stopped.ok) return;
      expect(stopped.code).toBe('storage_full');
      expect(chain(stopped.error)).toContain('QuotaExceededError/QuotaExceededError');
      expect(await page.status('d')).toMatchObject({ running: false, lastError: { code: 'storage_full' } });
      // The batches before the one that did not fit are kept, whole (with their checkpoint).
      const held = await page.ids('d', 'Note');
      expect(held).toContain(mine);
      expect(held.length).toBeLessThan(NOTES_ON_SERVER + 1);
      expect(held.length - 1).toBeGreaterThan(0);
      expect((held.length - 1) % DEFAULT_BATCH).toBe(0);

      await downloadFull.setQuota(null);
      expect(ok(await page.synchronize('d', 'all'))).toMatchObject({ failures: [], pending: 0 });
      expect(await page.status('d')).toMatchObject({ running: false, lastError: null });
      const server = (await elsewhere.all('Note')).map((o) => o.id).sort();
      expect(server).toHaveLength(NOTES_ON_SERVER + 1);
      expect(await page.ids('d', 'Note')).toEqual(server);
    } finally {
      await downloadFull.setQuota(null);
      await page.closeAll();
      await app.close();
    }
    expect(downloadFull.pageErrors).toEqual([]);
  });

  it('fails an upload whose answer does not fit with storage_full; once the quota is raised the next sync applies nothing twice', async () => {
    const page = device(answerFull);
    const app = await startApp(await sharedStorage(), NOTES);
    try {
      // The notes fit once, not twice: the server takes them, the device cannot store its answer
      // (the objects as the server wrote them).
      await answerFull.setQuota(1024 * KiB);
      await page.open({ device: 'e', schema: NOTES, serverUrl: app.url, dbName: `${app.name}_e` });
      expect(ok(await page.commitBulky({ device: 'e', entity: 'Note', member: 'text', count: 32, bytes: 16 * KiB }))).toBe(32);

      const failed = await page.synchronize('e', 'unsynchronized');
      expect(failed.ok).toBe(false);
      if (failed.ok) return;
      expect(failed.code).toBe('storage_full');
      expect(await page.status('e')).toMatchObject({ running: false, lastError: { code: 'storage_full' } });
      const elsewhere = apiClient(app.url, TOKEN, 'elsewhere');
      expect(await elsewhere.all('Note')).toHaveLength(32); // the server applied the upload
      expect(await page.pending('e')).toBe(32);

      await answerFull.setQuota(null);
      expect(ok(await page.synchronize('e', 'unsynchronized'))).toMatchObject({ failures: [], pending: 0 });
      const server = (await elsewhere.all('Note')).map((o) => o.id).sort();
      expect(server).toHaveLength(32); // replays of the same changes, not new objects
      expect(await page.ids('e', 'Note')).toEqual(server);
    } finally {
      await answerFull.setQuota(null);
      await page.closeAll();
      await app.close();
    }
    expect(answerFull.pageErrors).toEqual([]);
  });
});
