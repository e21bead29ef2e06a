// Read-only view for someone who logged in with an API key: usage, budget, expiry, models, limits.
import { html } from '../lib.js';
import { t } from '../i18n.js';
import { app, useStore } from '../store.js';
import { Logo } from '../icons.js';
import { Badge, Button, ErrorBox, Skeleton, useApi } from '../ui.js';
import { fmtCost, fmtDay, fmtInt, metrics, successRate } from '../format.js';
import { Prefs, logout } from '../nav.js';
import { StatCards } from './dashboard.js';

function expiry(info) {
  const at = Number(info.expire_at) || 0;
  if (!at) return { kind: 'ok', text: t('keys.never') };
  const days = Math.ceil((at * 1000 - Date.now()) / 86400e3);
  if (days <= 0) return { kind: 'err', text: t('keys.expired') };
  return { kind: days < 7 ? 'warn' : 'ok', text: t('keys.daysLeft', { n: days, date: fmtDay(at) }) };
}

function Budget({ info, m }) {
  const max = Number(info.max_cost) || 0;
  if (!max) return html`<b>${t('keys.unlimited')}</b>`;
  const pct = Math.min(100, (m.cost / max) * 100);
  return html`<div class="col" style="gap:6px"><b>${fmtCost(m.cost)} / ${fmtCost(max)}</b>
    <div class="rank-bar" role="progressbar" aria-valuenow=${Math.round(pct)} aria-valuemin="0" aria-valuemax="100">
      <i style=${`width:${pct}%;${pct > 90 ? 'background:var(--err)' : ''}`}></i></div></div>`;
}

export default function KeyView() {
  const { apiKey } = useStore(app);
  const res = useApi('apikey/stats', { bearer: apiKey, poll: 30000 });
  const info = res.data?.info || {};
  const m = metrics(res.data?.stats);
  const exp = expiry(info);
  const models = String(info.supported_models || '').split(',').map((s) => s.trim()).filter(Boolean);
  const rate = successRate(m.ok, m.failed);
  const limits = [['keys.maxRpm', info.max_rpm], ['keys.maxTpm', info.max_tpm], ['keys.maxConcurrency', info.max_concurrency]];
  return html`<div class="main" style="max-width:960px">
    <div class="page-head"><div class="row grow"><span style="width:32px;height:32px;display:inline-block"><${Logo} /></span>
      <h1>${info.name || t('keys.usage')}</h1><${Badge} kind=${info.enabled === false ? 'err' : 'ok'} dot>${info.enabled === false ? t('common.disabled') : t('common.enabled')}<//></div>
      <${Prefs} compact /><${Button} icon="logout" label=${t('auth.logout')} onClick=${logout} /></div>
    <${ErrorBox} error=${res.error} onRetry=${res.reload} />
    ${res.data === undefined && !res.error ? html`<${Skeleton} count=${4} />` : html`<div class="stack">
      <${StatCards} stats=${res.data?.stats || {}} />
      <div class="grid-2">
        <div class="card col"><h2>${t('keys.limits')}</h2>
          <div class="kv">
            <div><span>${t('keys.expiry')}</span><b><${Badge} kind=${exp.kind}>${exp.text}<//></b></div>
            <div><span>${t('keys.successRate')}</span><b>${rate === null ? '—' : rate + '%'}</b></div>
            ${limits.map(([k, v]) => html`<div key=${k}><span>${t(k)}</span><b>${Number(v) ? fmtInt(v) : t('keys.unlimited')}</b></div>`)}
          </div>
          <div><span class="hint">${t('keys.budget')}</span><${Budget} info=${info} m=${m} /></div>
        </div>
        <div class="card col"><h2>${t('keys.models')}</h2>
          ${models.length ? html`<div class="chips">${models.map((x) => html`<span class="chip" key=${x} style="padding-right:9px">${x}</span>`)}</div>`
            : html`<span class="muted">${t('keys.allModels')}</span>`}
        </div>
      </div></div>`}
  </div>`;
}
