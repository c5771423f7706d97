import { z } from 'zod';
import { ValidationError, type Problem } from '../errors.ts';
import type { EntityDef, Schema } from '../model/schema.ts';
import { isUuid, unstorableText } from '../model/values.ts';
import { isWireDate } from './isoDates.ts';
import { MAX_BATCH, MAX_FAILURES_PAGE, MAX_UPLOAD_CHANGES, type ChangeRequest } from '../transport/wire.ts';

/** Request bodies of the protocol (docs/protocol.md), checked before anything is read or written. */

const entityName = z.string().min(1).max(100);
const limit = z.number().int().min(1).max(MAX_BATCH);

export const uploadBody = z.strictObject({
  changes: z
    .array(
      z.strictObject({
        changeId: z.string().min(1).max(200).regex(/^[^\u0000]*$/, 'must not contain U+0000'),
        entity: entityName,
        id: z.string(),
        kind: z.enum(['create', 'update', 'delete']),
        data: z.record(z.string(), z.unknown()).default({}),
        // A real instant too, not only the shape: 2025-02-30 would compare as text against real stamps.
        base: z.string().refine(isWireDate, 'must be a changedDate of this server (YYYY-MM-DDTHH:MM:SS.ffffffZ)').nullish(),
      }),
    )
    .max(MAX_UPLOAD_CHANGES),
});

export const downloadBody = z.strictObject({
  entity: entityName,
  constraint: z.unknown().optional(),
  cursor: z.string().nullish(),
  since: z.string().nullish(),
  limit: limit.optional(),
  count: z.boolean().optional(),
});

export const fetchBody = z.strictObject({
  entity: entityName,
  ids: z.array(z.string()).max(MAX_BATCH),
});

export const idsBody = z.strictObject({
  entity: entityName,
  constraint: z.unknown().optional(),
  after: z.string().nullish(),
  limit: limit.optional(),
});

export const failuresQuery = z.strictObject({
  status: z.enum(['open', 'resolved', 'dismissed']).default('open'),
  limit: z
    .string()
    .regex(/^[0-9]{1,7}$/, `must be a whole number from 1 to ${MAX_FAILURES_PAGE}`)
    .transform(Number)
    .pipe(z.number().int().min(1).max(MAX_FAILURES_PAGE))
    .optional(),
  cursor: z.string().optional(),
});

/**
 * Parses a request part with a zod schema; a mismatch is a ValidationError whose problems name
 * each field as `changes[2].entity` (under `root`, e.g. `query.status`, when given).
 */
export function parseRequest<T extends z.ZodType>(schema: T, input: unknown, root = ''): z.output<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems: Problem[] = [];
  for (const issue of parsed.error.issues) {
    const at = formatPath(root, issue.path);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ path: formatPath(at, [key]), message: 'unknown field' });
    } else if (issue.code === 'invalid_type' && issue.input === undefined) {
      problems.push({ path: at || 'body', message: 'is required' });
    } else {
      problems.push({ path: at || 'body', message: issue.message });
    }
  }
  throw new ValidationError(problems);
}

function formatPath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const part of path) {
    out += typeof part === 'number' ? `[${part}]` : out ? `.${String(part)}` : String(part);
  }
  return out;
}

/** The entity named in a request, or a ValidationError naming `path`. */
export function requestEntity(schema: Schema, entity: string, path = 'entity'): EntityDef {
  if (!Object.hasOwn(schema.entities, entity)) throw ValidationError.at(path, `unknown entity "${entity}"`);
  return schema.entities[entity];
}

/** A lower-cased UUID, or a ValidationError naming `path`. */
export function requestId(value: string, path = 'id'): string {
  if (!isUuid(value)) throw ValidationError.at(path, 'must be a UUID');
  return value.toLowerCase();
}

/**
 * How deep the data of a change may nest (data itself is level 0). No member value is an
 * object, so anything deeper is invalid anyway; the bound keeps every later step (JSON
 * rendering, jsonb, a failure record) away from stack overflows.
 */
export const MAX_DATA_DEPTH = 32;

const TOO_DEEP = '[nested too deeply: not kept]';

/** Changes refused at parse time, with the failure message they get (see refusedChange). */
const refused = new WeakMap<ChangeRequest, string>();

/**
 * Why a change of a parsed upload is refused whatever the data base holds (its data nests
 * deeper than MAX_DATA_DEPTH), or undefined. Such a change fails alone as `invalid`.
 */
export function refusedChange(change: ChangeRequest): string | undefined {
  return refused.get(change);
}

/**
 * An upload body, checked as a whole before anything is applied: a change naming an unknown
 * entity or a malformed id makes the request a 400 (nothing written), naming `changes[i].field`.
 * Member values are checked per change later, where a bad one becomes an `invalid` failure; so
 * does data nested too deeply, whose copy keeps the first MAX_DATA_DEPTH levels (refusedChange).
 */
export function parseUploadRequest(schema: Schema, body: unknown): ChangeRequest[] {
  const { changes } = parseRequest(uploadBody, body);
  const problems: Problem[] = [];
  changes.forEach((c, i) => {
    if (!Object.hasOwn(schema.entities, c.entity)) problems.push({ path: `changes[${i}].entity`, message: `unknown entity "${c.entity}"` });
    if (!isUuid(c.id)) problems.push({ path: `changes[${i}].id`, message: 'must be a UUID' });
    if (unstorableText(c.changeId)) problems.push({ path: `changes[${i}].changeId`, message: 'must not contain a lone surrogate' });
  });
  if (problems.length) throw new ValidationError(problems);
  return changes.map((c) => {
    const deep = Object.keys(c.data).find((k) => deeperThan(c.data[k], MAX_DATA_DEPTH - 1));
    const parsed: ChangeRequest = { ...c, id: c.id.toLowerCase(), ...(deep === undefined ? {} : { data: truncated(c.data, 0) as Record<string, unknown> }) };
    if (deep !== undefined) refused.set(parsed, `data.${deep}: is nested too deeply (more than ${MAX_DATA_DEPTH} levels); deeper levels are not kept`);
    return parsed;
  });
}

/** Whether a JSON value nests more than `levels` levels below itself (recursion stops there). */
function deeperThan(value: unknown, levels: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (levels <= 0) return true;
  for (const v of Array.isArray(value) ? value : Object.values(value)) if (deeperThan(v, levels - 1)) return true;
  return false;
}

/** A copy of a JSON value with what lies below MAX_DATA_DEPTH replaced by a marker string. */
function truncated(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DATA_DEPTH) return TOO_DEEP;
  if (Array.isArray(value)) return value.map((v) => truncated(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, truncated(v, depth + 1)]));
}
