/**
 * The node and activity kinds the palette offers, read from the flow format (`nodeSchema`,
 * `activitySchema`), so a kind added to the format shows up here without an edit.
 */
import type { z } from 'zod';
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
  return words.charAt(0).toUpperCase() + words.slice(1).replace('java script', 'JavaScript');
}

/** Every activity kind of the format, in the format's order. */
export const ACTIVITY_KINDS: ReadonlyArray<Kind<ActivityType>> = activityOptions.map((o) => ({
  type: o.shape.type.value as ActivityType,
  label: o.shape.type.value === 'delete' ? 'Delete objects' : humanize(o.shape.type.value),
  description: o.description ?? '',
}));

/** Every node type but the activity (the palette lists activities one by one). */
export const NODE_KINDS: ReadonlyArray<Kind<Exclude<NodeType, 'activity'>>> = nodeOptions
  .filter((o) => o.shape.type.value !== 'activity')
  .map((o) => ({ type: o.shape.type.value as Exclude<NodeType, 'activity'>, label: humanize(o.shape.type.value), description: o.description ?? '' }));

export function activityLabel(type: string): string {
  return ACTIVITY_KINDS.find((k) => k.type === type)?.label ?? humanize(type);
}

/** The zod schema of one activity kind. */
export function activityOption(type: ActivityType): z.ZodType {
  const found = activityOptions.find((o) => o.shape.type.value === type);
  if (!found) throw new Error(`unknown activity kind "${type}"`);
  return found as unknown as z.ZodType;
}

/** The zod schema of one node type (undefined for a type the format does not know). */
export function nodeOption(type: NodeType): z.ZodType | undefined {
  return nodeOptions.find((o) => o.shape.type.value === type) as unknown as z.ZodType | undefined;
}

const specCache = new Map<string, Extract<FieldSpec, { kind: 'object' }>>();

/** The form of an activity kind's fields. */
export function activitySpec(type: ActivityType): Extract<FieldSpec, { kind: 'object' }> {
  let spec = specCache.get(type);
  if (!spec) {
    spec = formSpec(activityOption(type)) as Extract<FieldSpec, { kind: 'object' }>;
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
