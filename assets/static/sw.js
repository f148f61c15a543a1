// DocuVault's service worker: the app shell (HTML, scripts, styles, icons) for offline
// starts, and the Web Share Target. It never caches /api/ — documents, lists and
// downloads always come from the server — and it sends nothing itself: shared files wait
// in a local inbox until the signed-in page uploads them through the normal three-step
// flow, with the session and CSRF rules of any upload.
const SHELL = 'docuvault-shell-v1';
const INBOX = 'docuvault-share-inbox';

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL).then((c) => c.add('/')).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name !== SHELL && name !== INBOX) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

// shellRequest tells whether a request is part of the app shell: same origin, GET, and
// outside /api/ (documents, downloads, uploads and blobs all live under /api/).
function shellRequest(req, url) {
  return req.method === 'GET' && url.origin === self.location.origin && !url.pathname.startsWith('/api/');
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method === 'POST' && url.origin === self.location.origin && url.pathname === '/share') {
    event.respondWith(receiveShare(req));
    return;
  }
  if (!shellRequest(req, url)) return; // the network, untouched
  // Network first, so a new version shows at once; the cache only for offline starts.
  event.respondWith((async () => {
    try {
      const res = await fetch(req);
      if (res.ok && res.type === 'basic') {
        const copy = res.clone();
        event.waitUntil(caches.open(SHELL).then((c) => c.put(url.pathname === '/index.html' ? '/' : req, copy)));
      }
      return res;
    } catch (err) {
      const hit = await caches.match(req, { ignoreSearch: true }) || (req.mode === 'navigate' && await caches.match('/'));
      if (hit) return hit;
      throw err;
    }
  })());
});

// receiveShare keeps the shared files in the inbox and opens the app, which asks the user
// before uploading them (a page elsewhere could post a form here too).
async function receiveShare(req) {
  let form;
  try { form = await req.formData(); } catch { return Response.redirect('/#/documents', 303); }
  const inbox = await caches.open(INBOX);
  const stamp = Date.now();
  let i = 0;
  for (const file of form.getAll('files')) {
    if (!(file instanceof File) || file.size === 0 && !file.name) continue;
    const headers = { 'Content-Type': file.type || 'application/octet-stream', 'X-Filename': encodeURIComponent(file.name || 'shared') };
    await inbox.put(new Request(`/share-inbox/${stamp}-${i++}`), new Response(file, { headers }));
  }
  return Response.redirect('/#/documents', 303);
}
