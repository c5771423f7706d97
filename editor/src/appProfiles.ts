/**
 * The sync profiles of the app the editor runs (the demo app): the page's runtime runs them in
 * the background by their triggers, the Profiles tab lists them, and a Run profile activity is
 * checked against their names. No record-change or app-start trigger: a background run would
 * hold the one-sync lock while the author clicks Sync all or runs a flow that synchronizes.
 */
import type { ProfileInput } from '../../src/profiles/Profile.ts';

export const appProfiles: readonly ProfileInput[] = [
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
];

/** Their names, for the Run profile activity's field and its check. */
export const appProfileNames: readonly string[] = appProfiles.map((p) => p.name);
