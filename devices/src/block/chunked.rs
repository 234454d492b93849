//! An image split into chunk files, for static hosts that limit file sizes
//! (GitHub Pages: 100 MB a file).
//!
//! A manifest (JSON, see [`ChunkManifest`]) names the image's size, the
//! chunk size and one file per chunk, relative to the manifest's URL; an
//! all-zero chunk has no file (`null`) and is never fetched, so the unused
//! part of a sparse image costs nothing to publish or to read.
//! [`ChunkedTransport`] turns it back into one byte range space: a range
//! request for image bytes becomes range requests for the chunk files it
//! covers, answered as if one server held the whole image, so
//! [`super::HttpDevice`] (cache, read-ahead, retries) works unchanged on top.

use super::http::{HttpResponse, HttpTransport};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The manifest format's version; a reader refuses other versions.
pub const MANIFEST_VERSION: u32 = 1;

/// The chunk files of one image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkManifest {
    pub version: u32,
    /// Image size in bytes.
    pub size: u64,
    /// Bytes per chunk file (the last one may be shorter).
    pub chunk_size: u64,
    /// One entry per chunk: a path relative to the manifest, or `None` for
    /// a chunk of zeros.
    pub chunks: Vec<Option<String>>,
}

impl ChunkManifest {
    /// Parses and checks a manifest; the message says what is wrong.
    pub fn parse(text: &[u8]) -> Result<ChunkManifest, String> {
        let m: ChunkManifest =
            serde_json::from_slice(text).map_err(|e| format!("not a chunk manifest: {e}"))?;
        if m.version != MANIFEST_VERSION {
            return Err(format!(
                "chunk manifest version {} (this Wax reads version {MANIFEST_VERSION})",
                m.version
            ));
        }
        if m.chunk_size == 0 || m.chunks.len() as u64 != m.size.div_ceil(m.chunk_size) {
            return Err(format!(
                "chunk manifest lists {} chunks of {} bytes for an image of {} bytes",
                m.chunks.len(),
                m.chunk_size,
                m.size
            ));
        }
        Ok(m)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a manifest always serialises")
    }

    /// Length of chunk `i`.
    pub fn chunk_len(&self, i: usize) -> u64 {
        let start = i as u64 * self.chunk_size;
        self.chunk_size.min(self.size - start)
    }
}

/// Resolves a chunk path against the manifest's URL (its directory).
pub fn resolve(manifest_url: &str, path: &str) -> String {
    if path.contains("://") {
        return path.to_string();
    }
    match manifest_url.rfind('/') {
        Some(i) => format!("{}{path}", &manifest_url[..=i]),
        None => path.to_string(),
    }
}

/// One byte range space over the chunk files of a manifest. `open` makes
/// the transport of one chunk file from its URL (the host's HTTP client).
pub struct ChunkedTransport<T, F> {
    manifest_url: String,
    manifest: ChunkManifest,
    open: F,
    files: Vec<Option<T>>,
}

impl<T: HttpTransport, F: FnMut(&str) -> T> ChunkedTransport<T, F> {
    pub fn new(manifest_url: &str, manifest: ChunkManifest, open: F) -> Self {
        let files = manifest.chunks.iter().map(|_| None).collect();
        ChunkedTransport {
            manifest_url: manifest_url.to_string(),
            manifest,
            open,
            files,
        }
    }

    pub fn manifest(&self) -> &ChunkManifest {
        &self.manifest
    }

    /// Appends bytes `start..=end` of chunk `i` (chunk-relative) to `out`.
    fn read_chunk(
        &mut self,
        i: usize,
        start: u64,
        end: u64,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        let Some(path) = self.manifest.chunks[i].clone() else {
            // Part of a range whose length get_range checked fits usize.
            out.resize(out.len() + (end - start + 1) as usize, 0);
            return Ok(());
        };
        if self.files[i].is_none() {
            let url = resolve(&self.manifest_url, &path);
            self.files[i] = Some((self.open)(&url));
        }
        let file = self.files[i].as_mut().expect("opened above");
        let r = file.get_range(start, end)?;
        let want = end - start + 1;
        if r.status != 206 || r.body.len() as u64 != want {
            // A wrong answer for one chunk file (a 404 from a half-published
            // site, a server without Range) names that file; the device
            // retries it like a transport failure, then gives up with it.
            return Err(format!(
                "{}: chunk file answered {} with {} bytes for bytes {start}-{end}",
                file.url(),
                r.status,
                r.body.len()
            ));
        }
        out.extend_from_slice(&r.body);
        Ok(())
    }
}

impl<T: HttpTransport, F: FnMut(&str) -> T> HttpTransport for ChunkedTransport<T, F> {
    fn get_range(&mut self, start: u64, end: u64) -> Result<HttpResponse, String> {
        let size = self.manifest.size;
        if start >= size {
            return Ok(HttpResponse {
                status: 416,
                content_range: Some(format!("bytes */{size}")),
                body: Vec::new(),
            });
        }
        let end = end.min(size - 1);
        let cs = self.manifest.chunk_size;
        let len = usize::try_from(end - start + 1)
            .map_err(|_| format!("bytes {start}-{end} are more than this host can hold"))?;
        let mut body = Vec::with_capacity(len);
        let mut pos = start;
        while pos <= end {
            // Below chunks.len() for a manifest that parse accepts.
            let i = (pos / cs) as usize;
            let chunk_end = (i as u64 + 1) * cs - 1;
            let stop = end.min(chunk_end);
            self.read_chunk(i, pos - i as u64 * cs, stop - i as u64 * cs, &mut body)?;
            pos = stop + 1;
        }
        Ok(HttpResponse {
            status: 206,
            content_range: Some(format!("bytes {start}-{end}/{size}")),
            body,
        })
    }

    fn sleep(&mut self, d: Duration) {
        if let Some(t) = self.files.iter_mut().flatten().next() {
            t.sleep(d);
        }
    }

    fn url(&self) -> String {
        self.manifest_url.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::{BlockDevice, HttpDevice, HttpOptions};
    use std::collections::HashMap;
    use std::rc::Rc;

    /// Serves ranges of in-memory files by URL, counting requests.
    struct Files {
        files: Rc<HashMap<String, Vec<u8>>>,
        url: String,
        log: Rc<std::cell::RefCell<Vec<String>>>,
    }

    impl HttpTransport for Files {
        fn get_range(&mut self, start: u64, end: u64) -> Result<HttpResponse, String> {
            self.log
                .borrow_mut()
                .push(format!("{} {start}-{end}", self.url));
            let Some(data) = self.files.get(&self.url) else {
                return Ok(HttpResponse {
                    status: 404,
                    ..Default::default()
                });
            };
            let end = end.min(data.len() as u64 - 1);
            Ok(HttpResponse {
                status: 206,
                content_range: Some(format!("bytes {start}-{end}/{}", data.len())),
                body: data[start as usize..=end as usize].to_vec(),
            })
        }
        fn url(&self) -> String {
            self.url.clone()
        }
    }

    fn image(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| {
                if (i / 1000) % 3 == 1 {
                    0
                } else {
                    (i * 7 + i / 251) as u8
                }
            })
            .collect()
    }

    /// Splits `img` like the exporter does: zero chunks get no file.
    fn split(img: &[u8], chunk: usize) -> (ChunkManifest, HashMap<String, Vec<u8>>) {
        let mut files = HashMap::new();
        let mut chunks = Vec::new();
        for (i, c) in img.chunks(chunk).enumerate() {
            if c.iter().all(|&b| b == 0) {
                chunks.push(None);
            } else {
                let name = format!("c/{i:05}.bin");
                files.insert(format!("http://h/img/{name}"), c.to_vec());
                chunks.push(Some(name));
            }
        }
        let m = ChunkManifest {
            version: MANIFEST_VERSION,
            size: img.len() as u64,
            chunk_size: chunk as u64,
            chunks,
        };
        (m, files)
    }

    #[test]
    fn reads_across_chunk_files_and_zero_chunks_like_one_image() {
        let img = image(10_000);
        let (m, files) = split(&img, 1000);
        assert!(
            m.chunks.iter().any(Option::is_none),
            "the test needs zero chunks"
        );
        let m = ChunkManifest::parse(m.to_json().as_bytes()).unwrap();
        let files = Rc::new(files);
        let log = Rc::new(std::cell::RefCell::new(Vec::new()));
        let (f2, l2) = (files.clone(), log.clone());
        let mut t =
            ChunkedTransport::new("http://h/img/manifest.json", m, move |url: &str| Files {
                files: f2.clone(),
                url: url.to_string(),
                log: l2.clone(),
            });
        for (s, e) in [
            (0, 9999),
            (999, 1000),
            (1500, 4321),
            (9990, 20_000),
            (3000, 3999),
        ] {
            let r = t.get_range(s, e).unwrap();
            let e2 = e.min(9999);
            assert_eq!(r.status, 206);
            assert_eq!(r.content_range.unwrap(), format!("bytes {s}-{e2}/10000"));
            assert_eq!(r.body, img[s as usize..=e2 as usize]);
        }
        assert!(
            log.borrow().iter().all(|l| !l.contains("/c/00001.bin")),
            "a zero chunk was fetched: {:?}",
            log.borrow()
        );
        assert_eq!(t.get_range(10_000, 10_001).unwrap().status, 416);
    }

    #[test]
    fn an_http_device_over_chunks_reads_the_image() {
        let img = image(600_000);
        let (m, files) = split(&img, 100_000);
        let files = Rc::new(files);
        let log = Rc::new(std::cell::RefCell::new(Vec::new()));
        let t = ChunkedTransport::new("http://h/img/manifest.json", m, move |url: &str| Files {
            files: files.clone(),
            url: url.to_string(),
            log: log.clone(),
        });
        let mut dev = HttpDevice::open(t, HttpOptions::default()).unwrap();
        assert_eq!(dev.size(), 600_000);
        let mut buf = vec![0; 250_000];
        dev.read_at(123_456, &mut buf).unwrap();
        assert_eq!(buf, img[123_456..373_456]);
    }

    #[test]
    fn a_missing_chunk_file_is_an_error_that_names_it() {
        let img = image(3000);
        let (m, mut files) = split(&img, 1000);
        files.remove("http://h/img/c/00002.bin");
        let files = Rc::new(files);
        let log = Rc::new(std::cell::RefCell::new(Vec::new()));
        let mut t =
            ChunkedTransport::new("http://h/img/manifest.json", m, move |url: &str| Files {
                files: files.clone(),
                url: url.to_string(),
                log: log.clone(),
            });
        let err = t.get_range(0, 2999).unwrap_err();
        assert!(err.contains("c/00002.bin") && err.contains("404"), "{err}");
    }

    #[test]
    fn bad_manifests_are_refused_with_a_reason() {
        assert!(ChunkManifest::parse(b"{")
            .unwrap_err()
            .contains("not a chunk manifest"));
        let m = ChunkManifest {
            version: MANIFEST_VERSION,
            size: 2500,
            chunk_size: 1000,
            chunks: vec![None, None],
        };
        let e = ChunkManifest::parse(m.to_json().as_bytes()).unwrap_err();
        assert!(e.contains("2 chunks"), "{e}");
        let m = ChunkManifest { version: 9, ..m };
        let e = ChunkManifest::parse(m.to_json().as_bytes()).unwrap_err();
        assert!(e.contains("version 9"), "{e}");
    }

    #[test]
    fn chunk_paths_resolve_against_the_manifest() {
        assert_eq!(
            resolve("http://h/a/m.json", "c/1.bin"),
            "http://h/a/c/1.bin"
        );
        assert_eq!(resolve("http://h/a/m.json", "http://x/y"), "http://x/y");
    }
}
