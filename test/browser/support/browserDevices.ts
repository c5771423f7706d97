/**
 * Devices in a real browser: Debian's Chromium (playwright-core, no browser download) with the
 * device page (devicePage.ts, bundled by esbuild) on an origin of its own, a CDP session on it for
 * the quota override, and sync servers of generated apps started here in Node over one shared
 * PGlite, each in its own SQL schema, answering the page's cross-origin requests (`cors`).
 */
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core';
import { bundle, CHROMIUM_ARGS, CHROMIUM_PATH, servePage } from '../../../bench/support/browser/chromium.ts';
import { defineSchema, type Schema, type SchemaInput } from '../../../src/model/schema.ts';
import { createSyncServer, type Storage, type SyncServer } from '../../../src/server/index.ts';

export const TOKEN = 'ann-secret-token';

export interface DevicePage {
  page: Page;
  /** `http://127.0.0.1:<port>`: the origin whose IndexedDB the devices use. */
  origin: string;
  cdp: CDPSession;
  /** Errors the page threw outside any call (a test ends by expecting none). */
  pageErrors: string[];
  /**
   * Gives the origin a quota of `bytes` (Chromium's DevTools override); null lifts the override.
   * Lower it before the origin's first IndexedDB write: Chromium's IndexedDB keeps the space it
   * last found left for 30 s and asks the quota system again only once a write needs more, so a
   * quota lowered afterwards can take 30 s to bite (a raised one counts at the next refused write).
   */
  setQuota(bytes: number | null): Promise<void>;
}

/** Chromium with `pages` device pages, each on its own origin (a quota override touches one alone). */
export async function startBrowser(pages: number): Promise<{ pages: DevicePage[]; close(): Promise<void> }> {
  const script = await bundle(new URL('./devicePage.ts', import.meta.url).href);
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
  const served = await Promise.all(Array.from({ length: pages }, () => servePage(script)));
  const context = await browser.newContext();
  const out: DevicePage[] = [];
  for (const { url } of served) {
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(() => typeof window.deviceOpen === 'function');
    const origin = new URL(url).origin;
    const cdp = await context.newCDPSession(page);
    const setQuota = async (bytes: number | null) => {
      await cdp.send('Storage.overrideQuotaForOrigin', bytes === null ? { origin } : { origin, quotaSize: bytes });
    };
    out.push({ page, origin, cdp, pageErrors, setQuota });
  }
  return {
    pages: out,
    close: async () => {
      await browser.close();
      await Promise.all(served.map((s) => s.close()));
    },
  };
}

export interface AppServer {
  /** The app's SQL schema name, also the prefix of its device databases. */
  name: string;
  url: string;
  /** Stops the server and starts the app's next version over the same data. */
  restart(next: SchemaInput): Promise<void>;
  close(): Promise<void>;
}

let apps = 0;
const run = `${process.pid}_${Date.now().toString(36)}`;

/** A sync server for an app (one user, ann, who reads and writes her own objects), in its own SQL schema. */
export async function startApp(storage: Storage, input: SchemaInput): Promise<AppServer> {
  const name = `browser_${run}_${++apps}`;
  const own = await storage.withSchema(name);
  const access = (schema: Schema) => Object.fromEntries(schema.order.map((e) => [e, { read: [{ scope: 'own' as const }], write: [{ scope: 'own' as const }] }]));
  const start = async (schema: Schema, withUsers: boolean): Promise<[SyncServer, string]> => {
    const server = await createSyncServer({
      schema,
      storage: own,
      access: access(schema),
      cors: true,
      ...(withUsers ? { users: [{ id: 'ann', token: TOKEN, roles: [] }] } : {}),
    });
    return [server, await server.listen({ port: 0, host: '127.0.0.1' })];
  };
  let [server, url] = await start(defineSchema(input), true);
  return {
    name,
    get url() {
      return url;
    },
    restart: async (next) => {
      await server.close();
      [server, url] = await start(defineSchema(next), false);
    },
    close: () => server.close(),
  };
}
