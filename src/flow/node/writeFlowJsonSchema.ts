/**
 * Writes `flows/flow.schema.json` from the zod schema (run: `npx tsx src/flow/node/writeFlowJsonSchema.ts`).
 * A test fails while the committed file differs from the generated one.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { flowJsonSchemaText, FLOW_SCHEMA_FILE } from '../flowJsonSchema.ts';

const target = fileURLToPath(new URL(`../../../flows/${FLOW_SCHEMA_FILE}`, import.meta.url));
writeFileSync(target, flowJsonSchemaText());
console.log(`wrote ${target}`);
