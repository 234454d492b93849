//! The network relay of `wax serve --net` (Wisp v1 over a WebSocket at
//! `/wisp/`), driven by a client written here against the protocol: TCP
//! and UDP to local echo servers, the CONTINUE window under a stream of
//! packets, refused and blocked destinations, limits, and malformed input
//! that must be logged and survived.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{scratch, WAX};
use tungstenite::{Message, WebSocket};

const CONNECT: u8 = 1;
const DATA: u8 = 2;
const CONTINUE: u8 = 3;
const CLOSE: u8 = 4;

/// A running `wax serve --net`, killed on drop; its stderr is collected.
struct Server {
    child: Child,
    addr: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let dir = scratch().join("wisp-site");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), "hi").unwrap();
        let mut child = Command::new(WAX)
            .arg("serve")
            .args(["--addr", "127.0.0.1:0", "--dir"])
            .arg(&dir)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting wax serve");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let addr = loop {
            let mut line = String::new();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "wax serve said nothing"
            );
            if let Some(url) = line.trim().strip_prefix("wax serve: open http://") {
                break url.trim_end_matches('/').to_string();
            }
        };
        // Keep reading stdout so the server never writes into a closed pipe.
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut out, &mut std::io::sink());
        });
        let log = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Server { child, addr, log }
    }

    fn client(&self) -> Client {
        let stream = TcpStream::connect(&self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let (ws, _) = tungstenite::client(format!("ws://{}/wisp/", self.addr), stream)
            .expect("WebSocket handshake");
        let mut c = Client { ws };
        let (kind, id, payload) = c.recv();
        assert_eq!(
            (kind, id),
            (CONTINUE, 0),
            "the server opens with CONTINUE on stream 0"
        );
        assert_eq!(payload.len(), 4);
        assert!(u32::from_le_bytes(payload.try_into().unwrap()) > 0);
        c
    }

    /// Waits (up to 5 s) for the log to contain `what`.
    fn logged(&self, what: &str) -> bool {
        for _ in 0..100 {
            if self.log.lock().unwrap().contains(what) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Client {
    ws: WebSocket<TcpStream>,
}

impl Client {
    fn send(&mut self, kind: u8, id: u32, payload: &[u8]) {
        let mut p = vec![kind];
        p.extend_from_slice(&id.to_le_bytes());
        p.extend_from_slice(payload);
        self.ws.send(Message::Binary(p.into())).unwrap();
    }

    fn connect(&mut self, id: u32, kind: u8, host: &str, port: u16) {
        let mut p = vec![kind];
        p.extend_from_slice(&port.to_le_bytes());
        p.extend_from_slice(host.as_bytes());
        self.send(CONNECT, id, &p);
    }

    fn recv(&mut self) -> (u8, u32, Vec<u8>) {
        loop {
            match self.ws.read().expect("a packet from the relay") {
                Message::Binary(p) => {
                    assert!(p.len() >= 5, "short packet {p:?}");
                    let id = u32::from_le_bytes([p[1], p[2], p[3], p[4]]);
                    return (p[0], id, p[5..].to_vec());
                }
                Message::Ping(_) | Message::Pong(_) => {}
                m => panic!("unexpected message {m:?}"),
            }
        }
    }

    /// The next packet for stream `id` that is not a CONTINUE.
    fn recv_on(&mut self, id: u32) -> (u8, Vec<u8>) {
        loop {
            let (k, i, p) = self.recv();
            if i == id && k != CONTINUE {
                return (k, p);
            }
        }
    }
}

fn tcp_echo() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            std::thread::spawn(move || {
                let mut r = s.try_clone().unwrap();
                let _ = std::io::copy(&mut r, &mut s);
            });
        }
    });
    port
}

fn udp_echo() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = s.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while let Ok((n, from)) = s.recv_from(&mut buf) {
            let _ = s.send_to(&buf[..n], from);
        }
    });
    port
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn tcp_stream_through_the_relay_respects_the_window() {
    let server = Server::start(&["--net", "--net-allow", "127.0.0.0/8"]);
    let port = tcp_echo();
    let mut c = server.client();
    c.connect(1, 1, "127.0.0.1", port);
    c.send(DATA, 1, b"hello");
    assert_eq!(c.recv_on(1), (DATA, b"hello".to_vec()));

    // 600 packets of 1 KiB, never more in flight than the server allows.
    let mut window = 128u32;
    let mut sent = 0;
    let mut want = Vec::new();
    let mut got = Vec::new();
    let mut continues = 0;
    while sent < 600 || got.len() < want.len() {
        while sent < 600 && window > 0 {
            let p: Vec<u8> = (0..1024).map(|i| (i * 7 + sent * 13) as u8).collect();
            c.send(DATA, 1, &p);
            want.extend_from_slice(&p);
            sent += 1;
            window -= 1;
        }
        let (k, id, p) = c.recv();
        assert_eq!(id, 1);
        match k {
            DATA => got.extend_from_slice(&p),
            CONTINUE => {
                continues += 1;
                window = u32::from_le_bytes(p.try_into().unwrap());
            }
            // A CLOSE's payload is its reason; the relay logs why.
            k => panic!(
                "unexpected packet type {k} (payload {p:?}) after {sent} sent, {} echoed \
                 back, {continues} CONTINUEs; the relay's log:\n{}",
                got.len(),
                server.log.lock().unwrap()
            ),
        }
    }
    assert_eq!(got, want, "the echo came back whole and in order");
    assert!(
        continues >= 4,
        "the server renewed the window ({continues} CONTINUEs)"
    );
    c.send(CLOSE, 1, &[2]);

    // localhost resolves through the host's resolver (and is allowed).
    c.connect(2, 1, "localhost", port);
    c.send(DATA, 2, b"again");
    assert_eq!(c.recv_on(2), (DATA, b"again".to_vec()));
}

#[test]
fn udp_keeps_datagram_boundaries() {
    let server = Server::start(&["--net", "--net-allow", "127.0.0.1"]);
    let port = udp_echo();
    let mut c = server.client();
    c.connect(7, 2, "127.0.0.1", port);
    for n in [1usize, 100, 1000, 1472] {
        let p = vec![n as u8; n];
        c.send(DATA, 7, &p);
        assert_eq!(c.recv_on(7), (DATA, p), "a datagram of {n} bytes");
    }
}

#[test]
fn refused_blocked_and_unresolvable_destinations_close_with_their_reason() {
    let server = Server::start(&["--net", "--net-allow", "127.0.0.0/8"]);
    let mut c = server.client();
    c.connect(1, 1, "127.0.0.1", free_port());
    assert_eq!(c.recv_on(1), (CLOSE, vec![0x44]), "connection refused");
    c.connect(2, 1, "10.1.2.3", 80);
    assert_eq!(c.recv_on(2), (CLOSE, vec![0x48]), "private range blocked");
    c.connect(3, 1, "no-such-host.invalid", 80);
    assert_eq!(c.recv_on(3), (CLOSE, vec![0x42]), "unresolvable");
    assert!(server.logged("blocked"), "{}", server.log.lock().unwrap());

    // Loopback is refused unless allowed.
    let strict = Server::start(&["--net"]);
    let mut c = strict.client();
    c.connect(1, 1, "127.0.0.1", tcp_echo());
    assert_eq!(c.recv_on(1), (CLOSE, vec![0x48]));
    c.connect(2, 1, "::ffff:127.0.0.1", tcp_echo());
    assert_eq!(c.recv_on(2), (CLOSE, vec![0x48]), "IPv4-mapped loopback");
}

#[test]
fn malformed_packets_are_logged_and_the_connection_goes_on() {
    let server = Server::start(&["--net", "--net-allow", "127.0.0.0/8"]);
    let port = tcp_echo();
    let mut c = server.client();
    c.ws.send(Message::Binary(vec![2, 0].into())).unwrap();
    c.ws.send(Message::Text("hello".into())).unwrap();
    c.send(0x7f, 5, b"?");
    c.send(DATA, 99, b"nobody");
    c.send(CONTINUE, 1, &[0, 0, 0, 0]);
    c.send(CONNECT, 3, &[1, 0, 0, b'x']); // port 0
    assert_eq!(c.recv_on(3), (CLOSE, vec![0x41]));
    c.send(CONNECT, 4, &[9, 80, 0, b'x']); // unknown stream type
    assert_eq!(c.recv_on(4), (CLOSE, vec![0x41]));
    c.send(CONNECT, 6, &[1, 80]); // short
    assert_eq!(c.recv_on(6), (CLOSE, vec![0x41]));
    // Still serving.
    c.connect(8, 1, "127.0.0.1", port);
    c.send(DATA, 8, b"still here");
    assert_eq!(c.recv_on(8), (DATA, b"still here".to_vec()));
    for what in [
        "malformed packet of 2 bytes",
        "text frame",
        "unknown type 0x7f",
    ] {
        assert!(
            server.logged(what),
            "log lacks {what:?}: {}",
            server.log.lock().unwrap()
        );
    }
    // Garbage that is not even WebSocket ends that connection only.
    let mut raw = TcpStream::connect(&server.addr).unwrap();
    raw.write_all(b"GET /wisp/ HTTP/1.1\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff").unwrap();
    let mut sink = Vec::new();
    raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = raw.read_to_end(&mut sink);
    let mut c = server.client();
    c.connect(1, 1, "127.0.0.1", port);
    c.send(DATA, 1, b"after garbage");
    assert_eq!(c.recv_on(1), (DATA, b"after garbage".to_vec()));
}

#[test]
fn limits_on_streams_and_bytes() {
    let server = Server::start(&[
        "--net",
        "--net-allow",
        "127.0.0.0/8",
        "--net-max-streams",
        "2",
        "--net-max-bytes",
        "64K",
    ]);
    let port = tcp_echo();
    let mut c = server.client();
    c.connect(1, 1, "127.0.0.1", port);
    c.connect(2, 1, "127.0.0.1", port);
    c.connect(3, 1, "127.0.0.1", port);
    assert_eq!(
        c.recv_on(3),
        (CLOSE, vec![0x49]),
        "a third stream is throttled"
    );
    // 40 KiB out and its echo back pass 64 KiB: the streams are closed.
    for _ in 0..40 {
        c.send(DATA, 1, &[0u8; 1024]);
    }
    loop {
        let (k, id, p) = c.recv();
        if k == CLOSE && id == 1 {
            assert_eq!(p, vec![0x49]);
            break;
        }
    }
    assert!(server.logged("moved more than 65536 bytes"));
}

#[test]
fn the_relay_is_off_unless_asked_for() {
    let server = Server::start(&[]);
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.write_all(
        b"GET /wisp/ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .unwrap();
    let mut answer = String::new();
    BufReader::new(s).read_line(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer:?}");
}

#[test]
fn random_packets_never_take_the_relay_down() {
    let server = Server::start(&["--net", "--net-allow", "127.0.0.0/8"]);
    let port = tcp_echo();
    let mut c = server.client();
    // A fixed xorshift sequence: packets of every type but a well-formed
    // CONNECT (which would send the relay resolving random names).
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..2000 {
        let len = (next() % 40) as usize;
        let mut p: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if p.first() == Some(&CONNECT) && p.len() > 5 {
            p[5] = 0x10 | (p[5] & 0x0f); // no such stream type
        }
        c.ws.send(Message::Binary(p.into())).unwrap();
    }
    c.connect(0x4000_0001, 1, "127.0.0.1", port);
    c.send(DATA, 0x4000_0001, b"alive");
    assert_eq!(c.recv_on(0x4000_0001), (DATA, b"alive".to_vec()));
}

/// An address of this host that is not loopback (guest connections to
/// loopback stay inside the machine, so the relay is tested through it).
fn host_ip() -> String {
    let out = Command::new("hostname")
        .arg("-I")
        .output()
        .expect("hostname -I");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .find(|a| {
            a.parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| !ip.is_loopback())
        })
        .expect("this host has no IPv4 address besides loopback")
        .to_string()
}

/// An HTTP server on every address of the host that answers each request
/// with `body` and closes.
fn http_once(body: &'static str) -> u16 {
    let l = TcpListener::bind("0.0.0.0:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut req = Vec::new();
            let mut b = [0u8; 1024];
            while !req.ends_with(b"\r\n\r\n") {
                match s.read(&mut b) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&b[..n]),
                }
            }
            let _ = write!(
                s,
                "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

fn busybox() -> std::path::PathBuf {
    common::repo_root().join("build/busybox/bin/busybox")
}

#[test]
fn a_guest_reaches_the_host_through_the_relay() {
    let ip = host_ip();
    let server = Server::start(&["--net", "--net-allow", &format!("{ip}/32")]);
    let relay = format!("ws://{}/wisp/", server.addr);
    let port = http_once("hello through the relay\n");
    let out = Command::new(WAX)
        .args(["run", "--net-relay", &relay])
        .arg(busybox())
        .args(["wget", "-q", "-O", "-", &format!("http://{ip}:{port}/x")])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello through the relay\n",
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success());

    // A closed port: the relay's refusal reaches the guest as an error.
    let out = Command::new(WAX)
        .args(["run", "--net-relay", &relay])
        .arg(busybox())
        .args([
            "wget",
            "-q",
            "-O",
            "-",
            &format!("http://{ip}:{}/x", free_port()),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refused"),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A relay that is not there is a clear error before the guest runs.
    let out = Command::new(WAX)
        .args([
            "run",
            "--net-relay",
            &format!("ws://127.0.0.1:{}/wisp/", free_port()),
        ])
        .arg(busybox())
        .arg("true")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot connect"));
}

/// In relay mode everything on 127.0.0.1 and ::1 stays in the machine's
/// own stack: the loopback semantics test gives what `--net loopback`
/// gives.
#[test]
fn relay_mode_keeps_loopback_inside_the_machine() {
    let server = Server::start(&["--net"]);
    let relay = format!("ws://{}/wisp/", server.addr);
    let program = common::c_program("u_inet");
    let run = |opts: &[&str]| {
        let mut cmd = common::wax_run();
        cmd.args(opts).arg(&program);
        common::run_with_timeout(cmd, b"", Duration::from_secs(60))
    };
    let lo = run(&["--net", "loopback"]);
    let relayed = run(&["--net-relay", &relay]);
    assert_eq!(
        String::from_utf8_lossy(&relayed.stdout),
        String::from_utf8_lossy(&lo.stdout),
        "stderr: {}",
        relayed.stderr_text()
    );
    assert_eq!(relayed.status, lo.status);
}

/// Names resolve through the relay: the guest's DNS query is answered by
/// Wax with a stand-in address, and the connection to it names the host
/// to the relay, which resolves it with the host's resolver.
#[test]
fn a_guest_resolves_names_through_the_relay() {
    let root = common::repo_root().join("build/roots/test");
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("the host's name")
        .trim()
        .to_string();
    let resolved: Vec<std::net::IpAddr> =
        std::net::ToSocketAddrs::to_socket_addrs(&(name.as_str(), 80))
            .unwrap_or_else(|e| panic!("this host cannot resolve its own name {name:?}: {e}"))
            .map(|a| a.ip())
            .collect();
    let mut args = vec!["--net".to_string()];
    for ip in &resolved {
        args.extend(["--net-allow".to_string(), ip.to_string()]);
    }
    let server = Server::start(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let port = http_once("found by name\n");
    let script = format!(
        "import socket, urllib.request as u\n\
         print(socket.gethostbyname('{name}').startswith('198.18.'))\n\
         print(u.urlopen('http://{name}:{port}/').read().decode(), end='')\n\
         print(socket.gethostbyname('localhost'))\n"
    );
    let out = Command::new(WAX)
        .args([
            "run",
            "--net-relay",
            &format!("ws://{}/wisp/", server.addr),
            "--root",
        ])
        .arg(&root)
        .args(["/usr/bin/python3", "-c", &script])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "True\nfound by name\n127.0.0.1\n",
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
