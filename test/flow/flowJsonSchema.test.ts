import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { flowJsonSchema, flowJsonSchemaText } from '../../src/flow/flowJsonSchema.ts';

describe('flow JSON Schema', () => {
  it('is committed as generated (run `npx tsx src/flow/node/writeFlowJsonSchema.ts` after changing format.ts)', () => {
    const committed = readFileSync(new URL('../../flows/flow.schema.json', import.meta.url), 'utf8');
    expect(committed).toBe(flowJsonSchemaText());
  });

  it('describes the format for editors: node kinds, activity kinds, error handling', () => {
    const schema = flowJsonSchema() as { $schema: string; required: string[]; definitions: Record<string, { oneOf?: Array<{ properties: { type: { const: string } } }> }> };
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.required).toEqual(['name', 'nodes', 'edges']);
    const kinds = (id: string) => schema.definitions[id].oneOf!.map((o) => o.properties.type.const);
    expect(kinds('FlowNode')).toEqual(['start', 'end', 'activity', 'decision', 'merge', 'loop', 'break', 'continue']);
    expect(kinds('FlowActivity')).toContain('synchronize');
    expect(JSON.stringify(schema)).toContain('"enum":["abort","customWithRollback","customWithoutRollback","continue"]');
  });
});
