import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { demoSchema } from '../../src/demo/schema.ts';
import { ValidationError } from '../../src/errors.ts';
import type { DataType } from '../../src/flow/format.ts';
import { newId } from '../../src/model/values.ts';
import { parseFlowParameters } from '../../src/runtime/parseFlowParameters.ts';
import type { LocalStore } from '../../src/store/LocalStore.ts';
import { openStore } from '../../src/store/openStore.ts';
import type { LocalObject } from '../../src/store/types.ts';
import { failureFixture } from '../support/failures.ts';

let store: LocalStore;
let tasks: LocalObject[];
const failure = failureFixture({ createdDate: '2030-01-01T00:00:00.000Z' });

beforeEach(async () => {
  store = await openStore({ schema: demoSchema, name: `params-${newId()}`, indexedDB, IDBKeyRange });
  const session = store.session();
  tasks = await session.commit([session.create('Task', { title: 'One' }), session.create('Task', { title: 'Two' })]);
  await store.putFailures([failure]);
});
afterEach(() => store.close());

const lookup = () => ({ store, listFailures: () => store.listFailures() });
const declare = (types: Record<string, DataType>) => Object.entries(types).map(([name, type]) => ({ name, type }));

async function problems(types: Record<string, DataType>, given: Record<string, string>): Promise<string[]> {
  const error = await parseFlowParameters(declare(types), given, lookup()).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).problems.map((p) => `${p.path}: ${p.message}`);
}

describe('parseFlowParameters', () => {
  it('turns text into each declared type', async () => {
    const params = await parseFlowParameters(
      declare({
        s: { type: 'string' },
        i: { type: 'integer' },
        d: { type: 'decimal' },
        b: { type: 'boolean' },
        day: { type: 'datetime' },
        at: { type: 'datetime' },
        e: { type: 'enum', values: ['low', 'high'] },
        task: { type: 'object', entity: 'Task' },
        list: { type: 'list', entity: 'Task' },
        f: { type: 'object', entity: 'System.SynchronizationFailure' },
      }),
      {
        s: '  spaced = kept  ',
        i: '-42',
        d: '2.5e3',
        b: 'FALSE',
        day: '2030-01-31',
        at: '2030-01-31T09:30:00+02:00',
        e: 'high',
        task: tasks[0].id,
        list: `${tasks[1].id}, ${tasks[0].id}`,
        f: failure.id,
      },
      lookup(),
    );
    expect(params).toEqual({
      s: '  spaced = kept  ',
      i: -42,
      d: 2500,
      b: false,
      day: '2030-01-31T00:00:00.000Z',
      at: '2030-01-31T07:30:00.000Z',
      e: 'high',
      task: tasks[0],
      list: [tasks[1], tasks[0]],
      f: { ...failure, $entity: 'System.SynchronizationFailure' },
    });
  });

  it('reads an empty text as empty, except for strings', async () => {
    const params = await parseFlowParameters(
      declare({ s: { type: 'string' }, i: { type: 'integer' }, task: { type: 'object', entity: 'Task' }, list: { type: 'list', entity: 'Task' } }),
      { s: '', i: ' ', task: '', list: '' },
      lookup(),
    );
    expect(params).toEqual({ s: '', i: null, task: null, list: [] });
  });

  it('refuses dates and times Date would shift or guess at, and keeps years before 100', async () => {
    const bad = ['2030-02-29', '2030-03-01T24:00:00Z', '2030-03-01T10:60:00Z', '2030-03-01T10:00:00+99:99', 'March 7, 2030', '2030-3-1', '0000-01-01'];
    const types = Object.fromEntries(bad.map((_, i) => [`d${i}`, { type: 'datetime' } as DataType]));
    expect(await problems(types, Object.fromEntries(bad.map((text, i) => [`d${i}`, text])))).toEqual(
      bad.map((text, i) => `parameters.d${i}: "${text}" is not a date (2030-01-31) or a date and time with a zone (2030-01-31T09:00:00Z)`),
    );
    const ok = await parseFlowParameters(declare({ a: { type: 'datetime' }, b: { type: 'datetime' } }), { a: '0050-06-15', b: '2028-02-29T23:30:00-01:00' }, lookup());
    expect(ok).toEqual({ a: '0050-06-15T00:00:00.000Z', b: '2028-03-01T00:30:00.000Z' });
  });

  it('names every bad parameter in one ValidationError', async () => {
    expect(
      await problems(
        {
          i: { type: 'integer' },
          big: { type: 'integer' },
          d: { type: 'decimal' },
          b: { type: 'boolean' },
          day: { type: 'datetime' },
          overflow: { type: 'datetime' },
          zoneless: { type: 'datetime' },
          e: { type: 'enum', values: ['low', 'high'] },
          task: { type: 'object', entity: 'Task' },
          list: { type: 'list', entity: 'Task' },
          f: { type: 'object', entity: 'System.SynchronizationFailure' },
          err: { type: 'object', entity: 'System.Error' },
        },
        {
          i: '1.0',
          big: '99999999999999999999',
          d: '1,5',
          b: '1',
          day: '2030-02-30',
          overflow: '2030-04-31T10:00:00Z',
          zoneless: '2030-01-31T09:00',
          e: 'LOW',
          task: 'missing-id',
          list: `${tasks[0].id},,x`,
          f: 'nope',
          err: 'x',
          other: '1',
        },
      ),
    ).toEqual([
      'parameters.i: "1.0" is not an integer',
      'parameters.big: "99999999999999999999" is not an integer',
      'parameters.d: "1,5" is not a number',
      'parameters.b: "1" is not true or false',
      'parameters.day: "2030-02-30" is not a date (2030-01-31) or a date and time with a zone (2030-01-31T09:00:00Z)',
      'parameters.overflow: "2030-04-31T10:00:00Z" is not a date (2030-01-31) or a date and time with a zone (2030-01-31T09:00:00Z)',
      'parameters.zoneless: "2030-01-31T09:00" is not a date (2030-01-31) or a date and time with a zone (2030-01-31T09:00:00Z)',
      'parameters.e: "LOW" is not one of low, high',
      "parameters.task: no Task missing-id in the local database (synchronize first to have the server's objects)",
      'parameters.list: an empty id in the list',
      "parameters.list: no Task x in the local database (synchronize first to have the server's objects)",
      'parameters.f: no SynchronizationFailure nope on this device',
      'parameters.err: a System.Error cannot be given as a parameter',
      'parameters.other: the flow has no such parameter (it has i, big, d, b, day, overflow, zoneless, e, task, list, f, err)',
    ]);
  });

  it('says when the flow has no parameters at all', async () => {
    expect(await problems({}, { x: '1' })).toEqual(['parameters.x: the flow has no such parameter (it has none)']);
  });
});
