/**
 * The editor of an app of its own (the notes app of test/config/fixtures/notes, whose schema has
 * only `Note`), as `syncflow serve --config` serves it: the page learns the app from the editor
 * server, so it offers, validates, lists and runs against Note, never the demo's Task.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import notesConfig from '../../test/config/fixtures/notes/syncflow.config.ts';
import { startEditorWorld, type EditorWorld } from './support/editorWorld.ts';

const notesFlows = fileURLToPath(new URL('../../test/config/fixtures/notes/flows/', import.meta.url));

/** A flow of the demo's entity, which the notes app does not have. */
const taskFlow = {
  name: 'taskFlow',
  nodes: [
    { id: 'start', type: 'start', position: { x: 0, y: 0 } },
    { id: 'createTask', type: 'activity', activity: { type: 'createObject', entity: 'Task', outputVariable: 'task', values: { title: "'x'" } }, position: { x: 180, y: 0 } },
    { id: 'end', type: 'end', position: { x: 380, y: 0 } },
  ],
  edges: [
    { from: 'start', to: 'createTask' },
    { from: 'createTask', to: 'end' },
  ],
};

let world: EditorWorld;

// The app may need a build, and the notes app's sync server (PGlite) starts: on 2 busy cores, allow 2 minutes.
beforeAll(async () => {
  world = await startEditorWorld({ prefix: 'ownApp', token: null, app: { config: notesConfig, flowsDir: notesFlows } });
  await writeFile(join(world.flowsDir, 'taskFlow.flow.json'), `${JSON.stringify(taskFlow, null, 2)}\n`);
  await world.signIn('ann-secret-token');
}, 120_000);

afterAll(async () => {
  await world?.close();
});

const entityChoices = () => world.page.getByTestId('field-activity.entity').locator('option').evaluateAll((options) => options.map((o) => o.textContent));

describe("the editor of the app's own config", { timeout: 60_000 }, () => {
  it("offers the app's entities only and validates its flows against its schema, after a reload too", async () => {
    const { page } = world;
    await page.getByTestId('flow-item-addNote').click();
    await page.getByTestId('node-create').waitFor();
    await expect.poll(() => page.getByTestId('tab-problems').textContent()).toBe('Problems 0');
    await page.getByTestId('node-create').click();
    expect(await entityChoices()).toEqual(['(choose an entity)', 'Note']);

    // The demo's Task is no entity of this app: a problem on the node, as `syncflow run` would refuse it.
    await page.getByTestId('flow-item-taskFlow').click();
    await page.getByTestId('node-problems-createTask').waitFor();
    await page.getByTestId('tab-problems').click();
    const problems = await page.getByTestId('problem-item').allTextContents();
    expect(problems.some((p) => p.includes('Task'))).toBe(true);
    await page.getByTestId('node-createTask').click();
    // Shown as it is in the file, beside the app's own.
    expect(await entityChoices()).toEqual(['(choose an entity)', 'Task', 'Note']);

    // A reload shows the same flow against the same app (loaded again from the server).
    await page.reload();
    await page.getByTestId('node-problems-createTask').waitFor();
    await page.getByTestId('flow-item-addNote').click();
    await page.getByTestId('node-create').click();
    expect(await entityChoices()).toEqual(['(choose an entity)', 'Note']);
    expect(await page.getByTestId('tab-problems').textContent()).toBe('Problems 0');
    expect(world.pageErrors).toEqual([]);
  });

  it("runs a flow of the app in the page: its local database lists Note, and the Note reaches the server", async () => {
    const { page } = world;
    await page.getByTestId('flow-item-addNote').click();
    await page.getByTestId('node-sync').waitFor();
    await page.getByTestId('tab-run').click();
    expect(await page.getByTestId('run-user').textContent()).toBe('ann');
    const tabs = await page.locator('[data-testid^="local-db-tab-"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')));
    expect(tabs).toEqual(['local-db-tab-Note']);

    await page.getByTestId('run-param-text').fill('Bought milk');
    await page.getByTestId('run-start').click();
    await expect.poll(() => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 20_000 }).toBe('ended');
    const steps = await page.locator('[data-testid="trace-item"][data-kind="step"]').evaluateAll((items) => items.map((i) => i.getAttribute('data-node')));
    expect(steps).toEqual(['start', 'create', 'sync', 'end']);
    // On the device, as the server calculated it (its before-commit handler sets the length).
    await expect.poll(() => page.getByTestId('local-db-Note').textContent(), { timeout: 10_000 }).toContain('Bought milk');
    await expect.poll(() => page.getByTestId('local-db-Note').textContent()).toContain('11');

    // On the server, as ann (the editor ran the flow as the signed-in user).
    const res = await fetch(`${world.serverUrl}/api/download`, {
      method: 'POST',
      headers: { authorization: 'Bearer ann-secret-token', 'content-type': 'application/json', 'x-device-id': 'own-app-test' },
      body: JSON.stringify({ entity: 'Note' }),
    });
    expect(res.status).toBe(200);
    const { objects } = (await res.json()) as { objects: Array<{ text: string; length: number; owner: string }> };
    expect(objects).toEqual([expect.objectContaining({ text: 'Bought milk', length: 11, owner: 'ann' })]);
    await world.screenshot();

    // The Profiles tab lists the app's own profile (its config's), none of the demo's.
    await page.getByTestId('tab-profiles').click();
    await expect.poll(() => page.getByTestId('profile-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-profile')))).toEqual(['notesDown']);
    expect(world.pageErrors).toEqual([]);
  });
});
