// Groups: public model names backed by ordered members; live routing badges; edit, reset, delete.
import { html, useState } from '../lib.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { usePref } from '../store.js';
import { Badge, Button, CopyButton, Empty, ErrorBox, SearchInput, Seg, Skeleton, confirmAction, errorText, toast, useApi } from '../ui.js';
import { GroupForm } from './group_form.js';
import { memberState, useNow, useRuntime } from './runtime.js';

function MemberBadges({ st }) {
  return html`${st.current && html`<${Badge} kind="ok" dot live>${t('groups.inUse')}<//>`}
    ${st.probing && html`<${Badge} kind="info" dot live>${t('groups.probing')}<//>`}
    ${st.cooling > 0 && html`<${Badge} kind="warn">${t('groups.cooling', { s: st.cooling })}<//>`}
    ${st.failures > 0 && !st.cooling && html`<${Badge} kind="err" title=${t('groups.failuresHint')}>${t('groups.failures', { n: st.failures })}<//>`}
    ${st.affinity > 0 && html`<${Badge} kind="accent">${t('groups.affinity', { s: st.affinity })}<//>`}`;
}

function GroupCard({ group, channels, state, now, onEdit, onChanged }) {
  const items = [...(group.items || [])].sort((a, b) => a.priority - b.priority || a.id - b.id);
  const chName = (id) => channels.get(id) || `#${id}`;
  const act = async (fn, done) => {
    try {
      const res = await fn();
      toast(done);
      onChanged(res);
    } catch (err) {
      toast(errorText(err), 'err');
    }
  };
  const setActive = (itemId) => act(() => api('group/active/' + group.id, { method: 'POST', body: { item_id: itemId } }), t('groups.activeSet'));
  const reset = () => act(async () => (await api('group/runtime/reset/' + group.id, { method: 'POST', body: {} })) && null, t('groups.resetDone'));
  return html`<article class="card col" style="gap:12px" aria-label=${group.name}>
    <div class="entity-head"><div class="grow"><div class="row"><h3 class="ellipsis">${group.name}</h3><${CopyButton} text=${group.name} /></div>
      <div class="row wrap"><${Badge} kind="accent">${t('groups.mode.' + group.mode)}<//><span class="hint">${t('groups.memberCount', { n: items.length })}</span></div></div></div>
    ${items.length ? html`<ol class="members" style="list-style:none;margin:0;padding:0">${items.map((it, i) => {
      const st = memberState(state, it.id, now);
      return html`<li class="member" key=${it.id}><span class="prio">${i + 1}</span>
        <div class="grow" style="min-width:0"><div class="ellipsis" style="font-weight:560">${it.model_name}</div>
          <div class="hint ellipsis">${chName(it.channel_id)}${group.mode === 'weighted' ? ` · ${t('groups.weight')} ${it.weight ?? 1}` : ''}</div></div>
        <${MemberBadges} st=${st} />
        ${group.mode === 'manual' && (group.active_item_id === it.id
          ? html`<${Button} size="sm" kind="ghost" label=${t('groups.clearActive')} onClick=${() => setActive(0)} />`
          : html`<${Button} size="sm" label=${t('groups.setActive')} onClick=${() => setActive(it.id)} />`)}
      </li>`;
    })}</ol>` : html`<span class="hint">${t('groups.noMembers')}</span>`}
    <div class="row" style="justify-content:flex-end">
      <${Button} size="sm" kind="ghost" icon="refresh" label=${t('groups.reset')} title=${t('groups.resetHint')} onClick=${reset} />
      <${Button} size="sm" icon="edit" label=${t('common.edit')} onClick=${onEdit} /></div>
  </article>`;
}

export default function Groups() {
  const list = useApi('group/list', { poll: 30000 });
  const channelList = useApi('channel/list');
  const [runtime, conn] = useRuntime();
  const [q, setQ] = useState('');
  const [filter, setFilter] = usePref('groups.filter', 'all');
  const [editing, setEditing] = useState(null);
  const anyCooling = Object.values(runtime).some((s) => Object.keys(s.cooldowns || {}).length || s.affinity_until);
  const now = useNow(anyCooling);
  const channels = new Map((channelList.data || []).map((c) => [c.id, c.name]));
  const groups = (list.data || [])
    .filter((g) => (filter === 'all' ? true : filter === 'members' ? g.items?.length : !g.items?.length))
    .filter((g) => !q || g.name.toLowerCase().includes(q.toLowerCase()) || (g.items || []).some((i) => i.model_name.toLowerCase().includes(q.toLowerCase())))
    .sort((a, b) => a.name.localeCompare(b.name));
  const onChanged = (g) => (g && g.id ? list.setData((d) => d.map((x) => (x.id === g.id ? g : x))) : list.reload());
  const remove = async (g) => {
    if (!(await confirmAction({ title: t('groups.deleteTitle'), text: t('groups.deleteText', { name: g.name }), confirm: t('common.delete') }))) return;
    try {
      await api('group/delete/' + g.id, { method: 'DELETE' });
      setEditing(null);
      list.setData((d) => d.filter((x) => x.id !== g.id));
      toast(t('common.deleted'));
    } catch (err) {
      toast(errorText(err), 'err');
    }
  };
  return html`<div>
    <div class="page-head"><h1>${t('nav.groups')}</h1>
      ${conn === 'reconnecting' && html`<${Badge} kind="warn">${t('common.reconnecting')}<//>`}
      <${Button} kind="primary" icon="plus" label=${t('groups.create')} onClick=${() => setEditing({})} /></div>
    <div class="toolbar"><${SearchInput} value=${q} onValue=${setQ} placeholder=${t('groups.search')} />
      <${Seg} label=${t('common.filter')} value=${filter} onChange=${setFilter}
        options=${[['all', 'common.all'], ['members', 'groups.withMembers'], ['empty', 'groups.empty']].map(([v, k]) => ({ value: v, label: t(k) }))} /></div>
    <${ErrorBox} error=${list.error} onRetry=${list.reload} />
    ${list.data === undefined && !list.error ? html`<${Skeleton} />`
      : !list.data?.length ? html`<${Empty} icon="group" title=${t('groups.emptyTitle')} text=${t('groups.emptyText')}
          action=${html`<${Button} kind="primary" icon="plus" label=${t('groups.create')} onClick=${() => setEditing({})} />`} />`
      : !groups.length ? html`<${Empty} icon="search" title=${t('common.noMatch')} text=${t('common.noMatchHint')} />`
      : html`<div class="grid">${groups.map((g) => html`<${GroupCard} key=${g.id} group=${g} channels=${channels} state=${runtime[g.id]}
          now=${now} onEdit=${() => setEditing(g)} onChanged=${onChanged} />`)}</div>`}
    ${editing && html`<${GroupForm} group=${editing} channels=${channels} onClose=${() => setEditing(null)} onDelete=${() => remove(editing)}
      onSaved=${() => { setEditing(null); list.reload(); }} />`}
  </div>`;
}
