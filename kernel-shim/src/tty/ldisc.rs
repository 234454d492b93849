//! The line discipline (Linux's N_TTY): what a terminal does between the
//! keyboard and the reading program, and between the writing program and
//! the screen.
//!
//! Input bytes go through [`Ldisc::receive`]: input translations (ICRNL,
//! INLCR, IGNCR, ISTRIP), the signal characters under ISIG (^C ^\ ^Z
//! become SIGINT/SIGQUIT/SIGTSTP for the foreground group, queued in
//! `signals` for the kernel to send), flow control (IXON), and then either
//! canonical line editing (ICANON: erase, word erase, kill, reprint,
//! literal next, EOF; a read returns at most one line) or raw bytes whose
//! reads follow VMIN. Echo (ECHO, ECHOE, ECHOK, ECHOKE, ECHOCTL, ECHONL)
//! goes out through the same output processing (OPOST, ONLCR, OCRNL,
//! ONOCR, ONLRET, XTABS) as program output, into `output`, which the
//! driver (the host console or a pty master) drains.
//!
//! Simplifications: VTIME is not timed (a read with data returns it at
//! once; a read with VMIN=0, VTIME>0 and no data waits for data instead
//! of timing out); parity, break and VDISCARD are ignored; a character is
//! one column wide for erase.

use crate::abi::termios::{cc::*, iflag::*, lflag::*, oflag::*};
use crate::signals::{SIGINT, SIGQUIT, SIGTSTP};
use std::collections::VecDeque;
use wax_devices::Termios;

/// Longest canonical line (Linux's N_TTY_BUF_SIZE - 1); further
/// characters are dropped until a line ends.
const MAX_LINE: usize = 4095;
/// Raw input held before new bytes are dropped.
const MAX_RAW: usize = 64 << 10;

/// What a read would do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// `n` bytes (0: end of file in canonical mode, or VMIN=0 VTIME=0).
    Data(usize),
    /// Nothing to return yet.
    Wait,
}

/// A completed canonical line. One ended by VEOF has no delimiter (an
/// empty one reads as end of file); Linux keeps a NUL in its place, which
/// a switch to non-canonical mode hands to raw reads.
struct Line {
    text: Vec<u8>,
    eof: bool,
}

/// How much an erase character removes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Erase {
    Char,
    Word,
    Line,
}

pub struct Ldisc {
    pub termios: Termios,
    /// Canonical mode: complete lines.
    lines: VecDeque<Line>,
    /// Canonical mode: the line being edited.
    line: Vec<u8>,
    /// Non-canonical input.
    raw: VecDeque<u8>,
    /// The previous byte was VLNEXT: take the next one literally.
    lnext: bool,
    /// The output column, for tab expansion and erasing tabs.
    column: u32,
    /// The column where the line being edited started.
    canon_column: u32,
    /// Output suspended by VSTOP (^S).
    pub stopped: bool,
    /// Processed output for the driver.
    pub output: VecDeque<u8>,
    /// Signals for the foreground process group.
    pub signals: Vec<u32>,
}

impl Ldisc {
    pub fn new(termios: Termios) -> Ldisc {
        Ldisc {
            termios,
            lines: VecDeque::new(),
            line: Vec::new(),
            raw: VecDeque::new(),
            lnext: false,
            column: 0,
            canon_column: 0,
            stopped: false,
            output: VecDeque::new(),
            signals: Vec::new(),
        }
    }

    fn l(&self, bit: u32) -> bool {
        self.termios.c_lflag & bit != 0
    }

    fn i(&self, bit: u32) -> bool {
        self.termios.c_iflag & bit != 0
    }

    fn o(&self, bit: u32) -> bool {
        self.termios.c_oflag & bit != 0
    }

    /// Whether `c` is the (enabled) control character in slot `slot`.
    fn is(&self, c: u8, slot: usize) -> bool {
        let v = self.termios.c_cc[slot];
        v != 0 && c == v
    }

    fn canonical(&self) -> bool {
        self.l(ICANON)
    }

    /// New settings; switching ICANON moves pending input between the
    /// line buffers and the raw queue, as Linux does.
    pub fn set_termios(&mut self, t: Termios) {
        let was = self.canonical();
        self.termios = t;
        match (was, self.canonical()) {
            (true, false) => {
                for l in self.lines.drain(..) {
                    self.raw.extend(l.text);
                    if l.eof {
                        self.raw.push_back(0);
                    }
                }
                self.raw.extend(self.line.drain(..));
            }
            // Like Linux, input typed in raw mode becomes readable at
            // once, as one chunk, not a line to edit.
            (false, true) if !self.raw.is_empty() => {
                let text = self.raw.drain(..).collect();
                self.lines.push_back(Line { text, eof: false });
            }
            _ => {}
        }
        if !self.i(IXON) {
            self.stopped = false;
        }
    }

    /// Discards unread input (TCIFLUSH, signals without NOFLSH).
    pub fn flush_input(&mut self) {
        self.lines.clear();
        self.line.clear();
        self.raw.clear();
        self.lnext = false;
    }

    /// Bytes a read could take now (FIONREAD).
    pub fn available(&self) -> usize {
        if self.canonical() {
            self.lines.iter().map(|l| l.text.len()).sum()
        } else {
            self.raw.len()
        }
    }

    /// Whether poll reports the terminal readable.
    pub fn readable(&self) -> bool {
        if self.canonical() {
            return !self.lines.is_empty();
        }
        let (vmin, vtime) = (self.termios.c_cc[VMIN], self.termios.c_cc[VTIME]);
        let need = if vtime == 0 && vmin > 0 { vmin } else { 1 };
        self.raw.len() >= usize::from(need)
    }

    /// Takes input for a read of `buf.len()` bytes.
    pub fn read(&mut self, buf: &mut [u8]) -> ReadOutcome {
        if self.canonical() {
            return self.read_line(buf);
        }
        let (vmin, vtime) = (self.termios.c_cc[VMIN], self.termios.c_cc[VTIME]);
        if self.raw.is_empty() {
            return if vmin == 0 && vtime == 0 {
                ReadOutcome::Data(0)
            } else {
                ReadOutcome::Wait
            };
        }
        let need = usize::from(vmin).min(buf.len());
        if vtime == 0 && self.raw.len() < need {
            return ReadOutcome::Wait;
        }
        let n = buf.len().min(self.raw.len());
        for (d, s) in buf.iter_mut().zip(self.raw.drain(..n)) {
            *d = s;
        }
        ReadOutcome::Data(n)
    }

    fn read_line(&mut self, buf: &mut [u8]) -> ReadOutcome {
        let Some(Line { text: front, .. }) = self.lines.front_mut() else {
            return ReadOutcome::Wait;
        };
        if front.is_empty() {
            self.lines.pop_front();
            return ReadOutcome::Data(0);
        }
        let n = buf.len().min(front.len());
        buf[..n].copy_from_slice(&front[..n]);
        front.drain(..n);
        if front.is_empty() {
            self.lines.pop_front();
        }
        ReadOutcome::Data(n)
    }

    /// Processes typed bytes.
    pub fn receive(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.receive_byte(b);
        }
    }

    fn receive_byte(&mut self, mut c: u8) {
        if self.i(ISTRIP) {
            c &= 0x7f;
        }
        if self.lnext {
            self.lnext = false;
            self.store(c);
            return;
        }
        if self.l(ISIG) && self.signal_char(c) {
            return;
        }
        if self.i(IXON) && self.flow_char(c) {
            return;
        }
        if c == b'\r' {
            if self.i(IGNCR) {
                return;
            }
            if self.i(ICRNL) {
                c = b'\n';
            }
        } else if c == b'\n' && self.i(INLCR) {
            c = b'\r';
        }
        if self.canonical() {
            self.receive_canonical(c);
        } else {
            self.store(c);
        }
    }

    /// ^C, ^\, ^Z: a signal, an input flush, and the echo (^C).
    fn signal_char(&mut self, c: u8) -> bool {
        let sig = if self.is(c, VINTR) {
            SIGINT
        } else if self.is(c, VQUIT) {
            SIGQUIT
        } else if self.is(c, VSUSP) {
            SIGTSTP
        } else {
            return false;
        };
        // Linux also drops output the driver has not sent yet; here the
        // console sends at once, and a pty master keeps what it has not
        // read (so echoes typed before the ^C are not lost).
        if !self.l(NOFLSH) {
            self.flush_input();
        }
        self.stopped = false;
        if self.l(ECHO) {
            self.echo(c);
        }
        self.signals.push(sig);
        true
    }

    /// ^S and ^Q under IXON (IXANY: any character restarts output).
    fn flow_char(&mut self, c: u8) -> bool {
        if self.is(c, VSTOP) {
            self.stopped = true;
            return true;
        }
        if self.is(c, VSTART) {
            self.stopped = false;
            return true;
        }
        if self.stopped && self.i(IXANY) {
            self.stopped = false;
        }
        false
    }

    fn receive_canonical(&mut self, c: u8) {
        let iexten = self.l(IEXTEN);
        if self.is(c, VERASE) {
            self.erase(Erase::Char, c);
        } else if self.is(c, VKILL) {
            self.erase(Erase::Line, c);
        } else if iexten && self.is(c, VWERASE) {
            self.erase(Erase::Word, c);
        } else if iexten && self.is(c, VLNEXT) {
            self.lnext = true;
            if self.l(ECHO) && self.l(ECHOCTL) {
                // Shown as "^" with the cursor on it until the next key.
                self.put(b'^');
                self.put(8);
            }
        } else if iexten && self.is(c, VREPRINT) {
            self.reprint(c);
        } else if self.is(c, VEOF) {
            self.end_line(None);
        } else if c == b'\n' || self.is(c, VEOL) || (iexten && self.is(c, VEOL2)) {
            if self.l(ECHO) || (c == b'\n' && self.l(ECHONL)) {
                self.echo_raw(c);
            }
            self.end_line(Some(c));
        } else {
            self.store(c);
        }
    }

    /// Adds a character to the line or the raw queue, with its echo.
    fn store(&mut self, c: u8) {
        if self.canonical() {
            if self.line.len() >= MAX_LINE {
                if self.i(IMAXBEL) && self.l(ECHO) {
                    self.put(7);
                }
                return;
            }
            if self.line.is_empty() {
                self.canon_column = self.column;
            }
            self.line.push(c);
        } else {
            if self.raw.len() >= MAX_RAW {
                return;
            }
            self.raw.push_back(c);
        }
        if self.l(ECHO) {
            if c == b'\n' {
                self.echo_raw(c);
            } else {
                self.echo(c);
            }
        }
    }

    /// Completes the line (with `delim`, or without for VEOF).
    fn end_line(&mut self, delim: Option<u8>) {
        let mut text = std::mem::take(&mut self.line);
        if let Some(d) = delim {
            text.push(d);
        }
        let eof = delim.is_none();
        self.lines.push_back(Line { text, eof });
        self.canon_column = self.column;
    }

    /// Echoes a character, control characters as ^X under ECHOCTL.
    fn echo(&mut self, c: u8) {
        if self.l(ECHOCTL) && is_ctl(c) {
            self.put(b'^');
            self.put(c ^ 0x40);
        } else {
            self.put(c);
        }
    }

    fn echo_raw(&mut self, c: u8) {
        self.put(c);
    }

    /// ^R: the line again on a new line.
    fn reprint(&mut self, c: u8) {
        if !self.l(ECHO) {
            return;
        }
        self.echo(c);
        self.put(b'\n');
        self.canon_column = self.column;
        let line = self.line.clone();
        for b in line {
            self.echo(b);
        }
    }

    fn erase(&mut self, kind: Erase, c: u8) {
        if self.line.is_empty() {
            return;
        }
        if !self.l(ECHO) {
            self.drop_chars(kind);
            return;
        }
        if kind == Erase::Line && !(self.l(ECHOK) && self.l(ECHOKE) && self.l(ECHOE)) {
            self.line.clear();
            self.echo(c);
            if self.l(ECHOK) {
                self.put(b'\n');
            }
            return;
        }
        if kind == Erase::Char && !self.l(ECHOE) {
            self.pop_char();
            self.echo(c);
            return;
        }
        let mut seen_word = false;
        while let Some(last) = self.line.last().copied() {
            if kind == Erase::Word {
                let word = last.is_ascii_alphanumeric() || last == b'_' || last >= 0x80;
                if word {
                    seen_word = true;
                } else if seen_word {
                    break;
                }
            }
            let gone = self.pop_char();
            self.rub_out(&gone);
            if kind == Erase::Char {
                break;
            }
        }
    }

    /// Removes characters without echo.
    fn drop_chars(&mut self, kind: Erase) {
        match kind {
            Erase::Char => {
                self.pop_char();
            }
            Erase::Line => self.line.clear(),
            Erase::Word => {
                let mut seen_word = false;
                while let Some(&last) = self.line.last() {
                    let word = last.is_ascii_alphanumeric() || last == b'_' || last >= 0x80;
                    if word {
                        seen_word = true;
                    } else if seen_word {
                        break;
                    }
                    self.pop_char();
                }
            }
        }
    }

    /// Removes the last character (a whole UTF-8 sequence under IUTF8).
    fn pop_char(&mut self) -> Vec<u8> {
        let mut gone = Vec::new();
        while let Some(b) = self.line.pop() {
            gone.insert(0, b);
            let continuation = b & 0xc0 == 0x80;
            if !(self.i(IUTF8) && continuation) || self.line.is_empty() {
                break;
            }
        }
        gone
    }

    /// Erases a removed character from the screen.
    fn rub_out(&mut self, gone: &[u8]) {
        let first = gone.first().copied().unwrap_or(0);
        let cols = if first == b'\t' {
            self.column.saturating_sub(self.column_of_line())
        } else if is_ctl(first) {
            if self.l(ECHOCTL) {
                2
            } else {
                0
            }
        } else {
            1
        };
        for _ in 0..cols {
            self.put_raw(8);
            self.put_raw(b' ');
            self.put_raw(8);
        }
        self.column = self.column.saturating_sub(cols);
    }

    /// The column after echoing the line as it is now.
    fn column_of_line(&self) -> u32 {
        let mut col = self.canon_column;
        for &b in &self.line {
            col = match b {
                b'\t' => (col | 7) + 1,
                b if is_ctl(b) => col + if self.l(ECHOCTL) { 2 } else { 0 },
                b if b & 0xc0 == 0x80 && self.i(IUTF8) => col,
                _ => col + 1,
            };
        }
        col
    }

    /// Program output through output processing.
    pub fn write(&mut self, data: &[u8]) {
        for &b in data {
            self.put(b);
        }
    }

    /// One byte through OPOST processing into `output`.
    fn put(&mut self, c: u8) {
        if !self.o(OPOST) {
            self.put_raw(c);
            return;
        }
        match c {
            b'\n' => {
                if self.o(ONLCR) {
                    self.put_raw(b'\r');
                    self.column = 0;
                }
                if self.o(ONLRET) {
                    self.column = 0;
                }
                self.put_raw(b'\n');
            }
            b'\r' => {
                if self.o(ONOCR) && self.column == 0 {
                    return;
                }
                if self.o(OCRNL) {
                    if self.o(ONLRET) {
                        self.column = 0;
                    }
                    self.put_raw(b'\n');
                    return;
                }
                self.column = 0;
                self.put_raw(b'\r');
            }
            b'\t' => {
                let spaces = 8 - (self.column & 7);
                if self.termios.c_oflag & TABDLY == XTABS {
                    for _ in 0..spaces {
                        self.output.push_back(b' ');
                    }
                } else {
                    self.output.push_back(b'\t');
                }
                self.column += spaces;
            }
            8 => {
                self.column = self.column.saturating_sub(1);
                self.output.push_back(8);
            }
            c => {
                let c = if self.o(OLCUC) {
                    c.to_ascii_uppercase()
                } else {
                    c
                };
                self.put_raw(c);
            }
        }
    }

    /// One byte into `output`, counting columns.
    fn put_raw(&mut self, c: u8) {
        let continuation = c & 0xc0 == 0x80 && self.i(IUTF8);
        if !is_ctl(c) && !continuation {
            self.column += 1;
        }
        self.output.push_back(c);
    }
}

/// Control characters as `iscntrl` sees them, except tab (echoed as is).
fn is_ctl(c: u8) -> bool {
    (c < 0x20 && c != b'\t') || c == 0x7f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tty::termios;

    fn ld() -> Ldisc {
        Ldisc::new(termios::console())
    }

    fn out(l: &mut Ldisc) -> Vec<u8> {
        l.output.drain(..).collect()
    }

    fn read_all(l: &mut Ldisc) -> (ReadOutcome, Vec<u8>) {
        let mut b = [0u8; 64];
        let r = l.read(&mut b);
        let n = if let ReadOutcome::Data(n) = r { n } else { 0 };
        (r, b[..n].to_vec())
    }

    #[test]
    fn canonical_line_with_erase_and_crlf() {
        let mut l = ld();
        l.receive(b"lx\x7fs\r");
        assert_eq!(out(&mut l), b"lx\x08 \x08s\r\n");
        assert_eq!(read_all(&mut l), (ReadOutcome::Data(3), b"ls\n".to_vec()));
        assert_eq!(l.read(&mut [0u8; 4]), ReadOutcome::Wait);
    }

    #[test]
    fn one_line_per_read_and_partial_reads() {
        let mut l = ld();
        l.receive(b"ab\ncd\n");
        let mut b = [0u8; 1];
        assert_eq!(l.read(&mut b), ReadOutcome::Data(1));
        assert_eq!(read_all(&mut l).1, b"b\n");
        assert_eq!(read_all(&mut l).1, b"cd\n");
    }

    #[test]
    fn eof_at_line_start_and_mid_line() {
        let mut l = ld();
        l.receive(b"ab\x04\x04");
        assert_eq!(read_all(&mut l), (ReadOutcome::Data(2), b"ab".to_vec()));
        assert_eq!(read_all(&mut l), (ReadOutcome::Data(0), Vec::new()));
        assert!(out(&mut l) == b"ab");
    }

    #[test]
    fn interrupt_flushes_echoes_and_signals() {
        let mut l = ld();
        l.receive(b"sleep\x03");
        assert_eq!(l.signals, vec![SIGINT]);
        assert_eq!(out(&mut l), b"sleep^C");
        assert_eq!(l.read(&mut [0u8; 4]), ReadOutcome::Wait);
        l.receive(b"\x1a\x1c");
        assert_eq!(l.signals, vec![SIGINT, SIGTSTP, SIGQUIT]);
    }

    #[test]
    fn word_erase_kill_and_utf8_erase() {
        let mut l = ld();
        l.receive("echo héé".as_bytes());
        out(&mut l);
        l.receive(b"\x7f");
        assert_eq!(out(&mut l), b"\x08 \x08");
        l.receive(b"\x17");
        assert_eq!(out(&mut l), b"\x08 \x08\x08 \x08");
        l.receive(b"\x15");
        assert_eq!(out(&mut l), b"\x08 \x08".repeat(5));
        l.receive(b"\n");
        assert_eq!(read_all(&mut l).1, b"\n");
    }

    #[test]
    fn raw_mode_vmin_and_no_echo() {
        let mut l = ld();
        let mut t = l.termios;
        t.c_lflag &= !(ICANON | ECHO);
        t.c_cc[VMIN] = 2;
        l.set_termios(t);
        l.receive(b"\r");
        assert!(!l.readable());
        assert_eq!(l.read(&mut [0u8; 4]), ReadOutcome::Wait);
        l.receive(b"q");
        assert!(l.readable());
        assert_eq!(read_all(&mut l).1, b"\nq");
        assert!(out(&mut l).is_empty());
        t.c_cc[VMIN] = 0;
        l.set_termios(t);
        assert_eq!(read_all(&mut l).0, ReadOutcome::Data(0));
    }

    #[test]
    fn switching_modes_keeps_typed_input() {
        let mut l = ld();
        l.receive(b"ab");
        let mut t = l.termios;
        t.c_lflag &= !ICANON;
        l.set_termios(t);
        l.receive(
            b"c
d",
        );
        t.c_lflag |= ICANON;
        l.set_termios(t);
        assert_eq!(read_all(&mut l).1, b"abc\nd");
        assert_eq!(l.read(&mut [0u8; 4]), ReadOutcome::Wait);
    }

    /// What Linux does (checked on a host pty): each VEOF still unread
    /// when ICANON goes off reads as a NUL byte.
    #[test]
    fn pending_eofs_read_as_nul_bytes_after_leaving_canonical_mode() {
        let mut l = ld();
        l.receive(b"ab\x04\x04cd\n");
        let mut t = l.termios;
        t.c_lflag &= !ICANON;
        t.c_cc[VMIN] = 0;
        l.set_termios(t);
        assert_eq!(read_all(&mut l).1, b"ab\0\0cd\n");
    }

    #[test]
    fn output_processing_and_tabs() {
        let mut l = ld();
        l.write(b"a\tb\n");
        assert_eq!(out(&mut l), b"a\tb\r\n");
        l.termios.c_oflag |= XTABS;
        l.write(b"ab\t|");
        assert_eq!(out(&mut l), b"ab      |");
        l.termios.c_oflag &= !OPOST;
        l.write(b"\n");
        assert_eq!(out(&mut l), b"\n");
    }

    #[test]
    fn tab_erase_backs_up_to_the_tab_stop() {
        let mut l = ld();
        l.write(b"$ ");
        out(&mut l);
        l.receive(b"a\t\x7f");
        let o = out(&mut l);
        assert_eq!(&o[..2], b"a\t");
        // The tab went from column 3 to 8: five columns to erase.
        assert_eq!(&o[2..], b"\x08 \x08".repeat(5));
    }

    #[test]
    fn literal_next_and_flow_control() {
        let mut l = ld();
        l.receive(b"\x16\x03\x13x\x11\n");
        assert!(l.signals.is_empty());
        assert!(!l.stopped);
        assert_eq!(read_all(&mut l).1, b"\x03x\n");
        l.receive(b"\x13");
        assert!(l.stopped);
    }
}
