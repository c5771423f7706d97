import { z } from 'zod';
import { SchemaError, type Problem } from '../errors.ts';
import type { Schema } from '../model/schema.ts';
import type { AuthUser } from './AuthUser.ts';
import { SqlParams, sqlLiteral } from './SqlParams.ts';

/**
 * Who may read or write an object. A rule applies to a user when its `role` is absent or one
 * of the user's roles; it then grants the objects in its `scope`: all of them, the ones the
 * user owns, or the ones whose `field` (a string attribute or an association) holds the user's id.
 */
export interface AccessRule {
  role?: string;
  scope: 'all' | 'own' | { field: string };
}

/**
 * Access rules per entity, as data. A user may read (write) an object when ANY read (write)
 * rule grants it. An entity without rules is closed to every user (server code still reaches it).
 *
 * @example
 * const access: AccessRules = {
 *   Project: { read: [{ scope: 'all' }], write: [{ scope: 'own' }, { role: 'manager', scope: 'all' }] },
 *   Task: { read: [{ scope: 'own' }, { scope: { field: 'assignee' } }], write: [{ scope: 'own' }] },
 * };
 */
export type AccessRules = Record<string, { read: AccessRule[]; write: AccessRule[] }>;

export type AccessMode = 'read' | 'write';

const ruleSchema = z.strictObject({
  role: z.string().min(1).optional(),
  scope: z.union([z.enum(['all', 'own']), z.strictObject({ field: z.string().min(1) })]),
});
const rulesSchema = z.record(z.string(), z.strictObject({ read: z.array(ruleSchema), write: z.array(ruleSchema) }));

/**
 * Access rules checked against a schema, compiled to SQL conditions (for reads and locked
 * rows) and to a JavaScript test (for objects about to be created).
 */
export class AccessPolicy {
  readonly #rules: AccessRules;

  private constructor(rules: AccessRules) {
    this.#rules = rules;
  }

  /** Validates the rules (throws a SchemaError naming each bad part) and compiles them. */
  static compile(schema: Schema, rules: unknown): AccessPolicy {
    const parsed = rulesSchema.safeParse(rules);
    if (!parsed.success) {
      throw new SchemaError(
        parsed.error.issues.map((i) => ({ path: ['access', ...i.path.map(String)].join('.'), message: i.message })),
      );
    }
    const problems: Problem[] = [];
    for (const [entity, modes] of Object.entries(parsed.data)) {
      const def = Object.hasOwn(schema.entities, entity) ? schema.entities[entity] : undefined;
      if (!def) {
        problems.push({ path: `access.${entity}`, message: `unknown entity "${entity}"` });
        continue;
      }
      for (const mode of ['read', 'write'] as const) {
        modes[mode].forEach((rule, i) => {
          if (typeof rule.scope !== 'object') return;
          const field = rule.scope.field;
          const ok = def.attributes[field]?.type === 'string' || Object.hasOwn(def.associations, field);
          if (!ok) {
            problems.push({
              path: `access.${entity}.${mode}[${i}].scope.field`,
              message: `"${field}" must be a string attribute or an association of ${entity}`,
            });
          }
        });
      }
    }
    if (problems.length) throw new SchemaError(problems);
    return new AccessPolicy(parsed.data as AccessRules);
  }

  /** The rules that apply to this user, or [] when none does. */
  #applicable(entity: string, mode: AccessMode, user: AuthUser): AccessRule[] {
    const rules = Object.hasOwn(this.#rules, entity) ? this.#rules[entity][mode] : [];
    return rules.filter((r) => r.role === undefined || user.roles.includes(r.role));
  }

  /**
   * A SQL condition on the row aliased `alias` (of sf_objects or sf_deleted): true when
   * `user` may `mode` it. Never NULL, so it can be negated and selected as a flag.
   */
  sql(entity: string, mode: AccessMode, user: AuthUser, p: SqlParams, alias = 'o'): string {
    const rules = this.#applicable(entity, mode, user);
    if (rules.some((r) => r.scope === 'all')) return 'TRUE';
    if (!rules.length) return 'FALSE';
    const userId = p.add(user.id);
    const parts = new Set<string>();
    for (const r of rules) {
      parts.add(
        r.scope === 'own'
          ? `${alias}.owner = ${userId}`
          : `coalesce(${alias}.data->>${sqlLiteral((r.scope as { field: string }).field)} = ${userId}, false)`,
      );
    }
    return `(${[...parts].join(' OR ')})`;
  }

  /** The same test in JavaScript, for an object that is not stored yet (a create). */
  allows(entity: string, mode: AccessMode, user: AuthUser, object: { owner: string | null; [member: string]: unknown }): boolean {
    return this.#applicable(entity, mode, user).some((r) =>
      r.scope === 'all' ? true : r.scope === 'own' ? object.owner === user.id : object[r.scope.field] === user.id,
    );
  }
}

/** Compiles access rules for a schema; see {@link AccessPolicy.compile}. */
export function compileAccess(schema: Schema, rules: AccessRules): AccessPolicy {
  return AccessPolicy.compile(schema, rules);
}
