// Tiny DOM helpers: elements are built, never parsed from strings, so no text can inject markup.
export function h(tag, attrs, ...children) {
  const el = tag === 'svg' || tag === 'use' ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.setAttribute('class', v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else if (k === 'style') Object.assign(el.style, v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// icon is a use of the inline sprite; decorative unless a label is given.
export function icon(name, label) {
  const s = h('svg', label ? { role: 'img', 'aria-label': label } : { 'aria-hidden': 'true', focusable: 'false' }, h('use', { href: '#i-' + name }));
  return s;
}

export function mount(...nodes) {
  const main = document.getElementById('main');
  main.replaceChildren(...nodes.flat().filter((n) => n !== null && n !== undefined && n !== false));
  return main;
}

// toast shows a short message, optionally with one action (such as Undo); it goes away by
// itself, or at once when the page changes.
export function toast(msg, action) {
  const box = document.getElementById('toasts');
  const t = h('div', { class: 'toast' }, h('span', {}, msg));
  if (action) t.append(h('button', { type: 'button', onclick: () => { t.remove(); action.run(); } }, action.label));
  t.append(h('button', { type: 'button', class: 'icon', 'aria-label': 'Dismiss', onclick: () => t.remove() }, icon('x')));
  box.append(t);
  setTimeout(() => t.remove(), action ? 8000 : 4000);
  return t;
}

export function clearToasts() { document.getElementById('toasts').replaceChildren(); }

// field is a labelled input.
export function field(id, label, attrs = {}) {
  return [h('label', { for: id }, label), h('input', { id, name: id, type: 'text', ...attrs })];
}

export function errorBox(id) {
  return h('p', { id, class: 'error', role: 'alert' });
}

// quotaBar is a slim bar of used storage; trash (bytes in the trash) shows as its own share.
export function quotaBar(q, id = 'quota-bar') {
  const limit = Number(q.limit_bytes) || 0;
  const used = Number(q.used_bytes) || 0;
  const trash = Math.min(Number(q.trash_bytes) || 0, used);
  const pct = limit > 0 ? Math.min(100, (100 * used) / limit) : 0;
  const tpct = limit > 0 ? Math.min(pct, (100 * trash) / limit) : 0;
  const bar = h('div', { class: 'slim' + (pct >= 95 ? ' full' : pct >= 80 ? ' warn' : ''), id, role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100,
    'aria-valuenow': Math.round(pct), 'aria-label': 'Storage used' }, h('span'), h('span', { class: 'trash' }));
  bar.children[0].style.width = (pct - tpct) + '%';
  bar.children[1].style.width = tpct + '%';
  return bar;
}

// Topic chips: a topic's colour is its background; the text is black or white, whichever
// contrasts more (WCAG relative luminance), so every colour a user picks stays readable.
function luminance(hex) {
  const n = parseInt(hex.slice(1), 16);
  const c = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}
export function textOn(hex) {
  const l = luminance(hex);
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? '#000000' : '#ffffff';
}

export function chip(t, opts = {}) {
  const colour = /^#[0-9a-fA-F]{6}$/.test(t.color || '') ? t.color : null;
  const style = colour ? { background: colour, color: textOn(colour), borderColor: colour } : null;
  const kids = [t.system ? icon('globe', 'System topic') : null, h('span', {}, t.name)];
  const title = t.name + (t.system ? ' (system topic)' : '') + (opts.title ? ' — ' + opts.title : '');
  if (opts.href) return h('a', { class: 'chip' + (opts.cls ? ' ' + opts.cls : ''), href: opts.href, title, style, 'data-topic': t.id }, kids);
  if (opts.onclick) return h('button', { type: 'button', class: 'chip' + (opts.cls ? ' ' + opts.cls : ''), title, style, onclick: opts.onclick, 'data-topic': t.id }, kids);
  return h('span', { class: 'chip', title, style, 'data-topic': t.id }, kids);
}

// marked renders a search snippet whose matches the server wrapped in <mark> (the rest
// escaped) as text nodes and <mark> elements: document text never becomes markup.
export function marked(snippet) {
  const out = [];
  const unescape = (s) => s.replace(/&(lt|gt|quot|#39|#34|apos|amp);/g, (_, e) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", '#34': '"', apos: "'", amp: '&' })[e]);
  const parts = String(snippet).split(/(<mark>|<\/mark>)/);
  let inMark = false;
  for (const p of parts) {
    if (p === '<mark>') { inMark = true; continue; }
    if (p === '</mark>') { inMark = false; continue; }
    if (!p) continue;
    out.push(inMark ? h('mark', {}, unescape(p)) : document.createTextNode(unescape(p)));
  }
  return out;
}
