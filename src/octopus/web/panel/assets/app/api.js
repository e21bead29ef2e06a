// The JSON admin API over relative URLs (works under a sub-path), unwrapping {code, message, data}.
import { app } from './store.js';

export class ApiError extends Error {
  constructor(status, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
  }
}

function buildUrl(path, query) {
  let url = 'api/v1/' + path;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') params.set(k, v);
    }
    const qs = params.toString();
    if (qs) url += (url.includes('?') ? '&' : '?') + qs;
  }
  return url;
}

async function readEnvelope(res) {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 300) };
  }
}

export async function api(path, { method = 'GET', body, query, bearer, signal } = {}) {
  const headers = {};
  let payload = body;
  if (body !== undefined && !(body instanceof FormData)) payload = JSON.stringify(body);
  // the server refuses admin POSTs that are not JSON (a cross-site form cannot send JSON)
  if (method !== 'GET' && !(body instanceof FormData)) headers['Content-Type'] = 'application/json';
  if (bearer) headers.Authorization = 'Bearer ' + bearer;
  let res;
  try {
    res = await fetch(buildUrl(path, query), { method, headers, body: payload, credentials: 'same-origin', signal });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network');
  }
  if (res.status === 204) return null;
  const env = await readEnvelope(res);
  if (!res.ok || (env && typeof env.code === 'number' && env.code !== 200)) {
    const status = res.ok ? env.code : res.status;
    if (status === 401 && !bearer && app.get().session === 'admin') app.set({ session: 'none' });
    throw new ApiError(status, env?.message);
  }
  return env && 'data' in env ? env.data : null;
}

// Download a file from a GET route (export) keeping the server's file name.
export async function download(path, query, fallbackName) {
  const res = await fetch(buildUrl(path, query), { credentials: 'same-origin' });
  if (!res.ok) {
    const env = await readEnvelope(res);
    throw new ApiError(res.status, env?.message);
  }
  const disposition = res.headers.get('Content-Disposition') || '';
  const name = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition)?.[1] || fallbackName;
  const url = URL.createObjectURL(await res.blob());
  const a = Object.assign(document.createElement('a'), { href: url, download: decodeURIComponent(name) });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
  return name;
}

// Server-sent events with the cookie; onState gets 'open' | 'reconnecting'. Returns a closer.
export function subscribe(path, event, onData, onState, others = {}) {
  let source;
  let closed = false;
  let retry;
  const connect = () => {
    source = new EventSource(buildUrl(path));
    source.addEventListener('open', () => onState?.('open'));
    source.addEventListener(event, (e) => {
      try {
        onData(JSON.parse(e.data));
      } catch {
        // a malformed event is skipped; the next snapshot repairs the view
      }
    });
    for (const [name, handle] of Object.entries(others)) {
      source.addEventListener(name, (e) => {
        try {
          handle(JSON.parse(e.data));
        } catch {
          // as above: a malformed event is skipped
        }
      });
    }
    source.addEventListener('error', () => {
      if (closed) return;
      onState?.('reconnecting');
      if (source.readyState === EventSource.CLOSED) {
        clearTimeout(retry);
        retry = setTimeout(connect, 2000);
      }
    });
  };
  connect();
  return () => {
    closed = true;
    clearTimeout(retry);
    source?.close();
  };
}
