/**
 * Signing in to the editor in Chromium: the sign-in page first, a token checked by the sync
 * server, a session the page's scripts cannot read, no token of anyone in any answer the page
 * gets, a read-only editor for a user without the author role, and sign out.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEditorWorld, type EditorWorld } from './support/editorWorld.ts';

let world: EditorWorld;
/** Every answer the page got from the editor server (its own assets included). */
const bodies: string[] = [];

// The app may need a build, and a sync server (PGlite) starts for the sign-in: on 2 busy cores, allow 2 minutes.
beforeAll(async () => {
  world = await startEditorWorld({ prefix: 'sign-in', token: null });
  world.page.on('response', (res) => {
    void res.text().then((t) => bodies.push(t), () => undefined);
  });
}, 120_000);

afterAll(async () => {
  await world?.close();
});

describe('signing in to the editor', { timeout: 60_000 }, () => {
  it('shows the sign-in page first, refuses an unknown token, and signs in with a known one', async () => {
    const { page } = world;
    await page.goto(world.url);
    await page.getByTestId('sign-in').waitFor();
    expect(await page.getByTestId('flow-list').count()).toBe(0);
    await page.getByTestId('sign-in-token').fill('not-a-token');
    await page.getByTestId('sign-in-submit').click();
    await expect.poll(() => page.getByTestId('sign-in-error').textContent()).toBe('The sync server does not know this token.');
    await world.screenshot();

    await page.getByTestId('sign-in-token').fill('alice-token');
    await page.getByTestId('sign-in-submit').click();
    await page.getByTestId('flow-item-renameTask').waitFor();
    expect(await page.getByTestId('signed-in-as').textContent()).toBe('alice');
    // The session cookie is HttpOnly: the page's scripts see no cookie and keep no token.
    expect(await page.evaluate(() => document.cookie)).toBe('');
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
    expect(stored).not.toContain('token');
    // Open, run data loaded: nothing the page received holds any user's token.
    await page.getByTestId('flow-item-renameTask').click();
    await page.getByTestId('tab-run').click();
    await expect.poll(() => page.getByTestId('run-user').textContent()).toBe('alice');
    await page.getByTestId('sync-all').click();
    await expect.poll(() => page.getByTestId('sync-state-done').getAttribute('data-current'), { timeout: 20_000 }).toBe('true');
    await expect.poll(() => bodies.length).toBeGreaterThan(5);
    for (const token of ['alice-token', 'bob-token', 'carol-token']) expect(bodies.filter((b) => b.includes(token))).toEqual([]);
  });

  it('gives a user without the author role a read-only editor: open and run, no save, no new flow', async () => {
    const { page } = world;
    await world.signOut();
    await world.signIn('bob-token');
    expect(await page.getByTestId('signed-in-as').textContent()).toBe('bob (read only)');
    expect(await page.getByTestId('new-flow').isDisabled()).toBe(true);
    await page.getByTestId('flow-item-renameTask').click();
    await page.getByTestId('node-syncTask').waitFor();
    await page.getByTestId('layout').click();
    await page.getByTestId('dirty').waitFor();
    expect(await page.getByTestId('save').isDisabled()).toBe(true);
    expect(await page.getByTestId('save').getAttribute('title')).toContain('Only authors');
    // Not only a disabled button: the server refuses bob's save sent by hand from the page.
    const before = await readFile(join(world.flowsDir, 'renameTask.flow.json'), 'utf8');
    const status = await page.evaluate(async () => {
      const res = await fetch('/editor-api/flows/renameTask', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'renameTask', nodes: [], edges: [] }) });
      return res.status;
    });
    expect(status).toBe(403);
    expect(await readFile(join(world.flowsDir, 'renameTask.flow.json'), 'utf8')).toBe(before);
    await page.getByTestId('tab-run').click();
    expect(await page.getByTestId('run-user').textContent()).toBe('bob');
    expect(await page.getByTestId('run-start').isDisabled()).toBe(false);
    await world.screenshot();
  });

  it('signs out: the sign-in page again, and the old session opens nothing', async () => {
    const { page } = world;
    page.once('dialog', (d) => void d.accept().catch(() => undefined));
    await world.signOut();
    const status = await page.evaluate(async () => (await fetch('/editor-api/flows')).status);
    expect(status).toBe(401);
    expect(await page.evaluate(async () => (await fetch('/api/me')).status)).toBe(401);
    await world.screenshot();
    expect(world.pageErrors).toEqual([]);
  });
});
