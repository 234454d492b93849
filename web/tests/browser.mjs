// End-to-end test of the page in headless Chromium (Debian's chromium,
// driven by npm's playwright-core) against `wax serve`.
//
//   node web/tests/browser.mjs [--wax PATH] [--image FILE] [--out DIR] [--site DIR]
//
// --site DIR serves an export (`wax serve --export DIR`) as a static host
// would (`wax serve --dir DIR`) instead of the app and the image.
//
// Steps run in order on one browser profile (persistence needs the
// reloads); each prints ok or FAIL with what it saw. Exits 1 if any
// step failed. Prints time-to-prompt and bytes fetched, and saves a
// screenshot of the terminal in --out (default target/web-test).

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, networkInterfaces, tmpdir } from 'node:os';
import { lookup } from 'node:dns/promises';
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const repo = resolve(new URL('../..', import.meta.url).pathname);
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const waxBin = args.wax || resolve(repo, process.env.CARGO_TARGET_DIR || 'target', 'release/wax');
const image = args.image || join(repo, 'build/images/default.img');
const outDir = args.out || join(repo, 'target/web-test');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

let failures = 0;
async function step(name, fn) {
  const t0 = Date.now();
  try {
    const note = await fn();
    console.log(`ok   ${name} (${Date.now() - t0} ms)${note ? `: ${note}` : ''}`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name} (${Date.now() - t0} ms): ${e.message}`);
  }
}

function serve(addr = '127.0.0.1:0') {
  return new Promise((resolveUrl, reject) => {
    const what = args.site ? ['--dir', args.site] : ['--app', join(repo, 'web/dist'), '--image', image];
    // The network relay, allowed to reach this host (see the relay step).
    if (!args.site) what.push('--net', ...relayAllow.flatMap((a) => ['--net-allow', a]));
    const p = spawn(waxBin, ['serve', '--addr', addr, ...what], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    p.on('error', reject);
    p.on('exit', (code, sig) => reject(new Error(`wax serve exited with ${code ?? sig}`)));
    let buf = '';
    p.stdout.on('data', (d) => {
      buf += d;
      const m = buf.match(/open (http:\/\/\S+)/);
      if (m) resolveUrl({ url: m[1], proc: p });
    });
  });
}

/** An IPv4 address of this host besides loopback (guest connections to
 * loopback stay inside the machine, so the relay is tested through it). */
function hostIp() {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list || []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  throw new Error('this host has no IPv4 address besides loopback');
}

/** What the relay may reach: this host by address and by its name. */
const relayAllow = [hostIp(), ...(await lookup(hostname(), { all: true })).map((a) => a.address)];

/** The terminal's text: scrollback and screen, one string per line. */
const screen = (page) =>
  page.evaluate(() => {
    const b = window.wax.term.buffer.active;
    const lines = [];
    for (let i = 0; i < b.length; i++) lines.push(b.getLine(i).translateToString(true));
    return lines.join('\n');
  });

async function waitFor(page, what, timeoutMs = 30000, from = 0) {
  const t0 = Date.now();
  let text = '';
  while (Date.now() - t0 < timeoutMs) {
    text = await screen(page);
    const hit = typeof what === 'string' ? text.indexOf(what, from) >= 0 : what.test(text.slice(from));
    if (hit) return text;
    await page.waitForTimeout(100);
  }
  throw new Error(`no ${what} on the terminal after ${timeoutMs} ms; it ends with:\n${text.slice(-600)}`);
}

/** Types a command line and waits for `expect` in what follows it. */
async function command(page, line, expect, timeoutMs = 30000) {
  const from = (await screen(page)).trimEnd().length;
  await page.evaluate((l) => window.wax.run(l), line);
  await waitFor(page, expect, timeoutMs, from);
}

async function waitPrompt(page, timeoutMs = 60000) {
  await page.waitForFunction(() => window.waxPromptStats !== undefined, null, { timeout: timeoutMs });
  return page.evaluate(() => ({
    ms: window.waxTimeToPrompt,
    // The status line's count (it comes every 500 ms), else the boot's.
    fetched: window.waxStatus ? window.waxStatus.fetched : window.waxBoot.fetched,
    phases: JSON.stringify({ ...window.waxBoot.phases, ...window.waxPromptStats }),
  }));
}

async function savedAfter(page, generation, timeoutMs = 20000) {
  await page.waitForFunction((g) => (window.waxSaved || 0) > g, generation, { timeout: timeoutMs });
}

async function main() {
  mkdirSync(outDir, { recursive: true });
  const server = await serve();
  const { url } = server;
  const profile = mkdtempSync(join(tmpdir(), 'wax-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox'],
    acceptDownloads: true,
    viewport: { width: 1000, height: 640 },
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
  page.on('dialog', (d) => d.accept());
  try {
    await run(page, url, server);
  } finally {
    await page.screenshot({ path: join(outDir, 'terminal.png') }).catch(() => {});
    await context.close();
    server.proc.kill();
    rmSync(profile, { recursive: true, force: true });
  }
  console.log(failures ? `${failures} step(s) failed` : 'all browser steps passed');
  process.exit(failures ? 1 : 0);
}

async function run(page, url, server) {
  await step('no COOP/COEP headers', async () => {
    for (const path of ['', 'worker.js', 'pkg/wax_web_bg.wasm', 'image/manifest.json']) {
      const r = await fetch(url + path);
      for (const h of ['cross-origin-opener-policy', 'cross-origin-embedder-policy']) {
        if (r.headers.get(h)) throw new Error(`${path || '/'} sends ${h}: ${r.headers.get(h)}`);
      }
      await r.arrayBuffer();
    }
  });
  await page.goto(url);
  await step('prompt reached', async () => {
    const { ms, fetched, phases } = await waitPrompt(page);
    console.log(`     time to prompt ${(ms / 1000).toFixed(2)} s, image bytes fetched ${(fetched / 1048576).toFixed(1)} MB`);
    console.log(`     worker boot phases (ms since boot message): ${phases}`);
  });
  await step('crossOriginIsolated is false', async () => {
    const iso = await page.evaluate(() => window.crossOriginIsolated);
    if (iso !== false) throw new Error(`crossOriginIsolated = ${iso}`);
  });
  await step('uname -m is i686', () => command(page, 'uname -m', /\ni686\s*\n/));
  await step('python3 computes', () =>
    command(page, "python3 -c 'print(sum(i*i for i in range(1000)))'", '332833500', 120000));
  await step('gcc compiles and runs a C file', async () => {
    const t0 = Date.now();
    await command(
      page,
      "echo '#include <stdio.h>' > /root/t.c && " +
        "echo 'int main(void) { printf(\"c-%d\\n\", 6 * 7); return 0; }' >> /root/t.c && " +
        'gcc -O1 -o /root/t /root/t.c && /root/t',
      /\nc-42\s*\n/,
      300000,
    );
    return `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  });
  await step('resize reaches stty size', async () => {
    await page.setViewportSize({ width: 760, height: 500 });
    await page.waitForTimeout(300);
    const { rows, cols } = await page.evaluate(() => ({ rows: window.wax.term.rows, cols: window.wax.term.cols }));
    await command(page, 'stty size', new RegExp(`\\n${rows} ${cols}\\s*\\n`));
    return `${rows} ${cols}`;
  });
  await step('^C stops sleep 100', async () => {
    await page.evaluate(() => window.wax.run('sleep 100'));
    await page.waitForTimeout(1500);
    await page.evaluate(() => window.wax.type('\x03'));
    await command(page, 'echo after-$((2+3))', /\nafter-5\s*\n/, 10000);
  });
  await step('^Z stops a job and ^D ends input', async () => {
    await page.evaluate(() => window.wax.run('sleep 100'));
    await page.waitForTimeout(800);
    await page.evaluate(() => window.wax.type('\x1a'));
    await waitFor(page, /Stopped\s+sleep 100/, 10000);
    await command(page, 'kill %1; wait; echo killed-$((1+1))', /\nkilled-2\s*\n/, 10000);
    await page.evaluate(() => window.wax.run('cat > /root/d.txt'));
    await page.waitForTimeout(300);
    await page.evaluate(() => window.wax.type('eof-test\r\x04'));
    await command(page, 'cat /root/d.txt', /\neof-test\s*\n/, 10000);
  });
  await step('keyboard: Unicode, vi editing and the Up key in the python REPL', async () => {
    await page.click('#term');
    await page.keyboard.type("echo 'h\u00e9llo \u4e16\u754c \u2713'");
    await page.keyboard.press('Enter');
    await waitFor(page, /\nh\u00e9llo \u4e16\u754c \u2713\s*\n/, 10000);
    await page.keyboard.type('vi /root/v.txt');
    await page.keyboard.press('Enter');
    await page.waitForTimeout(1500);
    await page.keyboard.type('iline one');
    await page.keyboard.press('Enter');
    await page.keyboard.type('line twx');
    await page.keyboard.press('Backspace');
    await page.keyboard.type('o');
    await page.keyboard.press('Escape');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.type('A!');
    await page.keyboard.press('Escape');
    await page.keyboard.type(':wq');
    await page.keyboard.press('Enter');
    await page.waitForTimeout(500);
    await command(page, 'cat /root/v.txt', /\nline one!\s*\nline two\s*\n/, 10000);
    await page.keyboard.type('python3');
    await page.keyboard.press('Enter');
    await waitFor(page, />>> $/m, 30000);
    await page.keyboard.type('6*7');
    await page.keyboard.press('Enter');
    await waitFor(page, /\n42\s*\n>>> $/m, 10000);
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Enter');
    await waitFor(page, /\n42\s*\n>>> 6\*7\s*\n42\s*\n>>> $/m, 10000);
    await page.keyboard.type('exit()');
    await page.keyboard.press('Enter');
    await command(page, 'echo repl-done', /\nrepl-done\s*\n/, 10000);
  });
  await step('copy and paste with Ctrl+Shift+C/V', async () => {
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(url).origin });
    await page.evaluate(() => navigator.clipboard.writeText('echo pasted-$((3*3))'));
    await page.click('#term');
    await page.keyboard.press('Control+Shift+V');
    await page.keyboard.press('Enter');
    await waitFor(page, /\npasted-9\s*\n/, 10000);
    await page.evaluate(() => window.wax.term.selectAll());
    await page.keyboard.press('Control+Shift+C');
    await page.waitForFunction(async () => (await navigator.clipboard.readText()).includes('pasted-9'), null, {
      timeout: 5000,
    });
    await page.evaluate(() => window.wax.term.clearSelection());
  });
  await step('an uploaded file arrives in /root', async () => {
    await page.setInputFiles('#file', { name: 'up.txt', mimeType: 'text/plain', buffer: Buffer.from('uploaded-1234\n') });
    await page.waitForFunction(() => /Uploaded up\.txt/.test(document.getElementById('notice').textContent));
    await command(page, 'cat /root/up.txt', /\nuploaded-1234\s*\n/);
  });
  await step('wax-download produces a download', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 20000 }),
      page.evaluate(() => window.wax.run('printf "down-%s\\n" 77 > /root/down.txt && wax-download /root/down.txt')),
    ]);
    const body = readFileSync(await download.path(), 'utf8');
    if (body !== 'down-77\n' || download.suggestedFilename() !== 'down.txt') {
      throw new Error(`got ${download.suggestedFilename()}: ${JSON.stringify(body)}`);
    }
  });
  await step('a written file survives a reload', async () => {
    let gen = await page.evaluate(() => window.waxSaved || 0);
    await command(page, 'echo persist-$((6*7)) > /root/keep.txt; sync; echo written', /\nwritten\s*\n/);
    await savedAfter(page, gen);
    // Without sync: saved after a short idle.
    gen = await page.evaluate(() => window.waxSaved || 0);
    await command(page, 'echo idle-$((5*5)) > /root/idle.txt; echo written2', /\nwritten2\s*\n/);
    await savedAfter(page, gen);
    await page.reload();
    const { ms, phases } = await waitPrompt(page);
    await command(page, 'cat /root/keep.txt /root/idle.txt', /\npersist-42\s*\nidle-25\s*\n/);
    return `reload to prompt ${(ms / 1000).toFixed(2)} s, phases ${phases}`;
  });
  await page.screenshot({ path: join(outDir, 'terminal.png') });
  await step("a full storage quota fails the guest's fsync with ENOSPC, says so and loses nothing saved", async () => {
    // Chromium 150's quota override (DevTools Storage.overrideQuotaForOrigin)
    // stops one large IndexedDB value but not transactions of 4 KiB blocks
    // (tried: 25 MB saved under a 1 MB quota), so the Worker is told to
    // fail its saves with the browser's QuotaExceededError instead.
    await page.evaluate(() => window.wax.send({ type: 'failSaves', name: 'QuotaExceededError' }));
    try {
      await command(
        page,
        'head -c 3000000 /dev/urandom > /root/big; sync /root/big; echo rc=$?',
        /No space left on device\s*\nrc=1\s*\n/,
        120000,
      );
      const notice = await page.textContent('#notice');
      if (!/storage is full/.test(notice)) throw new Error(`notice: ${notice}`);
      // Still full: the next fsync tries again and fails again.
      await command(page, 'sync /root/big; echo rc=$?', /No space left on device\s*\nrc=1\s*\n/, 60000);
    } finally {
      await page.evaluate(() => window.wax.send({ type: 'failSaves', name: null }));
    }
    // Room again: the next fsync saves (the deleted file's blocks are
    // left out of the batch).
    await command(page, 'rm /root/big; echo after > /root/after.txt; sync /root/after.txt; echo rc=$?', /\nrc=0\s*\n/, 60000);
    await page.reload();
    await waitPrompt(page);
    await command(page, 'cat /root/keep.txt /root/after.txt; ls /root/big', /\npersist-42\s*\nafter\s*\n.*No such file/);
  });
  await step('a deleted file leaves the saved overlay', async () => {
    // Blocks in IndexedDB, counted in the page (same origin as the Worker).
    const saved = () =>
      page.evaluate(async () => {
        const [info] = (await indexedDB.databases()).filter((d) => d.name.startsWith('wax-overlay:'));
        const db = await new Promise((ok, fail) => {
          const r = indexedDB.open(info.name);
          r.onsuccess = () => ok(r.result);
          r.onerror = () => fail(r.error);
        });
        const n = await new Promise((ok) => {
          const r = db.transaction('blocks').objectStore('blocks').count();
          r.onsuccess = () => ok(r.result);
        });
        db.close();
        return n;
      });
    const before = await saved();
    await command(page, 'head -c 4000000 /dev/urandom > /root/gone; sync /root/gone; echo rc=$?', /\nrc=0\s*\n/, 60000);
    const full = await saved();
    await command(page, 'rm /root/gone; sync; echo rc=$?', /\nrc=0\s*\n/, 60000);
    const after = await saved();
    if (!(full >= before + 900 && after <= full - 900)) throw new Error(`blocks saved: ${before}, ${full}, ${after}`);
    return `blocks saved: ${before} → ${full} → ${after}`;
  });
  await step('?cmd= types a command after the prompt', async () => {
    await page.goto(`${url}?cmd=${encodeURIComponent('echo cmd-$((40+2))')}`);
    await waitPrompt(page);
    await waitFor(page, /\ncmd-42\s*\n/);
  });
  if (!args.site) {
    await step('?net= reaches a host server through the Wisp relay (curl, by address and by name)', async () => {
      const body = `relayed-${process.pid}`;
      const http = createServer((req, res) => res.end(`${body}\n`));
      await new Promise((r) => http.listen(0, '0.0.0.0', r));
      const port = http.address().port;
      try {
        await page.goto(`${url}?net=wisp/`);
        await waitPrompt(page);
        await command(page, `curl -sS http://${hostIp()}:${port}/`, new RegExp(`\\n${body}\\s*\\n`), 60000);
        // The name resolves through the relay (Wax answers the guest's DNS).
        await command(page, `curl -sS http://${hostname()}:${port}/ && echo by-name`, /\nby-name\s*\n/, 60000);
      } finally {
        http.close();
      }
    });
  }
  await step('an unreachable image gives a clear message and Retry', async () => {
    await page.goto(`${url}?image=missing/manifest.json`);
    await page.waitForSelector('#fatal:not([hidden])', { timeout: 30000 });
    const text = await page.textContent('#fatal-text');
    if (!/Cannot open the disk image .*404/.test(text)) throw new Error(text);
    if (!(await page.isVisible('#retry'))) throw new Error('no Retry button');
    await page.goto(url);
    await waitPrompt(page);
  });
  await step('a server outage shows a message, retries and recovers', async () => {
    await page.goto(url);
    await waitPrompt(page);
    const stopped = new Promise((r) => server.proc.once('exit', r));
    server.proc.kill();
    await stopped;
    const from = (await screen(page)).trimEnd().length;
    // md5sum reads all of perl (3.5 MB) that nothing read before.
    await page.evaluate(() => window.wax.run('md5sum /usr/bin/perl'));
    try {
      await page.waitForFunction(() => /retrying/.test(document.getElementById('notice').textContent), null, {
        timeout: 20000,
      });
    } finally {
      server.proc = (await serve(new URL(url).host)).proc;
    }
    await waitFor(page, /\n[0-9a-f]{32}  \/usr\/bin\/perl\s*\n/, 30000, from);
    await page.waitForFunction(() => /answers again/.test(document.getElementById('notice').textContent));
    // The retries blocked the Worker (Atomics.wait) rather than spinning.
    const how = await page.evaluate(() => window.waxBoot.retryWait);
    if (how !== 'blocks') throw new Error(`retries wait by ${how}`);
  });
  await step('Reset disk removes it', async () => {
    await Promise.all([page.waitForEvent('load'), page.click('#reset')]);
    await waitPrompt(page);
    await command(page, 'cat /root/keep.txt', /No such file or directory/);
  });
  await step('the page runs the JIT by default: modules compiled, translated code run, no engine errors', async () => {
    await page.goto(url);
    const { ms } = await waitPrompt(page, 180000);
    await command(page, "python3 -c 'print(sum(i*i for i in range(1000)))'", '332833500', 180000);
    await page.waitForFunction(() => window.waxStatus && window.waxStatus.jit, null, { timeout: 10000 });
    const s = await page.evaluate(() => window.waxStatus);
    if (s.engine !== 'jit') throw new Error(`engine ${s.engine}`);
    const j = s.jit;
    if (!(j['modules compiled'] > 0 && j['instructions run translated'] > 0)) throw new Error(JSON.stringify(j));
    if (j['engine errors'] !== 0) throw new Error(`engine errors: ${JSON.stringify(j)}`);
    const status = await page.textContent('#status');
    if (!/JIT: \d+ modules/.test(status)) throw new Error(`status line: ${status}`);
    return `time to prompt ${(ms / 1000).toFixed(2)} s, ${j['modules compiled']} modules, status "${status}"`;
  });
  await step('?engine=interp boots the interpreter, which runs python3', async () => {
    await page.goto(`${url}?engine=interp`);
    const { ms } = await waitPrompt(page, 180000);
    await command(page, "python3 -c 'print(sum(i*i for i in range(1000)))'", '332833500', 180000);
    await page.waitForFunction(() => window.waxStatus, null, { timeout: 10000 });
    const s = await page.evaluate(() => window.waxStatus);
    if (s.engine !== 'interpreter' || s.jit) throw new Error(`engine ${s.engine}`);
    return `time to prompt ${(ms / 1000).toFixed(2)} s`;
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
