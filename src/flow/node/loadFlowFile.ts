/**
 * Node-only helpers: reading flows from files. The portable runtime never imports this folder.
 */
import { isUtf8 } from 'node:buffer';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FlowValidationError } from '../../errors.ts';
import type { FlowProblem } from '../validateFlow.ts';

/** The largest flow file read: the editor server's body limit (2 MB). A larger file is refused unread. */
export const MAX_FLOW_FILE_BYTES = 2 * 1024 * 1024;

/**
 * Reads and parses one flow file (JSON). Validation happens when the flow loads. A file that is
 * too large, not UTF-8 or not JSON is a FlowValidationError whose one problem says what and where
 * (`position`: the byte offset of bad UTF-8, the character offset of a JSON error when known).
 * Errors of the file system (no such file) pass through.
 *
 * @example
 * const json = await readFlowFile('flows/editTaskAndSync.flow.json');
 * const flow = loadFlow(json, { schema: demoSchema });
 */
export async function readFlowFile(path: string): Promise<unknown> {
  const invalid = (message: string, position?: number) => {
    const problem: FlowProblem = { path: '', message: `${path} ${message}` };
    if (position !== undefined) problem.position = position;
    return new FlowValidationError(path, [problem]);
  };
  const file = await open(path, 'r');
  let bytes: Buffer;
  try {
    // Read at most one byte past the limit: a huge file costs no more than that to refuse.
    const size = (await file.stat()).size;
    if (size > MAX_FLOW_FILE_BYTES) throw invalid(`is ${size} bytes: a flow file is at most ${MAX_FLOW_FILE_BYTES} bytes`);
    bytes = Buffer.alloc(MAX_FLOW_FILE_BYTES + 1);
    const { bytesRead } = await file.read(bytes, 0, bytes.length, 0);
    if (bytesRead > MAX_FLOW_FILE_BYTES) throw invalid(`is more than ${MAX_FLOW_FILE_BYTES} bytes: a flow file is at most that`);
    bytes = bytes.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
  const bad = firstInvalidUtf8(bytes);
  if (bad !== undefined) throw invalid(`is not UTF-8 text (invalid bytes at byte ${bad})`, bad);
  // A byte-order mark is valid UTF-8 but not JSON: editors on Windows write one.
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  try {
    return JSON.parse(text);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const at = /at position (\d+)/.exec(message);
    throw invalid(`is not valid JSON: ${message}`, at ? Number(at[1]) : undefined);
  }
}

/** The byte offset of the first invalid UTF-8 sequence, or undefined if the bytes are UTF-8. */
function firstInvalidUtf8(bytes: Buffer): number | undefined {
  if (isUtf8(bytes)) return undefined;
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
  // Each U+FFFD the decoder wrote is either in the file (bytes EF BF BD) or stands for bad bytes.
  let offset = 0;
  let counted = 0;
  for (let i = text.indexOf('\uFFFD'); i >= 0; i = text.indexOf('\uFFFD', i + 1)) {
    // Count bytes only since the previous U+FFFD: a file full of them stays linear.
    offset += Buffer.byteLength(text.slice(counted, i), 'utf8');
    counted = i;
    if (bytes[offset] !== 0xef || bytes[offset + 1] !== 0xbf || bytes[offset + 2] !== 0xbd) return offset;
  }
  return undefined;
}

/**
 * Reads every `*.flow.json` of a directory, by flow name (the file's `name` field, else the file name).
 *
 * @example
 * const flows = await readFlowDirectory('flows');
 * const interpreter = new Interpreter(host, { flows });
 */
export async function readFlowDirectory(dir: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.flow.json')).sort()) {
    const json = await readFlowFile(join(dir, file));
    const name = typeof (json as { name?: unknown })?.name === 'string' ? (json as { name: string }).name : file.slice(0, -'.flow.json'.length);
    out[name] = json;
  }
  return out;
}
