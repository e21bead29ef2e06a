// Number, money, duration and time formatting shared by every page.
import { app } from './store.js';

const locale = () => ({ en: 'en-US', 'zh-Hans': 'zh-CN', 'zh-Hant': 'zh-TW' })[app.get().lang] || 'en-US';

export function fmtNum(n) {
  const v = Number(n) || 0;
  const abs = Math.abs(v);
  if (abs >= 1e9) return (v / 1e9).toFixed(abs >= 1e10 ? 1 : 2).replace(/\.0+$/, '') + 'B';
  if (abs >= 1e6) return (v / 1e6).toFixed(abs >= 1e7 ? 1 : 2).replace(/\.0+$/, '') + 'M';
  if (abs >= 1e4) return (v / 1e3).toFixed(1).replace(/\.0$/, '') + 'K';
  return v.toLocaleString(locale());
}

export function fmtInt(n) {
  return (Number(n) || 0).toLocaleString(locale());
}

export function fmtCost(n) {
  const v = Number(n) || 0;
  if (v === 0) return '$0';
  if (Math.abs(v) < 0.01) return '$' + Number(v.toPrecision(2));
  if (Math.abs(v) >= 1e4) return '$' + fmtNum(v);
  return '$' + v.toFixed(2);
}

export function fmtPrice(n) {
  const v = Number(n) || 0;
  return '$' + (Number.isInteger(v) ? v : parseFloat(v.toFixed(4)));
}

export function fmtMs(ms) {
  const v = Number(ms) || 0;
  if (v < 1000) return Math.round(v) + ' ms';
  if (v < 60e3) return (v / 1000).toFixed(v < 10e3 ? 2 : 1) + ' s';
  if (v < 3600e3) return Math.floor(v / 60e3) + 'm ' + Math.round((v % 60e3) / 1000) + 's';
  if (v < 86400e3) return Math.floor(v / 3600e3) + 'h ' + Math.round((v % 3600e3) / 60e3) + 'm';
  return Math.floor(v / 86400e3) + 'd ' + Math.round((v % 86400e3) / 3600e3) + 'h';
}

// Accepts unix seconds, unix milliseconds or an ISO string.
export function toDate(value) {
  if (value === null || value === undefined || value === '' || value === 0) return null;
  if (typeof value === 'number') return new Date(value < 1e12 ? value * 1000 : value);
  const d = new Date(value);
  return Number.isNaN(d.getTime()) || d.getFullYear() < 1971 ? null : d;
}

export function fmtTime(value) {
  const d = toDate(value);
  return d ? d.toLocaleString(locale(), { hour12: false }) : '—';
}

export function fmtClock(value) {
  const d = toDate(value);
  return d ? d.toLocaleTimeString(locale(), { hour12: false }) : '—';
}

export function fmtDay(value) {
  const d = toDate(value);
  return d ? d.toLocaleDateString(locale()) : '—';
}

export function successRate(ok, failed) {
  const total = (Number(ok) || 0) + (Number(failed) || 0);
  return total ? Math.round((ok / total) * 1000) / 10 : null;
}

export function metrics(s = {}) {
  const input = Number(s.input_token) || 0;
  const output = Number(s.output_token) || 0;
  const inCost = Number(s.input_cost) || 0;
  const outCost = Number(s.output_cost) || 0;
  const ok = Number(s.request_success) || 0;
  const failed = Number(s.request_failed) || 0;
  return {
    input, output, tokens: input + output, inCost, outCost, cost: inCost + outCost,
    ok, failed, requests: ok + failed, wait: Number(s.wait_time) || 0,
  };
}
