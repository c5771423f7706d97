import { defineConfig } from 'syncflow';
import { schema } from './schema.ts';

/** The task list's server: each user sees their own tasks; a title with "forbidden" is refused. */
export default defineConfig({
  schema,
  access: { Task: { read: [{ scope: 'own' }], write: [{ scope: 'own' }] } },
  handlers: {
    Task: {
      beforeCommit(task, ctx) {
        if (ctx.kind === 'delete') return;
        if (/forbidden/i.test(String(task.title ?? ''))) ctx.reject('A title must not say forbidden');
        return { words: String(task.title ?? '').split(/\s+/).filter(Boolean).length };
      },
    },
  },
  // Demo-grade sign-in: fixed tokens in the server's token table. A real app gives `auth`.
  users: [
    { id: 'ann', token: 'ann-secret-token', roles: ['user'] },
    { id: 'ben', token: 'ben-secret-token', roles: ['user'] },
  ],
});
