/**
 * Generated apps for the browser test, drawn in Node and handed to the page as plain JSON: the
 * generators of test/support/generatedApps.ts, with associations as the index of their target in
 * `objects` (the page makes the ids). The names refused by defineSchema (`toString`,
 * `constructor`) come already renamed here.
 */
import fc from 'fast-check';
import { appPlanOf, AWKWARD_MEMBER_NAMES, objectCounts, objectsOf, valueOf, type AppPlan } from '../../support/generatedApps.ts';

export { schemaInputOf } from '../../support/generatedApps.ts';

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

const appPlan = appPlanOf([...AWKWARD_MEMBER_NAMES, 'toString_', 'constructor_', 'valueOf_', 'hasOwnProperty_'], 7);

/** A generated app with up to 4 objects per entity (associations point at any of them, cycles too). */
export const generatedApp: fc.Arbitrary<GeneratedApp> = appPlan.chain((plan) =>
  objectCounts(plan).chain((counts) => {
    // Objects are laid out entity after entity: entity k's start at the sum of the counts before it.
    const starts = counts.map((_, k) => counts.slice(0, k).reduce((a, b) => a + b, 0));
    const refs = counts.map((n, k) => Array.from({ length: n }, (_, i): PlannedRef => ({ object: starts[k] + i })));
    return fc.record({
      plan: fc.constant(plan),
      objects: objectsOf(plan, refs).map((list) => list.map(({ entity, values }): PlannedObject => ({ entity: plan.entities[entity].name, values }))),
      addedValues: fc.tuple(...plan.entities.map((e) => valueOf(e.added, refs))).map((values) => Object.fromEntries(plan.entities.map((e, k) => [e.name, values[k]]))),
    });
  }),
);
