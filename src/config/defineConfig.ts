import { z } from 'zod';
import { SchemaError, ValidationError, type Problem } from '../errors.ts';
import type { Schema } from '../model/schema.ts';
import { AccessPolicy } from '../server/access.ts';
import { checkHandlers } from '../server/handlers.ts';
import type { SyncflowConfig } from './SyncflowConfig.ts';

const fn = (what: string) => z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', { message: `must be ${what}` });
const oneOrMany = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const jwtSchema = z
  .strictObject({
    issuer: oneOrMany,
    audience: oneOrMany,
    publicKey: z.string().includes('PUBLIC KEY', { message: 'must be a PEM public key (-----BEGIN PUBLIC KEY-----)' }).optional(),
    jwksFile: z.string().min(1).optional(),
    algorithms: z.array(z.string().min(1)).min(1).optional(),
    userClaim: z.string().min(1).optional(),
    rolesClaim: z.string().min(1).optional(),
  })
  .refine((j) => (j.publicKey === undefined) !== (j.jwksFile === undefined), { message: 'give exactly one of publicKey and jwksFile' });

const configSchema = z.strictObject({
  schema: z.custom<Schema>(
    (v) => !!v && typeof v === 'object' && typeof (v as Schema).entities === 'object' && Array.isArray((v as Schema).order),
    { message: 'must be a schema made with defineSchema({ entities: ... })' },
  ),
  access: z.record(z.string(), z.unknown()),
  handlers: z.record(z.string(), z.unknown()).optional(),
  auth: z.union([z.strictObject({ verify: fn('a function (token) => user | null') }), z.strictObject({ jwt: jwtSchema })]).optional(),
  users: z.array(z.unknown()).optional(),
  syncs: z.array(z.strictObject({ type: z.enum(['syncDown', 'syncUp']), name: z.string().min(1), target: z.unknown(), options: z.unknown() }).partial({ options: true })).optional(),
  profiles: z.record(z.string(), z.unknown()).optional(),
  flows: z.string().min(1).optional(),
  seed: fn('a function (server) => Promise<void>').optional(),
});

/**
 * Checks an app's config and answers it, typed: the fields' shapes, then the access rules and
 * handlers against the schema. A bad config is a ValidationError naming each field
 * (`access.Task.read.0.scope: ...`); nothing starts.
 *
 * @example
 * // syncflow.config.ts
 * export default defineConfig({
 *   schema: defineSchema({ entities: { Task: { attributes: { title: { type: 'string', required: true } } } } }),
 *   access: { Task: { read: [{ scope: 'own' }], write: [{ scope: 'own' }] } },
 *   users: [{ id: 'ann', token: 'ann-secret-token', roles: ['user'] }],
 * });
 */
export function defineConfig<C extends SyncflowConfig>(config: C): C {
  const parsed = configSchema.safeParse(config);
  if (!parsed.success) throw new ValidationError(parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.') || 'config', message: i.message })));
  const problems: Problem[] = [];
  // Both name their paths from `access.` / `handlers.` already.
  const collect = (check: () => unknown) => {
    try {
      check();
    } catch (e) {
      if (!(e instanceof SchemaError)) throw e;
      problems.push(...e.problems);
    }
  };
  collect(() => AccessPolicy.compile(config.schema, config.access));
  collect(() => checkHandlers(config.schema, config.handlers ?? {}));
  config.syncs?.forEach((s, i) => {
    if (typeof s.target?.entity !== 'string' || !Object.hasOwn(config.schema.entities, s.target.entity)) problems.push({ path: `syncs.${i}.target.entity`, message: `"${s.target?.entity}" is not an entity of the schema` });
  });
  if (problems.length) throw new ValidationError(problems);
  return config;
}
