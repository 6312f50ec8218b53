// The console: log in, then the kinds (from the API's OpenAPI document), operations, events,
// the system pages and the drill reports, behind one hash router (the server serves one page).

import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { session } from './api.js';
import { href, useRoute } from './hooks.js';
import { useKinds } from './kinds.js';
import { DrillList, DrillReport } from './pages/drills.js';
import { Events } from './pages/events.js';
import { Login } from './pages/login.js';
import { Operations } from './pages/operations.js';
import { ResourceDetail, ResourceList } from './pages/resources.js';
import { DeadLetters, SYSTEM_PAGES, SystemView } from './pages/system.js';
import './style.css';

const SYSTEM_NAV = ['replicas', 'leaders', 'queues', 'dead-letters', 'breakers', 'controllers'] as const;

function Page({ route }: { route: string[] }) {
  const kinds = useKinds();
  const [section, a, b] = route;
  if (section === 'operations') return <Operations key={a ?? ''} selected={a} />;
  if (section === 'events') return <Events />;
  if (section === 'drills') return a ? <DrillReport name={a} /> : <DrillList />;
  if (section === 'system') {
    if (a === 'dead-letters') return <DeadLetters />;
    const page = a ? SYSTEM_PAGES[a] : undefined;
    if (page) return <SystemView key={a} page={page} />;
  }
  if (!kinds) return <p class="muted">loading…</p>;
  const kind = kinds.find((k) => k.name === (section === 'r' ? a : undefined)) ?? kinds[0];
  if (!kind) return <p class="muted">the API serves no kinds</p>;
  if (section === 'r' && b) return <ResourceDetail key={b} kind={kind} kinds={kinds} id={b} />;
  return <ResourceList key={kind.name} kind={kind} kinds={kinds} />;
}

function Nav({ route }: { route: string[] }) {
  const kinds = useKinds();
  const at = route.join('/');
  const link = (target: string, label: string, current: boolean) => (
    <li key={target}>
      <a href={target} aria-current={current ? 'page' : undefined}>
        {label}
      </a>
    </li>
  );
  return (
    <nav aria-label="console">
      <h2>Resources</h2>
      <ul>
        {(kinds ?? []).map((k) => link(href('r', k.name), k.name, route[0] === 'r' && route[1] === k.name))}
      </ul>
      <h2>Activity</h2>
      <ul>
        {link(href('operations'), 'operations', route[0] === 'operations')}
        {link(href('events'), 'events', at === 'events')}
      </ul>
      <h2>System</h2>
      <ul>
        {SYSTEM_NAV.map((p) => link(href('system', p), p, at === `system/${p}`))}
        {link(href('drills'), 'drill reports', route[0] === 'drills')}
      </ul>
    </nav>
  );
}

function App() {
  const [loggedIn, setLoggedIn] = useState(() => session.key() !== null);
  const route = useRoute();
  useEffect(() => {
    const out = () => setLoggedIn(false);
    window.addEventListener('stratus:logout', out);
    return () => window.removeEventListener('stratus:logout', out);
  }, []);
  if (!loggedIn) return <Login onLogin={() => setLoggedIn(true)} />;
  return (
    <div class="shell">
      <header class="top">
        <a class="brand" href={href()}>
          Stratus
        </a>
        <button
          type="button"
          onClick={() => {
            session.logout();
            setLoggedIn(false);
          }}
        >
          Log out
        </button>
      </header>
      <Nav route={route} />
      <main>
        <Page route={route} />
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
