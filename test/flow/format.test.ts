import { describe, expect, it } from 'vitest';
import { ACTIVITIES } from '../../src/flow/activities/index.ts';
import { activitySchema, ERROR_HANDLING, flowSchema, nodeSchema } from '../../src/flow/format.ts';

describe('flow format', () => {
  it('parses a minimal flow; parameters and return type are optional', () => {
    const flow = flowSchema.parse({ name: 'hello', nodes: [{ id: 's', type: 'start' }, { id: 'e', type: 'end' }], edges: [{ from: 's', to: 'e' }] });
    expect(flow.parameters).toBeUndefined();
    expect(flow.returnType).toBeUndefined();
  });

  it('keeps editor positions and captions on nodes', () => {
    expect(nodeSchema.parse({ id: 'n', type: 'merge', caption: 'Join', position: { x: 1, y: 2 } })).toEqual({ id: 'n', type: 'merge', caption: 'Join', position: { x: 1, y: 2 } });
  });

  it('has one activity kind per activity type', () => {
    const types = activitySchema.options.map((o) => o.shape.type.value);
    expect(Object.keys(ACTIVITIES).sort()).toEqual([...types].sort());
    for (const [type, kind] of Object.entries(ACTIVITIES)) expect(kind.type).toBe(type);
  });

  it('names the four kinds of error handling', () => {
    expect(ERROR_HANDLING).toEqual(['abort', 'customWithRollback', 'customWithoutRollback', 'continue']);
    expect(nodeSchema.safeParse({ id: 'a', type: 'activity', activity: { type: 'commit', variables: ['x'] }, errorHandling: 'retry' }).success).toBe(false);
  });

  it('takes decision cases as booleans, strings or null (empty)', () => {
    for (const c of [true, 'high', null]) expect(flowSchema.shape.edges.element.safeParse({ from: 'd', to: 'e', case: c }).success).toBe(true);
    expect(flowSchema.shape.edges.element.safeParse({ from: 'd', to: 'e', case: 1 }).success).toBe(false);
  });
});
