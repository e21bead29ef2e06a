// Boot: language, theme, session check, then the shell with hash routing (no server routes needed).
import { html, render, useEffect, useState } from './lib.js';
import { app, useStore, loadPref, savePref } from './store.js';
import { detectLang, setLang, t } from './i18n.js';
import { initTheme } from './theme.js';
import { Prefs, logout } from './nav.js';
import { api } from './api.js';
import { Icon, Logo } from './icons.js';
import { ConfirmHost, ToastHost, ErrorBox, Button } from './ui.js';
import { Dashboard } from './pages/dashboard.js';
import { Login } from './pages/login.js';
import { FirstPassword } from './pages/first_password.js';

const PAGES = [
  { id: 'dashboard', icon: 'home', load: null },
  { id: 'channels', icon: 'channel', load: () => import('./pages/channels.js') },
  { id: 'groups', icon: 'group', load: () => import('./pages/groups.js') },
  { id: 'models', icon: 'model', load: () => import('./pages/models.js') },
  { id: 'logs', icon: 'log', load: () => import('./pages/logs.js') },
  { id: 'settings', icon: 'settings', load: () => import('./pages/settings.js') },
];

function parseRoute() {
  const [page, ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  const known = PAGES.some((p) => p.id === page);
  return { page: known ? page : 'dashboard', arg: decodeURIComponent(rest.join('/')) };
}

const loaded = {};

// the service worker caches the shell (sw.js, served beside index.html so its scope is the panel)
if ('serviceWorker' in navigator && window.isSecureContext) {
  navigator.serviceWorker.register('./sw.js').catch(() => {});  // relative to the page: works under a sub-path
}

function LazyPage({ page }) {
  const entry = PAGES.find((p) => p.id === page);
  const [mod, setMod] = useState(() => loaded[page]);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (!entry.load || loaded[page]) return setMod(loaded[page]);
    setMod(undefined);
    entry.load().then((m) => { loaded[page] = m; setMod(m); }, setError);
  }, [page]);
  if (!entry.load) return html`<${Dashboard} />`;
  if (error) return html`<${ErrorBox} error=${{ message: t('error.loadPage') }} onRetry=${() => location.reload()} />`;
  if (!mod) return html`<div class="progress" role="status" aria-label=${t('common.loading')}><i></i></div>`;
  return html`<${mod.default} arg=${app.get().route.arg} />`;
}

function NavLinks({ current }) {
  return PAGES.map((p) => html`<a key=${p.id} class="nav-link" href=${'#/' + p.id}
      aria-current=${p.id === current ? 'page' : undefined}>
    <${Icon} name=${p.icon} /><span>${t('nav.' + p.id)}</span></a>`);
}

function Shell() {
  const { route } = useStore(app);
  useEffect(() => {
    // warm the other pages once the dashboard is up, so navigation feels instant
    const id = setTimeout(() => PAGES.forEach((p) => p.load && p.load().then((m) => { loaded[p.id] = m; })), 1500);
    return () => clearTimeout(id);
  }, []);
  useEffect(() => {
    document.title = t('nav.' + route.page) + ' · Octopus';
  }, [route.page, app.get().lang]);
  return html`<div class="shell">
    <a class="sr-only" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>${t('common.skip')}</a>
    <aside class="sidebar" aria-label=${t('nav.label')}>
      <div class="brand"><${Logo} /><span>Octopus</span></div>
      <nav class="col" style="gap:4px"><${NavLinks} current=${route.page} /></nav>
      <div class="sidebar-foot"><${Prefs} />
        <${Button} kind="ghost" icon="logout" label=${t('auth.logout')} onClick=${logout} /></div>
    </aside>
    <header class="topbar"><div class="brand"><${Logo} /><span>Octopus</span></div>
      <${Prefs} compact /><${Button} kind="ghost" size="sm" icon="logout" aria-label=${t('auth.logout')} onClick=${logout} /></header>
    <main class="main" id="main" tabindex="-1" key=${route.page}><${LazyPage} page=${route.page} /></main>
    <nav class="bottom-nav" aria-label=${t('nav.label')}><${NavLinks} current=${route.page} /></nav>
  </div>`;
}

let KeyView = null;

function Root() {
  const { session, messages } = useStore(app);
  const [, setReady] = useState(0);
  useEffect(() => {
    if (session === 'apikey' && !KeyView) import('./pages/keyview.js').then((m) => { KeyView = m.default; setReady(1); });
  }, [session]);
  if (!messages['nav.dashboard'] || session === 'unknown') return html`<div class="boot" role="status"><span class="boot-logo"><${Logo} /></span></div>`;
  let body;
  if (session === 'none') body = html`<${Login} />`;
  else if (session === 'must-change') body = html`<${FirstPassword} />`;
  else if (session === 'apikey') body = KeyView ? html`<${KeyView} />` : html`<div class="boot"><span class="boot-logo"><${Logo} /></span></div>`;
  else body = html`<${Shell} />`;
  return html`${body}<${ToastHost} /><${ConfirmHost} />`;
}

async function checkSession() {
  const key = loadPref('apiKey', null);
  if (key) {
    try {
      await api('apikey/login', { bearer: key });
      return app.set({ session: 'apikey', apiKey: key });
    } catch {
      savePref('apiKey', null);
    }
  }
  try {
    const info = await api('user/info');
    app.set({ session: info?.must_change_password ? 'must-change' : 'admin', username: info?.username });
  } catch {
    app.set({ session: 'none' });
  }
}

async function boot() {
  initTheme();
  app.set({ route: parseRoute() });
  window.addEventListener('hashchange', () => app.set({ route: parseRoute() }));
  render(html`<${Root} />`, document.getElementById('app'));
  await Promise.all([setLang(detectLang(), false), checkSession()]);
}

boot();
