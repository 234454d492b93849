//! `wax serve`: the browser app and a disk image over HTTP, or written out
//! as a static site (`--export DIR`) for any static host.
//!
//! The site is a list of paths, each backed by a file or a byte range of
//! one. The image appears as chunk files under `image/` with a manifest
//! (`image/manifest.json`, see `wax_devices::block::ChunkManifest`): the
//! page reads the same layout from `wax serve` as from a static host that
//! limits file sizes. Chunk paths carry the image's identity (size and
//! modification time), so they can be cached for good while the manifest
//! is revalidated on every load.
//!
//! The server answers GET and HEAD with Range support (206, 416), correct
//! MIME types, ETag/If-None-Match, TCP_NODELAY (small answers must not
//! wait for Nagle), and no COOP/COEP headers: the page must work without
//! cross-origin isolation, as it will on any static host. `--dir DIR`
//! serves a directory as it is (to try an export the way a static host
//! would serve it).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use wax_devices::block::{ChunkManifest, MANIFEST_VERSION};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// The ext2 image the page boots (default: $WAX_IMAGE, else
    /// build/images/default.img).
    #[arg(long)]
    image: Option<PathBuf>,
    /// The built web app (scripts/build-web.sh writes it to web/dist).
    #[arg(long, default_value = "web/dist")]
    app: PathBuf,
    /// Bytes per image chunk file (static hosts limit file sizes).
    #[arg(long, default_value = "32M", value_parser = parse_chunk_size)]
    chunk_size: u64,
    /// Write the whole site as static files into DIR instead of serving.
    #[arg(long, value_name = "DIR", conflicts_with = "dir")]
    export: Option<PathBuf>,
    /// Serve DIR as it is (e.g. an export) instead of the app and image.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Open the URL in the default browser (xdg-open).
    #[arg(long)]
    open: bool,
    /// Relay the page's TCP and UDP connections to the network (the Wisp
    /// protocol over a WebSocket at /wisp/; src/wisp.rs). Off by default.
    #[arg(long)]
    net: bool,
    /// With --net: also allow destinations in this range, which the relay
    /// otherwise refuses (private, loopback and link-local addresses);
    /// repeatable, e.g. --net-allow 127.0.0.0/8.
    #[arg(long, value_name = "CIDR", requires = "net")]
    net_allow: Vec<crate::wisp::Cidr>,
    /// With --net: most streams one page may have open at once.
    #[arg(long, value_name = "N", default_value_t = 128, requires = "net")]
    net_max_streams: usize,
    /// With --net: most bytes one page may move through the relay, both
    /// directions (e.g. 512M, 4G).
    #[arg(long, value_name = "SIZE", default_value = "4G", value_parser = parse_byte_count, requires = "net")]
    net_max_bytes: u64,
}

fn parse_byte_count(s: &str) -> Result<u64, String> {
    let (num, shift) = match s.to_ascii_uppercase().chars().last() {
        Some('K') => (&s[..s.len() - 1], 10),
        Some('M') => (&s[..s.len() - 1], 20),
        Some('G') => (&s[..s.len() - 1], 30),
        _ => (s, 0),
    };
    let n: u64 = num.parse().map_err(|_| format!("bad size {s:?}"))?;
    n.checked_shl(shift)
        .filter(|v| v >> shift == n)
        .ok_or_else(|| format!("size {s:?} is too large"))
}

fn parse_chunk_size(s: &str) -> Result<u64, String> {
    let (num, mul) = match s.to_ascii_uppercase().chars().last() {
        Some('K') => (&s[..s.len() - 1], 1u64 << 10),
        Some('M') => (&s[..s.len() - 1], 1 << 20),
        _ => (s, 1),
    };
    let n: u64 = num.parse().map_err(|_| format!("bad size {s:?}"))?;
    let bytes = n.saturating_mul(mul);
    if !(128 << 10..=1 << 30).contains(&bytes) || bytes % 4096 != 0 {
        return Err("--chunk-size must be a multiple of 4K between 128K and 1G".into());
    }
    Ok(bytes)
}

/// What one path of the site holds.
#[derive(Clone, Debug)]
enum Source {
    File(PathBuf),
    /// `len` bytes of a file from `off` (an image chunk).
    Range {
        file: PathBuf,
        off: u64,
        len: u64,
    },
    Bytes(Vec<u8>),
}

/// The site: URL path (without the leading '/') → source.
type Site = BTreeMap<String, Source>;

pub fn run(args: ServeArgs) -> i32 {
    match serve(args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("wax serve: {e}");
            1
        }
    }
}

fn serve(args: ServeArgs) -> Result<(), String> {
    let site = match &args.dir {
        Some(dir) => directory_site(dir)?,
        None => app_site(&args)?,
    };
    if let Some(out) = &args.export {
        return export(&site, out);
    }
    let listener = TcpListener::bind(&args.addr)
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let relay = args.net.then(|| {
        let policy = crate::wisp::Policy {
            allow: args.net_allow.clone(),
            max_streams: args.net_max_streams,
            max_bytes: args.net_max_bytes,
        };
        let _ = writeln!(
            std::io::stdout(),
            "wax serve: network relay at ws://{addr}/wisp/ (public destinations{}); \
             pages opened as http://{addr}/?net=wisp/ use it",
            if policy.allow.is_empty() {
                String::new()
            } else {
                format!(
                    " and {}",
                    args.net_allow
                        .iter()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
        std::sync::Arc::new(policy)
    });
    let url = format!("http://{addr}/");
    println!("wax serve: open {url}");
    let _ = std::io::stdout().flush();
    if args.open {
        let _ = std::process::Command::new("xdg-open").arg(&url).spawn();
    }
    let site = std::sync::Arc::new(site);
    for conn in listener.incoming() {
        let Ok(stream) = conn else { continue };
        let site = site.clone();
        let relay = relay.clone();
        std::thread::spawn(move || {
            let _ = handle(stream, &site, relay);
        });
    }
    Ok(())
}

fn default_image() -> PathBuf {
    std::env::var_os("WAX_IMAGE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("build/images/default.img"))
}

/// The app's files plus the image as chunks.
fn app_site(args: &ServeArgs) -> Result<Site, String> {
    if !args.app.join("index.html").is_file() {
        return Err(format!(
            "{}: the web app is not built (no index.html): run scripts/build-web.sh, or give --app",
            args.app.display()
        ));
    }
    let mut site = directory_site(&args.app)?;
    let image = args.image.clone().unwrap_or_else(default_image);
    add_image(&mut site, &image, args.chunk_size)?;
    Ok(site)
}

/// Every regular file under `dir`, by its relative path.
fn directory_site(dir: &Path) -> Result<Site, String> {
    let mut site = Site::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.is_file() {
                let rel = path.strip_prefix(dir).expect("below dir");
                site.insert(rel.to_string_lossy().into_owned(), Source::File(path));
            }
        }
    }
    if site.is_empty() {
        return Err(format!("{}: no files to serve", dir.display()));
    }
    Ok(site)
}

/// `image/manifest.json` and `image/ID/NNNNN.bin`, one per chunk.
fn add_image(site: &mut Site, image: &Path, chunk_size: u64) -> Result<(), String> {
    let meta = std::fs::metadata(image).map_err(|e| {
        format!(
            "--image {}: {e} (scripts/setup.sh builds build/images/default.img)",
            image.display()
        )
    })?;
    if !meta.is_file() || meta.len() == 0 {
        return Err(format!("--image {}: not a non-empty file", image.display()));
    }
    let size = meta.len();
    let id = format!("{:x}-{:x}", size, meta.mtime());
    let count = size.div_ceil(chunk_size);
    let mut chunks = Vec::new();
    for i in 0..count {
        let name = format!("{id}/{i:05}.bin");
        let off = i * chunk_size;
        let len = chunk_size.min(size - off);
        site.insert(
            format!("image/{name}"),
            Source::Range {
                file: image.to_path_buf(),
                off,
                len,
            },
        );
        chunks.push(Some(name));
    }
    let manifest = ChunkManifest {
        version: MANIFEST_VERSION,
        size,
        chunk_size,
        chunks,
    };
    site.insert(
        "image/manifest.json".into(),
        Source::Bytes(manifest.to_json().into_bytes()),
    );
    Ok(())
}

/// Writes the site into `out`; image chunks that are all zeros are left
/// out (the manifest says `null` for them), so a sparse image stays small.
fn export(site: &Site, out: &Path) -> Result<(), String> {
    let mut manifest = match site.get("image/manifest.json") {
        Some(Source::Bytes(b)) => Some(ChunkManifest::parse(b)?),
        _ => None,
    };
    let (mut files, mut bytes, mut zero) = (0u64, 0u64, 0u64);
    for (path, source) in site {
        if path == "image/manifest.json" && manifest.is_some() {
            continue;
        }
        let data = read_source(source, None)?;
        if let (Some(m), Source::Range { .. }) = (&mut manifest, source) {
            if data.iter().all(|&b| b == 0) {
                let name = path.trim_start_matches("image/");
                for c in m.chunks.iter_mut() {
                    if c.as_deref() == Some(name) {
                        *c = None;
                    }
                }
                zero += 1;
                continue;
            }
        }
        write_file(&out.join(path), &data)?;
        files += 1;
        bytes += data.len() as u64;
    }
    if let Some(m) = manifest {
        write_file(&out.join("image/manifest.json"), m.to_json().as_bytes())?;
        files += 1;
    }
    println!(
        "wax serve: wrote {files} files ({:.1} MB) to {}; {zero} all-zero image chunks left out. \
         Publish the directory on any static host (no special headers needed).",
        bytes as f64 / 1e6,
        out.display()
    );
    Ok(())
}

fn write_file(path: &Path, data: &[u8]) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, data).map_err(|e| format!("{}: {e}", path.display()))
}

/// The source's length and a tag that changes when its content does.
fn describe(source: &Source) -> std::io::Result<(u64, String)> {
    Ok(match source {
        Source::File(p) => {
            let m = std::fs::metadata(p)?;
            (
                m.len(),
                format!("{:x}-{:x}", m.len(), m.mtime_nsec() ^ m.mtime()),
            )
        }
        Source::Range { file, off, len } => {
            let m = std::fs::metadata(file)?;
            (*len, format!("{:x}-{:x}-{off:x}", m.len(), m.mtime()))
        }
        Source::Bytes(b) => (b.len() as u64, format!("{:x}-{:x}", b.len(), fnv(b))),
    })
}

fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Bytes `range` (start, len) of the source, or all of it.
fn read_source(source: &Source, range: Option<(u64, u64)>) -> Result<Vec<u8>, String> {
    let (file, base, total) = match source {
        Source::Bytes(b) => {
            let (s, n) = range.unwrap_or((0, b.len() as u64));
            return Ok(b[s as usize..(s + n) as usize].to_vec());
        }
        Source::File(p) => (p, 0, std::fs::metadata(p).map_err(|e| e.to_string())?.len()),
        Source::Range { file, off, len } => (file, *off, *len),
    };
    let (s, n) = range.unwrap_or((0, total));
    let mut f = File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    f.seek(SeekFrom::Start(base + s))
        .map_err(|e| e.to_string())?;
    let mut buf = vec![0; n as usize];
    f.read_exact(&mut buf)
        .map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(buf)
}

fn mime(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// What a request asks for.
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn read_request(r: &mut impl BufRead) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("/").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let path = target.split(['?', '#']).next().unwrap_or("/");
    Ok(Some(Request {
        method,
        path: percent_decode(path.trim_start_matches('/')),
        headers,
    }))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses a single "bytes=A-B", "bytes=A-" or "bytes=-N" range against a
/// length: Some(Ok((start, len))), Some(Err(())) when unsatisfiable, None
/// when absent or not understood (the whole body is sent, as RFC 9110
/// allows).
fn parse_range(v: Option<&str>, total: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = v?.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let (start, end) = if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        if n == 0 {
            return Some(Err(()));
        }
        (total.saturating_sub(n), total.saturating_sub(1))
    } else {
        let s: u64 = a.parse().ok()?;
        if s >= total {
            return Some(Err(()));
        }
        let e: u64 = if b.is_empty() {
            total.saturating_sub(1)
        } else {
            b.parse().ok()?
        };
        if e < s {
            return None;
        }
        (s, e.min(total.saturating_sub(1)))
    };
    if start >= total {
        return Some(Err(()));
    }
    Some(Ok((start, end - start + 1)))
}

fn handle(
    stream: TcpStream,
    site: &Site,
    relay: Option<std::sync::Arc<crate::wisp::Policy>>,
) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    while let Some(req) = read_request(&mut reader)? {
        if req.path == "wisp/" || req.path == "wisp" {
            let upgrade = req
                .header("Upgrade")
                .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
            return match (relay, upgrade, req.header("Sec-WebSocket-Key")) {
                (Some(policy), true, Some(key)) => {
                    let early = reader.buffer().to_vec();
                    crate::wisp::serve(out, key, early, policy)
                }
                (None, ..) => simple(
                    &mut out,
                    404,
                    "the network relay is off (start wax serve with --net)\n",
                    &[],
                ),
                _ => simple(&mut out, 400, "a WebSocket upgrade was expected\n", &[]),
            };
        }
        respond(&req, site, &mut out)?;
        if req
            .header("Connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
        {
            break;
        }
    }
    Ok(())
}

fn respond(req: &Request, site: &Site, out: &mut TcpStream) -> std::io::Result<()> {
    if req.method != "GET" && req.method != "HEAD" {
        return simple(out, 405, "method not allowed\n", &[("Allow", "GET, HEAD")]);
    }
    let path = if req.path.is_empty() || req.path.ends_with('/') {
        format!("{}index.html", req.path)
    } else {
        req.path.clone()
    };
    let Some(source) = site.get(&path) else {
        return simple(out, 404, &format!("{path}: not found\n"), &[]);
    };
    let Ok((total, tag)) = describe(source) else {
        return simple(out, 500, "the file cannot be read\n", &[]);
    };
    let etag = format!("\"{tag}\"");
    let cache = if path.starts_with("image/") && path != "image/manifest.json" {
        // Chunk paths name the image's identity: they never change.
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut headers = vec![
        ("Content-Type", mime(&path).to_string()),
        ("Accept-Ranges", "bytes".to_string()),
        ("Cache-Control", cache.to_string()),
        ("ETag", etag.clone()),
    ];
    if req.header("If-None-Match") == Some(etag.as_str()) {
        return head(out, 304, &headers, 0);
    }
    let (status, start, len) = match parse_range(req.header("Range"), total) {
        None => (200, 0, total),
        Some(Ok((s, n))) => {
            headers.push(("Content-Range", format!("bytes {s}-{}/{total}", s + n - 1)));
            (206, s, n)
        }
        Some(Err(())) => {
            headers.push(("Content-Range", format!("bytes */{total}")));
            return head(out, 416, &headers, 0);
        }
    };
    head(out, status, &headers, len)?;
    if req.method == "GET" {
        match read_source(source, Some((start, len))) {
            Ok(body) => out.write_all(&body)?,
            // The headers are out: all that is left is to drop the
            // connection, which the client sees as a short body.
            Err(_) => return Err(std::io::Error::other("read failed")),
        }
    }
    out.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        304 => "Not Modified",
        404 => "Not Found",
        405 => "Method Not Allowed",
        416 => "Range Not Satisfiable",
        _ => "Internal Server Error",
    }
}

fn head(
    out: &mut TcpStream,
    status: u16,
    headers: &[(&str, String)],
    len: u64,
) -> std::io::Result<()> {
    let mut h = format!(
        "HTTP/1.1 {status} {}\r\nContent-Length: {len}\r\n",
        reason(status)
    );
    for (k, v) in headers {
        h.push_str(&format!("{k}: {v}\r\n"));
    }
    h.push_str("\r\n");
    out.write_all(h.as_bytes())
}

fn simple(
    out: &mut TcpStream,
    status: u16,
    body: &str,
    extra: &[(&str, &str)],
) -> std::io::Result<()> {
    let mut headers = vec![("Content-Type", "text/plain; charset=utf-8".to_string())];
    headers.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    head(out, status, &headers, body.len() as u64)?;
    out.write_all(body.as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_like_rfc_9110() {
        assert_eq!(parse_range(Some("bytes=0-9"), 100), Some(Ok((0, 10))));
        assert_eq!(parse_range(Some("bytes=90-200"), 100), Some(Ok((90, 10))));
        assert_eq!(parse_range(Some("bytes=95-"), 100), Some(Ok((95, 5))));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Some(Ok((90, 10))));
        assert_eq!(parse_range(Some("bytes=-1000"), 100), Some(Ok((0, 100))));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Some(Err(())));
        assert_eq!(parse_range(Some("bytes=-0"), 100), Some(Err(())));
        assert_eq!(parse_range(Some("bytes=5-1"), 100), None);
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), None);
        assert_eq!(parse_range(Some("items=0-1"), 100), None);
        assert_eq!(parse_range(None, 100), None);
    }

    #[test]
    fn paths_are_percent_decoded() {
        assert_eq!(percent_decode("a%20b/c%2Fd"), "a b/c/d");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
