/**
 * The node and activity kinds the palette offers. Activities are the interpreter's own list
 * (`ACTIVITIES` of `src/flow/activities`), their forms and descriptions the flow format's zod
 * schemas (`activitySchema`, `nodeSchema`): a kind added to the interpreter shows up here, with
 * a form built from its schema, without an edit (and as JSON if the format has no schema for it).
 */
import type { z } from 'zod';
import { ACTIVITIES } from '../../../src/flow/activities/index.ts';
import { activitySchema, nodeSchema, type Activity, type ActivityType, type FlowNode, type NodeType } from '../../../src/flow/format.ts';
import { defaultValue, formSpec, type FieldSpec } from './formSpec.ts';

interface Option {
  shape: { type: { value: string } };
  description?: string;
}

const activityOptions = activitySchema.options as unknown as Option[];
const nodeOptions = nodeSchema.options as unknown as Option[];

export interface Kind<T extends string> {
  type: T;
  label: string;
  description: string;
}

/** "listSynchronizationFailures" -> "List synchronization failures". */
export function humanize(name: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return (words.charAt(0).toUpperCase() + words.slice(1)).replace('java script', 'JavaScript').replace(/\bre sync\b/i, 'reSync');
}

/**
 * The palette's activity kinds: every kind the interpreter runs (in its order), labelled and
 * described from the format's schema of the kind.
 *
 * @example
 * activityKinds(Object.keys(ACTIVITIES)); // [{ type: 'createObject', label: 'Create object', description: 'Creates an uncommitted object' }, ...]
 */
export function activityKinds(types: readonly string[]): Array<Kind<ActivityType>> {
  return types.map((type) => ({
    type: type as ActivityType,
    label: type === 'delete' ? 'Delete objects' : humanize(type),
    description: activityOptions.find((o) => o.shape.type.value === type)?.description ?? '',
  }));
}

/** Every activity kind of the interpreter (`ACTIVITIES`), Synchronize included. */
export const ACTIVITY_KINDS: ReadonlyArray<Kind<ActivityType>> = activityKinds(Object.keys(ACTIVITIES));

/** Every node type but the activity (the palette lists activities one by one). */
export const NODE_KINDS: ReadonlyArray<Kind<Exclude<NodeType, 'activity'>>> = nodeOptions
  .filter((o) => o.shape.type.value !== 'activity')
  .map((o) => ({ type: o.shape.type.value as Exclude<NodeType, 'activity'>, label: humanize(o.shape.type.value), description: o.description ?? '' }));

export function activityLabel(type: string): string {
  return ACTIVITY_KINDS.find((k) => k.type === type)?.label ?? humanize(type);
}

/** The zod schema of one activity kind (undefined for a kind the format has no schema for). */
export function activityOption(type: string): z.ZodType | undefined {
  return activityOptions.find((o) => o.shape.type.value === type) as unknown as z.ZodType | undefined;
}

/** Whether the format has a schema for the kind, so the panel can draw its form (else: JSON). */
export function hasActivityForm(type: string): boolean {
  return activityOption(type) !== undefined;
}

/** The zod schema of one node type (undefined for a type the format does not know). */
export function nodeOption(type: NodeType): z.ZodType | undefined {
  return nodeOptions.find((o) => o.shape.type.value === type) as unknown as z.ZodType | undefined;
}

const specCache = new Map<string, Extract<FieldSpec, { kind: 'object' }>>();

/**
 * The form of an activity kind's fields, from its schema; a kind without one gets a generic
 * form: its `type`, and the rest as JSON.
 */
export function activitySpec(type: string): Extract<FieldSpec, { kind: 'object' }> {
  let spec = specCache.get(type);
  if (!spec) {
    const option = activityOption(type);
    spec = option
      ? (formSpec(option) as Extract<FieldSpec, { kind: 'object' }>)
      : { kind: 'object', description: '', fields: [{ key: 'type', spec: { kind: 'literal', value: type }, optional: false }] };
    specCache.set(type, spec);
  }
  return spec;
}

/** A new activity of a kind: the format's required fields, with a fresh name for its output. */
export function newActivity(type: ActivityType, freshVariable: (base: string) => string): Activity {
  const activity = defaultValue(activitySpec(type)) as Record<string, unknown>;
  if ('outputVariable' in activity) {
    activity.outputVariable = freshVariable(type === 'createObject' ? 'newObject' : type === 'listSynchronizationFailures' ? 'failures' : 'result');
  }
  if (type === 'createVariable') activity.variable = freshVariable('value');
  return activity as Activity;
}

/** A new node of a non-activity type: its required fields (a decision's expression, a loop's list ...). */
export function newNode(type: Exclude<NodeType, 'activity'>, id: string): FlowNode {
  const spec = formSpec(nodeOption(type)!) as Extract<FieldSpec, { kind: 'object' }>;
  const node = defaultValue(spec) as Record<string, unknown>;
  node.id = id;
  if (type === 'loop') node.iterator = 'item';
  return node as FlowNode;
}
