// The admin area: users and quotas, system topics, the audit log. It never shows documents.
import { api, fmtBytes, fmtDate } from './api.js';
import { h, mount, quotaBar, toast, errorBox, icon, chip } from './dom.js';
import { confirmInline } from './topics.js';
import { state } from './app.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

// sizeInput is a number with its unit (MiB or GiB), the unit picked to fit the value.
function sizeInput(bytes, label, id) {
  const big = bytes && bytes >= GiB && bytes % (GiB / 4) === 0;
  const num = h('input', { type: 'number', min: 0, step: 'any', id, value: bytes ? String(+(bytes / (big ? GiB : MiB)).toFixed(2)) : '', 'aria-label': label + ' amount', placeholder: bytes === undefined ? 'default' : null });
  const unit = h('select', { 'aria-label': label + ' unit' }, h('option', { value: MiB, selected: !big }, 'MiB'), h('option', { value: GiB, selected: big }, 'GiB'));
  return { el: h('span', { class: 'row', style: { flexWrap: 'nowrap', gap: '.3rem' } }, num, unit), bytes: () => (num.value === '' ? null : Math.round(Number(num.value) * Number(unit.value))) };
}

export async function adminPage() {
  const err = errorBox('admin-error');
  const users = h('tbody', { id: 'user-list' });
  const shown = h('div', { id: 'temp-shown' });
  const showTemp = (who, pw) => {
    const status = h('span', { class: 'muted', role: 'status' });
    shown.replaceChildren(h('div', { class: 'card', id: 'temp-card' }, h('p', {}, `Temporary password for ${who} (shown only now; it must be changed at first sign-in):`),
      h('div', { class: 'secret' }, h('code', { id: 'temp-password' }, pw),
        h('button', { type: 'button', class: 'secondary', id: 'temp-copy', onclick: async () => {
          try { await navigator.clipboard.writeText(pw); status.textContent = 'Copied.'; } catch { status.textContent = 'Select the password and copy it.'; }
        } }, icon('copy'), 'Copy'), status,
        h('button', { type: 'button', class: 'ghost', id: 'temp-dismiss', onclick: () => shown.replaceChildren() }, 'Dismiss'))));
  };
  const act = async (fn) => { err.textContent = ''; try { await fn(); await Promise.all([loadUsers(), loadAudit()]); } catch (e) { err.textContent = e.message; } };

  const loadUsers = async () => {
    const list = await api('GET', '/api/admin/users');
    users.replaceChildren(...list.map((u) => {
      const limit = sizeInput(u.limit_bytes, `Quota of ${u.username}`);
      const role = h('select', { 'aria-label': `Role of ${u.username}`, onchange: () => act(() => api('PATCH', `/api/admin/users/${u.id}`, { role: role.value })) },
        ['user', 'admin'].map((r) => h('option', { value: r, selected: u.role === r }, r)));
      const reset = h('button', { type: 'button', class: 'secondary', onclick: () => {
        const run = (totp) => act(async () => { const r = await api('POST', `/api/admin/users/${u.id}/reset-password`, { reset_totp: totp }); showTemp(u.username, r.temporary_password); });
        if (!u.totp_enabled) { run(false); return; }
        const box = h('span', { class: 'row', style: { display: 'inline-flex' } }, h('span', { role: 'alert' }, 'Also turn off two-factor? '),
          h('button', { type: 'button', class: 'secondary', onclick: () => run(true) }, 'Yes, reset 2FA too'), h('button', { type: 'button', class: 'secondary', onclick: () => run(false) }, 'Password only'));
        reset.replaceWith(box);
      } }, 'Reset password');
      const del = h('button', { type: 'button', class: 'danger', onclick: () => confirmInline(del, `Delete ${u.username} and all their documents? `, () => act(() => api('DELETE', `/api/admin/users/${u.id}`))) }, 'Delete');
      // Admins hold no documents: their storage is not a quota to watch.
      const storage = u.role === 'admin' ? h('span', { class: 'muted' }, '— (administrators hold no documents)')
        : [h('div', {}, `${fmtBytes(u.used_bytes)} of ${fmtBytes(u.limit_bytes)} · ${u.document_count} file${u.document_count === 1 ? '' : 's'}`), quotaBar(u, 'quota-' + u.username),
          h('form', { class: 'row', style: { marginTop: '.3rem' }, onsubmit: (e) => { e.preventDefault(); act(() => api('PATCH', `/api/admin/users/${u.id}`, { limit_bytes: limit.bytes() || 0 })); } },
            limit.el, h('button', { type: 'submit', class: 'secondary' }, 'Set quota'))];
      return h('tr', { 'data-user': u.username },
        h('td', {}, h('strong', {}, u.username), u.id === state.me.id ? ' (you)' : '', h('div', { class: 'muted' }, u.is_active ? 'active' : 'deactivated', u.totp_enabled ? ' · 2FA' : '')),
        h('td', {}, role),
        h('td', {}, storage),
        h('td', {},
          u.id === state.me.id ? null : h('button', { type: 'button', class: 'secondary', onclick: () => act(() => api('PATCH', `/api/admin/users/${u.id}`, { is_active: !u.is_active })) }, u.is_active ? 'Deactivate' : 'Activate'), ' ',
          reset, ' ', u.id === state.me.id ? null : del));
    }));
  };

  const newName = h('input', { type: 'text', id: 'new-username', required: true, autocomplete: 'off' });
  const newRole = h('select', { id: 'new-role' }, h('option', { value: 'user' }, 'user'), h('option', { value: 'admin' }, 'admin'));
  const newLimit = sizeInput(undefined, 'Quota of the new user', 'new-limit');
  const createForm = h('form', { class: 'row', onsubmit: (e) => {
    e.preventDefault();
    act(async () => {
      const body = { username: newName.value.trim(), role: newRole.value };
      if (newLimit.bytes() !== null) body.limit_bytes = newLimit.bytes();
      const r = await api('POST', '/api/admin/users', body);
      showTemp(r.user.username, r.temporary_password);
      newName.value = '';
      toast('User created.');
    });
  } }, h('div', {}, h('label', { for: 'new-username' }, 'Username'), newName), h('div', {}, h('label', { for: 'new-role' }, 'Role'), newRole),
  h('div', {}, h('label', { for: 'new-limit' }, 'Quota'), newLimit.el), h('button', { type: 'submit', id: 'create-user' }, 'Create user'));

  const topics = h('tbody', { id: 'system-topic-list' });
  const loadTopics = async () => {
    const list = await api('GET', '/api/admin/topics');
    topics.replaceChildren(...list.map((t) => {
      const n = h('input', { type: 'text', value: t.name, 'aria-label': 'Name of ' + t.name });
      const d = h('input', { type: 'text', value: t.description, 'aria-label': 'Description of ' + t.name });
      const c = h('input', { type: 'color', value: t.color || '#d7dbe2', 'aria-label': 'Colour of ' + t.name });
      const del = h('button', { type: 'button', class: 'danger', onclick: () => confirmInline(del, `Delete "${t.name}"? `, () => act(async () => { await api('DELETE', `/api/admin/topics/${t.id}`); await loadTopics(); })) }, 'Delete');
      return h('tr', {}, h('td', {}, chip(t)), h('td', {}, n), h('td', {}, d), h('td', {}, c), h('td', {},
        h('button', { type: 'button', class: 'secondary', onclick: () => act(async () => { await api('PATCH', `/api/admin/topics/${t.id}`, { name: n.value, description: d.value, color: c.value }); toast('Saved.'); await loadTopics(); }) }, 'Save'), ' ', del));
    }));
  };
  const tName = h('input', { type: 'text', id: 'system-topic-name', required: true });
  const tDesc = h('input', { type: 'text', id: 'system-topic-desc' });
  const topicForm = h('form', { class: 'row', onsubmit: async (e) => {
    e.preventDefault();
    try { await api('POST', '/api/admin/topics', { name: tName.value, description: tDesc.value }); tName.value = ''; tDesc.value = ''; await Promise.all([loadTopics(), loadAudit()]); } catch (e2) { err.textContent = e2.status === 409 ? 'A system topic with that name exists.' : e2.message; }
  } }, h('div', {}, h('label', { for: 'system-topic-name' }, 'Name'), tName), h('div', {}, h('label', { for: 'system-topic-desc' }, 'Description'), tDesc), h('button', { type: 'submit', id: 'system-topic-create' }, 'Add'));

  // The audit log in pages of 25, newest first; it reloads after every action taken here.
  const audit = h('tbody', { id: 'audit-list' });
  const pages = [null]; // cursors of the pages seen, so "Newer" can go back
  let at = 0;
  let next = null;
  const newer = h('button', { type: 'button', class: 'secondary', id: 'audit-newer', onclick: () => { at--; loadAudit(true); } }, 'Newer');
  const older = h('button', { type: 'button', class: 'secondary', id: 'audit-older', onclick: () => { pages[at + 1] = next; at++; loadAudit(true); } }, 'Older');
  const where = h('span', { class: 'muted', id: 'audit-page' });
  const loadAudit = async (keep) => {
    if (!keep) at = 0;
    const c = pages[at];
    const page = await api('GET', '/api/admin/audit?limit=25' + (c ? '&cursor=' + encodeURIComponent(c) : ''));
    audit.replaceChildren(...page.items.map((a) => h('tr', {}, h('td', {}, fmtDate(a.at)), h('td', {}, a.action), h('td', {}, a.target), h('td', { class: 'hide-narrow' }, a.ip))));
    next = page.next_cursor;
    newer.disabled = at === 0;
    older.disabled = !next;
    where.textContent = `Page ${at + 1}`;
  };

  mount(h('h1', {}, 'Admin'), err, shown,
    h('section', { class: 'card' }, h('h2', {}, 'Users'), createForm,
      h('table', { class: 'stack' }, h('thead', {}, h('tr', {}, h('th', {}, 'User'), h('th', {}, 'Role'), h('th', {}, 'Storage'), h('th', {}, 'Actions'))), users)),
    h('section', { class: 'card' }, h('h2', {}, 'System topics'), topicForm,
      h('table', { class: 'stack' }, h('thead', {}, h('tr', {}, h('th', {}, 'Topic'), h('th', {}, 'Name'), h('th', {}, 'Description'), h('th', {}, 'Colour'), h('th', {}, h('span', { class: 'sr-only' }, 'Actions')))), topics)),
    h('section', { class: 'card' }, h('h2', {}, 'Audit log'),
      h('table', { class: 'stack' }, h('thead', {}, h('tr', {}, h('th', {}, 'When'), h('th', {}, 'What'), h('th', {}, 'Target'), h('th', { class: 'hide-narrow' }, 'Address'))), audit),
      h('div', { class: 'pager' }, newer, where, older, h('button', { type: 'button', class: 'ghost', id: 'audit-refresh', onclick: () => loadAudit() }, 'Refresh'))));
  await Promise.all([loadUsers(), loadTopics(), loadAudit()]);
}
