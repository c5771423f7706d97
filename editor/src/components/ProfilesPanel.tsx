/**
 * The Profiles tab: the app's sync profiles as the page's runtime runs them — direction,
 * entities, triggers, the last run (from the journal: when, outcome, counts, why it did not run)
 * and the next trigger — with a Run button each. Live: a run, in the background or from here,
 * updates its row.
 */
import { useEffect } from 'react';
import { timeOfDay } from '../run/profileRows.ts';
import { useRun, useRunStore } from '../run/useRun.ts';
import { useEditor } from '../store/useEditor.ts';

export function ProfilesPanel() {
  const run = useRunStore();
  const user = useEditor((s) => s.session?.user);
  const profiles = useRun((s) => s.profiles);
  const error = useRun((s) => s.profilesError);
  const running = useRun((s) => s.runningProfile);
  useEffect(() => {
    if (user) void run.getState().watchProfiles();
  }, [run, user]);
  return (
    <div className="profiles-panel" data-testid="profiles-panel">
      {error && (
        <div className="hint error" role="alert">
          {error}
        </div>
      )}
      {profiles.length === 0 && !error && <div className="hint">No sync profiles: the app defines none.</div>}
      <table className="profiles">
        <thead>
          <tr>
            <th scope="col">Profile</th>
            <th scope="col">Direction</th>
            <th scope="col">Entities</th>
            <th scope="col">Triggers</th>
            <th scope="col">Last run</th>
            <th scope="col">Next trigger</th>
            <th scope="col">
              <span className="sr-only">Run</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {profiles.map((p) => (
            <tr key={p.name} data-testid="profile-row" data-profile={p.name} data-outcome={p.lastRun?.outcome ?? 'never'}>
              <th scope="row" title={p.description}>
                {p.name}
              </th>
              <td>{p.direction}</td>
              <td>{p.entities}</td>
              <td>{p.triggers.join(', ') || <span className="muted">none</span>}</td>
              <td data-testid="profile-last-run">
                {p.lastRun ? (
                  <>
                    <span className={`outcome ${p.lastRun.outcome}`}>{p.lastRun.outcome}</span> <span className="muted">at {timeOfDay(p.lastRun.at)} ({p.lastRun.trigger})</span>
                    <div className="small">{p.lastRun.counts}</div>
                    {p.lastRun.reason && <div className="small muted">{p.lastRun.reason}</div>}
                  </>
                ) : (
                  <span className="muted">never</span>
                )}
              </td>
              <td data-testid="profile-next">{p.next}</td>
              <td>
                <button type="button" disabled={running !== null} onClick={() => void run.getState().runProfile(p.name)} data-testid="profile-run" aria-label={`Run ${p.name}`}>
                  {running === p.name ? 'Running…' : 'Run'}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
