import { defineConfig } from '../config/defineConfig.ts';
import { demoSchema } from './schema.ts';
import { demoAccess, demoHandlers, demoUsers, seedDemoData } from './server.ts';
import { demoSyncs } from './syncs.ts';

/**
 * The demo app (`npm start`): projects, tasks and attachments; alice, bob and carol with fixed
 * tokens from the server's token table (the demo's choice: a real app verifies its own tokens,
 * see `auth`); the flows of the repository's flows/ folder; some data.
 */
export default defineConfig({
  schema: demoSchema,
  access: demoAccess,
  handlers: demoHandlers,
  users: demoUsers,
  syncs: demoSyncs,
  flows: '../../flows',
  seed: seedDemoData,
});
