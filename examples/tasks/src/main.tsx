import { createRoot } from 'react-dom/client';
import { createRuntime } from 'syncflow';
import { SyncflowProvider } from 'syncflow/react';
import addTask from '../flows/addTask.flow.json';
import { schema } from '../schema.ts';
import { App } from './App.tsx';

// The sync server and the user's token: from the address (?server=...&token=...), else the defaults.
const params = new URLSearchParams(location.search);
const serverUrl = params.get('server') ?? 'http://127.0.0.1:4000';
const token = params.get('token') ?? 'ann-secret-token';

const runtime = await createRuntime({ schema, serverUrl, token, flows: { addTask } });
createRoot(document.getElementById('root')!).render(
  <SyncflowProvider runtime={runtime}>
    <App />
  </SyncflowProvider>,
);
