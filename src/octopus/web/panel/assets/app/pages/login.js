// Login: the admin account (cookie session) or an API key (read-only view of that key).
import { html, useState } from '../lib.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { app, savePref } from '../store.js';
import { Logo } from '../icons.js';
import { Button, ErrorBox, Seg, TextField } from '../ui.js';
import { Prefs } from '../nav.js';

function AccountForm() {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [trust, setTrust] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const expire = trust ? -1 : 86400;
      const reply = await api('user/login', { method: 'POST', body: { username, password, expire } });
      // the first-start password: the panel opens on the change-password form, nothing else
      app.set({ session: reply?.must_change_password ? 'must-change' : 'admin', username, expire });
    } catch (err) {
      setError(err.status === 401 || err.status === 400 ? { message: t('auth.badCredentials') } : err);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="form" onSubmit=${submit} aria-label=${t('auth.account')}>
    <${TextField} label=${t('auth.username')} value=${username} onValue=${setUsername} autocomplete="username" required autofocus />
    <${TextField} label=${t('auth.password')} type="password" value=${password} onValue=${setPassword} autocomplete="current-password" required />
    <label class="check"><input type="checkbox" checked=${trust} onChange=${(e) => setTrust(e.currentTarget.checked)} />${t('auth.trust')}</label>
    <${ErrorBox} error=${error} />
    <${Button} kind="primary" type="submit" busy=${busy} label=${t('auth.login')} />
  </form>`;
}

function KeyForm() {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api('apikey/login', { bearer: key.trim() });
      savePref('apiKey', key.trim());
      app.set({ session: 'apikey', apiKey: key.trim() });
    } catch (err) {
      setError(err.status === 401 || err.status === 403 ? { message: t('auth.badKey') } : err);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="form" onSubmit=${submit} aria-label=${t('auth.apiKey')}>
    <${TextField} label=${t('auth.apiKey')} type="password" value=${key} onValue=${setKey} placeholder="sk-octopus-…"
      hint=${t('auth.apiKeyHint')} autocomplete="off" required autofocus />
    <${ErrorBox} error=${error} />
    <${Button} kind="primary" type="submit" busy=${busy} label=${t('auth.viewUsage')} />
  </form>`;
}

export function Login() {
  const [mode, setMode] = useState('account');
  return html`<div class="login">
    <div class="login-tools"><${Prefs} compact /></div>
    <main class="login-card">
      <div class="login-brand"><${Logo} /><h1>Octopus</h1><span class="muted">${t('auth.tagline')}</span></div>
      <div class="card col" style="gap:16px;padding:22px">
        <${Seg} label=${t('auth.mode')} value=${mode} onChange=${setMode}
          options=${[{ value: 'account', label: t('auth.account') }, { value: 'key', label: t('auth.apiKey') }]} />
        ${mode === 'account' ? html`<${AccountForm} />` : html`<${KeyForm} />`}
      </div>
    </main>
  </div>`;
}
