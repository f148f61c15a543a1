// The documents page: toolbar (search as you type, filters, sort, view, upload), the list or
// grid with infinite scroll, bulk selection and actions, and the trash. Filters live in the URL.
import { api, ApiError, fmtBytes, fmtDay, fmtDate } from './api.js';
import { h, mount, toast, chip, marked, icon } from './dom.js';
import { Uploader } from './upload.js';
import { every, navigate, refreshQuota, state } from './app.js';

const PAGE = 100;
const FIRST = 30; // rows drawn at once: more than a tall screen holds
// TYPING is the pause in typing that sends a search: short, as a search costs the server a
// few milliseconds and an older answer arriving late is dropped.
const TYPING = 50;
const MAX_BULK = 500; // the server's bound on one bulk request
const VERBS = { add_topics: 'Adding the topic to', remove_topics: 'Removing the topic from', trash: 'Moving to the trash', restore: 'Restoring', delete: 'Deleting' };
const SORTS = [['created:desc', 'Newest first'], ['created:asc', 'Oldest first'], ['name:asc', 'Name A–Z'], ['name:desc', 'Name Z–A'],
  ['size:desc', 'Largest first'], ['size:asc', 'Smallest first']];
const STATUS = { pending: 'uploading', uploaded: 'classifying…', classified: 'classified', classification_failed: 'classification failed' };

export function badge(d) {
  if (d.trashed_at) return h('span', { class: 'badge trashed' }, 'in trash');
  if (d.needs_topic) return h('span', { class: 'badge needs' }, 'needs a topic');
  return h('span', { class: 'badge ' + d.status }, STATUS[d.status] || d.status);
}

// topicChips draws a document's topics with their colours; each filters the list by itself.
export function topicChips(d, byId) {
  const list = d.topics || [];
  if (!list.length) return [h('span', { class: 'muted', title: 'No topic' }, '—')];
  return list.map((t) => chip({ ...t, color: (byId.get(t.id) || {}).color }, { href: '#/documents?topic=' + encodeURIComponent(t.id) }));
}

// saveListIds remembers the order of the list so the document page's arrow keys follow it.
function saveListIds(ids, hash) {
  try { sessionStorage.setItem('list', JSON.stringify({ ids, hash })); } catch { /* too big: arrows stop at the edges */ }
}

export async function documentsPage(params, page) {
  const f = {}; // the current filters, mirrored in the URL
  function query(after) {
    const p = new URLSearchParams();
    if (f.q) p.set('q', f.q);
    if (f.topic) p.set('topic', f.topic);
    if (f.status) p.set('status', f.status);
    if (!f.q) { p.set('sort', f.sort); p.set('order', f.order); } // a search lists the best matches first
    if (f.trashed) p.set('trashed', 'true');
    p.set('limit', String(PAGE));
    if (after) p.set('cursor', after);
    return p;
  }

  const readParams = (p) => {
    f.q = p.get('q') || ''; f.topic = p.get('topic') || ''; f.status = p.get('status') || '';
    f.sort = p.get('sort') || 'created'; f.order = p.get('order') || (f.sort === 'name' ? 'asc' : 'desc');
    f.view = p.get('view') === 'grid' ? 'grid' : 'list'; f.trashed = p.get('trashed') === 'true';
  };
  readParams(params);
  // The first page is asked for at once, beside the topics: the rows need not wait for them.
  let first = api('GET', '/api/documents?' + query(null));
  first.catch(() => { /* handled where it is awaited */ });
  let topics = [];
  try { topics = await api('GET', '/api/topics'); } catch (e) { if (e.status === 401) return; throw e; }
  const byId = new Map(topics.map((t) => [t.id, t]));
  const hashOf = () => {
    const p = new URLSearchParams();
    if (f.q) p.set('q', f.q);
    if (f.topic) p.set('topic', f.topic);
    if (f.status) p.set('status', f.status);
    if (f.sort !== 'created' || f.order !== 'desc') { p.set('sort', f.sort); p.set('order', f.order); }
    if (f.view === 'grid') p.set('view', 'grid');
    if (f.trashed) p.set('trashed', 'true');
    const s = p.toString();
    return '#/documents' + (s ? '?' + s : '');
  };

  // toolbar
  const search = h('input', { type: 'search', id: 'search', placeholder: 'Search names and contents  ( / )', 'aria-label': 'Search documents', autocomplete: 'off' });
  const topicSel = h('select', { id: 'filter-topic', 'aria-label': 'Filter by topic' }, h('option', { value: '' }, 'All topics'),
    topics.map((t) => h('option', { value: t.id }, t.name + (t.system ? ' · system' : ''))));
  const statusSel = h('select', { id: 'filter-status', 'aria-label': 'Filter by status' }, h('option', { value: '' }, 'Any status'),
    Object.entries(STATUS).map(([v, l]) => h('option', { value: v }, l)));
  const sortSel = h('select', { id: 'sort', 'aria-label': 'Sort' }, SORTS.map(([v, l]) => h('option', { value: v }, l)));
  const viewList = h('button', { type: 'button', id: 'view-list', 'aria-label': 'List view', title: 'List view' }, icon('list'));
  const viewGrid = h('button', { type: 'button', id: 'view-grid', 'aria-label': 'Grid view', title: 'Grid view' }, icon('grid'));
  const trashBtn = h('button', { type: 'button', class: 'secondary', id: 'show-trash' });
  const input = h('input', { type: 'file', id: 'file-input', multiple: true, class: 'sr-only', tabindex: -1, 'aria-hidden': 'true',
    onchange: () => { uploader.add(input.files); input.value = ''; } });
  const uploadBtn = h('button', { type: 'button', id: 'upload-button', onclick: () => input.click() }, icon('upload'), 'Upload');
  const title = h('h1', { id: 'docs-title' }, 'Documents');

  const counts = h('p', { class: 'counts', id: 'doc-count', 'aria-live': 'polite' });
  const bulk = h('div', { class: 'bulkbar', id: 'bulkbar', hidden: true, role: 'region', 'aria-label': 'Selected documents' });
  const listBox = h('div', { id: 'doc-view' });
  const sentinel = h('div', { id: 'sentinel', 'aria-hidden': 'true' });
  const more = h('button', { type: 'button', class: 'secondary', id: 'load-more', hidden: true }, 'Show more');
  const uploads = h('details', { class: 'uploads', id: 'uploads', hidden: true }, h('summary', { id: 'uploads-summary' }, 'Uploads'), h('ul', { 'aria-label': 'Uploads' }));

  let items = [];
  let cursor = null;
  let total = null;
  let loading = null;
  let generation = 0;
  const selected = new Set();
  let allMatching = false;
  let lastClicked = -1;

  const syncControls = () => {
    search.value !== f.q && document.activeElement !== search && (search.value = f.q);
    topicSel.value = f.topic; statusSel.value = f.status; sortSel.value = `${f.sort}:${f.order}`;
    sortSel.disabled = !!f.q; sortSel.title = f.q ? 'A search shows the best matches first' : '';
    viewList.setAttribute('aria-pressed', String(f.view === 'list')); viewGrid.setAttribute('aria-pressed', String(f.view === 'grid'));
    trashBtn.replaceChildren(icon(f.trashed ? 'list' : 'trash'), f.trashed ? 'All documents' : 'Trash');
    title.textContent = f.trashed ? 'Trash' : 'Documents';
    document.title = (f.trashed ? 'Trash' : 'Documents') + ' · DocuVault';
  };

  const select = (id, on) => { if (on) selected.add(id); else { selected.delete(id); allMatching = false; } };
  const selectRow = (i, e) => {
    const d = items[i];
    const on = !selected.has(d.id);
    if (e && e.shiftKey && lastClicked >= 0) {
      const [a, b] = [Math.min(lastClicked, i), Math.max(lastClicked, i)];
      for (let k = a; k <= b; k++) select(items[k].id, on);
    } else select(d.id, on);
    lastClicked = i;
    render();
  };

  const row = (d, i) => {
    const box = h('input', { type: 'checkbox', class: 'pick', 'aria-label': 'Select ' + d.filename, checked: selected.has(d.id),
      onclick: (e) => { e.preventDefault(); selectRow(i, e); } });
    const name = [h('a', { class: 'name trunc', href: `#/documents/${d.id}`, title: d.filename }, d.filename)];
    if (d.snippet) name.push(h('span', { class: 'snippet', title: d.snippet.replace(/<\/?mark>/g, '') }, marked(d.snippet)));
    return h('tr', { 'data-id': d.id, 'data-status': d.status, class: selected.has(d.id) ? 'selected' : null },
      h('td', { class: 'c-sel' }, box),
      h('td', { class: 'c-name' }, name),
      h('td', { class: 'c-topics' }, h('div', { class: 'chips' }, topicChips(d, byId))),
      h('td', { class: 'c-date', title: fmtDate(d.created_at) }, fmtDay(d.created_at)),
      h('td', { class: 'c-size' }, fmtBytes(d.size_bytes)),
      h('td', { class: 'c-status' }, badge(d)));
  };
  const tile = (d, i) => h('div', { class: 'tile' + (selected.has(d.id) ? ' selected' : ''), 'data-id': d.id, 'data-status': d.status },
    h('label', { class: 'sel' }, h('input', { type: 'checkbox', class: 'pick', 'aria-label': 'Select ' + d.filename, checked: selected.has(d.id),
      onclick: (e) => { e.preventDefault(); selectRow(i, e); } })),
    h('div', { class: 'thumb' }, d.has_thumbnail ? h('img', { src: `/api/documents/${d.id}/thumbnail`, alt: '', loading: 'lazy' }) : icon('file')),
    h('div', { class: 'meta' }, h('a', { class: 'name trunc', href: `#/documents/${d.id}`, title: d.filename }, d.filename),
      h('div', { class: 'chips' }, topicChips(d, byId)), h('div', { class: 'muted trunc', style: { fontSize: 'var(--fs-s)' } }, fmtDay(d.created_at), ' · ', fmtBytes(d.size_bytes))));

  const sortHeader = (key, label, cls) => {
    if (f.q) return h('th', { class: cls, scope: 'col' }, label);
    const active = f.sort === key;
    const next = active && f.order === 'asc' ? 'desc' : active ? 'asc' : key === 'name' ? 'asc' : 'desc';
    return h('th', { class: cls, scope: 'col', 'aria-sort': active ? (f.order === 'asc' ? 'ascending' : 'descending') : null },
      h('button', { type: 'button', class: 'sortbtn', 'data-sort': key, onclick: () => setFilters({ sort: key, order: next }) }, label, active ? (f.order === 'asc' ? ' ↑' : ' ↓') : ''));
  };

  // The rows past the first screen are drawn after the first screen is painted: a new search
  // or page shows its first rows without waiting for the layout of a hundred.
  let drawn = 0;
  let resting = false; // the rest is still to be drawn: the end of the list is not in sight
  const drawRest = (parent, make) => {
    const n = ++drawn;
    resting = items.length > FIRST;
    if (!resting) return;
    requestAnimationFrame(() => setTimeout(() => {
      if (n !== drawn) return;
      parent.append(...items.slice(FIRST).map((d, k) => make(d, k + FIRST)));
      resting = false;
    }, 0));
  };
  const filtered = () => f.q || f.topic || f.status;
  const render = () => {
    syncControls();
    if (!items.length && !loading) {
      listBox.replaceChildren(h('div', { class: 'card empty', id: 'doc-empty' },
        filtered() ? [h('p', {}, h('strong', {}, 'No documents match.')), h('button', { type: 'button', class: 'secondary', id: 'clear-filters',
          onclick: () => setFilters({ q: '', topic: '', status: '' }) }, 'Clear filters')]
          : f.trashed ? h('p', {}, 'The trash is empty.')
            : [h('p', {}, h('strong', {}, 'No documents yet.')), h('p', { class: 'muted' }, 'Drop files anywhere on this page, or use Upload.')]));
    } else if (f.view === 'grid') {
      const grid = h('div', { class: 'grid', id: 'doc-list' }, items.slice(0, FIRST).map(tile));
      listBox.replaceChildren(grid);
      drawRest(grid, tile);
    } else {
      const allBox = h('input', { type: 'checkbox', id: 'select-page', 'aria-label': 'Select all shown', checked: items.length > 0 && items.every((d) => selected.has(d.id)),
        onclick: (e) => { const on = e.target.checked; items.forEach((d) => select(d.id, on)); render(); } });
      listBox.replaceChildren(h('table', { class: 'docs' },
        h('caption', { class: 'sr-only' }, f.trashed ? 'Documents in the trash' : 'Your documents'),
        h('thead', {}, h('tr', {}, h('th', { class: 'c-sel', scope: 'col' }, allBox), sortHeader('name', 'Name', 'c-name'),
          h('th', { class: 'c-topics', scope: 'col' }, 'Topics'), sortHeader('created', 'Date added', 'c-date'), sortHeader('size', 'Size', 'c-size'),
          h('th', { class: 'c-status', scope: 'col' }, 'Status'))),
        h('tbody', { id: 'doc-list' }, items.slice(0, FIRST).map(row))));
      drawRest(listBox.querySelector('#doc-list'), row);
    }
    const n = items.length;
    counts.textContent = total !== null && total !== undefined ? `${n} of ${total} document${total === 1 ? '' : 's'}` : `${n} document${n === 1 ? '' : 's'}${cursor ? ' (more below)' : ''}`;
    more.hidden = !cursor;
    renderBulk();
  };

  const count = () => (allMatching && typeof total === 'number' ? total : selected.size);
  // One topic picker for the page's life: redrawing the bar keeps the choice.
  const topicPick = h('select', { id: 'bulk-topic', 'aria-label': 'Topic for the selected documents' }, topics.map((t) => h('option', { value: t.id }, t.name)));
  const ids = () => [...selected];
  let busy = null; // the text of a bulk action under way, shown instead of the buttons
  const renderBulk = () => {
    bulk.hidden = selected.size === 0 && !busy;
    if (bulk.hidden) { bulk.replaceChildren(); return; }
    if (busy !== null) { bulk.replaceChildren(h('span', { id: 'bulk-progress', role: 'status' }, busy)); return; }
    const b = (id, label, fn, cls = 'secondary') => h('button', { type: 'button', id, class: cls, onclick: fn }, label);
    const zip = allMatching ? (typeof total !== 'number' || total <= MAX_BULK ? b('bulk-zip', 'Download zip', zipAll) : null)
      : h('a', { class: 'button secondary', id: 'bulk-zip', href: '/api/documents/zip?ids=' + ids().join(','), download: 'documents.zip' }, icon('download'), 'Download zip');
    bulk.replaceChildren(...[
      h('strong', { id: 'bulk-count' }, allMatching && typeof total !== 'number' ? 'All matching selected' : `${count()} selected`),
      cursor && !allMatching ? b('select-all', typeof total === 'number' ? `Select all ${total}` : 'Select all matching',
        () => { allMatching = true; items.forEach((d) => selected.add(d.id)); render(); }) : null,
      f.trashed ? null : [topics.length ? topicPick : null, topics.length ? b('bulk-add-topic', 'Add topic', () => bulkAct('add_topics', { topic_ids: [topicPick.value] })) : null,
        topics.length ? b('bulk-remove-topic', 'Remove topic', () => bulkAct('remove_topics', { topic_ids: [topicPick.value] })) : null,
        zip, b('bulk-trash', 'Move to trash', () => bulkAct('trash'), 'danger')],
      f.trashed ? [b('bulk-restore', 'Restore', () => bulkAct('restore')), b('bulk-delete', 'Delete for good', () => confirmDelete(), 'danger')] : null,
      b('bulk-clear', 'Clear selection', () => { selected.clear(); allMatching = false; render(); }, 'ghost')].flat(2).filter(Boolean));
  };
  const confirmDelete = () => {
    const n = count();
    bulk.replaceChildren(h('span', { role: 'alert' }, `Delete ${n} document${n === 1 ? '' : 's'} for good? This cannot be undone.`),
      h('button', { type: 'button', class: 'danger', id: 'bulk-delete-yes', onclick: () => bulkAct('delete') }, 'Delete for good'),
      h('button', { type: 'button', class: 'secondary', onclick: renderBulk }, 'Keep'));
    bulk.querySelector('#bulk-delete-yes').focus();
  };
  const progress = (text) => { busy = text; renderBulk(); };
  // matchingIds pages through every document the filters match, keeping only the ids: what
  // "select all" acts on, however many pages the screen has loaded.
  const matchingIds = async () => {
    const all = [];
    let after = null;
    do {
      const p = query(after);
      p.set('limit', '200');
      const res = await api('GET', '/api/documents?' + p);
      res.items.forEach((d) => all.push(d.id));
      after = res.next_cursor || null;
      progress(`Finding the documents: ${all.length}${typeof total === 'number' ? ' of ' + total : ''}…`);
    } while (after);
    return all;
  };
  // inChunks sends a bulk action in requests of at most MAX_BULK documents (each all or
  // nothing, as the server bounds them), saying how far it got; it stops at the first refusal.
  const inChunks = async (action, chosen, extra = {}) => {
    const done = [];
    for (let i = 0; i < chosen.length; i += MAX_BULK) {
      const part = chosen.slice(i, i + MAX_BULK);
      if (chosen.length > MAX_BULK) progress(`${VERBS[action] || 'Working on'} ${i + part.length} of ${chosen.length}…`);
      try { await api('POST', '/api/documents/bulk', { ids: part, action, ...extra }); } catch (e) { return { done, error: e }; }
      done.push(...part);
    }
    return { done, error: null };
  };
  const zipAll = async () => {
    let chosen;
    try { chosen = await matchingIds(); } catch (e) { busy = null; renderBulk(); toast(e.message); return; }
    busy = null; renderBulk();
    if (chosen.length > MAX_BULK) { toast(`A zip holds at most ${MAX_BULK} documents: select fewer.`); return; }
    h('a', { href: '/api/documents/zip?ids=' + chosen.join(','), download: 'documents.zip' }).click();
  };
  const bulkAct = async (action, extra = {}) => {
    if (busy !== null) return;
    let chosen = ids();
    progress('Working…');
    let res;
    try {
      if (allMatching) chosen = await matchingIds();
      res = chosen.length ? await inChunks(action, chosen, extra) : { done: [], error: null };
    } catch (e) { res = { done: [], error: e }; }
    busy = null;
    const { done, error } = res;
    if (error && error.status === 401) return;
    selected.clear(); allMatching = false;
    const n = done.length;
    if (error) {
      toast(n ? `${n} of ${chosen.length} done; the rest were not changed: ${error.message}` : error.message);
    } else if (action === 'trash') {
      toast(`${n} moved to the trash.`, { label: 'Undo', run: () => inChunks('restore', done).then((r) => { busy = null; if (r.error) toast(r.error.message); reload(); }) });
    } else toast({ restore: 'Restored.', delete: 'Deleted for good.', add_topics: 'Topic added.', remove_topics: 'Topic removed.' }[action] || 'Done.');
    refreshQuota().catch(() => {});
    reload();
  };

  // load fetches the next page (or the first, when fresh); a newer query makes older answers moot.
  const load = async (fresh) => {
    if (fresh) { generation++; cursor = null; }
    const gen = generation;
    const p = query(fresh ? null : cursor);
    const job = fresh && first ? first : api('GET', '/api/documents?' + p);
    first = null;
    loading = job;
    let res;
    try { res = await job; } catch (e) {
      if (gen !== generation) return;
      loading = null;
      if (e instanceof ApiError && e.status !== 0 && e.status !== 401) toast(e.message);
      return;
    } finally { if (loading === job) loading = null; }
    if (gen !== generation) return;
    items = fresh ? res.items : items.concat(res.items);
    if (allMatching) res.items.forEach((d) => selected.add(d.id));
    cursor = res.next_cursor || null;
    total = typeof res.total === 'number' ? res.total : null;
    saveListIds(items.map((d) => d.id), hashOf());
    render();
    if (fresh) performance.mark('docs-rows', { detail: { q: f.q } });
  };
  const reload = () => load(true);

  // Only what really changes counts: the same search sent again (a debounced keystroke that
  // ended where it started) keeps the selection and the rows.
  const setFilters = (change, replace) => {
    const changed = Object.keys(change).filter((k) => f[k] !== change[k]);
    if (!changed.length) return;
    Object.assign(f, change);
    if (changed.some((k) => k === 'q' || k === 'topic' || k === 'status' || k === 'trashed')) { selected.clear(); allMatching = false; }
    navigate(hashOf(), replace);
    if (changed.length === 1 && changed[0] === 'view') { render(); return; }
    reload(); // the old rows stay until the new ones arrive: no flash of an empty list
    syncControls();
  };

  let debounce;
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => setFilters({ q: search.value.trim() }, true), TYPING);
  });
  search.addEventListener('keydown', (e) => { if (e.key === 'Escape' && search.value) { e.preventDefault(); search.value = ''; setFilters({ q: '' }); } });
  topicSel.addEventListener('change', () => setFilters({ topic: topicSel.value }));
  statusSel.addEventListener('change', () => setFilters({ status: statusSel.value }));
  sortSel.addEventListener('change', () => { const [s, o] = sortSel.value.split(':'); setFilters({ sort: s, order: o }); });
  viewList.addEventListener('click', () => setFilters({ view: 'list' }, true));
  viewGrid.addEventListener('click', () => setFilters({ view: 'grid' }, true));
  trashBtn.addEventListener('click', () => setFilters({ trashed: !f.trashed, status: '' }));
  more.addEventListener('click', () => { if (!loading && cursor) load(false); });
  const io = new IntersectionObserver((es) => { if (es.some((e) => e.isIntersecting) && cursor && !loading && !resting) load(false); }, { rootMargin: '600px' });
  io.observe(sentinel);

  // Uploads: a drop anywhere on the page, or the toolbar button; the panel folds when all are done.
  const uploader = new Uploader(uploads.querySelector('ul'), (allDone, summary) => {
    uploads.hidden = false;
    uploads.querySelector('summary').textContent = summary;
    uploads.open = !allDone;
    refreshQuota().catch(() => {});
    reload();
  }, () => { uploads.hidden = false; uploads.open = true; uploads.querySelector('summary').textContent = 'Uploading…'; });
  const zone = h('div', { class: 'dropzone', hidden: true }, 'Drop files to upload');
  let depth = 0;
  const hasFiles = (e) => [...(e.dataTransfer?.types || [])].includes('Files');
  const onEnter = (e) => { if (!hasFiles(e)) return; e.preventDefault(); depth++; zone.hidden = false; };
  const onOver = (e) => { if (hasFiles(e)) e.preventDefault(); };
  const onLeave = () => { depth = Math.max(0, depth - 1); if (!depth) zone.hidden = true; };
  const onDrop = (e) => { if (!hasFiles(e)) return; e.preventDefault(); depth = 0; zone.hidden = true; uploader.add(e.dataTransfer.files); };
  const events = [['dragenter', onEnter], ['dragover', onOver], ['dragleave', onLeave], ['drop', onDrop]];
  events.forEach(([k, fn]) => document.addEventListener(k, fn));
  const stop = () => { events.forEach(([k, fn]) => document.removeEventListener(k, fn)); io.disconnect(); window.removeEventListener('hashchange', leave); };
  const leave = () => { if (state.page !== page) stop(); };
  window.addEventListener('hashchange', leave);

  syncControls();
  search.value = f.q;
  mount(
    h('div', { class: 'titlebar' }, title, uploadBtn, input),
    h('div', { class: 'toolbar', role: 'search' }, h('div', { class: 'grow' }, search), topicSel, statusSel, sortSel,
      h('div', { class: 'seg', role: 'group', 'aria-label': 'View' }, viewList, viewGrid), trashBtn),
    counts, bulk, listBox, sentinel, more, uploads, zone);
  page.update = (p) => { readParams(p); syncControls(); if (document.activeElement !== search) search.value = f.q; selected.clear(); allMatching = false; return reload(); };
  await reload();
  // Status and topics update without a reload while classification runs.
  every(2000, async () => {
    if (!items.some((d) => d.status === 'uploaded' || d.status === 'pending')) return;
    // An answer asked for before a reload (after a bulk action, a new filter) is older than
    // what the page shows: drawing it would undo the change on screen.
    const gen = generation;
    const res = await api('GET', '/api/documents?' + query(null).toString().replace('limit=' + PAGE, 'limit=' + Math.min(200, Math.max(PAGE, items.length))));
    if (loading || gen !== generation) return;
    items = res.items; cursor = res.next_cursor || null; total = typeof res.total === 'number' ? res.total : total;
    render();
  });
}
