// Home: totals, a 53-week activity heatmap, the trend chart and rankings.
import { html, useEffect, useMemo, useRef } from '../lib.js';
import { t } from '../i18n.js';
import { usePref } from '../store.js';
import { Icon } from '../icons.js';
import { ErrorBox, Seg, Skeleton, Empty, useApi } from '../ui.js';
import { fmtCost, fmtMs, fmtNum, fmtInt, metrics, successRate } from '../format.js';
import { TrendChart, utcKey, zoneToday } from './trend.js';

export function StatCards({ stats }) {
  const m = metrics(stats);
  const cards = [
    { icon: 'bolt', title: t('dash.requests'), value: fmtNum(m.requests),
      sub: [[t('dash.success'), fmtNum(m.ok)], [t('dash.failed'), fmtNum(m.failed)], [t('dash.time'), fmtMs(m.wait)]] },
    { icon: 'coin', title: t('dash.total'), value: fmtCost(m.cost), sub: [[t('dash.tokens'), fmtNum(m.tokens)]] },
    { icon: 'input', title: t('dash.input'), value: fmtCost(m.inCost), sub: [[t('dash.tokens'), fmtNum(m.input)]] },
    { icon: 'output', title: t('dash.output'), value: fmtCost(m.outCost), sub: [[t('dash.tokens'), fmtNum(m.output)]] },
  ];
  return html`<section class="grid-4" aria-label=${t('dash.totals')}>${cards.map((c) => html`<div class="card stat" key=${c.icon}>
    <div class="stat-head"><span class="stat-icon"><${Icon} name=${c.icon} /></span>${c.title}</div>
    <div class="stat-value">${c.value}</div>
    <div class="stat-sub">${c.sub.map(([k, v]) => html`<span key=${k}>${k} <b>${v}</b></span>`)}</div>
  </div>`)}</section>`;
}


function Heatmap({ daily, tz }) {
  const cells = useMemo(() => {
    // stats/daily answers the Go shape, a list of days; the peak is taken over the shown weeks
    const byDay = new Map((Array.isArray(daily) ? daily : []).map((d) => [String(d.date), d]));
    // days in the server's zone, as it counts them
    const today = zoneToday(tz);
    const weekday = new Date(today).getUTCDay();
    const out = [];
    for (let i = 52 * 7 + weekday; i >= 0; i--) {
      const d = new Date(today - i * 86400e3);
      out.push({ key: utcKey(d), m: metrics(byDay.get(utcKey(d))), date: d });
    }
    const max = out.reduce((top, c) => Math.max(top, c.m.requests), 0);
    for (const c of out) c.level = c.m.requests === 0 ? 0 : Math.min(4, Math.ceil((c.m.requests / max) * 4));
    return out;
  }, [daily, tz]);
  const active = cells.filter((c) => c.m.requests > 0).length;
  const wrap = useRef(null);
  // on a narrow screen show the most recent weeks first
  useEffect(() => { if (wrap.current) wrap.current.scrollLeft = wrap.current.scrollWidth; }, [cells]);
  return html`<div class="card">
    <div class="card-title"><h2>${t('dash.activity')}</h2><span class="hint">${t('dash.activeDays', { n: active })}</span></div>
    <div class="heatmap-wrap" ref=${wrap} tabindex="0"><div class="heatmap" role="img" aria-label=${t('dash.activityLabel', { n: active })}>
      ${cells.map((c) => html`<i key=${c.key} class=${'l' + c.level}
        title=${`${c.date.toISOString().slice(0, 10)} · ${t('dash.requests')} ${fmtInt(c.m.requests)} · ${t('dash.time')} ${fmtMs(c.m.wait)} · ${t('dash.tokens')} ${fmtNum(c.m.tokens)} · ${fmtCost(c.m.cost)}`}></i>`)}
    </div></div>
    <div class="row between" style="margin-top:10px"><span class="hint">${t('dash.lastYear')}</span>
      <span class="legend">${t('dash.less')}${[0, 1, 2, 3, 4].map((l) => html`<i key=${l} style=${`background:var(--heat-${l})`}></i>`)}${t('dash.more')}</span></div>
  </div>`;
}

const SORTS = ['cost', 'requests', 'tokens'];

function rankRows(kind, { channels, models, keys, chStats, keyStats }) {
  if (kind === 'channels') {
    const names = new Map((channels || []).map((c) => [c.id, c.name]));
    const rows = chStats?.length ? chStats : (channels || []).map((c) => ({ channel_id: c.id, ...(c.stats || {}) }));
    return rows.map((s) => ({ id: 'c' + s.channel_id, name: names.get(s.channel_id) || s.channel_name || `#${s.channel_id}`, m: metrics(s) }));
  }
  if (kind === 'models') {
    const merged = new Map();
    for (const s of models || []) {
      const name = s.model || s.name || s.model_name || '?';
      const prev = merged.get(name);
      const m = metrics(s);
      if (prev) for (const k of Object.keys(m)) prev.m[k] += m[k];
      else merged.set(name, { id: 'm' + name, name, m });
    }
    return [...merged.values()];
  }
  const names = new Map((keys || []).map((k) => [k.id, k.name]));
  return (keyStats || []).map((s) => ({ id: 'k' + s.api_key_id, name: names.get(s.api_key_id) || `#${s.api_key_id}`, m: metrics(s) }));
}

function Ranking() {
  const [kind, setKind] = usePref('dash.rankKind', 'channels');
  const [sort, setSort] = usePref('dash.rankSort', 'cost');
  const channels = useApi('channel/list', { poll: 30000 });
  const chStats = useApi('stats/channel', { poll: 30000 });
  const models = useApi(kind === 'models' ? 'stats/model' : null, { poll: 30000 });
  const keys = useApi(kind === 'keys' ? 'apikey/list' : null);
  const keyStats = useApi(kind === 'keys' ? 'stats/apikey' : null, { poll: 30000 });
  const rows = rankRows(kind, { channels: channels.data, chStats: chStats.data, models: models.data, keys: keys.data, keyStats: keyStats.data })
    .filter((r) => r.m.requests > 0 || r.m.cost > 0)
    .sort((a, b) => b.m[sort] - a.m[sort]).slice(0, 10);
  const top = rows[0]?.m[sort] || 1;
  const show = (m) => (sort === 'cost' ? fmtCost(m.cost) : fmtNum(m[sort]));
  return html`<div class="card">
    <div class="card-title wrap"><h2>${t('dash.ranking')}</h2>
      <${Seg} label=${t('dash.rankKind')} value=${kind} onChange=${setKind}
        options=${['channels', 'models', 'keys'].map((v) => ({ value: v, label: t('dash.rank.' + v) }))} /></div>
    <div class="row" style="margin-bottom:12px"><${Seg} label=${t('dash.sortBy')} value=${sort} onChange=${setSort}
      options=${SORTS.map((v) => ({ value: v, label: t('dash.metric.' + v) }))} /></div>
    <${ErrorBox} error=${channels.error || chStats.error || models.error || keyStats.error} />
    ${rows.length === 0 ? html`<${Empty} icon="bolt" title=${t('dash.noRanking')} text=${t('dash.noRankingHint')} />`
      : html`<ol class="rank" style="list-style:none;margin:0;padding:0">${rows.map((r, i) => {
        const rate = successRate(r.m.ok, r.m.failed);
        return html`<li class="rank-row" key=${r.id}><span class="rank-pos">${i + 1}</span>
          <div style="min-width:0"><div class="ellipsis" style="font-weight:580">${r.name}</div>
            <div class="rank-bar"><i style=${`width:${Math.max(2, (r.m[sort] / top) * 100)}%`}></i></div></div>
          <div class="rank-val">${show(r.m)}<small>${t('dash.okFail', { ok: fmtNum(r.m.ok), failed: fmtNum(r.m.failed) })}${rate === null ? '' : ` · ${rate}%`}</small></div>
        </li>`;
      })}</ol>`}
  </div>`;
}

export function Dashboard() {
  const total = useApi('stats/total', { poll: 30000 });
  const daily = useApi('stats/daily', { poll: 60000 });
  const today = useApi('stats/today', { poll: 60000 });
  const tz = today.data?.timezone || 'UTC';
  return html`<div class="stack">
    <div class="page-head"><h1>${t('nav.dashboard')}</h1></div>
    <${ErrorBox} error=${total.error} onRetry=${total.reload} />
    ${total.data === undefined && !total.error ? html`<${Skeleton} count=${4} height=${110} />` : html`<${StatCards} stats=${total.data || {}} />`}
    <${Heatmap} daily=${daily.data} tz=${tz} />
    <div class="grid-2"><${TrendChart} daily=${daily.data} tz=${tz} /><${Ranking} /></div>
  </div>`;
}
