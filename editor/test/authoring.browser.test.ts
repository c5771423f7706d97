/**
 * The editor in Chromium at 1280x800, as `npm start` serves it: the palette is the interpreter's
 * list of activity kinds, the property panel has a field for every field of every kind (read
 * from the flow format's zod schemas), a Retrieve's where is a form, problems show on their
 * nodes, the main actions work from the keyboard, and the page's regions fit.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVITIES } from '../../src/flow/activities/index.ts';
import { activitySchema } from '../../src/flow/format.ts';
import { centre, startEditorWorld, type EditorWorld } from './support/editorWorld.ts';

let world: EditorWorld;

// The app may need a build, and a sync server (PGlite) starts for the sign-in: on 2 busy cores, allow 2 minutes.
beforeAll(async () => {
  world = await startEditorWorld({ prefix: 'authoring' });
  // Leaving a flow with unsaved changes asks first: yes.
  world.page.on('dialog', (d) => void d.accept().catch(() => undefined));
  await world.page.goto(world.url);
  await world.page.getByTestId('flow-item-editTaskAndSync').waitFor();
}, 120_000);

afterAll(async () => {
  await world?.close();
});

const mod = process.platform === 'darwin' ? 'Meta' : 'Control';
const INTERPRETER_KINDS = Object.keys(ACTIVITIES);
const schemaFields = (type: string) =>
  Object.keys((activitySchema.options.find((o) => o.shape.type.value === type)?.shape ?? {}) as Record<string, unknown>).filter((k) => k !== 'type');

/** Whether the centre of an element lies inside the canvas (the part of the flow in view). */
async function inCanvas(page: Page, testid: string): Promise<boolean> {
  const pane = await page.locator('main.canvas').boundingBox();
  const box = await page.getByTestId(testid).boundingBox();
  if (!pane || !box) return false;
  const c = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  return c.x > pane.x && c.x < pane.x + pane.width && c.y > pane.y && c.y < pane.y + pane.height;
}

/** What the focused element is: its test id, or the id of the canvas node it is. */
const focused = (page: Page) =>
  page.evaluate(() => {
    const a = document.activeElement as HTMLElement | null;
    if (a?.classList.contains('react-flow__node')) return `canvas-node:${a.getAttribute('data-id')}`;
    return a?.getAttribute('data-testid') ?? a?.tagName ?? '';
  });

/** Presses Tab until `matches` holds for the focused element (at most `limit` times). */
async function tabUntil(page: Page, matches: (focus: string) => boolean, limit = 150): Promise<string> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    const now = await focused(page);
    if (matches(now)) return now;
  }
  throw new Error(`Tab never reached the element (last: ${await focused(page)})`);
}

/** The page's regions at 1280x800: inside the window, side by side without overlapping, nothing scrolled sideways. */
async function checkLayout(page: Page): Promise<void> {
  const report = await page.evaluate(() => {
    const rect = (sel: string) => {
      const r = document.querySelector(sel)!.getBoundingClientRect();
      return { sel, left: r.left, top: r.top, right: r.right, bottom: r.bottom };
    };
    const regions = ['header.toolbar', 'aside.left', 'main.canvas', 'aside.right', 'section.dock'].map(rect);
    const overflowX = [...document.querySelectorAll<HTMLElement>('aside.left, .flow-list, .palette, aside.right, .dock-body, .run-col, .palette-item')]
      .filter((e) => e.scrollWidth > e.clientWidth + 1)
      .map((e) => `${e.className || e.tagName} (${e.scrollWidth} > ${e.clientWidth})`);
    const toolbarCut = [...document.querySelectorAll<HTMLElement>('header.toolbar button')]
      .filter((b) => {
        const r = b.getBoundingClientRect();
        return r.left < 0 || r.right > window.innerWidth || b.scrollWidth > b.clientWidth + 1;
      })
      .map((b) => b.textContent);
    return { regions, overflowX, toolbarCut, page: { w: document.documentElement.scrollWidth, h: document.documentElement.scrollHeight } };
  });
  expect(report.page).toEqual({ w: 1280, h: 800 });
  for (const r of report.regions) {
    expect(r.left, r.sel).toBeGreaterThanOrEqual(0);
    expect(r.top, r.sel).toBeGreaterThanOrEqual(0);
    expect(r.right, r.sel).toBeLessThanOrEqual(1280);
    expect(r.bottom, r.sel).toBeLessThanOrEqual(800);
    expect(r.right - r.left, r.sel).toBeGreaterThan(200);
  }
  for (let i = 0; i < report.regions.length; i++) {
    for (let j = i + 1; j < report.regions.length; j++) {
      const a = report.regions[i];
      const b = report.regions[j];
      const overlap = Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
      expect(overlap, `${a.sel} overlaps ${b.sel}`).toBe(false);
    }
  }
  expect(report.overflowX).toEqual([]);
  expect(report.toolbarCut).toEqual([]);
}

describe('authoring flows', { timeout: 60_000 }, () => {
  it('palette lists every interpreter activity kind, each with a form of all its fields', async () => {
    const { page } = world;
    await page.getByTestId('new-flow').click();
    await page.getByTestId('new-flow-name').fill('everyKind');
    await page.getByTestId('new-flow-create').click();
    await page.getByTestId('node-end').waitFor();

    // The palette is the interpreter's own list (ACTIVITIES), in its order, Synchronize included.
    const palette = await page.locator('.palette-item.palette-activity').evaluateAll((items) => items.map((i) => i.getAttribute('data-testid')!.slice('palette-'.length)));
    expect(palette).toEqual(INTERPRETER_KINDS);
    expect(palette).toContain('synchronize');

    // Dragged from the palette, a node lands where it is dropped.
    const pane = (await page.locator('.react-flow__pane').boundingBox())!;
    await page.getByTestId('palette-commit').dragTo(page.locator('.react-flow__pane'), { targetPosition: { x: 120, y: pane.height - 90 } });
    await page.getByTestId('node-commit1').waitFor();
    const dropped = await centre(page.getByTestId('node-commit1'));
    expect(Math.abs(dropped.x - (pane.x + 120))).toBeLessThan(40);
    expect(Math.abs(dropped.y - (pane.y + pane.height - 90))).toBeLessThan(40);

    for (const kind of INTERPRETER_KINDS) {
      const id = `${kind}${kind === 'commit' ? 2 : 1}`; // commit1 was dropped above
      await page.getByTestId(`palette-${kind}`).click();
      await expect.poll(() => page.getByTestId('properties').getAttribute('data-node')).toBe(id);
      const panel = page.getByTestId('properties');
      // Synchronize's variables are asked for in mode selected.
      if (kind === 'synchronize') await panel.getByTestId('field-activity.mode-select').selectOption('selected');
      for (const field of schemaFields(kind)) {
        expect(await panel.getByTestId(`field-activity.${field}`).count(), `${kind}.${field}`).toBe(1);
      }
      expect(await panel.getByTestId('field-errorHandling-select').locator('option').count()).toBe(4);
      // The panel scrolls down, never sideways.
      expect(await page.locator('aside.right').evaluate((e) => e.scrollWidth <= e.clientWidth + 1), kind).toBe(true);
      // The new node is in view (the canvas follows it when the middle is full).
      await expect.poll(() => inCanvas(page, `node-${id}`), { timeout: 2000 }).toBe(true);
    }
    // Each new activity shows its problems on itself (it is not connected yet).
    expect(await page.getByTestId('node-problems-synchronize1').textContent()).toMatch(/^\d+$/);
    await page.getByTestId('node-synchronize1').click();
    await world.screenshot();
  });

  it('edits a Retrieve’s where as a form and saves it', async () => {
    const { page } = world;
    await page.getByTestId('flow-item-openTasksLoop').click();
    await page.getByTestId('node-retrieveTasks').click();
    const panel = page.getByTestId('properties');
    await panel.getByTestId('field-activity.source.where-add').click();
    const where = 'constraint-activity.source.where';
    await panel.getByTestId(`${where}-attribute`).fill('done');
    await panel.getByTestId(`${where}-value-input`).fill('false +');
    await expect.poll(() => panel.getByTestId(`${where}-value-parse-error`).textContent()).toContain('Expected an expression');
    // With a problem, Save keeps only a draft.
    expect(await page.getByTestId('save').textContent()).toBe('Save draft');
    await panel.getByTestId(`${where}-value-input`).fill('false');

    // Make it "all of", and add a condition on an attribute the entity lacks: the validator names it.
    await panel.getByTestId(`${where}-kind`).selectOption('and');
    await panel.getByTestId(`${where}-add`).click();
    await panel.getByTestId(`${where}.and.1-attribute`).fill('estimat');
    await panel.getByTestId(`${where}.and.1-op`).selectOption('gte');
    await panel.getByTestId(`${where}.and.1-value-input`).fill('1');
    await expect.poll(() => panel.textContent()).toContain('Task has no member "estimat"');
    await page.getByTestId('node-problems-retrieveTasks').waitFor();
    await panel.getByTestId(`${where}.and.1-attribute`).fill('estimate');
    await expect.poll(() => page.getByTestId('tab-problems').textContent()).toBe('Problems 0');
    await world.screenshot();

    await page.keyboard.press(`${mod}+s`);
    await expect.poll(() => page.getByTestId('notice').textContent()).toContain('Saved openTasksLoop.flow.json');
    const saved = (await world.readFlow('openTasksLoop')) as { nodes: Array<{ id: string; activity?: { source?: { where?: unknown } } }> };
    expect(saved.nodes.find((n) => n.id === 'retrieveTasks')?.activity?.source?.where).toEqual({
      and: [
        { attribute: 'done', op: 'eq', value: 'false' },
        { attribute: 'estimate', op: 'gte', value: '1' },
      ],
    });
  });

  it('shows problems on their nodes; the Problems list reveals the node', async () => {
    const { page } = world;
    await page.getByTestId('flow-item-editTaskAndSync').click();
    await page.getByTestId('node-end').waitFor();
    expect(await page.locator('[data-testid^="node-problems-"]').count()).toBe(0);

    // An edge deleted: the node it left has no way out; the validator's message is on that node.
    await page.getByTestId('node-start').click();
    await page.getByTestId('properties').getByRole('button', { name: /^→/ }).first().click();
    await page.keyboard.press('Delete');
    await page.getByTestId('node-problems-start').waitFor();
    expect(await page.getByTestId('node-problem-start').textContent()).toMatch(/outgoing edge/);
    expect(await page.getByTestId('save').textContent()).toBe('Save draft');

    // Pan the canvas until the start node is out of view, then pick its problem in the list.
    const pane = (await page.locator('.react-flow__pane').boundingBox())!;
    await page.mouse.move(pane.x + pane.width - 20, pane.y + 20);
    await page.mouse.down();
    await page.mouse.move(pane.x + pane.width - 20 + 900, pane.y + 20, { steps: 5 });
    await page.mouse.up();
    await page.mouse.move(pane.x + 20, pane.y + pane.height - 20);
    await page.mouse.down();
    await page.mouse.move(pane.x + 20, pane.y + pane.height - 20 - 400, { steps: 5 });
    await page.mouse.up();
    await expect.poll(() => inCanvas(page, 'node-start')).toBe(false);
    await page.keyboard.press('Escape');
    await page.getByTestId('tab-problems').click();
    await page.getByTestId('problem-item').filter({ hasText: 'outgoing edge' }).first().click();
    await expect.poll(() => page.getByTestId('properties').getAttribute('data-node')).toBe('start');
    await expect.poll(() => inCanvas(page, 'node-start')).toBe(true);
    // Selected, the node shows its whole message.
    expect(await page.getByTestId('node-problem-start').evaluate((e) => getComputedStyle(e).whiteSpace)).toBe('normal');
    await world.screenshot();

    await page.keyboard.press(`${mod}+z`);
    await expect.poll(() => page.locator('[data-testid^="node-problems-"]').count()).toBe(0);
  });

  it('keyboard: Tab to palette, nodes, panels; Delete, undo, redo, save', async () => {
    const { page } = world;
    await page.getByTestId('flow-item-syncAllAtStartup').click();
    await page.getByTestId('node-syncAll').waitFor();
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    const nodes = () => page.locator('.react-flow__node').count();
    const before = await nodes();

    // The palette: Tab to an activity, Enter adds it (selected), Delete deletes it.
    await tabUntil(page, (f) => f === 'palette-logMessage');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('properties').getAttribute('data-node')).toBe('logMessage1');
    expect(await nodes()).toBe(before + 1);
    await page.keyboard.press('Delete');
    await expect.poll(nodes).toBe(before);
    await page.keyboard.press(`${mod}+z`);
    await expect.poll(nodes).toBe(before + 1);
    await page.keyboard.press(`${mod}+Shift+z`);
    await expect.poll(nodes).toBe(before);
    await page.keyboard.press(`${mod}+z`);
    await page.keyboard.press(`${mod}+z`);
    await expect.poll(nodes).toBe(before);
    await page.keyboard.press(`${mod}+y`);
    await expect.poll(nodes).toBe(before + 1);
    await page.keyboard.press(`${mod}+z`);
    await expect.poll(nodes).toBe(before);
    expect(await page.getByTestId('undo').isDisabled()).toBe(true);

    // A node of the canvas: Tab to it, Enter selects it; then on into the property panel.
    await tabUntil(page, (f) => f === 'canvas-node:syncAll');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('properties').getAttribute('data-node')).toBe('syncAll');
    await tabUntil(page, (f) => f === 'field-caption-input');
    await page.keyboard.press('End');
    await page.keyboard.type(' at startup');
    await expect.poll(() => page.getByTestId('node-syncAll').textContent()).toContain('Synchronize all objects at startup');
    await page.keyboard.press(`${mod}+s`);
    await expect.poll(() => page.getByTestId('notice').textContent()).toContain('Saved syncAllAtStartup.flow.json');
    const saved = (await world.readFlow('syncAllAtStartup')) as { nodes: Array<{ id: string; caption?: string }> };
    expect(saved.nodes.find((n) => n.id === 'syncAll')?.caption).toBe('Synchronize all objects at startup');

    // The mode of the Synchronize, from the keyboard.
    await tabUntil(page, (f) => f === 'field-activity.mode-select');
    // And on to the dock: the Run tab opens with Enter.
    await tabUntil(page, (f) => f === 'tab-run');
    await page.keyboard.press('Enter');
    await page.getByTestId('run-panel').waitFor();
    await tabUntil(page, (f) => f === 'run-start');
    await world.screenshot();
  });

  it('fits 1280x800 without overlaps or cut-offs', async () => {
    const { page } = world;
    expect(page.viewportSize()).toEqual({ width: 1280, height: 800 });
    // The largest forms: a Retrieve and a flow with parameters; then the run panel.
    await page.getByTestId('flow-item-openTasksLoop').click();
    await page.getByTestId('node-retrieveTasks').click();
    await page.getByTestId('tab-problems').click();
    await checkLayout(page);
    await page.getByTestId('flow-item-editTaskAndSync').click();
    await page.getByTestId('node-end').waitFor();
    await checkLayout(page);
    // The palette's last kind can be scrolled to and is whole.
    const last = page.getByTestId(`palette-${INTERPRETER_KINDS[INTERPRETER_KINDS.length - 1]}`);
    await last.scrollIntoViewIfNeeded();
    const box = (await last.boundingBox())!;
    const left = (await page.locator('aside.left').boundingBox())!;
    expect(box.y + box.height).toBeLessThanOrEqual(left.y + left.height);
    await page.getByTestId('tab-run').click();
    await page.getByTestId('run-panel').waitFor();
    await checkLayout(page);
    await world.screenshot();
    expect(world.pageErrors).toEqual([]);
  });
});
