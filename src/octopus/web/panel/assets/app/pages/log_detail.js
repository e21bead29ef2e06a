// One request in detail: summary, attempt timeline, what conversion dropped, request and response bodies.
import { html, useState } from '../lib.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { Badge, Button, CopyButton, ErrorBox, Modal, Skeleton, useAction, useApi } from '../ui.js';
import { fmtCost, fmtInt, fmtMs, fmtTime } from '../format.js';
import { RUNNING, normLog, statusKind } from './log_shape.js';

function pretty(text) {
  if (typeof text !== 'string') return JSON.stringify(text, null, 2);
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function Body({ id, which }) {
  const [text, setText] = useState(null);
  const [run, busy, error] = useAction();
  const load = () => run(async () => setText(pretty((await api(`log/${id}/${which}`)) ?? '')));
  const label = t(which === 'request-body' ? 'logs.requestBody' : 'logs.responseBody');
  return html`<section class="col" style="gap:8px" aria-label=${label}>
    <div class="row"><h3 class="grow">${label}</h3>
      ${text === null ? html`<${Button} size="sm" busy=${busy} label=${t('logs.load')} aria-label=${t('logs.load') + ' ' + label} onClick=${load} />`
        : html`<${CopyButton} text=${text} label=${t('common.copy')} />`}</div>
    <${ErrorBox} error=${error} />
    ${text !== null && (text ? html`<pre class="body" tabindex="0" aria-label=${label}>${text}</pre>` : html`<span class="muted">${t('logs.noBody')}</span>`)}
  </section>`;
}

function Timeline({ attempts }) {
  if (!attempts.length) return html`<span class="muted">${t('logs.noAttempts')}</span>`;
  return html`<div class="timeline">${attempts.map((a, i) => {
    const status = a.outcome || (typeof a.status === 'string' ? a.status : a.error ? 'failed' : 'success');
    const code = typeof a.status === 'number' ? a.status : a.status_code;
    return html`<div class=${'timeline-item ' + status} key=${i}>
      <div class="row wrap"><b>${t('logs.attemptN', { n: a.attempt_num ?? a.attempt ?? i + 1 })}</b>
        <${Badge} kind=${statusKind(status)}>${t('logs.outcome.' + status)}<//>
        <span class="hint">${[a.channel_name, a.model_name || a.model].filter(Boolean).join(' · ')}</span>
        ${a.duration_ms !== undefined || a.duration !== undefined ? html`<span class="hint num">${fmtMs(a.duration_ms ?? a.duration)}</span>` : null}
        ${code ? html`<${Badge}>HTTP ${code}<//>` : null}${a.sticky && html`<${Badge} kind="accent">${t('logs.sticky')}<//>`}</div>
      ${(a.error || a.msg) && html`<div class="hint err-text" style="word-break:break-word">${a.error || a.msg}</div>`}
    </div>`;
  })}</div>`;
}

function Losses({ losses }) {
  if (!losses.length) return html`<span class="muted">${t('logs.noLosses')}</span>`;
  return html`<ul style="margin:0;padding-left:18px">${losses.map((l, i) => html`<li key=${i}>${typeof l === 'string' ? l
    : html`<code>${l.field || l.path || '?'}</code> ${l.reason || l.why || ''} ${l.from ? html`<span class="hint">(${l.from} → ${l.to})</span>` : ''}`}</li>`)}</ul>`;
}

// Only a round still waiting on its upstream can be stopped; the server says 404 otherwise.
function StopRound({ rec }) {
  const [run, busy, error] = useAction();
  const requestId = rec.raw.request_id;
  if (!RUNNING.has(rec.status) || !requestId) return null;
  const stop = () => run(async () => {
    const round = (await api('log/running'))?.[requestId];
    await api(`log/${requestId}/${round ?? 0}/stop`, { method: 'POST' });
  });
  return html`<div class="col" style="gap:6px">
    <div class="row"><${Button} size="sm" busy=${busy} label=${t('logs.stopRound')} onClick=${stop} />
      <span class="hint">${t('logs.stopRoundHint')}</span></div>
    <${ErrorBox} error=${error} />
  </div>`;
}

export function LogDetail({ id, live, onClose }) {
  // a live record already carries its attempts; the stored one may not be written yet
  const res = useApi(live ? null : `log/${id}`);
  const rec = normLog({ ...(live || {}), ...(res.data || {}) });
  const kv = [['logs.started', fmtTime(rec.started)], ['logs.duration', rec.duration ? fmtMs(rec.duration) : '—'],
    ['logs.firstToken', rec.firstToken ? fmtMs(rec.firstToken) : '—'], ['logs.inputTokens', fmtInt(rec.input)],
    ['logs.outputTokens', fmtInt(rec.output)], ['logs.cachedTokens', fmtInt(rec.cached)], ['logs.cost', fmtCost(rec.cost)],
    ['logs.key', rec.keyName || '—'], ['logs.http', rec.httpStatus || '—'], ['logs.format', rec.inbound ? `${rec.inbound} → ${rec.outbound || rec.inbound}` : '—']];
  return html`<${Modal} open size="wide" title=${t('logs.detailTitle', { id: rec.raw.id || String(id).slice(0, 12) })} onClose=${onClose}>
    ${res.error && !live ? html`<${ErrorBox} error=${res.error} onRetry=${res.reload} />` : !res.data && !live ? html`<${Skeleton} count=${1} />` : html`<div class="col" style="gap:16px">
      <div class="row wrap"><${Badge} kind=${statusKind(rec.status)} dot live=${RUNNING.has(rec.status)}>${t('logs.status.' + rec.status)}<//>
        <b>${rec.model}</b><span class="muted">→ ${rec.channel || '—'}${rec.target ? ' / ' + rec.target : ''}</span></div>
      ${rec.error && html`<div class="alert" role="alert" style="word-break:break-word">${rec.error}</div>`}
      <div class="kv">${kv.map(([k, v]) => html`<div key=${k}><span>${t(k)}</span><b>${v}</b></div>`)}</div>
      <section class="col" style="gap:8px"><h3>${t('logs.attempts')}</h3><${Timeline} attempts=${rec.attempts} /><${StopRound} rec=${rec} /></section>
      <section class="col" style="gap:8px"><h3>${t('logs.losses')}</h3><${Losses} losses=${rec.losses} /></section>
      <${Body} id=${id} which="request-body" /><${Body} id=${id} which="response-body" />
    </div>`}
  <//>`;
}
