//! The host terminal as the guest's console (`wax shell`).
//!
//! The host terminal is put in raw mode ([`RawMode`]): every key,
//! including ^C ^Z ^\, reaches the guest's line discipline as a byte and
//! never signals Wax itself. The saved settings are restored on every way
//! out: normal return (Drop), a panic (a hook), and the signals that end
//! Wax from outside (SIGTERM, SIGHUP, SIGINT, SIGQUIT: the handler restores
//! and re-raises).
//!
//! [`HostConsole`] implements `wax_devices::Console`: a helper thread reads
//! the terminal into a shared buffer (the run loop waits on it when the
//! guest is idle), output is written straight to stdout, and SIGWINCH
//! marks the window size for re-reading.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;
use wax_devices::{Console, StreamError, Termios, WinSize};

/// The settings to restore: (descriptor, kernel `struct termios` bytes).
static SAVED: OnceLock<(i32, [u8; Termios::SIZE])> = OnceLock::new();
/// The window size changed since it was last read.
static RESIZED: AtomicBool = AtomicBool::new(true);

/// Puts back the saved terminal settings (idempotent, async-signal-safe:
/// one ioctl on data written before any handler was installed).
pub fn restore() {
    if let Some((fd, bytes)) = SAVED.get() {
        // SAFETY: TCSETS reads one kernel `struct termios` (Termios::SIZE
        // bytes) from a static that lives forever.
        unsafe {
            libc::ioctl(*fd, libc::TCSETS, bytes.as_ptr());
        }
    }
}

extern "C" fn on_fatal(sig: libc::c_int) {
    restore();
    // SAFETY: signal and raise are async-signal-safe; the default action
    // then ends the process with the signal, as it would have.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

extern "C" fn on_winch(_: libc::c_int) {
    RESIZED.store(true, Ordering::Relaxed);
}

/// Raw mode on the host terminal while this lives.
pub struct RawMode;

impl RawMode {
    /// Saves the settings of `fd` and makes it raw (cfmakeraw, but output
    /// processing stays off too: the guest's line discipline adds the
    /// CRs). Fails if `fd` is no terminal.
    pub fn enter(fd: i32) -> std::io::Result<RawMode> {
        let mut b = [0u8; Termios::SIZE];
        // SAFETY: TCGETS writes one kernel `struct termios` into `b`.
        if unsafe { libc::ioctl(fd, libc::TCGETS, b.as_mut_ptr()) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let _ = SAVED.set((fd, b));
        install_handlers();
        let mut t = Termios::from_bytes(&b);
        make_raw(&mut t);
        let raw = t.to_bytes();
        // SAFETY: TCSETS reads one `struct termios` from `raw`.
        if unsafe { libc::ioctl(fd, libc::TCSETS, raw.as_ptr()) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(RawMode)
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        restore();
    }
}

/// cfmakeraw's changes (termios(3)).
fn make_raw(t: &mut Termios) {
    const IGNBRK: u32 = 0o1;
    const BRKINT: u32 = 0o2;
    const PARMRK: u32 = 0o10;
    const ISTRIP: u32 = 0o40;
    const INLCR: u32 = 0o100;
    const IGNCR: u32 = 0o200;
    const ICRNL: u32 = 0o400;
    const IXON: u32 = 0o2000;
    const OPOST: u32 = 0o1;
    const ECHO: u32 = 0o10;
    const ECHONL: u32 = 0o100;
    const ICANON: u32 = 0o2;
    const ISIG: u32 = 0o1;
    const IEXTEN: u32 = 0o100000;
    const CSIZE: u32 = 0o60;
    const PARENB: u32 = 0o400;
    const CS8: u32 = 0o60;
    t.c_iflag &= !(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    t.c_oflag &= !OPOST;
    t.c_lflag &= !(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t.c_cflag &= !(CSIZE | PARENB);
    t.c_cflag |= CS8;
    t.c_cc[6] = 1; // VMIN
    t.c_cc[5] = 0; // VTIME
}

fn install_handlers() {
    // SAFETY: the handlers only do async-signal-safe work (an atomic
    // store; ioctl, signal, raise).
    unsafe {
        for sig in [libc::SIGTERM, libc::SIGHUP, libc::SIGINT, libc::SIGQUIT] {
            libc::signal(sig, on_fatal as *const () as libc::sighandler_t);
        }
        libc::signal(libc::SIGWINCH, on_winch as *const () as libc::sighandler_t);
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

/// Keys typed, read ahead by a helper thread.
#[derive(Default)]
pub struct ConsoleInput {
    state: Mutex<(VecDeque<u8>, bool)>,
    ready: Condvar,
}

impl ConsoleInput {
    /// Waits until a key arrives or `timeout` passes.
    pub fn wait(&self, timeout: Duration) {
        let Ok(g) = self.state.lock() else { return };
        if g.0.is_empty() && !g.1 {
            let _ = self.ready.wait_timeout(g, timeout);
        }
    }

    fn reader(self: Arc<Self>, mut src: File) {
        let mut buf = [0u8; 4096];
        loop {
            let r = src.read(&mut buf);
            let Ok(mut g) = self.state.lock() else { return };
            let done = match r {
                Ok(0) => true,
                Ok(n) => {
                    g.0.extend(&buf[..n]);
                    false
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => true,
            };
            g.1 |= done;
            drop(g);
            self.ready.notify_all();
            if done {
                return;
            }
        }
    }
}

/// The host terminal: stdin for keys, stdout for the screen.
pub struct HostConsole {
    input: Arc<ConsoleInput>,
    out: File,
    out_fd: i32,
    size: WinSize,
}

impl HostConsole {
    /// Starts the reader thread on stdin.
    pub fn new(input: Arc<ConsoleInput>) -> std::io::Result<HostConsole> {
        let inp: OwnedFd = std::io::stdin().as_fd().try_clone_to_owned()?;
        let shared = input.clone();
        std::thread::Builder::new()
            .name("wax-console".into())
            .spawn(move || shared.reader(File::from(inp)))?;
        let out = File::from(std::io::stdout().as_fd().try_clone_to_owned()?);
        let out_fd = out.as_raw_fd();
        Ok(HostConsole {
            input,
            out,
            out_fd,
            size: WinSize::default(),
        })
    }
}

impl Console for HostConsole {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, StreamError> {
        let mut g = self.input.state.lock().map_err(|_| StreamError::Io(5))?;
        if g.0.is_empty() {
            return if g.1 { Err(StreamError::Io(5)) } else { Ok(0) };
        }
        let n = buf.len().min(g.0.len());
        for (d, s) in buf.iter_mut().zip(g.0.drain(..n)) {
            *d = s;
        }
        Ok(n)
    }

    fn write(&mut self, buf: &[u8]) -> Result<usize, StreamError> {
        loop {
            match self.out.write(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Ok(n) => return Ok(n),
                Err(e) => return Err(StreamError::Io(e.raw_os_error().unwrap_or(5))),
            }
        }
    }

    fn winsize(&mut self) -> WinSize {
        if RESIZED.swap(false, Ordering::Relaxed) {
            let mut w = libc::winsize {
                ws_row: 0,
                ws_col: 0,
                ws_xpixel: 0,
                ws_ypixel: 0,
            };
            // SAFETY: TIOCGWINSZ writes one `struct winsize` into `w`.
            if unsafe { libc::ioctl(self.out_fd, libc::TIOCGWINSZ, &mut w) } == 0 {
                self.size = WinSize {
                    rows: w.ws_row,
                    cols: w.ws_col,
                    xpixel: w.ws_xpixel,
                    ypixel: w.ws_ypixel,
                };
            }
        }
        self.size
    }
}
