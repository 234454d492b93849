// The embedding API: a Debian i386 shell in a given element.
//
//   import { Wax } from './wax.js';
//   const wax = await Wax.boot(element, { image: 'image/manifest.json' });
//   wax.on('exit', (code) => ...);
//   await wax.run('uname -a');
//
// See web/README.md for the whole API. The machine runs in a dedicated
// Worker (worker.js next to this file); this side draws the terminal with
// xterm.js and talks to the Worker with messages.

import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { OSC_DOWNLOAD } from './guest-tools.js';

const encoder = new TextEncoder();

export class Wax {
  constructor(element, opts) {
    this.element = element;
    this.opts = opts;
    this.listeners = {};
    this.pending = new Map();
    this.nextId = 1;
    this.booted = false;
    this.exitCode = null;
    this.term = new Terminal({
      convertEol: false,
      cursorBlink: true,
      scrollback: 5000,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
      ...(opts.terminal || {}),
    });
    this.fit = new FitAddon();
    this.term.loadAddon(this.fit);
    this.term.open(element);
    this.fit.fit();
    this.term.parser.registerOscHandler(OSC_DOWNLOAD, (data) => {
      this.onDownloadRequest(data);
      return true;
    });
    this.term.attachCustomKeyEventHandler((e) => this.clipboardKey(e));
    this.term.onData((d) => this.send({ type: 'input', data: d }));
    this.term.onBinary((d) => this.send({ type: 'input', data: Uint8Array.from(d, (c) => c.charCodeAt(0)) }));
    this.term.onResize(({ rows, cols }) => this.send({ type: 'resize', rows, cols }));
    this.resizeObserver = new ResizeObserver(() => this.fit.fit());
    this.resizeObserver.observe(element);
  }

  /**
   * Starts a machine in `element`. Options: image (URL of a raw image or a
   * chunk manifest, relative to the page; default image/manifest.json),
   * workerUrl, memoryMb, net (URL of a Wisp relay, e.g. `wisp/` under
   * `wax serve --net`: connections leaving the machine go through it),
   * engine ('interp' or 'jit': what runs guest code; the default is the
   * interpreter), terminal (xterm.js options). Resolves once the
   * shell is started (before its prompt: see the 'prompt' event).
   */
  static async boot(element, opts = {}) {
    const wax = new Wax(element, opts);
    await wax.start();
    return wax;
  }

  start() {
    const workerUrl = this.opts.workerUrl || new URL('worker.js', import.meta.url);
    this.worker = new Worker(workerUrl, { type: 'module' });
    this.worker.onmessage = (ev) => this.onMessage(ev.data);
    this.worker.onerror = (ev) => this.emit('fatal', `The emulator failed to load: ${ev.message || 'worker error'}`);
    this.send({
      type: 'boot',
      image: this.opts.image || 'image/manifest.json',
      base: location.href,
      pkgUrl: new URL('pkg/', workerUrl).href,
      rows: this.term.rows,
      cols: this.term.cols,
      memoryMb: this.opts.memoryMb,
      net: this.opts.net || null,
      engine: this.opts.engine,
    });
    return new Promise((resolve, reject) => {
      this.on('booted', () => resolve());
      this.on('fatal', (text) => reject(new Error(text)));
    });
  }

  /** Subscribes to an event: output, prompt, exit, status, notice, saved, download, progress, fatal. */
  on(event, fn) {
    (this.listeners[event] ||= []).push(fn);
    return this;
  }

  emit(event, ...args) {
    let handled = false;
    for (const fn of this.listeners[event] || []) handled = fn(...args) === false || handled;
    return handled;
  }

  send(msg, transfer) {
    this.worker.postMessage(msg, transfer || []);
  }

  request(msg, transfer) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send({ ...msg, id }, transfer);
    });
  }

  onMessage(m) {
    switch (m.type) {
      case 'output':
        this.term.write(m.data);
        this.emit('output', m.data);
        if (!this.prompted && /[#$] $/.test(new TextDecoder().decode(m.data.slice(-4)))) {
          this.prompted = true;
          this.send({ type: 'prompted' });
          this.emit('prompt');
        }
        break;
      case 'reply': {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (p) m.error !== undefined ? p.reject(new Error(m.error)) : p.resolve(m.value);
        break;
      }
      case 'booted':
        this.booted = true;
        this.emit('booted', m);
        break;
      case 'exit':
        this.exitCode = m.code;
        this.emit('exit', m.code);
        break;
      default:
        this.emit(m.type, m.text !== undefined ? m.text : m, m.kind);
    }
  }

  /** Types `line` and Enter, as the user would (shown before it runs). */
  run(line) {
    this.type(`${line}\r`);
  }

  /** Types text (control characters included: '\x03' is ^C). */
  type(text) {
    this.send({ type: 'input', data: text });
  }

  /** Creates or replaces a guest file; `data` is a string or bytes. */
  writeFile(path, data, mode = 0o644) {
    const bytes = typeof data === 'string' ? encoder.encode(data) : new Uint8Array(data);
    return this.request({ type: 'writeFile', path, data: bytes, mode }, [bytes.buffer]);
  }

  /** A guest file's bytes (Uint8Array). */
  readFile(path) {
    return this.request({ type: 'readFile', path });
  }

  /** Writes the disk back and waits until IndexedDB has it. */
  sync() {
    return this.request({ type: 'sync' });
  }

  /** Drops the saved disk changes and stops the machine (reload to restart). */
  resetDisk() {
    return this.request({ type: 'reset' });
  }

  async onDownloadRequest(data) {
    const [what, ...rest] = data.split(';');
    if (what !== 'download') return;
    const path = rest.join(';');
    const name = path.split('/').pop() || 'download';
    try {
      const bytes = await this.readFile(path);
      if (this.emit('download', { path, name, data: bytes })) return;
      const url = URL.createObjectURL(new Blob([bytes]));
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      this.emit('notice', `Download of ${path} failed: ${e.message}`, 'error');
    }
  }

  focus() {
    this.term.focus();
  }

  /**
   * Ctrl+Shift+C copies the selection and Ctrl+Shift+V pastes, as in
   * terminal emulators (plain Ctrl+C is ^C for the guest). The browser
   * pastes by itself on Ctrl+Shift+V (and Ctrl+V, the context menu); the
   * terminal only must not turn the key into a control character.
   */
  clipboardKey(e) {
    if (!e.ctrlKey || !e.shiftKey || (e.code !== 'KeyC' && e.code !== 'KeyV')) return true;
    if (e.type === 'keydown' && e.code === 'KeyC') {
      e.preventDefault(); // not the browser's element inspector
      const text = this.term.getSelection();
      if (text && navigator.clipboard) navigator.clipboard.writeText(text).catch(() => {});
    }
    return false;
  }
}
