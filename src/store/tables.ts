/**
 * The layout of the local database: one Dexie table per entity plus the store's own tables,
 * whose names start with `$` (entity names start with a capital letter, so they cannot clash).
 * Internal fields of entity rows start with `$` too (member names never do).
 */
import type { Schema } from '../model/schema.ts';
import { SYSTEM_ATTRIBUTES } from '../model/schema.ts';
import type { LocalObject } from './types.ts';

/** Pending local changes, one per object: key [entity+id]. */
export const CHANGES = '$changes';
/** SynchronizationFailures, by id. */
export const FAILURES = '$failures';
/**
 * File contents of objects of file entities: key [entity+id]; `version` is the object's
 * changedDate the contents belong to (the index lists versions without reading contents).
 */
export const FILES = '$files';
/**
 * File contents the server refused for good, by the id of the SynchronizationFailure that keeps
 * them (a device-side failure with `file`); apart from `$files`, so contents attached again to
 * the object never replace them, and listing failures never loads them.
 */
export const FAILED_FILES = '$failedFiles';
/**
 * The bytes of an interrupted download of a large file, with the version (ETag) they belong to:
 * key [entity+id]. The next download asks the server for the rest only (Range + If-Range).
 */
export const PARTIAL_FILES = '$partialFiles';
/**
 * Small key-value metadata; keys starting with `$` are the store's own (seq counter, schema
 * fingerprint). Not `$meta`: Dexie 4 reserves that name and deletes such a table on upgrade.
 */
export const META = '$metadata';

/** Named syncs' persisted states, by id; names are unique. */
export const SYNC_STATES = '$syncStates';
/**
 * Which named sync down wrote which object: key [sync+id]. Kept apart from the rows so that
 * other writers (Synchronize, refresh) cannot erase it; ghost cleaning reads it.
 */
export const SYNC_ROWS = '$syncRows';

/** The sync journal (src/journal): one entry per sync run, oldest first by `seq`. */
export const JOURNAL = '$journal';

/** The sync run that last wrote a row from the server ('' when not written by a tagged run). */
export const TAG = '$tag';
/** Meta key of the store-wide change counter. */
export const SEQ_KEY = '$seq';
/** Meta key of the schema fingerprint the database was opened with. */
export const SCHEMA_KEY = '$schema';

export type Row = Record<string, unknown> & { id: string };

/**
 * Dexie `stores()` spec for a schema: entity tables are keyed by `id` and indexed on
 * `changedDate` (incremental sync), `$tag` (all-objects cleanup) and every association
 * (reverse navigation with `referrers`).
 */
export function storesFor(schema: Schema): Record<string, string> {
  const stores: Record<string, string> = {};
  for (const entity of [...schema.order].sort()) {
    const associations = Object.keys(schema.entities[entity].associations).sort();
    stores[entity] = ['id', 'changedDate', TAG, ...associations].join(', ');
  }
  stores[CHANGES] = '[entity+id], seq, entity';
  stores[FAILURES] = 'id, createdDate';
  stores[FILES] = '[entity+id], [entity+id+version]';
  stores[META] = 'key';
  stores[SYNC_STATES] = 'id, &name';
  stores[SYNC_ROWS] = '[sync+id], id';
  // A new table changes the fingerprint, so openStore opens at the installed version + 1 and Dexie adds it.
  stores[JOURNAL] = '++seq, kind';
  stores[FAILED_FILES] = 'id';
  stores[PARTIAL_FILES] = '[entity+id]';
  return stores;
}

/** A short, stable fingerprint of a stores spec (FNV-1a over its canonical JSON). */
export function fingerprint(stores: Record<string, string>): string {
  const text = JSON.stringify(Object.keys(stores).sort().map((k) => [k, stores[k]]));
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0') + ':' + text.length;
}

/**
 * A stored row as the app sees it: system attributes and every member of the entity (null when
 * absent, e.g. an attribute added to the schema later), `$entity`, no internal fields; frozen.
 *
 * @example
 * const task = toLocalObject(schema, 'Task', await db.table('Task').get(id));
 */
export function toLocalObject(schema: Schema, entity: string, row: Record<string, unknown>): LocalObject {
  const def = schema.entities[entity];
  const out: Record<string, unknown> = {};
  // Own fields only: a member named like an Object property (toString) that the row lacks is null.
  const field = (name: string) => (Object.hasOwn(row, name) ? (row[name] ?? null) : null);
  for (const name of SYSTEM_ATTRIBUTES) out[name] = field(name);
  for (const name in def.attributes) out[name] = field(name);
  for (const name in def.associations) out[name] = field(name);
  out.$entity = entity;
  return Object.freeze(out) as LocalObject;
}

/** Member values of a raw row (attributes and associations present in it). */
export function membersOf(schema: Schema, entity: string, row: Record<string, unknown>): Record<string, unknown> {
  const def = schema.entities[entity];
  const out: Record<string, unknown> = {};
  for (const name in def.attributes) if (name in row) out[name] = row[name];
  for (const name in def.associations) if (name in row) out[name] = row[name];
  return out;
}

/** All member names of an entity (the `changed` list of a create). */
export function allMembers(schema: Schema, entity: string): string[] {
  const def = schema.entities[entity];
  return [...Object.keys(def.attributes), ...Object.keys(def.associations)];
}

/** Key of an object in the `$changes` and `$files` tables. */
export function objectKey(entity: string, id: string): [string, string] {
  return [entity, id];
}
