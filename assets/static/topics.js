// The topics page: every topic as its coloured chip with its document count; the user's own
// topics can be renamed, described, recoloured and deleted (with an inline confirmation).
import { api } from './api.js';
import { h, mount, toast, errorBox, chip } from './dom.js';

// confirmInline swaps a button for "Sure? Yes / No": no browser dialog.
export function confirmInline(btn, question, yes) {
  const box = h('span', { class: 'row', style: { display: 'inline-flex', flexWrap: 'nowrap' } }, h('span', { role: 'alert' }, question),
    h('button', { type: 'button', class: 'danger', onclick: yes }, 'Yes'), h('button', { type: 'button', class: 'secondary', onclick: () => box.replaceWith(btn) }, 'No'));
  btn.replaceWith(box);
  box.querySelector('button').focus();
}

const count = (t) => (typeof t.document_count === 'number' ? `${t.document_count} document${t.document_count === 1 ? '' : 's'}` : '');

export async function topicsPage() {
  const err = errorBox('topic-error');
  const own = h('tbody', { id: 'own-topics' });
  const sys = h('tbody', { id: 'system-topics' });
  const load = async () => {
    const topics = await api('GET', '/api/topics');
    sys.replaceChildren(...topics.filter((t) => t.system).map((t) => h('tr', {},
      h('td', {}, chip(t, { href: '#/documents?topic=' + encodeURIComponent(t.id) })), h('td', {}, t.description || '—'), h('td', { class: 'topic-count' }, count(t)))));
    own.replaceChildren(...topics.filter((t) => !t.system).map((t) => {
      const n = h('input', { type: 'text', value: t.name, 'aria-label': 'Name of ' + t.name });
      const d = h('input', { type: 'text', value: t.description, 'aria-label': 'Description of ' + t.name });
      const c = h('input', { type: 'color', value: t.color || '#d7dbe2', 'aria-label': 'Colour of ' + t.name });
      const del = h('button', { type: 'button', class: 'danger', onclick: () => confirmInline(del, `Delete "${t.name}"? Documents stay. `, async () => {
        try { await api('DELETE', `/api/topics/${t.id}`); toast('Topic deleted.'); await load(); } catch (e) { err.textContent = e.message; }
      }) }, 'Delete');
      return h('tr', {}, h('td', {}, chip(t, { href: '#/documents?topic=' + encodeURIComponent(t.id) })), h('td', {}, n), h('td', {}, d), h('td', {}, c),
        h('td', { class: 'topic-count' }, count(t)), h('td', {},
          h('button', { type: 'button', class: 'secondary', onclick: async () => {
            try { await api('PATCH', `/api/topics/${t.id}`, { name: n.value, description: d.value, color: c.value }); toast('Saved.'); await load(); } catch (e) { err.textContent = e.status === 409 ? 'You already have a topic with that name.' : e.message; }
          } }, 'Save'), ' ', del));
    }));
  };
  const name = h('input', { type: 'text', id: 'topic-name', required: true });
  const desc = h('input', { type: 'text', id: 'topic-desc', placeholder: 'words that describe it (helps classification)' });
  const colour = h('input', { type: 'color', id: 'topic-color', value: '#1d5fd1' });
  mount(h('h1', {}, 'Topics'),
    h('section', { class: 'card' }, h('h2', {}, 'Your topics'),
      h('form', { class: 'row', onsubmit: async (e) => {
        e.preventDefault();
        err.textContent = '';
        try { await api('POST', '/api/topics', { name: name.value, description: desc.value, color: colour.value }); name.value = ''; desc.value = ''; await load(); } catch (e2) { err.textContent = e2.status === 409 ? 'You already have a topic with that name.' : e2.message; }
      } }, h('div', {}, h('label', { for: 'topic-name' }, 'Name'), name), h('div', {}, h('label', { for: 'topic-desc' }, 'Description'), desc),
      h('div', { style: { flex: '0 0 auto' } }, h('label', { for: 'topic-color' }, 'Colour'), colour), h('button', { type: 'submit', id: 'topic-create' }, 'Add')),
      err, h('table', { class: 'stack' }, h('thead', {}, h('tr', {}, h('th', {}, 'Topic'), h('th', {}, 'Name'), h('th', {}, 'Description'), h('th', {}, 'Colour'), h('th', {}, 'Documents'), h('th', {}, h('span', { class: 'sr-only' }, 'Actions')))), own)),
    h('section', { class: 'card' }, h('h2', {}, 'System topics'), h('p', { class: 'muted' }, 'Set by the administrator, available to everyone.'),
      h('table', { class: 'stack' }, h('thead', {}, h('tr', {}, h('th', {}, 'Topic'), h('th', {}, 'Description'), h('th', {}, 'Documents'))), sys)));
  await load();
}
