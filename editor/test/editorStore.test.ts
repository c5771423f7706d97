/** The editor's store without a browser: edits, undo / redo as immer patches, and what the palette and forms offer. */
import { describe, expect, it } from 'vitest';
import { demoSchema } from '../../src/demo/schema.ts';
import { ACTIVITIES } from '../../src/flow/activities/index.ts';
import { activitySchema, type Flow } from '../../src/flow/format.ts';
import { validateFlow } from '../../src/flow/validateFlow.ts';
import { ApiError, type AppInfo, type FlowSummary } from '../src/api.ts';
import { defineSchema } from '../../src/model/schema.ts';
import { edgeKeys, layoutMissing } from '../src/flow/graph.ts';
import { syncMachines } from '../../src/sync/Synchronizer.ts';
import { defaultValue, formSpec } from '../src/flow/formSpec.ts';
import { ACTIVITY_KINDS, activityKinds, activityOption, activitySpec, hasActivityForm, newActivity, NODE_KINDS } from '../src/flow/kinds.ts';
import { machineGraph, statePath, topState } from '../src/run/machineGraph.ts';
import { createEditorStore, isDirty, validationOf, type EditorApi } from '../src/store/editorStore.ts';

const flow: Flow = {
  name: 'sample',
  parameters: [{ name: 'task', type: { type: 'object', entity: 'Task' } }],
  nodes: [
    { id: 'start', type: 'start', position: { x: 0, y: 0 } },
    { id: 'commitTask', type: 'activity', activity: { type: 'commit', variables: ['task'] }, position: { x: 160, y: 0 } },
    { id: 'end', type: 'end', position: { x: 340, y: 0 } },
  ],
  edges: [
    { from: 'start', to: 'commitTask' },
    { from: 'commitTask', to: 'end' },
  ],
};

function fakeApi(app: AppInfo = { schema: demoSchema, profiles: [] }): EditorApi & { saved: unknown[] } {
  const summary = (f: unknown): FlowSummary => ({ id: 'sample', file: 'sample.flow.json', name: 'sample', flow: f, problems: [], version: 'v1' });
  const saved: unknown[] = [];
  return {
    saved,
    session: async () => ({ user: 'alice', roles: ['author'], canAuthor: true }),
    signIn: async () => ({ user: 'alice', roles: ['author'], canAuthor: true }),
    signOut: async () => undefined,
    app: async () => structuredClone(app),
    list: async () => [summary(flow)],
    read: async () => summary(flow),
    save: async (_id, f) => {
      saved.push(structuredClone(f));
      return summary(f);
    },
    create: async () => summary(flow),
  };
}

async function openSample() {
  const api = fakeApi();
  const store = createEditorStore({ api });
  await store.getState().loadApp();
  await store.getState().init();
  await store.getState().open('sample');
  return { store, api, s: () => store.getState() };
}

describe('editor store', () => {
  it('undoes and redoes each edit with its immer patches, and a new edit drops the redo branch', async () => {
    const { s } = await openSample();
    const original = s().flow;
    const id = s().addNode({ type: 'activity', activity: 'synchronize' }, { x: 500, y: 100 })!;
    expect(id).toBe('synchronize1');
    s().setNodeField(id, ['activity', 'mode'], 'selected');
    s().setNodeField(id, ['activity', 'variables'], ['task']);
    s().connect('commitTask', id);
    expect(s().past.map((e) => e.label)).toEqual(['add synchronize', 'edit synchronize1 activity.mode', 'edit synchronize1 activity.variables', 'connect commitTask to synchronize1']);
    const edited = s().flow;

    for (let i = 0; i < 4; i++) s().undo();
    expect(s().flow).toEqual(original);
    expect(s().past).toHaveLength(0);
    for (let i = 0; i < 4; i++) s().redo();
    expect(s().flow).toEqual(edited);

    s().undo();
    s().setNodeField(id, ['caption'], 'Sync');
    expect(s().future).toHaveLength(0);
    expect(s().flow!.edges).toHaveLength(2);
  });

  it('merges typing in one field into one history entry, until the field is left', async () => {
    const { s } = await openSample();
    for (const text of ['C', 'Co', 'Com', 'Commit']) s().setNodeField('commitTask', ['caption'], text, 'commitTask:caption');
    expect(s().past).toHaveLength(1);
    s().endCoalescing();
    s().setNodeField('commitTask', ['caption'], 'Commit it', 'commitTask:caption');
    expect(s().past).toHaveLength(2);
    s().undo();
    expect(s().flow!.nodes[1].caption).toBe('Commit');
    s().undo();
    expect(s().flow!.nodes[1].caption).toBeUndefined();
  });

  it('deletes the selection with the edges that touch it, as one undoable edit', async () => {
    const { s } = await openSample();
    s().select({ nodes: ['commitTask'] });
    s().deleteSelection();
    expect(s().flow!.nodes.map((n) => n.id)).toEqual(['start', 'end']);
    expect(s().flow!.edges).toEqual([]);
    expect(s().selection.nodes).toEqual([]);
    s().undo();
    expect(s().flow).toEqual(flow);
  });

  it('selects edges by key, edits and deletes them', async () => {
    const { s } = await openSample();
    const [first] = edgeKeys(s().flow!.edges);
    expect(first).toBe('start->commitTask');
    s().select({ edges: [first] });
    s().deleteSelection();
    expect(s().flow!.edges).toEqual([{ from: 'commitTask', to: 'end' }]);
    s().connect('start', 'commitTask', { errorHandler: false });
    expect(s().flow!.edges[1]).toEqual({ id: 'e1', from: 'start', to: 'commitTask' });
  });

  it('renames a node everywhere it is referred to', async () => {
    const { s } = await openSample();
    s().renameNode('commitTask', 'saveTask');
    expect(s().flow!.edges).toEqual([
      { from: 'start', to: 'saveTask' },
      { from: 'saveTask', to: 'end' },
    ]);
  });

  it('validates against the app the server names: its entities and its profile names', async () => {
    const notes: AppInfo = {
      schema: defineSchema({ entities: { Note: { attributes: { text: { type: 'string' } } } } }),
      profiles: [{ name: 'notesDown', direction: 'download', entities: { include: ['Note'] } }],
    };
    const store = createEditorStore({ api: fakeApi(notes) });
    const s = () => store.getState();
    expect(s().app).toBeNull();
    await s().loadApp();
    expect(s().app).toEqual(notes);
    await s().init();
    await s().open('sample');
    // The sample's parameter is a Task: the notes app has no such entity.
    expect(validationOf(s())!.problems).toEqual([expect.objectContaining({ path: 'parameters[0].type.entity' })]);
    s().setFlowField(['parameters', 0, 'type', 'entity'], 'Note');
    expect(validationOf(s())!.problems).toEqual([]);
    s().setNodeField('commitTask', ['activity'], { type: 'runProfile', profile: 'notesDown' });
    expect(validationOf(s())!.problems).toEqual([]);
    s().setNodeField('commitTask', ['activity', 'profile'], 'GetTasks');
    expect(validationOf(s())!.problems).toEqual([expect.objectContaining({ nodeId: 'commitTask', path: 'nodes[1].activity.profile' })]);
  });

  it('keeps why the app could not be loaded, and loads it on the next try', async () => {
    const api = fakeApi();
    let fail = true;
    const load = api.app;
    api.app = async () => {
      if (fail) throw new ApiError(502, 'The sync server is not reachable');
      return load();
    };
    const store = createEditorStore({ api });
    await store.getState().loadApp();
    expect(store.getState()).toMatchObject({ app: null, appError: 'The sync server is not reachable' });
    fail = false;
    await store.getState().loadApp();
    expect(store.getState()).toMatchObject({ app: { schema: demoSchema, profiles: [] }, appError: null });
  });

  it('validates with the runtime’s validator and does not save an invalid flow', async () => {
    const { s, api } = await openSample();
    expect(validationOf(s())!.problems).toEqual([]);
    s().setNodeField('end', ['returnValue'], '$task +');
    const validation = validationOf(s())!;
    expect(validation.problems).toEqual(validateFlow(s().flow, { schema: demoSchema }).problems);
    expect(validation.byNode.get('end')?.[0]).toMatchObject({ path: 'nodes[2].returnValue' });
    expect(await s().save()).toBe(false);
    expect(api.saved).toEqual([]);
    expect(s().notice?.text).toContain('Cannot save');

    s().undo();
    expect(isDirty(s())).toBe(false);
    s().moveNodes({ end: { x: 400, y: 10 } });
    expect(isDirty(s())).toBe(true);
    expect(await s().save()).toBe(true);
    expect(api.saved).toHaveLength(1);
    expect(isDirty(s())).toBe(false);

    // A half-built flow is kept as a draft, its problems listed.
    s().setNodeField('end', ['returnValue'], '$task +');
    expect(await s().save({ draft: true })).toBe(true);
    expect(api.saved).toHaveLength(2);
    expect(s().notice?.text).toContain('as a draft with 1 problem');
    expect(isDirty(s())).toBe(false);
  });
});

describe('palette and forms', () => {
  it('offer every activity kind of the interpreter (ACTIVITIES), Synchronize included, and every node type', () => {
    expect(ACTIVITY_KINDS.map((k) => k.type)).toEqual(Object.keys(ACTIVITIES));
    const formatKinds = activitySchema.options.map((o) => o.shape.type.value);
    expect(new Set(formatKinds)).toEqual(new Set(Object.keys(ACTIVITIES)));
    expect(ACTIVITY_KINDS.every((k) => k.description !== '' && hasActivityForm(k.type))).toBe(true);
    expect(ACTIVITY_KINDS.find((k) => k.type === 'synchronize')).toMatchObject({ label: 'Synchronize' });
    expect(NODE_KINDS.map((k) => k.type)).toEqual(['start', 'end', 'decision', 'merge', 'loop', 'break', 'continue']);
  });

  it('have a field for every field of every activity kind', () => {
    for (const option of activitySchema.options) {
      const spec = activitySpec(option.shape.type.value);
      expect(spec.fields.map((f) => f.key)).toEqual(Object.keys(option.shape));
    }
    const sync = activitySpec('synchronize');
    expect(sync.fields.find((f) => f.key === 'mode')?.spec).toEqual({ kind: 'enum', values: ['all', 'unsynchronized', 'selected'] });
    expect(sync.fields.find((f) => f.key === 'variables')).toMatchObject({ optional: true, spec: { kind: 'array', element: { kind: 'text', role: 'variable' } } });
    expect(activitySpec('logMessage').fields.find((f) => f.key === 'message')?.spec).toMatchObject({ kind: 'text', role: 'expression' });
  });

  it('adds activities of every kind that the validator reads as that kind', async () => {
    const { s } = await openSample();
    for (const kind of ACTIVITY_KINDS) s().addNode({ type: 'activity', activity: kind.type }, { x: 0, y: 200 });
    const { problems } = validateFlow(s().flow, { schema: demoSchema });
    // New activities are incomplete (empty names, no edges), but never of an unknown shape.
    expect(problems.filter((p) => /unknown field|must be one of|Invalid input/.test(p.message))).toEqual([]);
  });
});

describe('a kind the interpreter gains', () => {
  it('appears in the palette, with its schema’s form, or a generic one (JSON) when the format has none', () => {
    // A kind with a schema (as a new one of the format will be) gets a form from it, field by field.
    const [known, unknown] = activityKinds(['synchronize', 'cleanGhosts']);
    expect(known).toMatchObject({ type: 'synchronize', label: 'Synchronize' });
    expect(unknown).toEqual({ type: 'cleanGhosts', label: 'Clean ghosts', description: '' });
    expect(hasActivityForm('cleanGhosts')).toBe(false);
    expect(activityOption('cleanGhosts')).toBeUndefined();
    expect(activitySpec('cleanGhosts')).toMatchObject({ kind: 'object', fields: [{ key: 'type', spec: { kind: 'literal', value: 'cleanGhosts' } }] });
    expect(newActivity('cleanGhosts' as never, (b) => b)).toEqual({ type: 'cleanGhosts' });
  });

  it('the form reads a Retrieve’s where as a constraint tree', () => {
    const database = activitySpec('retrieve').fields.find((f) => f.key === 'source')!.spec;
    expect(database.kind).toBe('variant');
    const where = database.kind === 'variant' ? database.options[0].spec.fields.find((f) => f.key === 'where') : undefined;
    expect(where).toMatchObject({ optional: true, spec: { kind: 'constraint' } });
    expect(defaultValue(where!.spec)).toEqual({ attribute: '', op: 'eq', value: '' });
    expect(formSpec(activitySchema).kind).toBe('variant');
  });

  it('numbers new activities from 1', async () => {
    const { s } = await openSample();
    expect(s().addNode({ type: 'activity', activity: 'commit' }, { x: 0, y: 0 })).toBe('commit1');
    expect(s().addNode({ type: 'activity', activity: 'commit' }, { x: 0, y: 0 })).toBe('commit2');
    expect(s().addNode({ type: 'merge' }, { x: 0, y: 0 })).toBe('merge');
    expect(s().addNode({ type: 'merge' }, { x: 0, y: 0 })).toBe('merge2');
  });
});

describe('the sync machine view', () => {
  it('draws every state and transition of each machine’s XState definition', () => {
    for (const machine of Object.values(syncMachines)) {
      const graph = machineGraph(machine);
      expect(graph.states.map((st) => st.name)).toEqual(Object.keys(machine.root.states));
      const finals = Object.values(machine.root.states).filter((st) => st.type === 'final').map((st) => st.key);
      expect(graph.states.filter((st) => st.final).map((st) => st.name)).toEqual(finals);
      expect(graph.states.filter((st) => st.initial)).toHaveLength(1);
      for (const st of Object.values(machine.root.states)) {
        for (const [, definitions] of st.transitions) {
          for (const d of definitions) for (const t of d.target ?? []) expect(graph.edges.some((e) => e.from === st.key && e.to === t.key)).toBe(true);
        }
      }
      for (const e of graph.edges) expect(e.points.length).toBeGreaterThan(1);
      expect(graph.width).toBeGreaterThan(0);
    }
    const all = machineGraph(syncMachines.all);
    // Files travel up after their objects: uploading → uploadingFiles → downloading.
    expect(all.edges.find((e) => e.from === 'uploading' && e.to === 'uploadingFiles')?.events).toEqual(['done: upload']);
    expect(all.edges.find((e) => e.from === 'uploadingFiles' && e.to === 'downloading')?.events).toEqual(['done: uploadFiles']);
    expect(all.edges.some((e) => e.from === 'uploading' && e.to === 'downloading')).toBe(false);
    expect(all.edges.find((e) => e.from === 'uploading' && e.to === 'failed')?.events).toEqual(['error: upload']);
    expect(all.edges.find((e) => e.from === 'uploading' && e.to === 'cancelled')?.events).toEqual(['CANCEL']);
  });

  it('reads nested state values', () => {
    expect(topState('uploading')).toBe('uploading');
    expect(topState({ downloading: { Task: 'page' } })).toBe('downloading');
    expect(statePath({ downloading: { Task: 'page' } })).toBe('downloading.Task.page');
  });
});

describe('layout', () => {
  it('places the nodes without a position left to right, and leaves the others', () => {
    const unplaced: Flow = { ...flow, nodes: flow.nodes.map(({ position: _, ...n }) => n) };
    const positions = layoutMissing(unplaced);
    expect(Object.keys(positions)).toEqual(['start', 'commitTask', 'end']);
    expect(positions.start.x).toBeLessThan(positions.commitTask.x);
    expect(positions.commitTask.x).toBeLessThan(positions.end.x);
    expect(layoutMissing(flow)).toEqual({});
  });
});

describe('inserting into an edge, rejoining after a delete (issue 15, defect 2)', () => {
  it('inserts a node into an edge as one undo step, and offers to rejoin when a middle node is deleted', async () => {
    const { s } = await openSample();
    const id = s().insertNode({ type: 'activity', activity: 'logMessage' }, { x: 100, y: 0 }, 'commitTask->end')!;
    expect(s().flow!.edges.map((e) => `${e.from}->${e.to}`)).toEqual(['start->commitTask', `commitTask->${id}`, `${id}->end`]);
    expect(s().past).toHaveLength(1);
    s().undo();
    expect(s().flow!.nodes.map((n) => n.id)).not.toContain(id);
    expect(s().flow!.edges.map((e) => `${e.from}->${e.to}`)).toEqual(['start->commitTask', 'commitTask->end']);

    s().select({ nodes: ['commitTask'] });
    s().deleteSelection();
    expect(s().rejoinOffer).toEqual({ deleted: 'commitTask', edge: { from: 'start', to: 'end' } });
    s().rejoin();
    expect(s().flow!.edges.map((e) => `${e.from}->${e.to}`)).toEqual(['start->end']);
    expect(s().rejoinOffer).toBeNull();
  });
});
