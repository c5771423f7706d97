import { z } from 'zod';
import { flowSchema } from './format.ts';

/** Where the flow files point their `$schema`, relative to `flows/`. */
export const FLOW_SCHEMA_FILE = 'flow.schema.json';

/**
 * The JSON Schema of the flow format, generated from the zod schema the loader uses, so an
 * editor validating against it accepts what the loader accepts (the loader checks meaning too).
 * `flows/flow.schema.json` is this, committed; a test keeps the two equal.
 *
 * @example
 * writeFileSync('flows/flow.schema.json', flowJsonSchemaText());
 */
export function flowJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(flowSchema, { io: 'input', target: 'draft-7' }) as Record<string, unknown>;
  // draft-07: the draft editors (VS Code, Monaco, JetBrains) support best.
  const { $schema, ...rest } = schema;
  return { $schema, $id: 'https://syncflow.dev/flow.schema.json', ...rest };
}

/**
 * The schema as the committed file's text (2-space JSON, final newline).
 *
 * @example
 * expect(readFileSync('flows/flow.schema.json', 'utf8')).toBe(flowJsonSchemaText());
 */
export function flowJsonSchemaText(): string {
  return `${JSON.stringify(flowJsonSchema(), null, 2)}\n`;
}
