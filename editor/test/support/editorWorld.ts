/**
 * A browser test's world: the editor as `npm start` serves it (startEditor, the built app,
 * `/api` proxied to a real sync server with the demo app on in-memory PGlite, which also checks
 * sign-ins), over a temp copy of `flows/` plus the test fixtures, and Debian's Chromium driven by
 * playwright-core, signed in through the sign-in page. With `app`, another app's config instead
 * (its sync server, schema, profiles and flows), as `syncflow serve --config` serves it.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { expect } from 'vitest';
import type { SyncflowConfig } from '../../../src/config/SyncflowConfig.ts';
import { startSyncServer } from '../../../src/config/startSyncServer.ts';
import demoConfig from '../../../src/demo/syncflow.config.ts';
import { startDemoServer } from '../../../src/server/demo.ts';
import { startEditor, type RunningEditor } from '../../server/startEditor.ts';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const screenshotsDir = fileURLToPath(new URL('../screenshots/', import.meta.url));

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export interface EditorWorld {
  url: string;
  /** The sync server the editor proxies to (a test may check it over HTTP with a user's token). */
  serverUrl: string;
  flowsDir: string;
  page: Page;
  browser: Browser;
  /** Errors the page threw (a test ends by expecting none). */
  pageErrors: string[];
  readFlow(id: string): Promise<Record<string, unknown>>;
  /** The rows of a table of the page's local database (the runtime's IndexedDB, named per user). */
  readTable(table: string): Promise<Array<Record<string, unknown>>>;
  /** Opens the editor and signs in through its sign-in page (the page must show it). */
  signIn(token: string): Promise<void>;
  /** Signs out from the toolbar and waits for the sign-in page. */
  signOut(): Promise<void>;
  /**
   * Keeps the page's picture for the review: `screenshots/<file prefix>--<the test's name>.png`,
   * one per test (a second one in the same test is an error).
   */
  screenshot(): Promise<string>;
  close(): Promise<void>;
}

/** Waits for Debian's Chromium (CI installs it with apt while other work runs). */
async function chromiumPath(): Promise<string> {
  const path = '/usr/bin/chromium';
  for (let i = 0; i < 240; i++) {
    if (await readFile(path).then(() => true, () => false)) return path;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${path} is missing (apt-get install chromium)`);
}

/** "Undoes and redoes every edit (Ctrl+Z)" -> "undoes-and-redoes-every-edit-ctrl-z". */
export function slug(text: string): string {
  return text
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[’']/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 100);
}

/** Another app than the demo: its config, its flows folder (copied), who may save flows. */
export interface WorldApp {
  config: SyncflowConfig;
  flowsDir: string;
  authorRole?: string;
}

/**
 * @param options.prefix the screenshots' file prefix (the test file's theme).
 * @param options.token signed in as this user (default alice, an author); null: not signed in.
 * @param options.app another app's config and flows instead of the demo's.
 */
export async function startEditorWorld(options: { prefix: string; token?: string | null; app?: WorldApp }): Promise<EditorWorld> {
  const flowsDir = await mkdtemp(join(tmpdir(), 'syncflow-editor-flows-'));
  const sources = options.app ? [options.app.flowsDir] : [join(repo, 'flows'), fixtures];
  for (const dir of sources) {
    for (const name of await readdir(dir)) if (name.endsWith('.json')) await copyFile(join(dir, name), join(flowsDir, name));
  }
  const config = options.app?.config ?? demoConfig;
  let demo: { url: string; close(): Promise<void> } | null = null;
  let editor: RunningEditor | null = null;
  let browser: Browser | null = null;
  try {
    const [server, executablePath] = await Promise.all([options.app ? startSyncServer(config, { port: 0 }) : startDemoServer({ port: 0 }), chromiumPath()]);
    demo = server;
    [editor, browser] = await Promise.all([
      // The app's schema and profiles, as `syncflow serve` passes its config's.
      startEditor({ port: 0, syncServerUrl: demo.url, flowsDir, schema: config.schema, profiles: config.profiles?.definitions, authorRole: options.app?.authorRole }),
      chromium.launch({ executablePath, args: CHROMIUM_ARGS }),
    ]);
  } catch (e) {
    await browser?.close();
    await editor?.close();
    await demo?.close();
    throw e;
  }
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // The page runs under a Content-Security-Policy without 'unsafe-eval': a violation is an error too.
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) pageErrors.push(m.text());
  });
  await mkdir(screenshotsDir, { recursive: true });
  const running = { editor, demo: demo!, browser };
  const taken = new Set<string>();
  const signIn = async (token: string) => {
    await page.goto(running.editor.url);
    await page.getByTestId('sign-in-token').fill(token);
    await page.getByTestId('sign-in-submit').click();
    await page.getByTestId('flow-list').waitFor();
  };
  if (options.token !== null) await signIn(options.token ?? 'alice-token');
  return {
    url: editor.url,
    serverUrl: running.demo.url,
    flowsDir,
    page,
    browser,
    pageErrors,
    readFlow: async (id) => JSON.parse(await readFile(join(flowsDir, `${id}.flow.json`), 'utf8')) as Record<string, unknown>,
    readTable: (table) =>
      page.evaluate(async (table) => {
        const name = (await indexedDB.databases()).map((d) => d.name ?? '').find((n) => n.startsWith('syncflow-editor-'))!;
        const db = await new Promise<IDBDatabase>((resolve, reject) => {
          const open = indexedDB.open(name);
          open.onsuccess = () => resolve(open.result);
          open.onerror = () => reject(open.error);
        });
        try {
          return await new Promise<Array<Record<string, unknown>>>((resolve, reject) => {
            const read = db.transaction(table).objectStore(table).getAll();
            read.onsuccess = () => resolve(read.result as Array<Record<string, unknown>>);
            read.onerror = () => reject(read.error);
          });
        } finally {
          db.close();
        }
      }, table),
    signIn,
    async signOut() {
      await page.getByTestId('sign-out').click();
      await page.getByTestId('sign-in').waitFor();
    },
    screenshot: async () => {
      const test = expect.getState().currentTestName?.split(' > ').pop();
      if (!test) throw new Error('screenshot() outside a test');
      if (taken.has(test)) throw new Error(`one screenshot per test: "${test}" has one already`);
      taken.add(test);
      const file = `${options.prefix}--${slug(test)}.png`;
      await page.screenshot({ path: join(screenshotsDir, file) });
      return file;
    },
    async close() {
      await running.browser.close();
      await running.editor.close();
      await running.demo.close();
      await rm(flowsDir, { recursive: true, force: true });
    },
  };
}

/** The centre of an element on the page. */
export async function centre(locator: Locator): Promise<{ x: number; y: number }> {
  const box = await locator.boundingBox();
  if (!box) throw new Error(`${String(locator)} is not visible`);
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** Draws an edge on the canvas: from a node's outgoing handle to another node's incoming one, with the mouse. */
export async function dragEdge(page: Page, from: string, to: string, handle: 'out' | 'error' = 'out'): Promise<void> {
  const source = await centre(page.locator(`.react-flow__node[data-id="${from}"] .react-flow__handle[data-handleid="${handle}"]`));
  const target = await centre(page.locator(`.react-flow__node[data-id="${to}"] .react-flow__handle[data-handleid="in"]`));
  await page.mouse.move(source.x, source.y);
  await page.mouse.down();
  await page.mouse.move((source.x + target.x) / 2, (source.y + target.y) / 2 + 10, { steps: 8 });
  await page.mouse.move(target.x, target.y, { steps: 8 });
  await page.mouse.up();
}
