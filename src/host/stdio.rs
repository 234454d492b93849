//! The process's stdin, stdout and stderr as guest console streams.
//!
//! Reads never block the kernel: a stdin that is a pipe or terminal is
//! read by a helper thread (started on the guest's first read) into a
//! shared buffer, and the run loop waits on [`StdinShared::wait`] when the
//! guest is parked. A regular file on stdin is read directly. Terminal
//! ioctls go to the host terminal with libc (as qemu-user does: `wax run`
//! passes the host terminal through; `wax shell` runs the kernel's own
//! line discipline instead, see `terminal.rs`).
//!
//! Each stream reports what the host descriptor is ([`StreamKind`]), so a
//! guest whose stdout is a host pipe or file sees a pipe or file in fstat
//! and buffers its stdio as it would natively.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use wax_devices::{SetWhen, Stream, StreamError, StreamKind, Terminal, Termios, WinSize};

/// What host descriptor `fd` is.
fn host_kind(fd: &OwnedFd, tty: bool) -> StreamKind {
    use std::os::unix::fs::FileTypeExt;
    if tty {
        return StreamKind::Terminal;
    }
    let Ok(meta) = fd.try_clone().map(File::from).and_then(|f| f.metadata()) else {
        return StreamKind::Pipe;
    };
    let t = meta.file_type();
    if t.is_file() {
        StreamKind::File { size: meta.len() }
    } else if t.is_socket() {
        StreamKind::Socket
    } else if t.is_char_device() || t.is_block_device() {
        StreamKind::CharDevice
    } else {
        StreamKind::Pipe
    }
}

fn io_err(e: std::io::Error) -> StreamError {
    match e.kind() {
        std::io::ErrorKind::WouldBlock => StreamError::WouldBlock,
        _ => StreamError::Io(e.raw_os_error().unwrap_or(5)),
    }
}

#[derive(Default)]
struct Buffered {
    data: VecDeque<u8>,
    eof: bool,
    error: Option<i32>,
}

/// Input read ahead by the helper thread.
#[derive(Default)]
pub struct StdinShared {
    state: Mutex<Buffered>,
    ready: Condvar,
}

impl StdinShared {
    /// Waits until input arrives or `timeout` passes.
    pub fn wait(&self, timeout: Duration) {
        let Ok(g) = self.state.lock() else { return };
        if g.data.is_empty() && !g.eof && g.error.is_none() {
            let _ = self.ready.wait_timeout(g, timeout);
        }
    }

    fn reader(self: Arc<Self>, mut src: File) {
        let mut buf = vec![0u8; 64 << 10];
        loop {
            let r = src.read(&mut buf);
            let Ok(mut g) = self.state.lock() else { return };
            match r {
                Ok(0) => g.eof = true,
                Ok(n) => g.data.extend(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => g.error = Some(e.raw_os_error().unwrap_or(5)),
            }
            let done = g.eof || g.error.is_some();
            drop(g);
            self.ready.notify_all();
            if done {
                return;
            }
            // A terminal line was delivered; wait until the guest took it
            // so the reader does not run ahead of terminal mode changes.
            let Ok(g) = self.state.lock() else { return };
            let _g = self.ready.wait_while(g, |s| !s.data.is_empty());
        }
    }
}

/// The guest's standard input.
pub struct StdinStream {
    fd: OwnedFd,
    /// Regular files are read directly.
    file: Option<File>,
    shared: Arc<StdinShared>,
    started: bool,
    tty: Option<HostTty>,
}

impl StdinStream {
    pub fn new(shared: Arc<StdinShared>) -> std::io::Result<StdinStream> {
        let fd = std::io::stdin().as_fd().try_clone_to_owned()?;
        let file = File::from(fd.try_clone()?);
        let regular = file.metadata().is_ok_and(|m| m.is_file());
        let tty = std::io::stdin()
            .is_terminal()
            .then(|| HostTty(fd.as_raw_fd()));
        Ok(StdinStream {
            fd,
            file: regular.then_some(file),
            shared,
            started: false,
            tty,
        })
    }

    fn start(&mut self) -> Result<(), StreamError> {
        let src = File::from(self.fd.try_clone().map_err(io_err)?);
        let shared = self.shared.clone();
        std::thread::Builder::new()
            .name("wax-stdin".into())
            .spawn(move || shared.reader(src))
            .map_err(io_err)?;
        self.started = true;
        Ok(())
    }
}

impl Stream for StdinStream {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, StreamError> {
        if let Some(f) = &mut self.file {
            return f.read(buf).map_err(io_err);
        }
        if !self.started {
            self.start()?;
        }
        let mut g = self.shared.state.lock().map_err(|_| StreamError::Io(5))?;
        if g.data.is_empty() {
            if let Some(e) = g.error {
                return Err(StreamError::Io(e));
            }
            return if g.eof {
                Ok(0)
            } else {
                Err(StreamError::WouldBlock)
            };
        }
        let n = buf.len().min(g.data.len());
        for (d, s) in buf.iter_mut().zip(g.data.drain(..n)) {
            *d = s;
        }
        drop(g);
        self.shared.ready.notify_all();
        Ok(n)
    }

    fn write(&mut self, _buf: &[u8]) -> Result<usize, StreamError> {
        Err(StreamError::Io(9))
    }

    fn readable(&mut self) -> bool {
        if self.file.is_some() {
            return true;
        }
        if !self.started && self.start().is_err() {
            return true;
        }
        self.shared
            .state
            .lock()
            .map_or(true, |g| !g.data.is_empty() || g.eof || g.error.is_some())
    }

    fn terminal(&mut self) -> Option<&mut dyn Terminal> {
        self.tty.as_mut().map(|t| t as &mut dyn Terminal)
    }

    fn kind(&mut self) -> StreamKind {
        host_kind(&self.fd, self.tty.is_some())
    }
}

/// stdout or stderr, unbuffered.
pub struct OutStream {
    file: File,
    tty: Option<HostTty>,
    fd: OwnedFd,
}

impl OutStream {
    pub fn stdout() -> std::io::Result<OutStream> {
        let fd = std::io::stdout().as_fd().try_clone_to_owned()?;
        let tty = std::io::stdout()
            .is_terminal()
            .then(|| HostTty(fd.as_raw_fd()));
        Ok(OutStream {
            file: File::from(fd.try_clone()?),
            tty,
            fd,
        })
    }

    pub fn stderr() -> std::io::Result<OutStream> {
        let fd = std::io::stderr().as_fd().try_clone_to_owned()?;
        let tty = std::io::stderr()
            .is_terminal()
            .then(|| HostTty(fd.as_raw_fd()));
        Ok(OutStream {
            file: File::from(fd.try_clone()?),
            tty,
            fd,
        })
    }
}

impl Stream for OutStream {
    fn read(&mut self, _buf: &mut [u8]) -> Result<usize, StreamError> {
        Err(StreamError::Io(9))
    }
    fn write(&mut self, buf: &[u8]) -> Result<usize, StreamError> {
        loop {
            match self.file.write(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                r => return r.map_err(io_err),
            }
        }
    }
    fn terminal(&mut self) -> Option<&mut dyn Terminal> {
        self.tty.as_mut().map(|t| t as &mut dyn Terminal)
    }
    fn kind(&mut self) -> StreamKind {
        host_kind(&self.fd, self.tty.is_some())
    }
}

/// A host terminal, by file descriptor (owned by the stream holding it).
pub struct HostTty(i32);

fn last_error() -> StreamError {
    StreamError::Io(std::io::Error::last_os_error().raw_os_error().unwrap_or(5))
}

impl HostTty {
    /// Saves the terminal settings of `fd` (to restore them at exit).
    pub fn save(fd: i32) -> Option<Termios> {
        HostTty(fd).termios().ok()
    }

    /// Restores settings saved with [`HostTty::save`].
    pub fn restore(fd: i32, t: &Termios) {
        let _ = HostTty(fd).set_termios(SetWhen::Now, t);
    }
}

impl Terminal for HostTty {
    fn termios(&mut self) -> Result<Termios, StreamError> {
        let mut b = [0u8; Termios::SIZE];
        // SAFETY: TCGETS writes the kernel's `struct termios`, which is
        // exactly Termios::SIZE bytes on x86-64 Linux, into `b`.
        let r = unsafe { libc::ioctl(self.0, libc::TCGETS, b.as_mut_ptr()) };
        if r < 0 {
            return Err(last_error());
        }
        Ok(Termios::from_bytes(&b))
    }

    fn set_termios(&mut self, when: SetWhen, t: &Termios) -> Result<(), StreamError> {
        let req = match when {
            SetWhen::Now => libc::TCSETS,
            SetWhen::Drain => libc::TCSETSW,
            SetWhen::Flush => libc::TCSETSF,
        };
        let b = t.to_bytes();
        // SAFETY: TCSETS* read a kernel `struct termios` (Termios::SIZE
        // bytes) from `b`, which lives across the call.
        let r = unsafe { libc::ioctl(self.0, req, b.as_ptr()) };
        if r < 0 {
            return Err(last_error());
        }
        Ok(())
    }

    fn winsize(&mut self) -> Result<WinSize, StreamError> {
        let mut w = libc::winsize {
            ws_row: 0,
            ws_col: 0,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCGWINSZ writes one `struct winsize` into `w`.
        let r = unsafe { libc::ioctl(self.0, libc::TIOCGWINSZ, &mut w) };
        if r < 0 {
            return Err(last_error());
        }
        Ok(WinSize {
            rows: w.ws_row,
            cols: w.ws_col,
            xpixel: w.ws_xpixel,
            ypixel: w.ws_ypixel,
        })
    }

    fn foreground_pgrp(&mut self) -> Result<i32, StreamError> {
        // SAFETY: tcgetpgrp only reads the descriptor number.
        let r = unsafe { libc::tcgetpgrp(self.0) };
        if r < 0 {
            return Err(last_error());
        }
        Ok(r)
    }
}
