// DocuVault web UI: hash routes (#/page/id?filters) over the JSON API.
import { api, ApiError, setCSRF, hooks, fmtBytes } from './api.js';
import { h, mount, field, errorBox, clearToasts, quotaBar, icon } from './dom.js';
import { documentsPage } from './documents.js';
import { documentPage } from './docpage.js';
import { topicsPage } from './topics.js';
import { accountPage } from './account.js';
import { adminPage } from './admin.js';

export const state = { me: null, timers: [], page: null };

// every registers a timer that stops when the page changes.
export function every(ms, fn) {
  state.timers.push(setInterval(() => { Promise.resolve().then(fn).catch(() => { /* the next tick tries again */ }); }, ms));
}

// stopTimers ends the current page's timers (a page re-rendering itself calls it).
export function stopTimers() {
  state.timers.forEach(clearInterval);
  state.timers = [];
}

// parseHash splits "#/documents/ID?q=x" into its page, id and query.
export function parseHash() {
  const hash = location.hash || '#/';
  const [path, query] = hash.slice(1).split('?');
  const [, page = '', id = ''] = path.split('/');
  return { page, id, params: new URLSearchParams(query || '') };
}

function nav(page) {
  const n = document.getElementById('nav');
  const tools = document.getElementById('hdr-tools');
  tools.querySelector('#logout')?.remove();
  document.getElementById('who').textContent = state.me ? state.me.username : '';
  if (state.me) tools.append(h('button', { class: 'secondary', id: 'logout', type: 'button', onclick: logout }, 'Sign out'));
  if (!state.me || state.me.password_must_change) { n.replaceChildren(); document.getElementById('hdr-quota').replaceChildren(); return; }
  const links = state.me.role === 'admin'
    ? [['admin', 'Admin'], ['account', 'Account']]
    : [['documents', 'Documents'], ['topics', 'Topics'], ['account', 'Account']];
  n.replaceChildren(...links.map(([p, text]) => h('a', { href: '#/' + p, 'aria-current': p === page ? 'page' : null }, text)));
}

// refreshQuota redraws the header's slim storage bar (users only: admins hold no documents).
export async function refreshQuota() {
  const box = document.getElementById('hdr-quota');
  if (!state.me || state.me.role === 'admin' || state.me.password_must_change) { box.replaceChildren(); return; }
  const q = await api('GET', '/api/auth/me/quota');
  const trash = q.trash_bytes ? ` · ${fmtBytes(q.trash_bytes)} in trash` : '';
  box.replaceChildren(h('span', { id: 'quota-text' }, `${fmtBytes(q.used_bytes)} of ${fmtBytes(q.limit_bytes)} used${trash}`), quotaBar(q));
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
  const { page, id, params } = parseHash();
  // A page updated in place keeps its timers (the documents list's status refresh).
  const inPlace = state.page && state.page.key === page + '/' + id && state.page.update && state.me && !state.me.password_must_change;
  if (!inPlace) stopTimers();
  clearToasts();
  if (state.me === null && page !== 'login') await loadMe();
  nav(page);
  if (!state.me) {
    if (page !== 'login') {
      sessionStorage.setItem('after-login', location.hash);
      history.replaceState(null, '', '#/login');
    }
    state.page = null;
    return loginPage();
  }
  if (state.me.password_must_change) return passwordPage(true);
  const isAdmin = state.me.role === 'admin';
  const key = page + '/' + id;
  // A page that can take new filters (the documents list) updates in place: no re-render,
  // so focus and scroll stay where they were.
  if (state.page && state.page.key === key && state.page.update) return state.page.update(params);
  state.page = { key };
  refreshQuota().catch(() => { /* the banner or sign-in page already shows why */ });
  switch (page) {
    case 'documents':
      if (isAdmin) return go('#/admin');
      if (id) return documentPage(id, state.page);
      return documentsPage(params, state.page);
    case 'topics': return isAdmin ? go('#/admin') : topicsPage();
    case 'account': return accountPage();
    case 'admin': return isAdmin ? adminPage() : go('#/documents');
    default: return go(isAdmin ? '#/admin' : '#/documents');
  }
}

function go(hash) { history.replaceState(null, '', hash); return route(); }

// navigate changes the URL: push for a new view (back returns to it), replace while typing.
export function navigate(hash, replace) {
  if (location.hash === hash) return;
  if (replace) history.replaceState(null, '', hash); else history.pushState(null, '', hash);
}

function loginPage() {
  const err = errorBox('login-error');
  const otpWrap = h('div', { id: 'otp-wrap', hidden: true }, field('login-otp', 'Two-factor code (or a backup code)',
    { autocomplete: 'one-time-code', inputmode: 'text' }));
  const form = h('form', { class: 'card narrow', id: 'login-form', onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = '';
    const body = { username: form.querySelector('#login-username').value, password: form.querySelector('#login-password').value };
    const otp = form.querySelector('#login-otp').value.trim();
    if (otp) body.otp = otp;
    try {
      const res = await api('POST', '/api/auth/login', body);
      setCSRF(res.csrf_token);
      state.me = res.user;
      const back = sessionStorage.getItem('after-login');
      sessionStorage.removeItem('after-login');
      history.replaceState(null, '', back && !back.startsWith('#/login') ? back : state.me.role === 'admin' ? '#/admin' : '#/documents');
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

// passwordForm changes the password; forced says the server requires it before anything else.
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
      if (forced) { state.page = null; route(); }
    } catch (e2) {
      err.className = 'error';
      err.textContent = e2.status === 403 ? 'The current password is wrong.' : e2.message;
    }
  } },
  h(forced ? 'h1' : 'h2', {}, forced ? 'Choose your own password' : 'Change password'),
  forced ? h('p', {}, 'Your password was set by an administrator. Choose your own before you continue.') : null,
  field('cp-current', 'Current password', { type: 'password', autocomplete: 'current-password', required: true }),
  field('cp-new', 'New password (12 characters or more)', { type: 'password', autocomplete: 'new-password', minlength: 12, required: true }),
  field('cp-repeat', 'New password again', { type: 'password', autocomplete: 'new-password', minlength: 12, required: true }),
  err, h('p', {}, h('button', { id: 'cp-submit', type: 'submit' }, 'Change password')));
  return form;
}

function passwordPage(forced) { state.page = null; mount(passwordForm(forced)); }

// Theme: light or dark, remembered; the first visit follows the system setting.
function applyThemeButton() {
  const dark = document.documentElement.dataset.theme === 'dark' ||
    (!document.documentElement.dataset.theme && matchMedia('(prefers-color-scheme: dark)').matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  const b = document.getElementById('theme-toggle');
  b.setAttribute('aria-pressed', String(dark));
  b.replaceChildren(icon(dark ? 'sun' : 'moon'));
}
document.getElementById('theme-toggle').addEventListener('click', () => {
  const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
  document.documentElement.dataset.theme = next;
  try { localStorage.setItem('theme', next); } catch { /* not remembered */ }
  applyThemeButton();
});
applyThemeButton();

// A lost session goes to sign-in and comes back here after; a lost network shows a banner.
hooks.signedOut = () => {
  if (!state.me) return;
  state.me = null;
  state.page = null;
  setCSRF(null);
  route();
};
const banner = document.getElementById('net-banner');
hooks.offline = () => { banner.hidden = false; };
hooks.online = () => { banner.hidden = true; };
document.getElementById('net-retry').addEventListener('click', () => { banner.hidden = true; state.page = null; route(); });
// Anything that still escapes a handler is an unreachable server or a bug: say so, never a dead page.
window.addEventListener('unhandledrejection', (e) => {
  e.preventDefault();
  if (e.reason instanceof ApiError && e.reason.status === 401) return;
  banner.hidden = false;
  document.getElementById('net-msg').textContent = e.reason instanceof ApiError && e.reason.status === 0
    ? 'The server cannot be reached.' : 'Something went wrong: ' + ((e.reason && e.reason.message) || 'unknown error') + '.';
});
// "/" focuses the search box wherever there is one.
document.addEventListener('keydown', (e) => {
  if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement || t.isContentEditable) return;
  const s = document.getElementById('search');
  if (s) { e.preventDefault(); s.focus(); s.select(); }
});

window.addEventListener('hashchange', route);
route();
document.querySelector('.skip').addEventListener('click', (e) => { e.preventDefault(); document.getElementById('main').focus(); });
