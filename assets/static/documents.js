// Documents: quota bar, uploads, the list with filters and search, and one document's page.
import { api, fmtBytes, fmtDate } from './api.js';
import { h, mount, quotaBar, toast, errorBox } from './dom.js';
import { Uploader } from './upload.js';
import { every, stopTimers } from './app.js';

const STATUSES = ['pending', 'uploaded', 'classified', 'classification_failed'];

function badge(status) {
  const label = { pending: 'upload unfinished', uploaded: 'classifying…', classified: 'classified', classification_failed: 'classification failed' }[status] || status;
  return h('span', { class: 'badge ' + status }, label);
}

function topicChips(topics) {
  return (topics || []).map((t) => h('span', { class: 'topic' + (t.system ? ' system' : ''), title: t.system ? 'system topic' : 'your topic' }, t.name));
}

export async function documentsPage() {
  const quotaText = h('span', { id: 'quota-text' });
  const quotaWrap = h('div', { class: 'quota' });
  const refreshQuota = async () => {
    const q = await api('GET', '/api/auth/me/quota');
    quotaText.textContent = `${fmtBytes(q.used_bytes)} of ${fmtBytes(q.limit_bytes)} used`;
    quotaWrap.replaceChildren(quotaBar(q));
  };

  const uploads = h('ul', { class: 'uploads', id: 'uploads', 'aria-label': 'Uploads' });
  const input = h('input', { type: 'file', id: 'file-input', multiple: true, class: 'sr-only',
    onchange: () => { uploader.add(input.files); input.value = ''; } });
  const drop = h('div', { class: 'drop', id: 'drop' },
    h('p', {}, 'Drop files here, or '),
    h('label', { for: 'file-input', class: 'button', tabindex: 0, onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); input.click(); } } }, 'choose files'),
    input);
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); uploader.add(e.dataTransfer.files); });

  let topics = [];
  try { topics = await api('GET', '/api/topics'); } catch { /* shown as empty filter */ }
  const search = h('input', { type: 'search', id: 'search', placeholder: 'Search names and contents', 'aria-label': 'Search documents' });
  const topicSel = h('select', { id: 'filter-topic', 'aria-label': 'Filter by topic' }, h('option', { value: '' }, 'All topics'),
    topics.map((t) => h('option', { value: t.id }, t.name + (t.system ? ' (system)' : ''))));
  const statusSel = h('select', { id: 'filter-status', 'aria-label': 'Filter by status' }, h('option', { value: '' }, 'Any status'),
    STATUSES.map((s) => h('option', { value: s }, s.replace('_', ' '))));
  const tbody = h('tbody', { id: 'doc-list' });
  const more = h('button', { class: 'secondary', id: 'load-more', type: 'button', hidden: true }, 'Load more');
  const empty = h('p', { class: 'muted', id: 'doc-empty', hidden: true }, 'No documents yet.');
  let cursor = null;
  let shown = 0;

  const row = (d) => h('tr', { 'data-id': d.id, 'data-status': d.status },
    h('td', {}, h('a', { href: `#/documents/${d.id}` }, d.filename)),
    h('td', { class: 'hide-narrow' }, fmtBytes(d.size_bytes)),
    h('td', {}, badge(d.status)),
    h('td', { class: 'topics' }, topicChips(d.topics)));

  const query = () => {
    const p = new URLSearchParams();
    if (search.value.trim()) p.set('q', search.value.trim());
    if (topicSel.value) p.set('topic', topicSel.value);
    if (statusSel.value) p.set('status', statusSel.value);
    return p;
  };
  // load replaces the list with the first `want` documents (so a refresh keeps what was shown).
  const load = async (append) => {
    const p = query();
    p.set('limit', String(append ? 50 : Math.max(50, Math.min(200, shown))));
    if (append && cursor) p.set('cursor', cursor);
    const page = await api('GET', '/api/documents?' + p);
    const rows = page.items.map(row);
    if (append) tbody.append(...rows); else tbody.replaceChildren(...rows);
    shown = tbody.children.length;
    cursor = page.next_cursor;
    more.hidden = !cursor;
    empty.hidden = shown > 0;
  };
  more.addEventListener('click', () => load(true));
  let debounce;
  search.addEventListener('input', () => { clearTimeout(debounce); debounce = setTimeout(() => { shown = 0; load(false); }, 250); });
  topicSel.addEventListener('change', () => { shown = 0; load(false); });
  statusSel.addEventListener('change', () => { shown = 0; load(false); });

  const uploader = new Uploader(uploads, () => { refreshQuota(); load(false); });

  mount(
    h('h1', {}, 'Documents'),
    h('section', { class: 'card', 'aria-label': 'Storage' }, h('div', {}, 'Storage: ', quotaText), quotaWrap),
    h('section', { class: 'card', 'aria-label': 'Upload' }, drop, uploads),
    h('section', { class: 'card', 'aria-label': 'Your documents' },
      h('div', { class: 'row' }, search, topicSel, statusSel),
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', { class: 'hide-narrow' }, 'Size'), h('th', {}, 'Status'), h('th', {}, 'Topics'))), tbody),
      empty, more));
  await Promise.all([refreshQuota(), load(false)]);
  // Status and topics update without a reload while classification runs.
  every(1500, () => {
    if (tbody.querySelector('[data-status="uploaded"]')) load(false);
  });
}

export async function documentPage(id) {
  stopTimers();
  let d;
  try { d = await api('GET', `/api/documents/${id}`); } catch (e) {
    mount(h('h1', {}, 'Document'), h('p', { class: 'error' }, e.status === 404 ? 'This document does not exist.' : e.message),
      h('a', { href: '#/documents' }, 'Back to documents'));
    return;
  }
  const topics = await api('GET', '/api/topics');
  const err = errorBox('doc-error');
  const name = h('input', { type: 'text', id: 'doc-name', value: d.filename, 'aria-label': 'File name' });
  const checks = topics.map((t) => h('label', { class: 'muted' },
    h('input', { type: 'checkbox', value: t.id, checked: d.topics.some((x) => x.id === t.id), class: 'topic-check' }), ' ', t.name, t.system ? ' (system)' : ''));
  const save = async (body) => {
    err.textContent = '';
    try { d = await api('PATCH', `/api/documents/${id}`, body); toast('Saved.'); documentPage(id); } catch (e) { err.textContent = e.message; }
  };
  mount(
    h('p', {}, h('a', { href: '#/documents' }, '← Documents')),
    h('h1', { id: 'doc-title' }, d.filename),
    h('section', { class: 'card' },
      h('table', {}, h('tbody', {},
        h('tr', {}, h('th', {}, 'Status'), h('td', {}, badge(d.status))),
        d.error ? h('tr', {}, h('th', {}, 'Note'), h('td', { id: 'doc-note' }, d.error)) : null,
        h('tr', {}, h('th', {}, 'Size'), h('td', {}, fmtBytes(d.size_bytes))),
        h('tr', {}, h('th', {}, 'Type'), h('td', {}, d.content_type)),
        h('tr', {}, h('th', {}, 'Uploaded'), h('td', {}, fmtDate(d.uploaded_at || d.created_at))),
        h('tr', {}, h('th', {}, 'Classified'), h('td', {}, fmtDate(d.classified_at) || '—')),
        h('tr', {}, h('th', {}, 'Topics'), h('td', {}, topicChips(d.topics))))),
      h('p', { class: 'row' },
        d.status !== 'pending' ? h('a', { class: 'button', id: 'doc-download', href: `/api/documents/${id}/download`, download: d.filename }, 'Download') : null,
        h('button', { class: 'secondary', id: 'doc-reclassify', type: 'button', onclick: async () => {
          try { await api('POST', `/api/documents/${id}/classify`); toast('Queued for classification.'); documentPage(id); } catch (e) { err.textContent = e.message; }
        } }, 'Classify again'),
        h('button', { class: 'danger', id: 'doc-delete', type: 'button', onclick: async () => {
          if (!confirm(`Delete "${d.filename}" for good?`)) return;
          try { await api('DELETE', `/api/documents/${id}`); toast('Deleted.'); location.hash = '#/documents'; } catch (e) { err.textContent = e.message; }
        } }, 'Delete')),
      err),
    h('section', { class: 'card' }, h('h2', {}, 'Rename'),
      h('form', { class: 'row', onsubmit: (e) => { e.preventDefault(); save({ filename: name.value }); } }, name, h('button', { type: 'submit', id: 'doc-rename' }, 'Rename'))),
    h('section', { class: 'card' }, h('h2', {}, 'Topics'),
      topics.length ? h('form', { onsubmit: (e) => { e.preventDefault(); save({ topic_ids: checks.map((c) => c.querySelector('input')).filter((i) => i.checked).map((i) => i.value) }); } },
        h('div', {}, checks.map((c) => h('div', {}, c))), h('p', {}, h('button', { type: 'submit', id: 'doc-topics-save' }, 'Save topics')))
        : h('p', { class: 'muted' }, 'No topics yet: create some under Topics.')));
  if (d.status === 'uploaded') {
    // Classification is running: show its result as soon as it lands.
    every(1500, async () => {
      const now = await api('GET', `/api/documents/${id}`);
      if (now.status !== 'uploaded') documentPage(id);
    });
  }
}
