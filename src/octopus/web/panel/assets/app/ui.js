// Shared building blocks: buttons, fields, dialogs, confirmations, toasts, empty states, data hooks.
import { html, useEffect, useId, useRef, useState, useCallback } from './lib.js';
import { Icon } from './icons.js';
import { api } from './api.js';
import { t } from './i18n.js';
import { app, useStore } from './store.js';

const KNOWN = {
  'Authentication failed': 'error.auth',
  'Invalid JSON format': 'error.json',
  'Resource already exists': 'error.exists',
  'Resource not found': 'error.notFound',
  'Input validation failed': 'error.validation',
};

export function errorText(err) {
  if (!err) return '';
  if (err.status === 0) return t('error.network');
  const msg = err.message || '';
  if (KNOWN[msg]) return t(KNOWN[msg]);
  return msg || t('error.unknown');
}

export function Button({ kind = '', size = '', icon, busy, label, children, class: cls = '', ...rest }) {
  const classes = ['btn', kind, size, !children && !label && icon ? 'icon' : '', cls].filter(Boolean).join(' ');
  return html`<button type="button" class=${classes} disabled=${busy || rest.disabled} aria-busy=${busy ? 'true' : undefined} ...${rest}>
    ${busy ? html`<span class="spinner" aria-hidden="true"></span>` : icon && html`<${Icon} name=${icon} />`}
    ${label && html`<span class="label-text">${label}</span>`}${children}
  </button>`;
}

export function Field({ label, hint, error, children, id }) {
  return html`<div class="field">
    ${label && html`<label for=${id}>${label}</label>`}
    ${children}
    ${error ? html`<div class="field-error" id=${id + '-err'} role="alert"><${Icon} name="alert" size="14" />${error}</div>`
      : hint && html`<div class="hint" id=${id + '-hint'}>${hint}</div>`}
  </div>`;
}

export function TextField({ label, hint, error, value, onValue, multiline, ...rest }) {
  const id = useId();
  const Tag = multiline ? 'textarea' : 'input';
  const described = error ? id + '-err' : hint ? id + '-hint' : undefined;
  return html`<${Field} label=${label} hint=${hint} error=${error} id=${id}>
    <${Tag} id=${id} class=${multiline ? 'textarea' : 'input'} value=${value ?? ''}
      aria-invalid=${error ? 'true' : undefined} aria-describedby=${described}
      onInput=${(e) => onValue?.(e.currentTarget.value)} ...${rest} />
  <//>`;
}

export function SelectField({ label, hint, value, onValue, options, ...rest }) {
  const id = useId();
  return html`<${Field} label=${label} hint=${hint} id=${id}>
    <select id=${id} class="select" value=${value} onChange=${(e) => onValue(e.currentTarget.value)} ...${rest}>
      ${options.map((o) => html`<option value=${o.value} key=${o.value}>${o.label}</option>`)}
    </select>
  <//>`;
}

export function Switch({ label, checked, onChange, hint, disabled }) {
  return html`<label class="switch">
    <input type="checkbox" role="switch" checked=${!!checked} disabled=${disabled}
      onChange=${(e) => onChange(e.currentTarget.checked)} />
    <span>${label}${hint && html`<span class="hint" style="display:block">${hint}</span>`}</span>
  </label>`;
}

export function Seg({ value, options, onChange, label }) {
  return html`<div class="seg" role="group" aria-label=${label}>
    ${options.map((o) => html`<button type="button" key=${o.value} aria-pressed=${String(o.value === value)}
      onClick=${() => onChange(o.value)}>${o.label}</button>`)}
  </div>`;
}

export function Badge({ kind = '', dot, live, children, title }) {
  return html`<span class=${`badge ${kind} ${live ? 'live' : ''}`} title=${title}>${dot && html`<i class="dot"></i>`}${children}</span>`;
}

export function Empty({ icon = 'sparkle', title, text, action }) {
  return html`<div class="empty"><${Icon} name=${icon} /><strong>${title}</strong>${text && html`<span>${text}</span>`}${action}</div>`;
}

export function ErrorBox({ error, onRetry }) {
  if (!error) return null;
  return html`<div class="alert" role="alert"><${Icon} name="alert" size="16" />
    <span class="grow">${errorText(error)}</span>
    ${onRetry && html`<button type="button" class="btn sm" onClick=${onRetry}>${t('common.retry')}</button>`}
  </div>`;
}

export function Progress({ label }) {
  return html`<div class="col" role="status" aria-live="polite" style="gap:6px"><div class="progress"><i></i></div>
    ${label && html`<span class="hint">${label}</span>`}</div>`;
}

export function Modal({ open, onClose, title, size = '', children, footer }) {
  const ref = useRef(null);
  const titleId = useId();
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (open && !el.open) {
      el.showModal();
      // start in the first field rather than on the close button
      el.querySelector('.modal-body :is(input:not([type=hidden]):not([hidden]), select, textarea)')?.focus();
    }
    if (!open && el.open) el.close();
  }, [open]);
  if (!open) return html`<dialog ref=${ref} class="modal"></dialog>`;
  return html`<dialog ref=${ref} class=${`modal ${size}`} aria-labelledby=${titleId}
      onCancel=${(e) => { e.preventDefault(); onClose(); }}>
    <div class="modal-head"><h2 id=${titleId}>${title}</h2>
      <${Button} kind="ghost" icon="close" aria-label=${t('common.close')} onClick=${onClose} /></div>
    <div class="modal-body">${children}</div>
    ${footer && html`<div class="modal-foot">${footer}</div>`}
  </dialog>`;
}

// Promise-based confirmation for destructive actions: `if (await confirmAction({...})) ...`.
export function confirmAction({ title, text, confirm, danger = true }) {
  return new Promise((resolve) => {
    app.set({ confirm: { title, text, confirm: confirm || t('common.confirm'), danger, resolve } });
  });
}

export function ConfirmHost() {
  const { confirm } = useStore(app);
  const done = (ok) => {
    confirm.resolve(ok);
    app.set({ confirm: null });
  };
  return html`<${Modal} open=${!!confirm} size="narrow" title=${confirm?.title} onClose=${() => done(false)}
    footer=${confirm && html`<${Button} onClick=${() => done(false)} label=${t('common.cancel')} />
      <${Button} kind=${confirm.danger ? 'danger solid' : 'primary'} onClick=${() => done(true)} label=${confirm.confirm} autofocus />`}>
    <p style="margin:0">${confirm?.text}</p>
  <//>`;
}

let toastId = 0;
export function toast(text, kind = 'ok') {
  const id = ++toastId;
  app.set({ toasts: [...app.get().toasts, { id, text, kind }] });
  setTimeout(() => app.set({ toasts: app.get().toasts.filter((x) => x.id !== id) }), kind === 'err' ? 6000 : 3200);
}

export function ToastHost() {
  const { toasts } = useStore(app);
  return html`<div class="toasts" role="status" aria-live="polite">
    ${toasts.map((x) => html`<div key=${x.id} class=${`toast ${x.kind}`}><${Icon} name=${x.kind === 'err' ? 'alert' : 'check'} size="16" />${x.text}</div>`)}
  </div>`;
}

export function CopyButton({ text, label, size = 'sm' }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const ta = Object.assign(document.createElement('textarea'), { value: text });
      document.body.append(ta);
      ta.select();
      document.execCommand('copy');
      ta.remove();
    }
    setDone(true);
    setTimeout(() => setDone(false), 1500);
  };
  return html`<${Button} size=${size} kind="ghost" icon=${done ? 'check' : 'copy'} label=${label}
    aria-label=${label || t('common.copy')} title=${t('common.copy')} onClick=${copy} />`;
}

// Load `path` from the admin API; reload() refetches, setData() updates locally after a write.
export function useApi(path, { query, poll, bearer } = {}) {
  const [state, setState] = useState({ data: undefined, error: null, loading: true });
  const key = path + JSON.stringify(query || {});
  const reload = useCallback(async () => {
    setState((s) => ({ ...s, loading: true }));
    try {
      const data = await api(path, { query, bearer });
      setState({ data, error: null, loading: false });
    } catch (error) {
      setState((s) => ({ ...s, error, loading: false }));
    }
  }, [key]);
  useEffect(() => {
    if (!path) return undefined;
    reload();
    if (!poll) return undefined;
    const timer = setInterval(() => document.visibilityState === 'visible' && reload(), poll);
    return () => clearInterval(timer);
  }, [key]);
  const setData = (fn) => setState((s) => ({ ...s, data: typeof fn === 'function' ? fn(s.data) : fn }));
  return { ...state, reload, setData };
}

// Run an async action with busy and error state: const [run, busy, error] = useAction().
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = async (fn) => {
    setBusy(true);
    setError(null);
    try {
      return await fn();
    } catch (err) {
      setError(err);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return [run, busy, error, setError];
}

export function Skeleton({ count = 3, height = 120 }) {
  return html`<div class="grid" aria-busy="true">${Array.from({ length: count }, (_, i) =>
    html`<div key=${i} class="skeleton" style=${`height:${height}px`}></div>`)}</div>`;
}

export function SearchInput({ value, onValue, placeholder }) {
  return html`<label class="search" style="position:relative;display:block">
    <span class="sr-only">${placeholder}</span>
    <span style="position:absolute;left:11px;top:10px;color:var(--faint)"><${Icon} name="search" size="17" /></span>
    <input class="input" type="search" style="padding-left:36px" placeholder=${placeholder} value=${value}
      onInput=${(e) => onValue(e.currentTarget.value)} />
  </label>`;
}
