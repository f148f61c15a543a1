// Mail accounts on the account page: IMAP accounts whose attachments become documents,
// each with its last poll and last error. Passwords are write-only: never shown or read back.
import { api, fmtDate } from './api.js';
import { h, field, toast, errorBox } from './dom.js';

function afterLabel(a) {
  if (a === 'mark_read') return 'mark read';
  if (a === 'delete') return 'delete';
  return 'move to ' + a.slice(5);
}

function accountRow(a, reload) {
  const status = a.last_error
    ? h('span', { class: 'error mail-error' }, a.last_error, a.last_error_at ? ` (${fmtDate(a.last_error_at)})` : '')
    : h('span', { class: 'muted' }, a.last_polled_at ? `polled ${fmtDate(a.last_polled_at)}` : 'not polled yet');
  const result = h('span', { class: 'muted mail-test-result' });
  return h('tr', { 'data-id': a.id },
    h('td', {}, `${a.username} @ ${a.host}:${a.port}`, h('br'), h('span', { class: 'muted' }, `${a.folder} → ${afterLabel(a.after)}`)),
    h('td', {}, a.enabled ? status : h('span', { class: 'muted' }, 'paused'), h('br'), result),
    h('td', {},
      h('button', { type: 'button', class: 'secondary mail-test', onclick: async () => {
        result.textContent = 'testing…';
        try {
          const r = await api('POST', `/api/auth/me/mail-accounts/${a.id}/test`);
          result.textContent = r.ok ? `ok: ${r.folders.length} folders` : r.error;
        } catch (e) { result.textContent = e.message; }
      } }, 'Test'), ' ',
      h('button', { type: 'button', class: 'secondary', onclick: async () => {
        await api('PATCH', `/api/auth/me/mail-accounts/${a.id}`, { enabled: !a.enabled });
        reload();
      } }, a.enabled ? 'Pause' : 'Resume'), ' ',
      h('button', { type: 'button', class: 'secondary', onclick: async (ev) => {
        const b = ev.currentTarget; // the first click asks, the second removes (no browser dialog)
        if (b.dataset.armed !== '1') { b.dataset.armed = '1'; b.textContent = 'Remove? Click again (imported documents stay)'; return; }
        await api('DELETE', `/api/auth/me/mail-accounts/${a.id}`);
        reload();
      } }, 'Remove')));
}

function addForm(reload) {
  const err = errorBox('mail-error');
  const tls = h('select', { id: 'mail-tls' }, ['tls', 'starttls', 'none'].map((m) => h('option', { value: m }, m)));
  const after = h('select', { id: 'mail-after' }, h('option', { value: 'mark_read' }, 'mark read'),
    h('option', { value: 'move' }, 'move to folder'), h('option', { value: 'delete' }, 'delete'));
  const moveTo = h('input', { id: 'mail-move', type: 'text', value: 'Archive', 'aria-label': 'Folder to move to' });
  const body = h('input', { id: 'mail-body', type: 'checkbox' });
  const form = h('form', { id: 'mail-add', onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = '';
    const v = (id) => form.querySelector('#' + id).value.trim();
    const req = { host: v('mail-host'), tls_mode: tls.value, username: v('mail-user'),
      password: form.querySelector('#mail-password').value, folder: v('mail-folder') || 'INBOX',
      after: after.value === 'move' ? 'move:' + moveTo.value.trim() : after.value,
      from_filter: v('mail-from'), subject_filter: v('mail-subject'), import_body: body.checked ? 'text' : 'none' };
    if (v('mail-port')) req.port = Number(v('mail-port'));
    try {
      await api('POST', '/api/auth/me/mail-accounts', req);
      form.reset();
      toast('Mail account added.');
      reload();
    } catch (e2) { err.textContent = e2.message; }
  } },
  field('mail-host', 'IMAP server', { required: true, placeholder: 'imap.example.org' }),
  field('mail-port', 'Port', { type: 'number', min: 1, max: 65535, placeholder: '993' }),
  h('label', { for: 'mail-tls' }, 'Security'), tls,
  field('mail-user', 'Username', { required: true, autocomplete: 'off' }),
  field('mail-password', 'Password', { type: 'password', required: true, autocomplete: 'new-password' }),
  field('mail-folder', 'Folder', { placeholder: 'INBOX' }),
  h('label', { for: 'mail-after' }, 'After import'), after, moveTo,
  field('mail-from', 'Only from (optional)'), field('mail-subject', 'Only subjects containing (optional)'),
  h('label', {}, body, ' Also import the message text'), err,
  h('p', {}, h('button', { type: 'submit', id: 'mail-save' }, 'Add mail account')));
  return form;
}

// mailSection is the account page's card of mail accounts.
export async function mailSection() {
  const card = h('section', { class: 'card', id: 'mail-accounts' });
  const list = h('tbody');
  const load = async () => {
    const accounts = await api('GET', '/api/auth/me/mail-accounts');
    list.replaceChildren(...accounts.map((a) => accountRow(a, load)));
    if (!accounts.length) list.append(h('tr', {}, h('td', { colspan: 3, class: 'muted' }, 'No mail accounts.')));
  };
  await load();
  card.append(h('h2', {}, 'Mail accounts'),
    h('p', { class: 'muted' }, 'Attachments of new messages in these IMAP folders become your documents.'),
    h('table', {}, list), h('details', {}, h('summary', {}, 'Add a mail account'), addForm(load)));
  return card;
}
