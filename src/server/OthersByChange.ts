import type { Schema } from '../model/schema.ts';
import { isUuid } from '../model/values.ts';
import type { ChangeRequest, ObjectRef } from '../transport/wire.ts';

/**
 * What a change's claim keeps of the other objects its handlers (or its delete's cascades and
 * cleared references) touched, so that a replay of the change (its answer lost) names them again
 * (sf_applied.others; null when nothing else was touched). A JSON array of `[entity, id]` refs and
 * of change ids: claims of the same user, made by the same upload, whose refs count too (only
 * theirs, one level). A batch handler call's writes are kept once, on its first item's claim, and
 * its other items name that claim: attributing every write of a call to every item would keep
 * items × writes refs.
 */
export type StoredOthers = Array<[string, string] | string>;

/** How a change reaches the other objects it touched (only its id, entity, object id and kind count). */
type ChangeOf = Pick<ChangeRequest, 'changeId' | 'entity' | 'id' | 'kind'>;

/** Whether the transaction removed an object and did not insert it again (ObjectTx.isRemoved). */
type Removed = { isRemoved(entity: string, id: string): boolean };

const key = (entity: string, id: string) => `${entity}:${id.toLowerCase()}`;

/**
 * The other objects each change of one upload touched, noted as it applies: change by change
 * (`note`), or per handler call of the set-based path (`share`). Over-approximating is harmless:
 * the answer decides by the objects' current state and readability (otherObjects).
 */
export class OthersByChange {
  readonly #refs = new Map<string, Map<string, [string, string]>>();
  readonly #with = new Map<string, Set<string>>();

  /**
   * What one change touched between its start and its end, replacing what was noted of it (a
   * change tried again after a savepoint was rolled back). Its own object is left out (its answer
   * covers it) unless something other than its own delete removed it.
   */
  note(change: ChangeOf, touched: readonly ObjectRef[], tx: Removed): void {
    this.#refs.delete(change.changeId);
    this.#with.delete(change.changeId);
    this.#add(change, touched, tx);
  }

  /** What one handler call for `changes` touched: kept on the first change's claim, which the others name. */
  share(changes: readonly ChangeOf[], touched: readonly ObjectRef[], tx: Removed): void {
    if (!touched.length || !changes.length) return;
    const [carrier, ...rest] = changes;
    this.#add(carrier, touched, tx);
    for (const c of rest) {
      if (c.changeId === carrier.changeId) continue;
      const names = this.#with.get(c.changeId) ?? this.#with.set(c.changeId, new Set()).get(c.changeId)!;
      names.add(carrier.changeId);
    }
  }

  /** What the change's claim keeps; null when it touched nothing else. */
  stored(changeId: string): StoredOthers | null {
    const refs = [...(this.#refs.get(changeId)?.values() ?? [])];
    const names = [...(this.#with.get(changeId) ?? [])].filter((id) => id !== changeId && this.#refs.has(id));
    return refs.length || names.length ? [...refs, ...names] : null;
  }

  #add(change: ChangeOf, touched: readonly ObjectRef[], tx: Removed): void {
    const own = key(change.entity, change.id);
    for (const t of touched) {
      const k = key(t.entity, t.id);
      if (k === own && (change.kind === 'delete' || !tx.isRemoved(t.entity, t.id))) continue;
      const refs = this.#refs.get(change.changeId) ?? this.#refs.set(change.changeId, new Map()).get(change.changeId)!;
      refs.set(k, [t.entity, t.id.toLowerCase()]);
    }
  }
}

/**
 * The refs a replayed claim names: its own and those of the claims it names (`shared`, read with
 * it). Stored by this server, yet read defensively: an entity the schema no longer has, or
 * anything not shaped as a ref, is left out.
 */
export function storedRefs(schema: Schema, own: unknown, shared: unknown): ObjectRef[] {
  const out: ObjectRef[] = [];
  const take = (list: unknown) => {
    if (!Array.isArray(list)) return;
    for (const r of list) {
      if (!Array.isArray(r) || r.length !== 2) continue;
      const [entity, id] = r;
      if (typeof entity === 'string' && Object.hasOwn(schema.entities, entity) && isUuid(id)) out.push({ entity, id: id.toLowerCase() });
    }
  };
  take(own);
  if (Array.isArray(shared)) for (const s of shared) take(s);
  return out;
}
