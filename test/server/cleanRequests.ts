import fc from 'fast-check';
import { expect } from 'vitest';
import { demoSchema } from '../../src/demo/schema.ts';
import { parseIsoDateTime } from '../../src/model/values.ts';
import type { Storage } from '../../src/server/storage/Storage.ts';

/**
 * Clean and near-clean read requests (download, ids, fetch) for the generated hostile-request
 * test, and an oracle that computes their exact answers from the stored rows with plain SQL and
 * the demo app's read rules restated here (not the server's access or constraint code). Most of
 * them answer 200 with rows, so "nothing another user may not read" is checked on real answers.
 */

export type Entity = 'Project' | 'Task' | 'Attachment';
export type Reader = 'alice' | 'bob' | 'carol';

/** A row of sf_objects, read with plain SQL. */
export interface Row {
  id: string;
  owner: string;
  created: string;
  changed: string;
  data: Record<string, unknown>;
}

/** Ids and texts of the seeded data the generators draw on. */
export interface Known {
  /** Object ids by entity and owner. */
  ids: Record<Entity, Record<Reader, string[]>>;
  /** Lower-case ASCII fragments of seeded titles and names. */
  words: string[];
}

/** Answers seen so far: cursors and changedDates a later request passes back (resolved when it is sent). */
export interface Answers {
  cursors: string[];
  dates: string[];
}

type Plan =
  | { family: 'download'; caller: Reader; entity: Entity; constraint?: unknown; limit?: number; count?: boolean; since?: number; cursor?: number; walk: boolean }
  | { family: 'ids'; caller: Reader; entity: Entity; constraint?: unknown; limit?: number; after?: string; walk: boolean }
  | { family: 'fetch'; caller: Reader; entity: Entity; ids: string[] };

/** A generated read request: `refused` ones are near-clean with one defect and must answer 400. */
export type CleanRequest = Plan & { clean: true; refused: boolean; classes: string[] };

const CURRENT_USER = '[%CurrentUser%]';
const ENTITIES: Entity[] = ['Project', 'Task', 'Attachment'];
const READERS: Reader[] = ['alice', 'bob', 'carol'];

/** The demo app's read rules as its documentation states them: projects are public; tasks go to their owner, assignee and managers (carol); attachments to their owner and managers. */
export function mayRead(who: Reader, entity: Entity, row: Row): boolean {
  if (entity === 'Project' || who === 'carol' || row.owner === who) return true;
  return entity === 'Task' && row.data.assignee === who;
}

export async function storedRows(storage: Storage, entity: Entity): Promise<Row[]> {
  const wire = (c: string) => `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
  const { rows } = await storage.query<Row>(
    `SELECT id::text AS id, owner, ${wire('created_date')} AS created, ${wire('changed_date')} AS changed, data FROM sf_objects WHERE entity = $1`,
    [entity],
  );
  return rows.map((r) => ({ ...r, data: typeof r.data === 'string' ? JSON.parse(r.data) : r.data }));
}

// ------------------------------------------------------------------ generators

export function cleanRequest(known: Known): fc.Arbitrary<CleanRequest> {
  const anyOwnerId = (entity: Entity) => fc.constantFrom(...READERS).chain((who) => fc.constantFrom(...known.ids[entity][who]));
  const idValue = (entity: Entity) =>
    fc.oneof(
      { weight: 4, arbitrary: anyOwnerId(entity) },
      { weight: 1, arbitrary: anyOwnerId(entity).map((id) => id.toUpperCase()) },
      { weight: 1, arbitrary: fc.uuid() },
    );
  const user = fc.constantFrom('alice', 'bob', 'carol', CURRENT_USER);
  const iso = fc.constantFrom('2030-01-15T00:00:00Z', '2030-06-01T12:00:00+02:00', '2030-09-30T23:59:59.999-05:00', '2029-12-31T00:00:00Z');
  const number = fc.constantFrom(-1, 0, 0.5, 1.5, 2, 3.5, 4.5, 7);

  /** One comparison that fits the member's type. */
  const comparison = (entity: Entity): fc.Arbitrary<unknown> => {
    const attributes = demoSchema.entities[entity].attributes;
    const associations = Object.entries(demoSchema.entities[entity].associations);
    const options: Array<fc.Arbitrary<unknown>> = [
      fc.record({ attribute: fc.constant('owner'), op: fc.constantFrom('eq', 'ne'), value: user }),
      fc.record({ attribute: fc.constant('owner'), op: fc.constant('in'), value: fc.array(fc.oneof(user, fc.constant(null)), { minLength: 1, maxLength: 3 }) }),
      fc.record({ attribute: fc.constant('id'), op: fc.constantFrom('eq', 'ne'), value: idValue(entity) }),
      fc.record({ attribute: fc.constant('id'), op: fc.constant('in'), value: fc.array(idValue(entity), { minLength: 1, maxLength: 6 }) }),
      fc.record({ attribute: fc.constantFrom('changedDate', 'createdDate'), op: fc.constantFrom('lt', 'lte', 'gt', 'gte'), value: iso }),
    ];
    for (const [name, def] of Object.entries(attributes)) {
      const attribute = fc.constant(name);
      switch (def.type) {
        case 'boolean':
          options.push(fc.record({ attribute, op: fc.constantFrom('eq', 'ne'), value: fc.constantFrom(true, false, null) }));
          break;
        case 'integer':
        case 'decimal':
          options.push(fc.record({ attribute, op: fc.constantFrom('eq', 'ne', 'lt', 'lte', 'gt', 'gte'), value: fc.oneof(number, fc.constant(null)) }));
          options.push(fc.record({ attribute, op: fc.constant('in'), value: fc.array(number, { minLength: 1, maxLength: 3 }) }));
          break;
        case 'datetime':
          options.push(fc.record({ attribute, op: fc.constantFrom('lt', 'lte', 'gt', 'gte', 'ne'), value: fc.oneof(iso, fc.constant(null)) }));
          break;
        case 'enum':
          options.push(fc.record({ attribute, op: fc.constantFrom('eq', 'ne'), value: fc.constantFrom(...def.values!, null) }));
          options.push(fc.record({ attribute, op: fc.constant('in'), value: fc.subarray([...def.values!], { minLength: 1 }) }));
          break;
        case 'string':
          if (name === 'assignee') options.push(fc.record({ attribute, op: fc.constantFrom('eq', 'ne'), value: fc.oneof(user, fc.constant(null)) }));
          else options.push(fc.record({ attribute, op: fc.constantFrom('contains', 'startsWith'), value: fc.constantFrom(...known.words) }));
          break;
      }
    }
    for (const [name, def] of associations) {
      options.push(fc.record({ attribute: fc.constant(name), op: fc.constantFrom('eq', 'ne'), value: fc.oneof(anyOwnerId(def.target as Entity), fc.constant(null)) }));
    }
    return fc.oneof(...options);
  };
  const constraint = (entity: Entity) =>
    fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        { weight: 4, arbitrary: comparison(entity) },
        { weight: 1, arbitrary: fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((and) => ({ and })) },
        { weight: 1, arbitrary: fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((or) => ({ or })) },
        { weight: 1, arbitrary: tie('node').map((not) => ({ not })) },
      ),
    })).node;
  /** Present in `percent` of the requests. */
  const optional = <T>(a: fc.Arbitrary<T>, percent = 50) =>
    fc.oneof({ weight: 100 - percent, arbitrary: fc.constant(undefined) }, { weight: percent, arbitrary: a });

  const caller = fc.constantFrom<Reader>(...READERS);
  const plan: fc.Arbitrary<Plan & { classes: string[] }> = fc.constantFrom(...ENTITIES).chain((entity) =>
    fc.oneof(
      // A walk takes small pages: many pages, and rows sharing a changedDate across a page break.
      fc.boolean().chain((walk) =>
        fc
          .record({
            caller,
            constraint: optional(constraint(entity), 40),
            limit: walk ? fc.integer({ min: 1, max: 3 }) : optional(fc.oneof(fc.integer({ min: 1, max: 8 }), fc.constantFrom(1, 5000)), 75),
            count: optional(fc.boolean(), 30),
            since: optional(fc.nat(), 15),
            cursor: optional(fc.nat(), 20),
          })
          .map((r) => ({ family: 'download' as const, entity, ...r, walk, classes: ['clean', walk ? 'cursor walk' : 'one page'] })),
      ),
      fc.boolean().chain((walk) =>
        fc
          .record({ caller, constraint: optional(constraint(entity), 40), limit: walk ? fc.integer({ min: 1, max: 3 }) : optional(fc.integer({ min: 1, max: 8 }), 75), after: optional(idValue(entity), 15) })
          .map((r) => ({ family: 'ids' as const, entity, ...r, walk, classes: ['clean', walk ? 'ids walk' : 'one page'] })),
      ),
      caller.chain((c) =>
        fc
          // The caller's own objects (readable), anyone's, and ids of another entity (missing).
          .array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...known.ids[entity][c]) }, { weight: 3, arbitrary: idValue(entity) }, { weight: 1, arbitrary: idValue(entity === 'Task' ? 'Attachment' : 'Task') }), { maxLength: 12 })
          .chain((ids) => fc.boolean().map((dup) => ({ family: 'fetch' as const, entity, caller: c, ids: dup ? [...ids, ...ids.slice(0, 2)] : ids, classes: ['clean', "other users' ids"] }))),
      ),
    ),
  );
  /** One defect in an otherwise clean request: a value of the wrong type, a limit out of range, an unknown member, a bad id. */
  const defect = (p: Plan & { classes: string[] }): fc.Arbitrary<CleanRequest> => {
    if (p.family === 'fetch') return fc.constantFrom('not-a-uuid', '', 'ffffffff-ffff-ffff-ffff-fffffffffffff').map((bad) => ({ ...p, ids: [...p.ids, bad], clean: true, refused: true, classes: ['near-clean', 'bad id'] }));
    const badConstraint = fc.constantFrom(
      { attribute: 'estimate', op: 'gt', value: 'x' },
      { attribute: 'due', op: 'lt', value: '2030-02-30T00:00:00Z' },
      { attribute: 'done', op: 'eq', value: 'true' },
      { attribute: 'nope', op: 'eq', value: 1 },
      { attribute: 'owner', op: 'like', value: 'a%' },
      { and: [] },
    );
    return fc.oneof(
      badConstraint.map((bad) => ({ ...p, constraint: p.constraint === undefined ? bad : { and: [p.constraint, bad] }, clean: true as const, refused: true, classes: ['near-clean', 'bad constraint'] })),
      fc.constantFrom(0, -1, 5001, 2.5).map((limit) => ({ ...p, limit, clean: true as const, refused: true, classes: ['near-clean', 'bad limit'] })),
    ) as fc.Arbitrary<CleanRequest>;
  };
  return plan.chain((p) =>
    fc.oneof(
      { weight: 9, arbitrary: fc.constant({ ...p, clean: true as const, refused: false }) },
      // Hostile values a server must still answer 200 to are in the clean ones (other users' ids, foreign cursors, CURRENT_USER).
      { weight: 1, arbitrary: defect(p) },
    ),
  );
}

/** The JSON body of a plan; cursors and dates are taken from earlier answers now. */
export function requestBody(r: CleanRequest, answers: Answers): Record<string, unknown> {
  const pick = (list: string[], n: number | undefined) => (n === undefined || !list.length ? undefined : list[n % list.length]);
  const body: Record<string, unknown> = { entity: r.entity };
  if (r.family === 'fetch') body.ids = r.ids;
  else {
    if (r.constraint !== undefined) body.constraint = r.constraint;
    if (r.limit !== undefined) body.limit = r.limit;
    if (r.family === 'ids' && r.after !== undefined) body.after = r.after;
    if (r.family === 'download') {
      if (r.count !== undefined) body.count = r.count;
      const since = pick(answers.dates, r.since);
      const cursor = pick(answers.cursors, r.cursor);
      if (since) body.since = since;
      if (cursor) body.cursor = cursor;
    }
  }
  return body;
}

// ------------------------------------------------------------------ the oracle

/** Microseconds since 1970 of an ISO date and time (the server keeps microseconds). */
function micros(text: string): number {
  const date = parseIsoDateTime(text);
  if (!date) throw new Error(`the test made a bad date: ${text}`);
  const fraction = (/:\d{2}\.(\d+)/.exec(text)?.[1] ?? '').padEnd(6, '0').slice(0, 6);
  return Math.floor(date.getTime() / 1000) * 1e6 + Number(fraction);
}

const ascii = (s: string) => /^[\x20-\x7e]*$/.test(s);

type Kind = 'text' | 'numeric' | 'boolean' | 'instant';

function member(entity: Entity, name: string, row: Row): { kind: Kind; value: unknown; text: string | null } {
  switch (name) {
    case 'id':
      return { kind: 'text', value: row.id, text: row.id };
    case 'owner':
      return { kind: 'text', value: row.owner, text: row.owner };
    case 'createdDate':
      return { kind: 'instant', value: row.created, text: row.created };
    case 'changedDate':
      return { kind: 'instant', value: row.changed, text: row.changed };
  }
  const value = row.data[name] ?? null;
  const def = demoSchema.entities[entity];
  if (Object.hasOwn(def.associations, name)) return { kind: 'text', value, text: value as string | null };
  switch (def.attributes[name].type) {
    case 'integer':
    case 'decimal':
      return { kind: 'numeric', value, text: null };
    case 'boolean':
      return { kind: 'boolean', value, text: null };
    case 'datetime':
      return { kind: 'instant', value, text: value as string | null };
    default:
      return { kind: 'text', value, text: value as string | null };
  }
}

/**
 * Whether a row matches a (generated, valid) constraint, by the rules docs/protocol.md gives:
 * a comparison with an empty side is false except eq / ne null, `ne` is true against empty,
 * contains / startsWith are case-insensitive on text members. 'unknown' where JavaScript and
 * SQL may legitimately differ (case of non-ASCII text, order of non-ASCII text).
 */
function matches(c: any, entity: Entity, row: Row, caller: Reader): boolean | 'unknown' {
  const all = (list: any[], every: boolean) => {
    const results = list.map((x) => matches(x, entity, row, caller));
    if (every ? results.includes(false) : results.includes(true)) return !every;
    return results.includes('unknown') ? 'unknown' : every;
  };
  if ('and' in c) return all(c.and, true);
  if ('or' in c) return all(c.or, false);
  if ('not' in c) {
    const inner = matches(c.not, entity, row, caller);
    return inner === 'unknown' ? inner : !inner;
  }
  const m = member(entity, c.attribute, row);
  const resolve = (v: unknown) => (v === CURRENT_USER ? caller : v);
  // Text equality is exact in both; text order only for ASCII (SQL compares bytes, JavaScript UTF-16 units).
  const cmp = (a: unknown, b: unknown, order: boolean): number | 'unknown' => {
    if (m.kind === 'numeric') return Math.sign(Number(a) - Number(b));
    if (m.kind === 'boolean') return a === b ? 0 : 1;
    if (m.kind === 'instant') return Math.sign(micros(String(a)) - micros(String(b)));
    const [x, y] = [String(a), String(b)];
    if (x === y) return 0;
    if (!order) return 1;
    return ascii(x) && ascii(y) ? (x < y ? -1 : 1) : 'unknown';
  };
  const actual = m.value;
  switch (c.op) {
    case 'in': {
      const values = (c.value as unknown[]).map(resolve).filter((v) => v !== null);
      if (actual === null || !values.length) return false;
      return values.some((v) => cmp(actual, v, false) === 0);
    }
    case 'contains':
    case 'startsWith': {
      if (m.text === null) return false;
      // SQL's lower() changes ASCII letters only (C locale) or all letters (a UTF-8 locale): certain when both agree.
      const asciiLower = (t: string) => t.replace(/[A-Z]/g, (ch) => ch.toLowerCase());
      const test = (lower: (t: string) => string) => {
        const [a, v] = [lower(m.text!), lower(String(c.value))];
        return c.op === 'contains' ? a.includes(v) : a.startsWith(v);
      };
      const [narrow, wide] = [test(asciiLower), test((t) => t.toLowerCase())];
      return narrow === wide ? narrow : 'unknown';
    }
  }
  const value = resolve(c.value);
  if (value === null) return c.op === 'eq' ? actual === null : c.op === 'ne' ? actual !== null : false;
  if (actual === null) return c.op === 'ne';
  const d = cmp(actual, value, c.op !== 'eq' && c.op !== 'ne');
  if (d === 'unknown') return d;
  return { eq: d === 0, ne: d !== 0, lt: d < 0, lte: d <= 0, gt: d > 0, gte: d >= 0 }[c.op as 'eq'];
}

/** The rows the caller may read that match the request's constraint, or null when the oracle cannot tell. */
function candidates(rows: Row[], r: CleanRequest, body: Record<string, unknown>): Row[] | null {
  const out: Row[] = [];
  for (const row of rows) {
    if (!mayRead(r.caller, r.entity, row)) continue;
    const m = body.constraint === undefined ? true : matches(body.constraint, r.entity, row, r.caller);
    if (m === 'unknown') return null;
    if (m) out.push(row);
  }
  return out;
}

function decodeCursor(cursor: string): { changed: string; id: string } {
  const [, changed, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  return { changed, id };
}

const byPosition = (a: Row, b: Row) => (a.changed < b.changed ? -1 : a.changed > b.changed ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Every object of an answer is a stored row the caller may read, with the stored values. */
export function expectReadable(caller: Reader, entity: Entity, rows: Row[], objects: Array<Record<string, unknown>>, what: string): void {
  const byId = new Map(rows.map((row) => [row.id, row]));
  for (const o of objects) {
    const row = byId.get(String(o.id));
    expect(row, `an answer holds an object that is not stored: ${what}`).toBeDefined();
    expect(mayRead(caller, entity, row!), `${caller} got ${entity} ${o.id} of ${row!.owner}, which ${caller} may not read: ${what}`).toBe(true);
    expect({ owner: o.owner, createdDate: o.createdDate, changedDate: o.changedDate }, what).toEqual({ owner: row!.owner, createdDate: row!.created, changedDate: row!.changed });
    for (const [k, v] of Object.entries(row!.data)) expect(o[k], `${entity}.${k} of ${o.id}: ${what}`).toEqual(v);
  }
}

/**
 * Checks one 200 answer to a clean request against the oracle: the exact page (ids, order,
 * cursor, total). Returns the cursor or `after` to continue a walk with, and whether the oracle could tell.
 */
export function expectExactPage(r: CleanRequest, body: Record<string, unknown>, rows: Row[], answer: any, what: string): { next: string | null; exact: boolean } {
  if (r.family === 'fetch') {
    const asked = [...new Set((body.ids as string[]).map((id) => id.toLowerCase()))];
    const readable = new Set(rows.filter((row) => mayRead(r.caller, r.entity, row)).map((row) => row.id));
    const found = asked.filter((id) => readable.has(id)).sort();
    expect(answer.objects.map((o: any) => o.id), `fetch objects: ${what}`).toEqual(found);
    expect(answer.missing, `fetch missing: ${what}`).toEqual(asked.filter((id) => !readable.has(id)));
    return { next: null, exact: true };
  }
  const list = candidates(rows, r, body);
  if (!list) return { next: r.family === 'download' ? answer.cursor : answer.next, exact: false };
  if (r.family === 'ids') {
    const after = typeof body.after === 'string' ? body.after.toLowerCase() : null;
    const left = list.map((row) => row.id).filter((id) => after === null || id > after).sort();
    const limit = (body.limit as number | undefined) ?? 5000;
    const page = left.slice(0, limit);
    expect(answer.ids, `ids page: ${what}`).toEqual(page);
    expect(answer.next, `ids next: ${what}`).toBe(left.length > limit ? page.at(-1) : null);
    return { next: answer.next, exact: true };
  }
  const since = typeof body.since === 'string' ? body.since : null;
  const position = typeof body.cursor === 'string' ? decodeCursor(body.cursor) : null;
  const left = list
    .filter((row) => since === null || row.changed > since)
    .filter((row) => !position || row.changed > position.changed || (row.changed === position.changed && row.id > position.id))
    .sort(byPosition);
  const limit = (body.limit as number | undefined) ?? 1000;
  const page = left.slice(0, limit);
  expect(answer.objects.map((o: any) => o.id), `download page: ${what}`).toEqual(page.map((row) => row.id));
  expect(answer.maxChangedDate, `maxChangedDate: ${what}`).toBe(page.at(-1)?.changed ?? null);
  if (left.length > limit) expect(decodeCursor(answer.cursor), `cursor: ${what}`).toEqual({ changed: page.at(-1)!.changed, id: page.at(-1)!.id });
  else expect(answer.cursor, `cursor: ${what}`).toBeNull();
  if (body.count) expect(answer.total, `total: ${what}`).toBe(left.length);
  return { next: answer.cursor, exact: true };
}

/** What a whole walk must have returned: every matching readable row once, in cursor (or id) order. */
export function expectedWalk(r: CleanRequest, body: Record<string, unknown>, rows: Row[]): string[] | null {
  const list = candidates(rows, r, body);
  if (!list) return null;
  if (r.family === 'ids') {
    const after = typeof body.after === 'string' ? body.after.toLowerCase() : null;
    return list.map((row) => row.id).filter((id) => after === null || id > after).sort();
  }
  const since = typeof body.since === 'string' ? body.since : null;
  const position = typeof body.cursor === 'string' ? decodeCursor(body.cursor) : null;
  return list
    .filter((row) => since === null || row.changed > since)
    .filter((row) => !position || row.changed > position.changed || (row.changed === position.changed && row.id > position.id))
    .sort(byPosition)
    .map((row) => row.id);
}
