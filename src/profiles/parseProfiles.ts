import type { Schema } from '../model/schema.ts';
import { importSmartSyncXml } from './importSmartSyncXml.ts';
import { defineProfiles, type Profile } from './Profile.ts';
import { profileEntities } from './profileEntities.ts';

/**
 * Profile definitions as an app gives them: SmartSync.xml text (errors name the element) or JSON
 * (an array or `{ profiles: [...] }`; errors name the field), their entities checked against the
 * schema. The runtime and the editor server read them the same way.
 *
 * @example
 * const profiles = parseProfiles(schema, await readFile('SmartSync.xml', 'utf8'));
 */
export function parseProfiles(schema: Schema, definitions: unknown): Profile[] {
  const profiles = typeof definitions === 'string' ? importSmartSyncXml(definitions) : defineProfiles(definitions);
  for (const p of profiles) profileEntities(schema, p);
  return profiles;
}
