// The admin area: users and quotas, system topics, the audit log. It never shows documents.
import { api, fmtBytes, fmtDate } from './api.js';
import { h, mount, quotaBar, toast, errorBox } from './dom.js';
import { state } from './app.js';

const MiB = 1024 * 1024;

export async function adminPage() {
  const err = errorBox('admin-error');
  const users = h('tbody', { id: 'user-list' });
  const shown = h('div', { id: 'temp-shown' });
  const showTemp = (who, pw) => shown.replaceChildren(h('p', { class: 'card' }, `Temporary password for ${who} (shown only now, must be changed at first sign-in): `,
    h('code', { id: 'temp-password' }, pw)));
  const act = async (fn) => { err.textContent = ''; try { await fn(); await loadUsers(); } catch (e) { err.textContent = e.message; } };

  const loadUsers = async () => {
    const list = await api('GET', '/api/admin/users');
    users.replaceChildren(...list.map((u) => {
      const limit = h('input', { type: 'number', min: 0, step: 1, value: Math.round(u.limit_bytes / MiB), 'aria-label': `Quota of ${u.username} in MiB` });
      const role = h('select', { 'aria-label': `Role of ${u.username}`, onchange: () => act(() => api('PATCH', `/api/admin/users/${u.id}`, { role: role.value })) },
        ['user', 'admin'].map((r) => h('option', { value: r, selected: u.role === r }, r)));
      return h('tr', { 'data-user': u.username },
        h('td', {}, h('strong', {}, u.username), u.id === state.me.id ? ' (you)' : '', h('div', { class: 'muted' }, u.is_active ? 'active' : 'deactivated', u.totp_enabled ? ' · 2FA' : '')),
        h('td', {}, role),
        h('td', {}, h('div', {}, `${fmtBytes(u.used_bytes)} of ${fmtBytes(u.limit_bytes)} · ${u.document_count} files`), quotaBar(u),
          h('form', { class: 'row', onsubmit: (e) => { e.preventDefault(); act(() => api('PATCH', `/api/admin/users/${u.id}`, { limit_bytes: Math.round(Number(limit.value) * MiB) })); } },
            limit, h('button', { type: 'submit', class: 'secondary' }, 'Set MiB'))),
        h('td', {},
          h('button', { type: 'button', class: 'secondary', onclick: () => act(() => api('PATCH', `/api/admin/users/${u.id}`, { is_active: !u.is_active })) }, u.is_active ? 'Deactivate' : 'Activate'), ' ',
          h('button', { type: 'button', class: 'secondary', onclick: () => act(async () => {
            const reset2fa = u.totp_enabled && confirm(`Also turn off two-factor authentication for ${u.username}?`);
            const r = await api('POST', `/api/admin/users/${u.id}/reset-password`, { reset_totp: reset2fa });
            showTemp(u.username, r.temporary_password);
          }) }, 'Reset password'), ' ',
          h('button', { type: 'button', class: 'danger', onclick: () => { if (confirm(`Delete ${u.username} and all their documents?`)) act(() => api('DELETE', `/api/admin/users/${u.id}`)); } }, 'Delete')));
    }));
  };

  const newName = h('input', { type: 'text', id: 'new-username', required: true, autocomplete: 'off' });
  const newRole = h('select', { id: 'new-role' }, h('option', { value: 'user' }, 'user'), h('option', { value: 'admin' }, 'admin'));
  const newLimit = h('input', { type: 'number', id: 'new-limit', min: 0, placeholder: 'default' });
  const createForm = h('form', { class: 'row', onsubmit: (e) => {
    e.preventDefault();
    act(async () => {
      const body = { username: newName.value.trim(), role: newRole.value };
      if (newLimit.value) body.limit_bytes = Math.round(Number(newLimit.value) * MiB);
      const r = await api('POST', '/api/admin/users', body);
      showTemp(r.user.username, r.temporary_password);
      newName.value = '';
      toast('User created.');
    });
  } }, h('div', {}, h('label', { for: 'new-username' }, 'Username'), newName), h('div', {}, h('label', { for: 'new-role' }, 'Role'), newRole),
  h('div', {}, h('label', { for: 'new-limit' }, 'Quota (MiB)'), newLimit), h('button', { type: 'submit', id: 'create-user' }, 'Create user'));

  const topics = h('tbody', { id: 'system-topic-list' });
  const loadTopics = async () => {
    const list = await api('GET', '/api/admin/topics');
    topics.replaceChildren(...list.map((t) => {
      const n = h('input', { type: 'text', value: t.name, 'aria-label': 'Name of ' + t.name });
      const d = h('input', { type: 'text', value: t.description, 'aria-label': 'Description of ' + t.name });
      return h('tr', {}, h('td', {}, n), h('td', {}, d), h('td', {},
        h('button', { type: 'button', class: 'secondary', onclick: async () => { try { await api('PATCH', `/api/admin/topics/${t.id}`, { name: n.value, description: d.value }); toast('Saved.'); } catch (e) { err.textContent = e.message; } } }, 'Save'), ' ',
        h('button', { type: 'button', class: 'danger', onclick: async () => { if (confirm(`Delete system topic "${t.name}"?`)) { await api('DELETE', `/api/admin/topics/${t.id}`); loadTopics(); } } }, 'Delete')));
    }));
  };
  const tName = h('input', { type: 'text', id: 'system-topic-name', required: true });
  const tDesc = h('input', { type: 'text', id: 'system-topic-desc' });
  const topicForm = h('form', { class: 'row', onsubmit: async (e) => {
    e.preventDefault();
    try { await api('POST', '/api/admin/topics', { name: tName.value, description: tDesc.value }); tName.value = ''; tDesc.value = ''; loadTopics(); } catch (e2) { err.textContent = e2.status === 409 ? 'A system topic with that name exists.' : e2.message; }
  } }, h('div', {}, h('label', { for: 'system-topic-name' }, 'Name'), tName), h('div', {}, h('label', { for: 'system-topic-desc' }, 'Description'), tDesc), h('button', { type: 'submit', id: 'system-topic-create' }, 'Add'));

  const audit = h('tbody', { id: 'audit-list' });
  const auditMore = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Load more');
  let cursor = null;
  const loadAudit = async (append) => {
    const page = await api('GET', '/api/admin/audit?limit=25' + (append && cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
    const rows = page.items.map((a) => h('tr', {}, h('td', {}, fmtDate(a.at)), h('td', {}, a.action), h('td', {}, a.target), h('td', { class: 'hide-narrow' }, a.ip)));
    if (append) audit.append(...rows); else audit.replaceChildren(...rows);
    cursor = page.next_cursor;
    auditMore.hidden = !cursor;
  };
  auditMore.addEventListener('click', () => loadAudit(true));

  mount(h('h1', {}, 'Admin'), err, shown,
    h('section', { class: 'card' }, h('h2', {}, 'Users'), createForm,
      h('table', { class: 'stack' }, h('thead', {}, h('tr', {}, h('th', {}, 'User'), h('th', {}, 'Role'), h('th', {}, 'Storage'), h('th', {}, 'Actions'))), users)),
    h('section', { class: 'card' }, h('h2', {}, 'System topics'), topicForm,
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Description'), h('th', {}, ''))), topics)),
    h('section', { class: 'card' }, h('h2', {}, 'Audit log'),
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'When'), h('th', {}, 'What'), h('th', {}, 'Target'), h('th', { class: 'hide-narrow' }, 'Address'))), audit), auditMore));
  await Promise.all([loadUsers(), loadTopics(), loadAudit(false)]);
}
