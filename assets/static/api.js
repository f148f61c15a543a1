// The JSON API client: session cookie plus the CSRF token on unsafe requests.
let csrf = null;

export class ApiError extends Error {
  constructor(status, detail, retryAfter) {
    super(typeof detail === 'string' ? detail : (detail && detail.message) || `HTTP ${status}`);
    this.status = status;
    this.detail = detail;
    this.retryAfter = retryAfter ? Number(retryAfter) : null;
  }
}

export function setCSRF(token) { csrf = token; }

// hooks lets the app react to a lost session (401) and to the network going away and back.
export const hooks = { signedOut() {}, offline() {}, online() {} };

async function refreshCSRF() {
  let res;
  try { res = await fetch('/api/auth/csrf', { credentials: 'same-origin' }); } catch (e) {
    hooks.offline(e);
    throw new ApiError(0, 'The server cannot be reached.');
  }
  if (!res.ok) throw new ApiError(res.status, 'HTTP ' + res.status);
  csrf = (await res.json()).csrf_token;
}

export async function api(method, path, body, retried = false) {
  const opts = { method, headers: {}, credentials: 'same-origin' };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  if (method !== 'GET') {
    if (!csrf) await refreshCSRF();
    opts.headers['X-CSRF-Token'] = csrf;
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch (e) {
    // The server could not be reached: say so once, with a way to try again.
    hooks.offline(e);
    throw new ApiError(0, 'The server cannot be reached.');
  }
  hooks.online();
  const renewed = res.headers.get('X-CSRF-Token');
  if (renewed) csrf = renewed;
  const text = await res.text();
  let data = null;
  if (text) { try { data = JSON.parse(text); } catch { data = text; } }
  if (res.status === 403 && data && data.detail === 'CSRF token missing or invalid' && !retried) {
    await refreshCSRF();
    return api(method, path, body, true);
  }
  if (res.status === 401 && !path.startsWith('/api/auth/login') && path !== '/api/auth/me') hooks.signedOut();
  if (!res.ok) throw new ApiError(res.status, data && data.detail, res.headers.get('Retry-After'));
  return data;
}

export async function ensureCSRF() {
  if (!csrf) await refreshCSRF();
  return csrf;
}

// fmtBytes writes a size in human units (KiB, MiB, GiB).
export function fmtBytes(n) {
  if (n === null || n === undefined) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 ? String(v) : v.toFixed(v < 10 ? 1 : 0)) + ' ' + units[i];
}

export function fmtDate(s) {
  if (!s) return '';
  return new Date(s).toLocaleString();
}

// fmtDay writes a date compactly (date only), for columns.
export function fmtDay(s) {
  if (!s) return '';
  return new Date(s).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

// quotaMessage explains a 413 with the numbers in human units.
export function quotaMessage(err) {
  const d = err.detail;
  if (d && typeof d === 'object' && 'limit_bytes' in d) {
    if (d.max_upload_bytes) return `Too large: the largest upload is ${fmtBytes(d.max_upload_bytes)}.`;
    return `Quota exceeded: ${fmtBytes(d.used_bytes)} of ${fmtBytes(d.limit_bytes)} used, ` +
      `this file needs ${fmtBytes(d.rejected_bytes)}.`;
  }
  return err.message;
}
