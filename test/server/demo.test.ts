import { describe, expect, it } from 'vitest';
import { SyncClient } from '../../src/transport/SyncClient.ts';
import { DEMO_IDS, startDemoServer } from '../../src/server/demo.ts';
import { POSTGRES_URL } from './support.ts';

describe('demo server', () => {
  it('starts with its users and data, and talks to the typed client', async () => {
    const schemaName = `sfd_${process.pid}_${Date.now().toString(36)}`;
    const demo = await startDemoServer({ port: 0, url: POSTGRES_URL, schemaName });
    try {
      const bob = new SyncClient({ baseUrl: demo.url, token: 'bob-token', deviceId: 'demo-test' });
      expect(await bob.me()).toEqual({ user: 'bob', roles: ['user'] });
      const projects = await bob.download({ entity: 'Project' });
      expect(projects.objects).toHaveLength(3);
      const tasks = await bob.download({ entity: 'Task', count: true });
      expect(tasks.total).toBe(tasks.objects.length);
      expect(tasks.objects.every((t) => t.owner === 'bob' || t.assignee === 'bob')).toBe(true);

      const alice = new SyncClient({ baseUrl: demo.url, token: 'alice-token', deviceId: 'demo-test' });
      const file = await alice.getFile('Attachment', DEMO_IDS.attachment);
      expect(new TextDecoder().decode(file!.data)).toMatch(/^Meeting notes/);
      expect(await bob.getFile('Attachment', DEMO_IDS.attachment)).toBeNull();
    } finally {
      await demo.storage.query(`DROP SCHEMA ${schemaName} CASCADE`);
      await demo.close();
    }
  });
});
