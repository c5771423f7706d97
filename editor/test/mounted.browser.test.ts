/**
 * The editor as `npm start` serves it now: under `/editor/` of the sync server's own port (one
 * port). Real Chromium signs in, opens a flow, runs a flow that synchronizes through
 * `/editor/api` (the proxy adds the session's token), and a reload keeps both the sign-in and the flow;
 * the app's schema and profiles come from `/editor/editor-api/app`.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveApp, type RunningApp } from '../../src/cli/serve.ts';
import { loadConfig } from '../../src/config/loadConfig.ts';
import { CHROMIUM_ARGS, screenshotsDir, slug } from './support/editorWorld.ts';

const demoConfig = fileURLToPath(new URL('../../src/demo/syncflow.config.ts', import.meta.url));
const flowsSource = fileURLToPath(new URL('../../flows', import.meta.url));

let app: RunningApp;
let browser: Browser;
let page: Page;
let flowsDir: string;
const pageErrors: string[] = [];
const requests: string[] = [];

beforeAll(async () => {
  flowsDir = await mkdtemp(join(tmpdir(), 'syncflow-mounted-editor-'));
  await cp(flowsSource, flowsDir, { recursive: true });
  const quiet = { write: () => true } as unknown as NodeJS.WritableStream;
  [app, browser] = await Promise.all([
    loadConfig(demoConfig).then((config) =>
      serveApp(config, { port: 0, host: '127.0.0.1', editor: true, editorHost: '127.0.0.1', authorRole: 'author', flows: flowsDir }, quiet),
    ),
    chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS }),
  ]);
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('request', (r) => requests.push(new URL(r.url()).pathname));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await rm(flowsDir, { recursive: true, force: true });
});

describe('the editor under /editor/ of the sync server', { timeout: 90_000 }, () => {
  it('signs in, runs a flow that synchronizes through /editor/api, and keeps the sign-in and the flow over a reload', async () => {
    await page.goto(app.editorUrl!);
    await page.getByTestId('sign-in-token').fill('alice-token');
    await page.getByTestId('sign-in-submit').click();
    await page.getByTestId('flow-item-syncAllAtStartup').click();
    await page.getByTestId('node-syncAll').waitFor();

    await page.getByTestId('tab-run').click();
    expect(await page.getByTestId('run-user').textContent()).toBe('alice');
    await page.getByTestId('run-start').click();
    await expect.poll(() => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 30_000 }).toBe('ended');
    // Every call of the page stayed under the editor's path: the sync API through its proxy, nothing at the root.
    const calls = requests.filter((p) => p.includes('/api/'));
    expect(calls.some((p) => p.startsWith('/editor/api/download'))).toBe(true);
    expect(calls.filter((p) => !p.startsWith('/editor/'))).toEqual([]);

    await page.reload();
    await page.getByTestId('node-syncAll').waitFor();
    expect(new URL(page.url()).pathname).toBe('/editor/');
    const test = expect.getState().currentTestName!.split(' > ').pop()!;
    await page.screenshot({ path: join(screenshotsDir, `mounted--${slug(test)}.png`) });

    // The app came from the editor under its path, with the config's profiles (serve passes them).
    expect(requests).toContain('/editor/editor-api/app');
    await page.getByTestId('tab-profiles').click();
    await expect.poll(() => page.getByTestId('profile-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-profile')))).toEqual(['GetTasks', 'PushChanges', 'BackOnline']);
    expect(pageErrors).toEqual([]);
  });
});
