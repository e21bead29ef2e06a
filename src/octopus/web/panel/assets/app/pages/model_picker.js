// Model selection for a channel: typed names, or names fetched from the upstream and picked from a list.
import { html, useState } from '../lib.js';
import { t } from '../i18n.js';
import { Button, ErrorBox, Progress } from '../ui.js';

export function ModelPicker({ selected, onChange, fetched, onFetch, fetching, fetchError }) {
  const [typed, setTyped] = useState('');
  const [q, setQ] = useState('');
  const names = new Set(selected.map((s) => s.name));
  const add = (list) => onChange([...selected, ...list.filter((n) => !names.has(n)).map((name) => ({ name, custom: true }))]);
  const addTyped = () => {
    add(typed.split(',').map((s) => s.trim()).filter(Boolean));
    setTyped('');
  };
  const toggle = (name) => (names.has(name)
    ? onChange(selected.filter((s) => s.name !== name))
    : onChange([...selected, { name, custom: false }]));
  const shown = (fetched || []).filter((n) => n.toLowerCase().includes(q.toLowerCase()));
  const selectShown = () => onChange([...selected, ...shown.filter((n) => !names.has(n)).map((name) => ({ name, custom: false }))]);
  return html`<div class="col" style="gap:10px">
    <div class="row">
      <label class="sr-only" for="model-typed">${t('channels.typeModel')}</label>
      <input id="model-typed" class="input grow" placeholder=${t('channels.typeModel')} value=${typed}
        onInput=${(e) => setTyped(e.currentTarget.value)} onKeyDown=${(e) => { if (e.key === 'Enter') { e.preventDefault(); addTyped(); } }} />
      <${Button} icon="plus" label=${t('common.add')} onClick=${addTyped} disabled=${!typed.trim()} />
      <${Button} icon="refresh" busy=${fetching} label=${t('channels.fetchModels')} onClick=${onFetch} />
    </div>
    ${fetching && html`<${Progress} label=${t('channels.fetching')} />`}
    <${ErrorBox} error=${fetchError} />
    ${fetched && html`<div class="col" style="gap:8px">
      <div class="row"><label class="sr-only" for="model-q">${t('channels.searchFetched')}</label>
        <input id="model-q" class="input grow" type="search" placeholder=${t('channels.searchFetched', { n: fetched.length })} value=${q}
          onInput=${(e) => setQ(e.currentTarget.value)} />
        <${Button} size="sm" label=${t('channels.selectShown')} onClick=${selectShown} disabled=${!shown.length} /></div>
      <div class="picker" role="group" aria-label=${t('channels.fetchedList')}>
        ${shown.length ? shown.map((n) => html`<label class="picker-row" key=${n}>
          <input type="checkbox" checked=${names.has(n)} onChange=${() => toggle(n)} /><span class="ellipsis">${n}</span></label>`)
          : html`<div class="picker-row muted">${t('common.noMatch')}</div>`}
      </div></div>`}
    <div class="row between"><span class="label">${t('channels.selected', { n: selected.length })}</span>
      ${selected.length > 0 && html`<${Button} size="sm" kind="ghost" label=${t('common.clearAll')} onClick=${() => onChange([])} />`}</div>
    ${selected.length ? html`<div class="chips" aria-live="polite">${selected.map((s) => html`<span class="chip" key=${s.name}>
        <span class="ellipsis">${s.name}</span><button type="button" aria-label=${t('common.removeNamed', { name: s.name })}
          onClick=${() => onChange(selected.filter((x) => x.name !== s.name))}>×</button></span>`)}</div>`
      : html`<span class="hint">${t('channels.noModels')}</span>`}
  </div>`;
}
