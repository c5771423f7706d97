import { ProfileRefusedError, SyncflowError, SyncStoppedError, type ErrorCode } from '../../errors.ts';
import { newId } from '../../model/values.ts';
import type { ProfileRunResult } from '../../profiles/runProfile.ts';
import { describeRefusal } from '../../profiles/startConditions.ts';
import { PROFILE_RUN_ENTITY } from '../expressions/types.ts';
import { activityKind } from './ActivityKind.ts';
import { runtimeError } from './shared.ts';
import { refreshHeldObjects } from './synchronize.ts';

/**
 * Run profile: runs one of the app's sync profiles (SmartSync) now, by name. A run that does not
 * start — refused by a start condition (profiles disabled, unresolved failures, ...) or skipped
 * because another synchronization runs — fails the activity with a ProfileRefusedError
 * (`profile_refused`, the reason code in its message), so error handling applies; a run that
 * fails or is stopped fails it with its own typed error. Afterwards the run's variables hold the
 * synchronized versions of their objects; the output (optional) is a System.ProfileRun.
 */
export const runProfile = activityKind({
  type: 'runProfile',
  declares: (a) => (a.outputVariable ? [{ name: a.outputVariable, type: { kind: 'object', entity: PROFILE_RUN_ENTITY }, field: 'activity.outputVariable' }] : []),
  check(a, c) {
    if (c.profileExists(a.profile) === false) c.problem('activity.profile', `unknown sync profile "${a.profile}"`);
  },
  async run(a, r) {
    if (!r.host.runProfile) throw runtimeError('this app has no sync profiles');
    // Stopping the flow stops the profile run it started (the interpreter then reports the flow cancelled).
    const result = await r.host.runProfile(a.profile, { signal: r.signal });
    throwIfNotDone(result);
    await refreshHeldObjects(r);
    if (a.outputVariable) {
      const { profile, outcome, uploaded, downloaded, removed, files, failures } = result;
      r.set(a.outputVariable, { id: newId(), $entity: PROFILE_RUN_ENTITY, profile, outcome, uploaded, downloaded, removed, files, failures });
    }
  },
});

/** A run that did not complete as the activity's typed error. */
function throwIfNotDone(result: ProfileRunResult): void {
  switch (result.outcome) {
    case 'done':
      return;
    case 'refused':
    case 'skipped': {
      const reason = result.refusal?.code ?? result.skip ?? result.outcome;
      const detail = result.refusal ? describeRefusal(result.refusal) : (result.skipped.find((s) => s.what === 'run')?.reason ?? result.outcome);
      throw new ProfileRefusedError(result.profile, reason, detail);
    }
    case 'stopped':
    case 'cancelled':
      throw new SyncStoppedError(`The sync profile "${result.profile}"`);
    default:
      throw new SyncflowError((result.error?.code ?? 'internal') as ErrorCode, result.error?.message ?? `the sync profile "${result.profile}" failed`);
  }
}
