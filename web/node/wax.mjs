#!/usr/bin/env node
// The headless runner: the same wasm machine as the browser page, under
// Node's V8.
//
//   node web/node/wax.mjs run --image FILE [--memory MB] [--engine jit|interp]
//                             [--stats] [--file HOST:GUEST]... [--dir GUEST]... [--cwd DIR]
//                             PROGRAM [ARGS...]
//
// PROGRAM is a guest path inside the ext2 image FILE (writes are kept in
// memory and discarded, as `wax run --image` does). The guest's stdio is
// this process's, and fstat shows the guest what each descriptor is (a
// pipe, a file; a terminal shows as a character device: no terminal is
// passed through); the exit status follows `wax run`: the guest's status,
// 128 + N when signal N killed it, 125 when the image cannot be used,
// 126 when the program cannot be executed, 127 when it does not exist.
// --engine: what runs guest code: the JIT (the default, as for `wax run`
// and the browser page), which translates hot pages to wasm and has V8
// compile them, or the interpreter alone (also WAX_ENGINE; WAX_JIT_THRESHOLD is
// --jit-threshold's default). --stats prints the engine's
// counters on stderr at exit, like `wax run --stats`. --file copies the host
// file HOST to the absolute guest path GUEST (with HOST's permission bits
// and modification time; missing directories are made) before the program
// starts, in memory like every other write (a program
// or its input that is not in the image); --dir makes the guest directory
// GUEST and its missing parents (mkdir -p); --cwd sets the program's
// working directory (default /).
// Needs scripts/build-web.sh (it loads web/dist/pkg).

import { readFileSync, openSync, readSync, writeSync, fstatSync, statSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const SLICE = 20_000_000;
const IDLE_POLL_MS = 50;
const here = new URL('.', import.meta.url);

function usage(msg) {
  if (msg) process.stderr.write(`wax.mjs: ${msg}\n`);
  process.stderr.write('usage: node web/node/wax.mjs run --image FILE [--memory MB] [--engine jit|interp] [--stats] [--file HOST:GUEST]... [--dir GUEST]... [--cwd DIR] PROGRAM [ARGS...]\n');
  process.exit(125);
}

function parseArgs(argv) {
  if (argv[0] !== 'run') usage(argv[0] ? `unknown command ${argv[0]}` : '');
  // WAX_ENGINE and WAX_JIT_THRESHOLD are the defaults, as for `wax run`.
  const envThreshold = parseInt(process.env.WAX_JIT_THRESHOLD || '', 10);
  const o = {
    image: null, memoryMb: 1024, engine: process.env.WAX_ENGINE || 'jit', stats: false, files: [], dirs: [], cwd: '/', program: [],
    jitThreshold: envThreshold > 0 ? envThreshold : undefined,
  };
  let i = 1;
  for (; i < argv.length && argv[i].startsWith('--'); i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i] ?? usage(`${flag} needs a value`);
    if (flag === '--image') o.image = value();
    else if (flag === '--memory') o.memoryMb = parseInt(value(), 10);
    else if (flag === '--engine') o.engine = value();
    else if (flag === '--stats') o.stats = true;
    else if (flag === '--jit-threshold') o.jitThreshold = parseInt(value(), 10);
    else if (flag === '--file') {
      const v = value();
      const colon = v.lastIndexOf(':');
      if (colon <= 0 || !v.slice(colon + 1).startsWith('/')) usage(`--file ${v}: expected HOST:GUEST with an absolute GUEST path`);
      o.files.push([v.slice(0, colon), v.slice(colon + 1)]);
    } else if (flag === '--dir') {
      const v = value();
      if (!v.startsWith('/')) usage(`--dir ${v}: expected an absolute guest path`);
      o.dirs.push(v);
    } else if (flag === '--cwd') o.cwd = value();
    else if (flag === '--') { i++; break; } else usage(`unknown option ${flag}`);
  }
  o.program = argv.slice(i);
  if (!o.image) usage('--image FILE is required');
  if (!o.program.length) usage('no PROGRAM given');
  return o;
}

/** Range reads of local files, answered like an HTTP server would. */
function fileHost() {
  const files = new Map();
  const open = (path) => {
    if (!files.has(path)) {
      const fd = openSync(path, 'r');
      files.set(path, { fd, size: fstatSync(fd).size });
    }
    return files.get(path);
  };
  return {
    fetchRange(path, start, end) {
      const f = open(path);
      if (start >= f.size) return { status: 416, contentRange: `bytes */${f.size}`, body: new Uint8Array(0) };
      const last = Math.min(end, f.size - 1);
      const body = new Uint8Array(last - start + 1);
      let done = 0;
      while (done < body.length) {
        const n = readSync(f.fd, body, done, body.length - done, start + done);
        if (n === 0) break;
        done += n;
      }
      return { status: 206, contentRange: `bytes ${start}-${last}/${f.size}`, body: body.subarray(0, done) };
    },
    fetchAll: (path) => new Uint8Array(readFileSync(path)),
    sleep: (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms),
    now: () => Date.now(),
    monotonic: () => performance.now(),
    random: (buf) => webcrypto.getRandomValues(buf),
  };
}

/** What descriptor `fd` is, for the guest's fstat (see StdStream in web/src/host.rs). */
function kindOf(fd) {
  try {
    const st = fstatSync(fd);
    if (st.isFile()) return `file:${st.size}`;
    if (st.isCharacterDevice()) return 'chardev';
    if (st.isSocket()) return 'socket';
  } catch {
    // closed: a pipe is the closest
  }
  return 'pipe';
}

function writeAll(fd, bytes) {
  let done = 0;
  while (done < bytes.length) {
    try {
      done += writeSync(fd, bytes, done);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
    }
  }
}

/** Reads what stdin has, blocking; null at end of file. */
function readStdin() {
  const buf = new Uint8Array(65536);
  try {
    const n = readSync(0, buf, 0, buf.length, null);
    return n === 0 ? null : buf.subarray(0, n);
  } catch (e) {
    if (e.code === 'EAGAIN') return new Uint8Array(0);
    if (e.code === 'EOF') return null;
    throw e;
  }
}

/** `--stats`: what ran the guest, on stderr (the lines of `wax run --stats`). */
function printStats(wax) {
  process.stderr.write(`wax: engine: ${wax.engine}\n`);
  for (const [what, n] of Object.entries(JSON.parse(wax.engineStats()))) {
    process.stderr.write(`wax: ${what}: ${n}\n`);
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  globalThis.waxHost = fileHost();
  const pkg = new URL('../dist/pkg/', here);
  const { initSync, Wax, Run } = await import(new URL('wax_web.js', pkg).href);
  initSync({ module: readFileSync(fileURLToPath(new URL('wax_web_bg.wasm', pkg))) });

  let wax;
  try {
    // A missing file is not worth the device's retries.
    if (!statSync(o.image).isFile()) throw new Error('not a regular file');
    wax = new Wax(o.image);
  } catch (e) {
    process.stderr.write(`wax: --image ${o.image}: ${e.message || e}\n`);
    return 125;
  }
  try {
    wax.setEngine(o.engine);
    if (o.jitThreshold) wax.setJitThreshold(o.jitThreshold);
  } catch (e) {
    usage(`--engine: ${e}`);
  }
  for (const dir of o.dirs) {
    try {
      wax.makeDirs(dir);
    } catch (e) {
      process.stderr.write(`wax: --dir ${dir}: ${e.message || e}\n`);
      return 125;
    }
  }
  for (const [host, guest] of o.files) {
    try {
      const st = statSync(host);
      wax.writeFile(guest, new Uint8Array(readFileSync(host)), st.mode & 0o7777);
      wax.setModified(guest, st.mtimeMs);
    } catch (e) {
      process.stderr.write(`wax: --file ${host}:${guest}: ${e.message || e}\n`);
      return 125;
    }
  }
  // The runner's own settings stay out of the guest's environment, as
  // `wax run` keeps its own.
  const own = new Set(['WAX_ENGINE', 'WAX_JIT_THRESHOLD', 'WAX_LOG']);
  const env = Object.entries(process.env).filter(([k]) => !own.has(k)).map(([k, v]) => `${k}=${v}`);
  try {
    wax.bootProgram(o.program, env, [0, 1, 2].map(kindOf), o.cwd, o.memoryMb);
  } catch (e) {
    process.stderr.write(`wax: ${e}\n`);
    return wax.exitCode;
  }
  let stdinOpen = true;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const st = wax.run(SLICE);
    const out = wax.takeOutput();
    if (out.length) writeAll(1, out);
    const err = wax.takeStderr();
    if (err.length) writeAll(2, err);
    if (st === Run.Exited) break;
    if (st === Run.Budget) continue;
    const ms = wax.idleMs;
    if (stdinOpen && ms < 0) {
      // Nothing but input can wake the guest: block on stdin.
      const data = readStdin();
      if (data === null) {
        stdinOpen = false;
        wax.closeInput();
      } else wax.input(data);
    } else {
      Atomics.wait(sleeper, 0, 0, ms < 0 ? IDLE_POLL_MS : Math.min(ms, IDLE_POLL_MS));
    }
  }
  const code = wax.exitCode;
  if (o.stats) printStats(wax);
  try {
    wax.shutdown();
  } catch (e) {
    process.stderr.write(`wax: writing the image back failed: ${e}\n`);
  }
  return code;
}

// Exit at once: V8 may still be optimising translated code on background
// threads, and a plain return would wait for work nobody needs.
process.exit(await main());
