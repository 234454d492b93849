//! HTTP/1.1 range requests over std::net for the CLI's [`HttpDevice`].
//!
//! Plain `http://` only (no TLS): images are served from a local or
//! trusted server. One keep-alive connection, reopened after any error;
//! bodies framed by Content-Length or chunked encoding. Only a 206 body is
//! read (any other answer closes the connection instead: a server that
//! ignores Range would otherwise send the whole image).
//!
//! A server that stops answering fails a request after the socket timeout:
//! 30 s, or `WAX_HTTP_TIMEOUT` seconds (the tests use a short one).
//!
//! [`HttpDevice`]: wax_devices::block::HttpDevice

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use wax_devices::block::{HttpResponse, HttpTransport};

pub struct HttpClient {
    url: String,
    /// "host:port" to connect to, and the Host header.
    authority: String,
    path: String,
    conn: Option<BufReader<TcpStream>>,
}

/// Read and write timeout of the connection (see the module doc).
fn socket_timeout() -> Duration {
    let secs = std::env::var("WAX_HTTP_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|&s| s > 0)
        .unwrap_or(30);
    Duration::from_secs(secs)
}

impl HttpClient {
    /// Parses `http://host[:port]/path`.
    pub fn new(url: &str) -> Result<HttpClient, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("{url}: only http:// URLs are supported"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.is_empty() {
            return Err(format!("{url}: no host"));
        }
        Ok(HttpClient {
            url: url.to_string(),
            authority: authority.to_string(),
            path: path.to_string(),
            conn: None,
        })
    }

    fn connect(&mut self) -> Result<&mut BufReader<TcpStream>, String> {
        if self.conn.is_none() {
            let addr = if self.authority.contains(':') {
                self.authority.clone()
            } else {
                format!("{}:80", self.authority)
            };
            let s = TcpStream::connect(&addr).map_err(|e| format!("connect {addr}: {e}"))?;
            let t = Some(socket_timeout());
            s.set_read_timeout(t)
                .and_then(|_| s.set_write_timeout(t))
                .map_err(|e| e.to_string())?;
            self.conn = Some(BufReader::new(s));
        }
        self.conn
            .as_mut()
            .ok_or_else(|| "no connection".to_string())
    }

    fn request(&mut self, start: u64, end: u64) -> Result<(HttpResponse, bool), String> {
        let req = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nRange: bytes={start}-{end}\r\nUser-Agent: wax\r\n\r\n",
            self.path, self.authority
        );
        let conn = self.connect()?;
        conn.get_mut()
            .write_all(req.as_bytes())
            .map_err(|e| e.to_string())?;
        let status_line = read_line(conn)?;
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line {status_line:?}"))?;
        let (mut len, mut chunked, mut close, mut range) = (None, false, false, None);
        loop {
            let line = read_line(conn)?;
            if line.is_empty() {
                break;
            }
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            let v = v.trim();
            match k.trim().to_ascii_lowercase().as_str() {
                "content-length" => len = v.parse::<u64>().ok(),
                "transfer-encoding" => chunked = v.eq_ignore_ascii_case("chunked"),
                "connection" => close = v.eq_ignore_ascii_case("close"),
                "content-range" => range = Some(v.to_string()),
                _ => {}
            }
        }
        let want = end - start + 1;
        let body = if status != 206 {
            // The device only uses 206 bodies; drop the rest unread.
            close = true;
            Vec::new()
        } else if let Some(n) = len.filter(|&n| n > want) {
            return Err(format!("{n}-byte body for a {want}-byte range"));
        } else if chunked {
            read_chunked(conn, want)?
        } else if let Some(n) = len {
            let mut b = Vec::new();
            conn.take(n)
                .read_to_end(&mut b)
                .map_err(|e| e.to_string())?;
            b
        } else {
            close = true;
            let mut b = Vec::new();
            conn.take(want + 1)
                .read_to_end(&mut b)
                .map_err(|e| e.to_string())?;
            b
        };
        Ok((
            HttpResponse {
                status,
                content_range: range,
                body,
            },
            close,
        ))
    }
}

fn read_line(r: &mut BufReader<TcpStream>) -> Result<String, String> {
    let mut line = String::new();
    match r.read_line(&mut line) {
        Ok(0) => Err("connection closed".into()),
        Ok(_) => Ok(line.trim_end_matches(['\r', '\n']).to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// A chunked body of at most `max` bytes.
fn read_chunked(r: &mut BufReader<TcpStream>, max: u64) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line = read_line(r)?;
        let size = u64::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| format!("bad chunk size {line:?}"))?;
        if body.len() as u64 + size > max {
            return Err(format!("chunked body larger than the {max}-byte range"));
        }
        if size == 0 {
            while !read_line(r)?.is_empty() {}
            return Ok(body);
        }
        r.take(size)
            .read_to_end(&mut body)
            .map_err(|e| e.to_string())?;
        read_line(r)?;
    }
}

impl HttpTransport for HttpClient {
    fn get_range(&mut self, start: u64, end: u64) -> Result<HttpResponse, String> {
        match self.request(start, end) {
            Ok((r, close)) => {
                if close {
                    self.conn = None;
                }
                Ok(r)
            }
            Err(e) => {
                self.conn = None;
                Err(e)
            }
        }
    }

    fn sleep(&mut self, d: Duration) {
        std::thread::sleep(d);
    }

    fn url(&self) -> String {
        self.url.clone()
    }
}
