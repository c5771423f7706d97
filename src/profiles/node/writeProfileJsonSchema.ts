/**
 * Writes `flows/profile.schema.json` from the zod schema (run: `npx tsx src/profiles/node/writeProfileJsonSchema.ts`).
 * A test fails while the committed file differs from the generated one.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { profileJsonSchemaText, PROFILE_SCHEMA_FILE } from '../profileJsonSchema.ts';

const target = fileURLToPath(new URL(`../../../flows/${PROFILE_SCHEMA_FILE}`, import.meta.url));
writeFileSync(target, profileJsonSchemaText());
console.log(`wrote ${target}`);
