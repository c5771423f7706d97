/**
 * The run panel's Sync journal: the page runtime's journal (`runtime.journal`), newest first, a
 * page at a time — what ran (kind, mode / sync / profile name, trigger), when and how long, the
 * outcome, counts per entity and direction, bytes, failures and what was skipped and why. Live: an
 * entry written (a Synchronize, a named sync, a ghost cleaning, a profile run in the background)
 * shows at once. Export JSON downloads the journal's own export, which has no attribute values.
 */
import { useEffect, useRef, useState } from 'react';
import type { JournalEntry } from '../../../src/journal/JournalEntry.ts';
import { byteSize, countGroups, exportFileName, kindLabel, runDuration, startedText } from '../run/journalRows.ts';
import { JOURNAL_PAGE, shortId } from '../run/runStore.ts';
import { useRun, useRunStore } from '../run/useRun.ts';
import { useEditor } from '../store/useEditor.ts';

/** Failures listed in a row before the rest fold away. */
const SHOWN_FAILURES = 3;

/** Set by a click on a view tab: the tabs of the view it shows take the focus (the clicked one left with its view). */
let focusAfterSwitch = false;

/** Switches the panel's right-hand columns between the local database (with failures) and the journal. */
export function DataViewTabs() {
  const run = useRunStore();
  const view = useRun((s) => s.dataView);
  const user = useEditor((s) => s.session?.user);
  const selected = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!focusAfterSwitch) return;
    focusAfterSwitch = false;
    selected.current?.focus();
  }, []);
  const tab = (value: 'data' | 'journal', label: string, panel: string, title: string) => (
    <button
      ref={view === value ? selected : undefined}
      type="button"
      role="tab"
      id={`data-view-${value}`}
      aria-selected={view === value}
      // Only the shown panel exists: a reference to a missing id is invalid.
      aria-controls={view === value ? panel : undefined}
      className={view === value ? 'active' : ''}
      title={title}
      onClick={() => {
        if (view === value) return;
        focusAfterSwitch = true;
        run.getState().setDataView(value);
      }}
      data-testid={`data-view-${value}`}
    >
      {label}
    </button>
  );
  return (
    <div className="tabs view-tabs" role="tablist" aria-label="Device data">
      {tab('data', 'Local database', 'local-db-panel', `${user}'s objects in this browser's IndexedDB, and the SynchronizationFailures`)}
      {tab('journal', 'Sync journal', 'journal-panel', `${user}'s sync runs, newest first`)}
    </div>
  );
}

export function SyncJournal() {
  const run = useRunStore();
  const user = useEditor((s) => s.session?.user);
  const entries = useRun((s) => s.journal);
  const more = useRun((s) => s.journalMore);
  const error = useRun((s) => s.journalError);
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);
  useEffect(() => {
    if (user) void run.getState().watchJournal();
  }, [run, user]);

  const download = async () => {
    setExporting(true);
    setExportError(null);
    try {
      const text = await run.getState().exportJournal();
      const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = exportFileName(user ?? 'user');
      document.body.append(a);
      a.click();
      a.remove();
      // Revoked later: the browser reads the blob after the click returns.
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (e) {
      setExportError(e instanceof Error ? e.message : String(e));
    } finally {
      setExporting(false);
    }
  };

  return (
    <section className="run-col run-journal" role="tabpanel" id="journal-panel" aria-labelledby="data-view-journal" data-testid="journal">
      <div className="view-head">
        <DataViewTabs />
        <span className="muted small" data-testid="journal-shown">
          {more ? `the newest ${entries.length} entries` : `${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}`} · {user}, newest first
        </span>
        <button type="button" className="journal-export" onClick={() => void download()} disabled={exporting} title="Download the journal as JSON (ids, counts and reasons; no attribute values)" data-testid="journal-export">
          Export JSON
        </button>
      </div>
      {(error ?? exportError) && (
        <div className="field-error" role="alert">
          {error ?? exportError}
        </div>
      )}
      {entries.length === 0 && !error && (
        <div className="hint" data-testid="journal-empty">
          No runs journaled yet. Every Synchronize, named sync, ghost cleaning and profile run leaves an entry here, newest first.
        </div>
      )}
      {entries.length > 0 && (
        <table className="journal" data-testid="journal-table">
          <caption className="sr-only">Sync journal, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Started</th>
              <th scope="col">Outcome</th>
              <th scope="col">Counts</th>
              <th scope="col">Bytes</th>
              <th scope="col">Failures and skipped</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <JournalRow key={e.seq} entry={e} />
            ))}
          </tbody>
        </table>
      )}
      {more && (
        <button type="button" className="journal-more" onClick={() => void run.getState().moreJournal()} data-testid="journal-more">
          Show {JOURNAL_PAGE} older entries
        </button>
      )}
    </section>
  );
}

function JournalRow({ entry: e }: { entry: JournalEntry }) {
  const groups = countGroups(e.counts);
  const failures = e.failures.map((f, i) => (
    <li key={i} data-testid="journal-failure" data-entity={f.entity} data-object={f.objectId}>
      {f.entity} <span className="mono" title={f.objectId}>{shortId(f.objectId)}</span>: {f.reason}
    </li>
  ));
  return (
    <tr data-testid="journal-entry" data-seq={e.seq} data-kind={e.kind} data-name={e.name} data-trigger={e.trigger} data-outcome={e.outcome}>
      <th scope="row">
        {kindLabel(e.kind)} <span className="mono">{e.name}</span>
        <div className="small muted">trigger: {e.trigger}</div>
      </th>
      <td>
        <time dateTime={e.startedAt} title={e.startedAt}>
          {startedText(e.startedAt)}
        </time>
        <div className="small muted" data-testid="journal-duration">
          {runDuration(e)}
        </div>
      </td>
      <td>
        <span className={`outcome ${e.outcome}`}>{e.outcome}</span>
        {e.error && (
          <div className="small journal-error">
            {e.error.code}: {e.error.message}
          </div>
        )}
      </td>
      <td data-testid="journal-counts">
        {groups.length ? (
          groups.map((g) => (
            <div key={g.entity}>
              {g.entity}:{' '}
              {g.parts.map((p, i) => (
                <span key={p} className="nowrap">
                  {p}
                  {i < g.parts.length - 1 ? ', ' : ''}
                </span>
              ))}
            </div>
          ))
        ) : (
          <span className="muted">nothing moved</span>
        )}
      </td>
      <td data-testid="journal-bytes">
        <div>
          sent <span className="nowrap">{byteSize(e.bytes.sent)}</span>
        </div>
        <div>
          received <span className="nowrap">{byteSize(e.bytes.received)}</span>
        </div>
      </td>
      <td data-testid="journal-issues">
        {e.failures.length > 0 && (
          <>
            <div className="small">
              {e.failures.length} failure{e.failures.length === 1 ? '' : 's'}
            </div>
            <ul className="journal-list" aria-label="Failures">
              {failures.slice(0, SHOWN_FAILURES)}
            </ul>
            {failures.length > SHOWN_FAILURES && (
              <details>
                <summary>{failures.length - SHOWN_FAILURES} more</summary>
                <ul className="journal-list">{failures.slice(SHOWN_FAILURES)}</ul>
              </details>
            )}
          </>
        )}
        {e.skipped.length > 0 && (
          <ul className="journal-list" aria-label="Skipped">
            {e.skipped.map((s, i) => (
              <li key={i} className="muted" data-testid="journal-skipped">
                skipped {s.what}: {s.reason}
              </li>
            ))}
          </ul>
        )}
        {e.failures.length === 0 && e.skipped.length === 0 && <span className="muted">none</span>}
      </td>
    </tr>
  );
}
