// Tiny DOM helpers: elements are built, never parsed from strings, so no text can inject markup.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function mount(...nodes) {
  const main = document.getElementById('main');
  main.replaceChildren(...nodes);
  return main;
}

export function toast(msg) {
  const t = document.getElementById('toast');
  t.textContent = msg;
  t.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.remove('show'), 3500);
}

// field is a labelled input.
export function field(id, label, attrs = {}) {
  return [h('label', { for: id }, label), h('input', { id, name: id, type: 'text', ...attrs })];
}

export function errorBox(id) {
  return h('p', { id, class: 'error', role: 'alert' });
}

export function quotaBar(q) {
  const pct = q.limit_bytes > 0 ? Math.min(100, (100 * q.used_bytes) / q.limit_bytes) : 100;
  const cls = 'bar' + (pct >= 95 ? ' full' : pct >= 80 ? ' warn' : '');
  const bar = h('div', { class: cls, id: 'quota-bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100,
    'aria-valuenow': Math.round(pct), 'aria-label': 'Storage used' }, h('span'));
  bar.firstChild.style.width = pct + '%';
  return bar;
}
