/**
 * Running flows in the page: the embedded runtime on the browser's IndexedDB against the
 * sync server behind the editor's `/api`, as the signed-in user (alice, then bob).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allObjectsMachine } from '../../src/sync/machines/allObjects.ts';
import { selectedMachine } from '../../src/sync/machines/selected.ts';
import { unsynchronizedMachine } from '../../src/sync/machines/unsynchronized.ts';
import { startEditorWorld, type EditorWorld } from './support/editorWorld.ts';

let world: EditorWorld;

// The app may need a build, and a sync server (PGlite) starts for the sign-in: on 2 busy cores, allow 2 minutes.
beforeAll(async () => {
  world = await startEditorWorld({ prefix: 'run' });
  await world.page.goto(world.url);
  await world.page.getByTestId('flow-item-createForbiddenTask').waitFor();
}, 120_000);

afterAll(async () => {
  await world?.close();
});

/**
 * Records every state the sync machine view marks current, and every run mark of a canvas node,
 * as they change (proves they are live, not drawn once at the end).
 */
async function recordMachineStates(): Promise<void> {
  await world.page.evaluate(() => {
    const seen: string[] = [];
    const marks: Record<string, string[]> = {};
    Object.assign(window, { __states: seen, __marks: marks });
    const note = () => {
      const current = document.querySelector('[data-testid^="sync-state-"][data-current="true"]')?.textContent;
      if (current && seen[seen.length - 1] !== current) seen.push(current);
      for (const node of document.querySelectorAll<HTMLElement>('[data-testid^="node-"][data-run]')) {
        const list = (marks[node.dataset.testid!.slice(5)] ??= []);
        if (list[list.length - 1] !== node.dataset.run) list.push(node.dataset.run!);
      }
    };
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-current', 'data-run'] });
  });
}

const recorded = () => world.page.evaluate(() => (window as unknown as { __states: string[] }).__states);
const runMarks = () => world.page.evaluate(() => (window as unknown as { __marks: Record<string, string[]> }).__marks);
const machineStates = () => world.page.locator('[data-testid^="sync-state-"]').evaluateAll((els) => els.map((e) => e.textContent));

describe('running a flow in the editor', { timeout: 60_000 }, () => {
  it('runs a flow that synchronizes: trace, live sync machine, failure', async () => {
    const { page } = world;
    await page.getByTestId('flow-item-createForbiddenTask').click();
    await page.getByTestId('node-sync').waitFor();
    await page.getByTestId('tab-run').click();
    expect(await page.getByTestId('run-user').textContent()).toBe('alice');
    await recordMachineStates();
    await page.getByTestId('run-start').click();
    await expect.poll(() => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 20_000 }).toBe('ended');

    const steps = await page.locator('[data-testid="trace-item"][data-kind="step"]').evaluateAll((items) => items.map((i) => i.getAttribute('data-node')));
    expect(steps).toEqual(['start', 'createTask', 'sync', 'report', 'end']);
    const trace = await page.getByTestId('run-trace').textContent();
    // The server refused the create: the task stays on the device with its failure (never "gone").
    expect(trace).toContain('log info: Synchronized; the task is kept');

    // The unsynchronized-objects machine, drawn from its XState definition: every state and
    // transition (root.states), the current state highlighted, the path it took marked.
    expect(await machineStates()).toEqual(Object.keys(unsynchronizedMachine.root.states));
    expect(await page.getByTestId('sync-states').locator('[data-testid^="sync-edge-"]').count()).toBe(12);
    expect(await page.getByTestId('sync-state-done').getAttribute('data-current')).toBe('true');
    expect(await page.getByTestId('sync-state-uploading').getAttribute('data-visited')).toBe('true');
    expect(await page.getByTestId('sync-state-failed').getAttribute('data-visited')).toBe('false');
    expect(await page.getByTestId('sync-state-uploadingFiles').getAttribute('data-visited')).toBe('true');
    expect(await page.getByTestId('sync-edge-uploading-uploadingFiles').getAttribute('class')).toContain('taken');
    expect(await page.getByTestId('sync-edge-uploadingFiles-refreshing').getAttribute('class')).toContain('taken');
    expect(await page.getByTestId('sync-edge-uploading-failed').getAttribute('class')).not.toContain('taken');
    expect(await page.getByTestId('sync-path').textContent()).toBe('uploading → uploadingFiles → refreshing → downloadingFiles → done');
    // Seen live: the view showed the machine in a state before its end (React may batch quick steps).
    const seen = await recorded();
    expect(seen[0]).toBe('uploading');
    expect(seen[seen.length - 1]).toBe('done');
    // The run's nodes are marked on the canvas, the Synchronize one as running while it ran.
    expect(await page.getByTestId('node-sync').getAttribute('data-run')).toBe('ok');
    expect((await runMarks()).sync).toEqual(['current', 'ok']);

    // The server refused the task: the change is kept as a failure, and the object it created stays in
    // the local database (the server never had it, so no sync removes it).
    await expect.poll(() => page.getByTestId('local-db-row').filter({ hasText: 'A forbidden task' }).count()).toBe(1);
    const failure = page.getByTestId('failure-item');
    await expect.poll(() => failure.count()).toBe(1);
    expect(await failure.textContent()).toContain('Title must not contain the word forbidden');
    expect(await failure.textContent()).toContain('rejected');
    await world.screenshot();
  });

  it('retries and dismisses a SynchronizationFailure', async () => {
    const { page } = world;
    const failure = page.getByTestId('failure-item');
    await expect.poll(() => failure.count()).toBe(1);
    await failure.getByTestId('failure-retry').click();
    await expect.poll(() => page.getByTestId('run-trace').textContent()).toContain('still failing');
    expect(await failure.count()).toBe(1);
    await failure.getByTestId('failure-dismiss').click();
    await expect.poll(() => failure.count()).toBe(0);
    expect(await page.getByTestId('failures').textContent()).toContain('None');
    await world.screenshot();
  });

  it('runs a flow with parameters as the signed-in user bob, in mode selected', async () => {
    const { page } = world;
    // No picking another user: sign out, and in as bob.
    await world.signOut();
    await world.signIn('bob-token');
    await page.getByTestId('tab-run').click();
    expect(await page.getByTestId('run-user').textContent()).toBe('bob');
    await page.getByTestId('sync-all').click();
    await expect.poll(() => page.getByTestId('sync-state-done').getAttribute('data-current'), { timeout: 20_000 }).toBe('true');
    expect(await machineStates()).toEqual(Object.keys(allObjectsMachine.root.states));
    expect(await page.getByTestId('sync-path').textContent()).toBe('uploading → uploadingFiles → downloading → downloadingFiles → done');
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
    expect(await page.getByTestId('sync-path').textContent()).toBe('classifying → uploading → uploadingFiles → refreshing → downloadingFiles → done');
    expect(await machineStates()).toEqual(Object.keys(selectedMachine.root.states));
    const seen = await recorded();
    expect(seen[0]).toBe('classifying');
    expect(seen[seen.length - 1]).toBe('done');

    // The server's before-commit handler calculated `words` of the new title; the local copy has it.
    const row = page.getByTestId('local-db-row').filter({ hasText: 'Set up the staging server today' });
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.getAttribute('class')).not.toContain('pending');
    await world.screenshot();
    expect(world.pageErrors).toEqual([]);
  });
});
