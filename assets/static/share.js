// The phone side of the web UI: registers the service worker (installable app, share
// target), offers files shared to DocuVault from other apps for upload, and adds a
// "Take a photo" control beside the upload list for photographing a letter.
// The page's uploader announces itself with a "docuvault:uploader" event (upload.js).
const INBOX = 'docuvault-share-inbox';

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((err) => console.warn('service worker not registered', err));
}

let uploader = null;
let shared = null; // { files, keys } waiting for the user's answer

document.addEventListener('docuvault:uploader', (e) => {
  uploader = e.detail;
  // The page puts the uploader's list in place right after making it.
  queueMicrotask(() => { addCamera(e.detail); offer(); });
});

// sharedFiles reads the inbox the service worker filled.
async function sharedFiles() {
  if (!('caches' in window) || !(await caches.has(INBOX))) return null;
  const inbox = await caches.open(INBOX);
  const keys = await inbox.keys();
  if (!keys.length) return null;
  const files = [];
  for (const key of keys) {
    const res = await inbox.match(key);
    if (!res) continue;
    const name = decodeURIComponent(res.headers.get('X-Filename') || 'shared');
    files.push(new File([await res.blob()], name, { type: res.headers.get('Content-Type') || '' }));
  }
  return { files, keys };
}

async function clearInbox(keys) {
  const inbox = await caches.open(INBOX);
  await Promise.all(keys.map((k) => inbox.delete(k)));
}

// offer asks, once an uploader is on the page, whether to upload what was shared.
async function offer() {
  if (!uploader || document.getElementById('share-offer')) return;
  shared = shared || await sharedFiles();
  if (!shared || !shared.files.length || !uploader) return;
  const { files, keys } = shared;
  const box = document.createElement('div');
  box.id = 'share-offer';
  box.className = 'card';
  box.setAttribute('role', 'dialog');
  box.setAttribute('aria-label', 'Shared files');
  const p = document.createElement('p');
  p.textContent = `${files.length} file${files.length === 1 ? '' : 's'} shared with DocuVault: ` + files.map((f) => f.name).join(', ');
  const yes = document.createElement('button');
  yes.id = 'share-upload';
  yes.type = 'button';
  yes.textContent = 'Upload';
  const no = document.createElement('button');
  no.id = 'share-discard';
  no.type = 'button';
  no.className = 'secondary';
  no.textContent = 'Discard';
  const done = async (upload) => {
    box.remove();
    shared = null;
    await clearInbox(keys);
    if (upload) uploader.add(files);
  };
  yes.onclick = () => done(true);
  no.onclick = () => done(false);
  box.append(p, yes, ' ', no);
  // The upload panel may be folded away until something is uploading: show it with the offer.
  const panel = uploader.listEl.closest('details');
  if (panel) { panel.hidden = false; panel.open = true; }
  uploader.listEl.before(box);
}

// addCamera puts a camera-capture input beside the upload list (phones open the camera).
function addCamera(up) {
  if (document.getElementById('camera-input')) return;
  const input = document.createElement('input');
  input.type = 'file';
  input.id = 'camera-input';
  input.accept = 'image/*';
  input.setAttribute('capture', 'environment');
  input.className = 'sr-only';
  input.onchange = () => { up.add(input.files); input.value = ''; };
  const label = document.createElement('label');
  label.htmlFor = 'camera-input';
  label.className = 'button secondary';
  label.tabIndex = 0;
  label.textContent = 'Take a photo';
  label.onkeydown = (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); input.click(); } };
  const wrap = document.createElement('span');
  wrap.className = 'camera';
  wrap.append(label, input);
  // Beside the toolbar's Upload button, where it can be seen; else above the upload list.
  const button = document.getElementById('upload-button');
  if (button) button.after(' ', wrap); else up.listEl.before(wrap);
}
