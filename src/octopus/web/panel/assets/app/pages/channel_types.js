// Channel types: label, colour, and the path the gateway appends to the base URL.
export const TYPES = [
  { id: 'openai', label: 'OpenAI Chat', short: 'OA', color: '#10a37f', path: '/chat/completions', base: 'https://api.openai.com/v1' },
  { id: 'openai_responses', label: 'OpenAI Responses', short: 'OR', color: '#0f766e', path: '/responses', base: 'https://api.openai.com/v1' },
  { id: 'anthropic', label: 'Anthropic', short: 'AN', color: '#c96442', path: '/messages', base: 'https://api.anthropic.com/v1' },
  { id: 'gemini', label: 'Gemini', short: 'GE', color: '#4f7df3', path: '/models/{model}:generateContent', base: 'https://generativelanguage.googleapis.com/v1beta' },
  // OpenAI Chat under Ark's /api/v3 (the gateway adds /api/v3 or /v3 when the base lacks it)
  { id: 'volcengine', label: 'Volcengine', short: 'VE', color: '#3370ff', path: '/chat/completions', base: 'https://ark.cn-beijing.volces.com/api/v3' },
];

export function typeInfo(id) {
  return TYPES.find((x) => x.id === id) || { id, label: id || '?', short: (id || '?').slice(0, 2).toUpperCase(), color: '#8b8794', path: '', base: '' };
}

// The URL the gateway will call: a base ending in "##" is used as it is.
export function fullUrl(type, base, model) {
  const raw = (base || '').trim();
  if (!raw) return '';
  if (raw.endsWith('##')) return raw.slice(0, -2);
  const path = typeInfo(type).path.replace('{model}', model || '{model}');
  let root = raw.replace(/\/+$/, '');
  if (type === 'volcengine' && !/\/v3$/.test(root)) root += /^[a-z]+:\/\/[^/]+\/./i.test(root) ? '/v3' : '/api/v3';
  return root + path;
}

export function splitModels(text) {
  return [...new Set(String(text || '').split(',').map((s) => s.trim()).filter(Boolean))];
}
