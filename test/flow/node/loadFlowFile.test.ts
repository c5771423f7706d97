import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFlowDirectory, readFlowFile } from '../../../src/flow/node/loadFlowFile.ts';

describe('loadFlowFile (Node only)', () => {
  it('reads the flows of a directory by name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flows-'));
    writeFileSync(join(dir, 'a.flow.json'), JSON.stringify({ name: 'alpha', nodes: [], edges: [] }));
    writeFileSync(join(dir, 'b.flow.json'), JSON.stringify({ nodes: [], edges: [] }));
    writeFileSync(join(dir, 'notes.json'), '{}');
    expect(Object.keys(await readFlowDirectory(dir))).toEqual(['alpha', 'b']);
  });

  it('names the file of invalid JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flows-'));
    writeFileSync(join(dir, 'bad.flow.json'), '{ nope');
    await expect(readFlowFile(join(dir, 'bad.flow.json'))).rejects.toMatchObject({ code: 'flow_invalid', message: expect.stringContaining('bad.flow.json is not valid JSON') });
  });
});
