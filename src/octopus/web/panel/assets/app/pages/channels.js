// Channels: searchable, sortable cards or list; enable switch; stats; edit; delete; sync now.
import { html, useState } from '../lib.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { usePref } from '../store.js';
import { Icon } from '../icons.js';
import { Badge, Button, Empty, ErrorBox, Modal, SearchInput, Seg, Skeleton, confirmAction, errorText, toast, useAction, useApi } from '../ui.js';
import { fmtCost, fmtMs, fmtNum, fmtTime, metrics, successRate } from '../format.js';
import { splitModels, typeInfo } from './channel_types.js';
import { ChannelForm } from './channel_form.js';

export function TypeIcon({ type }) {
  const info = typeInfo(type);
  return html`<span class="type-icon" style=${`background:${info.color}`} title=${info.label} aria-hidden="true">${info.short}</span>`;
}

const keyList = (ch) => (Array.isArray(ch.keys) ? ch.keys : []);

function KeySummary({ ch }) {
  const keys = keyList(ch);
  const off = keys.filter((k) => k.enabled === false || k.disabled_reason || k.resting_reason);
  if (!keys.length) return null;
  return html`<${Badge} kind=${off.length ? 'warn' : ''} title=${off.map((k) => k.disabled_reason || k.resting_reason).filter(Boolean).join('\n')}>
    <${Icon} name="key" size="12" />${t('channels.keyCount', { n: keys.length })}${off.length ? ' · ' + t('channels.keysOff', { n: off.length }) : ''}<//>`;
}

function EnableSwitch({ ch, onChanged }) {
  const [run, busy] = useAction();
  const toggle = (e) => run(async () => {
    const enabled = e.currentTarget.checked;
    try {
      await api('channel/enable', { method: 'POST', body: { id: ch.id, enabled } });
      onChanged({ ...ch, enabled });
    } catch (err) {
      toast(errorText(err), 'err');
    }
  });
  return html`<label class="switch" title=${t('common.enabled')}>
    <input type="checkbox" role="switch" checked=${ch.enabled !== false} disabled=${busy} onChange=${toggle}
      aria-label=${t('channels.enableNamed', { name: ch.name })} /></label>`;
}

function ChannelCard({ ch, onEdit, onDetail, onChanged }) {
  const m = metrics(ch.stats);
  const models = splitModels([ch.custom_model, ch.model].filter(Boolean).join(','));
  const rate = successRate(m.ok, m.failed);
  return html`<article class="card col" style="gap:12px" aria-label=${ch.name}>
    <div class="entity-head"><${TypeIcon} type=${ch.type} />
      <div class="grow"><h3 class="ellipsis">${ch.name}</h3><div class="hint ellipsis">${typeInfo(ch.type).label} · ${ch.base_url}</div></div>
      <${EnableSwitch} ch=${ch} onChanged=${onChanged} /></div>
    <div class="kv">
      <div><span>${t('dash.requests')}</span><b>${fmtNum(m.requests)}</b></div>
      <div><span>${t('dash.cost')}</span><b>${fmtCost(m.cost)}</b></div>
      <div><span>${t('dash.successRate')}</span><b>${rate === null ? '—' : rate + '%'}</b></div>
    </div>
    <div class="row wrap"><${Badge}>${t('channels.modelCount', { n: models.length })}<//><${KeySummary} ch=${ch} />
      ${ch.auto_sync && html`<${Badge} kind="info">${t('channels.autoSync')}<//>`}${ch.proxy && html`<${Badge}>${t('channels.proxy')}<//>`}</div>
    <div class="row" style="justify-content:flex-end">
      <${Button} size="sm" kind="ghost" icon="eye" label=${t('common.details')} onClick=${onDetail} />
      <${Button} size="sm" icon="edit" label=${t('common.edit')} onClick=${onEdit} /></div>
  </article>`;
}

function ChannelRow({ ch, onEdit, onDetail, onChanged }) {
  const m = metrics(ch.stats);
  return html`<div class="list-row"><${TypeIcon} type=${ch.type} />
    <div class="grow"><div class="ellipsis" style="font-weight:600">${ch.name}</div><div class="hint ellipsis">${ch.base_url}</div></div>
    <span class="hide-mobile num">${fmtNum(m.requests)}</span><span class="hide-mobile num" style="width:80px;text-align:right">${fmtCost(m.cost)}</span>
    <${EnableSwitch} ch=${ch} onChanged=${onChanged} />
    <${Button} size="sm" kind="ghost" icon="eye" aria-label=${t('common.details') + ' ' + ch.name} onClick=${onDetail} />
    <${Button} size="sm" kind="ghost" icon="edit" aria-label=${t('common.edit') + ' ' + ch.name} onClick=${onEdit} /></div>`;
}

function ChannelDetail({ ch, onClose, onEdit, onDeleted, onCopied }) {
  const [run, busy, error] = useAction();
  // Go #111: the same channel again (keys included) under a new name, to edit from there
  const copy = () => run(async () => {
    const made = await api('channel/copy/' + ch.id, { method: 'POST', body: {} });
    toast(t('channels.copied', { name: made.name }));
    onCopied(made);
  });
  const m = metrics(ch.stats);
  const models = splitModels([ch.custom_model, ch.model].filter(Boolean).join(','));
  const remove = async () => {
    const ok = await confirmAction({ title: t('channels.deleteTitle'), text: t('channels.deleteText', { name: ch.name }), confirm: t('common.delete') });
    if (ok) await run(async () => { await api('channel/delete/' + ch.id, { method: 'DELETE' }); toast(t('common.deleted')); onDeleted(ch); });
  };
  const rows = [['dash.requests', fmtNum(m.requests)], ['dash.success', fmtNum(m.ok)], ['dash.failed', fmtNum(m.failed)],
    ['dash.tokens', fmtNum(m.tokens)], ['dash.inputTokens', fmtNum(m.input)], ['dash.outputTokens', fmtNum(m.output)],
    ['dash.cost', fmtCost(m.cost)], ['dash.inputCost', fmtCost(m.inCost)], ['dash.outputCost', fmtCost(m.outCost)], ['dash.time', fmtMs(m.wait)]];
  return html`<${Modal} open title=${ch.name} onClose=${onClose} footer=${html`
      <${Button} kind="danger" icon="trash" busy=${busy} label=${t('common.delete')} onClick=${remove} />
      <span class="grow"></span><${Button} icon="plus" busy=${busy} label=${t('channels.copy')} onClick=${copy} />
      <${Button} kind="primary" icon="edit" label=${t('common.edit')} onClick=${onEdit} />`}>
    <div class="col">
      <${ErrorBox} error=${error} />
      <div class="kv">${rows.map(([k, v]) => html`<div key=${k}><span>${t(k)}</span><b>${v}</b></div>`)}</div>
      <h3>${t('channels.keys')}</h3>
      ${keyList(ch).length ? html`<div class="list">${keyList(ch).map((k, i) => html`<div class="list-row" key=${k.id || i}>
          <code class="grow ellipsis">${k.key}</code>${k.disabled_reason && html`<span class="hint">${k.disabled_reason}</span>`}${k.resting_reason && html`<span class="hint">${k.resting_reason} (${k.resting_seconds}s)</span>`}
          <${Badge} kind=${k.enabled === false ? 'err' : 'ok'} dot>${k.enabled === false ? t('common.disabled') : t('common.enabled')}<//></div>`)}</div>`
        : html`<span class="muted">—</span>`}
      <h3>${t('channels.models')} (${models.length})</h3>
      <div class="chips">${models.map((x) => html`<span class="chip" style="padding-right:9px" key=${x}>${x}</span>`)}</div>
    </div>
  <//>`;
}

function matches(ch, q, filter) {
  if (filter === 'enabled' && ch.enabled === false) return false;
  if (filter === 'disabled' && ch.enabled !== false) return false;
  if (!q) return true;
  const hay = [ch.name, ch.base_url, ch.type, ch.model, ch.custom_model].join(' ').toLowerCase();
  return hay.includes(q.toLowerCase());
}

const SORTERS = {
  name: (a, b) => a.name.localeCompare(b.name),
  created: (a, b) => a.id - b.id,
  requests: (a, b) => metrics(b.stats).requests - metrics(a.stats).requests,
  cost: (a, b) => metrics(b.stats).cost - metrics(a.stats).cost,
};

function SyncButton({ onDone }) {
  const last = useApi('channel/last-sync-time');
  const [run, busy] = useAction();
  const sync = () => run(async () => {
    try {
      await api('channel/sync', { method: 'POST' });
      toast(t('channels.synced'));
      last.reload();
      onDone();
    } catch (err) {
      toast(errorText(err), 'err');
    }
  });
  return html`<${Button} icon="sync" busy=${busy} label=${busy ? t('channels.syncing') : t('channels.syncNow')}
    title=${t('channels.lastSync', { time: fmtTime(last.data) })} onClick=${sync} />`;
}

export default function Channels() {
  const list = useApi('channel/list', { poll: 30000 });
  const [q, setQ] = useState('');
  const [filter, setFilter] = usePref('channels.filter', 'all');
  const [sort, setSort] = usePref('channels.sort', 'created');
  const [layout, setLayout] = usePref('channels.layout', 'grid');
  const [editing, setEditing] = useState(null);
  const [detail, setDetail] = useState(null);
  const channels = (list.data || []).filter((c) => matches(c, q, filter)).sort(SORTERS[sort] || SORTERS.created);
  const replace = (ch) => list.setData((d) => (d || []).map((x) => (x.id === ch.id ? { ...x, ...ch } : x)));
  const saved = (ch, isNew) => {
    setEditing(null);
    if (isNew) list.setData((d) => [...(d || []), ch]); else replace(ch);
    list.reload();
  };
  const Item = layout === 'grid' ? ChannelCard : ChannelRow;
  return html`<div>
    <div class="page-head"><h1>${t('nav.channels')}</h1>
      <${SyncButton} onDone=${list.reload} />
      <${Button} kind="primary" icon="plus" label=${t('channels.create')} onClick=${() => setEditing({})} /></div>
    <div class="toolbar">
      <${SearchInput} value=${q} onValue=${setQ} placeholder=${t('channels.search')} />
      <${Seg} label=${t('common.filter')} value=${filter} onChange=${setFilter}
        options=${['all', 'enabled', 'disabled'].map((v) => ({ value: v, label: t('common.' + v) }))} />
      <label class="sr-only" for="ch-sort">${t('common.sort')}</label>
      <select id="ch-sort" class="select" style="width:auto" value=${sort} onChange=${(e) => setSort(e.currentTarget.value)}>
        ${Object.keys(SORTERS).map((k) => html`<option value=${k} key=${k}>${t('channels.sort.' + k)}</option>`)}</select>
      <${Seg} label=${t('common.layout')} value=${layout} onChange=${setLayout}
        options=${[{ value: 'grid', label: t('common.cards') }, { value: 'list', label: t('common.list') }]} />
    </div>
    <${ErrorBox} error=${list.error} onRetry=${list.reload} />
    ${list.data === undefined && !list.error ? html`<${Skeleton} />`
      : !list.data?.length ? html`<${Empty} icon="channel" title=${t('channels.emptyTitle')} text=${t('channels.emptyText')}
          action=${html`<${Button} kind="primary" icon="plus" label=${t('channels.create')} onClick=${() => setEditing({})} />`} />`
      : !channels.length ? html`<${Empty} icon="search" title=${t('common.noMatch')} text=${t('common.noMatchHint')} />`
      : html`<div class=${layout === 'grid' ? 'grid' : 'list'}>${channels.map((ch) => html`<${Item} key=${ch.id} ch=${ch}
          onChanged=${replace} onEdit=${() => setEditing(ch)} onDetail=${() => setDetail(ch)} />`)}</div>`}
    ${editing && html`<${ChannelForm} channel=${editing} onClose=${() => setEditing(null)} onSaved=${saved} />`}
    ${detail && html`<${ChannelDetail} ch=${detail} onClose=${() => setDetail(null)}
      onEdit=${() => { setEditing(detail); setDetail(null); }}
      onDeleted=${(ch) => { setDetail(null); list.setData((d) => d.filter((x) => x.id !== ch.id)); }}
      onCopied=${(ch) => { setDetail(null); list.setData((d) => [...(d || []), ch]); setEditing(ch); }} />`}
  </div>`;
}
