// Logs: a live list over SSE (running and finished requests) and a filtered, paginated history.
import { html, useEffect, useState } from '../lib.js';
import { subscribe } from '../api.js';
import { t } from '../i18n.js';
import { usePref } from '../store.js';
import { Badge, Button, Empty, ErrorBox, Seg, Skeleton, useApi } from '../ui.js';
import { fmtClock, fmtCost, fmtMs, fmtNum } from '../format.js';
import { RUNNING, normLog } from './log_shape.js';
import { LogDetail } from './log_detail.js';

const MAX_LIVE = 200;

function LogRow({ r, onOpen }) {
  const running = RUNNING.has(r.status);
  return html`<div class="list-row clickable" role="button" tabindex="0" onClick=${onOpen}
      onKeyDown=${(e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); onOpen(); } }}
      aria-label=${`${r.model} ${t('logs.status.' + r.status)}`} data-log-id=${r.id} data-status=${r.status}>
    <span class=${'log-status ' + r.status} aria-hidden="true"></span>
    <div class="grow" style="min-width:0">
      <div class="row" style="gap:6px;min-width:0"><b class="ellipsis">${r.model || '—'}</b>
        <span class="hint ellipsis">→ ${r.channel || '…'}${r.target && r.target !== r.model ? ' / ' + r.target : ''}</span></div>
      <div class="hint row wrap" style="gap:10px"><span>${fmtClock(r.started)}</span>
        ${r.keyName && html`<span>${r.keyName}</span>`}${r.stream && html`<span>${t('logs.stream')}</span>`}
        <span>${t('logs.tokensInOut', { i: fmtNum(r.input), o: fmtNum(r.output) })}</span>
        ${r.round > 1 && html`<span>${t('logs.rounds', { n: r.round })}</span>`}
        ${r.error && html`<span class="err-text ellipsis" style="max-width:360px">${r.error}</span>`}</div>
    </div>
    <div style="text-align:right" class="num">
      ${running ? html`<${Badge} kind="info" dot live>${t('logs.status.' + r.status)}<//>`
        : html`<div style="font-weight:600">${fmtCost(r.cost)}</div><div class="hint">${fmtMs(r.duration)}${r.firstToken ? ' · ' + t('logs.ftShort', { v: fmtMs(r.firstToken) }) : ''}</div>`}
    </div>
  </div>`;
}

function Live({ onOpen }) {
  const [items, setItems] = useState(() => new Map());
  const [conn, setConn] = useState('connecting');
  const [reach, setReach] = useState(null); // the stream's `scope` event: which processes it covers
  useEffect(() => subscribe('log/overview/stream', 'log', (rec) => {
    setItems((prev) => {
      const next = new Map(prev);
      next.set(rec.request_id || rec.id, rec);
      if (next.size > MAX_LIVE) {
        const oldest = [...next.entries()].reduce((a, b) => ((a[1].started_at ?? a[1].time) <= (b[1].started_at ?? b[1].time) ? a : b));
        next.delete(oldest[0]);
      }
      return next;
    });
  }, setConn, { scope: setReach }), []);
  const rows = [...items.values()].map(normLog).sort((a, b) => (Number(b.started) || 0) - (Number(a.started) || 0));
  const running = rows.filter((r) => RUNNING.has(r.status)).length;
  return html`<div class="col">
    <div class="row wrap"><${Badge} kind=${conn === 'open' ? 'ok' : 'warn'} dot live=${conn === 'open'}>
        ${conn === 'open' ? t('logs.live') : conn === 'reconnecting' ? t('logs.reconnecting') : t('logs.connecting')}<//>
      <span class="hint">${t('logs.runningCount', { n: running })}</span>
      ${scopeWarning(reach) && html`<${Badge} kind="warn" title=${t(scopeWarning(reach) + 'Hint')}>${t(scopeWarning(reach))}<//>`}</div>
    ${rows.length ? html`<div class="list" aria-live="polite">${rows.map((r) => html`<${LogRow} key=${r.key} r=${r} onOpen=${() => onOpen(r)} />`)}</div>`
      : html`<${Empty} icon="log" title=${t('logs.emptyLive')} text=${t('logs.emptyLiveHint')} />`}
  </div>`;
}

// Only a gateway that shares state across processes can show less than all of them.
function scopeWarning(reach) {
  if (!reach) return '';
  if (reach.scope === 'partial') return 'logs.scopePartial';
  if (reach.scope === 'local' && reach.shared) return 'logs.scopeLocal';
  return '';
}

// A datetime-local value read in the server's zone (OCTOPUS_TIMEZONE), as the stats count days.
export function toUnix(local, tz) {
  if (!local) return undefined;
  const asUtc = Date.parse(local + 'Z');
  if (Number.isNaN(asUtc)) return undefined;
  try {
    // the zone's offset at that moment: format the UTC reading there and compare
    const fmt = new Intl.DateTimeFormat('en-US', { timeZone: tz || 'UTC', hourCycle: 'h23',
      year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    const p = Object.fromEntries(fmt.formatToParts(new Date(asUtc)).map((x) => [x.type, Number(x.value)]));
    const shown = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
    return Math.floor((asUtc - (shown - asUtc)) / 1000);
  } catch {
    return Math.floor(new Date(local).getTime() / 1000);
  }
}

function Filters({ value, onChange }) {
  const channels = useApi('channel/list');
  const keys = useApi('apikey/list');
  const [draft, setDraft] = useState(value);
  const set = (patch) => setDraft((d) => ({ ...d, ...patch }));
  const input = (key, label, type = 'text') => html`<div class="field"><label for=${'lf-' + key}>${label}</label>
    <input id=${'lf-' + key} class="input" type=${type} value=${draft[key] || ''} onInput=${(e) => set({ [key]: e.currentTarget.value })} /></div>`;
  const select = (key, label, options) => html`<div class="field"><label for=${'lf-' + key}>${label}</label>
    <select id=${'lf-' + key} class="select" value=${draft[key] || ''} onChange=${(e) => set({ [key]: e.currentTarget.value })}>
      <option value="">${t('common.any')}</option>${options.map((o) => html`<option key=${o.value} value=${o.value}>${o.label}</option>`)}</select></div>`;
  return html`<form class="card form" style="margin-bottom:14px" onSubmit=${(e) => { e.preventDefault(); onChange(draft); }} aria-label=${t('logs.filters')}>
    <div class="form-row">
      ${input('start', t('logs.from'), 'datetime-local')}${input('end', t('logs.to'), 'datetime-local')}
      ${input('model', t('logs.model'))}
      ${select('channel_id', t('logs.channel'), (channels.data || []).map((c) => ({ value: c.id, label: c.name })))}
      ${select('api_key_id', t('logs.key'), (keys.data || []).map((k) => ({ value: k.id, label: k.name })))}
      ${select('status', t('logs.statusLabel'), ['running', 'success', 'failed', 'canceled'].map((s) => ({ value: s, label: t('logs.status.' + s) })))}
    </div>
    <div class="row" style="justify-content:flex-end"><${Button} kind="ghost" label=${t('common.reset')} onClick=${() => { setDraft({}); onChange({}); }} />
      <${Button} kind="primary" type="submit" icon="filter" label=${t('logs.apply')} /></div>
  </form>`;
}

function History({ onOpen }) {
  const [filters, setFilters] = useState({});
  const [page, setPage] = useState(1);
  const [size] = usePref('logs.pageSize', 20);
  const zone = useApi('stats/today');
  const tz = zone.data?.timezone || 'UTC';
  const query = { page, page_size: size, start_time: toUnix(filters.start, tz), end_time: toUnix(filters.end, tz), model: filters.model,
    channel_id: filters.channel_id, api_key_id: filters.api_key_id, status: filters.status };
  const res = useApi('log/page', { query });
  const items = (res.data?.items || []).map(normLog);
  const total = Number(res.data?.total) || 0;
  const pages = Math.max(1, Math.ceil(total / size));
  return html`<div>
    <${Filters} value=${filters} onChange=${(f) => { setFilters(f); setPage(1); }} />
    <div class="row" style="margin-bottom:10px"><span class="hint grow">${t('logs.historyHint')}</span>
      <${Button} size="sm" icon="refresh" busy=${res.loading} label=${t('logs.refresh')} onClick=${res.reload} /></div>
    <${ErrorBox} error=${res.error} onRetry=${res.reload} />
    ${res.data === undefined && !res.error ? html`<${Skeleton} count=${1} height=${240} />`
      : !items.length ? html`<${Empty} icon="log" title=${t('logs.emptyHistory')} text=${t('logs.emptyHistoryHint')} />`
      : html`<div class="list">${items.map((r) => html`<${LogRow} key=${r.key} r=${r} onOpen=${() => onOpen(r)} />`)}</div>
        <nav class="pager" aria-label=${t('logs.pages')}>
          <${Button} size="sm" icon="back" aria-label=${t('common.previous')} disabled=${page <= 1} onClick=${() => setPage(page - 1)} />
          <span class="hint">${t('logs.pageOf', { page, pages, total: fmtNum(total), n: total })}</span>
          <${Button} size="sm" label=${t('common.next')} disabled=${page >= pages} onClick=${() => setPage(page + 1)} />
        </nav>`}
    ${res.loading && res.data !== undefined && html`<span class="sr-only" role="status">${t('common.loading')}</span>`}
  </div>`;
}

export default function Logs({ arg }) {
  const [tab, setTab] = usePref('logs.tab', 'live');
  const [open, setOpen] = useState(arg ? { id: arg } : null);
  return html`<div>
    <div class="page-head"><h1>${t('nav.logs')}</h1>
      <${Seg} label=${t('logs.view')} value=${tab} onChange=${setTab}
        options=${[{ value: 'live', label: t('logs.liveTab') }, { value: 'history', label: t('logs.historyTab') }]} /></div>
    ${tab === 'live' ? html`<${Live} onOpen=${(r) => setOpen(r)} />` : html`<${History} onOpen=${(r) => setOpen(r)} />`}
    ${open && html`<${LogDetail} id=${open.id} live=${open.raw} onClose=${() => setOpen(null)} />`}
    <p class="hint" style="margin-top:14px">${t('logs.tip')}</p>
  </div>`;
}
