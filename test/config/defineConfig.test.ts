import { describe, expect, it } from 'vitest';
import { defineConfig, defineSchema, ValidationError } from '../../src/index.ts';
import { loadConfig } from '../../src/server/index.ts';

const schema = defineSchema({ entities: { Note: { attributes: { text: { type: 'string' } } } } });
const access = { Note: { read: [{ scope: 'own' as const }], write: [{ scope: 'own' as const }] } };
const fixture = (name: string) => new URL(`./fixtures/${name}/syncflow.config.ts`, import.meta.url).pathname;

function problemsOf(make: () => unknown): Array<{ path: string; message: string }> {
  try {
    make();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).problems;
  }
  throw new Error('no error');
}

describe('defineConfig', () => {
  it('answers a good config as given', () => {
    const config = { schema, access, users: [{ id: 'ann', token: 'ann-secret-token', roles: [] }] };
    expect(defineConfig(config)).toBe(config);
  });

  it('names each bad field: unknown keys, a schema not made with defineSchema, a verifier that is not a function', () => {
    const problems = problemsOf(() => defineConfig({ schema: { Note: {} }, access, auth: { verify: 'yes' }, colour: 'red' } as never));
    const paths = problems.map((p) => p.path);
    expect(paths).toContain('schema');
    expect(paths.some((p) => p.startsWith('auth'))).toBe(true);
    expect(problems.find((p) => p.path === '' || p.path === 'config')?.message ?? problems.map((p) => p.message).join()).toMatch(/colour/);
  });

  it('checks access rules, handlers and named syncs against the schema', () => {
    const problems = problemsOf(() =>
      defineConfig({
        schema,
        access: { ...access, Memo: { read: [], write: [] } },
        handlers: { Note: { beforeSave: () => undefined } } as never,
        // 'constructor' is a property of every object, not an entity.
        syncs: [{ type: 'syncDown', name: 'memos', target: { entity: 'Memo' } }, { type: 'syncDown', name: 'odd', target: { entity: 'constructor' } }],
      }),
    );
    expect(problems.map((p) => p.path)).toEqual(expect.arrayContaining(['access.Memo', 'handlers.Note.beforeSave', 'syncs.0.target.entity', 'syncs.1.target.entity']));
  });

  it('asks a JWT verifier for exactly one of publicKey and jwksFile', () => {
    const problems = problemsOf(() => defineConfig({ schema, access, auth: { jwt: { issuer: 'https://id.example', audience: 'notes' } } }));
    expect(problems[0].path).toBe('auth.jwt');
    expect(problems[0].message).toMatch(/publicKey and jwksFile/);
  });
});

describe('loadConfig', () => {
  it('loads a TypeScript config file with its flows folder beside it', async () => {
    const loaded = await loadConfig(fixture('notes'));
    expect(Object.keys(loaded.config.schema.entities)).toEqual(['Note']);
    expect(loaded.flowsDir).toBe(new URL('./fixtures/notes/flows', import.meta.url).pathname);
    expect(loaded.verifyToken).toBeUndefined();
  });

  it('refuses a bad config file with the file and each field named', async () => {
    const error = await loadConfig(fixture('bad')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toContain(fixture('bad'));
    expect((error as ValidationError).problems.map((p) => p.path.split(': ')[1])).toEqual(expect.arrayContaining(['access.Memo', 'access.Note.read[0].scope.field']));
  });

  it('refuses a missing file', async () => {
    await expect(loadConfig('/nonexistent/syncflow.config.ts')).rejects.toThrow(/cannot load the config/);
  });
});
