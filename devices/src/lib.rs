//! Host I/O as the kernel sees it: clocks, entropy and character streams.
//!
//! The kernel never touches the host directly. Each front end (the CLI,
//! Node, a browser Worker) implements these traits at its edge and hands the
//! objects to the kernel, so the same kernel runs everywhere and tests can
//! supply deterministic fakes. Nothing here may block on guest-visible
//! waits: a stream with no data says [`StreamError::WouldBlock`] and the
//! kernel parks the reading thread.

pub mod block;
pub mod net;
pub mod wisp;

/// A point in time or a duration: seconds and nanoseconds (0..1e9).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: u32,
}

impl Timespec {
    /// Total nanoseconds (saturating).
    pub fn as_nanos(self) -> i128 {
        i128::from(self.sec) * 1_000_000_000 + i128::from(self.nsec)
    }

    /// The time `nanos` nanoseconds after the epoch of the clock.
    pub fn from_nanos(nanos: i128) -> Timespec {
        Timespec {
            sec: nanos.div_euclid(1_000_000_000) as i64,
            nsec: nanos.rem_euclid(1_000_000_000) as u32,
        }
    }
}

/// The two clocks Linux programs need.
pub trait Clock {
    /// Wall-clock time since the Unix epoch (CLOCK_REALTIME).
    fn realtime(&self) -> Timespec;
    /// A clock that never goes backwards, from an arbitrary start
    /// (CLOCK_MONOTONIC).
    fn monotonic(&self) -> Timespec;
}

/// A source of random bytes (getrandom, AT_RANDOM, /dev/urandom).
pub trait Entropy {
    fn fill(&mut self, buf: &mut [u8]);
}

/// Why a stream operation did not complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamError {
    /// No data yet (reads) or no room (writes); try again later.
    WouldBlock,
    /// The host failed; the value is a Linux errno (EIO, EPIPE, ...).
    Io(i32),
}

/// Terminal settings in the Linux kernel's `struct termios` layout (the
/// one TCGETS/TCSETS pass; identical for i386 and x86-64).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Termios {
    pub c_iflag: u32,
    pub c_oflag: u32,
    pub c_cflag: u32,
    pub c_lflag: u32,
    pub c_line: u8,
    pub c_cc: [u8; 19],
}

impl Termios {
    /// Size of the kernel structure in bytes.
    pub const SIZE: usize = 36;

    /// The structure's bytes, as copied to the guest.
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        for (i, v) in [self.c_iflag, self.c_oflag, self.c_cflag, self.c_lflag]
            .iter()
            .enumerate()
        {
            b[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
        }
        b[16] = self.c_line;
        b[17..36].copy_from_slice(&self.c_cc);
        b
    }

    /// Parses the structure from guest bytes.
    pub fn from_bytes(b: &[u8; Self::SIZE]) -> Termios {
        let word = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let mut c_cc = [0u8; 19];
        c_cc.copy_from_slice(&b[17..36]);
        Termios {
            c_iflag: word(0),
            c_oflag: word(4),
            c_cflag: word(8),
            c_lflag: word(12),
            c_line: b[16],
            c_cc,
        }
    }
}

/// Window size (`struct winsize`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WinSize {
    pub rows: u16,
    pub cols: u16,
    pub xpixel: u16,
    pub ypixel: u16,
}

/// When TCSETS* applies new settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetWhen {
    /// TCSETS: now.
    Now,
    /// TCSETSW: after output drains.
    Drain,
    /// TCSETSF: after output drains, discarding pending input.
    Flush,
}

/// The terminal side of a stream that is a tty.
pub trait Terminal {
    fn termios(&mut self) -> Result<Termios, StreamError>;
    fn set_termios(&mut self, when: SetWhen, t: &Termios) -> Result<(), StreamError>;
    fn winsize(&mut self) -> Result<WinSize, StreamError>;
    /// The foreground process group the host terminal reports.
    fn foreground_pgrp(&mut self) -> Result<i32, StreamError>;
}

/// A byte stream: the console, a host pipe, a serial line.
pub trait Stream {
    /// Reads available bytes; `Ok(0)` is end of file.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, StreamError>;
    /// Writes bytes; returns how many were taken.
    fn write(&mut self, buf: &[u8]) -> Result<usize, StreamError>;
    /// Whether a read would return data or end of file now.
    fn readable(&mut self) -> bool {
        true
    }
    /// The terminal interface, if this stream is a tty.
    fn terminal(&mut self) -> Option<&mut dyn Terminal> {
        None
    }
    /// What the host file behind the stream is, so `fstat` shows the
    /// guest the same file type the host has (stdio buffering depends on
    /// it).
    fn kind(&mut self) -> StreamKind {
        if self.terminal().is_some() {
            StreamKind::Terminal
        } else {
            StreamKind::Pipe
        }
    }
}

/// The type of the host file behind a [`Stream`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamKind {
    Terminal,
    Pipe,
    /// A regular file of this many bytes.
    File {
        size: u64,
    },
    /// A character device that is not a terminal (/dev/null).
    CharDevice,
    Socket,
}

/// The host side of the guest's console: the terminal a person types
/// into (the CLI's host terminal in raw mode, xterm.js in a browser).
///
/// The kernel runs the line discipline (echo, line editing, ^C → SIGINT)
/// itself; the host only moves bytes and reports the window size. Nothing
/// here blocks: no input is `Ok(0)`.
pub trait Console {
    /// Takes the bytes typed since the last call (`Ok(0)`: none yet).
    /// `Err` means the terminal is gone (hang-up).
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, StreamError>;
    /// Shows output; returns how many bytes were taken.
    fn write(&mut self, buf: &[u8]) -> Result<usize, StreamError>;
    /// The current window size; the kernel compares it with the last one
    /// it saw and sends SIGWINCH to the foreground group on a change.
    fn winsize(&mut self) -> WinSize;
}

/// A clock that only moves when told to (tests, deterministic replays).
#[derive(Clone, Debug, Default)]
pub struct FixedClock {
    pub realtime: Timespec,
    pub monotonic: Timespec,
}

impl Clock for FixedClock {
    fn realtime(&self) -> Timespec {
        self.realtime
    }
    fn monotonic(&self) -> Timespec {
        self.monotonic
    }
}

/// A deterministic entropy source (xorshift64*); for tests and replays
/// only, never for anything a guest relies on being secret.
#[derive(Clone, Debug)]
pub struct SeededEntropy(pub u64);

impl Entropy for SeededEntropy {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            *b = (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8;
        }
    }
}

/// A stream that collects writes in memory and reads from a preset buffer.
#[derive(Clone, Debug, Default)]
pub struct MemStream {
    pub input: std::collections::VecDeque<u8>,
    pub output: Vec<u8>,
    /// Reads return end of file once `input` is empty (otherwise they
    /// would block).
    pub eof: bool,
}

impl Stream for MemStream {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, StreamError> {
        if self.input.is_empty() {
            return if self.eof {
                Ok(0)
            } else {
                Err(StreamError::WouldBlock)
            };
        }
        let n = buf.len().min(self.input.len());
        for (d, s) in buf.iter_mut().zip(self.input.drain(..n)) {
            *d = s;
        }
        Ok(n)
    }
    fn write(&mut self, buf: &[u8]) -> Result<usize, StreamError> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn readable(&mut self) -> bool {
        self.eof || !self.input.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn termios_round_trips() {
        let t = Termios {
            c_iflag: 1,
            c_oflag: 2,
            c_cflag: 3,
            c_lflag: 0x8a3b,
            c_line: 0,
            c_cc: [7; 19],
        };
        assert_eq!(Termios::from_bytes(&t.to_bytes()), t);
    }

    #[test]
    fn mem_stream_blocks_until_eof() {
        let mut s = MemStream::default();
        let mut b = [0u8; 4];
        assert_eq!(s.read(&mut b), Err(StreamError::WouldBlock));
        s.input.extend(b"hi");
        assert_eq!(s.read(&mut b), Ok(2));
        s.eof = true;
        assert_eq!(s.read(&mut b), Ok(0));
    }

    #[test]
    fn timespec_nanos() {
        let t = Timespec::from_nanos(-1);
        assert_eq!((t.sec, t.nsec), (-1, 999_999_999));
        assert_eq!(t.as_nanos(), -1);
    }
}
