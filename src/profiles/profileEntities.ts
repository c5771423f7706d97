import { ValidationError, type Problem } from '../errors.ts';
import type { Schema } from '../model/schema.ts';
import type { Profile } from './Profile.ts';

/** A profile's entity lists resolved against a schema. */
export interface ProfileEntityPlan {
  /** Entities whose committed changes the profile uploads (in association order). */
  upload: string[];
  /** Entities the profile may download, before the global and automatic exclusions. */
  download: string[];
}

/**
 * Finds an entity of the schema by the name a profile uses: exactly, or else case-insensitively
 * (Resco's logical names are lower case: `task` is `Task`).
 */
export function findEntity(schema: Schema, name: string): string | undefined {
  if (Object.hasOwn(schema.entities, name)) return name;
  const matches = schema.order.filter((e) => e.toLowerCase() === name.toLowerCase());
  return matches.length === 1 ? matches[0] : undefined;
}

/**
 * Resolves a profile's include or exclude list. `Task+` adds the entities Task refers to
 * (SmartSync's WithRelated), `Task++` their references too (Deep). Unknown names are a
 * ValidationError naming the profile and the entry.
 */
export function profileEntities(schema: Schema, profile: Profile, path = `profiles.${profile.name}`): ProfileEntityPlan {
  const problems: Problem[] = [];
  const list = 'include' in profile.entities ? profile.entities.include : profile.entities.exclude;
  const key = 'include' in profile.entities ? 'include' : 'exclude';
  const named = new Set<string>();
  for (const [i, raw] of list.entries()) {
    const depth = raw.endsWith('++') ? Infinity : raw.endsWith('+') ? 1 : 0;
    const name = raw.replace(/\++$/, '');
    const entity = findEntity(schema, name);
    if (!entity) {
      problems.push({ path: `${path}.entities.${key}[${i}]`, message: `unknown entity "${name}"` });
      continue;
    }
    addWithRelated(schema, entity, depth, named);
  }
  for (const [i, t] of profile.triggers.entries()) {
    if (t.kind === 'recordChange' && !findEntity(schema, t.entity)) {
      problems.push({ path: `${path}.triggers[${i}].entity`, message: `unknown entity "${t.entity}"` });
    }
  }
  if (problems.length) throw new ValidationError(problems);
  const chosen = key === 'include' ? schema.order.filter((e) => named.has(e)) : schema.order.filter((e) => !named.has(e));
  return {
    upload: profile.direction === 'download' ? [] : chosen,
    download: profile.direction === 'upload' ? [] : chosen,
  };
}

function addWithRelated(schema: Schema, entity: string, depth: number, into: Set<string>): void {
  if (into.has(entity)) return;
  into.add(entity);
  if (depth <= 0) return;
  for (const a of Object.values(schema.entities[entity].associations)) addWithRelated(schema, a.target, depth - 1, into);
}
