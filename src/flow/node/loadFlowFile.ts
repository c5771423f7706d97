/**
 * Node-only helpers: reading flows from files. The portable runtime never imports this folder.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SyncflowError } from '../../errors.ts';

/**
 * Reads and parses one flow file (JSON). Validation happens when the flow loads.
 *
 * @example
 * const json = await readFlowFile('flows/editTaskAndSync.flow.json');
 * const flow = loadFlow(json, { schema: demoSchema });
 */
export async function readFlowFile(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SyncflowError('flow_invalid', `${path} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
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
