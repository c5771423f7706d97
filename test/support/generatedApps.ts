/**
 * Generated apps that are not the demo, for the tests that run them on a device
 * (test/runtime/generatedApps.property.test.ts on fake-indexeddb, test/browser/realIndexedDb.browser.test.ts
 * in Chromium): entity and member names a JavaScript object or SQL might trip on, every attribute
 * type, self and cyclic associations, values at the edges of each type, and each entity's member of
 * the app's next version. No node: module and no vitest, so that a page bundle may import it too.
 */
import fc from 'fast-check';
import type { SchemaInput } from '../../src/model/schema.ts';

/** Names of properties every JavaScript object has: refused by defineSchema, with a clear problem. */
export const OBJECT_PROPERTY_NAMES = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString'];
/** Names that are SQL words, the server's or store's own columns, or awkward in JavaScript, and some plain ones. */
export const AWKWARD_MEMBER_NAMES = [
  'then', 'length', 'name', 'prototype', 'data', 'entity', 'changed_date', 'created_date', 'owner_', 'select', 'order', 'user',
  'Id', 'ID', 'Owner', 'createddate', 'x', 'A_b9',
];
const ENTITY_NAMES = ['Object', 'Function', 'Array', 'Promise', 'Map', 'Order', 'Select', 'User', 'A', 'Z_9', 'Sf_objects', 'Constructor'];

export type MemberKind = 'string' | 'integer' | 'decimal' | 'boolean' | 'datetime' | 'enum' | 'association';
export interface MemberPlan {
  name: string;
  kind: MemberKind;
  required: boolean;
  /** An association's target: an index into the app's entities. */
  target: number;
  maxLength?: number;
  values?: string[];
}
export interface AppPlan {
  /** `added`: the member the app's next version adds to the entity. */
  entities: Array<{ name: string; members: MemberPlan[]; added: MemberPlan }>;
}

/** Text PostgreSQL stores as written: no NUL, no lone surrogate (those are refused, tested elsewhere). */
const storableString = (maxLength = 40) =>
  fc.oneof(
    fc.string({ unit: 'grapheme', maxLength }),
    fc.string({ unit: fc.constantFrom('"', "'", '\\', '%', '_', '$1', '{', '}', ':', '\u00e9', '\u{1F600}', '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}', ' ', '\n'), maxLength }),
  ).filter((s) => s.length <= maxLength && !/\u0000/.test(s));

const memberPlan = (name: string, entities: number) =>
  fc.record({
    kind: fc.constantFrom<MemberKind>('string', 'integer', 'decimal', 'boolean', 'datetime', 'enum', 'association'),
    required: fc.boolean(),
    target: fc.nat({ max: entities - 1 }),
    maxLength: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
    values: fc.uniqueArray(storableString(12).filter((s) => s.length > 0), { minLength: 1, maxLength: 4 }),
  }).map((m): MemberPlan => ({
    name,
    kind: m.kind,
    // A required association would need its target first; the device's order handles that, but a
    // required self reference cannot be created at all.
    required: m.kind === 'association' ? false : m.required,
    target: m.target,
    ...(m.kind === 'string' && m.maxLength ? { maxLength: m.maxLength } : {}),
    ...(m.kind === 'enum' ? { values: m.values } : {}),
  }));

/**
 * Apps of 1 to 3 entities, each with 1 to `maxMembers - 1` members named from `memberNames` and
 * one more (another name) that the app's next version adds.
 */
export function appPlanOf(memberNames: string[], maxMembers: number): fc.Arbitrary<AppPlan> {
  return fc
    .uniqueArray(fc.constantFrom(...ENTITY_NAMES), { minLength: 1, maxLength: 3 })
    .chain((names) =>
      fc.tuple(
        ...names.map((name) =>
          fc.uniqueArray(fc.constantFrom(...memberNames), { minLength: 2, maxLength: maxMembers })
            .chain((members) => fc.tuple(...members.map((m) => memberPlan(m, names.length))))
            .map((members) => ({ name, members: members.slice(1), added: { ...members[0], required: false } })),
        ),
      ),
    )
    .map((entities) => ({ entities }));
}

/** The app's schema input; with `next`, its next version (every entity has its added member). */
export function schemaInputOf(plan: AppPlan, next: boolean): SchemaInput {
  const input: SchemaInput = { entities: {} };
  for (const e of plan.entities) {
    const attributes: NonNullable<SchemaInput['entities'][string]['attributes']> = {};
    const associations: NonNullable<SchemaInput['entities'][string]['associations']> = {};
    for (const m of next ? [...e.members, e.added] : e.members) {
      if (m.kind === 'association') associations[m.name] = { target: plan.entities[m.target].name };
      else attributes[m.name] = { type: m.kind, ...(m.required ? { required: true } : {}), ...(m.maxLength ? { maxLength: m.maxLength } : {}), ...(m.values ? { values: m.values } : {}) };
    }
    input.entities[e.name] = { attributes, associations };
  }
  return input;
}

/**
 * A value of a member at the edges of its type: null where allowed, extremes, awkward text.
 * `refs`: per entity, what an association to it may hold (ids, or whatever stands for them).
 */
export function valueOf(m: MemberPlan, refs: unknown[][]): fc.Arbitrary<unknown> {
  const orNull = <T>(a: fc.Arbitrary<T>) => (m.required ? a : fc.oneof({ weight: 4, arbitrary: a }, { weight: 1, arbitrary: fc.constant(null) }));
  switch (m.kind) {
    case 'string':
      return orNull(storableString(m.maxLength ?? 60).filter((s) => !m.required || s !== ''));
    case 'integer':
      return orNull(fc.oneof(fc.maxSafeInteger(), fc.constantFrom(0, -1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER)));
    case 'decimal':
      // -0 is not kept apart from 0 by JSON in PostgreSQL; every other finite double is.
      return orNull(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0.1, 1e-7, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE)).filter((d) => !Object.is(d, -0)));
    case 'boolean':
      return orNull(fc.boolean());
    case 'datetime':
      return orNull(
        fc.oneof(
          fc.date({ min: new Date('0001-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }),
          fc.constantFrom(new Date('0001-01-01T00:00:00.000Z'), new Date('9999-12-31T23:59:59.999Z'), new Date(0)),
        ).map((d) => d.toISOString()),
      );
    case 'enum':
      return orNull(fc.constantFrom(...m.values!));
    case 'association': {
      const targets = refs[m.target];
      return targets.length ? fc.oneof(fc.constantFrom(...targets), fc.constant(null)) : fc.constant(null);
    }
  }
}

/** How many objects of each entity an app starts with: up to 4. */
export const objectCounts = (plan: AppPlan): fc.Arbitrary<number[]> => fc.tuple(...plan.entities.map(() => fc.nat({ max: 4 })));

/**
 * The objects `refs` names (per entity, one ref an object), with values for their members;
 * associations point at any of them, cycles too.
 */
export function objectsOf<R>(plan: AppPlan, refs: R[][]): fc.Arbitrary<Array<{ entity: number; ref: R; values: Record<string, unknown> }>> {
  const objects = plan.entities.flatMap((e, entity) =>
    refs[entity].map((ref) => fc.record(Object.fromEntries(e.members.map((m) => [m.name, valueOf(m, refs)]))).map((values) => ({ entity, ref, values }))),
  );
  return objects.length ? fc.tuple(...objects) : fc.constant([]);
}
