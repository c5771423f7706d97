/**
 * Issue 15 in the browser, defects 1, 3 and 4: two tabs saving one flow (ETag / If-Match, the
 * conflict offered as reload / overwrite / merge, the notice that the open flow changed
 * elsewhere), `$latestError` outside an error handler's path, and a half-built flow kept as a draft.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { screenshotsDir, startEditorWorld, type EditorWorld } from './support/editorWorld.ts';

let world: EditorWorld;

beforeAll(async () => {
  world = await startEditorWorld({ prefix: 'flow-safety' });
  await world.page.getByTestId('flow-item-renameTask').waitFor();
}, 120_000);

afterAll(async () => {
  await world?.close();
});

type Saved = { nodes: Array<{ id: string; caption?: string; activity?: { message?: string } }> };

/** Another tab of the same signed-in browser, on a flow. */
async function secondTab(flow: string): Promise<Page> {
  // A context of its own (playwright's rule for a launched browser), signed in with the same session cookie.
  const context = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addCookies(await world.page.context().cookies());
  const tab = await context.newPage();
  await tab.goto(`${world.url}/#/flow/${flow}`);
  await tab.getByTestId('flow-list').waitFor();
  return tab;
}

async function setCaption(page: Page, node: string, caption: string): Promise<void> {
  await page.getByTestId(`node-${node}`).click();
  await page.getByTestId('field-caption-input').fill(caption);
  await page.getByTestId('field-caption-input').blur();
}

describe('safe concurrent saves', { timeout: 90_000 }, () => {
  it('refuses a stale save and merges changes of different nodes', async () => {
    const { page } = world;
    await page.getByTestId('flow-item-renameTask').click();
    await page.getByTestId('node-changeTitle').waitFor();
    const tabB = await secondTab('renameTask');
    await tabB.getByTestId('node-commitTask').waitFor();

    await setCaption(page, 'changeTitle', 'Caption from tab A');
    await page.getByTestId('save').click();
    await expect.poll(() => page.getByTestId('notice').textContent()).toContain('Saved');

    // Tab B, based on the old version: its save is refused, nothing of A's edit lost.
    await setCaption(tabB, 'commitTask', 'Caption from tab B');
    await tabB.getByTestId('save').click();
    await tabB.getByTestId('save-conflict').waitFor();
    expect((await world.readFlow('renameTask') as Saved).nodes.find((n) => n.id === 'changeTitle')?.caption).toBe('Caption from tab A');
    expect(await tabB.getByTestId('conflict-detail').textContent()).toContain('can be merged');
    await tabB.getByTestId('conflict-merge').click();
    await expect.poll(() => tabB.getByTestId('notice').textContent()).toContain('Saved');
    const merged = (await world.readFlow('renameTask')) as Saved;
    expect(merged.nodes.find((n) => n.id === 'changeTitle')?.caption).toBe('Caption from tab A');
    expect(merged.nodes.find((n) => n.id === 'commitTask')?.caption).toBe('Caption from tab B');
    expect(await tabB.getByTestId('save-conflict').count()).toBe(0);

    // Tab A is told its open flow changed elsewhere, and reloads it.
    await page.getByTestId('changed-elsewhere').waitFor({ timeout: 10_000 });
    await world.screenshot();
    await page.getByTestId('changed-reload').click();
    await page.getByTestId('node-commitTask').click();
    expect(await page.getByTestId('field-caption-input').inputValue()).toBe('Caption from tab B');
    await tabB.context().close();
  });

  it('offers reload or overwrite when both changed the same node', async () => {
    const { page } = world;
    const tabB = await secondTab('renameTask');
    await tabB.getByTestId('node-commitTask').waitFor();
    await setCaption(page, 'changeTitle', 'A again');
    await page.getByTestId('save').click();
    await expect.poll(() => page.getByTestId('notice').textContent()).toContain('Saved');

    await setCaption(tabB, 'changeTitle', 'B again');
    await tabB.getByTestId('save').click();
    await tabB.getByTestId('save-conflict').waitFor();
    expect(await tabB.getByTestId('conflict-detail').textContent()).toContain('Both changed changeTitle');
    expect(await tabB.getByTestId('conflict-merge').isDisabled()).toBe(true);
    await tabB.screenshot({ path: `${screenshotsDir}flow-safety--stale-save-in-the-second-tab-overlapping.png` });
    await tabB.getByTestId('conflict-overwrite').click();
    await expect.poll(() => tabB.getByTestId('notice').textContent()).toContain('Saved');
    expect(((await world.readFlow('renameTask')) as Saved).nodes.find((n) => n.id === 'changeTitle')?.caption).toBe('B again');

    // Reload drops mine for theirs.
    await setCaption(page, 'changeTitle', 'A lost');
    await page.getByTestId('save').click();
    await page.getByTestId('save-conflict').waitFor();
    await page.getByTestId('conflict-reload').click();
    await page.getByTestId('node-changeTitle').click();
    expect(await page.getByTestId('field-caption-input').inputValue()).toBe('B again');
    expect(await page.getByTestId('dirty').count()).toBe(0);
    await world.screenshot();
    await tabB.context().close();
  });
});

describe('problems', { timeout: 90_000 }, () => {
  it('reports $latestError outside an error handler’s path, and keeps a half-built flow as a draft that cannot run', async () => {
    const { page } = world;
    await page.getByTestId('flow-item-createForbiddenTask').click();
    await page.getByTestId('node-report').click();
    const message = page.getByTestId('field-activity.message-input');
    await message.fill("'failed: ' + $latestError/message");
    await page.getByTestId('node-problems-report').waitFor();
    await expect.poll(() => page.getByTestId('node-problem-report').textContent()).toContain("$latestError exists only in an error handler's path");

    // Saved as a draft, its problems listed; it cannot run.
    expect(await page.getByTestId('save').textContent()).toBe('Save draft');
    await page.getByTestId('save').click();
    await expect.poll(() => page.getByTestId('notice').textContent()).toContain('as a draft with 1 problem');
    const saved = (await world.readFlow('createForbiddenTask')) as Saved;
    expect(saved.nodes.find((n) => n.id === 'report')?.activity?.message).toBe("'failed: ' + $latestError/message");
    await page.getByTestId('flow-list').getByTestId('flow-item-createForbiddenTask').waitFor();
    await page.getByTestId('tab-run').click();
    expect(await page.getByTestId('run-start').isDisabled()).toBe(true);
    expect(await page.getByTestId('run-blocked').textContent()).toContain('Cannot run: 1 problem');
    await world.screenshot();
    expect(world.pageErrors).toEqual([]);
  });
});
