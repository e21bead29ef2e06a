// Settings: account, appearance, API keys, system values, backup and about.
import { html, useState } from '../lib.js';
import { api, download } from '../api.js';
import { t, LANGS, setLang } from '../i18n.js';
import { app, useStore } from '../store.js';
import { setTheme } from '../theme.js';
import { Badge, Button, ErrorBox, Progress, Seg, Switch, TextField, toast, useAction, useApi } from '../ui.js';
import { fmtTime } from '../format.js';
import { ApiKeysCard } from './settings_keys.js';
import { SystemCard } from './settings_system.js';

const MIN_PASSWORD = 8; // as the server's rule (first_password.js)

function AccountCard() {
  const [username, setUsername] = useState('');
  const [pw, setPw] = useState({ old: '', next: '', again: '' });
  const [errors, setErrors] = useState({});
  const [runName, nameBusy, nameError] = useAction();
  const [runPw, pwBusy, pwError] = useAction();
  const changeName = (e) => {
    e.preventDefault();
    if (!username.trim()) return setErrors({ username: t('form.required') });
    setErrors({});
    return runName(async () => {
      await api('user/change-username', { method: 'POST', body: { new_username: username.trim() } });
      toast(t('settings.usernameChanged'));
      setUsername('');
    });
  };
  const changePw = (e) => {
    e.preventDefault();
    const errs = {};
    if (!pw.old) errs.old = t('form.required');
    if (pw.next.length < MIN_PASSWORD) errs.next = t('settings.passwordShort', { n: MIN_PASSWORD });
    if (pw.next !== pw.again) errs.again = t('settings.passwordMismatch');
    setErrors(errs);
    if (Object.keys(errs).length) return undefined;
    return runPw(async () => {
      await api('user/change-password', { method: 'POST', body: { old_password: pw.old, new_password: pw.next } });
      toast(t('settings.passwordChanged'));
      setPw({ old: '', next: '', again: '' });
    });
  };
  return html`<section class="card col" aria-labelledby="acct-title"><h2 id="acct-title">${t('settings.account')}</h2>
    <form class="form" onSubmit=${changeName} aria-label=${t('settings.changeUsername')}>
      <${TextField} label=${t('settings.newUsername')} value=${username} onValue=${setUsername} error=${errors.username} autocomplete="username" />
      <${ErrorBox} error=${nameError} />
      <div><${Button} type="submit" busy=${nameBusy} label=${t('settings.changeUsername')} /></div>
    </form>
    <hr class="divider" />
    <form class="form" onSubmit=${changePw} aria-label=${t('settings.changePassword')}>
      <input type="text" autocomplete="username" hidden readonly aria-hidden="true" />
      <${TextField} label=${t('settings.oldPassword')} type="password" value=${pw.old} error=${errors.old} onValue=${(v) => setPw({ ...pw, old: v })} autocomplete="current-password" />
      <${TextField} label=${t('settings.newPassword')} type="password" value=${pw.next} error=${errors.next} onValue=${(v) => setPw({ ...pw, next: v })} autocomplete="new-password" />
      <${TextField} label=${t('settings.confirmPassword')} type="password" value=${pw.again} error=${errors.again} onValue=${(v) => setPw({ ...pw, again: v })} autocomplete="new-password" />
      <${ErrorBox} error=${pwError} />
      <div><${Button} type="submit" kind="primary" busy=${pwBusy} label=${t('settings.changePassword')} /></div>
    </form></section>`;
}

function AppearanceCard() {
  const { theme, lang } = useStore(app);
  return html`<section class="card col" aria-labelledby="look-title"><h2 id="look-title">${t('settings.appearance')}</h2>
    <div class="field"><span class="label">${t('theme.label')}</span>
      <${Seg} label=${t('theme.label')} value=${theme} onChange=${setTheme} options=${['light', 'dark', 'system'].map((v) => ({ value: v, label: t('theme.' + v) }))} /></div>
    <div class="field"><span class="label">${t('settings.language')}</span>
      <${Seg} label=${t('settings.language')} value=${lang} onChange=${setLang} options=${LANGS.map((l) => ({ value: l.id, label: l.label }))} /></div>
  </section>`;
}

function BackupCard() {
  const [withStats, setWithStats] = useState(false);
  const [runExport, exporting, exportError] = useAction();
  const [runImport, importing, importError] = useAction();
  const [report, setReport] = useState(null);
  const doExport = () => runExport(async () => {
    const name = await download('setting/export', { include_stats: withStats }, 'octopus-export.json');
    toast(t('settings.exported', { name }));
  });
  const doImport = (e) => {
    const file = e.currentTarget.files?.[0];
    e.currentTarget.value = '';
    if (!file) return;
    setReport(null);
    const form = new FormData();
    form.append('file', file);
    runImport(async () => {
      const res = await api('setting/import', { method: 'POST', body: form });
      setReport({ rows: res?.rows_affected || {}, skipped: res?.skipped || {}, notes: res?.notes || [] });
      toast(t('settings.imported'));
    });
  };
  return html`<section class="card col" aria-labelledby="backup-title"><h2 id="backup-title">${t('settings.backup')}</h2>
    <p class="hint" style="margin:0">${t('settings.backupHint')}</p>
    <${Switch} label=${t('settings.includeStats')} checked=${withStats} onChange=${setWithStats} />
    <div class="row wrap"><${Button} icon="download" busy=${exporting} label=${t('settings.export')} onClick=${doExport} />
      <label class="btn" aria-disabled=${importing}><input type="file" accept="application/json,.json" class="sr-only" onChange=${doImport} disabled=${importing}
        aria-label=${t('settings.import')} />${importing ? html`<span class="spinner"></span>` : null}${t('settings.import')}</label></div>
    ${importing && html`<${Progress} label=${t('settings.importing')} />`}
    <${ErrorBox} error=${exportError || importError} />
    ${report && html`<div class="col" style="gap:8px" role="status" data-testid="import-report"><b>${t('settings.importReport')}</b>
      <div class="kv">${Object.entries(report.rows).map(([k, v]) => html`<div key=${k}><span>${k}</span><b>${v}</b></div>`)}</div>
      ${Object.keys(report.skipped).length > 0 && html`<b>${t('settings.importSkipped')}</b>
        <div class="kv">${Object.entries(report.skipped).map(([k, v]) => html`<div key=${k}><span>${k}</span><b>${v}</b></div>`)}</div>`}
      ${report.notes.length > 0 && html`<ul class="hint" style="margin:0;padding-left:18px">${report.notes.map((n, i) => html`<li key=${i}>${n}</li>`)}</ul>`}
    </div>`}
  </section>`;
}

function AboutCard() {
  const version = useApi('update/now-version');
  const [run, busy, error] = useAction();
  const [latest, setLatest] = useState(null);
  const check = () => run(async () => setLatest(await api('update')));
  const tag = latest?.tag_name || latest?.version;
  const current = typeof version.data === 'string' ? version.data : version.data?.version;
  const newer = tag && current && tag.replace(/^v/, '') !== String(current).replace(/^v/, '');
  return html`<section class="card col" aria-labelledby="about-title"><h2 id="about-title">${t('settings.about')}</h2>
    <div class="kv"><div><span>${t('settings.version')}</span><b data-testid="version">${current || '—'}</b></div>
      ${tag && html`<div><span>${t('settings.latest')}</span><b>${tag}</b></div>`}
      ${latest?.published_at && html`<div><span>${t('settings.published')}</span><b>${fmtTime(latest.published_at)}</b></div>`}</div>
    ${latest && html`<${Badge} kind=${newer ? 'warn' : 'ok'}>${newer ? t('settings.updateAvailable') : t('settings.upToDate')}<//>`}
    <${ErrorBox} error=${error || version.error} />
    <div><${Button} icon="refresh" busy=${busy} label=${t('settings.checkUpdate')} onClick=${check} /></div>
  </section>`;
}

export default function Settings() {
  return html`<div>
    <div class="page-head"><h1>${t('nav.settings')}</h1></div>
    <div class="settings-cols">
      <${AccountCard} /><${AppearanceCard} /><${ApiKeysCard} /><${SystemCard} /><${BackupCard} /><${AboutCard} />
    </div>
  </div>`;
}
