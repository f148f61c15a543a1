// Three-step uploads with real progress: upload-url, PUT with XHR progress, confirm.
import { api, ApiError, fmtBytes, quotaMessage } from './api.js';
import { h } from './dom.js';

const PARALLEL = 3;

export class Uploader {
  // onChange(allDone, summary) runs after each file ends; onStart when files are added.
  constructor(listEl, onChange, onStart) {
    this.listEl = listEl;
    this.onChange = onChange;
    this.onStart = onStart || (() => {});
    this.queue = [];
    this.items = [];
    this.running = 0;
    // share.js hands it files shared from other apps and adds the camera control.
    document.dispatchEvent(new CustomEvent('docuvault:uploader', { detail: this }));
  }

  onDone() {
    const ended = this.items.filter((i) => i.ended);
    const failed = ended.filter((i) => i.failed).length;
    const allDone = ended.length === this.items.length;
    const summary = allDone
      ? `${ended.length - failed} of ${this.items.length} uploaded` + (failed ? ` · ${failed} not uploaded` : '')
      : `Uploading ${ended.length} of ${this.items.length}…`;
    this.onChange(allDone && failed === 0, summary);
  }

  add(files) {
    for (const file of files) {
      const item = { file, status: h('span', { class: 'status' }, 'waiting'), bar: h('progress', { max: 100, value: 0 }), xhr: null, cancelled: false };
      const cancel = h('button', { class: 'ghost', type: 'button', 'aria-label': 'Cancel upload of ' + file.name,
        onclick: () => this.cancel(item) }, 'Cancel');
      item.cancelBtn = cancel;
      item.el = h('li', { class: 'upload-item', 'data-name': file.name },
        h('span', { class: 'name', title: file.name }, file.name, ' ', h('span', { class: 'muted' }, fmtBytes(file.size))), cancel, item.bar, item.status);
      this.listEl.append(item.el);
      this.queue.push(item);
      this.items.push(item);
    }
    this.onStart();
    this.pump();
  }

  pump() {
    while (this.running < PARALLEL && this.queue.length) {
      const item = this.queue.shift();
      if (item.cancelled) continue;
      this.running++;
      this.run(item).finally(() => { this.running--; this.pump(); });
    }
  }

  cancel(item) {
    item.cancelled = true;
    if (item.xhr) item.xhr.abort();
    item.status.textContent = 'cancelled';
    item.cancelBtn.disabled = true;
    if (!item.ended) { item.ended = true; this.onDone(); }
  }

  set(item, text, cls) {
    item.status.textContent = text;
    item.status.className = 'status ' + (cls || '');
  }

  async run(item) {
    const f = item.file;
    try {
      this.set(item, 'preparing');
      const ticket = await api('POST', '/api/documents/upload-url',
        { filename: f.name, content_type: f.type || 'application/octet-stream', size_bytes: f.size });
      if (item.cancelled) return;
      await this.send(item, ticket);
      if (item.cancelled) return;
      this.set(item, 'finishing');
      await api('POST', `/api/documents/${ticket.document_id}/confirm`);
      item.bar.value = 100;
      this.set(item, 'done', 'ok');
      item.cancelBtn.hidden = true;
      item.ended = true;
      this.onDone();
    } catch (err) {
      if (item.cancelled) return;
      const msg = err instanceof ApiError && err.status === 413 ? quotaMessage(err)
        : err instanceof ApiError && err.status === 409 ? 'You already have this document.' : err.message;
      this.set(item, msg, 'error');
      item.cancelBtn.hidden = true;
      item.ended = true;
      item.failed = true;
      this.onDone();
    }
  }

  // send puts the bytes, and once more after a fault of the storage (a 5xx, or the 403 a
  // single-drive MinIO answers while a delete in the same folder runs): the upload URL stays
  // valid until confirm, so the same upload can be sent again.
  async send(item, ticket) {
    try {
      await this.put(item, ticket);
    } catch (err) {
      if (item.cancelled || !(err.status >= 500 || err.status === 403)) throw err;
      this.set(item, 'retrying');
      await this.put(item, ticket);
    }
  }

  put(item, ticket) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      item.xhr = xhr;
      const started = performance.now();
      xhr.open(ticket.method, ticket.upload_url);
      for (const [k, v] of Object.entries(ticket.headers || {})) xhr.setRequestHeader(k, v);
      // S3 takes a POST policy upload: its form fields first, then the file.
      let body = item.file;
      if (ticket.fields) {
        body = new FormData();
        for (const [k, v] of Object.entries(ticket.fields)) body.append(k, v);
        body.append('file', item.file);
      }
      xhr.upload.onprogress = (e) => {
        if (!e.lengthComputable) return;
        const pct = Math.floor((100 * e.loaded) / e.total);
        const secs = (performance.now() - started) / 1000;
        const speed = secs > 0 ? e.loaded / secs : 0;
        item.bar.value = pct;
        this.set(item, `uploading ${pct}% · ${fmtBytes(e.loaded)} of ${fmtBytes(e.total)} · ${fmtBytes(speed)}/s`);
      };
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) return resolve();
        const err = new Error(xhr.status === 413 ? 'The file is larger than announced.' : `Upload failed (HTTP ${xhr.status}).`);
        err.status = xhr.status;
        reject(err);
      };
      xhr.onerror = () => reject(new Error('Upload failed: the storage could not be reached.'));
      xhr.onabort = () => reject(new Error('cancelled'));
      xhr.send(body);
    });
  }
}
