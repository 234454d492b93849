//! `--net-relay ws://HOST:PORT/wisp/`: guest connections that leave the
//! machine go through a Wisp relay (`wax serve --net`, or any Wisp v1
//! server), as they do in the browser tab.
//!
//! The protocol state lives in [`WispNet`] (shared with the browser
//! build); this is its transport: one thread owns the WebSocket and waits
//! in poll(2) on it and on a wake pipe, passing packets to and from the
//! run loop through channels. The run loop calls [`Link::pump`] around
//! every slice and [`Link::wait`] while the guest is idle.

use std::cell::RefCell;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;
use tungstenite::{Error as WsError, Message};
use wax_devices::wisp::WispNet;

/// From the WebSocket thread: a packet, or the connection's end.
enum Incoming {
    Packet(Vec<u8>),
    Lost(String),
}

pub struct Link {
    pub net: Rc<RefCell<WispNet>>,
    to_ws: Sender<Vec<u8>>,
    from_ws: Receiver<Incoming>,
    /// Rung by the WebSocket thread; the run loop waits on it.
    woken: UnixStream,
    /// Rings the WebSocket thread.
    wake: UnixStream,
    url: String,
}

/// Connects to the relay at `url` (ws:// only: TLS is not built in).
pub fn connect(url: &str) -> Result<Link, String> {
    let rest = match url.split_once("://") {
        Some(("ws", rest)) => rest,
        Some(("wss", _)) => {
            return Err(format!(
                "{url}: wss:// relays need TLS, which the CLI does not include; use ws://"
            ))
        }
        _ => {
            return Err(format!(
                "{url}: a relay URL looks like ws://HOST:PORT/wisp/"
            ))
        }
    };
    let authority = rest.split('/').next().unwrap_or("");
    let host_port = if authority.contains(':') && !authority.ends_with(']') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let addr = host_port
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| format!("{url}: cannot resolve {authority}"))?;
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .map_err(|e| format!("{url}: cannot connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let _ = stream.set_nodelay(true);
    let (ws, _) = tungstenite::client(url, stream)
        .map_err(|e| format!("{url}: the WebSocket handshake failed: {e}"))?;
    ws.get_ref()
        .set_nonblocking(true)
        .map_err(|e| e.to_string())?;
    let (woken, ring_main) = UnixStream::pair().map_err(|e| e.to_string())?;
    let (wake, thread_woken) = UnixStream::pair().map_err(|e| e.to_string())?;
    for s in [&woken, &ring_main, &wake, &thread_woken] {
        s.set_nonblocking(true).map_err(|e| e.to_string())?;
    }
    let (to_ws, outgoing) = mpsc::channel();
    let (incoming, from_ws) = mpsc::channel();
    std::thread::Builder::new()
        .name("wax-relay".into())
        .spawn(move || {
            let why = socket_thread(ws, outgoing, &incoming, &ring_main, thread_woken);
            let _ = incoming.send(Incoming::Lost(why));
            let _ = (&ring_main).write(&[1]);
        })
        .map_err(|e| e.to_string())?;
    Ok(Link {
        net: Rc::new(RefCell::new(WispNet::default())),
        to_ws,
        from_ws,
        woken,
        wake,
        url: url.to_string(),
    })
}

fn drain(s: &UnixStream) {
    let mut buf = [0u8; 64];
    while matches!((&*s).read(&mut buf), Ok(n) if n > 0) {}
}

/// Runs the WebSocket until it fails; returns why.
fn socket_thread(
    mut ws: tungstenite::WebSocket<TcpStream>,
    outgoing: Receiver<Vec<u8>>,
    incoming: &Sender<Incoming>,
    ring_main: &UnixStream,
    woken: UnixStream,
) -> String {
    let mut pending = false;
    loop {
        let mut fds = [
            libc::pollfd {
                fd: ws.get_ref().as_raw_fd(),
                events: libc::POLLIN | if pending { libc::POLLOUT } else { 0 },
                revents: 0,
            },
            libc::pollfd {
                fd: woken.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: `fds` is a valid array of two pollfd for the call.
        unsafe { libc::poll(fds.as_mut_ptr(), 2, 1000) };
        drain(&woken);
        loop {
            match ws.read() {
                Ok(Message::Binary(p)) => {
                    if incoming.send(Incoming::Packet(p.to_vec())).is_err() {
                        return "the run loop ended".into();
                    }
                    let _ = (&*ring_main).write(&[1]);
                }
                Ok(_) => {}
                Err(WsError::Io(e)) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => return format!("the relay connection ended: {e}"),
            }
        }
        loop {
            match outgoing.try_recv() {
                Ok(p) => match ws.write(Message::Binary(p.into())) {
                    Ok(()) => {}
                    Err(WsError::Io(e)) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => return format!("writing to the relay failed: {e}"),
                },
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => return "the run loop ended".into(),
            }
        }
        pending = match ws.flush() {
            Ok(()) => false,
            Err(WsError::Io(e)) if e.kind() == ErrorKind::WouldBlock => true,
            Err(e) => return format!("writing to the relay failed: {e}"),
        };
    }
}

impl Link {
    /// Hands arrived packets to the guest's network and sends what it
    /// queued.
    pub fn pump(&self) {
        let mut net = self.net.borrow_mut();
        while let Ok(m) = self.from_ws.try_recv() {
            match m {
                Incoming::Packet(p) => net.deliver(&p),
                Incoming::Lost(why) => {
                    eprintln!("wax: network relay {}: {why}", self.url);
                    net.lost();
                }
            }
        }
        let out = net.take_outbox();
        if !out.is_empty() {
            for p in out {
                let _ = self.to_ws.send(p);
            }
            let _ = (&self.wake).write(&[1]);
        }
    }

    /// Whether the relay has anything the guest may wait for.
    pub fn active(&self) -> bool {
        self.net.borrow().active()
    }

    /// Sleeps until a packet arrives or `timeout` passes.
    pub fn wait(&self, timeout: Duration) {
        let mut fd = libc::pollfd {
            fd: self.woken.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut fd, 1, ms) };
        drain(&self.woken);
    }
}
