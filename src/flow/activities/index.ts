/** Every activity kind, by its `type`. */
import type { ActivityType, ActivityOf } from '../format.ts';
import type { ActivityKind } from './ActivityKind.ts';
import { aggregateList } from './aggregateList.ts';
import { callFlow } from './callFlow.ts';
import { cleanResyncGhosts } from './cleanResyncGhosts.ts';
import { callJavaScriptAction } from './callJavaScriptAction.ts';
import { changeList } from './changeList.ts';
import { changeObject } from './changeObject.ts';
import { changeVariable } from './changeVariable.ts';
import { commit } from './commit.ts';
import { createList } from './createList.ts';
import { createObject } from './createObject.ts';
import { createVariable } from './createVariable.ts';
import { deleteObjects } from './deleteObjects.ts';
import { dismissSynchronizationFailure } from './dismissSynchronizationFailure.ts';
import { listOperation } from './listOperation.ts';
import { listSynchronizationFailures } from './listSynchronizationFailures.ts';
import { logMessage } from './logMessage.ts';
import { reSync } from './reSync.ts';
import { retrieve } from './retrieve.ts';
import { retrySynchronizationFailure } from './retrySynchronizationFailure.ts';
import { rollback } from './rollback.ts';
import { runProfile } from './runProfile.ts';
import { showMessage } from './showMessage.ts';
import { synchronize } from './synchronize.ts';

export const ACTIVITIES: { readonly [K in ActivityType]: ActivityKind<ActivityOf<K>> } = {
  createObject,
  changeObject,
  commit,
  rollback,
  delete: deleteObjects,
  retrieve,
  listOperation,
  aggregateList,
  createList,
  changeList,
  createVariable,
  changeVariable,
  callFlow,
  callJavaScriptAction,
  logMessage,
  showMessage,
  synchronize,
  listSynchronizationFailures,
  retrySynchronizationFailure,
  dismissSynchronizationFailure,
  reSync,
  cleanResyncGhosts,
  runProfile,
};

/** The kind of an activity. */
export function activityKindOf<K extends ActivityType>(type: K): ActivityKind<ActivityOf<K>> {
  return ACTIVITIES[type];
}
