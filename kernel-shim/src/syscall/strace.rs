//! `--strace`: one strace-like line per system call, through `tracing`
//! (target "strace"), e.g.
//! `openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3`.

use super::table::Row;
use super::Args;
use crate::abi::errno::Errno;
use crate::abi::oflag;
use crate::kernel::Kernel;
use crate::tasks::process::Wait;
use wax_cpu::GuestAddr;

/// How an argument is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum A {
    /// Signed decimal.
    I,
    /// Unsigned decimal.
    U,
    /// Hexadecimal.
    X,
    Fd,
    /// A directory descriptor (AT_FDCWD).
    AtFd,
    Path,
    /// A buffer the call reads; its length is argument n.
    InBuf(usize),
    /// A buffer the call fills; its length is the result.
    OutBuf,
    Ptr,
    OFlags,
    Mode,
    Whence,
    Prot,
    MapFlags,
    Sig,
    Clock,
    Ioctl,
    Fcntl,
    Futex,
    /// socketcall's call number, shown by name.
    SockCall,
}

/// Bytes of a buffer shown before "...".
const SHOWN: usize = 32;

pub fn log(k: &mut Kernel, row: &Row, args: &Args, ret: Option<u32>) {
    let shown = format_args(k, row, args, ret);
    let line = match ret {
        None => format!("{}({}) = ?", row.name, shown),
        Some(r) => format!("{}({}) = {}", row.name, shown, format_ret(row.name, r)),
    };
    tracing::info!(target: "strace", "{line}");
}

pub fn log_blocked(k: &mut Kernel, row: &Row, args: &Args, w: Wait) {
    let shown = format_args(k, row, args, None);
    let what = match w {
        Wait::Readable { .. } => "<waiting for input>",
        _ => "<sleeping>",
    };
    tracing::info!(target: "strace", "{}({}) {what}", row.name, shown);
}

pub fn log_unknown(nr: u32, name: &str, args: &Args) {
    tracing::info!(
        target: "strace",
        "{name}#{nr}({:#x}, {:#x}, {:#x}, ...) = -1 ENOSYS (Function not implemented)",
        args[0],
        args[1],
        args[2]
    );
}

fn format_ret(name: &str, r: u32) -> String {
    if let Some(e) = Errno::from_return(r) {
        return format!("-1 {} ({})", e.name(), e.text());
    }
    match name {
        "brk" | "mmap" | "mmap2" | "mremap" => format!("{r:#x}"),
        _ => (r as i32).to_string(),
    }
}

fn format_args(k: &mut Kernel, row: &Row, args: &Args, ret: Option<u32>) -> String {
    row.args
        .iter()
        .enumerate()
        .map(|(i, a)| format_arg(k, *a, args[i], args, ret))
        .collect::<Vec<_>>()
        .join(", ")
}

fn format_arg(k: &mut Kernel, a: A, v: u32, args: &Args, ret: Option<u32>) -> String {
    match a {
        A::I | A::Fd => (v as i32).to_string(),
        A::U => v.to_string(),
        A::X | A::Ptr if v == 0 => "NULL".into(),
        A::X | A::Ptr => format!("{v:#x}"),
        A::AtFd if v as i32 == -100 => "AT_FDCWD".into(),
        A::AtFd => (v as i32).to_string(),
        A::Path => match k.mem().read_cstr(GuestAddr(v), 4096) {
            Ok(Some(s)) => quote(&s, usize::MAX),
            _ => format!("{v:#x}"),
        },
        A::InBuf(n) => buffer(k, v, args[n] as usize),
        A::OutBuf => match ret.filter(|r| Errno::from_return(*r).is_none()) {
            Some(r) => buffer(k, v, r as usize),
            None => format!("{v:#x}"),
        },
        A::OFlags => open_flags(v),
        A::SockCall => super::net::socketcall_name(v).to_string(),
        A::Mode => format!("{v:#o}"),
        A::Whence => match v {
            0 => "SEEK_SET".into(),
            1 => "SEEK_CUR".into(),
            2 => "SEEK_END".into(),
            _ => v.to_string(),
        },
        A::Prot => bits(
            v,
            &[(1, "PROT_READ"), (2, "PROT_WRITE"), (4, "PROT_EXEC")],
            "PROT_NONE",
        ),
        A::MapFlags => bits(
            v,
            &[
                (1, "MAP_SHARED"),
                (2, "MAP_PRIVATE"),
                (0x10, "MAP_FIXED"),
                (0x20, "MAP_ANONYMOUS"),
                (0x100, "MAP_GROWSDOWN"),
                (0x4000, "MAP_NORESERVE"),
                (0x100000, "MAP_FIXED_NOREPLACE"),
            ],
            "0",
        ),
        A::Sig => crate::signals::name(v),
        A::Clock => match v {
            0 => "CLOCK_REALTIME".into(),
            1 => "CLOCK_MONOTONIC".into(),
            2 => "CLOCK_PROCESS_CPUTIME_ID".into(),
            3 => "CLOCK_THREAD_CPUTIME_ID".into(),
            4 => "CLOCK_MONOTONIC_RAW".into(),
            5 => "CLOCK_REALTIME_COARSE".into(),
            6 => "CLOCK_MONOTONIC_COARSE".into(),
            7 => "CLOCK_BOOTTIME".into(),
            _ => v.to_string(),
        },
        A::Ioctl => match v {
            0x5401 => "TCGETS".into(),
            0x5402 => "TCSETS".into(),
            0x5403 => "TCSETSW".into(),
            0x5404 => "TCSETSF".into(),
            0x540f => "TIOCGPGRP".into(),
            0x5413 => "TIOCGWINSZ".into(),
            0x541b => "FIONREAD".into(),
            _ => format!("{v:#x}"),
        },
        A::Fcntl => match v {
            0 => "F_DUPFD".into(),
            1 => "F_GETFD".into(),
            2 => "F_SETFD".into(),
            3 => "F_GETFL".into(),
            4 => "F_SETFL".into(),
            1030 => "F_DUPFD_CLOEXEC".into(),
            _ => v.to_string(),
        },
        A::Futex => {
            let base = match v & 0x7f {
                0 => "FUTEX_WAIT".to_string(),
                1 => "FUTEX_WAKE".to_string(),
                9 => "FUTEX_WAIT_BITSET".to_string(),
                10 => "FUTEX_WAKE_BITSET".to_string(),
                n => n.to_string(),
            };
            if v & 128 != 0 {
                base + "_PRIVATE"
            } else {
                base
            }
        }
    }
}

fn bits(v: u32, names: &[(u32, &str)], zero: &str) -> String {
    if v == 0 {
        return zero.into();
    }
    let mut parts: Vec<String> = names
        .iter()
        .filter(|(b, _)| v & b != 0)
        .map(|(_, n)| n.to_string())
        .collect();
    let rest = names.iter().fold(v, |r, (b, _)| r & !b);
    if rest != 0 {
        parts.push(format!("{rest:#x}"));
    }
    parts.join("|")
}

fn open_flags(v: u32) -> String {
    let acc = match v & oflag::O_ACCMODE {
        oflag::O_RDONLY => "O_RDONLY",
        oflag::O_WRONLY => "O_WRONLY",
        _ => "O_RDWR",
    };
    let rest = bits(
        v & !oflag::O_ACCMODE,
        &[
            (oflag::O_CREAT, "O_CREAT"),
            (oflag::O_EXCL, "O_EXCL"),
            (oflag::O_NOCTTY, "O_NOCTTY"),
            (oflag::O_TRUNC, "O_TRUNC"),
            (oflag::O_APPEND, "O_APPEND"),
            (oflag::O_NONBLOCK, "O_NONBLOCK"),
            (oflag::O_LARGEFILE, "O_LARGEFILE"),
            (oflag::O_DIRECTORY, "O_DIRECTORY"),
            (oflag::O_NOFOLLOW, "O_NOFOLLOW"),
            (oflag::O_CLOEXEC, "O_CLOEXEC"),
            (oflag::O_PATH, "O_PATH"),
        ],
        "",
    );
    if rest.is_empty() {
        acc.into()
    } else {
        format!("{acc}|{rest}")
    }
}

fn buffer(k: &mut Kernel, addr: u32, len: usize) -> String {
    let n = len.min(SHOWN);
    let mut b = vec![0u8; n];
    if k.mem().read_bytes(GuestAddr(addr), &mut b).is_err() {
        return format!("{addr:#x}");
    }
    let mut s = quote(&b, n);
    if len > SHOWN {
        s.push_str("...");
    }
    s
}

/// A C-style quoted string.
pub fn quote(b: &[u8], max: usize) -> String {
    let mut s = String::from("\"");
    for &c in b.iter().take(max) {
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\r' => s.push_str("\\r"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_flags() {
        assert_eq!(
            open_flags(oflag::O_RDONLY | oflag::O_CLOEXEC),
            "O_RDONLY|O_CLOEXEC"
        );
        assert_eq!(open_flags(0o101), "O_WRONLY|O_CREAT");
        assert_eq!(
            bits(3, &[(1, "PROT_READ"), (2, "PROT_WRITE")], "PROT_NONE"),
            "PROT_READ|PROT_WRITE"
        );
        assert_eq!(bits(0, &[(1, "A")], "PROT_NONE"), "PROT_NONE");
        assert_eq!(bits(5, &[(1, "A")], ""), "A|0x4");
        assert_eq!(
            format_ret("read", Errno::ENOENT.as_return()),
            "-1 ENOENT (No such file or directory)"
        );
        assert_eq!(format_ret("mmap2", 0xf7ff_0000), "0xf7ff0000");
        assert_eq!(quote(b"a\"\n\x01", 10), "\"a\\\"\\n\\x01\"");
    }
}
