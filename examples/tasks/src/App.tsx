import { useEffect, useState } from 'react';
import { useFailures, useFlow, useLiveQuery, usePendingCount, useRuntime, useSynchronize, useSyncStatus } from 'syncflow/react';

/** An offline-first task list: edits are committed locally and shown at once; sync sends them. */
export function App() {
  const runtime = useRuntime();
  const tasks = useLiveQuery('Task', { sort: [['title', 'asc']] });
  const addTask = useFlow('addTask');
  const { synchronize, lastError } = useSynchronize('all');
  const status = useSyncStatus();
  const { failures, retry, dismiss } = useFailures();
  const [title, setTitle] = useState('');
  const [online, setOnline] = useState(navigator.onLine);
  const pending = usePendingCount() ?? 0;

  // Sync when the network comes back (and once at start).
  useEffect(() => {
    const sync = () => void synchronize().catch(() => undefined);
    const up = () => (setOnline(true), sync());
    const down = () => setOnline(false);
    window.addEventListener('online', up);
    window.addEventListener('offline', down);
    sync();
    return () => (window.removeEventListener('online', up), window.removeEventListener('offline', down));
  }, [synchronize]);

  const toggle = async (id: string, done: boolean) => {
    const task = await runtime.store.get('Task', id);
    if (!task) return;
    const session = runtime.session();
    await session.commit(session.change(task, { done: !done }));
  };

  return (
    <main>
      <h1>Tasks</h1>
      <p data-testid="status">
        {online ? 'online' : 'offline'} · {status.running ? `syncing (${status.machineState ?? ''})` : 'idle'} · <span data-testid="pending">{pending}</span> unsynced
        {lastError && !status.running ? <span data-testid="sync-error"> · last sync failed: {lastError.message}</span> : null}
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (title.trim()) void addTask.run({ title: title.trim() }).then(() => setTitle(''), () => undefined);
        }}
      >
        <input aria-label="New task" value={title} onChange={(e) => setTitle(e.target.value)} />
        <button type="submit">Add</button>
        <button type="button" onClick={() => void synchronize().catch(() => undefined)} disabled={status.running}>
          Sync
        </button>
      </form>
      {addTask.error ? <p role="alert">{addTask.error.message}</p> : null}
      <ul data-testid="tasks">
        {(tasks ?? []).map((t) => (
          <li key={t.id} data-title={String(t.title)}>
            <label>
              <input type="checkbox" checked={Boolean(t.done)} onChange={() => void toggle(t.id, Boolean(t.done))} />
              {String(t.title)}
            </label>
            {typeof t.words === 'number' ? <small data-testid="words"> ({t.words} words)</small> : null}
          </li>
        ))}
      </ul>
      {failures?.length ? (
        <section data-testid="failures">
          <h2>Not synchronized</h2>
          {failures.map((f) => (
            <p key={f.id} data-failure={f.id}>
              {f.entity} “{String((f.data as { title?: unknown })?.title ?? f.objectId)}”: {f.message}{' '}
              <button onClick={() => void retry(f.id).catch(() => undefined)}>Retry</button>{' '}
              <button onClick={() => void dismiss(f.id).catch(() => undefined)}>Dismiss</button>
            </p>
          ))}
        </section>
      ) : null}
    </main>
  );
}
