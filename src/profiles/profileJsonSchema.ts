import { z } from 'zod';
import { profilesFileSchema } from './Profile.ts';

/** Where a profiles file points its `$schema`, relative to `flows/`. */
export const PROFILE_SCHEMA_FILE = 'profile.schema.json';

/**
 * The JSON Schema of a profiles file (`{ "profiles": [...] }`), generated from the zod schema
 * `defineProfiles` uses, so an editor validating against it accepts what the runtime accepts
 * (entity names are checked against the app's schema when the runtime starts).
 * `flows/profile.schema.json` is this, committed; a test keeps the two equal.
 *
 * @example
 * writeFileSync('flows/profile.schema.json', profileJsonSchemaText());
 */
export function profileJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(profilesFileSchema, { io: 'input', target: 'draft-7' }) as Record<string, unknown>;
  const { $schema, ...rest } = schema;
  return { $schema, $id: 'https://syncflow.dev/profile.schema.json', title: 'syncflow sync profiles', ...rest };
}

/** The schema as the committed file's text (2-space JSON, final newline). */
export function profileJsonSchemaText(): string {
  return `${JSON.stringify(profileJsonSchema(), null, 2)}\n`;
}
