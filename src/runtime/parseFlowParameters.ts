/**
 * Flow parameters given as text (the CLI's `--param name=value`, a form field) turned into the
 * values the flow declares. Objects are given by id and read from the offline database, so a
 * flow runs on the device's own version of them (synchronize first to have the server's).
 */
import { ValidationError, type Problem } from '../errors.ts';
import { ERROR_ENTITY, FAILURE_ENTITY } from '../flow/expressions/types.ts';
import type { DataType } from '../flow/format.ts';
import type { LocalStore } from '../store/LocalStore.ts';
import type { LocalObject } from '../store/types.ts';
import type { SynchronizationFailure } from '../transport/wire.ts';
import { parseIsoDateTime } from '../model/values.ts';

/** Where object parameters are found: the offline database and its SynchronizationFailures (a Runtime is one). */
export interface ParameterLookup {
  store: Pick<LocalStore, 'get'>;
  listFailures?(): Promise<SynchronizationFailure[]>;
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Parses text values against a flow's declared parameters. Rules: `string` is taken as is;
 * for every other type an empty text means empty; `integer` and `decimal` are numbers;
 * `boolean` is `true` or `false`; `datetime` is ISO 8601 with a zone (`2030-01-31T09:00:00Z`)
 * or a date (midnight UTC); an enumeration takes one of its values; an object is its id (a
 * System.SynchronizationFailure's id for failures), a list ids separated by commas. Throws one
 * ValidationError naming every bad parameter (`parameters.<name>`), unknown names included.
 *
 * @example
 * const params = await parseFlowParameters(flow.parameters, { task: '5eed0000-…', title: 'New title' }, runtime);
 */
export async function parseFlowParameters(
  declared: ReadonlyArray<{ name: string; type: DataType }> | undefined,
  given: Readonly<Record<string, string>>,
  lookup: ParameterLookup,
): Promise<Record<string, unknown>> {
  const types = new Map((declared ?? []).map((p) => [p.name, p.type]));
  const problems: Problem[] = [];
  const out: Record<string, unknown> = {};
  let failures: Promise<SynchronizationFailure[]> | null = null;
  const failureById = async (id: string) => {
    if (!lookup.listFailures) return undefined;
    failures ??= lookup.listFailures();
    return (await failures).find((f) => f.id === id);
  };
  const findObject = async (entity: string, id: string): Promise<Record<string, unknown> | string> => {
    if (entity === ERROR_ENTITY) return `a ${ERROR_ENTITY} cannot be given as a parameter`;
    if (entity === FAILURE_ENTITY) {
      const failure = await failureById(id);
      return failure ? { ...failure, $entity: FAILURE_ENTITY } : `no SynchronizationFailure ${id} on this device`;
    }
    const object: LocalObject | null | undefined = await lookup.store.get(entity, id);
    return object ?? `no ${entity} ${id} in the local database (synchronize first to have the server's objects)`;
  };

  for (const [name, text] of Object.entries(given)) {
    const type = types.get(name);
    const path = `parameters.${name}`;
    if (!type) {
      const names = [...types.keys()];
      problems.push({ path, message: `the flow has no such parameter (${names.length ? `it has ${names.join(', ')}` : 'it has none'})` });
      continue;
    }
    const fail = (message: string) => problems.push({ path, message });
    const t = text.trim();
    if (type.type !== 'string' && t === '') {
      out[name] = type.type === 'list' ? [] : null;
      continue;
    }
    switch (type.type) {
      case 'string':
        out[name] = text;
        break;
      case 'integer':
        if (INTEGER.test(t) && Number.isSafeInteger(Number(t))) out[name] = Number(t);
        else fail(`"${text}" is not an integer`);
        break;
      case 'decimal':
        if (DECIMAL.test(t) && Number.isFinite(Number(t))) out[name] = Number(t);
        else fail(`"${text}" is not a number`);
        break;
      case 'boolean':
        if (/^(true|false)$/i.test(t)) out[name] = t.toLowerCase() === 'true';
        else fail(`"${text}" is not true or false`);
        break;
      case 'datetime': {
        // A date alone is midnight UTC; both go through the calendar-checked parser (Date shifts 2030-02-30).
        const d = parseIsoDateTime(DATE.test(t) ? `${t}T00:00:00Z` : t);
        if (d) out[name] = d.toISOString();
        else fail(`"${text}" is not a date (2030-01-31) or a date and time with a zone (2030-01-31T09:00:00Z)`);
        break;
      }
      case 'enum':
        if (type.values.includes(t)) out[name] = t;
        else fail(`"${text}" is not one of ${type.values.join(', ')}`);
        break;
      case 'object': {
        const found = await findObject(type.entity, t);
        if (typeof found === 'string') fail(found);
        else out[name] = found;
        break;
      }
      case 'list': {
        const objects: unknown[] = [];
        for (const id of t.split(',').map((s) => s.trim())) {
          const found = id ? await findObject(type.entity, id) : 'an empty id in the list';
          if (typeof found === 'string') fail(found);
          else objects.push(found);
        }
        out[name] = objects;
        break;
      }
    }
  }
  if (problems.length) throw new ValidationError(problems);
  return out;
}
