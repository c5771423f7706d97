/**
 * validateFlow never throws (issue 16): whatever it is given (random JSON, a valid flow with hostile
 * expressions put in its fields, very deep or very large input), every failure comes back as a
 * FlowProblem with a path and a message, and none is the last-resort "could not be checked".
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { demoSchema } from '../../src/demo/schema.ts';
import type { Flow } from '../../src/flow/format.ts';
import { validateFlow, type FlowProblem } from '../../src/flow/validateFlow.ts';
import { fuzzParameters } from '../support/fuzz.ts';
import { activity, linear, T } from './support/flows.ts';

function checkProblems(problems: FlowProblem[]): void {
  for (const p of problems) {
    expect(typeof p.path).toBe('string');
    expect(typeof p.message).toBe('string');
    expect(p.message).not.toMatch(/could not be checked/);
    if (p.position !== undefined) expect(Number.isInteger(p.position) && p.position >= 0).toBe(true);
  }
}

const validate = (input: unknown) => validateFlow(input, { schema: demoSchema, resolveFlow: () => undefined });

/** A valid flow whose expression fields are the given texts. */
function flowWith(change: string, value: string, where: string, returnValue: string): Flow {
  return linear(
    [
      activity('make', { type: 'createVariable', variable: 'count', variableType: T.integer, value }),
      activity('get', {
        type: 'retrieve',
        source: { from: 'database', entity: 'Task', where: { attribute: 'title', op: 'eq', value: where } },
        outputVariable: 'tasks',
      }),
      activity('change', { type: 'changeVariable', variable: 'count', value: change }),
    ],
    { returnType: T.integer, returnValue },
  );
}

const hostileExpression = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('$count + 1', '$count >', "'open", '$nope', 'length($tasks)', 'hasOwnProperty(1)', '1 = 2 = 3', '$count/x/y'),
  fc.integer({ min: 1, max: 30_000 }).map((n) => Array(n).fill('$count').join(' + ')),
  fc.integer({ min: 100, max: 5_000 }).map((n) => '('.repeat(n) + '1' + ')'.repeat(n)),
  fc.integer({ min: 60_000, max: 70_000 }).map((n) => "'" + 'x'.repeat(n) + "'"),
);

describe('validateFlow (generated)', () => {
  it('reports problems and never throws for random JSON', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ maxDepth: 6 }), fc.anything({ maxDepth: 4 })), (input) => {
        checkProblems(validate(input).problems);
      }),
      fuzzParameters({ runs: 300, soakRuns: 20_000 }),
    );
  });

  it('reports problems and never throws for flows of random nodes and edges', () => {
    const node = fc.record(
      {
        id: fc.constantFrom('start', 'a', 'b', 'end', 'loop'),
        type: fc.constantFrom('start', 'end', 'activity', 'decision', 'merge', 'loop', 'break', 'continue', 'bogus'),
        parent: fc.constantFrom('loop', 'a'),
        expression: fc.string(),
        iterator: fc.constantFrom('t', 'latestError'),
        list: fc.constantFrom('tasks', 'count'),
        activity: fc.jsonValue({ maxDepth: 3 }),
      },
      { requiredKeys: ['id', 'type'] },
    );
    const edge = fc.record({ from: fc.constantFrom('start', 'a', 'b', 'end', 'loop', 'x'), to: fc.constantFrom('start', 'a', 'b', 'end', 'loop'), case: fc.jsonValue({ maxDepth: 1 }), errorHandler: fc.boolean() }, { requiredKeys: ['from', 'to'] });
    fc.assert(
      fc.property(fc.array(node, { maxLength: 8 }), fc.array(edge, { maxLength: 10 }), (nodes, edges) => {
        checkProblems(validate({ name: 'f', nodes, edges }).problems);
      }),
      fuzzParameters({ runs: 300, soakRuns: 20_000 }),
    );
  });

  it('reports a hostile expression in any field as a problem of that node and field', () => {
    fc.assert(
      fc.property(fc.nat(3), hostileExpression, (field, text) => {
        const texts = ['$count * 2', '1', "'x'", '$count'];
        texts[field] = text;
        const { problems } = validate(flowWith(texts[0], texts[1], texts[2], texts[3]));
        checkProblems(problems);
        for (const p of problems) {
          expect(p.nodeId).toBeDefined();
          expect(p.path).toMatch(/^nodes\[\d+\]/);
        }
      }),
      fuzzParameters({ runs: 150, soakRuns: 5_000 }),
    );
  });
});

describe('validateFlow on large and deep input', () => {
  it('reports a sum of 1,000 terms that is well typed as no problem', () => {
    const sum = Array(1000).fill('$count').join(' + ');
    expect(validate(flowWith('$count * 2', '1', "'x'", sum)).problems).toEqual([]);
  });

  it('names the node, the field and the position of an expression nested too deep or too long', () => {
    const deep = '('.repeat(10_000) + '1' + ')'.repeat(10_000);
    expect(validate(flowWith('$count * 2', deep, "'x'", '$count')).problems).toEqual([
      { path: 'nodes[1].activity.value', nodeId: 'make', position: 256, message: expect.stringContaining('nests more than 256 levels deep') },
    ]);
    const long = "'" + 'x'.repeat(70_000) + "'";
    expect(validate(flowWith('$count * 2', '1', long, '$count')).problems).toEqual([
      { path: 'nodes[2].activity.source.where.value', nodeId: 'get', position: 65_536, message: expect.stringContaining('at most 65536') },
    ]);
  });

  it('reports constraints nested 100,000 levels deep as a problem at the depth limit', () => {
    let where: unknown = { attribute: 'title', op: 'eq', value: "'x'" };
    for (let i = 0; i < 100_000; i++) where = { not: where };
    const flow = linear([activity('get', { type: 'retrieve', source: { from: 'database', entity: 'Task', where }, outputVariable: 'tasks' } as never)]);
    const { problems } = validate(flow);
    expect(problems).toEqual([
      { path: expect.stringMatching(/^nodes\[1\]\.activity\.source\.where(\.not){61}$/), nodeId: 'get', message: 'nests more than 64 levels deep' },
    ]);
  });

  it('turns a getter that throws into a problem instead of an exception', () => {
    const flow = { name: 'f', nodes: [], edges: [], get parameters(): never { throw new Error('boom'); } };
    expect(validate(flow).problems).toContainEqual({ path: '', message: 'the flow could not be checked: boom' });
  });
});
