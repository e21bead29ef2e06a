// System settings: every key the server lists, with labels and checks for the known ones.
import { html, useState } from '../lib.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { Button, ErrorBox, SelectField, Switch, TextField, errorText, toast, useApi } from '../ui.js';

const KNOWN = ['proxy_url', 'cors_allow_origins', 'model_info_update_interval', 'sync_llm_interval', 'log_retention_days',
  'log_body_mode', 'log_body_retention_days', 'log_body_max_bytes', 'metrics_enabled', 'metrics_token', 'stats_save_interval'];
const CHOICES = { log_body_mode: ['off', 'errors', 'all'] };
const SECRET = new Set(['metrics_token']);
const NUMERIC = /interval|days|bytes|seconds|max/;
const BOOL = new Set(['true', 'false']);

function check(key, value) {
  if (key === 'proxy_url' && value && !/^(https?|socks5h?):\/\/[^\s/]+/i.test(value)) return t('settings.badProxy');
  if (NUMERIC.test(key) && value !== '' && !/^\d+$/.test(value)) return t('form.nonNegativeInt');
  return '';
}

const label = (key) => (t('settings.key.' + key) === 'settings.key.' + key ? key : t('settings.key.' + key));
const hint = (key) => (t('settings.hint.' + key) === 'settings.hint.' + key ? '' : t('settings.hint.' + key));

export function SystemCard() {
  const list = useApi('setting/list');
  const [draft, setDraft] = useState({});
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const saved = Object.fromEntries((list.data || []).map((s) => [s.key, String(s.value ?? '')]));
  const keys = Object.keys(saved).sort((a, b) => (KNOWN.indexOf(a) + 1 || 99) - (KNOWN.indexOf(b) + 1 || 99));
  const value = (k) => (k in draft ? draft[k] : saved[k]);
  const changed = keys.filter((k) => k in draft && draft[k] !== saved[k]);
  const save = async (e) => {
    e.preventDefault();
    const errs = Object.fromEntries(changed.map((k) => [k, check(k, draft[k])]).filter(([, v]) => v));
    setErrors(errs);
    if (Object.keys(errs).length) return;
    setBusy(true);
    for (const key of changed) {
      try {
        await api('setting/set', { method: 'POST', body: { key, value: draft[key] } });
      } catch (err) {
        errs[key] = errorText(err);
      }
    }
    setBusy(false);
    setErrors(errs);
    if (!Object.keys(errs).length) { toast(t('common.saved')); setDraft({}); }
    list.reload();
  };
  return html`<section class="card col" aria-labelledby="sys-title"><h2 id="sys-title">${t('settings.system')}</h2>
    <${ErrorBox} error=${list.error} onRetry=${list.reload} />
    <form class="form" onSubmit=${save} novalidate>
      ${keys.map((k) => (CHOICES[k]
        ? html`<${SelectField} key=${k} label=${label(k)} hint=${errors[k] || hint(k)} value=${value(k)}
            options=${CHOICES[k].map((v) => ({ value: v, label: t('settings.choice.' + k + '.' + v) }))} onValue=${(v) => setDraft({ ...draft, [k]: v })} />`
        : BOOL.has(saved[k])
        ? html`<${Switch} key=${k} label=${label(k)} hint=${errors[k] || hint(k)} checked=${value(k) === 'true'}
            onChange=${(v) => setDraft({ ...draft, [k]: String(v) })} />`
        : html`<${TextField} key=${k} label=${label(k)} hint=${hint(k)} error=${errors[k]} value=${value(k)}
            type=${SECRET.has(k) ? 'password' : 'text'} autocomplete="off"
            inputmode=${NUMERIC.test(k) ? 'numeric' : undefined} onValue=${(v) => setDraft({ ...draft, [k]: v })} />`))}
      <div class="row"><${Button} type="submit" kind="primary" busy=${busy} disabled=${!changed.length} label=${t('settings.saveSystem')} />
        ${changed.length > 0 && html`<span class="hint">${t('settings.unsaved', { n: changed.length })}</span>`}</div>
    </form></section>`;
}
