import { describe, expect, it } from 'vitest';
import type { Flow } from '../../src/flow/format.ts';
import { flowUsages, variableUsages } from '../src/flow/usages.ts';

const flow: Flow = {
  name: 'f',
  parameters: [{ name: 'task', type: { type: 'object', entity: 'Task' } }],
  nodes: [
    { id: 'start', type: 'start' },
    { id: 'change', type: 'activity', activity: { type: 'changeObject', variable: 'task', values: { title: "$task/title + '!'" } } },
    { id: 'other', type: 'activity', activity: { type: 'logMessage', message: '$taskList' } },
    { id: 'call', type: 'activity', activity: { type: 'callFlow', flow: 'g', parameters: {} } },
    { id: 'end', type: 'end' },
  ],
  edges: [],
};

describe('find usages', () => {
  it('finds a variable in name fields and expressions, not a longer name', () => {
    expect(variableUsages('f', flow, 'task').map((u) => `${u.nodeId} ${u.field}`)).toEqual(['change activity.variable', 'change activity.values.title']);
  });
  it('finds the flows that call a flow', () => {
    expect(flowUsages([{ id: 'f', flow }, { id: 'g', flow: { nodes: [] } }], 'g')).toEqual([{ flowId: 'f', nodeId: 'call', field: 'activity.flow', text: 'calls g' }]);
  });
});
