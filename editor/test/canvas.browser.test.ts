/**
 * Issue 15 in the browser, defects 2 and 6: where the palette puts nodes (off the edges), dropping
 * a node onto an edge inserts it, deleting a node in the middle of a line offers to rejoin it; the
 * error-handler hint, Layout refitting the view, error edges going down, renaming to a taken id,
 * the new-flow name error beside its field, Ctrl+A selecting the nodes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { centre, startEditorWorld, type EditorWorld } from './support/editorWorld.ts';

let world: EditorWorld;
const mod = process.platform === 'darwin' ? 'Meta' : 'Control';

beforeAll(async () => {
  world = await startEditorWorld({ prefix: 'canvas' });
  await world.page.getByTestId('flow-item-renameTask').waitFor();
}, 120_000);

afterAll(async () => {
  await world?.close();
});

type Box = { x: number; y: number; width: number; height: number };
const overlaps = (a: Box, b: Box) => a.x < b.x + b.width && a.x + a.width > b.x && a.y < b.y + b.height && a.y + a.height > b.y;
type Saved = { nodes: Array<{ id: string }>; edges: Array<{ from: string; to: string }> };
const pairs = (flow: Saved) => flow.edges.map((e) => `${e.from}->${e.to}`).sort();

describe('placing nodes', { timeout: 90_000 }, () => {
  it('places a clicked node off every edge; a node dropped onto an edge is inserted; deleting it offers to rejoin', async () => {
    const { page } = world;
    await page.getByTestId('flow-item-renameTask').click();
    await page.getByTestId('node-changeTitle').waitFor();
    await page.waitForTimeout(300); // the view fits the flow

    // A click: in free space, on no edge.
    await page.getByTestId('palette-logMessage').click();
    const added = page.getByTestId('node-logMessage1');
    await added.waitFor();
    const box = (await added.boundingBox())!;
    const edgeBoxes = await page.locator('.react-flow__edge-path').evaluateAll((paths) => paths.map((p) => p.getBoundingClientRect()).map(({ x, y, width, height }) => ({ x, y, width, height })));
    expect(edgeBoxes.length).toBeGreaterThan(0);
    for (const e of edgeBoxes) expect(overlaps(box, { x: e.x - 4, y: e.y - 4, width: e.width + 8, height: e.height + 8 })).toBe(false);
    await page.keyboard.press('Delete');

    // Dropped onto the edge changeTitle -> commitTask: inserted into it.
    const from = await centre(page.getByTestId('node-changeTitle'));
    const to = await centre(page.getByTestId('node-commitTask'));
    const [a, b] = [(await page.getByTestId('node-changeTitle').boundingBox())!, (await page.getByTestId('node-commitTask').boundingBox())!];
    const target = { x: (a.x + a.width + b.x) / 2, y: (from.y + to.y) / 2 };
    const pane = (await page.locator('.react-flow__pane').boundingBox())!;
    await page.getByTestId('palette-logMessage').dragTo(page.locator('.react-flow__pane'), { targetPosition: { x: target.x - pane.x, y: target.y - pane.y } });
    await page.getByTestId('node-logMessage1').waitFor();
    await page.getByTestId('save').click();
    await expect.poll(() => page.getByTestId('notice').textContent()).toContain('Saved');
    const inserted = (await world.readFlow('renameTask')) as Saved;
    expect(pairs(inserted)).toContain('changeTitle->logMessage1');
    expect(pairs(inserted)).toContain('logMessage1->commitTask');
    expect(pairs(inserted)).not.toContain('changeTitle->commitTask');

    // Deleted from the middle of the line: the editor offers to join its neighbours again.
    await page.getByTestId('node-logMessage1').click();
    await page.keyboard.press('Delete');
    await page.getByTestId('rejoin-offer').waitFor();
    expect(await page.getByTestId('rejoin-offer').textContent()).toContain('changeTitle → commitTask');
    await world.screenshot();
    await page.getByTestId('rejoin').click();
    await page.getByTestId('save').click();
    await expect.poll(() => page.getByTestId('notice').textContent()).toContain('Saved');
    const rejoined = (await world.readFlow('renameTask')) as Saved;
    expect(pairs(rejoined)).toContain('changeTitle->commitTask');
    expect(rejoined.nodes.map((n) => n.id)).not.toContain('logMessage1');
  });
});

describe('smaller ones', { timeout: 90_000 }, () => {
  it('error-handler hint and edge, Layout refits, a taken id, the new-flow name error, Ctrl+A', async () => {
    const { page } = world;
    await page.getByTestId('flow-item-renameTask').click();
    // The hint names the bottom handle, and the problem does not speak of the file's "errorHandler": true.
    await page.getByTestId('node-changeTitle').click();
    await page.getByTestId('field-errorHandling-select').selectOption('customWithoutRollback');
    expect(await page.getByTestId('field-errorHandling-hint').textContent()).toContain('red handle at the bottom of the node');
    await expect.poll(() => page.getByTestId('field-errorHandling-problem').first().textContent()).toContain('red handle at the bottom');
    expect(await page.getByTestId('field-errorHandling-problem').first().textContent()).not.toContain('"errorHandler"');
    await page.getByTestId('undo').click();

    // Renaming to a taken id keeps the typed id with its error (no silent revert).
    const id = page.getByTestId('field-id-input');
    await id.fill('commitTask');
    await id.press('Enter');
    expect(await page.getByTestId('field-id-error').textContent()).toContain('another node has the id "commitTask"');
    expect(await id.inputValue()).toBe('commitTask');
    await expect.poll(() => page.getByTestId('notice').textContent()).toContain('Not renamed');
    await id.press('Escape');
    expect(await id.inputValue()).toBe('changeTitle');

    // An error edge from the bottom handle to a node below goes straight down, not under its node.
    await page.getByTestId('flow-item-syncWithErrorHandler').click();
    await page.getByTestId('node-showError').waitFor();
    const sync = (await page.getByTestId('node-sync').boundingBox())!;
    const errorPath = (await page.locator('.react-flow__edge.edge-error .react-flow__edge-path').boundingBox())!;
    expect(errorPath.y).toBeGreaterThanOrEqual(sync.y + sync.height - 8);
    expect(errorPath.width).toBeLessThan(12);

    // Layout fits the laid-out flow into the view.
    const pane = (await page.locator('.react-flow__pane').boundingBox())!;
    await page.mouse.move(pane.x + 100, pane.y + 100);
    await page.mouse.down();
    await page.mouse.move(pane.x + pane.width - 10, pane.y + pane.height - 10, { steps: 6 });
    await page.mouse.up();
    await page.getByTestId('layout').click();
    await page.waitForTimeout(600);
    for (const node of await page.locator('.react-flow__node').all()) {
      const b = (await node.boundingBox())!;
      expect(b.x >= pane.x && b.y >= pane.y && b.x + b.width <= pane.x + pane.width && b.y + b.height <= pane.y + pane.height).toBe(true);
    }

    // Ctrl+A selects the flow's nodes and edges, not the page's text.
    await page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } });
    await page.keyboard.press(`${mod}+a`);
    await expect.poll(() => page.locator('.react-flow__node.selected').count()).toBe(await page.locator('.react-flow__node').count());
    expect(await page.evaluate(() => window.getSelection()?.toString() ?? '')).toBe('');
    await page.keyboard.press('Escape');

    // The new-flow name error: under its field, whole.
    await page.getByTestId('new-flow').click();
    await page.getByTestId('new-flow-name').fill('not a file name!');
    // The laid-out flow is not saved: the page asks before leaving it.
    page.once('dialog', (d) => void d.accept());
    await page.getByTestId('new-flow-create').click();
    const error = page.getByTestId('new-flow-error');
    await error.waitFor();
    expect(await error.textContent()).toContain('must start with a letter');
    const [field, errorBox, left] = [(await page.getByTestId('new-flow-name').boundingBox())!, (await error.boundingBox())!, (await page.locator('aside.left').boundingBox())!];
    expect(errorBox.y - (field.y + field.height)).toBeLessThan(40);
    expect(errorBox.x + errorBox.width).toBeLessThanOrEqual(left.x + left.width);
    expect(await error.evaluate((e) => e.scrollWidth <= e.clientWidth)).toBe(true);
    await world.screenshot();
    expect(world.pageErrors).toEqual([]);
  });
});

describe('annotations', { timeout: 90_000 }, () => {
  it('adds a note on the canvas, edits and moves it, saves it with the flow, deletes it', async () => {
    const { page } = world;
    page.once('dialog', (d) => void d.accept());
    await page.getByTestId('flow-item-createForbiddenTask').click();
    await page.getByTestId('node-report').waitFor();
    await page.getByTestId('palette-annotation').click();
    await page.getByTestId('note-note1').waitFor();
    await page.getByTestId('annotation-text').fill('Ask the server team why "forbidden" is refused');
    await expect.poll(() => page.getByTestId('note-note1').textContent()).toContain('Ask the server team');
    // Dragged like a node.
    const before = (await page.getByTestId('note-note1').boundingBox())!;
    await page.mouse.move(before.x + 20, before.y + 10);
    await page.mouse.down();
    await page.mouse.move(before.x + 80, before.y + 70, { steps: 6 });
    await page.mouse.up();
    await page.getByTestId('save').click();
    await expect.poll(() => page.getByTestId('notice').textContent()).toContain('Saved');
    const saved = (await world.readFlow('createForbiddenTask')) as { annotations?: Array<{ id: string; text: string; position: { x: number; y: number } }> };
    expect(saved.annotations).toHaveLength(1);
    expect(saved.annotations![0]).toMatchObject({ id: 'note1', text: 'Ask the server team why "forbidden" is refused' });
    await world.screenshot();

    // A reload shows it again; Delete removes it.
    await page.reload();
    await page.getByTestId('note-note1').click();
    await page.keyboard.press('Delete');
    await expect.poll(() => page.getByTestId('note-note1').count()).toBe(0);
    expect(world.pageErrors).toEqual([]);
  });
});

