// The user's disk changes in IndexedDB: the overlay blocks over one base
// image, written in batches that commit atomically.
//
// Layout: database `wax-overlay:<image URL>`, object stores
//   blocks: key = block number, value = Uint8Array(4096)
//   meta:   key "state" = {fingerprint, generation}
// A batch (the blocks pending after a disk flush, see web/src/disk.rs) is
// written in ONE readwrite transaction together with the new generation:
// IndexedDB commits a transaction entirely or not at all, so a tab closed,
// a quota error or a crash mid-flush leaves the previous generation intact,
// a consistent file system as of the previous flush.

export const BLOCK = 4096;
export const RECORD = 4 + BLOCK;
const VERSION = 1;

function promised(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function finished(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error || new DOMException('the flush was cut short', 'AbortError'));
    tx.onerror = () => {}; // onabort follows with the error
  });
}

/** Splits a batch (records of u32le block number + 4096 bytes). */
export function* records(batch) {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  for (let at = 0; at + RECORD <= batch.byteLength; at += RECORD) {
    yield [view.getUint32(at, true), batch.slice(at + 4, at + RECORD)];
  }
}

export class OverlayStore {
  constructor(db, fingerprint, state) {
    this.db = db;
    this.fingerprint = fingerprint;
    this.state = state;
  }

  /** Opens (or creates) the overlay of the image at `name`. */
  static async open(name, fingerprint, idb = globalThis.indexedDB) {
    const req = idb.open(`wax-overlay:${name}`, VERSION);
    req.onupgradeneeded = () => {
      req.result.createObjectStore('blocks');
      req.result.createObjectStore('meta');
    };
    const db = await promised(req);
    const tx = db.transaction('meta', 'readonly');
    const state = (await promised(tx.objectStore('meta').get('state'))) || null;
    return new OverlayStore(db, fingerprint, state);
  }

  /** Whether the saved overlay was made over another image. */
  get mismatch() {
    return this.state !== null && this.state.fingerprint !== this.fingerprint;
  }

  get generation() {
    return this.state ? this.state.generation : 0;
  }

  /** Every saved block: [[blockNumber, Uint8Array], ...], in one snapshot. */
  async load() {
    const tx = this.db.transaction(['blocks', 'meta'], 'readonly');
    const blocks = tx.objectStore('blocks');
    const [keys, values] = await Promise.all([promised(blocks.getAllKeys()), promised(blocks.getAll())]);
    return keys.map((k, i) => [k, new Uint8Array(values[i])]);
  }

  /**
   * Writes one batch atomically, deleting the saved blocks in `deletes`
   * (freed by the file system) in the same transaction.
   * `hooks.beforePut(i, tx)` lets tests cut the transaction after any
   * number of writes. Rejects (and changes nothing) on failure; the
   * caller gives the batch back to the machine.
   */
  async commit(batch, hooks = {}, deletes = []) {
    const tx = this.db.transaction(['blocks', 'meta'], 'readwrite', { durability: 'strict' });
    const done = finished(tx);
    const blocks = tx.objectStore('blocks');
    let i = 0;
    try {
      for (const [block, data] of records(batch)) {
        if (hooks.beforePut) hooks.beforePut(i, tx);
        blocks.put(data, block);
        i++;
      }
      // Blocks the file system freed: their saved copies go, in the same
      // transaction as the metadata that frees them.
      for (const block of deletes) blocks.delete(block);
      if (hooks.beforePut) hooks.beforePut(i, tx);
      const state = { fingerprint: this.fingerprint, generation: this.generation + 1 };
      tx.objectStore('meta').put(state, 'state');
      await done;
      this.state = state;
    } catch (e) {
      try { tx.abort(); } catch { /* already finished */ }
      await done.catch(() => {});
      throw e;
    }
  }

  /** The image chunks the last boot read (see prefetch.js), or null. */
  async bootChunks() {
    const tx = this.db.transaction('meta', 'readonly');
    const v = await promised(tx.objectStore('meta').get('bootChunks'));
    return v && v.fingerprint === this.fingerprint ? v.chunks : null;
  }

  async setBootChunks(chunks) {
    const tx = this.db.transaction('meta', 'readwrite');
    const done = finished(tx);
    tx.objectStore('meta').put({ fingerprint: this.fingerprint, chunks }, 'bootChunks');
    await done;
  }

  /** Drops every saved block (Reset disk). */
  async reset() {
    const tx = this.db.transaction(['blocks', 'meta'], 'readwrite');
    const done = finished(tx);
    tx.objectStore('blocks').clear();
    tx.objectStore('meta').clear();
    await done;
    this.state = null;
  }

  close() {
    this.db.close();
  }
}

/** A message for a failed flush that says what happened and what to do. */
export function describeFlushError(e) {
  const name = e && e.name;
  if (name === 'QuotaExceededError') {
    return 'Browser storage is full: your latest changes are kept only in this tab (everything saved before is safe), and the guest\'s sync and fsync fail with "No space left on device" until they fit. Free some space for this site, or delete files in the guest and run sync.';
  }
  return `Saving the disk failed (${name || 'error'}: ${e && e.message}); the guest's sync reports an I/O error, the changes are kept in this tab and saving is retried.`;
}
