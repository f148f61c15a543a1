// One document: preview, extracted text, details; rename and topics in place; download,
// trash (with Undo) and, from the trash, restore or delete for good. Arrow keys walk the list.
import { api, fmtBytes, fmtDate } from './api.js';
import { h, mount, toast, chip, icon, errorBox } from './dom.js';
import { badge } from './documents.js';
import { every, state } from './app.js';

// afterNav runs fn once the next page has started (toasts of the old page are cleared first).
function afterNav(fn) { window.addEventListener('hashchange', () => fn(), { once: true }); }

function listContext() {
  try { return JSON.parse(sessionStorage.getItem('list')) || { ids: [], hash: '#/documents' }; } catch { return { ids: [], hash: '#/documents' }; }
}

export async function documentPage(id, page) {
  let d;
  try { d = await api('GET', `/api/documents/${id}`); } catch (e) {
    if (e.status === 401 || e.status === 0) return;
    mount(h('h1', {}, 'Document'), h('p', { class: 'error' }, e.status === 404 ? 'This document does not exist.' : e.message),
      h('a', { href: '#/documents' }, 'Back to documents'));
    return;
  }
  const topics = await api('GET', '/api/topics');
  const byId = new Map(topics.map((t) => [t.id, t]));
  const ctx = listContext();
  const at = ctx.ids.indexOf(id);
  const err = errorBox('doc-error');
  document.title = d.filename + ' · DocuVault';

  // Rename in place: the title becomes a field; Enter saves, Esc gives up.
  const titleBox = h('div', { class: 'titlebar' });
  const showTitle = () => titleBox.replaceChildren(h('h1', { id: 'doc-title', title: d.filename }, d.filename),
    h('button', { type: 'button', class: 'secondary', id: 'doc-rename', onclick: editTitle }, 'Rename'));
  const editTitle = () => {
    const input = h('input', { type: 'text', id: 'doc-name', value: d.filename, 'aria-label': 'File name', maxlength: 255 });
    const save = async () => {
      const name = input.value.trim();
      if (!name || name === d.filename) { showTitle(); return; }
      try { d = await api('PATCH', `/api/documents/${id}`, { filename: name }); toast('Renamed.'); showTitle(); titleBox.querySelector('button').focus(); } catch (e) { err.textContent = e.message; }
    };
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { e.preventDefault(); save(); }
      if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); showTitle(); }
    });
    titleBox.replaceChildren(h('form', { class: 'row grow', onsubmit: (e) => { e.preventDefault(); save(); } }, input,
      h('button', { type: 'submit', id: 'doc-name-save' }, 'Save'), h('button', { type: 'button', class: 'secondary', onclick: showTitle }, 'Cancel')));
    input.focus(); input.select();
  };
  showTitle();

  // Topics in place: chips with a remove button, a field with suggestions to add one.
  const topicBox = h('div', { id: 'doc-topics' });
  const setTopics = async (ids) => {
    try { d = await api('PATCH', `/api/documents/${id}`, { topic_ids: ids }); drawTopics(); } catch (e) { err.textContent = e.message; }
  };
  const drawTopics = () => {
    const current = d.topics || [];
    const chips = current.length ? current.map((t) => h('span', { class: 'chipwrap' },
      chip({ ...t, color: (byId.get(t.id) || {}).color }, { href: '#/documents?topic=' + encodeURIComponent(t.id), title: t.source === 'manual' ? 'set by you' : t.confidence ? `${Math.round(t.confidence * 100)}% sure` : '' }),
      h('button', { type: 'button', class: 'ghost icon', 'aria-label': 'Remove topic ' + t.name, onclick: () => setTopics(current.filter((x) => x.id !== t.id).map((x) => x.id)) }, icon('x'))))
      : [h('span', { class: 'muted' }, '—')];
    const suggested = (d.suggested_topics || []).filter((s) => !current.some((c) => c.id === s.id));
    const list = h('datalist', { id: 'topic-options' }, topics.filter((t) => !current.some((c) => c.id === t.id)).map((t) => h('option', { value: t.name })));
    const add = h('input', { type: 'text', id: 'topic-add', list: 'topic-options', placeholder: 'Add a topic', 'aria-label': 'Add a topic', autocomplete: 'off' });
    const addForm = h('form', { class: 'row', onsubmit: async (e) => {
      e.preventDefault();
      const name = add.value.trim();
      if (!name) return;
      let t = topics.find((x) => x.name.toLowerCase() === name.toLowerCase());
      try {
        if (!t) { t = await api('POST', '/api/topics', { name, description: '' }); topics.push(t); byId.set(t.id, t); }
        await setTopics([...current.map((x) => x.id), t.id]);
      } catch (e2) { err.textContent = e2.message; }
    } }, add, h('button', { type: 'submit', class: 'secondary', id: 'topic-add-button' }, 'Add'));
    topicBox.replaceChildren(...[
      h('div', { class: 'chips', style: { flexWrap: 'wrap', alignItems: 'center' } }, chips),
      d.needs_topic ? h('p', { class: 'muted' }, 'This document needs a topic.') : null,
      suggested.length ? h('div', {}, h('span', { class: 'muted' }, 'Suggested: '), h('span', { class: 'chips', style: { flexWrap: 'wrap', display: 'inline-flex' } },
        suggested.map((s) => chip({ ...s, system: (byId.get(s.id) || {}).system, color: (byId.get(s.id) || {}).color }, { cls: 'suggested', title: 'click to confirm',
          onclick: () => setTopics([...current.map((x) => x.id), s.id]) })))) : null,
      addForm, list].filter(Boolean));
  };
  drawTopics();

  // Preview, text and details tabs.
  const panel = h('div', { class: 'preview', id: 'doc-panel', role: 'tabpanel', tabindex: 0 });
  let objectURL = null;
  const free = () => { if (objectURL) URL.revokeObjectURL(objectURL); objectURL = null; };
  const text = async () => {
    const r = await fetch(`/api/documents/${id}/text`, { credentials: 'same-origin' });
    if (!r.ok) return h('p', { class: 'muted' }, r.status === 404 ? 'No text was extracted from this document.' : `The text is not available (HTTP ${r.status}).`);
    const t = await r.text();
    return t.trim() ? h('pre', { class: 'text', id: 'doc-text' }, t) : h('p', { class: 'muted' }, 'No text was extracted from this document.');
  };
  const show = {
    async preview() {
      if (d.status === 'pending') return h('p', { class: 'muted' }, 'The upload is not finished.');
      const r = await fetch(`/api/documents/${id}/preview`, { credentials: 'same-origin' }).catch(() => null);
      if (!r || !r.ok) return h('div', { class: 'empty' }, h('p', { class: 'muted', id: 'no-preview' }, 'No preview for this type of file.'),
        h('a', { class: 'button secondary', href: `/api/documents/${id}/download` }, icon('download'), 'Download'));
      const type = r.headers.get('Content-Type') || '';
      if (type.startsWith('text/')) return h('pre', { class: 'text', id: 'doc-preview-text' }, await r.text());
      free();
      objectURL = URL.createObjectURL(await r.blob());
      if (type.startsWith('image/')) return h('img', { id: 'doc-preview-img', src: objectURL, alt: 'Preview of ' + d.filename });
      return h('iframe', { id: 'doc-preview-frame', src: objectURL, title: 'Preview of ' + d.filename });
    },
    text,
  };
  const tabs = ['preview', 'text'].map((k) => h('button', { type: 'button', role: 'tab', id: 'tab-' + k, 'aria-selected': 'false', 'aria-controls': 'doc-panel',
    onclick: () => openTab(k) }, k === 'preview' ? 'Preview' : 'Text'));
  const openTab = async (k) => {
    tabs.forEach((t) => { const on = t.id === 'tab-' + k; t.setAttribute('aria-selected', String(on)); t.tabIndex = on ? 0 : -1; });
    panel.setAttribute('aria-labelledby', 'tab-' + k);
    panel.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
    try { panel.replaceChildren(await show[k]()); } catch (e) { panel.replaceChildren(h('p', { class: 'error' }, e.message)); }
  };
  const tablist = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Document views', onkeydown: (e) => {
    if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
    e.preventDefault(); e.stopPropagation();
    const i = tabs.findIndex((t) => t.getAttribute('aria-selected') === 'true');
    const next = tabs[(i + 1) % tabs.length];
    next.focus(); openTab(next.id.slice(4));
  } }, tabs);

  const trash = async () => {
    try { await api('POST', `/api/documents/${id}/trash`); } catch (e) { err.textContent = e.message; return; }
    afterNav(() => toast('Moved to the trash.', { label: 'Undo', run: () => api('POST', `/api/documents/${id}/restore`).then(() => { location.hash = '#/documents/' + id; }, (e) => toast(e.message)) }));
    location.hash = ctx.hash || '#/documents';
  };
  const actions = h('div', { class: 'actions' },
    d.status !== 'pending' ? h('a', { class: 'button', id: 'doc-download', href: `/api/documents/${id}/download`, download: d.filename }, icon('download'), 'Download') : null,
    d.trashed_at ? h('button', { type: 'button', class: 'secondary', id: 'doc-restore', onclick: async () => {
      try { await api('POST', `/api/documents/${id}/restore`); toast('Restored.'); state.page = { key: 'documents/' + id }; documentPage(id, state.page); } catch (e) { err.textContent = e.message; }
    } }, 'Restore') : h('button', { class: 'secondary', id: 'doc-reclassify', type: 'button', onclick: async () => {
      try { await api('POST', `/api/documents/${id}/classify`); toast('Queued for classification.'); documentPage(id, page); } catch (e) { err.textContent = e.message; }
    } }, 'Classify again'),
    d.trashed_at ? h('button', { class: 'danger', id: 'doc-delete', type: 'button', onclick: (e) => {
      const b = e.currentTarget;
      b.replaceWith(h('span', { role: 'alert' }, 'Delete for good? '), h('button', { type: 'button', class: 'danger', id: 'doc-delete-yes', onclick: async () => {
        try { await api('DELETE', `/api/documents/${id}`); afterNav(() => toast('Deleted for good.')); location.hash = ctx.hash || '#/documents'; } catch (e2) { err.textContent = e2.message; }
      } }, 'Delete'));
      document.getElementById('doc-delete-yes').focus();
    } }, 'Delete for good') : h('button', { class: 'danger', id: 'doc-trash', type: 'button', onclick: trash }, icon('trash'), 'Move to trash'));

  const nav = h('p', { class: 'row', style: { alignItems: 'center' } },
    h('a', { href: ctx.hash || '#/documents', id: 'doc-back' }, '← Documents'),
    at >= 0 ? h('span', { class: 'muted', style: { flex: '0 0 auto' } }, `${at + 1} of ${ctx.ids.length} · ← → to move, Esc to close`) : null);

  mount(nav, titleBox, err,
    h('div', { class: 'docpage' },
      h('section', { class: 'card', 'aria-label': 'Contents' }, tablist, panel),
      h('aside', {},
        h('section', { class: 'card', 'aria-labelledby': 'h-actions' }, h('h2', { id: 'h-actions', class: 'sr-only' }, 'Actions'), actions),
        h('section', { class: 'card', 'aria-labelledby': 'h-topics' }, h('h2', { id: 'h-topics' }, 'Topics'), topicBox),
        h('section', { class: 'card', 'aria-labelledby': 'h-details' }, h('h2', { id: 'h-details' }, 'Details'), h('dl', { class: 'meta' },
          h('dt', {}, 'Status'), h('dd', { id: 'doc-status' }, badge(d)),
          d.error ? [h('dt', {}, 'Note'), h('dd', { id: 'doc-note' }, d.error)] : null,
          h('dt', {}, 'Size'), h('dd', {}, fmtBytes(d.size_bytes)),
          h('dt', {}, 'Type'), h('dd', {}, d.content_type),
          h('dt', {}, 'Added'), h('dd', {}, fmtDate(d.created_at)),
          h('dt', {}, 'Classified'), h('dd', {}, fmtDate(d.classified_at) || '—'),
          d.trashed_at ? [h('dt', {}, 'Trashed'), h('dd', {}, fmtDate(d.trashed_at))] : null)))));
  openTab('preview');

  // Keyboard: arrows walk the list this page was opened from; Esc goes back to it.
  const onKey = (e) => {
    const t = e.target;
    if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === 'Escape') { e.preventDefault(); location.hash = ctx.hash || '#/documents'; }
    const step = e.key === 'ArrowRight' || e.key === 'ArrowDown' ? 1 : e.key === 'ArrowLeft' || e.key === 'ArrowUp' ? -1 : 0;
    if (step && at >= 0 && ctx.ids[at + step]) { e.preventDefault(); location.hash = '#/documents/' + ctx.ids[at + step]; }
  };
  document.addEventListener('keydown', onKey);
  const leave = () => { document.removeEventListener('keydown', onKey); window.removeEventListener('hashchange', leave); free(); };
  window.addEventListener('hashchange', leave);
  if (d.status === 'uploaded') {
    every(1500, async () => {
      const now = await api('GET', `/api/documents/${id}`);
      if (now.status !== 'uploaded' && state.page === page) { leave(); documentPage(id, page); }
    });
  }
}
