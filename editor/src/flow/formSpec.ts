/**
 * A form's shape read from the flow format's zod schemas, so the property panel edits every
 * activity kind (and every field a kind gains later) without a hand-written form per kind.
 */
import type { z } from 'zod';
import { constraintSchema } from '../../../src/flow/format.ts';

/** What a text field holds, from the format's field naming (`value`, `message`, `values.x` are expressions, ...). */
export type TextRole = 'expression' | 'variable' | 'entity' | 'member' | 'profile' | 'text';

export type FieldSpec =
  | { kind: 'text'; role: TextRole; description?: string }
  | { kind: 'number'; description?: string }
  | { kind: 'boolean'; description?: string }
  | { kind: 'enum'; values: string[]; description?: string }
  | { kind: 'literal'; value: unknown }
  | { kind: 'object'; fields: ObjectField[]; description?: string }
  | { kind: 'array'; element: FieldSpec; description?: string }
  | { kind: 'record'; value: FieldSpec; description?: string }
  | { kind: 'variant'; discriminator: string; options: Array<{ value: string; spec: Extract<FieldSpec, { kind: 'object' }> }>; description?: string }
  /** A number or an expression (Retrieve's limit and offset). */
  | { kind: 'count'; description?: string }
  /** The format's database constraint (Retrieve's where): all of / any of / not / a condition on an attribute. */
  | { kind: 'constraint'; description?: string }
  /** Anything else (a constraint tree): edited as JSON. */
  | { kind: 'json'; description?: string };

export interface ObjectField {
  key: string;
  spec: FieldSpec;
  optional: boolean;
}

interface Def {
  type: string;
  innerType?: ZodLike;
  shape?: Record<string, ZodLike>;
  element?: ZodLike;
  valueType?: ZodLike;
  options?: ZodLike[];
  discriminator?: string;
  entries?: Record<string, string>;
  values?: unknown[];
  getter?: () => ZodLike;
  in?: ZodLike;
}
interface ZodLike {
  _zod: { def: Def };
  description?: string;
}

const EXPRESSION_KEYS = new Set(['value', 'message', 'expression', 'returnValue']);
/** Records whose values are expressions: member values, Call flow parameters, action arguments. */
const EXPRESSION_RECORDS = new Set(['values', 'parameters', 'arguments']);
const VARIABLE_KEYS = new Set(['variable', 'variables', 'list', 'outputVariable', 'iterator']);
const MEMBER_KEYS = new Set(['attribute', 'association']);

function roleOf(key: string, recordOf: string | undefined): TextRole {
  if (recordOf !== undefined) return EXPRESSION_RECORDS.has(recordOf) ? 'expression' : 'text';
  if (EXPRESSION_KEYS.has(key)) return 'expression';
  if (VARIABLE_KEYS.has(key)) return 'variable';
  if (key === 'entity') return 'entity';
  if (key === 'profile') return 'profile';
  if (MEMBER_KEYS.has(key)) return 'member';
  return 'text';
}

/**
 * The form of a zod schema; `key` is the field's name in its object (it decides a text's role).
 *
 * @example
 * const spec = formSpec(activityOption('synchronize')!);
 * // { kind: 'object', fields: [{ key: 'type', ... }, { key: 'mode', spec: { kind: 'enum', values: ['all', ...] } }, ...] }
 */
export function formSpec(schema: z.ZodType, key = ''): FieldSpec {
  return specOf(schema as unknown as ZodLike, key, undefined);
}

/** `recordOf`: the key of the record this is the value of. */
function specOf(s: ZodLike, key: string, recordOf: string | undefined): FieldSpec {
  const def = s._zod.def;
  const description = s.description;
  // The recursive constraint tree has a form of its own.
  if ((s as unknown) === constraintSchema) return { kind: 'constraint', description };
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'nullable':
    case 'readonly':
      return withDescription(specOf(def.innerType!, key, recordOf), description);
    case 'pipe':
      return specOf(def.in!, key, recordOf);
    case 'string':
      return { kind: 'text', role: roleOf(key, recordOf), description };
    case 'number':
      return { kind: 'number', description };
    case 'boolean':
      return { kind: 'boolean', description };
    case 'enum':
      return { kind: 'enum', values: Object.values(def.entries ?? {}), description };
    case 'literal':
      return { kind: 'literal', value: def.values?.[0] };
    case 'object':
      return {
        kind: 'object',
        description,
        fields: Object.entries(def.shape ?? {}).map(([k, v]) => ({ key: k, spec: specOf(v, k, undefined), optional: isOptional(v) })),
      };
    case 'array':
      return { kind: 'array', element: specOf(def.element!, key, recordOf), description };
    case 'record':
      return { kind: 'record', value: specOf(def.valueType!, '*', key), description };
    case 'union': {
      const options = def.options ?? [];
      if (def.discriminator) {
        return {
          kind: 'variant',
          discriminator: def.discriminator,
          description,
          options: options.map((o) => {
            const spec = specOf(o, key, recordOf) as Extract<FieldSpec, { kind: 'object' }>;
            const tag = spec.fields.find((f) => f.key === def.discriminator)?.spec;
            return { value: String(tag?.kind === 'literal' ? tag.value : ''), spec };
          }),
        };
      }
      const specs = options.map((o) => specOf(o, key, recordOf));
      const kinds = specs.map((o) => o.kind);
      if (kinds.length === 2 && kinds.includes('number') && kinds.includes('text')) return { kind: 'count', description };
      // A plain union of variants and objects on one tag (a return type: a data type or "nothing") is one variant.
      const merged = mergeVariants(specs);
      return merged ? { ...merged, description } : { kind: 'json', description };
    }
    default:
      return { kind: 'json', description };
  }
}

function mergeVariants(specs: FieldSpec[]): Extract<FieldSpec, { kind: 'variant' }> | undefined {
  const options: Array<{ value: string; spec: Extract<FieldSpec, { kind: 'object' }> }> = [];
  let discriminator: string | undefined;
  for (const spec of specs) {
    if (spec.kind === 'variant' && (discriminator ?? spec.discriminator) === spec.discriminator) {
      discriminator = spec.discriminator;
      options.push(...spec.options);
    } else if (spec.kind === 'object') {
      const tag = spec.fields.find((f) => f.spec.kind === 'literal' && (discriminator === undefined || f.key === discriminator));
      if (!tag || tag.spec.kind !== 'literal') return undefined;
      discriminator = tag.key;
      options.push({ value: String(tag.spec.value), spec });
    } else {
      return undefined;
    }
  }
  return discriminator ? { kind: 'variant', discriminator, options } : undefined;
}

function withDescription(spec: FieldSpec, description: string | undefined): FieldSpec {
  return description && 'description' in spec ? { ...spec, description } : spec;
}

function isOptional(s: ZodLike): boolean {
  const t = s._zod.def.type;
  return t === 'optional' || t === 'default';
}

/**
 * A value that fits a spec, for a new field or a new activity: required fields only, the
 * first of every choice, empty texts (the validator then names what is missing).
 */
export function defaultValue(spec: FieldSpec): unknown {
  switch (spec.kind) {
    case 'text':
      return '';
    case 'number':
    case 'count':
      return 0;
    case 'boolean':
      return false;
    case 'enum':
      return spec.values[0];
    case 'literal':
      return spec.value;
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const f of spec.fields) if (!f.optional) out[f.key] = defaultValue(f.spec);
      return out;
    }
    case 'array':
      return [];
    case 'record':
      return {};
    case 'variant':
      return defaultValue(spec.options[0].spec);
    case 'json':
      return {};
    case 'constraint':
      return { attribute: '', op: 'eq', value: '' };
  }
}
