/**
 * Issue 15 in the browser: the step debugger. A breakpoint on a node pauses the run before it
 * (the node marked), the variables pane shows the flow's variables (objects expandable), step into
 * enters a called flow, step over comes back out, continue runs to the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEditorWorld, type EditorWorld } from './support/editorWorld.ts';

let world: EditorWorld;

const doubleIt = {
  name: 'doubleIt',
  parameters: [{ name: 'n', type: { type: 'integer' } }],
  returnType: { type: 'integer' },
  nodes: [
    { id: 'start', type: 'start', position: { x: 0, y: 0 } },
    { id: 'end', type: 'end', returnValue: '$n * 2', position: { x: 200, y: 0 } },
  ],
  edges: [{ from: 'start', to: 'end' }],
};
const debugMe = {
  name: 'debugMe',
  returnType: { type: 'integer' },
  nodes: [
    { id: 'start', type: 'start', position: { x: 0, y: 0 } },
    { id: 'newTask', type: 'activity', activity: { type: 'createObject', entity: 'Task', values: { title: "'Debug me'" }, outputVariable: 'task' }, position: { x: 120, y: 0 } },
    { id: 'count', type: 'activity', activity: { type: 'createVariable', variable: 'count', variableType: { type: 'integer' }, value: '20' }, position: { x: 320, y: 0 } },
    { id: 'call', type: 'activity', activity: { type: 'callFlow', flow: 'doubleIt', parameters: { n: '$count + 1' }, outputVariable: 'r' }, position: { x: 520, y: 0 } },
    { id: 'add', type: 'activity', activity: { type: 'changeVariable', variable: 'count', value: '$r' }, position: { x: 720, y: 0 } },
    { id: 'end', type: 'end', returnValue: '$count', position: { x: 920, y: 0 } },
  ],
  edges: [
    { from: 'start', to: 'newTask' },
    { from: 'newTask', to: 'count' },
    { from: 'count', to: 'call' },
    { from: 'call', to: 'add' },
    { from: 'add', to: 'end' },
  ],
};

beforeAll(async () => {
  world = await startEditorWorld({ prefix: 'debugger' });
  // The two flows, created and saved through the flows API as the page would.
  const status = await world.page.evaluate(
    async ([flows]) => {
      const answers: number[] = [];
      for (const flow of flows) {
        const headers = { 'content-type': 'application/json' };
        answers.push((await fetch('/editor-api/flows', { method: 'POST', headers, body: JSON.stringify({ name: flow.name }) })).status);
        answers.push((await fetch(`/editor-api/flows/${flow.name}`, { method: 'PUT', headers, body: JSON.stringify(flow) })).status);
      }
      return answers;
    },
    [[doubleIt, debugMe]] as const,
  );
  expect(status).toEqual([201, 200, 201, 200]);
  await world.page.reload();
  await world.page.getByTestId('flow-item-debugMe').waitFor();
}, 120_000);

afterAll(async () => {
  await world?.close();
});

describe('the step debugger', { timeout: 90_000 }, () => {
  it('pauses at a breakpoint with the variables, steps into a called flow and out, continues', async () => {
    const { page } = world;
    await page.getByTestId('flow-item-debugMe').click();
    await page.getByTestId('node-call').click();
    await page.getByTestId('toggle-breakpoint').click();
    // polled: the click's re-render may not have landed yet
    await expect.poll(() => page.getByTestId('node-call').getAttribute('data-breakpoint')).toBe('true');
    await expect.poll(() => page.getByTestId('toggle-breakpoint').getAttribute('aria-pressed')).toBe('true');

    await page.getByTestId('tab-run').click();
    await page.getByTestId('run-start').click();
    await page.getByTestId('debugger').waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('paused-at').textContent()).toBe('call');
    await expect.poll(() => page.getByTestId('node-call').getAttribute('data-paused')).toBe('true');
    expect(await page.getByTestId('var-count').textContent()).toBe('$count = 20');
    // An object variable opens to its attributes.
    await page.getByTestId('var-task').locator('summary').click();
    expect(await page.getByTestId('var-task').textContent()).toContain('"Debug me"');
    await world.screenshot();

    await page.getByTestId('debug-step-into').click();
    await expect.poll(() => page.getByTestId('paused-at').textContent()).toBe('doubleIt › start');
    expect(await page.getByTestId('var-n').textContent()).toBe('$n = 21');
    await page.getByTestId('debug-step-over').click();
    await expect.poll(() => page.getByTestId('paused-at').textContent()).toBe('doubleIt › end');
    await page.getByTestId('debug-step-over').click();
    await expect.poll(() => page.getByTestId('paused-at').textContent()).toBe('add');
    expect(await page.getByTestId('var-r').textContent()).toBe('$r = 42');

    await page.keyboard.press('F8');
    await expect.poll(() => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 20_000 }).toBe('ended');
    expect(await page.getByTestId('run-status').textContent()).toBe('ended: 42');
    await expect.poll(() => page.getByTestId('debugger').count()).toBe(0);
    expect(world.pageErrors).toEqual([]);
  });

  it('expression editor: autocomplete from the types, errors underlined, try it against the paused values', async () => {
    const { page } = world;
    await page.getByTestId('node-call').click();
    await page.getByTestId('toggle-breakpoint').click(); // off
    await page.getByTestId('node-add').click();
    await page.getByTestId('toggle-breakpoint').click(); // on
    await page.getByTestId('tab-run').click();
    await page.getByTestId('run-start').click();
    await expect.poll(() => page.getByTestId('paused-at').textContent(), { timeout: 20_000 }).toBe('add');

    const value = page.getByTestId('field-activity.value-input');
    await value.fill('');
    await value.pressSequentially('$');
    const suggestions = page.getByTestId('field-activity.value-suggestion');
    await expect.poll(() => suggestions.allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('$count'), expect.stringContaining('$task'), expect.stringContaining('$r')]));
    await value.pressSequentially('co');
    expect(await suggestions.count()).toBe(1);
    await value.press('Enter');
    expect(await value.inputValue()).toBe('$count');
    await value.pressSequentially(' + $task/');
    await expect.poll(() => suggestions.allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('title')]));
    await value.press('Escape');

    // An unknown variable is underlined where it is.
    await value.fill('$count + $nope');
    await expect.poll(() => page.getByTestId('field-activity.value-underline').textContent()).toBe('$nope');

    // Try it: evaluated against the values the run is paused with.
    await value.fill('$count + $r');
    await page.getByTestId('field-activity.value-try').click();
    await expect.poll(() => page.getByTestId('field-activity.value-try-result').textContent()).toBe('= 62');
    await value.pressSequentially(' + ');
    await page.keyboard.press('Control+Space');
    await expect.poll(() => suggestions.count()).toBeGreaterThan(5);
    await world.screenshot();
    await page.getByTestId('debug-continue').click();
    await expect.poll(() => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 20_000 }).toBe('ended');
    expect(world.pageErrors).toEqual([]);
  });
});
