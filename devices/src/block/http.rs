//! A read-only image streamed over HTTP Range requests.
//!
//! The image is read in [`CHUNK_SIZE`] chunks kept in an LRU cache bounded
//! in bytes. Sequential reads widen a read-ahead window (one request then
//! fetches several chunks), random reads shrink it back to one chunk.
//! Transient failures (a dropped connection, a 5xx answer, a short body)
//! are retried with exponential backoff; answers that can never be right
//! (a server that ignores Range and sends 200, a 4xx, an image whose size
//! changed) fail at once with a message that says what to fix.
//!
//! The transport is the host's: a synchronous XHR in a browser Worker, a
//! Node helper, or plain HTTP/1.1 over TCP in the native CLI.

use super::{check_range, BlockDevice, BlockError};
use lru::LruCache;
use std::time::Duration;

/// Bytes per range request and per cache entry.
pub const CHUNK_SIZE: u64 = 128 * 1024;

/// One answer to a range request.
#[derive(Clone, Debug, Default)]
pub struct HttpResponse {
    pub status: u16,
    /// The Content-Range header's value, if any ("bytes 0-9/100").
    pub content_range: Option<String>,
    pub body: Vec<u8>,
}

/// What the host provides: GET with a Range header for one fixed URL.
pub trait HttpTransport {
    /// Requests bytes `start..=end`. `Err` is a transport failure (refused,
    /// reset, timed out), which is retried.
    fn get_range(&mut self, start: u64, end: u64) -> Result<HttpResponse, String>;
    /// Waits before a retry (a no-op where waiting is impossible).
    fn sleep(&mut self, _d: Duration) {}
    /// The resource's name for messages.
    fn url(&self) -> String;
}

/// Tuning of an [`HttpDevice`].
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// Cache budget in bytes (at least one read-ahead window is kept).
    pub cache_bytes: u64,
    /// Largest read-ahead window, in chunks.
    pub max_readahead: u64,
    /// Attempts per request, including the first.
    pub attempts: u32,
    /// Wait before the first retry; doubles on each further retry.
    pub backoff: Duration,
    /// The size the image must have (from its manifest), if known.
    pub expected_size: Option<u64>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            cache_bytes: 64 << 20,
            max_readahead: 8,
            attempts: 5,
            backoff: Duration::from_millis(200),
            expected_size: None,
        }
    }
}

/// Counters for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HttpStats {
    pub requests: u64,
    pub retries: u64,
    pub bytes_fetched: u64,
}

pub struct HttpDevice<T: HttpTransport> {
    transport: T,
    size: u64,
    cache: LruCache<u64, Box<[u8]>>,
    cached_bytes: u64,
    opts: HttpOptions,
    /// The chunk the previous fetch ended at, to spot sequential reads.
    next_expected: u64,
    window: u64,
    pub stats: HttpStats,
}

/// Parses "bytes START-END/TOTAL".
fn parse_content_range(v: &str) -> Option<(u64, u64, u64)> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (s, e) = range.split_once('-')?;
    Some((
        s.trim().parse().ok()?,
        e.trim().parse().ok()?,
        total.trim().parse().ok()?,
    ))
}

/// A failure worth retrying, or one that will not change.
enum Failure {
    Transient(String),
    Fatal(String),
}

impl<T: HttpTransport> HttpDevice<T> {
    /// Opens the image: one request for the first chunk learns its size.
    pub fn open(transport: T, opts: HttpOptions) -> Result<Self, BlockError> {
        let mut dev = HttpDevice {
            transport,
            size: u64::MAX,
            cache: LruCache::unbounded(),
            cached_bytes: 0,
            opts,
            next_expected: 0,
            window: 1,
            stats: HttpStats::default(),
        };
        let (total, body) = dev.fetch(0, CHUNK_SIZE - 1)?;
        if let Some(want) = dev.opts.expected_size {
            if total != want {
                return Err(dev.error(format!(
                    "the image is {total} bytes but its manifest says {want}; \
                     the server has a different image than expected"
                )));
            }
        }
        dev.size = total;
        dev.insert(0, body);
        Ok(dev)
    }

    fn error(&self, msg: String) -> BlockError {
        BlockError::Http(format!("{}: {msg}", self.transport.url()))
    }

    /// One range request with retries: (total size, body).
    fn fetch(&mut self, start: u64, end: u64) -> Result<(u64, Vec<u8>), BlockError> {
        let mut wait = self.opts.backoff;
        let mut last = String::new();
        for attempt in 0..self.opts.attempts.max(1) {
            if attempt > 0 {
                self.stats.retries += 1;
                self.transport.sleep(wait);
                wait = wait.saturating_mul(2);
            }
            self.stats.requests += 1;
            match self.try_fetch(start, end) {
                Ok(r) => {
                    self.stats.bytes_fetched += r.1.len() as u64;
                    return Ok(r);
                }
                Err(Failure::Fatal(m)) => return Err(self.error(m)),
                Err(Failure::Transient(m)) => last = m,
            }
        }
        Err(self.error(format!(
            "gave up after {} attempts: {last}",
            self.opts.attempts.max(1)
        )))
    }

    fn try_fetch(&mut self, start: u64, end: u64) -> Result<(u64, Vec<u8>), Failure> {
        let r = self
            .transport
            .get_range(start, end)
            .map_err(Failure::Transient)?;
        match r.status {
            206 => {}
            200 => {
                return Err(Failure::Fatal(
                    "the server ignored the Range header (answered 200, not 206); \
                     serve the image from a server that supports range requests"
                        .into(),
                ))
            }
            s if s >= 500 => return Err(Failure::Transient(format!("server error {s}"))),
            s => return Err(Failure::Fatal(format!("unexpected HTTP status {s}"))),
        }
        let cr = r.content_range.as_deref().unwrap_or("");
        let Some((s, e, total)) = parse_content_range(cr) else {
            return Err(Failure::Fatal(format!("206 with bad Content-Range {cr:?}")));
        };
        if self.size != u64::MAX && total != self.size {
            return Err(Failure::Fatal(format!(
                "the image changed size on the server ({} → {total} bytes)",
                self.size
            )));
        }
        let want_end = end.min(total.saturating_sub(1));
        if s != start || e != want_end {
            return Err(Failure::Fatal(format!(
                "asked for bytes {start}-{want_end}, got {s}-{e}"
            )));
        }
        if r.body.len() as u64 != e - s + 1 {
            return Err(Failure::Transient(format!(
                "short body: {} of {} bytes",
                r.body.len(),
                e - s + 1
            )));
        }
        Ok((total, r.body))
    }

    fn insert(&mut self, chunk: u64, data: Vec<u8>) {
        self.cached_bytes += data.len() as u64;
        if let Some(old) = self.cache.put(chunk, data.into_boxed_slice()) {
            self.cached_bytes -= old.len() as u64;
        }
        let floor = self.opts.max_readahead.max(1) * CHUNK_SIZE;
        while self.cached_bytes > self.opts.cache_bytes.max(floor) {
            match self.cache.pop_lru() {
                Some((_, d)) => self.cached_bytes -= d.len() as u64,
                None => break,
            }
        }
    }

    /// Fetches `chunk` (and, on sequential access, the chunks after it).
    fn load(&mut self, chunk: u64) -> Result<(), BlockError> {
        let chunks = self.size.div_ceil(CHUNK_SIZE);
        self.window = if chunk == self.next_expected {
            (self.window * 2).min(self.opts.max_readahead.max(1))
        } else {
            1
        };
        let mut last = chunk;
        while last + 1 < (chunk + self.window).min(chunks) && !self.cache.contains(&(last + 1)) {
            last += 1;
        }
        let end = ((last + 1) * CHUNK_SIZE).min(self.size) - 1;
        let (_, body) = self.fetch(chunk * CHUNK_SIZE, end)?;
        for (i, piece) in body.chunks(CHUNK_SIZE as usize).enumerate() {
            self.insert(chunk + i as u64, piece.to_vec());
        }
        self.next_expected = last + 1;
        Ok(())
    }

    pub fn cached_bytes(&self) -> u64 {
        self.cached_bytes
    }

    /// Puts chunk `chunk` (bytes `chunk * CHUNK_SIZE ..`) into the cache,
    /// fetched by the host some other way (a browser prefetching in
    /// parallel what the last boot read). The data must be the whole
    /// chunk; it is trusted like an answer to a range request.
    pub fn preload(&mut self, chunk: u64, data: Vec<u8>) -> Result<(), BlockError> {
        let start = chunk.saturating_mul(CHUNK_SIZE);
        let want = CHUNK_SIZE.min(self.size.saturating_sub(start));
        if want == 0 || data.len() as u64 != want {
            return Err(self.error(format!(
                "preloaded chunk {chunk} has {} bytes, not {want}",
                data.len()
            )));
        }
        self.insert(chunk, data);
        Ok(())
    }
}

impl<T: HttpTransport> BlockDevice for HttpDevice<T> {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        check_range(off, buf.len(), self.size)?;
        let mut done = 0;
        while done < buf.len() {
            let pos = off + done as u64;
            let chunk = pos / CHUNK_SIZE;
            if !self.cache.contains(&chunk) {
                self.load(chunk)?;
            }
            let data = self
                .cache
                .get(&chunk)
                .ok_or_else(|| BlockError::Http("chunk evicted while reading".into()))?;
            let at = (pos % CHUNK_SIZE) as usize;
            let n = (data.len() - at).min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&data[at..at + n]);
            done += n;
        }
        Ok(())
    }

    fn write_at(&mut self, _off: u64, _buf: &[u8]) -> Result<(), BlockError> {
        Err(BlockError::ReadOnly)
    }

    fn flush(&mut self) -> Result<(), BlockError> {
        Ok(())
    }

    fn is_read_only(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// Serves `image`, after first playing back scripted faults.
    struct Fake {
        image: Vec<u8>,
        faults: VecDeque<HttpResponse>,
        requests: Vec<(u64, u64)>,
    }

    impl Fake {
        fn new(size: usize) -> Fake {
            Fake {
                image: (0..size).map(|i| (i * 7 % 251) as u8).collect(),
                faults: VecDeque::new(),
                requests: Vec::new(),
            }
        }
    }

    impl HttpTransport for Fake {
        fn get_range(&mut self, start: u64, end: u64) -> Result<HttpResponse, String> {
            self.requests.push((start, end));
            if let Some(f) = self.faults.pop_front() {
                return if f.status == 0 {
                    Err("connection reset".into())
                } else {
                    Ok(f)
                };
            }
            let len = self.image.len() as u64;
            let e = end.min(len - 1);
            Ok(HttpResponse {
                status: 206,
                content_range: Some(format!("bytes {start}-{e}/{len}")),
                body: self.image[start as usize..=e as usize].to_vec(),
            })
        }
        fn url(&self) -> String {
            "fake://image".into()
        }
    }

    fn opts() -> HttpOptions {
        HttpOptions {
            backoff: Duration::ZERO,
            ..HttpOptions::default()
        }
    }

    #[test]
    fn reads_match_the_image_and_read_ahead_grows() {
        let size = 20 * CHUNK_SIZE as usize + 100;
        let mut d = HttpDevice::open(Fake::new(size), opts()).unwrap();
        let mut all = vec![0u8; size];
        for (i, piece) in all.chunks_mut(4096).enumerate() {
            d.read_at(i as u64 * 4096, piece).unwrap();
        }
        assert_eq!(all, d.transport.image);
        // 21 chunks in far fewer requests than chunks.
        assert!(d.stats.requests < 8, "{:?}", d.stats);
    }

    #[test]
    fn preloaded_chunks_are_read_without_requests() {
        let size = 3 * CHUNK_SIZE as usize + 10;
        let mut d = HttpDevice::open(Fake::new(size), opts()).unwrap();
        let image = d.transport.image.clone();
        let c = CHUNK_SIZE as usize;
        d.preload(3, image[3 * c..].to_vec()).unwrap();
        assert!(d.preload(1, vec![0; 5]).is_err());
        assert!(d.preload(4, vec![0; 5]).is_err());
        let before = d.stats.requests;
        let mut b = vec![0u8; 10];
        d.read_at(3 * CHUNK_SIZE, &mut b).unwrap();
        assert_eq!(b, image[3 * c..]);
        assert_eq!(d.stats.requests, before);
    }

    #[test]
    fn cache_stays_within_budget() {
        let size = 64 * CHUNK_SIZE as usize;
        let o = HttpOptions {
            cache_bytes: 10 * CHUNK_SIZE,
            ..opts()
        };
        let mut d = HttpDevice::open(Fake::new(size), o).unwrap();
        let mut b = [0u8; 1];
        for c in (0..64).rev() {
            d.read_at(c * CHUNK_SIZE, &mut b).unwrap();
            assert!(d.cached_bytes() <= 10 * CHUNK_SIZE);
        }
    }

    #[test]
    fn transient_failures_are_retried() {
        let mut f = Fake::new(3 * CHUNK_SIZE as usize);
        f.faults.push_back(HttpResponse::default()); // dropped connection
        f.faults.push_back(HttpResponse {
            status: 503,
            ..HttpResponse::default()
        });
        f.faults.push_back(HttpResponse {
            status: 206,
            content_range: Some(format!("bytes 0-{}/{}", CHUNK_SIZE - 1, 3 * CHUNK_SIZE)),
            body: vec![0; 10],
        });
        let d = HttpDevice::open(f, opts()).unwrap();
        assert_eq!(d.stats.retries, 3);
    }

    #[test]
    fn fatal_answers_fail_with_a_clear_error() {
        let mut f = Fake::new(CHUNK_SIZE as usize);
        f.faults.push_back(HttpResponse {
            status: 200,
            ..HttpResponse::default()
        });
        let e = HttpDevice::open(f, opts()).err().unwrap();
        assert!(e.to_string().contains("ignored the Range header"), "{e}");

        let o = HttpOptions {
            expected_size: Some(5),
            ..opts()
        };
        let e = HttpDevice::open(Fake::new(100), o).err().unwrap();
        assert!(e.to_string().contains("manifest says 5"), "{e}");

        let mut f = Fake::new(100);
        for _ in 0..5 {
            f.faults.push_back(HttpResponse::default());
        }
        let e = HttpDevice::open(f, opts()).err().unwrap();
        assert!(e.to_string().contains("gave up after 5 attempts"), "{e}");
    }
}
