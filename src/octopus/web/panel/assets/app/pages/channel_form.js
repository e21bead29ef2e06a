// Create or edit a channel: type, base URL (with the full URL preview), keys, models, switches, advanced.
import { html, useState } from '../lib.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { Badge, Button, ErrorBox, Modal, SelectField, Switch, TextField, toast, useAction } from '../ui.js';
import { TYPES, fullUrl, splitModels, typeInfo } from './channel_types.js';
import { ModelPicker } from './model_picker.js';

function initialState(ch) {
  const custom = new Set(splitModels(ch.custom_model));
  const models = splitModels([ch.custom_model, ch.model].filter(Boolean).join(','));
  return {
    name: ch.name || '', type: ch.type || 'openai', base_url: ch.base_url || '', enabled: ch.enabled !== false,
    keys: (Array.isArray(ch.keys) && ch.keys.length ? ch.keys : [{ key: '', enabled: true }]).map((k) => ({ ...k, original: k.key })),
    models: models.map((name) => ({ name, custom: custom.has(name) })),
    proxy: !!ch.proxy, auto_sync: !!ch.auto_sync, channel_proxy: ch.channel_proxy || '', match_regex: ch.match_regex || '',
    param_override: ch.param_override || '',
    custom_header: (ch.custom_header || []).map((x) => ({ ...x })),
    // Go v0.13 generic channel: one base URL, a path per protocol, named keys, grants
    dialect: ch.dialect || '', paths: Object.fromEntries(PATHS.map(([field]) => [field, ch[field] || ''])),
    grants: ch.grants && ch.grants.length ? JSON.stringify(ch.grants, null, 1) : '',
  };
}

const PATHS = [['openai_chat_completion_path', '/v1/chat/completions'], ['openai_response_path', '/v1/responses'],
  ['anthropic_message_path', '/v1/messages'], ['gemini_path', '/v1beta']];

export function validate(f) {
  const errors = {};
  if (!f.name.trim()) errors.name = t('form.required');
  if (!/^https?:\/\/\S+$/i.test(f.base_url.trim())) errors.base_url = t('channels.badUrl');
  if (!f.keys.some((k) => k.key.trim())) errors.keys = t('channels.needKey');
  if (f.param_override.trim()) {
    try {
      const v = JSON.parse(f.param_override);
      if (!v || typeof v !== 'object' || Array.isArray(v)) errors.param_override = t('channels.overrideObject');
    } catch (err) {
      errors.param_override = t('channels.badJson', { detail: err.message });
    }
  }
  if (f.match_regex.trim()) {
    try { new RegExp(f.match_regex); } catch (err) { errors.match_regex = t('channels.badRegex', { detail: err.message }); }
  }
  if (f.grants.trim()) {
    try { if (!Array.isArray(JSON.parse(f.grants))) errors.grants = t('channels.badGrants'); } catch { errors.grants = t('channels.badGrants'); }
  }
  if (f.channel_proxy.trim() && !/^(https?|socks5?h?):\/\/\S+$/i.test(f.channel_proxy.trim())) errors.channel_proxy = t('channels.badProxy');
  return errors;
}

function toPayload(f, id) {
  return {
    ...(id ? { id } : {}),
    name: f.name.trim(), type: f.type, base_url: f.base_url.trim(), enabled: f.enabled,
    keys: f.keys.filter((k) => k.key.trim()).map((k) => ({
      ...(k.id ? { id: k.id } : {}), enabled: k.enabled !== false, ...(k.remark ? { remark: k.remark } : {}), ...(k.name ? { name: k.name.trim() } : {}), ...(k.id && k.key === k.original ? {} : { key: k.key.trim() }),
    })),
    model: f.models.filter((m) => !m.custom).map((m) => m.name).join(','),
    custom_model: f.models.filter((m) => m.custom).map((m) => m.name).join(','),
    proxy: f.proxy, auto_sync: f.auto_sync, channel_proxy: f.channel_proxy.trim() || null,
    match_regex: f.match_regex.trim() || null, param_override: f.param_override.trim() || null,
    custom_header: f.custom_header.filter((h) => h.header_key.trim()),
    dialect: f.dialect,
    ...(f.dialect === 'generic' ? { ...f.paths, grants: f.grants.trim() ? JSON.parse(f.grants) : null } : {}),
  };
}

function KeysEditor({ keys, onChange, error, named }) {
  const set = (i, patch) => onChange(keys.map((k, j) => (j === i ? { ...k, ...patch } : k)));
  return html`<fieldset class="col" style="border:0;padding:0;margin:0;gap:8px">
    <legend class="label" style="margin-bottom:6px">${t('channels.keys')}</legend>
    ${keys.map((k, i) => html`<div class="col" style="gap:4px" key=${k.id || 'new' + i}>
      ${named && html`<input class="input" value=${k.name || ''} placeholder=${t('channels.keyName')} aria-label=${t('channels.keyName') + ' ' + (i + 1)}
        onInput=${(e) => set(i, { name: e.currentTarget.value })} />`}
      <div class="key-row">
        <input class="input mono" type="password" autocomplete="off" value=${k.key} aria-label=${t('channels.keyN', { n: i + 1 })}
          aria-invalid=${error && i === 0 ? 'true' : undefined} placeholder="sk-…" onInput=${(e) => set(i, { key: e.currentTarget.value })}
          onFocus=${(e) => { if (k.id && k.key === k.original) e.currentTarget.select(); }} />
        <label class="switch" title=${t('common.enabled')}><input type="checkbox" role="switch" checked=${k.enabled !== false}
          aria-label=${t('channels.keyEnabled', { n: i + 1 })} onChange=${(e) => set(i, { enabled: e.currentTarget.checked })} /></label>
        <${Button} kind="ghost" icon="trash" aria-label=${t('channels.removeKey', { n: i + 1 })} disabled=${keys.length === 1}
          onClick=${() => onChange(keys.filter((_, j) => j !== i))} />
      </div>
      ${(k.disabled_reason || k.enabled === false) && k.id && html`<div class="row"><${Badge} kind="warn">${t('common.disabled')}<//>
        <span class="hint">${k.disabled_reason || t('channels.keyManualOff')}</span></div>`}
    </div>`)}
    ${error && html`<div class="field-error" role="alert">${error}</div>`}
    <div><${Button} size="sm" icon="plus" label=${t('channels.addKey')} onClick=${() => onChange([...keys, { key: '', enabled: true }])} /></div>
  </fieldset>`;
}

function HeadersEditor({ rows, onChange }) {
  const set = (i, patch) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return html`<fieldset class="col" style="border:0;padding:0;margin:0;gap:8px">
    <legend class="label" style="margin-bottom:6px">${t('channels.headers')}</legend>
    ${rows.map((r, i) => html`<div class="key-row" key=${i} style="grid-template-columns:1fr 1fr auto">
      <input class="input" placeholder=${t('channels.headerName')} aria-label=${t('channels.headerName')} value=${r.header_key}
        onInput=${(e) => set(i, { header_key: e.currentTarget.value })} />
      <input class="input" placeholder=${t('channels.headerValue')} aria-label=${t('channels.headerValue')} value=${r.header_value}
        onInput=${(e) => set(i, { header_value: e.currentTarget.value })} />
      <${Button} kind="ghost" icon="trash" aria-label=${t('common.remove')} onClick=${() => onChange(rows.filter((_, j) => j !== i))} /></div>`)}
    <div><${Button} size="sm" icon="plus" label=${t('channels.addHeader')} onClick=${() => onChange([...rows, { header_key: '', header_value: '' }])} /></div>
  </fieldset>`;
}

export function ChannelForm({ channel, onClose, onSaved }) {
  const [f, setF] = useState(() => initialState(channel));
  const [errors, setErrors] = useState({});
  const [fetched, setFetched] = useState(null);
  const [runFetch, fetching, fetchError, setFetchError] = useAction();
  const [runSave, saving, saveError] = useAction();
  const set = (patch) => setF((x) => ({ ...x, ...patch }));
  const isNew = !channel.id;
  const fetchModels = () => {
    const key = f.keys.find((k) => k.key.trim() && k.enabled !== false) || f.keys.find((k) => k.key.trim());
    if (!f.base_url.trim() || !key) return setFetchError({ message: t('channels.fetchNeeds') });
    return runFetch(async () => {
      const body = { type: f.type, base_url: f.base_url.trim(), proxy: f.proxy, channel_proxy: f.channel_proxy.trim() || null,
        match_regex: f.match_regex.trim() || null, custom_header: f.custom_header.filter((h) => h.header_key.trim()),
        ...(f.dialect === 'generic' ? { dialect: 'generic', ...f.paths } : {}) };
      // a saved channel's masked key makes the server use the stored one
      if (channel.id) body.id = channel.id;
      body.key = key.key.trim();
      const list = await api('channel/fetch-model', { method: 'POST', body });
      const names = (Array.isArray(list) ? list : []).map((m) => (typeof m === 'string' ? m : m.id || m.name)).filter(Boolean);
      setFetched([...new Set(names)].sort());
      toast(t('channels.fetched', { n: names.length }));
    });
  };
  const save = async (e) => {
    e?.preventDefault();
    const errs = validate(f);
    setErrors(errs);
    if (Object.keys(errs).length) return;
    const saved = await runSave(() => api(isNew ? 'channel/create' : 'channel/update', { method: 'POST', body: toPayload(f, channel.id) }));
    if (saved !== undefined) { toast(isNew ? t('common.created') : t('common.saved')); onSaved(saved || { ...channel }, isNew); }
  };
  const preview = fullUrl(f.type, f.base_url, f.models[0]?.name);
  const generic = f.dialect === 'generic';
  return html`<${Modal} open size="wide" title=${isNew ? t('channels.create') : t('channels.editNamed', { name: channel.name })} onClose=${onClose}
    footer=${html`<${Button} label=${t('common.cancel')} onClick=${onClose} />
      <${Button} kind="primary" busy=${saving} label=${isNew ? t('common.create') : t('common.save')} onClick=${save} />`}>
    <form class="form" onSubmit=${save} novalidate>
      <div class="form-row">
        <${TextField} label=${t('channels.name')} value=${f.name} onValue=${(v) => set({ name: v })} error=${errors.name} required />
        <${SelectField} label=${t('channels.type')} value=${f.type} onValue=${(v) => set({ type: v })}
          options=${TYPES.map((x) => ({ value: x.id, label: x.label }))} />
      </div>
      <${SelectField} label=${t('channels.shape')} value=${f.dialect} onValue=${(v) => set({ dialect: v })}
        options=${[{ value: '', label: t('channels.shapeTyped') }, { value: 'generic', label: t('channels.shapeGeneric') }]} />
      <${TextField} label=${t('channels.baseUrl')} value=${f.base_url} onValue=${(v) => set({ base_url: v })} error=${errors.base_url}
        placeholder=${generic ? 'https://api.example.com' : typeInfo(f.type).base} hint=${generic ? t('channels.genericUrlHint') : t('channels.baseUrlHint')} inputmode="url" />
      ${preview && !generic && html`<div class="url-preview" aria-live="polite">${t('channels.willCall')} <strong>${preview}</strong></div>`}
      ${generic && html`<div class="form-row">${PATHS.map(([field, example]) => html`<${TextField} key=${field} label=${field}
        value=${f.paths[field]} placeholder=${example} onValue=${(v) => set({ paths: { ...f.paths, [field]: v.trim() } })} />`)}</div>`}
      <${KeysEditor} keys=${f.keys} onChange=${(keys) => set({ keys })} error=${errors.keys} named=${generic} />
      ${generic && html`<${TextField} multiline label=${t('channels.grants')} value=${f.grants} onValue=${(v) => set({ grants: v })}
        error=${errors.grants} placeholder='[{"model_name": "gpt-4o", "key_name": "main", "protocols": 14}]' hint=${t('channels.grantsHint')} />`}
      <div class="field"><span class="label">${t('channels.models')}</span>
        <${ModelPicker} selected=${f.models} onChange=${(models) => set({ models })} fetched=${fetched}
          onFetch=${fetchModels} fetching=${fetching} fetchError=${fetchError} /></div>
      <div class="row wrap" style="gap:22px">
        <${Switch} label=${t('common.enabled')} checked=${f.enabled} onChange=${(v) => set({ enabled: v })} />
        <${Switch} label=${t('channels.useProxy')} checked=${f.proxy} onChange=${(v) => set({ proxy: v })} />
        <${Switch} label=${t('channels.autoSync')} checked=${f.auto_sync} onChange=${(v) => set({ auto_sync: v })} />
      </div>
      <details class="section" open=${!!(errors.param_override || errors.match_regex || errors.channel_proxy)}>
        <summary>${t('channels.advanced')}</summary>
        <div class="form">
          <${TextField} label=${t('channels.channelProxy')} value=${f.channel_proxy} onValue=${(v) => set({ channel_proxy: v })}
            error=${errors.channel_proxy} placeholder="socks5://127.0.0.1:1080" hint=${t('channels.channelProxyHint')} />
          <${HeadersEditor} rows=${f.custom_header} onChange=${(rows) => set({ custom_header: rows })} />
          <${TextField} multiline label=${t('channels.paramOverride')} value=${f.param_override} onValue=${(v) => set({ param_override: v })}
            error=${errors.param_override} placeholder='{"temperature": 0.7}' hint=${t('channels.paramOverrideHint')} />
          <${TextField} label=${t('channels.matchRegex')} value=${f.match_regex} onValue=${(v) => set({ match_regex: v })}
            error=${errors.match_regex} placeholder="^gpt-" hint=${t('channels.matchRegexHint')} />
        </div>
      </details>
      <${ErrorBox} error=${saveError} />
      <button type="submit" hidden></button>
    </form>
  <//>`;
}
