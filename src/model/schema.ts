import { z } from 'zod';
import { SchemaError, type Problem } from '../errors.ts';

/** Attribute types of the data model. Datetimes travel as ISO 8601 strings in UTC. */
export type AttributeType = 'string' | 'integer' | 'decimal' | 'boolean' | 'datetime' | 'enum';

export interface AttributeDef {
  type: AttributeType;
  required?: boolean;
  /** Only for `enum`. */
  values?: readonly string[];
  /** Only for `string`. */
  maxLength?: number;
}

/** A reference to one object of `target`; the attribute holds the target's id or null. */
export interface AssociationDef {
  target: string;
  required?: boolean;
}

export interface EntityDef {
  name: string;
  attributes: Readonly<Record<string, AttributeDef>>;
  associations: Readonly<Record<string, AssociationDef>>;
  /** Objects of this entity carry file contents (downloaded by all-objects sync). */
  file: boolean;
  /** Rarely changes (stable or enum-like): sync profiles with GlobalExclusions leave it out. */
  stable?: boolean;
}

export interface Schema {
  entities: Readonly<Record<string, EntityDef>>;
  /** Entity names ordered so that every association target comes before its referrers. */
  order: readonly string[];
}

/** System attributes every object has; no entity may redefine them. */
export const SYSTEM_ATTRIBUTES = ['id', 'createdDate', 'changedDate', 'owner'] as const;

/** An association of `entity` that points at another entity (`required`: the referrer cannot live without it). */
export interface Referrer {
  entity: string;
  association: string;
  required: boolean;
}

/**
 * For each entity, the associations of other entities that point at it. Deleting an object clears
 * these references, or deletes the referrer too when the association is required — on the server
 * and, the same way, on the device.
 */
export function referrersOf(schema: Schema): Map<string, Referrer[]> {
  const out = new Map<string, Referrer[]>();
  for (const def of Object.values(schema.entities)) {
    for (const [association, a] of Object.entries(def.associations)) {
      const list = out.get(a.target) ?? [];
      list.push({ entity: def.name, association, required: a.required ?? false });
      out.set(a.target, list);
    }
  }
  return out;
}

/**
 * The members of an entity that hold instants (its datetime attributes and the system dates):
 * compared as moments in time, never as text (`…T02:00:00+02:00` is `…T00:00:00Z`).
 */
export function instantMembers(schema: Schema, entity: string): ReadonlySet<string> {
  const def = schema.entities[entity];
  const names = Object.entries(def?.attributes ?? {}).filter(([, a]) => a.type === 'datetime').map(([name]) => name);
  return new Set(['createdDate', 'changedDate', ...names]);
}

export type SchemaInput = {
  entities: Record<
    string,
    {
      attributes?: Record<string, AttributeDef>;
      associations?: Record<string, AssociationDef>;
      file?: boolean;
      stable?: boolean;
    }
  >;
};

const ENTITY_NAME = /^[A-Z][A-Za-z0-9_]{0,62}$/;
const MEMBER_NAME = /^[a-zA-Z][A-Za-z0-9_]{0,62}$/;

const attributeSchema = z.strictObject({
  type: z.enum(['string', 'integer', 'decimal', 'boolean', 'datetime', 'enum']),
  required: z.boolean().optional(),
  values: z.array(z.string().min(1)).min(1).optional(),
  maxLength: z.number().int().positive().optional(),
});

const schemaInputSchema = z.strictObject({
  entities: z.record(
    z.string(),
    z.strictObject({
      attributes: z.record(z.string(), attributeSchema).optional(),
      associations: z
        .record(z.string(), z.strictObject({ target: z.string(), required: z.boolean().optional() }))
        .optional(),
      file: z.boolean().optional(),
      stable: z.boolean().optional(),
    }),
  ),
});

/**
 * Validates a schema definition and returns it frozen, with entities in association order.
 * Throws a SchemaError naming every problem.
 *
 * @example
 * const schema = defineSchema({ entities: {
 *   Project: { attributes: { name: { type: 'string', required: true } } },
 *   Task: { attributes: { title: { type: 'string' } }, associations: { project: { target: 'Project' } } },
 * } });
 */
export function defineSchema(input: SchemaInput): Schema {
  const parsed = schemaInputSchema.safeParse(input);
  if (!parsed.success) {
    throw new SchemaError(
      parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
    );
  }
  const problems: Problem[] = [];
  const entities: Record<string, EntityDef> = {};
  const names = Object.keys(parsed.data.entities);
  if (names.length === 0) problems.push({ path: 'entities', message: 'a schema needs at least one entity' });

  for (const [name, def] of Object.entries(parsed.data.entities)) {
    const at = `entities.${name}`;
    if (!ENTITY_NAME.test(name)) {
      problems.push({ path: at, message: 'entity names start with a capital letter and use letters, digits and _' });
    }
    const attributes = def.attributes ?? {};
    const associations = def.associations ?? {};
    for (const [attr, a] of Object.entries(attributes)) {
      const p = `${at}.attributes.${attr}`;
      checkMemberName(attr, p, problems);
      if (a.type === 'enum' && !a.values) problems.push({ path: `${p}.values`, message: 'an enum needs values' });
      if (a.type !== 'enum' && a.values) problems.push({ path: `${p}.values`, message: 'only enums have values' });
      if (a.type === 'enum' && a.values && new Set(a.values).size !== a.values.length) {
        problems.push({ path: `${p}.values`, message: 'enum values must be unique' });
      }
      if (a.type !== 'string' && a.maxLength !== undefined) {
        problems.push({ path: `${p}.maxLength`, message: 'only strings have a maxLength' });
      }
    }
    for (const [assoc, a] of Object.entries(associations)) {
      const p = `${at}.associations.${assoc}`;
      checkMemberName(assoc, p, problems);
      if (Object.hasOwn(attributes, assoc)) problems.push({ path: p, message: `"${assoc}" is already an attribute` });
      if (!Object.hasOwn(parsed.data.entities, a.target)) {
        problems.push({ path: `${p}.target`, message: `unknown entity "${a.target}"` });
      }
    }
    entities[name] = Object.freeze({
      name,
      attributes: Object.freeze({ ...attributes }),
      associations: Object.freeze({ ...associations }),
      file: def.file ?? false,
      ...(def.stable ? { stable: true } : {}),
    });
  }
  if (problems.length) throw new SchemaError(problems);

  const order = associationOrder(entities, problems);
  if (problems.length) throw new SchemaError(problems);
  return Object.freeze({ entities: Object.freeze(entities), order: Object.freeze(order) });
}

/**
 * Names every JavaScript object already has (Object.prototype's, those without a leading _). A
 * member of that name is shadowed wherever code looks a member up with `in` or `obj[name]`, and
 * Dexie cannot upgrade a database with an index of that name: refused, like system attributes.
 */
const OBJECT_PROPERTIES: readonly string[] = Object.getOwnPropertyNames(Object.prototype).filter((n) => MEMBER_NAME.test(n));

function checkMemberName(name: string, path: string, problems: Problem[]): void {
  if (!MEMBER_NAME.test(name)) {
    problems.push({ path, message: 'names start with a letter and use letters, digits and _' });
  }
  if ((SYSTEM_ATTRIBUTES as readonly string[]).includes(name)) {
    problems.push({ path, message: `"${name}" is a system attribute` });
  }
  if (OBJECT_PROPERTIES.includes(name)) {
    problems.push({ path, message: `"${name}" is a property of every JavaScript object; choose another name` });
  }
}

/**
 * Topological order by association (targets first). Self references and cycles are allowed:
 * within a cycle the order is by name, and the server accepts references to objects of the
 * same upload batch regardless of order.
 */
function associationOrder(entities: Record<string, EntityDef>, _problems: Problem[]): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string) => {
    if (state.get(name)) return;
    state.set(name, 'visiting');
    for (const a of Object.values(entities[name].associations).sort((x, y) => x.target.localeCompare(y.target))) {
      if (a.target !== name) visit(a.target);
    }
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of Object.keys(entities).sort()) visit(name);
  return order;
}

/** Looks an entity up, or throws a typed error naming it. */
export function entityOf(schema: Schema, entity: string, path = 'entity'): EntityDef {
  const def = Object.hasOwn(schema.entities, entity) ? schema.entities[entity] : undefined;
  if (!def) throw new SchemaError([{ path, message: `unknown entity "${entity}"` }]);
  return def;
}

/** The attribute and association names of an entity (what an object may carry besides system attributes). */
export function memberNames(def: EntityDef): string[] {
  return [...Object.keys(def.attributes), ...Object.keys(def.associations)];
}
