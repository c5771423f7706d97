import { CURRENT_USER } from '../model/constraint.ts';
import type { SyncDefinition } from '../model/syncState.ts';

/**
 * The demo app's named syncs: the open tasks assigned to the user (kept current with reSync,
 * ghosts cleaned when tasks close or go away), and the upload of task changes.
 */
export const demoSyncs: readonly SyncDefinition[] = [
  {
    type: 'syncDown',
    name: 'openTasks',
    target: { entity: 'Task', constraint: { attribute: 'done', op: 'ne', value: true } },
  },
  {
    type: 'syncDown',
    name: 'myTasks',
    target: { entity: 'Task', constraint: { attribute: 'assignee', op: 'eq', value: CURRENT_USER } },
  },
  { type: 'syncUp', name: 'taskChanges', target: { entity: 'Task' } },
];
