// Navigation helpers shared by the shell and the pages: routes, logout, theme and language pickers.
import { html, useId } from './lib.js';
import { app, useStore, savePref } from './store.js';
import { setLang, t, LANGS } from './i18n.js';
import { setTheme } from './theme.js';
import { api } from './api.js';
import { Button } from './ui.js';

export function navigate(page, arg = '') {
  location.hash = '#/' + page + (arg ? '/' + encodeURIComponent(arg) : '');
}

export function Prefs({ compact }) {
  const { theme, lang } = useStore(app);
  const id = useId();
  const next = { system: 'light', light: 'dark', dark: 'system' }[theme];
  const icon = { system: 'monitor', light: 'sun', dark: 'moon' }[theme];
  return html`<div class="row">
    <${Button} kind="ghost" icon=${icon} size=${compact ? 'sm' : ''} title=${t('theme.' + theme)}
      aria-label=${t('theme.label') + ': ' + t('theme.' + theme)} onClick=${() => setTheme(next)} />
    <label class="sr-only" for=${id}>${t('settings.language')}</label>
    <select id=${id} class="select" style=${compact ? 'height:30px;width:auto' : 'width:auto'} value=${lang}
      onChange=${(e) => setLang(e.currentTarget.value)}>
      ${LANGS.map((l) => html`<option value=${l.id} key=${l.id}>${l.label}</option>`)}
    </select>
  </div>`;
}

export async function logout() {
  if (app.get().session === 'apikey') {
    savePref('apiKey', null);
  } else {
    try {
      await api('user/logout', { method: 'POST' });
    } catch {
      // the cookie may already be gone; the login page is shown either way
    }
  }
  app.set({ session: 'none', apiKey: '' });
}

