/**
 * Issue 15 in the browser, defect 5: the run panel keeps track. A flow run while Sync all runs
 * keeps the machine view and says which lines are Sync all's; the last run's path goes dark once
 * the flow is edited; the local-database view is live (Dexie liveQuery), across tabs too.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allObjectsMachine } from '../../src/sync/machines/allObjects.ts';
import { screenshotsDir, startEditorWorld, type EditorWorld } from './support/editorWorld.ts';

let world: EditorWorld;

beforeAll(async () => {
  world = await startEditorWorld({ prefix: 'run-tracking' });
  await world.page.getByTestId('flow-item-renameTask').waitFor();
}, 120_000);

afterAll(async () => {
  await world?.close();
});

describe('the run panel keeps track', { timeout: 90_000 }, () => {
  it('keeps Sync all’s machine and lines while a flow runs; the last run’s path goes dark on an edit', async () => {
    const { page } = world;
    await page.getByTestId('new-flow').click();
    await page.getByTestId('new-flow-name').fill('quickFlow');
    await page.getByTestId('new-flow-create').click();
    await page.getByTestId('node-end').waitFor();
    await page.getByTestId('tab-run').click();
    // Watch for the machine view ever falling back to "No synchronization yet" once Sync all began.
    await page.evaluate(() => {
      const seen = { reset: false, started: false };
      Object.assign(window, { __view: seen });
      new MutationObserver(() => {
        if (document.querySelector('[data-testid^="sync-state-"]')) seen.started = true;
        else if (seen.started && document.querySelector('[data-testid="no-sync"]')) seen.reset = true;
      }).observe(document.body, { subtree: true, childList: true });
    });
    // Sync all's downloads wait until the flow has run: the two overlap on any machine (a quick Sync
    // all could otherwise end before the flow starts, which is another case).
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/api/download**', async (route) => {
      await held;
      await route.continue();
    });
    await page.getByTestId('sync-all').click();
    await expect.poll(() => page.getByTestId('sync-all').isDisabled()).toBe(true);
    await page.getByTestId('run-start').click();
    await expect.poll(() => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 20_000 }).toBe('ended');
    expect(await page.getByTestId('sync-all').isDisabled()).toBe(true);
    release();
    await expect.poll(() => page.getByTestId('sync-all').isDisabled(), { timeout: 20_000 }).toBe(false);
    await page.unroute('**/api/download**');

    expect(await page.evaluate(() => (window as unknown as { __view: { reset: boolean } }).__view.reset)).toBe(false);
    expect(await page.locator('[data-testid^="sync-state-"]').evaluateAll((els) => els.map((e) => e.textContent))).toEqual(Object.keys(allObjectsMachine.root.states));
    expect(await page.getByTestId('sync-state-done').getAttribute('data-current')).toBe('true');
    const lines = await page.getByTestId('trace-item').evaluateAll((items) => items.map((i) => [i.getAttribute('data-source') ?? '', i.textContent ?? ''] as const));
    const syncStart = lines.findIndex(([, text]) => text.includes('synchronize (all) started'));
    const flowStart = lines.findIndex(([, text]) => text.includes('flow quickFlow started'));
    expect(syncStart).toBeGreaterThanOrEqual(0);
    expect(flowStart).toBeGreaterThan(syncStart);
    // Each line says where it comes from: Sync all's (shown with its label) or the flow's.
    for (const [source, text] of lines) {
      if (/synchroni[sz]e|sync machine/.test(text)) expect(source).toBe('Sync all');
      else expect(source).toBe('flow quickFlow');
    }
    const syncDone = lines.findIndex(([, text]) => text.includes('synchronized (all)'));
    expect(lines[syncDone][1]).toMatch(/^Sync all/);

    // The last run's path is lit until the flow is edited.
    expect(await page.getByTestId('node-start').getAttribute('data-run')).toBe('ok');
    expect(await page.getByTestId('node-end').getAttribute('data-run')).toBe('ok');
    await page.getByTestId('layout').click();
    await expect.poll(() => page.locator('[data-testid^="node-"][data-run]').count()).toBe(0);
    await page.getByTestId('undo').click();
    expect(await page.locator('[data-testid^="node-"][data-run]').count()).toBe(0);
    await world.screenshot();
  });

  it('shows the local database live, written by another tab', async () => {
    // Two tabs of one browser profile (one IndexedDB), signed in with the same session.
    const context = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addCookies(await world.page.context().cookies());
    const [tabA, tabB] = [await context.newPage(), await context.newPage()];
    for (const tab of [tabA, tabB]) {
      await tab.goto(`${world.url}/#/flow/renameTask`);
      await tab.getByTestId('node-changeTitle').waitFor();
      await tab.getByTestId('tab-run').click();
      await tab.getByTestId('local-db-tab-Task').click();
    }
    expect(await tabA.getByTestId('local-db-row').count()).toBe(0);
    expect(await tabA.getByRole('button', { name: 'Refresh the local database view' }).count()).toBe(1);
    await tabB.getByTestId('sync-all').click();
    await expect.poll(() => tabB.getByTestId('sync-state-done').getAttribute('data-current'), { timeout: 20_000 }).toBe('true');
    // Tab A never asked: its view follows the database.
    await expect.poll(() => tabA.getByTestId('local-db-row').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await tabA.getByTestId('local-db-row').count()).toBe(await tabB.getByTestId('local-db-row').count());
    // The picture is tab A's (world.screenshot takes the world's own page).
    await tabA.screenshot({ path: join(screenshotsDir, 'run-tracking--shows-the-local-database-live-written-by-another-tab.png') });
    await context.close();
    expect(world.pageErrors).toEqual([]);
  });
});
