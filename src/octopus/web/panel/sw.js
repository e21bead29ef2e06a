// The panel's service worker: the shell (index, manifest, icon) is cached so the panel opens
// offline or on a flaky link; content-hashed assets are cached on first use (they never change);
// the admin API, the relay and metrics are never cached.
const SHELL = 'octopus-shell-v1';
const ASSETS = 'octopus-assets-v1';
const SHELL_FILES = ['./', './manifest.webmanifest', './favicon.svg'];
const NEVER = /\/(api|v1|v1beta|metrics)(\/|$)/;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n !== SHELL && n !== ASSETS).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin || NEVER.test(url.pathname)) return;
  if (request.mode === 'navigate') {
    // network first, so a new version shows at once; the cached shell when offline
    event.respondWith(fetch(request).then((response) => {
      if (response.ok) caches.open(SHELL).then((cache) => cache.put('./', response.clone()));
      return response;
    }).catch(() => caches.match('./')));
    return;
  }
  if (/\/assets\/v-[^/]+\//.test(url.pathname)) {
    // versioned assets are immutable: cache first
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request).then((response) => {
      if (response.ok) { const copy = response.clone(); caches.open(ASSETS).then((cache) => cache.put(request, copy)); }
      return response;
    })));
    return;
  }
  // anything else of the shell: the cached copy at once, refreshed in the background
  event.respondWith(caches.match(request).then((hit) => {
    const fresh = fetch(request).then((response) => {
      if (response.ok) { const copy = response.clone(); caches.open(SHELL).then((cache) => cache.put(request, copy)); }
      return response;
    });
    return hit || fresh;
  }));
});
