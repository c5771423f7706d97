/**
 * The Profiles tab over the page's runtime (real Chromium, the browser's IndexedDB, a real sync
 * server behind the editor's `/api`): each profile's direction, entities, triggers, last run from
 * the journal and next trigger, live; the Run button; the browser's `online` event reaching the
 * scheduler; and a Run profile activity's field checked against the app's profiles.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEditorWorld, type EditorWorld } from './support/editorWorld.ts';

let world: EditorWorld;

// The app may need a build, and a sync server (PGlite) starts for the sign-in: on 2 busy cores, allow 2 minutes.
beforeAll(async () => {
  world = await startEditorWorld({ prefix: 'profiles' });
  await world.page.goto(world.url);
  await world.page.getByTestId('flow-item-createForbiddenTask').waitFor();
}, 120_000);

afterAll(async () => {
  await world?.close();
});

const row = (name: string) => world.page.locator(`[data-testid="profile-row"][data-profile="${name}"]`);
const outcome = (name: string) => row(name).getAttribute('data-outcome');
const cell = (name: string, testid: string) => row(name).getByTestId(testid).textContent();

describe('the Profiles tab', { timeout: 90_000 }, () => {
  it('lists each profile with its last run and next trigger; Run shows a refusal, then a run with its counts', async () => {
    const { page } = world;
    await page.getByTestId('tab-profiles').click();
    await expect.poll(() => page.getByTestId('profile-row').count(), { timeout: 20_000 }).toBe(3);
    expect(await page.getByTestId('profile-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-profile')))).toEqual(['GetTasks', 'PushChanges', 'BackOnline']);
    const cells = await row('GetTasks').locator('td').evaluateAll((tds) => tds.slice(0, 3).map((td) => td.textContent));
    expect(cells).toEqual(['download', 'Task', 'every 900 s']);
    expect(await cell('GetTasks', 'profile-last-run')).toBe('never');
    // Periodic: the time it fires next (the scheduler runs while the page is open); others: what starts them.
    expect(await cell('GetTasks', 'profile-next')).toMatch(/^periodic at \d\d:\d\d:\d\d$/);
    expect(await cell('BackOnline', 'profile-next')).toBe('on back online');
    expect(await cell('PushChanges', 'profile-next')).toBe('run by name only');

    // Before the device's first full sync a profile is refused, with the reason, from the journal.
    await row('GetTasks').getByTestId('profile-run').click();
    await expect.poll(() => outcome('GetTasks'), { timeout: 20_000 }).toBe('refused');
    expect(await cell('GetTasks', 'profile-last-run')).toContain('a full synchronization is required first (first run)');
    expect(await cell('GetTasks', 'profile-last-run')).toContain('(editor)');

    await page.getByTestId('tab-run').click();
    await page.getByTestId('sync-all').click();
    await expect.poll(() => page.getByTestId('run-trace').textContent(), { timeout: 20_000 }).toContain('synchronized (all)');
    const tasks = (await world.readTable('Task')).length;
    expect(tasks).toBeGreaterThan(0);
    await page.getByTestId('tab-profiles').click();
    await row('GetTasks').getByTestId('profile-run').click();
    await expect.poll(() => outcome('GetTasks'), { timeout: 20_000 }).toBe('done');
    // Its first run downloads every task the user may read (its own checkpoint starts empty).
    const last = await cell('GetTasks', 'profile-last-run');
    expect(last).toContain(`Task download ${tasks}`);
    await page.getByTestId('tab-run').click();
    await expect.poll(() => page.getByTestId('run-trace').textContent()).toMatch(/profile GetTasks done: 0 uploaded, \d+ downloaded/);
    await page.getByTestId('tab-profiles').click();
    await world.screenshot();
    expect(world.pageErrors).toEqual([]);
  });

  it('the browser going back online (playwright setOffline) fires the online trigger: the profile runs, live in the list', async () => {
    const { page } = world;
    await page.getByTestId('tab-profiles').click();
    expect(await outcome('BackOnline')).toBe('never');
    const context = page.context();
    await context.setOffline(true);
    await context.setOffline(false);
    await expect.poll(() => outcome('BackOnline'), { timeout: 20_000 }).toBe('done');
    expect(await cell('BackOnline', 'profile-last-run')).toContain('(online)');
    // The journal in the page's database has the run, with its trigger.
    const entry = (await world.readTable('$journal')).filter((r) => r.kind === 'profile' && r.name === 'BackOnline');
    expect(entry).toEqual([expect.objectContaining({ trigger: 'online', outcome: 'done' })]);
    expect(world.pageErrors).toEqual([]);
  });

  it('a Run profile activity offers the app\'s profiles, and an unknown name is a problem', async () => {
    const { page } = world;
    await page.getByTestId('flow-item-createForbiddenTask').click();
    await page.getByTestId('node-sync').waitFor();
    await page.getByTestId('palette-runProfile').click();
    await expect.poll(() => page.getByTestId('properties').getAttribute('data-node')).toBe('runProfile1');
    const panel = page.getByTestId('properties');
    const input = panel.getByTestId('field-activity.profile-input');
    const options = await panel.getByTestId('field-activity.profile').locator('datalist option').evaluateAll((o) => o.map((x) => x.getAttribute('value')));
    expect(options).toEqual(['GetTasks', 'PushChanges', 'BackOnline']);
    await input.fill('Nope');
    await expect.poll(() => panel.getByTestId('field-activity.profile').textContent()).toContain('unknown sync profile "Nope"');
    await input.fill('GetTasks');
    await expect.poll(() => panel.getByTestId('field-activity.profile').textContent()).not.toContain('unknown sync profile');
    expect(world.pageErrors).toEqual([]);
  });
});
