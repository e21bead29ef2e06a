// Models and prices (USD per 1M tokens): search, priced filter, inline edit, create, refresh from models.dev.
import { html, useState } from '../lib.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { usePref } from '../store.js';
import { Badge, Button, Empty, ErrorBox, Modal, Progress, SearchInput, Seg, Skeleton, TextField, confirmAction, errorText, toast, useAction, useApi } from '../ui.js';
import { fmtPrice, fmtTime } from '../format.js';

const PRICE_FIELDS = ['input', 'output', 'cache_read', 'cache_write'];
const priced = (m) => PRICE_FIELDS.some((k) => Number(m[k]) > 0);

function PriceInputs({ value, onChange, errors = {} }) {
  return html`<div class="form-row">${PRICE_FIELDS.map((k) => html`<${TextField} key=${k} type="number" min="0" step="any"
    label=${t('models.' + k)} value=${value[k]} error=${errors[k]} onValue=${(v) => onChange({ ...value, [k]: v })} />`)}</div>`;
}

function checkPrices(v) {
  const errors = {};
  for (const k of PRICE_FIELDS) if (v[k] === '' || Number.isNaN(Number(v[k])) || Number(v[k]) < 0) errors[k] = t('models.badPrice');
  return errors;
}

const numeric = (v) => Object.fromEntries(PRICE_FIELDS.map((k) => [k, Number(v[k])]));

function EditRow({ model, onDone, onCancel }) {
  const [v, setV] = useState(() => Object.fromEntries(PRICE_FIELDS.map((k) => [k, model[k] ?? 0])));
  const [run, busy, error] = useAction();
  const errors = checkPrices(v);
  const save = () => run(async () => {
    const res = await api('model/update', { method: 'POST', body: { name: model.name, ...numeric(v) } });
    toast(t('common.saved'));
    onDone(res || { ...model, ...numeric(v), manual: true });
  });
  return html`<tr><td><b>${model.name}</b>${error && html`<div class="field-error" role="alert">${errorText(error)}</div>`}</td>
    ${PRICE_FIELDS.map((k) => html`<td key=${k} data-label=${t('models.' + k)}><input class="input" type="number" min="0" step="any" value=${v[k]}
      aria-label=${t('models.' + k) + ' ' + model.name} aria-invalid=${errors[k] ? 'true' : undefined}
      onInput=${(e) => setV({ ...v, [k]: e.currentTarget.value })}
      onKeyDown=${(e) => { if (e.key === 'Enter') save(); if (e.key === 'Escape') onCancel(); }} /></td>`)}
    <td class="hide-mobile"></td>
    <td style="white-space:nowrap"><${Button} size="sm" kind="primary" busy=${busy} disabled=${Object.keys(errors).length > 0} label=${t('common.save')} onClick=${save} />
      <${Button} size="sm" kind="ghost" label=${t('common.cancel')} onClick=${onCancel} /></td></tr>`;
}

function CreateDialog({ onClose, onCreated }) {
  const [name, setName] = useState('');
  const [v, setV] = useState({ input: 0, output: 0, cache_read: 0, cache_write: 0 });
  const [run, busy, error] = useAction();
  const [errors, setErrors] = useState({});
  const save = async (e) => {
    e?.preventDefault();
    const errs = checkPrices(v);
    if (!name.trim()) errs.name = t('form.required');
    setErrors(errs);
    if (Object.keys(errs).length) return;
    const res = await run(() => api('model/create', { method: 'POST', body: { name: name.trim().toLowerCase(), ...numeric(v) } }));
    if (res !== undefined) { toast(t('common.created')); onCreated(res || { name: name.trim().toLowerCase(), ...numeric(v) }); }
  };
  return html`<${Modal} open title=${t('models.create')} onClose=${onClose} footer=${html`<${Button} label=${t('common.cancel')} onClick=${onClose} />
      <${Button} kind="primary" busy=${busy} label=${t('common.create')} onClick=${save} />`}>
    <form class="form" onSubmit=${save} novalidate>
      <${TextField} label=${t('models.name')} value=${name} onValue=${setName} error=${errors.name} hint=${t('models.nameHint')} required />
      <${PriceInputs} value=${v} onChange=${setV} errors=${errors} />
      <${ErrorBox} error=${error} /><button type="submit" hidden></button>
    </form><//>`;
}

function RefreshBar({ onDone }) {
  const last = useApi('model/last-update-time');
  const [run, busy, error] = useAction();
  const refresh = () => run(async () => {
    await api('model/update-price', { method: 'POST', body: {} });
    toast(t('models.refreshed'));
    last.reload();
    onDone();
  });
  // Go's rebuild-price: every price back to models.dev, so it asks first
  const rebuild = async () => {
    if (!(await confirmAction({ title: t('models.rebuildTitle'), text: t('models.rebuildText'), confirm: t('models.rebuild') }))) return;
    await run(async () => {
      const res = await api('model/rebuild-price', { method: 'POST', body: {} });
      toast(t('models.rebuilt', { n: res?.count ?? 0 }));
      onDone();
    });
  };
  return html`<div class="col" style="gap:6px;margin-bottom:14px">
    <div class="row wrap"><span class="hint grow" style="min-width:220px">${t('models.lastRefresh', { time: fmtTime(last.data) })}</span>
      <${Button} icon="refresh" busy=${busy} label=${busy ? t('models.refreshing') : t('models.refresh')} onClick=${refresh} />
      <${Button} kind="ghost" disabled=${busy} label=${t('models.rebuild')} onClick=${rebuild} /></div>
    ${busy && html`<${Progress} />`}<${ErrorBox} error=${error} /></div>`;
}

export default function Models() {
  const list = useApi('model/list');
  const usage = useApi('model/channel');
  const [q, setQ] = useState('');
  const [filter, setFilter] = usePref('models.filter', 'all');
  const [editing, setEditing] = useState(null);
  const [creating, setCreating] = useState(false);
  const [limit, setLimit] = useState(100);
  const usedBy = new Map();
  for (const m of usage.data || []) usedBy.set(m.name.toLowerCase(), [...(usedBy.get(m.name.toLowerCase()) || []), m.channel_name]);
  const rows = (list.data || []).filter((m) => (filter === 'priced' ? priced(m) : filter === 'unpriced' ? !priced(m) : true))
    .filter((m) => !q || m.name.toLowerCase().includes(q.toLowerCase())).sort((a, b) => a.name.localeCompare(b.name));
  const replace = (m) => { setEditing(null); list.setData((d) => d.map((x) => (x.name === m.name ? { ...x, ...m } : x))); };
  const remove = async (m) => {
    if (!(await confirmAction({ title: t('models.deleteTitle'), text: t('models.deleteText', { name: m.name }), confirm: t('common.delete') }))) return;
    try {
      await api('model/delete', { method: 'POST', body: { name: m.name } });
      list.setData((d) => d.filter((x) => x.name !== m.name));
      toast(t('common.deleted'));
    } catch (err) {
      toast(errorText(err), 'err');
    }
  };
  return html`<div>
    <div class="page-head"><h1>${t('nav.models')}</h1><${Button} kind="primary" icon="plus" label=${t('models.create')} onClick=${() => setCreating(true)} /></div>
    <${RefreshBar} onDone=${list.reload} />
    <div class="toolbar"><${SearchInput} value=${q} onValue=${setQ} placeholder=${t('models.search')} />
      <${Seg} label=${t('common.filter')} value=${filter} onChange=${setFilter}
        options=${['all', 'priced', 'unpriced'].map((v) => ({ value: v, label: t('models.filter.' + v) }))} />
      <span class="hint">${t('models.unit')}</span></div>
    <${ErrorBox} error=${list.error} onRetry=${list.reload} />
    ${list.data === undefined && !list.error ? html`<${Skeleton} count=${1} height=${300} />`
      : !list.data?.length ? html`<${Empty} icon="model" title=${t('models.emptyTitle')} text=${t('models.emptyText')} />`
      : !rows.length ? html`<${Empty} icon="search" title=${t('common.noMatch')} text=${t('common.noMatchHint')} />`
      : html`<div class="table-wrap"><table class="table stack-mobile"><thead><tr><th scope="col">${t('models.name')}</th>
          ${PRICE_FIELDS.map((k) => html`<th scope="col" key=${k}>${t('models.' + k)}</th>`)}<th scope="col" class="hide-mobile">${t('models.usedBy')}</th><th scope="col"><span class="sr-only">${t('common.actions')}</span></th></tr></thead>
        <tbody>${rows.slice(0, limit).map((m) => (editing === m.name ? html`<${EditRow} key=${m.name} model=${m} onDone=${replace} onCancel=${() => setEditing(null)} />`
          : html`<tr key=${m.name}><td><div class="row"><span class="ellipsis" style="max-width:260px;font-weight:560">${m.name}</span>
              ${!priced(m) && html`<${Badge} kind="warn">${t('models.noPrice')}<//>`}${m.manual && html`<${Badge}>${t('models.manual')}<//>`}</div></td>
            ${PRICE_FIELDS.map((k) => html`<td key=${k} class="num" data-label=${t('models.' + k)}>${fmtPrice(m[k])}</td>`)}
            <td class="hide-mobile hint ellipsis" style="max-width:200px">${(usedBy.get(m.name) || []).join(', ') || '—'}</td>
            <td style="white-space:nowrap;text-align:right"><${Button} size="sm" kind="ghost" icon="edit" aria-label=${t('common.edit') + ' ' + m.name} onClick=${() => setEditing(m.name)} />
              <${Button} size="sm" kind="ghost" icon="trash" aria-label=${t('common.delete') + ' ' + m.name} onClick=${() => remove(m)} /></td></tr>`))}</tbody></table></div>
        ${rows.length > limit && html`<div class="pager"><${Button} label=${t('common.showMore', { n: rows.length - limit })} onClick=${() => setLimit(limit + 200)} /></div>`}`}
    ${creating && html`<${CreateDialog} onClose=${() => setCreating(false)} onCreated=${(m) => { setCreating(false); list.setData((d) => [...(d || []), m]); }} />`}
  </div>`;
}
