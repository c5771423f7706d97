import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.ts';
import { CURRENT_USER, type Constraint } from '../../src/model/constraint.ts';
import type { SyncObject } from '../../src/model/values.ts';
import type { LocalStore } from '../../src/store/LocalStore.ts';
import { fromServer, openTestStore } from './openTestStore.ts';

let store: LocalStore;
let tasks: SyncObject[];
const project = fromServer({ name: 'Garden' });
const other = fromServer({ name: 'House' });

beforeEach(async () => {
  store = await openTestStore();
  tasks = [
    fromServer({ title: 'Dig beds', done: false, estimate: 3, priority: 'high', assignee: 'alice', project: project.id }, '2026-01-01T00:00:00.000Z'),
    fromServer({ title: 'Sow seeds', done: true, estimate: 1, priority: 'low', assignee: 'bob', project: project.id }, '2026-01-02T00:00:00.000Z'),
    fromServer({ title: 'Paint door', done: false, estimate: null, priority: null, assignee: 'alice', project: other.id }, '2026-01-03T00:00:00.000Z'),
    fromServer({ title: 'dig pond', done: null, estimate: 8, priority: 'normal', assignee: null, project: null }, '2026-01-04T00:00:00.000Z'),
  ];
  await store.applyServerObjects('Project', [project, other]);
  await store.applyServerObjects('Task', tasks);
});
afterEach(() => store.close());

const titles = async (where?: Constraint, extra: object = {}) =>
  (await store.query('Task', { where, sort: [['title', 'asc']], ...extra })).map((o) => o.title);

describe('LocalStore.query', () => {
  it('supports every comparison operator with the server\'s semantics for empty values', async () => {
    expect(await titles({ attribute: 'done', op: 'eq', value: false })).toEqual(['Dig beds', 'Paint door']);
    expect(await titles({ attribute: 'done', op: 'eq', value: null })).toEqual(['dig pond']);
    expect(await titles({ attribute: 'done', op: 'ne', value: true })).toEqual(['Dig beds', 'Paint door', 'dig pond']);
    expect(await titles({ attribute: 'estimate', op: 'lt', value: 3 })).toEqual(['Sow seeds']);
    expect(await titles({ attribute: 'estimate', op: 'lte', value: 3 })).toEqual(['Dig beds', 'Sow seeds']);
    expect(await titles({ attribute: 'estimate', op: 'gt', value: 3 })).toEqual(['dig pond']);
    expect(await titles({ attribute: 'estimate', op: 'gte', value: 3 })).toEqual(['Dig beds', 'dig pond']);
    expect(await titles({ attribute: 'priority', op: 'in', value: ['low', 'high'] })).toEqual(['Dig beds', 'Sow seeds']);
    expect(await titles({ attribute: 'title', op: 'contains', value: 'DIG' })).toEqual(['Dig beds', 'dig pond']);
    expect(await titles({ attribute: 'title', op: 'startsWith', value: 'p' })).toEqual(['Paint door']);
  });

  it('combines constraints with and, or and not', async () => {
    expect(await titles({ and: [{ attribute: 'done', op: 'eq', value: false }, { attribute: 'assignee', op: 'eq', value: 'alice' }] })).toEqual(['Dig beds', 'Paint door']);
    expect(await titles({ or: [{ attribute: 'done', op: 'eq', value: true }, { attribute: 'estimate', op: 'gt', value: 5 }] })).toEqual(['Sow seeds', 'dig pond']);
    expect(await titles({ not: { attribute: 'assignee', op: 'eq', value: 'alice' } })).toEqual(['Sow seeds', 'dig pond']);
  });

  it('resolves [%CurrentUser%] to the given user', async () => {
    const mine = { attribute: 'assignee', op: 'eq', value: CURRENT_USER } as const;
    expect(await titles(mine, { currentUser: 'bob' })).toEqual(['Sow seeds']);
    expect(await titles(mine)).toEqual(['dig pond']); // no user: like matchConstraint, eq null
  });

  it('narrows by index on associations, ids and changedDate with the same results as a scan', async () => {
    expect(await titles({ attribute: 'project', op: 'eq', value: project.id })).toEqual(['Dig beds', 'Sow seeds']);
    expect(await titles({ attribute: 'project', op: 'eq', value: null })).toEqual(['dig pond']);
    expect(await titles({ attribute: 'id', op: 'in', value: [tasks[2].id, tasks[3].id, null] })).toEqual(['Paint door', 'dig pond']);
    expect(await titles({ and: [{ attribute: 'changedDate', op: 'gt', value: '2026-01-02T00:00:00.000Z' }, { attribute: 'done', op: 'eq', value: false }] })).toEqual(['Paint door']);
    expect(await titles({ attribute: 'changedDate', op: 'lte', value: '2026-01-02T00:00:00.000Z' })).toEqual(['Dig beds', 'Sow seeds']);
  });

  it('sorts by several keys, empty values last ascending and first descending, then by id', async () => {
    const byEstimate = async (direction: 'asc' | 'desc') =>
      (await store.query('Task', { sort: [['estimate', direction]] })).map((o) => o.estimate);
    expect(await byEstimate('asc')).toEqual([1, 3, 8, null]);
    expect(await byEstimate('desc')).toEqual([null, 8, 3, 1]);
    const sorted = await store.query('Task', { sort: [['assignee', 'asc'], ['changedDate', 'desc']] });
    expect(sorted.map((o) => o.title)).toEqual(['Paint door', 'Dig beds', 'Sow seeds', 'dig pond']);
    const byId = [...tasks].sort((a, b) => (a.id < b.id ? -1 : 1)).map((o) => o.id);
    expect((await store.query('Task')).map((o) => o.id)).toEqual(byId);
  });

  it('pages with limit and offset, with or without a constraint', async () => {
    expect(await titles(undefined, { limit: 2, offset: 1 })).toEqual(['Paint door', 'Sow seeds']);
    expect(await titles({ attribute: 'done', op: 'ne', value: true }, { limit: 1, offset: 1 })).toEqual(['Paint door']);
    const all = (await store.query('Task')).map((o) => o.id);
    expect((await store.query('Task', { offset: 3, limit: 10 })).map((o) => o.id)).toEqual(all.slice(3));
    expect(await store.query('Task', { limit: 0 })).toEqual([]);
  });

  it('rejects an unknown attribute, a bad sort and a bad limit, naming them', async () => {
    const paths = async (p: Promise<unknown>) => ((await p.catch((e) => e)) as ValidationError).problems.map((x) => x.path);
    expect(await paths(store.query('Task', { where: { attribute: 'nope', op: 'eq', value: 1 } }))).toEqual(['where.attribute']);
    expect(await paths(store.query('Task', { sort: [['nope', 'asc']] }))).toEqual(['sort[0]']);
    expect(await paths(store.query('Task', { limit: -1 }))).toEqual(['limit']);
  });

  it('returns frozen objects without internal fields', async () => {
    const [first] = await store.query('Task', { limit: 1 });
    expect(Object.keys(first).filter((k) => k.startsWith('$'))).toEqual(['$entity']);
    expect(Object.isFrozen(first)).toBe(true);
  });
});

describe('LocalStore.count', () => {
  it('counts all objects or those matching a constraint', async () => {
    expect(await store.count('Task')).toBe(4);
    expect(await store.count('Task', { attribute: 'assignee', op: 'eq', value: 'alice' })).toBe(2);
  });

  it('accepts query options, bounded by limit and offset', async () => {
    expect(await store.count('Task', { where: { attribute: 'done', op: 'ne', value: true } })).toBe(3);
    expect(await store.count('Task', { where: { attribute: 'done', op: 'ne', value: true }, offset: 1, limit: 1 })).toBe(1);
    expect(await store.count('Task', { offset: 10 })).toBe(0);
  });
});

describe('associations', () => {
  it('follows an association to its target, and gives undefined when it is empty', async () => {
    const dig = (await store.get('Task', tasks[0].id))!;
    expect((await store.follow(dig, 'project'))?.name).toBe('Garden');
    expect(await store.follow((await store.get('Task', tasks[3].id))!, 'project')).toBeUndefined();
  });

  it('finds the referrers of an object by index', async () => {
    expect((await store.referrers('Task', 'project', project.id)).map((o) => o.title).sort()).toEqual(['Dig beds', 'Sow seeds']);
    expect(await store.referrers('Task', 'project', '00000000-0000-4000-8000-000000000000')).toEqual([]);
  });

  it('rejects an unknown association', async () => {
    const dig = (await store.get('Task', tasks[0].id))!;
    await expect(store.follow(dig, 'owner')).rejects.toBeInstanceOf(ValidationError);
    await expect(store.referrers('Task', 'title', project.id)).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('dates are instants, as on the server', () => {
  // The same moments written three ways: UTC to the microsecond (the server's stamps), a zone offset, fewer digits.
  const dated = [
    fromServer({ title: 'first', due: '2030-01-05T02:00:00+02:00' }, '2026-02-01T10:00:00.000001Z'),
    fromServer({ title: 'second', due: '2030-01-05T00:30:00Z' }, '2026-02-01T10:00:00.000500Z'),
    fromServer({ title: 'third', due: '2030-01-04T23:00:00-02:00' }, '2026-02-01T10:00:00.001000Z'),
  ];
  const titlesOf = async (where: Constraint, sort: Array<[string, 'asc' | 'desc']> = [['title', 'asc']]) =>
    (await store.query('Task', { where: { and: [{ attribute: 'title', op: 'in', value: ['first', 'second', 'third'] }, where] }, sort })).map((o) => o.title);
  const changed = async (where: Constraint) => (await store.query('Task', { where, sort: [['title', 'asc']] })).map((o) => o.title);

  it('filters and sorts datetime attributes by the moment, whatever the zone or digits', async () => {
    await store.applyServerObjects('Task', dated);
    expect(await titlesOf({ attribute: 'due', op: 'eq', value: '2030-01-05T00:00:00.000Z' })).toEqual(['first']);
    expect(await titlesOf({ attribute: 'due', op: 'lt', value: '2030-01-05T01:00:00+01:00' })).toEqual([]);
    expect(await titlesOf({ attribute: 'due', op: 'gt', value: '2030-01-04T19:00:00-05:00' })).toEqual(['second', 'third']);
    expect(await titlesOf({ attribute: 'due', op: 'in', value: ['2030-01-05T01:00:00Z', '2030-01-04T21:30:00-03:00'] })).toEqual(['third', 'second'].sort());
    // Sorted by time: third (01:00Z) after second (00:30Z) after first (00:00Z), though their text sorts otherwise.
    expect(await titlesOf({ attribute: 'due', op: 'ne', value: null }, [['due', 'asc']])).toEqual(['first', 'second', 'third']);
    expect(await titlesOf({ attribute: 'due', op: 'ne', value: null }, [['due', 'desc']])).toEqual(['third', 'second', 'first']);
  });

  it('finds changedDate stamps through the index by the moment, to the microsecond', async () => {
    await store.applyServerObjects('Task', dated);
    expect(await changed({ attribute: 'changedDate', op: 'eq', value: '2026-02-01T12:00:00.000001+02:00' })).toEqual(['first']);
    expect(await changed({ attribute: 'changedDate', op: 'eq', value: '2026-02-01T10:00:00.0005Z' })).toEqual(['second']);
    expect(await changed({ attribute: 'changedDate', op: 'eq', value: '2026-02-01T10:00:00.001Z' })).toEqual(['third']);
    expect(await changed({ attribute: 'changedDate', op: 'gt', value: '2026-02-01T10:00:00.000001Z' })).toEqual(['second', 'third']);
    expect(await changed({ attribute: 'changedDate', op: 'gte', value: '2026-02-01T11:00:00.000001+01:00' })).toEqual(['first', 'second', 'third']);
    expect(await changed({ attribute: 'changedDate', op: 'lt', value: '2026-02-01T10:00:00.001Z' })).toEqual(['first', 'second'].concat(['Dig beds', 'Paint door', 'Sow seeds', 'dig pond']).sort());
    expect(await changed({ attribute: 'changedDate', op: 'in', value: ['2026-02-01T05:00:00.0005-05:00', 'not a date', null] })).toEqual(['second']);
  });
});
