import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FlowValidationError } from '../../../src/errors.ts';
import { MAX_FLOW_FILE_BYTES, readFlowDirectory, readFlowFile } from '../../../src/flow/node/loadFlowFile.ts';

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

  describe('hostile files (issue 16)', () => {
    const write = (name: string, content: string | Buffer) => {
      const dir = mkdtempSync(join(tmpdir(), 'flows-'));
      writeFileSync(join(dir, name), content);
      return join(dir, name);
    };

    it('refuses a file larger than 2 MB with a problem, without reading it whole', async () => {
      const path = write('big.flow.json', Buffer.alloc(MAX_FLOW_FILE_BYTES + 1, 0x20));
      const error = await readFlowFile(path).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FlowValidationError);
      expect((error as FlowValidationError).problems).toEqual([{ path: '', message: expect.stringMatching(/big\.flow\.json is 2097153 bytes: a flow file is at most 2097152 bytes/) }]);
    });

    it('names the byte offset of invalid UTF-8 (a U+FFFD written in the file is fine)', async () => {
      const path = write('latin1.flow.json', Buffer.concat([Buffer.from('{"name": "\uFFFD caf'), Buffer.from([0xe9]), Buffer.from('"}')]));
      const error = (await readFlowFile(path).catch((e: unknown) => e)) as FlowValidationError;
      expect(error.code).toBe('flow_invalid');
      expect(error.problems).toEqual([{ path: '', position: 17, message: expect.stringContaining('is not UTF-8 text (invalid bytes at byte 17)') }]);
    });

    it('reads JSON nested 100,000 levels deep (validation then reports the depth) and a byte-order mark', async () => {
      const deep = write('deep.flow.json', '{"name": "d", "nodes": [' + '['.repeat(100_000) + ']'.repeat(100_000) + ']}');
      expect(await readFlowFile(deep)).toMatchObject({ name: 'd' });
      expect(await readFlowFile(write('bom.flow.json', '\uFEFF{"name": "b"}'))).toEqual({ name: 'b' });
    });

    it('gives the position of a JSON error when JSON.parse tells it', async () => {
      const error = (await readFlowFile(write('cut.flow.json', '{"name": ')).catch((e: unknown) => e)) as FlowValidationError;
      expect(error.problems[0]).toMatchObject({ path: '', message: expect.stringContaining('cut.flow.json is not valid JSON') });
    });
  });
});
