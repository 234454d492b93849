// The Node runner (web/node/wax.mjs) against the default image: output,
// stdin, and `wax run`'s exit statuses. Needs scripts/build-web.sh and
// build/images/default.img (scripts/setup.sh).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { mkdtempSync, writeFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = new URL('../..', import.meta.url).pathname;
const image = process.env.WAX_IMAGE || `${repo}build/images/default.img`;

function wax(args, input, timeout = 120000) {
  const r = spawnSync('node', [`${repo}web/node/wax.mjs`, 'run', '--image', image, ...args], {
    input: input ?? '',
    encoding: 'utf8',
    timeout,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('uname -m is i686', () => {
  assert.deepEqual(wax(['/bin/uname', '-m']), { code: 0, out: 'i686\n', err: '' });
});

test('stdin reaches the guest and stdout and stderr stay apart', () => {
  const r = wax(['/bin/sh', '-c', 'tr a-z A-Z; echo oops >&2'], 'hello\n');
  assert.deepEqual(r, { code: 0, out: 'HELLO\n', err: 'oops\n' });
});

test('python3 computes, under the JIT by default', () => {
  const r = wax(['--stats', '/usr/bin/python3', '-c', 'print(sum(i*i for i in range(1000)))']);
  assert.equal(r.out, '332833500\n');
  assert.equal(r.code, 0);
  assert.match(r.err, /^wax: engine: jit$/m);
});

test('exit statuses follow wax run', () => {
  assert.equal(wax(['/bin/sh', '-c', 'exit 3']).code, 3);
  assert.equal(wax(['/bin/sh', '-c', 'kill -9 $$']).code, 137);
  const missing = wax(['/no/such/program']);
  assert.equal(missing.code, 127);
  assert.match(missing.err, /No such file or directory/);
  assert.equal(wax(['/etc']).code, 126);
  assert.equal(spawnSync('node', [`${repo}web/node/wax.mjs`, 'run', '--image', '/nonexistent.img', '/bin/true']).status, 125);
});

test('--file puts host files in the guest before it starts, --cwd sets its directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wax-node-'));
  const script = join(dir, 'hello.sh');
  writeFileSync(script, '#!/bin/sh\necho "$(pwd): $(cat data.txt) $(stat -c %Y data.txt)"\n', { mode: 0o755 });
  const data = join(dir, 'data.txt');
  writeFileSync(data, 'from the host');
  // An old modification time, which the copy keeps.
  utimesSync(data, 1_000_000_000, 1_000_000_000);
  const r = wax(['--file', `${script}:/tmp/in/hello.sh`, '--file', `${data}:/tmp/in/data.txt`,
    '--cwd', '/tmp/in', '/tmp/in/hello.sh']);
  assert.deepEqual(r, { code: 0, out: '/tmp/in: from the host 1000000000\n', err: '' });
  const missing = wax(['--file', `${join(dir, 'nope')}:/tmp/nope`, '/bin/true']);
  assert.equal(missing.code, 125);
  assert.match(missing.err, /--file .*nope/);
  rmSync(dir, { recursive: true });
});

/** `--stats` lines ("wax: NAME: N") of a run's stderr, and the rest. */
function splitStats(err) {
  const stats = {};
  const rest = err
    .split('\n')
    .filter((line) => {
      const m = /^wax: ([^:]+): (.*)$/.exec(line);
      if (m) stats[m[1]] = m[2];
      return !m;
    })
    .join('\n');
  return { stats, rest };
}

// The JIT (hot pages translated to wasm, compiled by this Node's V8) gives
// the interpreter's output and status, and really ran translated code.
const programs = [
  ['python3 loop', ['/usr/bin/python3', '-c', 'import sys\nt = 0\nfor i in range(200000):\n    t = (t * 31 + i) % 1000003\nprint(t)\nsys.exit(t % 7)']],
  ['gzip and sha256sum', ['/bin/sh', '-c', 'gzip -9c /bin/ls | sha256sum; sha256sum /bin/ls; gzip -c /bin/ls | gzip -dc | cmp - /bin/ls && echo same']],
  ['a shell loop', ['/bin/bash', '-c', 'x=0; for i in $(seq 1 3000); do x=$(( (x * 7 + i) % 10007 )); done; echo $x; exit $((x % 5))']],
];
for (const [name, argv] of programs) {
  test(`interp and jit agree: ${name}`, () => {
    const interp = wax(['--engine', 'interp', '--stats', ...argv], '', 600000);
    // A low threshold so these short programs really run translated code.
    const jit = wax(['--engine', 'jit', '--jit-threshold', '20000', '--stats', ...argv], '', 600000);
    const i = splitStats(interp.err);
    const j = splitStats(jit.err);
    assert.equal(j.rest, i.rest);
    assert.equal(jit.out, interp.out);
    assert.equal(jit.code, interp.code);
    assert.ok(interp.out.length > 0, 'the program printed something');
    assert.equal(i.stats.engine, 'interpreter');
    assert.equal(j.stats.engine, 'jit');
    assert.ok(Number(j.stats['modules compiled']) > 0, `modules compiled: ${jit.err}`);
    assert.ok(Number(j.stats['instructions run translated']) > 0, jit.err);
    assert.equal(j.stats['engine errors'], '0');
  });
}
