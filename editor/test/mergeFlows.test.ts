import { describe, expect, it } from 'vitest';
import type { Flow } from '../../src/flow/format.ts';
import { mergeFlows } from '../src/flow/mergeFlows.ts';

const base: Flow = {
  name: 'm',
  nodes: [
    { id: 'start', type: 'start' },
    { id: 'a', type: 'activity', caption: 'A', activity: { type: 'commit', variables: [] } },
    { id: 'b', type: 'activity', caption: 'B', activity: { type: 'commit', variables: [] } },
    { id: 'end', type: 'end' },
  ],
  edges: [
    { from: 'start', to: 'a' },
    { from: 'a', to: 'b' },
    { from: 'b', to: 'end' },
  ],
};
const withCaption = (f: Flow, id: string, caption: string): Flow => ({ ...f, nodes: f.nodes.map((n) => (n.id === id ? { ...n, caption } : n)) });

describe('mergeFlows', () => {
  it('merges changes of different nodes, and of the flow’s fields', () => {
    const mine = { ...withCaption(base, 'a', 'A mine'), description: 'mine' };
    const theirs = withCaption(base, 'b', 'B theirs');
    const { flow, overlapping } = mergeFlows(base, mine, theirs);
    expect(overlapping).toEqual([]);
    expect(flow!.nodes.map((n) => n.caption ?? n.id)).toEqual(['start', 'A mine', 'B theirs', 'end']);
    expect(flow!.description).toBe('mine');
  });

  it('keeps nodes and edges each side added, drops what each side deleted', () => {
    const mine: Flow = { ...base, nodes: [...base.nodes, { id: 'm', type: 'merge' }], edges: [...base.edges, { from: 'm', to: 'end' }] };
    const theirs: Flow = { ...base, nodes: base.nodes.filter((n) => n.id !== 'b'), edges: [{ from: 'start', to: 'a' }, { from: 'a', to: 'end' }] };
    const { flow } = mergeFlows(base, mine, theirs);
    expect(flow!.nodes.map((n) => n.id)).toEqual(['start', 'a', 'end', 'm']);
    expect(flow!.edges).toEqual([{ from: 'start', to: 'a' }, { from: 'a', to: 'end' }, { from: 'm', to: 'end' }]);
  });

  it('refuses to merge a node both sides changed differently, and names it', () => {
    const { flow, overlapping } = mergeFlows(base, withCaption(base, 'a', 'one'), withCaption(base, 'a', 'two'));
    expect(flow).toBeNull();
    expect(overlapping).toEqual(['a']);
    expect(mergeFlows(base, withCaption(base, 'a', 'same'), withCaption(base, 'a', 'same')).overlapping).toEqual([]);
  });
});
