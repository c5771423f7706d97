import { defineConfig } from '../config/defineConfig.ts';
import { demoSchema } from './schema.ts';
import { demoAccess, demoHandlers, demoUsers, seedDemoData } from './server.ts';
import { demoSyncs } from './syncs.ts';

/**
 * The demo app (`npm start`): projects, tasks and attachments; alice, bob and carol with fixed
 * tokens from the server's token table (the demo's choice: a real app verifies its own tokens,
 * see `auth`); the flows of the repository's flows/ folder; some data; three sync profiles (the
 * editor's Profiles tab and Run profile activity list them).
 */
export default defineConfig({
  schema: demoSchema,
  access: demoAccess,
  handlers: demoHandlers,
  users: demoUsers,
  syncs: demoSyncs,
  flows: '../../flows',
  seed: seedDemoData,
  profiles: {
    // No record-change or app-start trigger: a background run in the editor's page would hold the
    // one-sync lock while the author clicks Sync all or runs a flow that synchronizes.
    definitions: {
      profiles: [
        {
          name: 'GetTasks',
          description: 'Tasks changed on the server since the last run',
          direction: 'download',
          entities: { include: ['Task'] },
          triggers: [{ kind: 'periodic', delaySeconds: 900 }],
        },
        {
          name: 'PushChanges',
          description: 'Every committed local change, up only',
          direction: 'upload',
          entities: { exclude: [] },
        },
        {
          name: 'BackOnline',
          description: 'Projects and tasks both ways when the device comes back online',
          direction: 'both',
          entities: { include: ['Project', 'Task'] },
          triggers: [{ kind: 'online' }],
        },
      ],
    },
  },
});
