import type { ChangeRequest } from '../transport/wire.ts';
import type { AccessRules } from '../server/access.ts';
import type { UserConfig } from '../server/auth.ts';
import type { MountedApp, SyncServer, SyncServerOptions } from '../server/createSyncServer.ts';
import type { Handlers } from '../server/handlers.ts';
import type { Storage } from '../server/storage/Storage.ts';
import { demoSchema } from './schema.ts';

/**
 * The demo app's server side: who sees what, the calculated attribute and rejection of Task,
 * the users, and some data. Used by `npm start` and the tests.
 */

/** Everyone reads projects; managers and owners change them. Tasks: owner, assignee, managers. Attachments: owner, managers. */
export const demoAccess: AccessRules = {
  Project: {
    read: [{ scope: 'all' }],
    write: [{ role: 'manager', scope: 'all' }, { scope: 'own' }],
  },
  Task: {
    read: [{ scope: 'own' }, { scope: { field: 'assignee' } }, { role: 'manager', scope: 'all' }],
    write: [{ scope: 'own' }, { scope: { field: 'assignee' } }, { role: 'manager', scope: 'all' }],
  },
  Attachment: {
    read: [{ scope: 'own' }, { role: 'manager', scope: 'all' }],
    write: [{ scope: 'own' }, { role: 'manager', scope: 'all' }],
  },
};

export const FORBIDDEN_TITLE_MESSAGE = 'Title must not contain the word forbidden';

/** The number of words of a text (runs of non-space characters). */
export function wordCount(text: unknown): number {
  return typeof text === 'string' ? text.split(/\s+/).filter(Boolean).length : 0;
}

export const demoHandlers: Handlers = {
  Task: {
    /** `words` is calculated from the title; a title with "forbidden" is refused. */
    beforeCommit(task, ctx) {
      if (ctx.kind === 'delete') return;
      if (/\bforbidden\b/i.test(String(task.title ?? ''))) ctx.reject(FORBIDDEN_TITLE_MESSAGE);
      return { words: wordCount(task.title) };
    },
    /** A new task brings its archived project back to life. */
    async afterCommit(task, ctx) {
      if (ctx.kind !== 'create' || typeof task.project !== 'string') return;
      // Once per project and upload: a batch of tasks of one project reads it once.
      const seen = `Project revived: ${task.project}`;
      if (ctx.cache.has(seen)) return;
      ctx.cache.set(seen, true);
      const project = await ctx.get('Project', task.project);
      if (project?.archived) await ctx.update('Project', task.project, { archived: false });
    },
  },
};

/** alice is the flow author: the editor lets only the role `author` save flows. */
export const demoUsers: UserConfig[] = [
  { id: 'alice', token: 'alice-token', roles: ['user', 'author'] },
  { id: 'bob', token: 'bob-token', roles: ['user'] },
  { id: 'carol', token: 'carol-token', roles: ['manager'] },
];

/** Fixed ids, so seeding twice finds its own objects. */
export function demoId(n: number): string {
  return `5eed0000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

export const DEMO_IDS = {
  projects: { website: demoId(1), mobile: demoId(2), office: demoId(3) },
  attachment: demoId(100),
  attachedTask: demoId(11),
} as const;

const TASKS: Array<{ owner: string; title: string; project: keyof typeof DEMO_IDS.projects; assignee?: string; done?: boolean; priority?: string }> = [
  { owner: 'alice', title: 'Draft the sitemap', project: 'website', priority: 'high' },
  { owner: 'alice', title: 'Pick a colour palette', project: 'website', assignee: 'bob' },
  { owner: 'alice', title: 'Write the About page', project: 'website' },
  { owner: 'alice', title: 'Collect customer quotes', project: 'website', done: true },
  { owner: 'alice', title: 'Design the login screen', project: 'mobile', priority: 'high' },
  { owner: 'alice', title: 'Offline mode for the task list', project: 'mobile', assignee: 'bob' },
  { owner: 'alice', title: 'Push notifications', project: 'mobile', priority: 'low' },
  { owner: 'alice', title: 'App store screenshots', project: 'mobile' },
  { owner: 'bob', title: 'Set up the staging server', project: 'website', priority: 'high' },
  { owner: 'bob', title: 'Configure the CDN', project: 'website' },
  { owner: 'bob', title: 'Load test the API', project: 'mobile', assignee: 'alice' },
  { owner: 'bob', title: 'Crash reporting', project: 'mobile' },
  { owner: 'bob', title: 'Beta tester list', project: 'mobile', done: true },
  { owner: 'bob', title: 'Accessibility review', project: 'website', assignee: 'carol' },
  { owner: 'bob', title: 'Translate the onboarding', project: 'mobile', priority: 'low' },
  { owner: 'carol', title: 'Approve the budget', project: 'website', priority: 'high' },
  { owner: 'carol', title: 'Hire a designer', project: 'website', assignee: 'alice' },
  { owner: 'carol', title: 'Quarterly roadmap', project: 'mobile' },
  { owner: 'carol', title: 'Review the privacy policy', project: 'mobile', assignee: 'bob' },
  { owner: 'carol', title: 'Plan the launch party', project: 'website', done: true },
];

/**
 * Seeds the demo data (3 projects, 20 tasks, an attachment with a small text file) through the
 * server's own upload path, as each object's owner. Idempotent: fixed change ids make a second
 * run a replay that changes nothing.
 */
export async function seedDemoData(server: SyncServer): Promise<void> {
  const { projects } = DEMO_IDS;
  const byUser = new Map<string, ChangeRequest[]>();
  const add = (user: string, change: Omit<ChangeRequest, 'kind'>) =>
    byUser.set(user, [...(byUser.get(user) ?? []), { ...change, kind: 'create' }]);

  add('carol', { changeId: 'seed-project-1', entity: 'Project', id: projects.website, data: { name: 'Website relaunch', archived: false } });
  add('alice', { changeId: 'seed-project-2', entity: 'Project', id: projects.mobile, data: { name: 'Mobile app', archived: false } });
  add('bob', { changeId: 'seed-project-3', entity: 'Project', id: projects.office, data: { name: 'Office move', archived: true } });
  TASKS.forEach((t, i) => {
    add(t.owner, {
      changeId: `seed-task-${i + 1}`,
      entity: 'Task',
      id: demoId(10 + i),
      data: {
        title: t.title,
        done: t.done ?? false,
        priority: t.priority ?? 'normal',
        estimate: (i % 5) + 0.5,
        due: new Date(Date.UTC(2030, i % 12, 1 + i)).toISOString(),
        assignee: t.assignee ?? null,
        project: projects[t.project],
      },
    });
  });
  const notes = new TextEncoder().encode('Meeting notes\n- sitemap: home, products, about, contact\n- launch in spring\n');
  add('alice', {
    changeId: 'seed-attachment-1',
    entity: 'Attachment',
    id: DEMO_IDS.attachment,
    data: { name: 'notes.txt', size: notes.byteLength, task: DEMO_IDS.attachedTask },
  });

  // Projects first (carol, alice, bob), then everyone's tasks: references resolve in this order.
  for (const user of ['carol', 'alice', 'bob']) {
    const changes = byUser.get(user)!;
    await server.upload(user, changes.filter((c) => c.entity === 'Project'), 'seed');
  }
  for (const user of ['carol', 'alice', 'bob']) {
    await server.upload(user, byUser.get(user)!.filter((c) => c.entity !== 'Project'), 'seed');
  }
  const { rows } = await server.storage.query('SELECT 1 FROM sf_files WHERE entity = $1 AND id = $2::uuid', ['Attachment', DEMO_IDS.attachment]);
  if (!rows.length) await server.putFile('alice', 'Attachment', DEMO_IDS.attachment, notes, 'text/plain; charset=utf-8');
}

/**
 * The demo app's sync server (schema, users, access rules, handlers) over `storage`, without
 * data; `options` adds to or overrides the rest (cors, logger, limits).
 *
 * @example
 * const server = await createDemoSyncServer(await openStorage({}));
 * await seedDemoData(server);
 */
export async function createDemoSyncServer(storage: Storage, options: Partial<SyncServerOptions> = {}): Promise<SyncServer> {
  // Loaded here, not at the top: the CLI reads the demo config without starting a server.
  const { createSyncServer } = await import('../server/createSyncServer.ts');
  return createSyncServer({ schema: demoSchema, storage, users: demoUsers, access: demoAccess, handlers: demoHandlers, ...options });
}

export interface DemoServer {
  url: string;
  server: SyncServer;
  storage: Storage;
  /** Stops the server and closes its storage. */
  close(): Promise<void>;
}

/**
 * Starts the demo app (`npm start`): storage (PGlite in memory, in `dataDir`, or PostgreSQL at
 * `url`), demo users, access rules, handlers and data, listening on `port` (default 4000).
 *
 * @example
 * const demo = await startDemoServer({ port: 0 });
 * console.log(demo.url); // http://127.0.0.1:39211
 * await demo.close();
 */
export async function startDemoServer(
  options: { port?: number; host?: string; dataDir?: string; url?: string; schemaName?: string; mount?: MountedApp } = {},
): Promise<DemoServer> {
  // The demo is an app like any other: its config (syncflow.config.ts) holds all of the above.
  const [{ default: demoConfig }, { startSyncServer }] = await Promise.all([import('./syncflow.config.ts'), import('../config/startSyncServer.ts')]);
  const app = await startSyncServer(demoConfig, {
    port: options.port ?? 4000,
    host: options.host,
    dataDir: options.dataDir,
    databaseUrl: options.url,
    schemaName: options.schemaName,
    mount: options.mount,
  });
  return { url: app.url, server: app.server, storage: app.storage, close: () => app.close() };
}
