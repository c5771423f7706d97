import '@xyflow/react/dist/style.css';
import './styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { api } from './api.ts';
import { App } from './App.tsx';
import { createRunStore } from './run/runStore.ts';
import { RunContext } from './run/useRun.ts';
import { createEditorStore } from './store/editorStore.ts';
import { EditorContext } from './store/useEditor.ts';

// The app (schema, profiles) is the server's: the store loads it after sign-in, before the editor shows.
const editor = createEditorStore({ api });
// The runtime talks to `api/` beside the page (`/api` or `/editor/api`): the editor server proxies it to
// the sync server. Flows run as the signed-in user: the editor server adds that user's token to each call.
const serverUrl = new URL('.', location.href).href.replace(/\/$/, '');
const run = createRunStore({ app: () => editor.getState().app, user: () => editor.getState().session?.user ?? null, serverUrl });

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <EditorContext.Provider value={editor}>
      <RunContext.Provider value={run}>
        <App />
      </RunContext.Provider>
    </EditorContext.Provider>
  </StrictMode>,
);
