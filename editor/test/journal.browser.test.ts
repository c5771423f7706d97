/**
 * The sync journal in the run panel (issue 14), over the page's runtime (real Chromium, the
 * browser's IndexedDB, a real sync server behind the editor's `/api`): each Synchronize and profile
 * run with its outcome, counts, bytes and failures, newest first and live; Export JSON downloads
 * the journal's own export (no attribute values); a page of 50 with older entries on demand; the
 * keyboard and axe-core.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEditorWorld, type EditorWorld } from './support/editorWorld.ts';

let world: EditorWorld;
/** The task the server refused in the first test (its failure is dismissed in the second). */
let forbiddenId = '';
const axeSource = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// The app may need a build, and a sync server (PGlite) starts for the sign-in: on 2 busy cores, allow 2 minutes.
beforeAll(async () => {
  world = await startEditorWorld({ prefix: 'journal' });
  await world.page.goto(world.url);
  await world.page.getByTestId('flow-item-createForbiddenTask').waitFor();
}, 120_000);

afterAll(async () => {
  await world?.close();
});

const entries = () => world.page.getByTestId('journal-entry');
/** The shown entries as (kind, name, trigger, outcome), top to bottom. */
const shown = () =>
  entries().evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-kind'), r.getAttribute('data-name'), r.getAttribute('data-trigger'), r.getAttribute('data-outcome')].join(' ')));
const seqs = () => entries().evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-seq'))));

/**
 * Marks the journal view's element: a mark still there after an entry showed proves the view
 * followed the journal live, not read it again on a new mount.
 */
const markView = () => world.page.getByTestId('journal').evaluate((e) => void (e.dataset.mark = 'before'));
const viewMark = () => world.page.getByTestId('journal').evaluate((e) => e.dataset.mark ?? null);

describe('the sync journal in the run panel', { timeout: 90_000 }, () => {
  it('shows each Synchronize, live and newest first, with its outcome, counts, bytes and failure', async () => {
    const { page } = world;
    await page.getByTestId('tab-run').click();
    await page.getByTestId('data-view-journal').click();
    await page.getByTestId('journal-empty').waitFor();
    expect(await page.getByTestId('data-view-journal').getAttribute('aria-selected')).toBe('true');
    await markView();

    // Sync all from the panel while the journal shows: its entry appears without a reload.
    await page.getByTestId('sync-all').click();
    await expect.poll(shown, { timeout: 20_000 }).toEqual(['synchronize all app done']);
    expect(await viewMark()).toBe('before');
    const tasks = (await world.readTable('Task')).length;
    const projects = (await world.readTable('Project')).length;
    expect(tasks).toBeGreaterThan(0);
    const all = entries().first();
    const counts = await all.getByTestId('journal-counts').textContent();
    expect(counts).toContain(`Task: download ${tasks}`);
    expect(counts).toContain(`Project: download ${projects}`);
    // The answers' bytes were counted (a download of every task is not empty).
    expect(await all.getByTestId('journal-bytes').textContent()).toMatch(/^sent \d+(\.\d)? k?B\s*received (?!0 B)\d+(\.\d)? k?B$/);
    expect(await all.getByTestId('journal-issues').textContent()).toBe('none');
    expect(await all.getByTestId('journal-duration').textContent()).toMatch(/^\d+(\.\d)? (ms|s)$/);
    expect(await all.locator('time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);

    // A flow whose Synchronize uploads a task the server refuses: the newest entry, with the failure.
    await page.getByTestId('flow-item-createForbiddenTask').click();
    await page.getByTestId('node-sync').waitFor();
    await page.getByTestId('run-start').click();
    await expect.poll(() => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 20_000 }).toBe('ended');
    await expect.poll(shown, { timeout: 20_000 }).toEqual(['synchronize unsynchronized app done', 'synchronize all app done']);
    expect(await viewMark()).toBe('before');
    const [first, second] = await seqs();
    expect(first).toBeGreaterThan(second);
    const forbidden = (await world.readTable('Task')).find((t) => t.title === 'A forbidden task');
    expect(forbidden).toBeDefined();
    forbiddenId = String(forbidden!.id);
    const failure = entries().first().getByTestId('journal-failure');
    expect(await failure.count()).toBe(1);
    expect(await failure.getAttribute('data-entity')).toBe('Task');
    expect(await failure.getAttribute('data-object')).toBe(forbidden!.id);
    expect(await failure.textContent()).toMatch(/^Task \S+: rejected$/);
    expect(await entries().first().getByTestId('journal-issues').textContent()).toContain('1 failure');
    // The server applied nothing of it: no upload counted.
    expect(await entries().first().getByTestId('journal-counts').textContent()).not.toContain('upload');
    await world.screenshot();
    expect(world.pageErrors).toEqual([]);
  });

  it('shows profile runs from the Profiles tab (refused, then done), and one the browser coming back online fires, live', async () => {
    const { page } = world;
    await page.getByTestId('tab-profiles').click();
    const getTasks = page.locator('[data-testid="profile-row"][data-profile="GetTasks"]');
    // The refused task's failure is unresolved: the profile does not start, and the journal says why.
    await getTasks.getByTestId('profile-run').click();
    await expect.poll(() => getTasks.getAttribute('data-outcome'), { timeout: 20_000 }).toBe('refused');
    // Back on the Run tab the journal view is still chosen, the profile's refusal on top.
    await page.getByTestId('tab-run').click();
    await expect.poll(() => shown().then((s) => s[0]), { timeout: 10_000 }).toBe('profile GetTasks editor refused');
    const refused = entries().first();
    const [entry] = (await world.readTable('$journal')).filter((e) => e.kind === 'profile');
    const error = entry.error as { code: string; message: string };
    expect(error.code).toBeTruthy();
    expect(await refused.textContent()).toContain(`${error.code}: ${error.message}`);
    expect(await refused.getByTestId('journal-skipped').allTextContents()).toEqual([`skipped run: ${(entry.skipped as Array<{ reason: string }>)[0].reason}`]);
    expect(await refused.getByTestId('journal-counts').textContent()).toBe('nothing moved');

    // The failure dismissed (from the local database view), the profile runs.
    await page.getByTestId('data-view-data').click();
    await page.getByTestId('failure-item').getByTestId('failure-dismiss').click();
    await expect.poll(() => page.getByTestId('failure-item').count()).toBe(0);
    await page.getByTestId('data-view-journal').click();
    await page.getByTestId('tab-profiles').click();
    await getTasks.getByTestId('profile-run').click();
    await expect.poll(() => getTasks.getAttribute('data-outcome'), { timeout: 20_000 }).toBe('done');
    await page.getByTestId('tab-run').click();
    await expect.poll(() => shown().then((s) => s[0]), { timeout: 10_000 }).toBe('profile GetTasks editor done');
    expect(await entries().count()).toBe(4);
    const tasks = (await world.readTable('Task')).length;
    expect(await entries().first().getByTestId('journal-counts').textContent()).toContain(`Task: download ${tasks}`);
    const journal = (await world.readTable('$journal')).filter((e) => e.kind === 'profile');
    expect(journal).toEqual([expect.objectContaining({ name: 'GetTasks', outcome: 'refused' }), expect.objectContaining({ name: 'GetTasks', outcome: 'done' })]);
    // What the profile left out, and why, as the journal has it.
    const skipped = (journal[1].skipped as Array<{ what: string; reason: string }>).map((s) => `skipped ${s.what}: ${s.reason}`);
    expect(await entries().first().getByTestId('journal-skipped').allTextContents()).toEqual(skipped);

    // A background run while the journal shows: the browser goes offline and back, BackOnline runs.
    await markView();
    const context = page.context();
    await context.setOffline(true);
    await context.setOffline(false);
    await expect.poll(() => shown().then((s) => s[0]), { timeout: 20_000 }).toBe('profile BackOnline online done');
    expect(await viewMark()).toBe('before');
    expect(await entries().count()).toBe(5);
    expect(world.pageErrors).toEqual([]);
  });

  it('exports the journal as JSON: its entries, and no attribute values', async () => {
    const { page } = world;
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('journal-export').click()]);
    expect(download.suggestedFilename()).toMatch(/^syncflow-journal-alice-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.json$/);
    const text = await readFile(await download.path(), 'utf8');
    const exported = JSON.parse(text) as { format: string; version: number; entries: Array<Record<string, unknown>> };
    expect(exported.format).toBe('syncflow-journal');
    expect(exported.version).toBe(1);
    // Oldest first, as the journal exports; the view lists the same runs newest first.
    expect(exported.entries.map((e) => `${e.kind} ${e.name} ${e.trigger} ${e.outcome}`)).toEqual((await shown()).reverse());
    expect(exported.entries.map((e) => e.seq)).toEqual((await seqs()).reverse());
    expect(exported.entries[1]).toMatchObject({ kind: 'synchronize', name: 'unsynchronized' });
    expect(exported.entries[1].failures).toEqual([{ entity: 'Task', objectId: forbiddenId, reason: 'rejected' }]);
    // No attribute value: not the refused task's title, nor any of the objects the device holds (titles, names, descriptions).
    const values = [...(await world.readTable('Task')), ...(await world.readTable('Project'))]
      .flatMap((o) => [o.title, o.name, o.description])
      .filter((v): v is string => typeof v === 'string' && v.length > 3);
    expect(values.length).toBeGreaterThan(5);
    expect(['A forbidden task', ...values].filter((v) => text.includes(v))).toEqual([]);
    expect(world.pageErrors).toEqual([]);
  });

  it('follows the entries another tab of the editor writes (the same local database), without a reload', async () => {
    // Two tabs of one browser profile: one sign-in cookie, one IndexedDB.
    const context = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const [writer, watcher] = [await context.newPage(), await context.newPage()];
      const errors: string[] = [];
      for (const p of [writer, watcher]) p.on('pageerror', (e) => errors.push(e.message));
      await writer.goto(world.url);
      await writer.getByTestId('sign-in-token').fill('alice-token');
      await writer.getByTestId('sign-in-submit').click();
      await writer.getByTestId('flow-list').waitFor();
      await watcher.goto(world.url);
      await watcher.getByTestId('flow-list').waitFor();
      for (const p of [writer, watcher]) {
        await p.getByTestId('tab-run').click();
        await p.getByTestId('data-view-journal').click();
        await p.getByTestId('journal-empty').waitFor();
      }
      await watcher.getByTestId('journal').evaluate((e) => void (e.dataset.mark = 'before'));
      const seqsOf = (p: typeof writer) => p.getByTestId('journal-entry').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-seq'))));

      // One tab synchronizes; the other shows the entry, with the same view still mounted.
      await writer.getByTestId('sync-all').click();
      await expect.poll(() => seqsOf(writer), { timeout: 20_000 }).toHaveLength(1);
      await expect.poll(() => seqsOf(watcher), { timeout: 20_000 }).toEqual(await seqsOf(writer));
      expect(await watcher.getByTestId('journal-entry').first().getAttribute('data-name')).toBe('all');
      expect(await watcher.getByTestId('journal').evaluate((e) => e.dataset.mark ?? null)).toBe('before');

      // And the other way round.
      await watcher.getByTestId('sync-all').click();
      await expect.poll(() => seqsOf(writer), { timeout: 20_000 }).toHaveLength(2);
      expect(await seqsOf(writer)).toEqual(await seqsOf(watcher));
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('lists 50 entries at a time, older ones on demand; keyboard reachable, no serious axe violations', async () => {
    const { page } = world;
    // 60 more entries, written to the journal's table as the runtime writes them (oldest first).
    const written = await world.readTable('$journal');
    await page.evaluate(async () => {
      const name = (await indexedDB.databases()).map((d) => d.name ?? '').find((n) => n.startsWith('syncflow-editor-'))!;
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open(name);
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      const tx = db.transaction('$journal', 'readwrite');
      const now = new Date().toISOString();
      for (let i = 0; i < 60; i++) {
        tx.objectStore('$journal').add({
          kind: 'namedSync', name: `filler${i}`, trigger: 'app', startedAt: now, endedAt: now, checkpoints: { before: {}, after: {} },
          counts: [], bytes: { sent: 0, received: 0 }, failures: [], skipped: [], outcome: 'done', error: null,
        });
      }
      await new Promise((resolve, reject) => {
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
      });
      db.close();
    });
    expect(written.length).toBe(5);
    // Written behind the runtime's back: the view reads them when shown again.
    await page.getByTestId('data-view-data').click();
    await page.getByTestId('local-db').waitFor();
    await page.getByTestId('data-view-journal').click();
    await expect.poll(() => entries().count()).toBe(50);
    expect((await shown())[0]).toBe('namedSync filler59 app done');
    expect(await page.getByTestId('journal-shown').textContent()).toContain('the newest 50 entries');

    // From the keyboard: Tab reaches "show older", Enter shows the next page (the remaining 15).
    await page.getByTestId('journal-export').focus();
    for (let i = 0; i < 200; i++) {
      if ((await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))) === 'journal-more') break;
      await page.keyboard.press('Tab');
    }
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('journal-more');
    await page.keyboard.press('Enter');
    await expect.poll(() => entries().count()).toBe(65);
    expect(await page.getByTestId('journal-more').count()).toBe(0);
    expect((await shown()).at(-1)).toBe('synchronize all app done');
    // The tabs are reachable too: Shift+Tab back to them, Enter switches the view.
    for (let i = 0; i < 200; i++) {
      if ((await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))) === 'data-view-data') break;
      await page.keyboard.press('Shift+Tab');
    }
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute('data-testid'));
    await page.keyboard.press('Enter');
    await page.getByTestId('local-db').waitFor();
    // The switch keeps the focus on the tabs (the view it was in is gone).
    expect(await focused()).toBe('data-view-data');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('data-view-journal');
    await page.keyboard.press('Enter');
    await page.getByTestId('journal-table').waitFor();
    expect(await focused()).toBe('data-view-journal');

    // The journal spans the two right-hand columns without a horizontal scroll bar.
    const overflow = await page.getByTestId('journal').evaluate((e) => e.scrollWidth - e.clientWidth);
    expect(overflow).toBeLessThanOrEqual(1);

    // axe-core over the run panel, loaded by the driver (the page's CSP allows no injected script tag).
    await page.evaluate(await axeSource);
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(ctx: Element, o: unknown): Promise<{ passes: unknown[]; violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> } }).axe;
      const result = await axe.run(document.querySelector('[data-testid="run-panel"]')!, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
      return {
        passes: result.passes.length,
        serious: result.violations
          .filter((v) => v.impact === 'serious' || v.impact === 'critical')
          .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) })),
      };
    });
    expect(violations.serious).toEqual([]);
    // axe did check something (a run that checks nothing finds nothing).
    expect(violations.passes).toBeGreaterThan(5);
    expect(world.pageErrors).toEqual([]);
  });
});
