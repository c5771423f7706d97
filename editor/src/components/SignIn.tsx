/**
 * The sign-in page: the user gives their sync server bearer token once; the editor server checks
 * it with the sync server and keeps it in a session (an HttpOnly cookie the page cannot read).
 */
import { useState } from 'react';
import { useEditor, useEditorStore } from '../store/useEditor.ts';

export function SignIn() {
  const store = useEditorStore();
  const error = useEditor((s) => s.signInError);
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <main className="sign-in-page">
      <form
        className="sign-in"
        aria-label="Sign in"
        data-testid="sign-in"
        onSubmit={(e) => {
          e.preventDefault();
          setBusy(true);
          void store
            .getState()
            .signIn(token)
            .finally(() => setBusy(false));
        }}
      >
        <h1>syncflow editor</h1>
        <p className="muted">Sign in with your token for the sync server. Flows you run here run as you; only authors may save flows.</p>
        <label htmlFor="sign-in-token">Token</label>
        <input id="sign-in-token" type="password" autoComplete="current-password" autoFocus value={token} onChange={(e) => setToken(e.target.value)} data-testid="sign-in-token" />
        {error && (
          <p className="sign-in-error" role="alert" data-testid="sign-in-error">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={!token.trim() || busy} data-testid="sign-in-submit">
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
