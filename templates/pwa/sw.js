/* ContentFlow service worker, shell version {{ version }}.
 *
 * Invariants:
 * - install precaches the app shell (versioned static files) and the offline page;
 * - activate deletes every older contentflow-* cache;
 * - navigations go to the network first and fall back to the offline page; their
 *   responses are never stored, because pages can be user-specific;
 * - /static/ files are cache-first (their URLs carry a content hash);
 * - non-GET requests, htmx requests (HX-Request header) and other origins are
 *   never intercepted or cached.
 */
const VERSION = "{{ version }}";
const CACHE = "contentflow-shell-" + VERSION;
const OFFLINE_URL = "{{ offline_url }}";
const SHELL = {{ shell|tojson }};

function publicRequest(url) {
  // Shell files are the same for everyone: fetch them without cookies.
  return new Request(url, { credentials: "omit", cache: "reload" });
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(SHELL.concat([OFFLINE_URL]).map(publicRequest));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(
      names.filter((name) => name.startsWith("contentflow-") && name !== CACHE)
           .map((name) => caches.delete(name))
    );
    await self.clients.claim();
  })());
});

async function networkFirstNavigation(request) {
  try {
    return await fetch(request);
  } catch (error) {
    const cache = await caches.open(CACHE);
    const offline = await cache.match(OFFLINE_URL);
    return offline || Response.error();
  }
}

async function cacheFirstStatic(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request);
  if (hit) {
    return hit;
  }
  const response = await fetch(request);
  if (response.ok && response.type === "basic") {
    await cache.put(request, response.clone());
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  if (request.headers.has("HX-Request")) {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(networkFirstNavigation(request));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirstStatic(request));
  }
});
