// Light, dark or system theme, applied to <html data-theme> and kept in sync with the OS setting.
import { app } from './store.js';

const media = window.matchMedia('(prefers-color-scheme: dark)');

function apply(theme) {
  const dark = theme === 'dark' || (theme === 'system' && media.matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
}

const KEY = 'octopus.theme';
const THEMES = ['light', 'dark', 'system'];

function stored() {
  try {
    const value = localStorage.getItem(KEY);
    return THEMES.includes(value) ? value : 'system';
  } catch {
    return 'system';
  }
}

export function initTheme() {
  const theme = stored();
  app.set({ theme });
  apply(theme);
  media.addEventListener('change', () => apply(app.get().theme));
}

export function setTheme(theme) {
  // stored as a bare string so the inline pre-paint script in index.html can read it
  try {
    localStorage.setItem(KEY, theme);
  } catch {
    // private mode: the choice lasts for this page only
  }
  app.set({ theme });
  apply(theme);
}
