/**
 * Autocomplete for the expression editor, from the flow's own types (the type checker's view):
 * variables after `$`, an object's attributes and associations after `$var/`, an enumeration's
 * values inside `$var/attr = '`, and the expression language's functions and keywords.
 */
import { FUNCTIONS, signatureOf } from '../../../src/flow/expressions/functions.ts';
import { ERROR_ENTITY, memberNamesOf, memberOf, type StaticType } from '../../../src/flow/expressions/types.ts';
import type { Flow } from '../../../src/flow/format.ts';
import type { Schema } from '../../../src/model/schema.ts';
import { declaredVariables } from './variables.ts';

export interface Completion {
  /** What replaces the word being typed. */
  insert: string;
  label: string;
  detail: string;
}

export interface CompletionResult {
  /** Where the word being typed starts (it is replaced up to the caret). */
  from: number;
  items: Completion[];
}

const KEYWORDS = ['empty', 'true', 'false', 'and', 'or', 'not', 'if', 'then', 'else', 'div', 'mod'];

function describe(t: StaticType | undefined): string {
  if (!t) return '';
  if (t.kind === 'object' || t.kind === 'list') return `${t.kind} of ${t.entity}`;
  if (t.kind === 'enum') return `enum (${t.values.join(', ')})`;
  return t.kind;
}

/**
 * @example
 * completions("$task/ti", 8, flow, schema); // { from: 6, items: [{ insert: 'title', ... }] }
 */
export function completions(text: string, caret: number, flow: Flow | null, schema: Schema): CompletionResult {
  const before = text.slice(0, caret);
  const variables = new Map<string, StaticType>(flow ? declaredVariables(flow, schema).map((v) => [v.name, v.type]) : []);
  variables.set('latestError', { kind: 'object', entity: ERROR_ENTITY });
  const entityOf = (name: string) => {
    const t = variables.get(name);
    return t && (t.kind === 'object' || t.kind === 'list') ? t.entity : null;
  };
  const starting = (prefix: string) => (s: string) => s.toLowerCase().startsWith(prefix.toLowerCase());

  const value = /\$([A-Za-z_]\w*)\/([A-Za-z_]\w*)\s*(?:=|!=)\s*'([^']*)$/.exec(before);
  if (value) {
    const entity = entityOf(value[1]);
    const t = entity ? memberOf(schema, entity, value[2])?.type : undefined;
    if (t?.kind === 'enum') {
      return { from: caret - value[3].length, items: t.values.filter(starting(value[3])).map((v) => ({ insert: `${v}'`, label: v, detail: `${value[2]} value` })) };
    }
    return { from: caret, items: [] };
  }
  const member = /\$([A-Za-z_]\w*)\/(\w*)$/.exec(before);
  if (member) {
    const entity = entityOf(member[1]);
    const names = entity ? memberNamesOf(schema, entity) : [];
    return {
      from: caret - member[2].length,
      items: names.filter(starting(member[2])).map((m) => ({ insert: m, label: m, detail: describe(memberOf(schema, entity!, m)?.type) })),
    };
  }
  const variable = /\$(\w*)$/.exec(before);
  if (variable) {
    return {
      from: caret - variable[1].length,
      items: [...variables].filter(([n]) => starting(variable[1])(n)).map(([n, t]) => ({ insert: n, label: `$${n}`, detail: describe(t) })),
    };
  }
  const word = /([A-Za-z_]\w*)$/.exec(before)?.[1] ?? '';
  const functions = Object.keys(FUNCTIONS)
    .filter(starting(word))
    .map((f) => ({ insert: `${f}(`, label: f, detail: signatureOf(f) }));
  const keywords = KEYWORDS.filter(starting(word)).map((k) => ({ insert: k, label: k, detail: 'keyword' }));
  return { from: caret - word.length, items: [...functions, ...keywords] };
}
