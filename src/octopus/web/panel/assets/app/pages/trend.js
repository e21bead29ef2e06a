// Trend chart (uPlot): today by hour, or the last 7 / 30 days, by cost, requests or tokens.
import { html, useEffect, useRef, useState } from '../lib.js';
import { t } from '../i18n.js';
import { app, usePref, useStore } from '../store.js';
import { ErrorBox, Seg, useApi } from '../ui.js';
import { fmtCost, fmtNum, metrics } from '../format.js';

let uplotPromise = null;
function loadUplot() {
  if (!uplotPromise) {
    const link = Object.assign(document.createElement('link'), {
      rel: 'stylesheet', href: import.meta.resolve('uplot').replace(/[^/]+$/, 'uPlot.min.css'),
    });
    document.head.append(link);
    uplotPromise = import('uplot').then((m) => m.default);
  }
  return uplotPromise;
}

const SERIES = {
  cost: [['inCost', 'dash.input'], ['outCost', 'dash.output']],
  requests: [['ok', 'dash.success'], ['failed', 'dash.failed']],
  tokens: [['input', 'dash.input'], ['output', 'dash.output']],
};

// Daily rows are keyed by the server zone's date (YYYYMMDD); days are walked as UTC midnights of
// those calendar dates. Hourly rows carry `time`, the hour's unix start.
export const utcKey = (d) => `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;

// today's date in the server's zone (stats/today tells it), as a UTC midnight
export function zoneToday(tz) {
  try {
    const fmt = new Intl.DateTimeFormat('en-US', { timeZone: tz || 'UTC', year: 'numeric', month: 'numeric', day: 'numeric' });
    const p = Object.fromEntries(fmt.formatToParts(new Date()).map((x) => [x.type, x.value]));
    return Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day));
  } catch {
    const n = new Date();
    return Date.UTC(n.getUTCFullYear(), n.getUTCMonth(), n.getUTCDate());
  }
}

function buildData(period, metric, hourly, daily, tz) {
  const xs = [];
  const rows = [];
  if (period === 'today') {
    for (const h of hourly || []) {
      xs.push(Number(h.time));
      rows.push(metrics(h));
    }
  } else {
    const days = period === '7d' ? 7 : 30;
    const byDay = new Map((Array.isArray(daily) ? daily : []).map((d) => [String(d.date), d]));
    const today = zoneToday(tz);
    for (let i = days - 1; i >= 0; i--) {
      const d = new Date(today - i * 86400e3);
      xs.push(d.getTime() / 1000);
      rows.push(metrics(byDay.get(utcKey(d))));
    }
  }
  return [xs, ...SERIES[metric].map(([field]) => rows.map((r) => r[field]))];
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function chartOptions(uPlot, width, metric, period, tz) {
  const fmt = metric === 'cost' ? fmtCost : fmtNum;
  const colors = [cssVar('--accent'), metric === 'requests' ? cssVar('--err') : cssVar('--info')];
  const axis = { stroke: cssVar('--muted'), grid: { stroke: cssVar('--border'), width: 1 }, ticks: { show: false } };
  return {
    width, height: 240,
    padding: [8, 8, 0, 0],
    cursor: { points: { size: 7 } },
    legend: { live: true },
    scales: { x: { time: true } },
    // hours in the server's zone; days are calendar dates held as UTC midnights
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), period === 'today' ? tz || 'Etc/UTC' : 'Etc/UTC'),
    axes: [
      { ...axis, values: period === 'today' ? '{HH}:00' : '{M}/{D}', incrs: period === 'today' ? [3600, 7200, 10800, 21600] : [86400, 172800, 432000] },
      { ...axis, size: 60, values: (u, vals) => vals.map((v) => (metric === 'cost' ? '$' + Number(v.toPrecision(3)) : fmtNum(v))) },
    ],
    series: [
      { value: period === 'today' ? '{HH}:00' : '{YYYY}-{MM}-{DD}' },
      ...SERIES[metric].map(([, label], i) => ({
        label: t(label), stroke: colors[i], width: 2, fill: colors[i] + '22',
        points: { show: period !== '30d' }, value: (u, v) => (v === null ? '—' : fmt(v)),
        paths: uPlot.paths.spline(),
      })),
    ],
  };
}

export function TrendChart({ daily, tz }) {
  const [period, setPeriod] = usePref('dash.period', 'today');
  const [metric, setMetric] = usePref('dash.metric', 'cost');
  const { theme, lang } = useStore(app);
  // today's hours so far, in the server's zone (OCTOPUS_TIMEZONE)
  const hourly = useApi('stats/hourly', { poll: 30000 });
  const box = useRef(null);
  const [failed, setFailed] = useState(null);
  useEffect(() => {
    let chart;
    let observer;
    let gone = false;
    loadUplot().then((uPlot) => {
      if (gone || !box.current) return;
      const data = buildData(period, metric, hourly.data, daily, tz);
      chart = new uPlot(chartOptions(uPlot, box.current.clientWidth || 300, metric, period, tz), data, box.current);
      const el = box.current;
      observer = new ResizeObserver(() => chart.setSize({ width: el.clientWidth, height: 240 }));
      observer.observe(el);
    }, setFailed);
    return () => { gone = true; observer?.disconnect(); chart?.destroy(); };
  }, [period, metric, hourly.data, daily, tz, theme, lang]);
  return html`<div class="card">
    <div class="card-title wrap"><h2>${t('dash.trend')}</h2>
      <${Seg} label=${t('dash.period')} value=${period} onChange=${setPeriod}
        options=${[['today', 'dash.today'], ['7d', 'dash.7d'], ['30d', 'dash.30d']].map(([v, k]) => ({ value: v, label: t(k) }))} /></div>
    <div class="row" style="margin-bottom:8px"><${Seg} label=${t('dash.metricLabel')} value=${metric} onChange=${setMetric}
      options=${['cost', 'requests', 'tokens'].map((v) => ({ value: v, label: t('dash.metric.' + v) }))} /></div>
    <${ErrorBox} error=${hourly.error || (failed && { message: t('error.loadPage') })} />
    <div class="chart" ref=${box} role="img" aria-label=${t('dash.trendLabel')}></div>
  </div>`;
}
