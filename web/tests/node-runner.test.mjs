// The Node runner (web/node/wax.mjs) against the default image: output,
// stdin, and `wax run`'s exit statuses. Needs scripts/build-web.sh and
// build/images/default.img (scripts/setup.sh).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const repo = new URL('../..', import.meta.url).pathname;
const image = process.env.WAX_IMAGE || `${repo}build/images/default.img`;

function wax(args, input) {
  const r = spawnSync('node', [`${repo}web/node/wax.mjs`, 'run', '--image', image, ...args], {
    input: input ?? '',
    encoding: 'utf8',
    timeout: 120000,
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

test('python3 computes', () => {
  const r = wax(['/usr/bin/python3', '-c', 'print(sum(i*i for i in range(1000)))']);
  assert.equal(r.out, '332833500\n');
  assert.equal(r.code, 0);
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
