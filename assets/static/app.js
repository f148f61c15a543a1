// DocuVault web UI: hash routes over the JSON API.
import { api, ApiError, setCSRF } from './api.js';
import { h, mount, field, errorBox } from './dom.js';
import { documentsPage, documentPage } from './documents.js';
import { accountPage, topicsPage } from './account.js';
import { adminPage } from './admin.js';

export const state = { me: null, timers: [] };

// every registers a timer that stops when the page changes.
export function every(ms, fn) { state.timers.push(setInterval(fn, ms)); }

// stopTimers ends the current page's timers (a page re-rendering itself calls it).
export function stopTimers() {
  state.timers.forEach(clearInterval);
  state.timers = [];
}

function nav() {
  const n = document.getElementById('nav');
  if (!state.me) { n.replaceChildren(); return; }
  const links = state.me.role === 'admin'
    ? [['#/admin', 'Admin'], ['#/account', 'Account']]
    : [['#/documents', 'Documents'], ['#/topics', 'Topics'], ['#/account', 'Account']];
  n.replaceChildren(
    ...links.map(([href, text]) => h('a', { href }, text)),
    h('span', { class: 'muted hide-narrow' }, state.me.username),
    h('button', { class: 'secondary', id: 'logout', type: 'button', onclick: logout }, 'Sign out'));
}

async function logout() {
  let out = null;
  try { out = await api('POST', '/api/auth/logout'); } catch { /* already out */ }
  state.me = null;
  setCSRF(null);
  if (out && out.end_session_url) { location.href = out.end_session_url; return; } // end the provider's session too
  location.hash = '#/login';
}

async function loadMe() {
  try { state.me = await api('GET', '/api/auth/me'); } catch { state.me = null; }
}

async function route() {
  stopTimers();
  const hash = location.hash || '#/';
  if (state.me === null) await loadMe();
  nav();
  if (!state.me) return loginPage();
  if (state.me.password_must_change) return passwordPage(true);
  const [, page, id] = hash.split('/');
  const isAdmin = state.me.role === 'admin';
  switch (page) {
    case 'documents': return id && !isAdmin ? documentPage(id) : isAdmin ? adminPage() : documentsPage();
    case 'topics': return isAdmin ? adminPage() : topicsPage();
    case 'account': return accountPage();
    case 'admin': return isAdmin ? adminPage() : documentsPage();
    default: location.hash = isAdmin ? '#/admin' : '#/documents';
  }
}

function loginPage() {
  const err = errorBox('login-error');
  const otpWrap = h('div', { id: 'otp-wrap', hidden: true }, field('login-otp', 'Two-factor code (or a backup code)',
    { autocomplete: 'one-time-code', inputmode: 'text' }));
  const form = h('form', { class: 'card', id: 'login-form', onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = '';
    const body = { username: form.querySelector('#login-username').value, password: form.querySelector('#login-password').value };
    const otp = form.querySelector('#login-otp').value.trim();
    if (otp) body.otp = otp;
    try {
      const res = await api('POST', '/api/auth/login', body);
      setCSRF(res.csrf_token);
      state.me = res.user;
      location.hash = state.me.role === 'admin' ? '#/admin' : '#/documents';
      route();
    } catch (e2) {
      if (!(e2 instanceof ApiError)) { err.textContent = e2.message; return; }
      if (e2.status === 401 && e2.detail === 'otp_required') {
        const shown = !otpWrap.hidden;
        otpWrap.hidden = false;
        form.querySelector('#login-otp').focus();
        err.textContent = shown && otp ? 'That code is not valid (or was already used).' : 'Enter the code from your authenticator app.';
      } else if (e2.status === 429) {
        const secs = Number(e2.retryAfter) || 60;
        const mins = Math.ceil(secs / 60);
        err.textContent = secs < 60 ? `Too many sign-in attempts. Try again in ${secs} seconds.`
          : `Too many sign-in attempts. Try again in about ${mins} minute${mins > 1 ? 's' : ''}.`;
      } else if (e2.status === 401) {
        err.textContent = 'Wrong username or password.';
      } else {
        err.textContent = e2.message;
      }
    }
  } },
  h('h1', {}, 'Sign in'),
  field('login-username', 'Username', { autocomplete: 'username', required: true, autofocus: true }),
  field('login-password', 'Password', { type: 'password', autocomplete: 'current-password', required: true }),
  otpWrap, err,
  h('p', {}, h('button', { id: 'login-submit', type: 'submit' }, 'Sign in')));
  mount(form);
  // Single sign-on: a "Sign in with …" link when the server has a provider.
  api('GET', '/api/auth/config').then((cfg) => {
    if (cfg && cfg.oidc) form.append(h('p', {}, h('a', { id: 'login-sso', class: 'button', href: cfg.oidc.login_url }, cfg.oidc.label)));
  }).catch(() => {});
}

// passwordPage changes the password; forced says the server requires it before anything else.
export function passwordForm(forced) {
  const err = errorBox('cp-error');
  const form = h('form', { class: 'card', id: 'cp-form', onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = '';
    const cur = form.querySelector('#cp-current').value;
    const nw = form.querySelector('#cp-new').value;
    if (nw !== form.querySelector('#cp-repeat').value) { err.textContent = 'The new passwords differ.'; return; }
    try {
      await api('POST', '/api/auth/me/password', { current_password: cur, new_password: nw });
      state.me = await api('GET', '/api/auth/me');
      form.reset();
      err.className = 'ok';
      err.textContent = 'Password changed. Your other sessions have ended and your API tokens were revoked.';
      document.querySelector('#tokens')?.dispatchEvent(new Event('reload'));
      if (forced) route();
    } catch (e2) {
      err.className = 'error';
      err.textContent = e2.status === 403 ? 'The current password is wrong.' : e2.message;
    }
  } },
  h('h2', {}, forced ? 'Choose your own password' : 'Change password'),
  forced ? h('p', {}, 'Your password was set by an administrator. Choose your own before you continue.') : null,
  field('cp-current', 'Current password', { type: 'password', autocomplete: 'current-password', required: true }),
  field('cp-new', 'New password (12 characters or more)', { type: 'password', autocomplete: 'new-password', minlength: 12, required: true }),
  field('cp-repeat', 'New password again', { type: 'password', autocomplete: 'new-password', minlength: 12, required: true }),
  err, h('p', {}, h('button', { id: 'cp-submit', type: 'submit' }, 'Change password')));
  return form;
}

function passwordPage(forced) { mount(passwordForm(forced)); }

window.addEventListener('hashchange', route);
route();
