import { ValidationError, type Problem } from '../errors.ts';
import type { SyncObject, Values } from '../model/values.ts';
import type { AuthUser } from './AuthUser.ts';
import { objectJsonSql } from './objectSql.ts';
import type { ServerContext } from './ServerContext.ts';
import { SqlParams, sqlLiteral } from './SqlParams.ts';
import type { Queryable } from './storage/Storage.ts';

/** A stored object with what the current user may do with it. */
export interface LockedObject {
  object: SyncObject;
  readable: boolean;
  writable: boolean;
}

/** An object as written, and whether the user may read it now. */
export interface Written {
  object: SyncObject;
  readable: boolean;
}

/**
 * Object reads and writes inside one write transaction, on behalf of `user`. Every write gets
 * the transaction's clock stamp as changedDate (see tickClock). Access is checked by the
 * callers (the upload logic); handler writes go through here unchecked.
 */
export class ObjectTx {
  constructor(
    readonly ctx: ServerContext,
    readonly tx: Queryable,
    /** The transaction's changedDate, wire format. */
    readonly stamp: string,
    readonly user: AuthUser,
  ) {}

  /** What handlers keep for the rest of this transaction (HandlerContext.cache). */
  readonly cache = new Map<unknown, unknown>();

  #writes = 0;
  /** The key of each write, in order (`writes` long): what a span of the transaction touched (touchedSince). */
  readonly #log: string[] = [];
  readonly #lastWrite = new Map<string, number>();
  /** Keys of the objects this transaction removed and did not insert again since. */
  readonly #removed = new Set<string>();

  /**
   * How many object writes this transaction made so far (inserts, replaces, touches, deletes and
   * the references they cleared). With `writtenAt`, an upload tells whether an object it
   * already answered was written again later in the same transaction (a later change's handler).
   */
  get writes(): number {
    return this.#writes;
  }

  /** Every object this transaction wrote through it (not the set-based path's bulk writes). */
  written(): Array<{ entity: string; id: string }> {
    return [...this.#lastWrite.keys()].map(splitKey);
  }

  /**
   * Every object this transaction removed (a device's delete, a handler's, the objects that
   * required them) and did not insert again. A savepoint rolled back is not followed: the caller
   * checks that they are still gone.
   */
  removed(): Array<{ entity: string; id: string }> {
    return [...this.#removed].map(splitKey);
  }

  /**
   * The objects written or removed since `writes` was `mark` (each once, in first-write order):
   * what one change, or one handler call, touched. A savepoint rolled back is not followed.
   */
  touchedSince(mark: number): Array<{ entity: string; id: string }> {
    return [...new Set(this.#log.slice(mark))].map(splitKey);
  }

  /** Whether this transaction removed the object and did not insert it again. */
  isRemoved(entity: string, id: string): boolean {
    return this.#removed.has(`${entity}:${id.toLowerCase()}`);
  }

  /** The value of `writes` at an object's last write in this transaction; 0 when not written. */
  writtenAt(entity: string, id: string): number {
    return this.#lastWrite.get(`${entity}:${id.toLowerCase()}`) ?? 0;
  }

  #wrote(entity: string, id: string): void {
    const k = `${entity}:${id.toLowerCase()}`;
    this.#log.push(k);
    this.#lastWrite.set(k, ++this.#writes);
  }

  /** Locks an object (FOR UPDATE) and says whether the user may read and write it; null when absent. */
  async lock(entity: string, id: string): Promise<LockedObject | null> {
    const p = new SqlParams();
    const read = this.ctx.access.sql(entity, 'read', this.user, p);
    const write = this.ctx.access.sql(entity, 'write', this.user, p);
    const { rows } = await this.tx.query<LockedObject>(
      `SELECT ${objectJsonSql('o')} AS object, ${read} AS readable, ${write} AS writable
         FROM sf_objects o WHERE o.entity = ${p.add(entity)} AND o.id = ${p.add(id)}::uuid FOR UPDATE`,
      p.values,
    );
    return rows[0] ?? null;
  }

  /**
   * For a device change: locks the object like `lock`, and when it does not exist, says whether
   * it was deleted (and could be read by the user then). One statement: uploads run this per change.
   */
  async lockForChange(entity: string, id: string): Promise<{ existing: LockedObject | null; tombstone: { readable: boolean } | null }> {
    const p = new SqlParams();
    const e = p.add(entity);
    const i = p.add(id);
    const read = this.ctx.access.sql(entity, 'read', this.user, p);
    const write = this.ctx.access.sql(entity, 'write', this.user, p);
    const readDeleted = this.ctx.access.sql(entity, 'read', this.user, p);
    const { rows } = await this.tx.query<LockedObject & { tombstone: boolean | null }>(
      `WITH locked AS (
         SELECT ${objectJsonSql('o')} AS object, ${read} AS readable, ${write} AS writable
           FROM sf_objects o WHERE o.entity = ${e} AND o.id = ${i}::uuid FOR UPDATE)
       SELECT l.object, l.readable, l.writable,
              (SELECT ${readDeleted} FROM sf_deleted o WHERE o.entity = ${e} AND o.id = ${i}::uuid) AS tombstone
         FROM (SELECT 1) AS one LEFT JOIN locked l ON true`,
      p.values,
    );
    const row = rows[0];
    return {
      existing: row.object ? { object: row.object, readable: row.readable, writable: row.writable } : null,
      tombstone: row.tombstone === null ? null : { readable: row.tombstone },
    };
  }

  /** An object whatever the access rules (server code); with `lock`, locked for update. */
  async get(entity: string, id: string, options: { lock?: boolean } = {}): Promise<SyncObject | null> {
    const { rows } = await this.tx.query<{ object: SyncObject }>(
      `SELECT ${objectJsonSql('o')} AS object FROM sf_objects o WHERE o.entity = $1 AND o.id = $2::uuid${options.lock ? ' FOR UPDATE' : ''}`,
      [entity, id],
    );
    return rows[0]?.object ?? null;
  }

  /** An object if the user may read it now, else null. */
  async readable(entity: string, id: string): Promise<SyncObject | null> {
    const p = new SqlParams();
    const read = this.ctx.access.sql(entity, 'read', this.user, p);
    const { rows } = await this.tx.query<{ object: SyncObject }>(
      `SELECT ${objectJsonSql('o')} AS object FROM sf_objects o
        WHERE o.entity = ${p.add(entity)} AND o.id = ${p.add(id)}::uuid AND ${read}`,
      p.values,
    );
    return rows[0]?.object ?? null;
  }

  /** Inserts a new object; `data` holds its member values. Says whether the user may read it. */
  async insert(entity: string, id: string, owner: string, data: Values): Promise<Written> {
    const p = new SqlParams();
    const t = `${p.add(this.stamp)}::timestamptz`;
    const { rows } = await this.tx.query<Written>(
      `INSERT INTO sf_objects AS o (entity, id, owner, created_date, changed_date, data)
       VALUES (${p.add(entity)}, ${p.add(id)}::uuid, ${p.add(owner)}, ${t}, ${t}, ${p.json(data)})
       RETURNING ${objectJsonSql('o')} AS object, ${this.ctx.access.sql(entity, 'read', this.user, p)} AS readable`,
      p.values,
    );
    this.#wrote(entity, id);
    this.#removed.delete(`${entity}:${id.toLowerCase()}`);
    return rows[0];
  }

  /** Replaces the member values of an object; null when it does not exist. Says whether the user may read it. */
  async replace(entity: string, id: string, data: Values): Promise<Written | null> {
    const p = new SqlParams();
    const { rows } = await this.tx.query<Written>(
      `UPDATE sf_objects AS o SET data = ${p.json(data)}, changed_date = ${p.add(this.stamp)}::timestamptz
        WHERE o.entity = ${p.add(entity)} AND o.id = ${p.add(id)}::uuid
        RETURNING ${objectJsonSql('o')} AS object, ${this.ctx.access.sql(entity, 'read', this.user, p)} AS readable`,
      p.values,
    );
    if (rows[0]) this.#wrote(entity, id);
    return rows[0] ?? null;
  }

  /** Sets changedDate to the transaction's stamp (e.g. its file changed); null when absent. */
  async touch(entity: string, id: string): Promise<SyncObject | null> {
    const { rows } = await this.tx.query<{ object: SyncObject }>(
      `UPDATE sf_objects AS o SET changed_date = $1::timestamptz WHERE o.entity = $2 AND o.id = $3::uuid
        RETURNING ${objectJsonSql('o')} AS object`,
      [this.stamp, entity, id],
    );
    if (rows[0]) this.#wrote(entity, id);
    return rows[0]?.object ?? null;
  }

  /**
   * Deletes an object, keeping a tombstone, and its file. Objects that refer to it lose the
   * reference (their changedDate moves, so devices see it), or are deleted too when the
   * association is required. Answers whether the object existed.
   */
  async remove(entity: string, id: string, visited = new Set<string>()): Promise<boolean> {
    const key = `${entity}:${id}`;
    if (visited.has(key)) return false;
    visited.add(key);
    for (const ref of this.ctx.referrers.get(entity) ?? []) {
      // Literal entity and association names (schema-checked) let the partial expression index serve.
      const match = `entity = ${sqlLiteral(ref.entity)} AND data->>${sqlLiteral(ref.association)} = $1`;
      if (ref.required) {
        const { rows } = await this.tx.query<{ id: string }>(`SELECT id::text AS id FROM sf_objects WHERE ${match}`, [id]);
        for (const r of rows) await this.remove(ref.entity, r.id, visited);
      } else {
        const { rows } = await this.tx.query<{ id: string }>(
          `UPDATE sf_objects SET data = jsonb_set(data, ${sqlLiteral(`{${ref.association}}`)}, 'null'::jsonb),
                  changed_date = $2::timestamptz WHERE ${match} RETURNING id::text AS id`,
          [id, this.stamp],
        );
        for (const r of rows) this.#wrote(ref.entity, r.id);
      }
    }
    const { rowCount } = await this.tx.query(
      `WITH gone AS (DELETE FROM sf_objects WHERE entity = $1 AND id = $2::uuid RETURNING *)
       INSERT INTO sf_deleted (entity, id, owner, created_date, changed_date, data)
       SELECT entity, id, owner, created_date, $3::timestamptz, data FROM gone
       ON CONFLICT (entity, id) DO UPDATE SET owner = excluded.owner, created_date = excluded.created_date,
         changed_date = excluded.changed_date, data = excluded.data`,
      [entity, id, this.stamp],
    );
    await this.tx.query('DELETE FROM sf_files WHERE entity = $1 AND id = $2::uuid', [entity, id]);
    if (rowCount > 0) {
      this.#wrote(entity, id);
      this.#removed.add(`${entity}:${id.toLowerCase()}`);
    }
    return rowCount > 0;
  }

  /**
   * Checks that every association value names an existing object of its target entity —
   * one the user may read, with `asUser` — unless `pending` accepts it unchecked (the upload
   * then verifies that its create applied: see upload). Throws a ValidationError naming `${path}.${association}`.
   */
  async checkReferences(
    entity: string,
    values: Values,
    path: string,
    options: { asUser: boolean; self?: string; pending?: (entity: string, id: string) => boolean },
  ): Promise<void> {
    const def = this.ctx.schema.entities[entity];
    const problems: Problem[] = [];
    for (const [name, a] of Object.entries(def.associations)) {
      const target = values[name];
      if (typeof target !== 'string') continue;
      if ((a.target === entity && target === options.self) || options.pending?.(a.target, target)) continue;
      const p = new SqlParams();
      const access = options.asUser ? ` AND ${this.ctx.access.sql(a.target, 'read', this.user, p)}` : '';
      const { rows } = await this.tx.query(
        `SELECT 1 FROM sf_objects o WHERE o.entity = ${p.add(a.target)} AND o.id = ${p.add(target)}::uuid${access}`,
        p.values,
      );
      if (!rows.length) {
        problems.push({ path: `${path}.${name}`, message: `no ${a.target} with id ${target} (not found or not accessible)` });
      }
    }
    if (problems.length) throw new ValidationError(problems);
  }
}

/** `entity:id` back to its parts (entity names have no colon). */
function splitKey(k: string): { entity: string; id: string } {
  const at = k.indexOf(':');
  return { entity: k.slice(0, at), id: k.slice(at + 1) };
}
