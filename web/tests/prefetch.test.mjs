// The boot prefetch's request plan (js/prefetch.js): image chunks mapped
// to chunk files and merged into few range requests.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plan } from '../js/prefetch.js';

const K = 1024;

test('consecutive chunks merge and zero chunks are not fetched', () => {
  const manifest = { size: 1000 * K, chunk_size: 384 * K, chunks: ['a/0.bin', null, 'a/2.bin'] };
  const source = { url: 'http://h/image/manifest.json', manifest };
  // 128K chunks: 0,1,2 in file 0; 3,4,5 in file 1 (zeros); 6 in file 2 (7 is the short tail).
  const { requests, zeros } = plan(source, [7, 0, 1, 2, 4, 6], 128 * K, manifest.size);
  assert.deepEqual(zeros, [[4, 128 * K]]);
  assert.deepEqual(
    requests.map((r) => [r.url, r.start, r.end, r.pieces]),
    [
      ['http://h/image/a/0.bin', 0, 384 * K - 1, [[0, 128 * K], [1, 128 * K], [2, 128 * K]]],
      ['http://h/image/a/2.bin', 0, 1000 * K - 768 * K - 1, [[6, 128 * K], [7, 1000 * K - 896 * K]]],
    ],
  );
});

test('a raw image is one file; requests stay bounded in size', () => {
  const chunks = Array.from({ length: 40 }, (_, i) => i);
  const { requests } = plan({ url: 'http://h/disk.img', manifest: null }, chunks, 128 * K, 40 * 128 * K);
  assert.ok(requests.length >= 2 && requests.length <= 3, `${requests.length} requests`);
  assert.equal(requests[0].start, 0);
  assert.equal(requests.at(-1).end, 40 * 128 * K - 1);
  assert.equal(requests.reduce((n, r) => n + r.pieces.length, 0), 40);
});

test('a chunk straddling two chunk files is left to the boot', () => {
  const manifest = { size: 512 * K, chunk_size: 192 * K, chunks: ['0', '1', '2'] };
  const { requests, zeros } = plan({ url: 'http://h/m.json', manifest }, [1], 128 * K, manifest.size);
  assert.deepEqual([requests, zeros], [[], []]);
});
