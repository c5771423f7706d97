import { z } from 'zod';
import { ValidationError } from '../errors.ts';

/**
 * The sync modules a profile may leave out (Resco SmartSync's "Excluded Sync Modules"). Each is
 * mapped onto a step of our pipeline or reported as not applicable by `stepPlan`.
 */
export const EXCLUDED_STEPS = [
  'NoPreparation',
  'NoRemoteConflicts',
  'NoSyncDeletes',
  'NoEntityImages',
  'NoSyncShared',
  'NoDocuments',
  'NoAttachments',
  'NoExchange',
  'OnlyCoreModules',
  'NoCleanup',
] as const;
export type ExcludedStep = (typeof EXCLUDED_STEPS)[number];

export type ProfileDirection = 'upload' | 'download' | 'both';

/** What starts a profile in the background (it can always be run by name too). */
export type ProfileTrigger =
  | { kind: 'appStart' }
  /** A commit that creates, changes or deletes an object of `entity`; bursts are debounced. */
  | { kind: 'recordChange'; entity: string; debounceSeconds?: number }
  /** Every `delaySeconds` while the runtime is open and the sync manager is not stopped. */
  | { kind: 'periodic'; delaySeconds: number }
  /** The device comes back online (the platform's `online` event). */
  | { kind: 'online' };

export type TriggerKind = ProfileTrigger['kind'];

/** Which entities a profile synchronizes: a list of them, or every entity but a list. */
export type ProfileEntities = { include: readonly string[] } | { exclude: readonly string[] };

/**
 * A named partial, background, usually incremental sync (SPEC §5).
 *
 * @example
 * const profile: Profile = {
 *   name: 'GetTasks', direction: 'download', entities: { include: ['Task'] },
 *   globalExclusions: true, autoExclusions: true, excludedSteps: ['NoCleanup'],
 *   triggers: [{ kind: 'periodic', delaySeconds: 300 }],
 * };
 */
export interface Profile {
  name: string;
  description?: string;
  direction: ProfileDirection;
  entities: ProfileEntities;
  /** Leave out the entities the schema marks `stable` (download only). */
  globalExclusions: boolean;
  /** Leave out the entities whose recent downloads brought nothing (download only; from the journal). */
  autoExclusions: boolean;
  excludedSteps: readonly ExcludedStep[];
  triggers: readonly ProfileTrigger[];
}

const NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,99}$/;
const entityName = z.string().min(1).max(100);

const triggerSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('appStart') }),
  z.strictObject({
    kind: z.literal('recordChange'),
    entity: entityName,
    debounceSeconds: z.number().min(0).max(86_400).optional(),
  }),
  z.strictObject({ kind: z.literal('periodic'), delaySeconds: z.number().min(1).max(7 * 86_400) }),
  z.strictObject({ kind: z.literal('online') }),
]);

/** The JSON form of one profile (defaults filled by `defineProfiles`). */
export const profileSchema = z.strictObject({
  name: z.string().regex(NAME, 'names start with a letter and use letters, digits, _ . and -'),
  description: z.string().max(2000).optional(),
  direction: z.enum(['upload', 'download', 'both']).default('both'),
  entities: z.union([
    z.strictObject({ include: z.array(entityName).min(1).max(1000) }),
    z.strictObject({ exclude: z.array(entityName).max(1000) }),
  ]),
  globalExclusions: z.boolean().default(true),
  autoExclusions: z.boolean().default(false),
  excludedSteps: z.array(z.enum(EXCLUDED_STEPS)).max(EXCLUDED_STEPS.length).default([]),
  triggers: z.array(triggerSchema).max(100).default([]),
});

/** A profiles file: `{ "profiles": [...] }` (what `flows/profile.schema.json` describes). */
export const profilesFileSchema = z.strictObject({
  $schema: z.string().optional(),
  profiles: z.array(profileSchema).max(1000),
});

export type ProfileInput = z.input<typeof profileSchema>;

/**
 * Validates profile definitions (an array, or a profiles file `{ profiles: [...] }`) and returns
 * them frozen with defaults filled. Throws a ValidationError naming each bad field, e.g.
 * `profiles[0].triggers[1].delaySeconds`, and duplicate names.
 *
 * @example
 * const [profile] = defineProfiles([{ name: 'GetTasks', direction: 'download', entities: { include: ['Task'] } }]);
 */
export function defineProfiles(input: unknown): Profile[] {
  const file = Array.isArray(input) ? { profiles: input } : input;
  const parsed = profilesFileSchema.safeParse(file);
  if (!parsed.success) {
    throw new ValidationError(
      parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
    );
  }
  const seen = new Set<string>();
  const problems = [];
  for (const [i, p] of parsed.data.profiles.entries()) {
    if (seen.has(p.name)) problems.push({ path: `profiles[${i}].name`, message: `a profile named "${p.name}" is already defined` });
    seen.add(p.name);
  }
  if (problems.length) throw new ValidationError(problems);
  return parsed.data.profiles.map((p) => Object.freeze({ ...p, excludedSteps: [...new Set(p.excludedSteps)] }) as Profile);
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  return out;
}
