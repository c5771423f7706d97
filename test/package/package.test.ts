/**
 * The packed syncflow in an app of its own, outside this repository: installed offline from
 * the tarball; a Node script serves its config and a device syncs; `npx syncflow serve` serves
 * it; the example task list (React, `syncflow` + `syncflow/react`), built with Vite, runs in
 * Chromium against it, offline and online.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS } from '../../editor/test/support/editorWorld.ts';
import { buildPage, freshApp, runScript, serveApp, timings } from './freshApp.ts';

/** A code block of the README's "Your own app in five minutes" section: the first one after `marker`. */
async function readmeBlock(marker: string): Promise<string> {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Your own app in five minutes'));
  const from = section.indexOf(marker);
  expect(from).toBeGreaterThan(0);
  return /```\w*\n([\s\S]*?)```/.exec(section.slice(from))![1];
}

/** Serves a built page's folder (index.html for every path without a file). */
function servePage(dir: string): Promise<{ server: Server; url: string }> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json' };
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path.endsWith('/') ? 'index.html' : path);
    const body = await readFile(file).catch(() => readFile(join(dir, 'index.html')));
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'text/html' }).end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

describe('the packed syncflow in a fresh app', () => {
  let app: string;
  let serve: { child: ChildProcess; url: string };
  let page: { server: Server; url: string };
  let browser: Browser;
  let tab: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    app = await freshApp();
    [serve] = await Promise.all([serveApp(app), buildPage(app)]);
    page = await servePage(join(app, 'dist'));
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    page?.server.close();
    serve?.child.kill('SIGTERM');
    console.log(`newcomer steps (ms): ${JSON.stringify(timings)}`);
  });

  it("runs the README's config and Node script as written: a server from the config, a device syncing with it", async () => {
    // In a folder of the app (its node_modules are found above): the README's files, unchanged.
    const dir = join(app, 'readme');
    await mkdir(dir);
    await writeFile(join(dir, 'syncflow.config.ts'), await readmeBlock('`syncflow.config.ts`'));
    await writeFile(join(dir, 'sync.mjs'), await readmeBlock('A device'));
    const out = await runScript(dir, 'sync.mjs');
    expect(out).toContain("title: 'Water the plants'");
    expect(out).toContain("owner: 'ann'");
    expect(out).toMatch(/changedDate: '20\d\d-/);
  });

  it('serves the app with npx syncflow serve: / is a page, the config holds', async () => {
    expect((await fetch(`${serve.url}/`)).status).toBe(200);
    const me = await fetch(`${serve.url}/api/me`, { headers: { authorization: 'Bearer ann-secret-token' } });
    expect(await me.json()).toEqual({ user: 'ann', roles: ['user'] });
  });

  it('runs the example task list in Chromium: local commits shown at once, offline, synced when back, failures with retry and dismiss', async () => {
    const context = await browser.newContext();
    tab = await context.newPage();
    tab.on('pageerror', (e) => pageErrors.push(e.message));
    await tab.goto(`${page.url}/?server=${encodeURIComponent(serve.url)}&token=ben-secret-token`);
    await tab.getByText('idle').waitFor();
    const items = tab.getByTestId('tasks').locator('li');

    // Offline: added through the addTask flow (useFlow), committed locally, listed at once (useLiveQuery).
    await context.setOffline(true);
    await tab.getByText('offline').waitFor();
    for (const title of ['Buy milk', 'Call the plumber today']) {
      await tab.getByLabel('New task').fill(title);
      await tab.getByRole('button', { name: 'Add' }).click();
      await tab.locator(`li[data-title="${title}"]`).waitFor();
    }
    // The count is its own live query: it may render a moment after the list.
    await expect.poll(() => tab.getByTestId('pending').textContent()).toBe('2');
    await tab.getByRole('button', { name: 'Sync' }).click();
    await tab.getByTestId('sync-error').waitFor();
    expect(await tab.getByTestId('pending').textContent()).toBe('2');

    // Back online: the app syncs by itself; the server's calculated word counts come back.
    await context.setOffline(false);
    await tab.getByText('online').first().waitFor();
    await tab.locator('li[data-title="Call the plumber today"] [data-testid="words"]').waitFor();
    await expect.poll(() => tab.getByTestId('pending').textContent()).toBe('0');
    expect(await items.allTextContents()).toEqual(['Buy milk (2 words)', 'Call the plumber today (4 words)']);
    const onServer = await fetch(`${serve.url}/api/me`, { headers: { authorization: 'Bearer ben-secret-token' } });
    expect((await onServer.json()).user).toBe('ben');

    // A change the server refuses becomes a failure with retry and dismiss (useFailures).
    await tab.getByLabel('New task').fill('A forbidden task');
    await tab.getByRole('button', { name: 'Add' }).click();
    await tab.getByRole('button', { name: 'Sync' }).click();
    const failure = tab.getByTestId('failures').locator('p');
    await failure.getByText('A title must not say forbidden').waitFor();
    await failure.getByRole('button', { name: 'Retry' }).click();
    await failure.getByText('A title must not say forbidden').waitFor();
    await failure.getByRole('button', { name: 'Dismiss' }).click();
    await tab.getByTestId('failures').waitFor({ state: 'detached' });
    await tab.locator('li[data-title="A forbidden task"]').waitFor({ state: 'detached' });
    expect(await items.count()).toBe(2);

    // Another user sees none of it; the same user on a new device gets it all (after a sync).
    const fresh = await browser.newContext();
    const other = await fresh.newPage();
    await other.goto(`${page.url}/?server=${encodeURIComponent(serve.url)}&token=ann-secret-token`);
    await other.getByText('idle').waitFor();
    expect(await other.getByTestId('tasks').locator('li[data-title="Buy milk"]').count()).toBe(0);
    await other.goto(`${page.url}/?server=${encodeURIComponent(serve.url)}&token=ben-secret-token`);
    await other.locator('li[data-title="Buy milk"]').waitFor();
    await fresh.close();
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
