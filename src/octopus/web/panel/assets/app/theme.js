// Light, dark or system theme, applied to <html data-theme> and kept in sync with the OS setting.
import { app, loadPref, savePref } from './store.js';

const media = window.matchMedia('(prefers-color-scheme: dark)');

function apply(theme) {
  const dark = theme === 'dark' || (theme === 'system' && media.matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
}

export function initTheme() {
  const theme = loadPref('theme', 'system');
  app.set({ theme });
  apply(theme);
  media.addEventListener('change', () => apply(app.get().theme));
}

export function setTheme(theme) {
  // stored as a bare string so the inline pre-paint script in index.html can read it
  try {
    localStorage.setItem('octopus.theme', theme);
  } catch {
    savePref('theme', theme);
  }
  app.set({ theme });
  apply(theme);
}
