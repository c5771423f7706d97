/**
 * The flows of a folder as the editor sees them: list, read, save (validated with the
 * runtime's own validator, written atomically) and create. Node-only.
 *
 * A flow is validated once per change, not on every list: each file's parse is kept per file
 * version (inode, size, mtime, ctime: a save renames a new file in, so its inode changes), and
 * its problems per version plus the versions of the flows it called (Call flow) when validated.
 * No message names the folder: the page, and whoever sits in front of it, need not know it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SyncflowError, ValidationError } from '../../src/errors.ts';
import { FLOW_SCHEMA_FILE } from '../../src/flow/flowJsonSchema.ts';
import type { Flow } from '../../src/flow/format.ts';
import { validateFlow, type FlowProblem } from '../../src/flow/validateFlow.ts';
import type { Schema } from '../../src/model/schema.ts';
import { jsonDepthProblem } from './jsonDepth.ts';

const SUFFIX = '.flow.json';
/** A flow file's id is its file name without `.flow.json`; the same rule as a flow's name. */
const ID = /^[A-Za-z][A-Za-z0-9_.-]*$/;
export const MAX_ID_LENGTH = 100;
/** A bigger file is listed with a problem, unread: the editor saves at most 2 MB. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;
export const NAME_RULE = `must start with a letter, use only letters, digits, _, . and -, and have at most ${MAX_ID_LENGTH} characters`;

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
  /**
   * The file's version (a hash of its bytes): the flows API's ETag. A save names the version it
   * was based on (`If-Match`) and is refused (409) when the file changed since.
   */
  version: string;
}

export interface SaveOptions {
  /** A new flow: refused when one of that name exists. */
  create?: boolean;
  /** The version(s) the save may overwrite; `*` or none: any. */
  ifMatch?: string | readonly string[];
  /** Keep it even with problems (it cannot run). */
  draft?: boolean;
}

/** Refused: the flow changed since the version the save was based on. Carries the flow as it is now. */
export class StaleFlowError extends SyncflowError {
  override name = 'StaleFlowError';
  constructor(readonly current: FlowSummary) {
    super('conflict', `The flow "${current.id}" was changed elsewhere since you opened it`);
  }
}

/** Refused: the flow would not load. Carries every problem. */
export class InvalidFlowError extends SyncflowError {
  override name = 'InvalidFlowError';
  constructor(readonly problems: FlowProblem[]) {
    super('flow_invalid', `The flow would not load: ${problems.length} problem(s)`);
  }
}

export type ValidateFlow = typeof validateFlow;

interface Parsed {
  id: string;
  file: string;
  /** The file's stat version (inode, size, times): the cache key. */
  version: string;
  /** A hash of the file's bytes: what the API calls its version. */
  hash: string;
  flow: unknown;
  error?: string;
}

interface Validated {
  version: string;
  /** Each flow name the validator asked for, and the version it found (null: none). */
  deps: Map<string, string | null>;
  problems: FlowProblem[];
}

export class FlowRepository {
  readonly #parsed = new Map<string, Parsed>();
  readonly #validated = new Map<string, Validated>();
  /** Saves one at a time: a save's check of the version it was based on and its write are one step. */
  #saving: Promise<unknown> = Promise.resolve();

  /**
   * @param validate the runtime's validator (a test may count its calls).
   * @param profiles the app's sync profile names: a Run profile activity naming another is a problem.
   */
  constructor(
    readonly dir: string,
    private readonly schema: Schema,
    private readonly validate: ValidateFlow = validateFlow,
    private readonly profiles?: readonly string[],
  ) {}

  /**
   * Every `*.flow.json` of the folder, with its problems (validated against the others, for Call flow).
   *
   * @example
   * const flows = await new FlowRepository('flows', demoSchema).list();
   */
  async list(): Promise<FlowSummary[]> {
    const files = (await readdir(this.dir)).filter((f) => f.endsWith(SUFFIX) && isId(f.slice(0, -SUFFIX.length))).sort();
    const parsed = (await Promise.all(files.map((file) => this.#parse(file)))).filter((p): p is Parsed => p !== null);
    for (const file of this.#parsed.keys()) if (!files.includes(file)) this.#parsed.delete(file);
    for (const file of this.#validated.keys()) if (!files.includes(file)) this.#validated.delete(file);

    const byName = new Map<string, Parsed>();
    for (const p of parsed) byName.set(nameOf(p.flow) ?? p.id, p);
    return parsed.map((p) => {
      const description = (p.flow as { description?: unknown } | null)?.description;
      return {
        id: p.id,
        file: p.file,
        name: nameOf(p.flow) ?? p.id,
        ...(typeof description === 'string' ? { description } : {}),
        flow: p.flow,
        problems: p.error ? [{ path: '', message: p.error }] : this.#problemsOf(p, byName),
        version: p.hash,
      };
    });
  }

  /** A flow by id: 400 for a name no flow can have, 404 when there is none. */
  async read(id: string): Promise<FlowSummary> {
    checkId(id);
    const found = (await this.list()).find((f) => f.id === id);
    if (!found) throw new SyncflowError('not_found', `No flow "${id}"`);
    return found;
  }

  /**
   * Validates and writes a flow to `<id>.flow.json`: a temp file renamed over the old one, so a
   * reader never sees half a file. An invalid flow is refused with InvalidFlowError, unless it is
   * saved as a draft (`draft`: any JSON object is kept, its problems listed; it cannot run).
   * `ifMatch` is the version the save was based on (or the versions it accepts, as an If-Match
   * list): a flow at another version is refused with StaleFlowError (`*` or none: save whatever
   * is there).
   */
  save(id: string, flow: unknown, options: SaveOptions = {}): Promise<FlowSummary> {
    const next = this.#saving.then(() => this.#save(id, flow, options));
    this.#saving = next.catch(() => undefined);
    return next;
  }

  async #save(id: string, flow: unknown, options: SaveOptions): Promise<FlowSummary> {
    checkId(id);
    const depth = jsonDepthProblem(flow);
    if (depth) throw new InvalidFlowError([depth]);
    const path = join(this.dir, id + SUFFIX);
    const exists = await stat(path).then(() => true, () => false);
    if (options.create && exists) throw new SyncflowError('conflict', `A flow "${id}" exists already`);
    if (!options.create && !exists) throw new SyncflowError('not_found', `No flow "${id}"`);
    const listed = await this.list();
    if (options.ifMatch !== undefined && options.ifMatch !== '*' && !options.create) {
      const current = listed.find((f) => f.id === id);
      const accepted = typeof options.ifMatch === 'string' ? [options.ifMatch] : options.ifMatch;
      if (current && !accepted.includes(current.version)) throw new StaleFlowError(current);
    }
    const others = listed.filter((f) => f.id !== id);
    const byName = new Map<string, unknown>(others.map((f) => [f.name, f.flow]));
    const ownName = nameOf(flow);
    if (ownName !== undefined) byName.set(ownName, flow);
    const problems = this.#validate(flow, (n) => byName.get(n));
    const clash = others.find((f) => ownName !== undefined && f.name === ownName);
    if (clash) problems.push({ path: 'name', message: `flow ${clash.file} is named "${ownName}" too: a flow's name is unique in the folder` });
    // A draft keeps a half-built flow (its problems listed with it); it must still be a flow-shaped object.
    const draftable = options.draft && typeof flow === 'object' && flow !== null && !Array.isArray(flow) && !clash;
    if (problems.length && !draftable) throw new InvalidFlowError(problems);
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, `${JSON.stringify(flow, null, 2)}\n`, 'utf8');
      await rename(tmp, path);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw new SyncflowError('internal', `The flow "${id}" could not be written`, { cause: e });
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

  /** A file parsed, once per version; null when it vanished between readdir and stat. */
  async #parse(file: string): Promise<Parsed | null> {
    const path = join(this.dir, file);
    const s = await stat(path).catch(() => null);
    if (!s?.isFile()) return null;
    const version = `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
    const cached = this.#parsed.get(file);
    if (cached?.version === version) return cached;
    const id = file.slice(0, -SUFFIX.length);
    let parsed: Parsed;
    if (s.size > MAX_FILE_BYTES) {
      parsed = { id, file, version, hash: `size-${version}`, flow: null, error: `the file is larger than ${MAX_FILE_BYTES / 1024 / 1024} MB` };
    } else {
      const bytes = await readFile(path).catch(() => null);
      if (bytes === null) return null;
      const hash = createHash('sha256').update(bytes).digest('base64url').slice(0, 22);
      try {
        const flow = JSON.parse(bytes.toString('utf8')) as unknown;
        const depth = jsonDepthProblem(flow);
        parsed = depth ? { id, file, version, hash, flow: null, error: depth.message } : { id, file, version, hash, flow };
      } catch (e) {
        parsed = { id, file, version, hash, flow: null, error: `not valid JSON: ${e instanceof Error ? e.message : 'unreadable'}` };
      }
    }
    this.#parsed.set(file, parsed);
    return parsed;
  }

  /** The problems of a listed flow: from the cache while it and the flows it calls are unchanged. */
  #problemsOf(p: Parsed, byName: ReadonlyMap<string, Parsed>): FlowProblem[] {
    const cached = this.#validated.get(p.file);
    if (cached?.version === p.version && [...cached.deps].every(([name, v]) => (byName.get(name)?.version ?? null) === v)) return cached.problems;
    const deps = new Map<string, string | null>();
    const problems = this.#validate(p.flow, (name) => {
      const found = byName.get(name);
      deps.set(name, found?.version ?? null);
      return found?.flow;
    });
    this.#validated.set(p.file, { version: p.version, deps, problems });
    return problems;
  }

  /** The validator's problems; a validator that throws (a stack overflow, say) is a problem too, never a 500. */
  #validate(flow: unknown, resolveFlow: (name: string) => unknown): FlowProblem[] {
    try {
      return [...this.validate(flow, { schema: this.schema, resolveFlow, profiles: this.profiles }).problems];
    } catch (e) {
      const why = e instanceof RangeError ? 'it is too large or too deeply nested' : 'the validator failed';
      return [{ path: '', message: `The flow could not be validated: ${why}` }];
    }
  }
}

function nameOf(flow: unknown): string | undefined {
  const name = (flow as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : undefined;
}

function isId(id: string): boolean {
  return id.length <= MAX_ID_LENGTH && ID.test(id);
}

function checkId(id: string): void {
  if (!isId(id)) throw ValidationError.at('name', NAME_RULE);
}
