// Messages in three languages, chosen from the browser and switchable; t() reads the loaded set.
import { app, loadPref, savePref } from './store.js';

export const LANGS = [
  { id: 'en', label: 'English', html: 'en' },
  { id: 'zh-Hans', label: '简体中文', html: 'zh-CN' },
  { id: 'zh-Hant', label: '繁體中文', html: 'zh-TW' },
];

export function detectLang() {
  const saved = loadPref('lang', null);
  if (LANGS.some((l) => l.id === saved)) return saved;
  for (const raw of navigator.languages || [navigator.language || 'en']) {
    const tag = raw.toLowerCase();
    if (/^zh-(tw|hk|mo|hant)/.test(tag)) return 'zh-Hant';
    if (tag.startsWith('zh')) return 'zh-Hans';
    if (tag.startsWith('en')) return 'en';
  }
  return 'en';
}

export async function setLang(lang, remember = true) {
  const res = await fetch(new URL(`../i18n/${lang}.json`, import.meta.url));
  const messages = await res.json();
  if (remember) savePref('lang', lang);
  document.documentElement.lang = LANGS.find((l) => l.id === lang)?.html || 'en';
  app.set({ lang, messages });
}

export function t(key, vars) {
  const messages = app.get().messages;
  // languages with a singular form give it as "<key>.one"
  let text = vars && Number(vars.n) === 1 && messages[key + '.one'] !== undefined ? messages[key + '.one'] : messages[key];
  if (text === undefined) text = key;
  if (vars) text = text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
  return text;
}
