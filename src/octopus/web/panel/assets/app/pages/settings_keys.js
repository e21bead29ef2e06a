// API keys: create (shown once), limits, usage, enable, edit, delete.
import { html, useState } from '../lib.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { Badge, Button, CopyButton, Empty, ErrorBox, Modal, Switch, TextField, confirmAction, errorText, toast, useAction, useApi } from '../ui.js';
import { fmtCost, fmtDay, fmtNum, metrics } from '../format.js';

const LIMITS = ['max_rpm', 'max_tpm', 'max_concurrency'];

function toDateInput(unix) {
  if (!unix) return '';
  const d = new Date(unix * 1000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function KeyForm({ apiKey, groups, onClose, onSaved }) {
  const [f, setF] = useState(() => ({
    name: apiKey.name || '', enabled: apiKey.enabled !== false, expire: toDateInput(apiKey.expire_at), max_cost: apiKey.max_cost || '',
    models: String(apiKey.supported_models || '').split(',').map((s) => s.trim()).filter(Boolean), value: '',
    ...Object.fromEntries(LIMITS.map((k) => [k, apiKey[k] || ''])),
  }));
  const [errors, setErrors] = useState({});
  const [run, busy, error] = useAction();
  const set = (patch) => setF((x) => ({ ...x, ...patch }));
  const save = async (e) => {
    e?.preventDefault();
    const errs = {};
    if (!f.name.trim()) errs.name = t('form.required');
    if (f.value && !/^[A-Za-z0-9._-]{32,128}$/.test(f.value)) errs.value = t('keys.valueHint');
    for (const k of ['max_cost', ...LIMITS]) if (f[k] !== '' && !(Number(f[k]) >= 0)) errs[k] = t('form.nonNegative');
    setErrors(errs);
    if (Object.keys(errs).length) return;
    const body = {
      ...(apiKey.id ? { id: apiKey.id } : {}), name: f.name.trim(), enabled: f.enabled,
      expire_at: f.expire ? Math.floor(new Date(f.expire + 'T23:59:59').getTime() / 1000) : 0,
      max_cost: Number(f.max_cost) || 0, supported_models: f.models.join(','),
      ...Object.fromEntries(LIMITS.map((k) => [k, Math.floor(Number(f[k]) || 0)])),
      ...(!apiKey.id && f.value ? { api_key: f.value } : {}),
    };
    const res = await run(() => api(apiKey.id ? 'apikey/update' : 'apikey/create', { method: 'POST', body }));
    if (res !== undefined) onSaved(res || { ...apiKey, ...body });
  };
  const toggleModel = (name) => set({ models: f.models.includes(name) ? f.models.filter((m) => m !== name) : [...f.models, name] });
  return html`<${Modal} open title=${apiKey.id ? t('keys.edit') : t('keys.create')} onClose=${onClose}
    footer=${html`<${Button} label=${t('common.cancel')} onClick=${onClose} /><${Button} kind="primary" busy=${busy} label=${apiKey.id ? t('common.save') : t('common.create')} onClick=${save} />`}>
    <form class="form" onSubmit=${save} novalidate>
      <${TextField} label=${t('keys.name')} value=${f.name} onValue=${(v) => set({ name: v })} error=${errors.name} required />
      ${!apiKey.id && html`<${TextField} label=${t('keys.value')} value=${f.value} onValue=${(v) => set({ value: v.trim() })}
        error=${errors.value} hint=${t('keys.valueHint')} autocomplete="off" />`}
      <div class="form-row">
        <${TextField} label=${t('keys.expiry')} type="date" value=${f.expire} onValue=${(v) => set({ expire: v })} hint=${t('keys.expiryHint')} />
        <${TextField} label=${t('keys.budgetUsd')} type="number" min="0" step="any" value=${f.max_cost} error=${errors.max_cost}
          onValue=${(v) => set({ max_cost: v })} hint=${t('keys.zeroUnlimited')} />
      </div>
      <div class="form-row">${LIMITS.map((k) => html`<${TextField} key=${k} label=${t('keys.' + { max_rpm: 'maxRpm', max_tpm: 'maxTpm', max_concurrency: 'maxConcurrency' }[k])}
        type="number" min="0" value=${f[k]} error=${errors[k]} onValue=${(v) => set({ [k]: v })} hint=${t('keys.zeroUnlimited')} />`)}</div>
      <fieldset class="col" style="border:0;padding:0;margin:0;gap:8px"><legend class="label" style="margin-bottom:6px">${t('keys.models')}</legend>
        <span class="hint">${t('keys.modelsHint')}</span>
        <div class="chips">${groups.length ? groups.map((g) => html`<label class="chip check" style="padding-right:9px" key=${g}>
          <input type="checkbox" checked=${f.models.includes(g)} onChange=${() => toggleModel(g)} />${g}</label>`) : html`<span class="hint">${t('keys.noGroups')}</span>`}</div>
      </fieldset>
      <${Switch} label=${t('common.enabled')} checked=${f.enabled} onChange=${(v) => set({ enabled: v })} />
      <${ErrorBox} error=${error} /><button type="submit" hidden></button>
    </form><//>`;
}

function Created({ apiKey, onClose }) {
  return html`<${Modal} open size="narrow" title=${t('keys.createdTitle')} onClose=${onClose}
    footer=${html`<${Button} kind="primary" label=${t('keys.copiedDone')} onClick=${onClose} />`}>
    <div class="col"><div class="alert warn">${t('keys.copyOnce')}</div>
      <div class="secret" data-testid="new-api-key">${apiKey.api_key}</div>
      <div><${CopyButton} text=${apiKey.api_key} label=${t('keys.copyKey')} size="" /></div>
      <span class="hint">${t('keys.useHint')}</span></div><//>`;
}

function KeyRow({ k, stats, onEdit, onChanged, onDeleted }) {
  const m = metrics(stats);
  const expired = k.expire_at && k.expire_at * 1000 < Date.now();
  const toggle = async (enabled) => {
    try {
      const res = await api('apikey/update', { method: 'POST', body: { ...k, enabled } });
      onChanged(res || { ...k, enabled });
    } catch (err) {
      toast(errorText(err), 'err');
    }
  };
  const remove = async () => {
    if (!(await confirmAction({ title: t('keys.deleteTitle'), text: t('keys.deleteText', { name: k.name }), confirm: t('common.delete') }))) return;
    try {
      await api('apikey/delete/' + k.id, { method: 'DELETE' });
      onDeleted(k);
      toast(t('common.deleted'));
    } catch (err) {
      toast(errorText(err), 'err');
    }
  };
  return html`<div class="list-row" style="align-items:flex-start">
    <div class="grow col" style="gap:4px;min-width:0">
      <div class="row wrap"><b>${k.name}</b><code class="hint">${k.api_key_prefix || ''}</code>
        ${expired ? html`<${Badge} kind="err">${t('keys.expired')}<//>` : k.expire_at ? html`<${Badge}>${t('keys.until', { date: fmtDay(k.expire_at) })}<//>` : null}</div>
      <div class="hint row wrap" style="gap:12px"><span>${t('dash.requests')} ${fmtNum(m.requests)}</span><span>${t('dash.tokens')} ${fmtNum(m.tokens)}</span>
        <span>${fmtCost(m.cost)}${k.max_cost ? ' / ' + fmtCost(k.max_cost) : ''}</span>
        ${LIMITS.filter((x) => k[x]).map((x) => html`<span key=${x}>${t('keys.short.' + x, { n: k[x] })}</span>`)}
        ${k.supported_models && html`<span class="ellipsis" style="max-width:240px">${k.supported_models}</span>`}</div>
    </div>
    <label class="switch"><input type="checkbox" role="switch" checked=${k.enabled !== false} onChange=${(e) => toggle(e.currentTarget.checked)}
      aria-label=${t('keys.enableNamed', { name: k.name })} /></label>
    <${Button} size="sm" kind="ghost" icon="edit" aria-label=${t('common.edit') + ' ' + k.name} onClick=${onEdit} />
    <${Button} size="sm" kind="ghost" icon="trash" aria-label=${t('common.delete') + ' ' + k.name} onClick=${remove} />
  </div>`;
}

export function ApiKeysCard() {
  const list = useApi('apikey/list');
  const stats = useApi('stats/apikey');
  const groups = useApi('group/list');
  const [editing, setEditing] = useState(null);
  const [created, setCreated] = useState(null);
  const byKey = new Map((stats.data || []).map((s) => [s.api_key_id, s]));
  const saved = (k) => {
    const isNew = !editing.id;
    setEditing(null);
    if (isNew) { setCreated(k); list.setData((d) => [...(d || []), k]); } else list.setData((d) => d.map((x) => (x.id === k.id ? k : x)));
    toast(isNew ? t('common.created') : t('common.saved'));
  };
  return html`<section class="card col" aria-labelledby="keys-title">
    <div class="card-title"><h2 id="keys-title">${t('settings.apiKeys')}</h2>
      <${Button} size="sm" kind="primary" icon="plus" label=${t('keys.create')} onClick=${() => setEditing({})} /></div>
    <${ErrorBox} error=${list.error} onRetry=${list.reload} />
    ${list.data && (list.data.length ? html`<div class="list">${list.data.map((k) => html`<${KeyRow} key=${k.id} k=${k} stats=${byKey.get(k.id)}
        onEdit=${() => setEditing(k)} onChanged=${(x) => list.setData((d) => d.map((y) => (y.id === x.id ? x : y)))}
        onDeleted=${(x) => list.setData((d) => d.filter((y) => y.id !== x.id))} />`)}</div>`
      : html`<${Empty} icon="key" title=${t('keys.emptyTitle')} text=${t('keys.emptyText')} />`)}
    ${editing && html`<${KeyForm} apiKey=${editing} groups=${(groups.data || []).map((g) => g.name)} onClose=${() => setEditing(null)} onSaved=${saved} />`}
    ${created && html`<${Created} apiKey=${created} onClose=${() => setCreated(null)} />`}
  </section>`;
}
