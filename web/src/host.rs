//! The host edge in JavaScript: what the Worker (or the Node runner) puts
//! in `globalThis.waxHost` before booting, and the `wax_devices` traits
//! built on it.
//!
//! `waxHost` must provide:
//! - `fetchRange(url, start, end)` → `{status, contentRange, body}`
//!   (`body` a Uint8Array): a synchronous GET with `Range: bytes=start-end`
//!   (a sync XHR in a Worker; a file read in Node). Throws on a transport
//!   failure (refused, timed out), which the device retries.
//! - `fetchAll(url)` → Uint8Array: a whole small file (the manifest).
//! - `sleep(ms)`: waits before a retry (and may tell the user why).
//! - `now()` → ms since the epoch; `monotonic()` → ms from any start.
//! - `random(bytes)`: fills a Uint8Array with secure random bytes.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wax_devices::block::{HttpResponse, HttpTransport};
use wax_devices::{
    Clock, Console, Entropy, MemStream, Stream, StreamError, StreamKind, Timespec, WinSize,
};

#[wasm_bindgen]
extern "C" {
    type RangeAnswer;
    #[wasm_bindgen(method, getter)]
    fn status(this: &RangeAnswer) -> u16;
    #[wasm_bindgen(method, getter, js_name = contentRange)]
    fn content_range(this: &RangeAnswer) -> Option<String>;
    #[wasm_bindgen(method, getter)]
    fn body(this: &RangeAnswer) -> Vec<u8>;

    #[wasm_bindgen(catch, js_namespace = waxHost, js_name = fetchRange)]
    fn js_fetch_range(url: &str, start: f64, end: f64) -> Result<RangeAnswer, JsValue>;
    #[wasm_bindgen(catch, js_namespace = waxHost, js_name = fetchAll)]
    fn js_fetch_all(url: &str) -> Result<Vec<u8>, JsValue>;
    #[wasm_bindgen(js_namespace = waxHost, js_name = sleep)]
    fn js_sleep(ms: f64);
    #[wasm_bindgen(js_namespace = waxHost, js_name = now)]
    fn js_now() -> f64;
    #[wasm_bindgen(js_namespace = waxHost, js_name = monotonic)]
    fn js_monotonic() -> f64;
    #[wasm_bindgen(js_namespace = waxHost, js_name = random)]
    fn js_random(buf: &mut [u8]);
}

/// A JS exception as text for messages.
pub fn js_error(e: JsValue) -> String {
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

/// Fetches a whole small file.
pub fn fetch_all(url: &str) -> Result<Vec<u8>, String> {
    js_fetch_all(url).map_err(|e| format!("{url}: {}", js_error(e)))
}

/// Range requests for one URL through `waxHost.fetchRange`, counting the
/// bytes that came over the network.
pub struct JsTransport {
    url: String,
    fetched: Rc<RefCell<u64>>,
}

impl JsTransport {
    pub fn new(url: &str, fetched: Rc<RefCell<u64>>) -> JsTransport {
        JsTransport {
            url: url.to_string(),
            fetched,
        }
    }
}

impl HttpTransport for JsTransport {
    fn get_range(&mut self, start: u64, end: u64) -> Result<HttpResponse, String> {
        let r = js_fetch_range(&self.url, start as f64, end as f64).map_err(js_error)?;
        let body = r.body();
        *self.fetched.borrow_mut() += body.len() as u64;
        Ok(HttpResponse {
            status: r.status(),
            content_range: r.content_range(),
            body,
        })
    }

    fn sleep(&mut self, d: Duration) {
        js_sleep(d.as_secs_f64() * 1000.0);
    }

    fn url(&self) -> String {
        self.url.clone()
    }
}

fn from_ms(ms: f64) -> Timespec {
    Timespec::from_nanos((ms * 1e6) as i128)
}

/// `Date.now()` and `performance.now()`.
pub struct JsClock;

impl Clock for JsClock {
    fn realtime(&self) -> Timespec {
        from_ms(js_now())
    }
    fn monotonic(&self) -> Timespec {
        // Guests only compare monotonic times; start above zero like a
        // machine that has been up for a while (as the CLI does).
        from_ms(js_monotonic() + 1_000_000.0)
    }
}

/// `crypto.getRandomValues`.
pub struct JsEntropy;

impl Entropy for JsEntropy {
    fn fill(&mut self, buf: &mut [u8]) {
        // getRandomValues takes at most 65536 bytes per call.
        for piece in buf.chunks_mut(65536) {
            js_random(piece);
        }
    }
}

/// The terminal's bytes in both directions and its size; the page moves
/// them to and from xterm.js.
#[derive(Default)]
pub struct Term {
    pub input: VecDeque<u8>,
    pub output: Vec<u8>,
    pub size: WinSize,
}

/// The guest's console over a shared [`Term`].
pub struct WebConsole(pub Rc<RefCell<Term>>);

impl Console for WebConsole {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, StreamError> {
        let mut t = self.0.borrow_mut();
        let n = buf.len().min(t.input.len());
        for (d, s) in buf.iter_mut().zip(t.input.drain(..n)) {
            *d = s;
        }
        Ok(n)
    }
    fn write(&mut self, buf: &[u8]) -> Result<usize, StreamError> {
        self.0.borrow_mut().output.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn winsize(&mut self) -> WinSize {
        self.0.borrow().size
    }
}

/// One of the guest's stdio streams when it has no console (the Node
/// runner): bytes in memory that the host moves, reported to the guest as
/// the kind of file the host's descriptor is, so the guest buffers its
/// output as it would natively (as `wax run` does).
#[derive(Default)]
pub struct StdStream {
    pub data: MemStream,
    pub kind: Option<StreamKind>,
}

impl StdStream {
    /// "pipe", "file:SIZE", "chardev" (a terminal too: the runner passes
    /// no terminal through) or "socket"; anything else is a pipe.
    pub fn parse_kind(s: &str) -> StreamKind {
        match s.split_once(':') {
            Some(("file", n)) => StreamKind::File {
                size: n.parse().unwrap_or(0),
            },
            _ if s == "chardev" => StreamKind::CharDevice,
            _ if s == "socket" => StreamKind::Socket,
            _ => StreamKind::Pipe,
        }
    }
}

impl Stream for StdStream {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, StreamError> {
        self.data.read(buf)
    }
    fn write(&mut self, buf: &[u8]) -> Result<usize, StreamError> {
        self.data.write(buf)
    }
    fn readable(&mut self) -> bool {
        self.data.readable()
    }
    fn kind(&mut self) -> StreamKind {
        self.kind.unwrap_or(StreamKind::Pipe)
    }
}
