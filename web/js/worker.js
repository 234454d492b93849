// The dedicated Worker that runs the machine. The page only draws the
// terminal; everything else happens here: the disk is read with
// synchronous range requests (allowed in a Worker, and what lets the
// Rust side stay synchronous), the guest runs in slices of a few tens of
// milliseconds so messages (keys, resizes) get through, and the disk's
// changes are saved to IndexedDB after every guest sync and after a short
// idle. Messages: see the protocol table in web/README.md.

import init, { Wax, Run } from '../dist/pkg/wax_web.js';
import { OverlayStore, describeFlushError } from './overlay-store.js';
import { DOWNLOAD_SCRIPT } from './guest-tools.js';
import { prefetch } from './prefetch.js';

/** Guest instructions per `run` call, and wall time per turn of the loop. */
const SLICE = 2_000_000;
const TURN_MS = 30;
/** Save after this long without new disk writes while the guest is idle
 * (a write the user just made is in IndexedDB a fraction of a second
 * later; a guest busy writing is saved when it pauses). */
const IDLE_FLUSH_MS = 150;
/** Longest wait while the guest is idle (to run the idle flush). */
const IDLE_POLL_MS = 250;
/** After a failed save, the next try (sooner if the guest syncs again). */
const SAVE_RETRY_MS = 10000;
/** A range request slower than this is reported. */
const SLOW_FETCH_MS = 3000;
const FETCH_TIMEOUT_MS = 30000;

let wax = null;
let store = null;
let timer = null;
let scheduled = false;
let exited = false;
let flushing = false;
/** When a failed save may be tried again, and why it failed. */
let retryAt = 0;
let saveError = null;
/** Tests only (`failSaves` message): saves fail with this DOMException
 * name instead of reaching IndexedDB (null: real saves). */
let saveFault = null;
let resetting = false;
let lastDirty = 0;
let lastDirtyChange = 0;
let stats = { t: 0, insns: 0 };
let fetchProblem = null;
/** Range requests made and the wall time spent in them (status line, tests). */
const net = { requests: 0, ms: 0 };
/** Wall time inside the machine's run calls. */
let runMs = 0;

const post = (msg, transfer) => self.postMessage(msg, transfer || []);
const notice = (text, kind = 'warn') => post({ type: 'notice', text, kind });

// ---- the host interface the Rust side imports (web/src/host.rs) ----

function fetchRange(url, start, end) {
  const t0 = performance.now();
  const x = new XMLHttpRequest();
  x.open('GET', url, false);
  x.responseType = 'arraybuffer';
  x.timeout = FETCH_TIMEOUT_MS;
  x.setRequestHeader('Range', `bytes=${start}-${end}`);
  try {
    x.send();
  } catch (e) {
    fetchProblem = `${url}: ${e.name === 'TimeoutError' ? 'no answer in 30 s' : 'network error'}`;
    throw fetchProblem;
  }
  const ms = performance.now() - t0;
  net.requests++;
  net.ms += ms;
  if (ms > SLOW_FETCH_MS) notice(`The disk image server is slow (${(ms / 1000).toFixed(1)} s for one read).`);
  if (x.status >= 500) fetchProblem = `${url}: server error ${x.status}`;
  else if (fetchProblem) {
    fetchProblem = null;
    notice('The disk image server answers again.', 'ok');
  }
  return {
    status: x.status,
    contentRange: x.getResponseHeader('Content-Range'),
    body: new Uint8Array(x.response || new ArrayBuffer(0)),
  };
}

function fetchAll(url) {
  const x = new XMLHttpRequest();
  x.open('GET', url, false);
  x.responseType = 'arraybuffer';
  x.timeout = FETCH_TIMEOUT_MS;
  try {
    x.send();
  } catch (e) {
    throw `cannot reach the server (${e.name})`;
  }
  if (x.status !== 200) throw `HTTP status ${x.status}`;
  return new Uint8Array(x.response);
}

/**
 * Something to block on without SharedArrayBuffer (the page is not
 * cross-origin isolated): Atomics.wait on a shared WebAssembly.Memory,
 * which Chromium allows in a Worker without isolation (measured: a 200 ms
 * wait returns "timed-out" after 200 ms, the CPU idle). Where the browser
 * refuses, null: sleep spins.
 */
const sleeper = (() => {
  try {
    const cell = new Int32Array(new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer);
    Atomics.wait(cell, 0, 0, 0);
    return cell;
  } catch {
    return null;
  }
})();

function sleep(ms) {
  // A retry of a failed range request: the Rust side is synchronous, so
  // the Worker blocks (messages wait). Only reached on failures.
  notice(`Reading the disk image failed (${fetchProblem || 'bad answer'}); retrying in ${(ms / 1000).toFixed(1)} s…`, 'error');
  if (sleeper) {
    Atomics.wait(sleeper, 0, 0, ms);
    return;
  }
  const until = performance.now() + ms;
  while (performance.now() < until) { /* spin: nothing to block on */ }
}

self.waxHost = {
  fetchRange,
  fetchAll,
  sleep,
  now: () => Date.now(),
  monotonic: () => performance.now(),
  random: (buf) => crypto.getRandomValues(buf),
};

// ---- boot ----

async function boot(opts) {
  const t0 = performance.now();
  const phases = {};
  const phase = (name) => (phases[name] = Math.round(performance.now() - t0));
  post({ type: 'progress', text: 'Loading the emulator…' });
  await init({ module_or_path: new URL('wax_web_bg.wasm', opts.pkgUrl) });
  phase('wasm');
  post({ type: 'progress', text: 'Opening the disk image…' });
  const image = new URL(opts.image, opts.base).href;
  try {
    wax = new Wax(image);
  } catch (e) {
    post({ type: 'fatal', text: `Cannot open the disk image ${image}: ${e}` });
    return;
  }
  if (opts.engine) {
    try {
      wax.setEngine(opts.engine);
    } catch (e) {
      post({ type: 'fatal', text: `${e}` });
      return;
    }
  }
  phase('image');
  post({ type: 'progress', text: 'Reading your saved files…' });
  await openStore(image);
  phase('overlay');
  const list = store ? await store.bootChunks().catch(() => null) : null;
  if (list) {
    post({ type: 'progress', text: 'Fetching what the last boot read…' });
    await prefetch(wax, image, list);
  }
  phase('prefetch');
  if (opts.net) {
    wax.useRelay();
    connectRelay(new URL(opts.net, opts.base).href.replace(/^http/, 'ws'));
  }
  post({ type: 'progress', text: 'Starting bash…' });
  try {
    wax.bootShell(opts.rows, opts.cols, opts.memoryMb || 1024);
  } catch (e) {
    post({ type: 'fatal', text: `Cannot start the shell: ${e}` });
    return;
  }
  installTools();
  phase('kernel');
  post({ type: 'booted', ms: performance.now() - t0, phases, fetched: wax.bytesFetched, net: { ...net }, engine: wax.engine, retryWait: sleeper ? 'blocks' : 'spins' });
  stats = { t: performance.now(), insns: 0 };
  schedule(0);
}

async function openStore(image) {
  if (!self.indexedDB) {
    notice('This browser has no IndexedDB here: your files last only as long as this tab.');
    return;
  }
  try {
    store = await OverlayStore.open(image, wax.fingerprint());
  } catch (e) {
    notice(`Saved files are unavailable (${e && e.name}): changes last only as long as this tab.`);
    return;
  }
  if (store.mismatch) {
    notice('Your saved files belong to a different version of the disk image, so they are not used (and not overwritten). Use "Reset disk" to discard them.', 'error');
    store = null;
    return;
  }
  for (const [block, data] of await store.load()) wax.loadBlock(block, data);
  // From now on the guest's sync, fsync and msync return only once their
  // data is in IndexedDB (and fail with ENOSPC when the quota is full).
  wax.keepOverlay();
}

/** The guest side of downloads (see guest-tools.js), written only if it changed. */
function installTools() {
  const path = '/usr/local/bin/wax-download';
  const want = new TextEncoder().encode(DOWNLOAD_SCRIPT);
  try {
    const have = wax.readFile(path);
    if (have.length === want.length && have.every((b, i) => b === want[i])) return;
  } catch { /* not there yet */ }
  try {
    wax.writeFile(path, want, 0o755);
  } catch (e) {
    notice(`wax-download is unavailable: ${e}`);
  }
}

// ---- the run loop ----

// A zero-delay turn goes through a MessageChannel: setTimeout(0) is
// clamped to 4 ms once nested, which would idle the guest ~12% of the time.
const turn = new MessageChannel();
turn.port1.onmessage = () => {
  scheduled = false;
  loop();
};

function schedule(ms) {
  if (scheduled || exited) return;
  scheduled = true;
  if (ms <= 0) {
    turn.port2.postMessage(null);
    return;
  }
  timer = setTimeout(() => {
    timer = null;
    scheduled = false;
    loop();
  }, ms);
}

/** Runs the guest now (input arrived), instead of at the idle timer. */
function wake() {
  if (timer !== null) {
    clearTimeout(timer);
    timer = null;
    scheduled = false;
  }
  schedule(0);
}

// ---- the network relay (Wisp over a WebSocket; ?net=ws://HOST/wisp/) ----

let relay = null;

/** Opens the relay's WebSocket, and opens it again (backing off) when it closes. */
function connectRelay(url, delayMs = 1000) {
  let ws;
  try {
    ws = new WebSocket(url);
  } catch (e) {
    notice(`The network relay ${url} cannot be used: ${e.message}. The machine has only its loopback network.`, 'error');
    return;
  }
  ws.binaryType = 'arraybuffer';
  let opened = false;
  ws.onopen = () => {
    opened = true;
    wax.relayReset();
    relay = ws;
    post({ type: 'relay', state: 'open', url });
  };
  ws.onmessage = (ev) => {
    if (typeof ev.data === 'string') return;
    wax.relayDeliver(new Uint8Array(ev.data));
    wake();
  };
  ws.onclose = () => {
    relay = null;
    wax.relayLost();
    wake();
    const next = Math.min(delayMs * 2, 30000);
    notice(
      opened
        ? `The network relay ${url} closed; open connections failed. Reconnecting…`
        : `The network relay ${url} does not answer; retrying in ${Math.round(delayMs / 1000)} s. Until then connections leaving the machine fail (ENETUNREACH).`,
      'warn',
    );
    setTimeout(() => connectRelay(url, opened ? 1000 : next), opened ? 0 : delayMs);
  };
}

/** Sends what the guest queued for the relay. */
function flushRelay() {
  if (!relay || relay.readyState !== WebSocket.OPEN) return;
  const out = wax.relayOutbox();
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i + 4 <= out.length; ) {
    const n = view.getUint32(i, true);
    relay.send(out.subarray(i + 4, i + 4 + n));
    i += 4 + n;
  }
}

function drainOutput() {
  const out = wax.takeOutput();
  if (out.length) post({ type: 'output', data: out }, [out.buffer]);
}

function loop() {
  const t0 = performance.now();
  let st;
  do {
    st = wax.run(SLICE);
    drainOutput();
    flushRelay();
  } while (st === Run.Budget && performance.now() - t0 < TURN_MS);
  runMs += performance.now() - t0;
  const diskError = wax.takeDiskError();
  if (diskError) {
    notice(`The disk image could not be read (${diskError}). The program that needed it got an I/O error; check the connection and run it again (every read tries the server anew).`, 'error');
  }
  trackWrites();
  maybeFlush(st !== Run.Budget);
  report(st);
  if (st === Run.Exited) {
    exited = true;
    wax.sync();
    persist();
    post({ type: 'exit', code: wax.exitCode });
  } else if (st === Run.Budget) {
    schedule(0);
  } else {
    const ms = wax.idleMs;
    let wait = ms < 0 ? IDLE_POLL_MS : Math.min(ms, IDLE_POLL_MS);
    // Unsaved writes: come back when the idle flush is due.
    if (lastDirty > 0) wait = Math.min(wait, IDLE_FLUSH_MS);
    schedule(wait);
  }
}

function trackWrites() {
  const dirty = wax.dirtyBlocks;
  if (dirty !== lastDirty) {
    lastDirty = dirty;
    lastDirtyChange = performance.now();
  }
}

/** Syncs after a short idle, then saves whatever the disk flushed. */
function maybeFlush(idle) {
  if (idle && lastDirty > 0 && performance.now() - lastDirtyChange > IDLE_FLUSH_MS) {
    try {
      wax.sync();
    } catch (e) {
      notice(`${e}`, 'error');
    }
    lastDirty = wax.dirtyBlocks;
  }
  persist();
}

/**
 * Saves the pending blocks as one IndexedDB transaction. A guest sync
 * waiting for them resumes when it ends (with ENOSPC or EIO if it
 * failed); after a failure the next try waits for the guest's next sync,
 * or SAVE_RETRY_MS.
 */
function persist() {
  if (!store || flushing || resetting || wax.pendingBlocks + wax.pendingDeletes === 0) return;
  if (!wax.saveWanted && performance.now() < retryAt) return;
  const batch = wax.takePending();
  const deletes = wax.takenDeletes();
  flushing = true;
  const commit = saveFault
    ? Promise.reject(new DOMException('made to fail by a test', saveFault))
    : store.commit(batch, {}, deletes);
  commit.then(
    () => {
      flushing = false;
      saveError = null;
      retryAt = 0;
      wax.saved();
      post({ type: 'saved', generation: store.generation });
      wake();
      if (wax.pendingBlocks) persist();
    },
    (e) => {
      flushing = false;
      saveError = e;
      retryAt = performance.now() + SAVE_RETRY_MS;
      wax.giveBack(batch, !!e && e.name === 'QuotaExceededError', `${e && e.name}: ${e && e.message}`);
      notice(describeFlushError(e), 'error');
      wake();
    },
  );
}

function report(st) {
  const now = performance.now();
  if (now - stats.t < 500 && st !== Run.Exited) return;
  const insns = wax.instructions;
  post({
    type: 'status',
    fetched: wax.bytesFetched,
    requests: net.requests,
    fetchMs: Math.round(net.ms),
    runMs: Math.round(runMs),
    cached: wax.bytesCached,
    dirty: wax.dirtyBlocks,
    pending: wax.pendingBlocks + (flushing ? 1 : 0),
    saving: flushing,
    ips: ((insns - stats.insns) * 1000) / (now - stats.t),
    instructions: insns,
    engine: wax.engine,
    jit: wax.engine === 'jit' ? JSON.parse(wax.engineStats()) : null,
    idle: st === Run.Idle,
  });
  stats = { t: now, insns };
}

// ---- messages from the page ----

const handlers = {
  boot: (m) =>
    boot(m).catch((e) => post({ type: 'fatal', text: `The emulator failed to start: ${e && e.message ? e.message : e}` })),
  input: (m) => {
    wax.input(typeof m.data === 'string' ? new TextEncoder().encode(m.data) : m.data);
    wake();
  },
  resize: (m) => {
    wax.resize(m.rows, m.cols);
    wake();
  },
  writeFile: (m) => {
    wax.writeFile(m.path, m.data, m.mode ?? 0o644);
    wake();
  },
  readFile: (m) => {
    const data = wax.readFile(m.path);
    return { value: data, transfer: [data.buffer] };
  },
  prompted: async () => {
    post({ type: 'promptStats', runMs: Math.round(runMs), fetchMs: Math.round(net.ms), requests: net.requests, instructions: wax.instructions, at: Math.round(performance.now()) });
    // What the boot read up to the prompt, for the next boot's prefetch.
    if (store) await store.setBootChunks(Array.from(wax.touchedChunks()));
  },
  sync: async () => {
    wax.sync();
    retryAt = 0;
    saveError = null;
    persist();
    while (flushing || (store && wax.pendingBlocks + wax.pendingDeletes)) {
      if (saveError && !flushing) throw new Error(describeFlushError(saveError));
      await new Promise((r) => setTimeout(r, 20));
      persist();
    }
  },
  failSaves: (m) => {
    saveFault = m.name || null;
  },
  reset: async () => {
    exited = true;
    resetting = true;
    if (timer !== null) clearTimeout(timer);
    if (!store) {
      const image = new URL(self.lastBoot.image, self.lastBoot.base).href;
      store = await OverlayStore.open(image, null);
    }
    await store.reset();
  },
};

self.onmessage = async (ev) => {
  const m = ev.data;
  if (m.type === 'boot') self.lastBoot = m;
  const h = handlers[m.type];
  if (!h) return;
  if (m.type !== 'boot' && m.type !== 'reset' && !wax) {
    if (m.id !== undefined) post({ type: 'reply', id: m.id, error: 'the machine is not running yet' });
    return;
  }
  try {
    const r = await h(m);
    if (m.id !== undefined) post({ type: 'reply', id: m.id, value: r && r.value }, r && r.transfer);
  } catch (e) {
    if (m.id !== undefined) post({ type: 'reply', id: m.id, error: `${e}` });
    else notice(`${e}`, 'error');
  }
};
