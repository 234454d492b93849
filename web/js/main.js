// The page: a terminal filling the window, a status line, upload and
// Reset disk controls, and the ?cmd= / ?image= / ?engine= links.
// Everything about the machine goes through the embedding API (wax.js).

import { Wax } from './wax.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const bootStart = performance.now();

function mb(n) {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : `${Math.round(n / 1024)} KB`;
}

function rate(ips) {
  return ips >= 1e6 ? `${(ips / 1e6).toFixed(1)} M` : `${Math.round(ips / 1e3)} k`;
}

function showNotice(text, kind = 'warn') {
  const n = $('notice');
  n.textContent = text;
  n.className = `notice ${kind}`;
  n.hidden = false;
  clearTimeout(showNotice.timer);
  if (kind === 'ok') showNotice.timer = setTimeout(() => (n.hidden = true), 4000);
}

function showFatal(text) {
  $('progress').hidden = true;
  $('fatal-text').textContent = text;
  $('fatal').hidden = false;
}

function status(s) {
  const saved = s.saving || s.pending ? `saving ${s.pending} blocks` : s.dirty ? `${s.dirty} blocks unsaved` : 'disk saved';
  $('status').textContent =
    `fetched ${mb(s.fetched)} · cached ${mb(s.cached)} · ${saved} · ` +
    `${s.idle ? 'idle' : `${rate(s.ips)} instructions/s`} · ${engineText(s)}`;
}

function engineText(s) {
  if (s.engine !== 'jit' || !s.jit) return s.engine;
  const j = s.jit;
  const total = j['instructions run translated'] + j['instructions run interpreted'];
  const share = total ? ` (${Math.round((100 * j['instructions run translated']) / total)}% translated)` : '';
  return `JIT: ${j['modules compiled']} modules${share}`;
}

async function uploadFiles(wax, files) {
  for (const f of files) {
    const path = `/root/${f.name.replace(/\//g, '_')}`;
    try {
      await wax.writeFile(path, await f.arrayBuffer());
      showNotice(`Uploaded ${f.name} to ${path} (${mb(f.size)})`, 'ok');
    } catch (e) {
      showNotice(`Upload of ${f.name} failed: ${e.message}`, 'error');
    }
  }
}

async function main() {
  const image = params.get('image') || 'image/manifest.json';
  const cmd = params.get('cmd');
  // ?net=ws://HOST/wisp/ (or a path on this site, like `wisp/` under
  // `wax serve --net`): connections leaving the machine go through that
  // Wisp relay. Without it the machine has only its loopback network.
  const net = params.get('net');
  // The JIT by default (the python loop of web/tests/bench.mjs: 10.2 s
  // against 33.7 s interpreted, every browser test step passing under
  // it); ?engine=interp runs every instruction in the interpreter.
  const engine = params.get('engine') || 'jit';
  const wax = new Wax($('term'), { image, net, engine });
  window.wax = wax; // for tests and the console
  wax.on('progress', (t) => ($('progress-text').textContent = t));
  wax.on('fatal', showFatal);
  wax.on('notice', showNotice);
  wax.on('status', (s) => {
    window.waxStatus = s; // read by the browser tests
    status(s);
  });
  wax.on('saved', (m) => (window.waxSaved = m.generation));
  wax.on('booted', (m) => (window.waxBoot = m));
  wax.on('promptStats', (m) => (window.waxPromptStats = m));
  wax.on('prompt', () => {
    $('progress').hidden = true;
    window.waxTimeToPrompt = performance.now() - bootStart;
    if (cmd) wax.run(cmd);
    wax.focus();
  });
  wax.on('exit', (code) => showNotice(`The shell exited with status ${code}. Reload the page for a new one.`));
  $('upload').onclick = () => $('file').click();
  $('file').onchange = () => uploadFiles(wax, $('file').files);
  $('reset').onclick = async () => {
    if (!confirm('Reset the disk? Every file you changed or created is deleted, and the machine restarts.')) return;
    await wax.resetDisk();
    location.reload();
  };
  $('retry').onclick = () => location.reload();
  document.addEventListener('dragover', (e) => e.preventDefault());
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    uploadFiles(wax, e.dataTransfer.files);
  });
  try {
    await wax.start();
  } catch {
    // shown by the fatal handler
  }
}

main();
