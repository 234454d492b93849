// Unit tests of the IndexedDB overlay store (js/overlay-store.js) under
// Node with fake-indexeddb: a flush cut at any point leaves the previous
// generation intact, a completed flush is seen whole after reopening, a
// different image's overlay is recognised, Reset drops everything.
//
//   node --test web/tests/

import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OverlayStore, RECORD, BLOCK, describeFlushError } from '../js/overlay-store.js';

/** A batch as the machine produces it: u32le block number + 4096 bytes each. */
function batch(entries) {
  const out = new Uint8Array(entries.length * RECORD);
  const view = new DataView(out.buffer);
  entries.forEach(([block, fill], i) => {
    view.setUint32(i * RECORD, block, true);
    out.fill(fill, i * RECORD + 4, (i + 1) * RECORD);
  });
  return out;
}

/** The saved overlay as {block: fill byte}, checking each block is uniform. */
async function contents(store) {
  const out = {};
  for (const [block, data] of await store.load()) {
    assert.equal(data.length, BLOCK);
    assert.ok(data.every((b) => b === data[0]), `block ${block} is torn`);
    out[block] = data[0];
  }
  return out;
}

test('a completed flush is seen whole after reopening', async () => {
  const idb = new IDBFactory();
  const s = await OverlayStore.open('img', 'fp1', idb);
  await s.commit(batch([[1, 7], [5, 9]]));
  s.close();
  const t = await OverlayStore.open('img', 'fp1', idb);
  assert.equal(t.generation, 1);
  assert.equal(t.mismatch, false);
  assert.deepEqual(await contents(t), { 1: 7, 5: 9 });
});

test('a flush cut at any point leaves the previous generation', async () => {
  const idb = new IDBFactory();
  const s = await OverlayStore.open('img', 'fp', idb);
  await s.commit(batch([[1, 1], [2, 1], [3, 1]]));
  const before = await contents(s);
  const next = batch([[2, 2], [3, 2], [4, 2], [9, 2]]);
  // Cut after 0, 1, ... 4 block writes, and before the generation record.
  for (let cut = 0; cut <= 4; cut++) {
    await assert.rejects(
      s.commit(next, {
        beforePut: (i, tx) => {
          if (i === cut) tx.abort();
        },
      }),
    );
    s.close();
    const again = await OverlayStore.open('img', 'fp', idb);
    assert.equal(again.generation, 1, `cut at ${cut}`);
    assert.deepEqual(await contents(again), before, `cut at ${cut}`);
    Object.assign(s, again);
  }
  await s.commit(next);
  assert.deepEqual(await contents(s), { 1: 1, 2: 2, 3: 2, 4: 2, 9: 2 });
  assert.equal(s.generation, 2);
});

test('a failing write inside the flush aborts all of it', async () => {
  const idb = new IDBFactory();
  const s = await OverlayStore.open('img', 'fp', idb);
  await s.commit(batch([[1, 1]]));
  await assert.rejects(
    s.commit(batch([[1, 5], [2, 5]]), {
      beforePut: (i) => {
        if (i === 1) throw new DOMException('quota', 'QuotaExceededError');
      },
    }),
    /quota/,
  );
  assert.deepEqual(await contents(s), { 1: 1 });
});

test('an overlay made over another image is recognised, and reset drops it', async () => {
  const idb = new IDBFactory();
  const s = await OverlayStore.open('img', 'old', idb);
  await s.commit(batch([[3, 3]]));
  s.close();
  const t = await OverlayStore.open('img', 'new', idb);
  assert.equal(t.mismatch, true);
  await t.reset();
  assert.equal(t.mismatch, false);
  assert.deepEqual(await contents(t), {});
  t.close();
  const u = await OverlayStore.open('img', 'new', idb);
  assert.equal(u.generation, 0);
});

test('flush errors say what to do', () => {
  assert.match(describeFlushError(new DOMException('x', 'QuotaExceededError')), /storage is full/);
  assert.match(describeFlushError(new Error('boom')), /kept in this tab/);
});

test('a batch deletes freed blocks in the same transaction, or not at all', async () => {
  const idb = new IDBFactory();
  const s = await OverlayStore.open('img', 'fp1', idb);
  await s.commit(batch([[1, 7], [2, 8], [3, 9]]));
  // Cut before the end: neither the new block nor the deletes land.
  await assert.rejects(
    s.commit(batch([[4, 1]]), { beforePut: (i, tx) => i === 1 && tx.abort() }, [1, 2]),
  );
  assert.deepEqual(await contents(s), { 1: 7, 2: 8, 3: 9 });
  await s.commit(batch([[4, 1]]), {}, [1, 2]);
  s.close();
  const again = await OverlayStore.open('img', 'fp1', idb);
  assert.deepEqual(await contents(again), { 3: 9, 4: 1 });
});
