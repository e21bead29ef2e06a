// First start: the admin/admin session may only change the password; then it logs in again.
import { html, useState } from '../lib.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { app } from '../store.js';
import { Logo } from '../icons.js';
import { Button, ErrorBox, TextField } from '../ui.js';
import { Prefs, logout } from '../nav.js';

export const MIN_PASSWORD = 8;

function problems(pw, username) {
  const errs = {};
  if (!pw.old) errs.old = t('form.required');
  if (pw.next.length < MIN_PASSWORD) errs.next = t('settings.passwordShort', { n: MIN_PASSWORD });
  else if (pw.next.trim().toLowerCase() === (username || '').trim().toLowerCase()) errs.next = t('first.sameAsUser');
  if (pw.next !== pw.again) errs.again = t('settings.passwordMismatch');
  return errs;
}

export function FirstPassword() {
  const [pw, setPw] = useState({ old: '', next: '', again: '' });
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const { username, expire } = app.get();
    const errs = problems(pw, username);
    setErrors(errs);
    if (Object.keys(errs).length) return;
    setBusy(true);
    setError(null);
    try {
      await api('user/change-password', { method: 'POST', body: { old_password: pw.old, new_password: pw.next } });
      // the change ends every session, this one included: log in with the new password
      await api('user/login', { method: 'POST', body: { username, password: pw.next, expire: expire ?? 86400 } });
      app.set({ session: 'admin' });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const set = (key) => (v) => setPw({ ...pw, [key]: v });
  return html`<div class="login">
    <div class="login-tools"><${Prefs} compact /></div>
    <main class="login-card">
      <div class="login-brand"><${Logo} /><h1>${t('first.title')}</h1><span class="muted">${t('first.intro')}</span></div>
      <div class="card col" style="gap:16px;padding:22px">
        <form class="form" onSubmit=${submit} aria-label=${t('settings.changePassword')}>
          <input type="text" autocomplete="username" value=${app.get().username || ''} hidden readonly aria-hidden="true" />
          <${TextField} label=${t('settings.oldPassword')} type="password" value=${pw.old} error=${errors.old} onValue=${set('old')} autocomplete="current-password" required autofocus />
          <${TextField} label=${t('settings.newPassword')} type="password" value=${pw.next} error=${errors.next} onValue=${set('next')} autocomplete="new-password" required />
          <${TextField} label=${t('settings.confirmPassword')} type="password" value=${pw.again} error=${errors.again} onValue=${set('again')} autocomplete="new-password" required />
          <${ErrorBox} error=${error} />
          <${Button} kind="primary" type="submit" busy=${busy} label=${t('first.submit')} />
          <${Button} kind="ghost" icon="logout" label=${t('auth.logout')} onClick=${logout} />
        </form>
      </div>
    </main>
  </div>`;
}
