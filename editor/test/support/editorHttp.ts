/**
 * The editor server over raw HTTP (node:http, so a test controls every byte: the Host and Origin
 * headers, cookies, undecodable paths), in front of a real demo sync server on in-memory PGlite,
 * over a temp copy of `flows/` plus the test fixtures.
 */
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import demoConfig from '../../../src/demo/syncflow.config.ts';
import { startDemoServer, type DemoServer } from '../../../src/server/demo.ts';
import { createEditorHandler, sessionCookieName, startEditor, type RunningEditor, type StartEditorOptions } from '../../server/startEditor.ts';

const flowsSource = fileURLToPath(new URL('../../../flows', import.meta.url));
const fixtures = fileURLToPath(new URL('../fixtures', import.meta.url));

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface SendOptions {
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** The session cookie's value (its name is the editor's). */
  session?: string;
}

export interface EditorHttp {
  editor: RunningEditor;
  demo: DemoServer;
  flowsDir: string;
  /** `host:port` of the editor, the Host header a browser sends. */
  host: string;
  send(method: string, path: string, options?: SendOptions): Promise<Answer>;
  /** Signs in with a token and answers the session cookie's value. */
  signIn(token: string): Promise<string>;
  /** sha256 over every file name and content of the flows folder. */
  folderHash(): Promise<string>;
  close(): Promise<void>;
}

/**
 * @param options.mounted the editor under `/editor` of the sync server's own port (as `npm start`
 *   serves it) instead of a port of its own; `send` then puts `/editor` before every path, so one
 *   test body checks both.
 */
export async function startEditorHttp(options: Partial<StartEditorOptions> & { mounted?: boolean } = {}): Promise<EditorHttp> {
  const { mounted, ...given } = options;
  // The demo app's schema and profiles, as `syncflow serve` passes its config's.
  const editorOptions = { schema: demoConfig.schema, profiles: demoConfig.profiles?.definitions, ...given };
  const flowsDir = await mkdtemp(join(tmpdir(), 'syncflow-editor-http-'));
  await cp(flowsSource, flowsDir, { recursive: true });
  await cp(fixtures, flowsDir, { recursive: true });
  let demo: DemoServer;
  let editor: RunningEditor;
  const base = mounted ? '/editor' : '';
  if (mounted) {
    let serverUrl = '';
    const handler = await createEditorHandler({ basePath: base, syncServerUrl: () => serverUrl, flowsDir, ...editorOptions });
    demo = await startDemoServer({ port: 0, mount: { prefix: base, handle: handler.handle } });
    serverUrl = demo.url;
    editor = { url: `${demo.url}${base}`, sessionCookie: sessionCookieName(Number(new URL(demo.url).port)), close: async () => undefined };
  } else {
    demo = await startDemoServer({ port: 0 });
    try {
      editor = await startEditor({ port: 0, syncServerUrl: demo.url, flowsDir, ...editorOptions });
    } catch (e) {
      await demo.close();
      throw e;
    }
  }
  const url = new URL(editor.url);
  const cookieName = editor.sessionCookie;

  const send = (method: string, path: string, o: SendOptions = {}): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { host: url.host, ...o.headers };
      if (o.session !== undefined) headers.cookie = `${cookieName}=${o.session}`;
      if (o.body !== undefined) headers['content-length'] = String(Buffer.byteLength(o.body));
      const req = request({ host: url.hostname, port: url.port, method, path: base + path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(o.body);
    });

  return {
    editor,
    demo,
    flowsDir,
    host: url.host,
    send,
    async signIn(token) {
      const res = await send('POST', '/editor-api/session', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
      if (res.status !== 200) throw new Error(`sign-in as ${token}: ${res.status} ${res.text}`);
      const cookie = [res.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith(`${cookieName}=`));
      if (!cookie) throw new Error('no session cookie');
      return cookie.slice(cookieName.length + 1).split(';')[0];
    },
    async folderHash() {
      const hash = createHash('sha256');
      for (const name of (await readdir(flowsDir)).sort()) {
        hash.update(name).update('\0').update(await readFile(join(flowsDir, name))).update('\0');
      }
      return hash.digest('hex');
    },
    async close() {
      await editor.close();
      await demo.close();
      await rm(flowsDir, { recursive: true, force: true });
    },
  };
}
