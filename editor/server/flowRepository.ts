/**
 * The flows of a folder as the editor sees them: list, read, save (validated with the
 * runtime's own validator, written atomically) and create. Node-only.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SyncflowError } from '../../src/errors.ts';
import { FLOW_SCHEMA_FILE } from '../../src/flow/flowJsonSchema.ts';
import type { Flow } from '../../src/flow/format.ts';
import { validateFlow, type FlowProblem } from '../../src/flow/validateFlow.ts';
import type { Schema } from '../../src/model/schema.ts';

const SUFFIX = '.flow.json';
/** A flow file's id is its file name without `.flow.json`; the same rule as a flow's name. */
const ID = /^[A-Za-z][A-Za-z0-9_.-]*$/;

export interface FlowSummary {
  /** The file name without `.flow.json`: the flow's address in the API. */
  id: string;
  file: string;
  /** The flow's `name` (the id when the file has none). */
  name: string;
  description?: string;
  /** The parsed JSON, or null when the file is not JSON. */
  flow: unknown;
  problems: FlowProblem[];
}

/** Refused: the flow would not load. Carries every problem. */
export class InvalidFlowError extends SyncflowError {
  override name = 'InvalidFlowError';
  constructor(readonly problems: FlowProblem[]) {
    super('flow_invalid', `The flow would not load: ${problems.length} problem(s)`);
  }
}

export class FlowRepository {
  constructor(
    readonly dir: string,
    private readonly schema: Schema,
  ) {}

  /**
   * Every `*.flow.json` of the folder, with its problems (validated against the others, for Call flow).
   *
   * @example
   * const flows = await new FlowRepository('flows', demoSchema).list();
   */
  async list(): Promise<FlowSummary[]> {
    const files = (await readdir(this.dir)).filter((f) => f.endsWith(SUFFIX) && ID.test(f.slice(0, -SUFFIX.length))).sort();
    const raw = await Promise.all(
      files.map(async (file) => {
        const id = file.slice(0, -SUFFIX.length);
        const text = await readFile(join(this.dir, file), 'utf8');
        try {
          return { id, file, flow: JSON.parse(text) as unknown, error: undefined };
        } catch (e) {
          return { id, file, flow: null, error: `not valid JSON: ${e instanceof Error ? e.message : String(e)}` };
        }
      }),
    );
    const byName = new Map<string, unknown>();
    for (const r of raw) byName.set(nameOf(r.flow) ?? r.id, r.flow);
    return raw.map((r) => {
      const problems: FlowProblem[] = r.error
        ? [{ path: '', message: r.error }]
        : validateFlow(r.flow, { schema: this.schema, resolveFlow: (n) => byName.get(n) }).problems;
      const description = (r.flow as { description?: unknown } | null)?.description;
      return {
        id: r.id,
        file: r.file,
        name: nameOf(r.flow) ?? r.id,
        ...(typeof description === 'string' ? { description } : {}),
        flow: r.flow,
        problems,
      };
    });
  }

  async read(id: string): Promise<FlowSummary> {
    const found = (await this.list()).find((f) => f.id === id);
    if (!found) throw new SyncflowError('not_found', `No flow "${id}" in ${this.dir}`);
    return found;
  }

  /**
   * Validates and writes a flow to `<id>.flow.json`: a temp file renamed over the old one, so a
   * reader never sees half a file. An invalid flow is refused with InvalidFlowError.
   */
  async save(id: string, flow: unknown, options: { create?: boolean } = {}): Promise<FlowSummary> {
    checkId(id);
    const path = join(this.dir, id + SUFFIX);
    const exists = await stat(path).then(() => true, () => false);
    if (options.create && exists) throw new SyncflowError('conflict', `A flow "${id}" exists already`);
    if (!options.create && !exists) throw new SyncflowError('not_found', `No flow "${id}" in ${this.dir}`);
    const others = await this.list();
    const byName = new Map<string, unknown>(others.filter((f) => f.id !== id).map((f) => [f.name, f.flow]));
    const ownName = nameOf(flow);
    if (ownName !== undefined) byName.set(ownName, flow);
    const { problems } = validateFlow(flow, { schema: this.schema, resolveFlow: (n) => byName.get(n) });
    const clash = others.find((f) => f.id !== id && ownName !== undefined && f.name === ownName);
    if (clash) problems.push({ path: 'name', message: `flow ${clash.file} is named "${ownName}" too: a name is unique in ${this.dir}` });
    if (problems.length) throw new InvalidFlowError(problems);
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, `${JSON.stringify(flow, null, 2)}\n`, 'utf8');
      await rename(tmp, path);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
    return this.read(id);
  }

  /**
   * Creates `<name>.flow.json` holding a new flow: a start node joined to an end node.
   *
   * @example
   * await repository.create('approveTask');
   */
  async create(name: string): Promise<FlowSummary> {
    checkId(name);
    const hasSchemaFile = await stat(join(this.dir, FLOW_SCHEMA_FILE)).then(() => true, () => false);
    const flow: Flow = {
      ...(hasSchemaFile ? { $schema: `./${FLOW_SCHEMA_FILE}` } : {}),
      name,
      nodes: [
        { id: 'start', type: 'start', position: { x: 0, y: 0 } },
        { id: 'end', type: 'end', position: { x: 400, y: 0 } },
      ],
      edges: [{ id: 'e1', from: 'start', to: 'end' }],
    };
    return this.save(name, flow, { create: true });
  }
}

function nameOf(flow: unknown): string | undefined {
  const name = (flow as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : undefined;
}

function checkId(id: string): void {
  if (!ID.test(id)) {
    throw new InvalidFlowError([{ path: 'name', message: 'must start with a letter and use letters, digits, _, . and -' }]);
  }
}
