import { describe, expect, it } from 'vitest';
import { demoSchema } from '../../src/demo/schema.ts';
import { FlowValidationError } from '../../src/errors.ts';
import type { Flow } from '../../src/flow/format.ts';
import { isCompiledFlow, loadFlow, validateFlow, type FlowProblem } from '../../src/flow/validateFlow.ts';
import { activity, linear, T } from './support/flows.ts';

const problemsOf = (flow: unknown, resolveFlow?: (name: string) => unknown) => validateFlow(flow, { schema: demoSchema, resolveFlow }).problems;

/** Asserts that exactly these problems are reported (message matched by substring). */
function expectProblems(flow: unknown, expected: Array<Partial<FlowProblem> & { message: string }>, resolveFlow?: (name: string) => unknown) {
  const problems = problemsOf(flow, resolveFlow);
  expect(problems).toEqual(expected.map((p) => ({ ...p, message: expect.stringContaining(p.message) })));
}

const setCount = (id: string, value = '$count + 1') => activity(id, { type: 'changeVariable', variable: 'count', value });
const createCount = activity('createCount', { type: 'createVariable', variable: 'count', variableType: T.integer, value: '0' });

describe('validateFlow', () => {
  it('accepts a valid flow and compiles it', () => {
    const { flow, problems } = validateFlow(linear([createCount, setCount('inc')], { returnType: T.integer, returnValue: '$count' }), { schema: demoSchema });
    expect(problems).toEqual([]);
    expect(isCompiledFlow(flow)).toBe(true);
    expect(flow!.start).toBe('start');
    expect(flow!.next.get('createCount')).toBe('inc');
    expect(flow!.variables.get('count')).toEqual({ kind: 'integer' });
    expect([...flow!.expressions.keys()]).toEqual(['0', '$count + 1', '$count']);
  });

  describe('structure (zod)', () => {
    it('refuses what is not an object', () => {
      expect(problemsOf([])).toEqual([{ path: '', message: 'a flow is a JSON object' }]);
    });

    it('names the field of every structural problem, with the node id', () => {
      const flow = {
        name: '1bad',
        extra: true,
        nodes: [
          { id: 'start', type: 'start' },
          { id: 'n1', type: 'activity', activity: { type: 'createObject', entity: 'Task', outputVariable: '$task' } },
          { id: 'n2', type: 'activity', activity: { type: 'teleport' } },
          { id: 'n3', type: 'gateway' },
          { id: 'n4', type: 'activity', activity: { type: 'logMessage', message: 'x', colour: 'red' } },
          { id: 'end', type: 'end' },
        ],
        edges: [{ from: 'start' }],
      };
      expectProblems(flow, [
        { path: 'name', message: 'must start with a letter' },
        { path: 'extra', message: 'unknown field' },
        { path: 'nodes[1].activity.outputVariable', nodeId: 'n1', message: 'must be a variable name (letters, digits and _, without $)' },
        { path: 'nodes[2].activity.type', nodeId: 'n2', message: 'must be one of "createObject", "changeObject", "commit"' },
        { path: 'nodes[3].type', nodeId: 'n3', message: 'must be one of "start", "end", "activity", "decision", "merge", "loop", "break", "continue"' },
        { path: 'nodes[4].activity.colour', nodeId: 'n4', message: 'unknown field' },
        { path: 'edges[0].to', nodeId: 'start', message: 'expected string' },
      ]);
    });

    it('reports a bad constraint by the branch the author meant', () => {
      const flow = linear([
        activity('get', {
          type: 'retrieve',
          source: { from: 'database', entity: 'Task', where: { and: [{ attribute: 'done', op: 'equals', value: 'true' }] } },
          outputVariable: 'tasks',
        } as never),
      ]);
      expectProblems(flow, [{ path: 'nodes[1].activity.source.where.and[0].op', nodeId: 'get', message: 'Invalid option' }]);
    });

    it('reports duplicate node and edge ids', () => {
      const flow = linear([createCount]);
      flow.nodes.push({ id: 'createCount', type: 'merge' });
      flow.edges[0].id = 'e';
      flow.edges[1].id = 'e';
      expectProblems(flow, [
        { path: 'nodes[3].id', nodeId: 'createCount', message: 'duplicate node id "createCount" (also nodes[1])' },
        { path: 'edges[1].id', nodeId: 'createCount', message: 'duplicate edge id "e" (also edges[0])' },
      ]);
    });
  });

  describe('the start node', () => {
    it('needs one', () => {
      expectProblems({ name: 'f', nodes: [{ id: 'end', type: 'end' }], edges: [] }, [{ path: 'nodes', message: 'a flow needs a start node' }]);
    });

    it('has only one', () => {
      const flow = linear([]);
      flow.nodes.push({ id: 'start2', type: 'start' });
      flow.edges.push({ from: 'start2', to: 'end' });
      expectProblems(flow, [{ path: 'nodes[2]', nodeId: 'start2', message: 'a flow has one start node ("start" is the start)' }]);
    });

    it('has one outgoing edge and no incoming edge', () => {
      const flow = linear([createCount]);
      flow.edges.push({ from: 'createCount', to: 'start' }, { from: 'start', to: 'end' });
      expectProblems(flow, [
        { path: 'edges[2].to', nodeId: 'createCount', message: 'no edge leads into the start node' },
        { path: 'nodes[0]', nodeId: 'start', message: 'has 2 outgoing edges: the start node has one' },
      ]);
    });
  });

  describe('edges', () => {
    it('reports dangling edges', () => {
      const flow = linear([]);
      flow.edges.push({ from: 'ghost', to: 'end' }, { from: 'start', to: 'nowhere' });
      expectProblems(flow, [
        { path: 'edges[1].from', nodeId: 'ghost', message: 'unknown node "ghost"' },
        { path: 'edges[2].to', nodeId: 'start', message: 'unknown node "nowhere"' },
      ]);
    });

    it('reports edges out of an end node', () => {
      const flow = linear([], { nodes: [{ id: 'm', type: 'merge' }], edges: [{ from: 'end', to: 'm' }, { from: 'm', to: 'end' }] });
      const problems = problemsOf(flow);
      expect(problems).toContainEqual({ path: 'edges[1].from', nodeId: 'end', message: 'an end node has no outgoing edges' });
    });

    it('reports case values and error-handler flags where they do not belong', () => {
      const flow = linear([createCount]);
      flow.edges[0].case = true;
      flow.edges[1].errorHandler = true;
      expectProblems(flow, [
        { path: 'edges[0].case', nodeId: 'start', message: 'only the edges of a decision have a case value' },
        { path: 'nodes[1]', nodeId: 'createCount', message: 'has no outgoing edge: every path must reach an end node' },
        { path: 'edges[1].errorHandler', nodeId: 'createCount', message: 'abort: only custom error handling takes an error-handler edge' },
      ]);
    });
  });

  describe('paths', () => {
    it('reports an activity without an outgoing edge', () => {
      const flow = linear([createCount]);
      flow.edges.pop();
      expectProblems(flow, [
        { path: 'nodes[1]', nodeId: 'createCount', message: 'has no outgoing edge: every path must reach an end node' },
        { path: 'nodes[2]', nodeId: 'end', message: 'is not reachable from the start node' },
      ]);
    });

    it('reports unreachable nodes', () => {
      const flow = linear([], { nodes: [setCount('island')] });
      flow.edges.push({ from: 'island', to: 'end' });
      expect(problemsOf(flow)).toContainEqual({ path: 'nodes[2]', nodeId: 'island', message: 'is not reachable from the start node' });
    });

    it('reports an endless cycle', () => {
      const flow = linear([{ id: 'm', type: 'merge' }, createCount]);
      flow.edges = [
        { from: 'start', to: 'm' },
        { from: 'm', to: 'createCount' },
        { from: 'createCount', to: 'm' },
      ];
      const problems = problemsOf(flow).filter((p) => p.message.includes('endless'));
      expect(problems.map((p) => p.nodeId).sort()).toEqual(['createCount', 'm', 'start']);
      expect(problemsOf(flow)).toContainEqual({ path: 'nodes[3]', nodeId: 'end', message: 'is not reachable from the start node' });
    });
  });

  describe('error handling', () => {
    it('needs an error-handler edge for custom handling', () => {
      const flow = linear([activity('sync', { type: 'synchronize', mode: 'all' }, { errorHandling: 'customWithRollback' })]);
      expectProblems(flow, [
        { path: 'nodes[1].errorHandling', nodeId: 'sync', message: 'customWithRollback needs an error-handler edge' },
      ]);
    });

    it('takes one error-handler edge', () => {
      const flow = linear([activity('sync', { type: 'synchronize', mode: 'all' }, { errorHandling: 'customWithoutRollback' })]);
      flow.edges.push({ from: 'sync', to: 'end', errorHandler: true }, { from: 'sync', to: 'end', errorHandler: true });
      expectProblems(flow, [{ path: 'nodes[1]', nodeId: 'sync', message: 'has 2 error-handler edges: one is expected' }]);
    });

    it('takes no error-handler edge with continue', () => {
      const flow = linear([activity('sync', { type: 'synchronize', mode: 'all' }, { errorHandling: 'continue' })]);
      flow.edges.push({ from: 'sync', to: 'end', errorHandler: true });
      expectProblems(flow, [{ path: 'edges[2].errorHandler', nodeId: 'sync', message: 'is continue: only custom error handling' }]);
    });

    it('does not define the failed activity\'s output on the error path', () => {
      const flow = linear(
        [activity('get', { type: 'retrieve', source: { from: 'database', entity: 'Task' }, outputVariable: 'tasks' }, { errorHandling: 'customWithoutRollback' })],
        { returnType: T.integer, returnValue: 'length($tasks)', nodes: [{ id: 'oops', type: 'end', returnValue: 'length($tasks)' }], edges: [{ from: 'get', to: 'oops', errorHandler: true }] },
      );
      expectProblems(flow, [
        { path: 'nodes[3].returnValue', nodeId: 'oops', position: 7, message: '$tasks is not defined on every path to this node (at 7)' },
      ]);
    });
  });

  describe('decisions', () => {
    const decide = (expression: string, cases: Array<boolean | string | null>, extra: Partial<Flow> = {}): Flow => ({
      name: 'd',
      parameters: [{ name: 'task', type: T.object('Task') }],
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'd', type: 'decision', expression },
        ...cases.map((_, i) => ({ id: `end${i}`, type: 'end' as const })),
      ],
      edges: [{ from: 'start', to: 'd' }, ...cases.map((c, i) => ({ from: 'd', to: `end${i}`, case: c }))],
      ...extra,
    });

    it('accepts boolean and enumeration decisions with every case', () => {
      expect(problemsOf(decide('$task/done', [true, false]))).toEqual([]);
      expect(problemsOf(decide('$task/priority', ['low', 'normal', 'high', null]))).toEqual([]);
    });

    it('needs both cases of a boolean', () => {
      expectProblems(decide('$task/done', [true]), [{ path: 'nodes[1]', nodeId: 'd', message: 'the decision has no edge for case false' }]);
    });

    it('needs every value of an enumeration', () => {
      expectProblems(decide('$task/priority', ['low', 'high']), [{ path: 'nodes[1]', nodeId: 'd', message: 'no edge for case "normal"' }]);
    });

    it('refuses case values of the wrong kind, duplicates and edges without a case', () => {
      const flow = decide('$task/priority', ['low', 'normal', 'high', 'urgent', 'low']);
      flow.edges.push({ from: 'd', to: 'end0' });
      expectProblems(flow, [
        { path: 'edges[6].case', nodeId: 'd', message: 'an edge from a decision needs a case value' },
        { path: 'edges[5].case', nodeId: 'd', message: 'case "low" appears twice (also edges[1])' },
        { path: 'edges[4].case', nodeId: 'd', message: '"urgent" is not a value of the enumeration (low, normal, high)' },
      ]);
      expectProblems(decide('$task/done', [true, 'false']), [
        { path: 'edges[2].case', nodeId: 'd', message: 'the decision is boolean: a case is true or false, not "false"' },
        { path: 'nodes[1]', nodeId: 'd', message: 'the decision has no edge for case false' },
      ]);
    });

    it('needs a boolean or an enumeration', () => {
      expectProblems(decide('$task/title', ['a', 'b']), [{ path: 'nodes[1].expression', nodeId: 'd', message: 'a decision needs a boolean or an enumeration, not string' }]);
    });

    it('reports a malformed expression at its position', () => {
      expectProblems(decide('$task/done and', [true, false]), [
        { path: 'nodes[1].expression', nodeId: 'd', position: 14, message: 'Expected an expression at 14, found the end' },
      ]);
    });
  });

  describe('loops', () => {
    const loopFlow = (body: Flow['nodes'], bodyEdges: Flow['edges'] = [], returnValue = '$count'): Flow =>
      linear(
        [
          activity('get', { type: 'retrieve', source: { from: 'database', entity: 'Task' }, outputVariable: 'tasks' }),
          createCount,
          { id: 'loop', type: 'loop', list: 'tasks', iterator: 'task' },
        ],
        { returnType: T.integer, returnValue, nodes: body, edges: bodyEdges },
      );

    it('accepts a body that ends its iteration, breaks or continues', () => {
      const flow = loopFlow(
        [
          { id: 'd', type: 'decision', expression: '$task/done', parent: 'loop' },
          { id: 'skip', type: 'continue', parent: 'loop' },
          { id: 'd2', type: 'decision', expression: "$task/priority = 'high'", parent: 'loop' },
          { id: 'stop', type: 'break', parent: 'loop' },
          { ...setCount('inc'), parent: 'loop' },
        ],
        [
          { from: 'd', to: 'skip', case: true },
          { from: 'd', to: 'd2', case: false },
          { from: 'd2', to: 'stop', case: true },
          { from: 'd2', to: 'inc', case: false },
        ],
      );
      expect(problemsOf(flow)).toEqual([]);
      const compiled = loadFlow(flow, { schema: demoSchema });
      expect(compiled.loops.get('loop')).toEqual({ entry: 'd', after: 'end' });
      expect(compiled.variables.get('task')).toEqual({ kind: 'object', entity: 'Task' });
    });

    it('needs a body with one first step', () => {
      expectProblems(loopFlow([]), [{ path: 'nodes[3]', nodeId: 'loop', message: "the loop's body is empty" }]);
      expectProblems(loopFlow([{ ...setCount('a'), parent: 'loop' }, { ...setCount('b'), parent: 'loop' }]), [
        { path: 'nodes[3]', nodeId: 'loop', message: "the loop's body has 2 nodes without incoming edges (a, b)" },
      ]);
    });

    it('keeps edges inside the loop', () => {
      const flow = loopFlow([{ ...setCount('inc'), parent: 'loop' }], [{ from: 'inc', to: 'end' }]);
      expectProblems(flow, [{ path: 'edges[4].to', nodeId: 'inc', message: `an edge cannot cross a loop's border ("inc" is inside loop "loop", "end" is outside every loop)` }]);
    });

    it('iterates over a list', () => {
      const flow = loopFlow([{ ...setCount('inc'), parent: 'loop' }]);
      (flow.nodes[3] as { list: string }).list = 'count';
      expectProblems(flow, [{ path: 'nodes[3].list', nodeId: 'loop', message: '$count is integer: a loop iterates over a list' }]);
    });

    it('refuses an unknown parent and a break outside a loop', () => {
      const flow = loopFlow([{ ...setCount('inc'), parent: 'loop' }]);
      flow.nodes.push({ id: 'b', type: 'break', parent: 'get' }, { id: 'b2', type: 'break' }, { id: 'c', type: 'continue', parent: 'nope' });
      const problems = problemsOf(flow);
      expect(problems).toContainEqual({ path: 'nodes[6].parent', nodeId: 'b', message: '"get" is an activity node, not a loop' });
      expect(problems).toContainEqual({ path: 'nodes[7]', nodeId: 'b2', message: 'a break node must be inside a loop (set "parent")' });
      expect(problems).toContainEqual({ path: 'nodes[8].parent', nodeId: 'c', message: 'unknown loop "nope"' });
    });

    it('does not define the iterator or body variables after the loop', () => {
      const flow = loopFlow(
        [{ ...activity('v', { type: 'createVariable', variable: 'inner', variableType: T.integer, value: '1' }), parent: 'loop' }],
        [],
        '$count + $inner + length($task/title)',
      );
      expectProblems(flow, [
        { path: 'nodes[4].returnValue', nodeId: 'end', position: 9, message: '$inner is not defined on every path to this node' },
        { path: 'nodes[4].returnValue', nodeId: 'end', position: 25, message: '$task is not defined on every path to this node' },
      ]);
    });
  });

  describe('variables', () => {
    it('reports unknown variables and variables defined on one branch only', () => {
      const flow: Flow = {
        name: 'v',
        parameters: [{ name: 'flag', type: T.boolean }],
        returnType: T.integer,
        nodes: [
          { id: 'start', type: 'start' },
          { id: 'd', type: 'decision', expression: '$flag' },
          activity('make', { type: 'createVariable', variable: 'n', variableType: T.integer, value: '1' }),
          { id: 'm', type: 'merge' },
          { id: 'end', type: 'end', returnValue: '$n + $nope' },
        ],
        edges: [
          { from: 'start', to: 'd' },
          { from: 'd', to: 'make', case: true },
          { from: 'd', to: 'm', case: false },
          { from: 'make', to: 'm' },
          { from: 'm', to: 'end' },
        ],
      };
      expectProblems(flow, [
        { path: 'nodes[4].returnValue', nodeId: 'end', position: 0, message: '$n is not defined on every path to this node' },
        { path: 'nodes[4].returnValue', nodeId: 'end', position: 5, message: 'unknown variable $nope' },
      ]);
    });

    it('reports a variable used before the activity that defines it', () => {
      const flow = linear([setCount('inc'), createCount]);
      expectProblems(flow, [
        { path: 'nodes[1].activity.variable', nodeId: 'inc', message: '$count is not defined on every path to this node' },
        { path: 'nodes[1].activity.value', nodeId: 'inc', position: 0, message: '$count is not defined on every path to this node' },
      ]);
    });

    it('refuses a name defined twice and built-in names', () => {
      const flow = linear([createCount, activity('again', { type: 'createList', entity: 'Task', outputVariable: 'count' }), activity('err', { type: 'createVariable', variable: 'latestError', variableType: T.string })], {
        parameters: [{ name: 'currentObject', type: T.string }],
      });
      expectProblems(flow, [
        { path: 'parameters[0].name', message: '$currentObject is built in: choose another name' },
        { path: 'nodes[2].activity.outputVariable', nodeId: 'again', message: 'variable $count is already defined (by node "createCount")' },
        { path: 'nodes[3].activity.variable', nodeId: 'err', message: '$latestError is built in: choose another name' },
      ]);
    });
  });

  describe('types', () => {
    it('checks assignments where the types are known', () => {
      const flow = linear([createCount, setCount('inc', "'one'"), activity('bad', { type: 'createVariable', variable: 'b', variableType: T.boolean, value: '1' })]);
      expectProblems(flow, [
        { path: 'nodes[2].activity.value', nodeId: 'inc', message: '$count is integer: the value is string' },
        { path: 'nodes[3].activity.value', nodeId: 'bad', message: '$b is boolean: the value is integer' },
      ]);
    });

    it('checks member values of objects', () => {
      const flow = linear(
        [
          activity('make', { type: 'createObject', entity: 'Task', values: { title: '1', priority: "'low'", project: '$task', owner: "'me'", colour: "'red'" }, outputVariable: 'made' }),
          activity('change', { type: 'changeObject', variable: 'made', values: { done: "'yes'", estimate: '2' } }),
        ],
        { parameters: [{ name: 'task', type: T.object('Task') }] },
      );
      expectProblems(flow, [
        { path: 'nodes[1].activity.values.title', nodeId: 'make', message: 'Task/title is string: the expression gives integer' },
        { path: 'nodes[1].activity.values.project', nodeId: 'make', message: 'Task/project is Project: the expression gives Task' },
        { path: 'nodes[1].activity.values.owner', nodeId: 'make', message: '"owner" is a system attribute' },
        { path: 'nodes[1].activity.values.colour', nodeId: 'make', message: 'Task has no member "colour"' },
        { path: 'nodes[2].activity.values.done', nodeId: 'change', message: 'Task/done is boolean: the expression gives string' },
      ]);
    });

    it('checks the return value against the return type', () => {
      expectProblems(linear([], { returnType: T.integer }), [{ path: 'nodes[1].returnValue', nodeId: 'end', message: 'the flow returns integer: give a returnValue' }]);
      expectProblems(linear([], { returnValue: '1' }), [{ path: 'nodes[1].returnValue', nodeId: 'end', message: 'the flow returns nothing' }]);
      expectProblems(linear([], { returnType: T.object('Task'), returnValue: "'x'" }), [
        { path: 'nodes[1].returnValue', nodeId: 'end', message: 'the flow returns Task, but the value is string' },
      ]);
    });

    it('checks entities named by types', () => {
      expectProblems(linear([], { parameters: [{ name: 'x', type: T.object('Tsak') }] }), [{ path: 'parameters[0].type.entity', message: 'unknown entity "Tsak"' }]);
      expectProblems(linear([], { returnType: T.list('Nope'), returnValue: 'empty' }), [{ path: 'returnType.entity', message: 'unknown entity "Nope"' }]);
    });
  });

  describe('sub-flows', () => {
    const sub: Flow = linear([], { name: 'sub', parameters: [{ name: 'n', type: T.integer }], returnType: T.string, returnValue: 'toString($n)' });

    it('checks calls against the called flow when it can be found', () => {
      const flow = linear([
        activity('call', { type: 'callFlow', flow: 'sub', parameters: { n: "'x'", m: '1' }, outputVariable: 'out' }),
        activity('use', { type: 'createVariable', variable: 'k', variableType: T.integer, value: '$out' }),
        activity('call2', { type: 'callFlow', flow: 'missing' }),
      ]);
      expectProblems(
        flow,
        [
          { path: 'nodes[1].activity.parameters.n', nodeId: 'call', message: 'parameter "n" is integer: the value is string' },
          { path: 'nodes[1].activity.parameters.m', nodeId: 'call', message: 'flow "sub" has no parameter "m"' },
          { path: 'nodes[2].activity.value', nodeId: 'use', message: '$k is integer: the value is string' },
          { path: 'nodes[3].activity.flow', nodeId: 'call2', message: 'unknown flow "missing"' },
        ],
        (name) => (name === 'sub' ? sub : undefined),
      );
    });

    it('reports missing parameters and output of a flow returning nothing', () => {
      const none = linear([], { name: 'none', parameters: [{ name: 'a', type: T.string }] });
      const flow = linear([activity('call', { type: 'callFlow', flow: 'none', outputVariable: 'out' })]);
      expectProblems(
        flow,
        [
          { path: 'nodes[1].activity.parameters', nodeId: 'call', message: 'parameter "a" of flow "none" is not given' },
          { path: 'nodes[1].activity.outputVariable', nodeId: 'call', message: 'flow "none" returns nothing' },
        ],
        () => none,
      );
    });

    it('checks calls when they run if flows cannot be found at load time', () => {
      expect(problemsOf(linear([activity('call', { type: 'callFlow', flow: 'anything', parameters: { x: '1' } })]))).toEqual([]);
    });
  });

  describe('loadFlow', () => {
    it('throws a FlowValidationError with every problem', () => {
      const flow = linear([setCount('inc')], { name: 'broken' });
      let error: unknown;
      try {
        loadFlow(flow, { schema: demoSchema });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(FlowValidationError);
      const e = error as FlowValidationError;
      expect(e.flowName).toBe('broken');
      expect(e.code).toBe('flow_invalid');
      expect(e.problems).toHaveLength(2);
      expect(e.problems[0]).toMatchObject({ nodeId: 'inc', path: 'nodes[1].activity.variable' });
      expect(e.message).toContain('Flow "broken" is invalid: nodes[1].activity.variable: unknown variable $count');
    });

    it('returns a compiled flow unchanged', () => {
      const compiled = loadFlow(linear([]), { schema: demoSchema });
      expect(loadFlow(compiled, { schema: demoSchema })).toBe(compiled);
    });
  });
});

describe('messages for empty required fields', () => {
  it('say what to fill in, in words, with the node and field', () => {
    const flow = linear([
      activity('commit', { type: 'commit', variables: [] }),
      activity('call', { type: 'callFlow', flow: '' }),
    ]);
    const { problems } = validateFlow(flow, { schema: demoSchema });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ nodeId: 'commit', message: 'choose the variables to commit' }),
        expect.objectContaining({ nodeId: 'call', message: 'name the flow to call' }),
      ]),
    );
  });
});
