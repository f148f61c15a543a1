// Account (password, AI provider, two-factor, API tokens) and the user's topics.
import { api, fmtDate } from './api.js';
import { h, mount, field, toast, errorBox } from './dom.js';
import { state, passwordForm } from './app.js';
import { mailSection } from './mail.js';

export async function accountPage() {
  const me = state.me;
  const sections = [h('h1', {}, 'Account'), passwordForm(false)];
  if (me.role !== 'admin') sections.push(await aiSection());
  sections.push(await totpSection(), await tokensSection());
  if (me.role !== 'admin') sections.push(await mailSection(), exportSection());
  mount(...sections);
}

// exportSection offers every document with its manifest as one zip, streamed by the server.
function exportSection() {
  return h('section', { class: 'card', id: 'export' }, h('h2', {}, 'Your data'),
    h('p', { class: 'muted' }, 'One zip of all your documents under their names, with manifest.json (topics, dates, checksums) — to keep or to move elsewhere.'),
    h('p', { class: 'row' },
      h('a', { class: 'button secondary', id: 'export-all', href: '/api/export', download: '' }, 'Download all my documents'),
      h('a', { class: 'button secondary', id: 'export-all-text', href: '/api/export?text=true', download: '' }, 'With extracted text')));
}

async function aiSection() {
  const [settings, avail] = await Promise.all([api('GET', '/api/auth/me/settings'), api('GET', '/api/providers')]);
  const err = errorBox('ai-error');
  const sel = h('select', { id: 'ai-provider' }, h('option', { value: '' }, `Server default (${avail.default})`),
    avail.providers.map((p) => h('option', { value: p, selected: settings.ai_provider === p }, p)));
  const model = h('input', { type: 'text', id: 'ai-model', value: settings.ai_model || '', placeholder: 'the provider\'s default model' });
  return h('form', { class: 'card', onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = '';
    try {
      await api('PUT', '/api/auth/me/settings', { ai_provider: sel.value || null, ai_model: model.value.trim() || null });
      toast('Classification settings saved.');
    } catch (e2) { err.textContent = e2.message; }
  } }, h('h2', {}, 'Classification'),
  h('p', { class: 'muted' }, 'Which service sorts your documents into topics. "local" never leaves this server.'),
  h('label', { for: 'ai-provider' }, 'Provider'), sel, h('label', { for: 'ai-model' }, 'Model'), model, err,
  h('p', {}, h('button', { type: 'submit', id: 'ai-save' }, 'Save')));
}

function codesBlock(codes) {
  const text = codes.join('\n');
  const blob = new Blob([text + '\n'], { type: 'text/plain' });
  return h('div', { id: 'backup-codes' },
    h('p', {}, 'Backup codes: each works once if you lose your authenticator. They are shown only now.'),
    h('ul', { class: 'codes' }, codes.map((c) => h('li', {}, c))),
    h('p', { class: 'row' },
      h('button', { type: 'button', class: 'secondary', onclick: () => navigator.clipboard.writeText(text).then(() => toast('Copied.')) }, 'Copy'),
      h('a', { class: 'button secondary', href: URL.createObjectURL(blob), download: 'docuvault-backup-codes.txt' }, 'Download')));
}

async function totpSection() {
  const card = h('section', { class: 'card', id: 'totp' });
  const err = errorBox('totp-error');
  const render = () => {
    if (state.me.totp_enabled) {
      const pw = h('input', { type: 'password', id: 'totp-password', autocomplete: 'current-password' });
      card.replaceChildren(h('h2', {}, 'Two-factor authentication'), h('p', { class: 'ok', id: 'totp-on' }, 'On.'),
        h('label', { for: 'totp-password' }, 'Password (to turn off or make new backup codes)'), pw, err,
        h('p', { class: 'row' },
          h('button', { type: 'button', class: 'secondary', id: 'backup-regenerate', onclick: async () => {
            try { const r = await api('POST', '/api/auth/me/backup-codes', { password: pw.value }); card.append(codesBlock(r.backup_codes)); } catch (e) { err.textContent = e.status === 403 ? 'Wrong password.' : e.message; }
          } }, 'New backup codes'),
          h('button', { type: 'button', class: 'danger', id: 'totp-disable', onclick: async () => {
            try { await api('POST', '/api/auth/me/totp/disable', { password: pw.value }); state.me.totp_enabled = false; render(); toast('Two-factor authentication is off.'); } catch (e) { err.textContent = e.status === 403 ? 'Wrong password.' : e.message; }
          } }, 'Turn off')));
      return;
    }
    card.replaceChildren(h('h2', {}, 'Two-factor authentication'), h('p', {}, 'Off. Protect your account with an authenticator app.'), err,
      h('p', {}, h('button', { type: 'button', id: 'totp-setup', onclick: async () => {
        try {
          const s = await api('POST', '/api/auth/me/totp/setup');
          const code = h('input', { type: 'text', id: 'totp-code', inputmode: 'numeric', autocomplete: 'one-time-code' });
          card.replaceChildren(h('h2', {}, 'Two-factor authentication'),
            h('p', {}, 'Scan this code with your authenticator app, then enter the 6-digit code it shows.'),
            h('img', { id: 'totp-qr', src: s.qr_png, alt: 'QR code for your authenticator app', width: 200, height: 200 }),
            h('p', {}, 'Or enter this key by hand: ', h('code', { id: 'totp-secret' }, s.secret)),
            h('form', { class: 'row', onsubmit: async (e) => {
              e.preventDefault();
              try {
                const r = await api('POST', '/api/auth/me/totp/enable', { code: code.value.trim() });
                state.me.totp_enabled = true;
                render();
                card.append(codesBlock(r.backup_codes));
              } catch (e2) { err.textContent = e2.status === 422 ? 'That code is not right; try the next one.' : e2.message; }
            } }, h('label', { for: 'totp-code' }, 'Code'), code, h('button', { type: 'submit', id: 'totp-enable' }, 'Turn on')), err);
        } catch (e) { err.textContent = e.message; }
      } }, 'Set up')));
  };
  render();
  return card;
}

async function tokensSection() {
  const card = h('section', { class: 'card', id: 'tokens' });
  const err = errorBox('token-error');
  const list = h('tbody');
  const load = async () => {
    const tokens = await api('GET', '/api/auth/me/tokens');
    list.replaceChildren(...tokens.map((t) => h('tr', {}, h('td', {}, t.name), h('td', { class: 'hide-narrow' }, t.last_used_at ? fmtDate(t.last_used_at) : 'never'),
      h('td', { class: 'hide-narrow' }, t.expires_at ? fmtDate(t.expires_at) : 'never'),
      h('td', {}, h('button', { type: 'button', class: 'secondary', onclick: async () => { await api('DELETE', `/api/auth/me/tokens/${t.id}`); load(); } }, 'Revoke')))));
  };
  // A password change revokes every token; the password form asks for a reload.
  card.addEventListener('reload', () => { shown.replaceChildren(); load(); });
  const name = h('input', { type: 'text', id: 'token-name', placeholder: 'e.g. backup script' });
  const days = h('input', { type: 'number', id: 'token-days', min: 1, max: 3650, placeholder: 'never' });
  const shown = h('div', { id: 'token-shown' });
  card.append(h('h2', {}, 'API tokens'), h('p', { class: 'muted' }, 'For scripts: send "Authorization: Bearer <token>".'),
    h('form', { class: 'row', onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = '';
      try {
        const body = { name: name.value };
        if (days.value) body.expires_in_days = Number(days.value);
        const t = await api('POST', '/api/auth/me/tokens', body);
        shown.replaceChildren(h('p', {}, 'Your new token (shown only now): ', h('code', { id: 'token-value' }, t.token)));
        name.value = '';
        load();
      } catch (e2) { err.textContent = e2.message; }
    } }, h('div', {}, h('label', { for: 'token-name' }, 'Name'), name), h('div', {}, h('label', { for: 'token-days' }, 'Expires after (days)'), days),
    h('button', { type: 'submit', id: 'token-create' }, 'Create')), err, shown,
    h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', { class: 'hide-narrow' }, 'Last used'), h('th', { class: 'hide-narrow' }, 'Expires'), h('th', {}, ''))), list));
  await load();
  return card;
}
