/**
 * `GET /editor-api/app`: the page learns the app it edits and runs flows for (the config's schema
 * and sync profiles, parsed once at start) from the editor server, signed in only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import demoConfig from '../../src/demo/syncflow.config.ts';
import { ValidationError } from '../../src/errors.ts';
import { defineSchema } from '../../src/model/schema.ts';
import { seed003SmartSyncXml } from '../../test/support/smartSyncSeed.ts';
import { createEditorHandler, startEditor } from '../server/startEditor.ts';
import { startEditorHttp, type EditorHttp } from './support/editorHttp.ts';

let t: EditorHttp;

beforeAll(async () => {
  t = await startEditorHttp();
}, 60_000);

afterAll(async () => {
  await t?.close();
});

const notesSchema = defineSchema({ entities: { Note: { attributes: { text: { type: 'string' } } } } });

/** The error `createEditorHandler` refuses to start with. */
async function startError(profiles: unknown): Promise<unknown> {
  return createEditorHandler({ syncServerUrl: t.demo.url, flowsDir: t.flowsDir, schema: notesSchema, profiles }).then(
    () => null,
    (e: unknown) => e,
  );
}

describe('the app the editor serves', () => {
  it('answers the configured schema and parsed profiles to a signed-in user', async () => {
    const session = await t.signIn('bob-token');
    const res = await t.send('GET', '/editor-api/app', { session });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const app = JSON.parse(res.text) as { schema: unknown; profiles: Array<Record<string, unknown>> };
    expect(app.schema).toEqual(JSON.parse(JSON.stringify(demoConfig.schema)));
    // Parsed as the runtime parses them: the defaults filled in.
    expect(app.profiles.map((p) => p.name)).toEqual(['GetTasks', 'PushChanges', 'BackOnline']);
    expect(app.profiles[1]).toEqual({
      name: 'PushChanges',
      description: 'Every committed local change, up only',
      direction: 'upload',
      entities: { exclude: [] },
      globalExclusions: true,
      autoExclusions: false,
      excludedSteps: [],
      triggers: [],
    });
  });

  it('answers 401 without a session, with an unknown one, and after signing out', async () => {
    expect((await t.send('GET', '/editor-api/app')).status).toBe(401);
    expect((await t.send('GET', '/editor-api/app', { session: 'not-a-session' })).status).toBe(401);
    const session = await t.signIn('alice-token');
    expect((await t.send('DELETE', '/editor-api/session', { session })).status).toBe(204);
    const after = await t.send('GET', '/editor-api/app', { session });
    expect(after.status).toBe(401);
    expect(after.text).not.toContain('Task');
  });

  it('parses SmartSync.xml text as the runtime does, and answers no profiles when none are given', async () => {
    for (const [profiles, names] of [
      [seed003SmartSyncXml(), ['GetTasks']],
      [undefined, []],
    ] as const) {
      const editor = await startEditor({ port: 0, syncServerUrl: t.demo.url, flowsDir: t.flowsDir, schema: demoConfig.schema, profiles });
      try {
        const signIn = await fetch(`${editor.url}/editor-api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'alice-token' }) });
        const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0];
        const app = (await (await fetch(`${editor.url}/editor-api/app`, { headers: { cookie } })).json()) as { profiles: Array<{ name: string; entities: unknown }> };
        expect(app.profiles.map((p) => p.name)).toEqual(names);
        if (names.length) expect(app.profiles[0].entities).toEqual({ include: ['task'] });
      } finally {
        await editor.close();
      }
    }
  });

  it('refuses to start with a bad profile definition, naming the field', async () => {
    const bad = await startError({ profiles: [{ name: 'notesDown', direction: 'sideways', entities: { include: ['Note'] } }] });
    expect(bad).toBeInstanceOf(ValidationError);
    expect((bad as ValidationError).problems).toEqual([expect.objectContaining({ path: 'profiles[0].direction' })]);

    // An entity the app's schema does not have (the demo's Task in the notes app).
    const unknown = await startError([{ name: 'tasksDown', direction: 'download', entities: { include: ['Task'] } }]);
    expect(unknown).toBeInstanceOf(ValidationError);
    expect((unknown as ValidationError).problems).toEqual([{ path: 'profiles.tasksDown.entities.include[0]', message: 'unknown entity "Task"' }]);

    const xml = await startError('<SmartSyncSetup><SmartSync Name="x"');
    expect(xml).toBeInstanceOf(ValidationError);
    expect((xml as ValidationError).problems[0].path).toMatch(/^SmartSync\.xml/);

    // The same definitions, right: it starts.
    expect(await startError([{ name: 'notesDown', direction: 'download', entities: { include: ['Note'] } }])).toBeNull();
  });

  it("refuses to start without the app's schema rather than validating flows against another app's", async () => {
    for (const schema of [undefined, null, { entities: { Note: { attributes: {} } } }]) {
      const refused = await createEditorHandler({ syncServerUrl: t.demo.url, flowsDir: t.flowsDir, schema } as unknown as Parameters<typeof createEditorHandler>[0]).then(
        () => null,
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(ValidationError);
      expect((refused as ValidationError).problems).toEqual([{ path: 'schema', message: expect.stringContaining('defineSchema') }]);
    }
  });
});
