/**
 * Generated apps for the browser test, drawn in Node and handed to the page as plain JSON: odd
 * entity and member names (`then`, `length`, `data`, `entity`, `Id`, SQL words, the server's own
 * column names), every attribute type at its edges, self and cyclic associations, and each
 * entity's member of the app's next version. A smaller cousin of the generators in
 * test/runtime/generatedApps.property.test.ts (a test file cannot be imported without running it);
 * the names refused by defineSchema (`toString`, `constructor`) come already renamed here.
 */
import fc from 'fast-check';
import type { SchemaInput } from '../../../src/model/schema.ts';

/** Names that are SQL words, the server's or store's own columns, or awkward in JavaScript. */
const MEMBER_NAMES = [
  'then', 'length', 'name', 'prototype', 'data', 'entity', 'changed_date', 'created_date', 'owner_', 'select', 'order', 'user',
  'Id', 'ID', 'Owner', 'createddate', 'x', 'A_b9', 'toString_', 'constructor_', 'valueOf_', 'hasOwnProperty_',
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
/** An association's value before the objects exist: the index of its target in `objects`. */
export interface PlannedRef {
  object: number;
}
export interface PlannedObject {
  entity: string;
  values: Record<string, unknown>;
}
export interface GeneratedApp {
  plan: AppPlan;
  objects: PlannedObject[];
  /** Per entity, the value its added member gets after the upgrade (associations: a PlannedRef or null). */
  addedValues: Record<string, unknown>;
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
    // A required self reference could never be created: associations stay optional.
    required: m.kind === 'association' ? false : m.required,
    target: m.target,
    ...(m.kind === 'string' && m.maxLength ? { maxLength: m.maxLength } : {}),
    ...(m.kind === 'enum' ? { values: m.values } : {}),
  }));

const appPlan: fc.Arbitrary<AppPlan> = fc
  .uniqueArray(fc.constantFrom(...ENTITY_NAMES), { minLength: 1, maxLength: 3 })
  .chain((names) =>
    fc.tuple(
      ...names.map((name) =>
        fc.uniqueArray(fc.constantFrom(...MEMBER_NAMES), { minLength: 2, maxLength: 7 })
          .chain((members) => fc.tuple(...members.map((m) => memberPlan(m, names.length))))
          .map((members) => ({ name, members: members.slice(1), added: { ...members[0], required: false } })),
      ),
    ),
  )
  .map((entities) => ({ entities }));

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

/** A value of a member at the edges of its type; `targets`: the indexes of the objects an association may point at. */
function valueOf(m: MemberPlan, targets: number[]): fc.Arbitrary<unknown> {
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
    case 'association':
      return targets.length ? fc.oneof(fc.constantFrom(...targets).map((object): PlannedRef => ({ object })), fc.constant(null)) : fc.constant(null);
  }
}

/** A generated app with up to 4 objects per entity (associations point at any of them, cycles too). */
export const generatedApp: fc.Arbitrary<GeneratedApp> = appPlan.chain((plan) =>
  fc.tuple(...plan.entities.map(() => fc.nat({ max: 4 }))).chain((counts) => {
    // Objects are laid out entity after entity: the indexes of entity k's objects.
    const starts = counts.map((_, k) => counts.slice(0, k).reduce((a, b) => a + b, 0));
    const indexes = counts.map((n, k) => Array.from({ length: n }, (_, i) => starts[k] + i));
    const objects = plan.entities.flatMap((e, k) =>
      indexes[k].map(() =>
        fc.record(Object.fromEntries(e.members.map((m) => [m.name, valueOf(m, indexes[m.target])]))).map((values): PlannedObject => ({ entity: e.name, values })),
      ),
    );
    return fc.record({
      plan: fc.constant(plan),
      objects: objects.length ? fc.tuple(...objects) : fc.constant([]),
      addedValues: fc.tuple(...plan.entities.map((e) => valueOf(e.added, indexes[e.added.target]))).map((values) => Object.fromEntries(plan.entities.map((e, k) => [e.name, values[k]]))),
    });
  }),
);
