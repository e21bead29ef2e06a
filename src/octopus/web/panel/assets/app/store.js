// A tiny observable store: the app state lives in one object; components re-render on change.
import { useEffect, useState } from './lib.js';

export function createStore(initial) {
  let state = initial;
  const subs = new Set();
  return {
    get: () => state,
    set(patch) {
      state = { ...state, ...patch };
      subs.forEach((fn) => fn(state));
    },
    subscribe(fn) {
      subs.add(fn);
      return () => subs.delete(fn);
    },
  };
}

export function useStore(store) {
  const [, force] = useState(0);
  const seen = store.get();
  useEffect(() => {
    const unsubscribe = store.subscribe(() => force((n) => n + 1));
    // effects run after paint: catch a change made between this render and the subscription
    if (store.get() !== seen) force((n) => n + 1);
    return unsubscribe;
  }, [store]);
  return store.get();
}

// session: 'unknown' | 'none' | 'must-change' | 'admin' | 'apikey'
export const app = createStore({
  lang: 'en',
  messages: {},
  theme: 'system',
  session: 'unknown',
  apiKey: '',
  route: { page: 'dashboard', arg: '' },
  toasts: [],
  confirm: null,
});

const PREFIX = 'octopus.';

export function loadPref(name, fallback) {
  try {
    const raw = localStorage.getItem(PREFIX + name);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

export function savePref(name, value) {
  try {
    localStorage.setItem(PREFIX + name, JSON.stringify(value));
  } catch {
    // private mode or quota: preferences are a convenience only
  }
}

// State that survives reloads (layout, sort, chart choice), like the Go panel's persisted toggles.
export function usePref(name, fallback) {
  const [value, setValue] = useState(() => loadPref(name, fallback));
  const update = (next) => {
    setValue(next);
    savePref(name, next);
  };
  return [value, update];
}
