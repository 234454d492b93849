// Boot prefetch: the image chunks the previous boot read up to the prompt
// are fetched again before booting, in parallel with asynchronous
// fetch() (mostly from the HTTP cache on a reload), and handed to the
// machine's chunk cache. The boot then reads them without one synchronous
// range request each (each costs several milliseconds in a Worker).
// Anything that fails here only means the boot reads those chunks itself.

const MAX_REQUEST = 2 << 20;
const PARALLEL = 6;

/** Where image bytes start..end live: [{url, start, end}] per file, or null for zeros. */
function locate(source, start, end) {
  if (!source.manifest) return { url: source.url, start, end };
  const m = source.manifest;
  const k = Math.floor(start / m.chunk_size);
  if (Math.floor(end / m.chunk_size) !== k) return undefined; // straddles two files
  const path = m.chunks[k];
  if (path === null) return null;
  const url = new URL(path, source.url).href;
  return { url, start: start - k * m.chunk_size, end: end - k * m.chunk_size };
}

/** Groups chunks into requests: consecutive chunks in one file, up to MAX_REQUEST. */
export function plan(source, chunks, chunkSize, size) {
  const requests = [];
  const zeros = [];
  for (const c of [...chunks].sort((a, b) => a - b)) {
    const start = c * chunkSize;
    if (start >= size) continue;
    const end = Math.min(start + chunkSize, size) - 1;
    const where = locate(source, start, end);
    if (where === undefined) continue;
    if (where === null) {
      zeros.push([c, end - start + 1]);
      continue;
    }
    const last = requests[requests.length - 1];
    if (last && last.url === where.url && last.end + 1 === where.start && last.end - last.start < MAX_REQUEST) {
      last.end = where.end;
      last.pieces.push([c, end - start + 1]);
    } else {
      requests.push({ ...where, pieces: [[c, end - start + 1]] });
    }
  }
  return { requests, zeros };
}

async function fetchOne(wax, r) {
  const res = await fetch(r.url, { headers: { Range: `bytes=${r.start}-${r.end}` } });
  if (res.status !== 206) throw new Error(`${r.url}: status ${res.status}`);
  const body = new Uint8Array(await res.arrayBuffer());
  if (body.length !== r.end - r.start + 1) throw new Error(`${r.url}: short answer`);
  let at = 0;
  for (const [c, len] of r.pieces) {
    wax.preload(c, body.subarray(at, at + len));
    at += len;
  }
}

/** Prefetches `chunks` of the image at `url` into `wax`; returns how many requests it made. */
export async function prefetch(wax, url, chunks) {
  let manifest = null;
  if (url.endsWith('.json')) {
    const res = await fetch(url);
    if (!res.ok) return 0;
    manifest = await res.json();
  }
  const size = manifest ? manifest.size : wax.imageSize;
  const { requests, zeros } = plan({ url, manifest }, chunks, wax.chunkSize, size);
  for (const [c, len] of zeros) wax.preload(c, new Uint8Array(len));
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const r = requests[next++];
      try {
        await fetchOne(wax, r);
      } catch {
        // The boot reads these chunks itself.
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return requests.length;
}
