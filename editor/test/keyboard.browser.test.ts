/**
 * Issue 15 in the browser: copy / paste / duplicate (JSON on the clipboard, across flows), palette
 * search with quick add by typing, and keyboard and focus (skip link, tab order along the flow, a
 * focus ring, Delete on the focused node, focus kept after connect and create), checked with axe-core.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEditorWorld, type EditorWorld } from './support/editorWorld.ts';

let world: EditorWorld;
const mod = process.platform === 'darwin' ? 'Meta' : 'Control';
const axeSource = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

beforeAll(async () => {
  world = await startEditorWorld({ prefix: 'keyboard' });
  await world.page.getByTestId('flow-item-renameTask').waitFor();
}, 120_000);

afterAll(async () => {
  await world?.close();
});

const nodeIds = () => world.page.locator('.react-flow__node').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
const focusedNode = () => world.page.evaluate(() => (document.activeElement as HTMLElement | null)?.closest<HTMLElement>('.react-flow__node')?.dataset.id ?? null);

/** axe-core in the page (evaluated by the driver: the page's CSP allows no injected script tag). */
async function seriousViolations(): Promise<Array<{ id: string; impact: string; nodes: string[] }>> {
  // Loaded by the driver as a script of its own (no eval in the page, and the page's CSP allows no injected tag).
  await world.page.evaluate(await axeSource);
  return world.page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: unknown): Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
}

describe('copy, paste, duplicate; palette search', { timeout: 90_000 }, () => {
  it('duplicates a node, copies nodes as JSON and pastes them into another flow, adds from the palette by typing', async () => {
    const { page } = world;
    await page.getByTestId('flow-item-renameTask').click();
    await page.getByTestId('node-changeTitle').click();
    await page.keyboard.press(`${mod}+d`);
    await page.getByTestId('node-changeTitle2').waitFor();
    await page.keyboard.press(`${mod}+z`);
    await expect.poll(() => page.getByTestId('node-changeTitle2').count()).toBe(0);

    // Select all and copy: the clipboard holds the nodes as JSON.
    await page.locator('.react-flow__pane').click({ position: { x: 30, y: 30 } });
    await page.keyboard.press(`${mod}+a`);
    await page.keyboard.press(`${mod}+c`);
    await expect.poll(() => page.getByTestId('notice').textContent()).toMatch(/Copied 4 nodes/);

    await page.getByTestId('flow-item-createForbiddenTask').click();
    await page.getByTestId('node-report').waitFor();
    const before = await nodeIds();
    await page.locator('.react-flow__pane').click({ position: { x: 30, y: 30 } });
    await page.keyboard.press(`${mod}+v`);
    await page.getByTestId('node-changeTitle').waitFor();
    const after = await nodeIds();
    // Pasted with their ids, or new ones where this flow has them (end -> end2); the start node is not copied.
    expect(after.filter((id) => !before.includes(id)).sort()).toEqual(['changeTitle', 'commitTask', 'end2', 'syncTask']);

    // "/" goes to the palette search; Enter adds the first match.
    await page.locator('.react-flow__pane').click({ position: { x: 30, y: 30 } });
    await page.keyboard.press('/');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('palette-search');
    await page.keyboard.type('log mes');
    expect(await page.locator('.palette-item').count()).toBe(1);
    await page.keyboard.press('Enter');
    await page.getByTestId('node-logMessage1').waitFor();
    await world.screenshot();
  });
});

describe('keyboard and focus', { timeout: 90_000 }, () => {
  it('skip link, tab order along the flow, focus ring, Delete on the focused node, focus after connect and create; no serious axe violations', async () => {
    const { page } = world;
    page.once('dialog', (d) => void d.accept()); // leaves the pasted-into flow unsaved
    await page.getByTestId('flow-item-renameTask').click();
    await page.getByTestId('node-syncTask').waitFor();
    expect(await page.evaluate(() => location.hash)).toBe('#/flow/renameTask');

    // The skip link is the first stop; it takes focus to the canvas.
    // A fresh page (the flow stays in the address): Tab starts from the top.
    await page.reload();
    await page.getByTestId('node-syncTask').waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('skip-to-canvas');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('canvas');

    // Tab goes through the nodes in the order the flow runs, each with a visible focus ring.
    const order: string[] = [];
    for (let i = 0; i < 40 && order.length < 5; i++) {
      await page.keyboard.press('Tab');
      const id = await focusedNode();
      if (id && !order.includes(id)) {
        order.push(id);
        expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).not.toBe('none');
      }
    }
    expect(order).toEqual(['start', 'changeTitle', 'commitTask', 'syncTask', 'end']);

    // Delete acts on the focused node.
    await page.locator('.react-flow__node[data-id="syncTask"]').focus();
    await page.keyboard.press('Delete');
    await expect.poll(() => page.getByTestId('node-syncTask').count()).toBe(0);

    // After Connect, focus is in the new edge's panel, not at the top of the page.
    await page.getByTestId('node-commitTask').click();
    await page.getByTestId('connect-target').selectOption('end');
    await page.getByTestId('connect').click();
    await page.getByTestId('edge-properties').waitFor();
    await expect.poll(() => page.evaluate(() => Boolean(document.activeElement?.closest('[data-testid="edge-properties"]')))).toBe(true);

    // After creating a flow, focus is on its start node.
    await page.getByTestId('new-flow').click();
    await page.getByTestId('new-flow-name').fill('focusFlow');
    page.once('dialog', (d) => void d.accept()); // leaves the edited renameTask unsaved
    await page.getByTestId('new-flow-create').click();
    await expect.poll(focusedNode).toBe('start');

    const violations = await seriousViolations();
    expect(violations).toEqual([]);
    // axe did run: it knows the page (a check that finds nothing because nothing ran proves nothing).
    expect(await page.evaluate(() => typeof (window as unknown as { axe?: { version?: string } }).axe?.version)).toBe('string');
    await world.screenshot();
    expect(world.pageErrors).toEqual([]);
  });
});

describe('find usages', { timeout: 90_000 }, () => {
  it('lists where a variable is used and reveals the node; which flows call a flow', async () => {
    const { page } = world;
    page.once('dialog', (d) => void d.accept());
    await page.getByTestId('flow-item-renameTask').click();
    await page.getByTestId('node-changeTitle').waitFor();
    await page.getByTestId('tab-usages').click();
    await page.getByTestId('usages-query').fill('$task');
    await expect.poll(() => page.getByTestId('usage-item').count()).toBeGreaterThan(2);
    const nodes = await page.getByTestId('usage-item').evaluateAll((items) => [...new Set(items.map((i) => i.getAttribute('data-node')))]);
    expect(nodes).toEqual(expect.arrayContaining(['changeTitle', 'commitTask', 'syncTask', 'end']));
    await page.getByTestId('usage-item').filter({ hasText: 'commitTask' }).first().click();
    await expect.poll(() => page.getByTestId('properties').getAttribute('data-node')).toBe('commitTask');

    // A Call flow of renameTask from another flow: found from here.
    await page.getByTestId('node-commitTask').click();
    await page.getByTestId('palette-search').fill('call flow');
    await page.getByTestId('palette-search').press('Enter');
    await page.getByTestId('node-callFlow1').click();
    await page.getByTestId('field-activity.flow-input').fill('renameTask');
    await page.getByTestId('tab-usages').click();
    await page.getByTestId('usages-query').fill('renameTask');
    await expect.poll(() => page.getByTestId('usages-count').textContent()).toContain('1 usage of flow renameTask');
    await world.screenshot();
  });
});
