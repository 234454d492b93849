// Browser benchmark (not a test: it prints numbers, asserts nothing):
// cold load to prompt and bytes fetched, reload to prompt, and a Python
// loop in the tab against the same under `wax run --image` and the Node
// runner.
//
//   node web/tests/bench.mjs [--wax PATH] [--image FILE] [--reloads N]

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const repo = resolve(new URL('../..', import.meta.url).pathname);
const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : dflt);
const waxBin = opt('wax', resolve(repo, process.env.CARGO_TARGET_DIR || 'target', 'release/wax'));
const image = opt('image', join(repo, 'build/images/default.img'));
const reloads = Number(opt('reloads', 3));
// The python loop runs this many times in the tab and under `wax run`,
// alternately, and the medians are compared: on a shared machine the
// load moves during a run, and both sides should see the same.
const rounds = Number(opt('rounds', 3));
const PY = 'print(sum(range(10**7)))';
const PY_OUT = '49999995000000';

function serve() {
  return new Promise((ok, fail) => {
    const p = spawn(waxBin, ['serve', '--addr', '127.0.0.1:0', '--app', join(repo, 'web/dist'), '--image', image], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    p.on('error', fail);
    p.stdout.on('data', (d) => {
      const m = String(d).match(/open (http:\/\/\S+)/);
      if (m) ok({ url: m[1], proc: p });
    });
  });
}

async function toPrompt(page) {
  await page.waitForFunction(() => window.waxTimeToPrompt !== undefined, null, { timeout: 120000 });
  return page.evaluate(() => ({ ms: window.waxTimeToPrompt, fetched: window.waxBoot.fetched, status: window.waxStatus }));
}

/** Lines of the terminal equal to `out` (earlier runs' included). */
const printed = (page) =>
  page.evaluate((out) => {
    const b = window.wax.term.buffer.active;
    let n = 0;
    for (let i = 0; i < b.length; i++) if (b.getLine(i).translateToString(true) === out) n++;
    return n;
  }, PY_OUT);

async function inTab(page) {
  const before = await printed(page);
  const t0 = Date.now();
  await page.evaluate((py) => window.wax.run(`python3 -c '${py}'`), PY);
  await page.waitForFunction(
    ({ out, before }) => {
      const b = window.wax.term.buffer.active;
      let n = 0;
      for (let i = 0; i < b.length; i++) if (b.getLine(i).translateToString(true) === out) n++;
      return n > before;
    },
    { out: PY_OUT, before },
    { timeout: 600000, polling: 200 },
  );
  return (Date.now() - t0) / 1000;
}

function timed(cmd, args) {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (!r.stdout.includes(PY_OUT)) throw new Error(`${cmd}: ${r.stderr}`);
  return (Date.now() - t0) / 1000;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const { url, proc } = await serve();
const profile = mkdtempSync(join(tmpdir(), 'wax-bench-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox'],
});
try {
  const page = ctx.pages()[0] || (await ctx.newPage());
  // Load and reload with the page's default (the JIT); the python loop is
  // compared interpreter to interpreter, then run once on the JIT.
  await page.goto(url);
  const cold = await toPrompt(page);
  // Everything the prompt needed, including what bash read after boot.
  const coldFetched = cold.status ? cold.status.fetched : cold.fetched;
  const warm = [];
  for (let i = 0; i < reloads; i++) {
    await page.reload();
    warm.push((await toPrompt(page)).ms);
  }
  await page.goto(`${url}?engine=interp`);
  await toPrompt(page);
  const tabs = [];
  const natives = [];
  for (let i = 0; i < rounds; i++) {
    tabs.push(await inTab(page));
    natives.push(timed(waxBin, ['run', '--image', image, '/usr/bin/python3', '-c', PY]));
  }
  const tab = median(tabs);
  const native = median(natives);
  const node = timed('node', [join(repo, 'web/node/wax.mjs'), 'run', '--image', image, '/usr/bin/python3', '-c', PY]);
  // The page's default, the JIT (V8): one run.
  await page.goto(url);
  await toPrompt(page);
  const tabJit = await inTab(page);
  console.log('| measurement | value |');
  console.log('|---|---|');
  console.log(`| cold load to prompt (localhost) | ${(cold.ms / 1000).toFixed(2)} s |`);
  console.log(`| image bytes fetched to the prompt | ${(coldFetched / 1048576).toFixed(1)} MB |`);
  console.log(`| reload to prompt (median of ${reloads}) | ${(median(warm) / 1000).toFixed(2)} s |`);
  console.log(`| \`python3 -c "${PY}"\` in the tab with \`?engine=interp\` (median of ${rounds}) | ${tab.toFixed(1)} s |`);
  console.log(`| the same under \`wax run --image\` (native interpreter, median of ${rounds}, alternating with the tab) | ${native.toFixed(1)} s |`);
  console.log(`| the same in the tab on the JIT (V8; the page's default) | ${tabJit.toFixed(1)} s |`);
  console.log(`| the same under the Node runner (V8) | ${node.toFixed(1)} s |`);
  console.log(`| tab (interpreter) / native | ${(tab / native).toFixed(2)}× |`);
  console.log(`| tab (JIT) / native | ${(tabJit / native).toFixed(2)}× |`);
} finally {
  await ctx.close();
  proc.kill();
  rmSync(profile, { recursive: true, force: true });
}
