// Log in with an API key: checked against the API (a read every role may do) before it is kept,
// in this tab's sessionStorage only: closing the tab forgets it.

import { useState } from 'preact/hooks';
import { type ApiError, api, session } from '../api.js';
import { Problem } from '../table.js';

export function Login({ onLogin }: { onLogin: () => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    session.login(key.trim());
    try {
      await api('/v1/instance-types');
      onLogin();
    } catch (err) {
      session.logout();
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <h1>Stratus</h1>
      <form onSubmit={submit} aria-label="log in">
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autocomplete="off"
          required
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled={busy}>
          Log in
        </button>
        <p class="muted">The key stays in this tab (sessionStorage) and goes only to this server.</p>
        <Problem error={error} />
      </form>
    </main>
  );
}
