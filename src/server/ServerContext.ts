import type { Schema } from '../model/schema.ts';
import type { AccessPolicy } from './access.ts';
import type { Handlers } from './handlers.ts';
import type { Storage } from './storage/Storage.ts';

/** What every endpoint needs; no per-process state (several server processes may share the storage). */
export interface ServerContext {
  schema: Schema;
  storage: Storage;
  access: AccessPolicy;
  handlers: Handlers;
  /** For each entity, the associations of other entities that point at it (for deletes). */
  referrers: ReadonlyMap<string, ReadonlyArray<{ entity: string; association: string; required: boolean }>>;
  /** How uploads are applied: set-based where exact (default), or always change by change. */
  uploadPath?: 'auto' | 'inOrder';
}

/** Builds the reverse association map of a schema (one rule for server and device: see model/schema.ts). */
export { referrersOf } from '../model/schema.ts';
