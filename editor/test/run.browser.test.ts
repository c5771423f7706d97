/**
 * Running flows in the page: the embedded runtime on the browser's IndexedDB against the
 * sync server behind the editor's `/api`, as a chosen demo user.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEditorWorld, type EditorWorld } from './support/editorWorld.ts';

let world: EditorWorld;

beforeAll(async () => {
  world = await startEditorWorld({ sync: true });
  await world.page.goto(world.url);
  await world.page.getByTestId('flow-item-createForbiddenTask').waitFor();
});

afterAll(async () => {
  await world?.close();
});

/** Records every state the sync machine view marks current, as it changes (proves it is live). */
async function recordMachineStates(): Promise<void> {
  await world.page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { __states: string[] }).__states = seen;
    const note = () => {
      const current = document.querySelector('[data-testid^="sync-state-"][data-current="true"]')?.textContent;
      if (current && seen[seen.length - 1] !== current) seen.push(current);
    };
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-current'] });
  });
}

const recorded = () => world.page.evaluate(() => (window as unknown as { __states: string[] }).__states);

describe('running a flow in the editor', { timeout: 60_000 }, () => {
  it('shows the trace, the sync machine’s states live, and the SynchronizationFailure it made (retry, dismiss)', async () => {
    const { page } = world;
    await page.getByTestId('flow-item-createForbiddenTask').click();
    await page.getByTestId('node-sync').waitFor();
    await page.getByTestId('tab-run').click();
    expect(await page.getByTestId('run-user').inputValue()).toBe('alice');
    await recordMachineStates();
    await page.getByTestId('run-start').click();
    await expect.poll(() => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 20_000 }).toBe('ended');

    const steps = await page.locator('[data-testid="trace-item"][data-kind="step"]').evaluateAll((items) => items.map((i) => i.getAttribute('data-node')));
    expect(steps).toEqual(['start', 'createTask', 'sync', 'report', 'end']);
    const trace = await page.getByTestId('run-trace').textContent();
    expect(trace).toContain('log info: Synchronized; the task is gone');

    // The unsynchronized-objects machine, drawn from its definition: every state, the path it took.
    expect(await page.getByTestId('sync-states').locator('li').allTextContents()).toEqual(['uploading', 'refreshing', 'done', 'failed', 'cancelled']);
    expect(await page.getByTestId('sync-state-done').getAttribute('data-current')).toBe('true');
    expect(await page.getByTestId('sync-state-uploading').getAttribute('data-visited')).toBe('true');
    expect(await page.getByTestId('sync-state-failed').getAttribute('data-visited')).toBe('false');
    expect(await page.getByTestId('sync-path').textContent()).toBe('uploading → refreshing → done');
    // Seen live: the view showed the machine in a state before its end (React may batch quick steps).
    const seen = await recorded();
    expect(seen[0]).toBe('uploading');
    expect(seen[seen.length - 1]).toBe('done');
    // The run's nodes are marked on the canvas.
    expect(await page.getByTestId('node-sync').getAttribute('data-run')).toBe('ok');

    // The server refused the task: the change is kept as a failure, the object left the local database.
    const failure = page.getByTestId('failure-item');
    await expect.poll(() => failure.count()).toBe(1);
    expect(await failure.textContent()).toContain('Title must not contain the word forbidden');
    expect(await failure.textContent()).toContain('rejected');
    await world.screenshot('6-run-sync-failure');

    await failure.getByTestId('failure-retry').click();
    await expect.poll(() => page.getByTestId('run-trace').textContent()).toContain('still failing');
    expect(await failure.count()).toBe(1);
    await failure.getByTestId('failure-dismiss').click();
    await expect.poll(() => failure.count()).toBe(0);
    await world.screenshot('7-failure-dismissed');
  });

  it('runs a flow with parameters as another user, in mode selected', async () => {
    const { page } = world;
    await page.getByTestId('run-user').selectOption('bob');
    await page.getByTestId('sync-all').click();
    await expect.poll(() => page.getByTestId('sync-state-done').getAttribute('data-current'), { timeout: 20_000 }).toBe('true');
    await expect.poll(() => page.getByTestId('local-db-tab-Task').textContent()).not.toMatch(/Task\s*0$/);

    await page.getByTestId('flow-item-renameTask').click();
    await page.getByTestId('node-syncTask').waitFor();
    const taskOption = page.getByTestId('run-param-task').locator('option', { hasText: 'Set up the staging server' });
    const taskId = await taskOption.getAttribute('value');
    await page.getByTestId('run-param-task').selectOption(taskId!);
    await page.getByTestId('run-param-title').fill('Set up the staging server today');
    await recordMachineStates();
    await page.getByTestId('run-start').click();
    await expect.poll(() => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 20_000 }).toBe('ended');
    expect(await page.getByTestId('run-status').textContent()).toContain('ended: Task');
    expect(await page.getByTestId('sync-path').textContent()).toBe('classifying → uploading → refreshing → done');
    const seen = await recorded();
    expect(seen[0]).toBe('classifying');
    expect(seen[seen.length - 1]).toBe('done');

    // The server's before-commit handler calculated `words` of the new title; the local copy has it.
    const row = page.getByTestId('local-db-row').filter({ hasText: 'Set up the staging server today' });
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.getAttribute('class')).not.toContain('pending');
    await world.screenshot('8-run-selected-as-bob');
    expect(world.pageErrors).toEqual([]);
  });
});
