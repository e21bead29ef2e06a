// Create or edit a group: name, mode, routing settings, members in priority order (drag or arrows).
import { html, useState } from '../lib.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { Icon } from '../icons.js';
import { Button, ErrorBox, Modal, SelectField, TextField, toast, useAction, useApi } from '../ui.js';
import { MODES, RELAY_FIELDS } from './group_modes.js';

const memberKey = (m) => `${m.channel_id}\u0000${m.model_name}`;

function Members({ members, onChange, mode, channels }) {
  const [drag, setDrag] = useState(null);
  const [over, setOver] = useState(null);
  const move = (from, to) => {
    if (to < 0 || to >= members.length || from === to) return;
    const next = [...members];
    next.splice(to, 0, next.splice(from, 1)[0]);
    onChange(next);
  };
  const set = (i, patch) => onChange(members.map((m, j) => (j === i ? { ...m, ...patch } : m)));
  if (!members.length) return html`<div class="empty" style="padding:20px"><span>${t('groups.noMembersHint')}</span></div>`;
  return html`<ol class="members" style="list-style:none;margin:0;padding:0" aria-label=${t('groups.members')}>
    ${members.map((m, i) => html`<li key=${memberKey(m)} draggable="true"
        class=${`member ${drag === i ? 'dragging' : ''} ${over === i && drag !== i ? 'drop-target' : ''}`}
        onDragStart=${(e) => { setDrag(i); e.dataTransfer.effectAllowed = 'move'; e.dataTransfer.setData('text/plain', String(i)); }}
        onDragOver=${(e) => { e.preventDefault(); setOver(i); }} onDragEnd=${() => { setDrag(null); setOver(null); }}
        onDrop=${(e) => { e.preventDefault(); move(drag, i); setDrag(null); setOver(null); }}>
      <span class="handle" aria-hidden="true"><${Icon} name="drag" /></span><span class="prio">${i + 1}</span>
      <div class="grow" style="min-width:0"><div class="ellipsis" style="font-weight:560">${m.model_name}</div>
        <div class="hint ellipsis">${channels.get(m.channel_id) || '#' + m.channel_id}</div></div>
      ${mode === 'weighted' && html`<input class="input" type="number" min="1" style="width:72px;height:30px" value=${m.weight ?? 1}
        aria-label=${t('groups.weightOf', { name: m.model_name })} onInput=${(e) => set(i, { weight: Math.max(1, Number(e.currentTarget.value) || 1) })} />`}
      <${Button} size="sm" kind="ghost" icon="up" aria-label=${t('groups.moveUp', { name: m.model_name })} disabled=${i === 0} onClick=${() => move(i, i - 1)} />
      <${Button} size="sm" kind="ghost" icon="down" aria-label=${t('groups.moveDown', { name: m.model_name })} disabled=${i === members.length - 1} onClick=${() => move(i, i + 1)} />
      <${Button} size="sm" kind="ghost" icon="close" aria-label=${t('common.removeNamed', { name: m.model_name })} onClick=${() => onChange(members.filter((_, j) => j !== i))} />
    </li>`)}
  </ol>`;
}

function Picker({ models, members, onAdd }) {
  const [q, setQ] = useState('');
  const have = new Set(members.map(memberKey));
  const shown = models.filter((m) => !have.has(memberKey({ channel_id: m.channel_id, model_name: m.name })))
    .filter((m) => !q || `${m.name} ${m.channel_name}`.toLowerCase().includes(q.toLowerCase())).slice(0, 200);
  return html`<div class="col" style="gap:8px">
    <label class="sr-only" for="gp-q">${t('groups.searchModels')}</label>
    <input id="gp-q" class="input" type="search" placeholder=${t('groups.searchModels')} value=${q} onInput=${(e) => setQ(e.currentTarget.value)} />
    <div class="picker" role="list">${shown.length ? shown.map((m) => html`<button type="button" role="listitem" class="picker-row"
        style="width:100%;border-left:0;border-right:0;border-bottom:0;background:transparent;color:inherit;font:inherit;text-align:left"
        key=${m.channel_id + m.name} onClick=${() => onAdd([{ channel_id: m.channel_id, model_name: m.name }])}>
        <${Icon} name="plus" size="15" /><span class="grow ellipsis">${m.name}</span><span class="hint ellipsis">${m.channel_name}</span></button>`)
      : html`<div class="picker-row muted">${models.length ? t('common.noMatch') : t('groups.noChannelModels')}</div>`}</div>
  </div>`;
}

function initial(g) {
  const rc = g.relay_config || {};
  return {
    name: g.name || '', mode: g.mode || 'failover', match_regex: g.match_regex || '',
    relay: Object.fromEntries(RELAY_FIELDS.map((f) => [f.key, rc[f.key] ?? f.def])),
    members: [...(g.items || [])].sort((a, b) => a.priority - b.priority).map((i) => ({ ...i })),
  };
}

function payload(group, f) {
  const relay_config = Object.fromEntries(RELAY_FIELDS.map((x) => [x.key, Number(f.relay[x.key]) || 0]));
  const items = f.members.map((m, i) => ({ ...m, priority: i + 1, weight: Number(m.weight) || 1 }));
  const base = { name: f.name.trim(), mode: f.mode, relay_config, match_regex: f.match_regex.trim() };
  if (!group.id) return { ...base, items: items.map(({ channel_id, model_name, priority, weight }) => ({ channel_id, model_name, priority, weight })) };
  const kept = new Set(items.filter((m) => m.id).map((m) => m.id));
  return {
    id: group.id, ...base,
    items_to_add: items.filter((m) => !m.id).map(({ channel_id, model_name, priority, weight }) => ({ channel_id, model_name, priority, weight })),
    items_to_update: items.filter((m) => m.id).map(({ id, priority, weight }) => ({ id, priority, weight })),
    items_to_delete: (group.items || []).filter((m) => !kept.has(m.id)).map((m) => m.id),
  };
}

export function GroupForm({ group, channels, onClose, onSaved, onDelete }) {
  const [f, setF] = useState(() => initial(group));
  const [nameError, setNameError] = useState('');
  const models = useApi('model/channel');
  const [run, busy, error] = useAction();
  const set = (patch) => setF((x) => ({ ...x, ...patch }));
  const add = (list) => {
    const have = new Set(f.members.map(memberKey));
    const fresh = list.filter((m) => !have.has(memberKey(m))).map((m) => ({ ...m, weight: 1 }));
    set({ members: [...f.members, ...fresh] });
    return fresh.length;
  };
  const [runAuto, autoBusy, autoError] = useAction();
  const autoAdd = () => {
    const name = f.name.trim();
    if (!name && !f.match_regex.trim()) return setNameError(t('groups.autoAddNeedsName'));
    setNameError('');
    // the server matches the regex (Go v0.9), else every channel model containing the group name
    return runAuto(async () => {
      const found = await api('group/auto-add', { method: 'POST', body: { name, match_regex: f.match_regex.trim() } });
      toast(t('groups.autoAdded', { n: add((found || []).map((m) => ({ channel_id: m.channel_id, model_name: m.model_name }))) }));
    });
  };
  const save = async (e) => {
    e?.preventDefault();
    if (!f.name.trim()) return setNameError(t('form.required'));
    setNameError('');
    const res = await run(() => api(group.id ? 'group/update' : 'group/create', { method: 'POST', body: payload(group, f) }));
    if (res !== undefined) { toast(group.id ? t('common.saved') : t('common.created')); onSaved(res); }
    return res;
  };
  return html`<${Modal} open size="wide" title=${group.id ? t('groups.editNamed', { name: group.name }) : t('groups.create')} onClose=${onClose}
    footer=${html`${group.id && html`<${Button} kind="danger" icon="trash" label=${t('common.delete')} onClick=${onDelete} />`}<span class="grow"></span>
      <${Button} label=${t('common.cancel')} onClick=${onClose} /><${Button} kind="primary" busy=${busy} label=${group.id ? t('common.save') : t('common.create')} onClick=${save} />`}>
    <form class="form" onSubmit=${save} novalidate>
      <div class="form-row">
        <${TextField} label=${t('groups.name')} value=${f.name} onValue=${(v) => set({ name: v })} error=${nameError} hint=${t('groups.nameHint')} required />
        <${TextField} label=${t('groups.matchRegex')} value=${f.match_regex} onValue=${(v) => set({ match_regex: v })} placeholder="^claude-" hint=${t('groups.matchRegexHint')} />
        <${SelectField} label=${t('groups.modeLabel')} value=${f.mode} onValue=${(v) => set({ mode: v })} hint=${t('groups.modeHint.' + f.mode)}
          options=${MODES.map((m) => ({ value: m, label: t('groups.mode.' + m) }))} />
      </div>
      <details class="section"><summary>${t('groups.routing')}</summary>
        <div class="form-row">${RELAY_FIELDS.map((x) => html`<${TextField} key=${x.key} type="number" min="0"
          label=${t('groups.relay.' + x.key) + (x.unit ? ` (${x.unit})` : '')} hint=${t('groups.relayHint.' + x.key)}
          value=${f.relay[x.key]} onValue=${(v) => set({ relay: { ...f.relay, [x.key]: v } })} />`)}</div>
      </details>
      <div class="grid-2">
        <div class="field"><span class="label">${t('groups.members') + ` (${f.members.length})`}</span>
          <div class="row wrap"><${Button} size="sm" icon="sparkle" busy=${autoBusy} label=${t('groups.autoAdd')} title=${t('groups.autoAddHint')} onClick=${autoAdd} />
            ${f.members.length > 0 && html`<${Button} size="sm" kind="ghost" label=${t('common.clearAll')} onClick=${() => set({ members: [] })} />`}</div>
          <${ErrorBox} error=${autoError} /><span class="hint">${t('groups.dragHint')}</span>
          <${Members} members=${f.members} onChange=${(members) => set({ members })} mode=${f.mode} channels=${channels} />
        </div>
        <div class="field"><span class="label">${t('groups.addModel')}</span><${ErrorBox} error=${models.error} />
          <${Picker} models=${models.data || []} members=${f.members} onAdd=${add} /></div>
      </div>
      <${ErrorBox} error=${error} />
      <button type="submit" hidden></button>
    </form>
  <//>`;
}
