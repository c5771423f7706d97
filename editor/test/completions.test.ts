import { describe, expect, it } from 'vitest';
import { demoSchema } from '../../src/demo/schema.ts';
import type { Flow } from '../../src/flow/format.ts';
import { completions } from '../src/flow/completions.ts';

const flow: Flow = {
  name: 'f',
  parameters: [{ name: 'task', type: { type: 'object', entity: 'Task' } }, { name: 'title', type: { type: 'string' } }],
  nodes: [{ id: 'start', type: 'start' }, { id: 'end', type: 'end' }],
  edges: [{ from: 'start', to: 'end' }],
};

describe('expression completions', () => {
  it('offers variables after $, with their types', () => {
    const r = completions('$t', 2, flow, demoSchema);
    expect(r.from).toBe(1);
    expect(r.items.map((i) => [i.label, i.detail])).toEqual([
      ['$task', 'object of Task'],
      ['$title', 'string'],
    ]);
  });
  it('offers an object’s members after $var/, and an enumeration’s values in a comparison', () => {
    const members = completions('$task/ti', 8, flow, demoSchema);
    expect(members).toEqual({ from: 6, items: [{ insert: 'title', label: 'title', detail: 'string' }] });
    const values = completions("$task/priority = 'h", 19, flow, demoSchema);
    expect(values.items.map((i) => i.insert)).toEqual(["high'"]);
  });
  it('offers functions and keywords for a word', () => {
    const r = completions('1 + len', 7, flow, demoSchema);
    expect(r.items.map((i) => i.label)).toContain('length');
    expect(completions('em', 2, flow, demoSchema).items.map((i) => i.label)).toContain('empty');
  });
});
