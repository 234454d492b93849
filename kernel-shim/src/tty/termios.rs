//! The settings a new terminal starts with (the flag bits and
//! control-character slots are in `abi/termios.rs`).

use crate::abi::termios::{cc, cflag, iflag, lflag, oflag};
use wax_devices::Termios;

/// Linux's `tty_std_termios`: 38400 baud 8N1, canonical mode with echo
/// and signals, ^C ^\ ^? ^U ^D ... as control characters.
pub fn standard() -> Termios {
    use cc::*;
    let mut c_cc = [0u8; 19];
    for (i, v) in [
        (VINTR, 3),
        (VQUIT, 0x1c),
        (VERASE, 0x7f),
        (VKILL, 0x15),
        (VEOF, 4),
        (VMIN, 1),
        (VSTART, 0x11),
        (VSTOP, 0x13),
        (VSUSP, 0x1a),
        (VREPRINT, 0x12),
        (VDISCARD, 0x0f),
        (VWERASE, 0x17),
        (VLNEXT, 0x16),
    ] {
        c_cc[i] = v;
    }
    Termios {
        c_iflag: iflag::ICRNL | iflag::IXON,
        c_oflag: oflag::OPOST | oflag::ONLCR,
        c_cflag: cflag::B38400 | cflag::CS8 | cflag::CREAD | cflag::HUPCL,
        c_lflag: lflag::ISIG
            | lflag::ICANON
            | lflag::ECHO
            | lflag::ECHOE
            | lflag::ECHOK
            | lflag::ECHOCTL
            | lflag::ECHOKE
            | lflag::IEXTEN,
        c_line: 0,
        c_cc,
    }
}

/// What a terminal emulator's pty starts with: the standard settings
/// plus IUTF8 (the host side speaks UTF-8, so erase removes whole
/// characters).
pub fn console() -> Termios {
    let mut t = standard();
    t.c_iflag |= iflag::IUTF8 | iflag::IMAXBEL;
    t
}
