//! execve: replacing a process's program.
//!
//! The new image is built completely in a fresh address space before the
//! old one is touched, so a failed exec (bad ELF, missing interpreter,
//! out of memory) returns an errno to the unchanged caller. Committing
//! then ends the other threads, swaps the address space in, closes
//! close-on-exec descriptors, resets caught signals to their default
//! (ignored ones stay ignored), clears the alternate stack, TLS and timers
//! and starts the FPU from FNINIT state (MXCSR 0x1f80). A vfork parent is
//! released. `#!` scripts run their interpreter with the optional
//! argument and the script path, up to 4 levels deep (ELOOP beyond), as
//! Linux's binfmt_script does.

use crate::abi::errno::{Errno, KResult};
use crate::abi::mode;
use crate::kernel::{comm_of, ExecError, Kernel, Program};
use crate::signals::{SigAction, SIG_IGN};
use crate::tasks::process::ThreadState;
use crate::vfs::{FileHandle, Location, OpenMode, Resolve};
use wax_cpu::state::reg;
use wax_cpu::{CpuState, DecodeCache};

/// Linux's BINPRM_MAX_RECURSION.
const MAX_INTERP_DEPTH: usize = 4;
/// Bytes of a `#!` line looked at (BINPRM_BUF_SIZE).
const BINPRM_BUF_SIZE: usize = 256;

/// What to execute: a path from a starting directory, or an open
/// file's location (execveat with AT_EMPTY_PATH).
pub struct ExecRequest {
    pub start: Location,
    pub path: Vec<u8>,
    pub argv: Vec<Vec<u8>>,
    pub envp: Vec<Vec<u8>>,
}

impl Kernel {
    /// execve for the current thread; on success the thread runs the new
    /// program when `run` continues.
    pub(crate) fn do_execve(&mut self, req: ExecRequest) -> KResult<()> {
        let mut found = self.find_program(&req.start, req.path.clone(), req.argv)?;
        let prog = Program {
            file: found.file.as_mut(),
            size: found.size,
            exe_path: found.exe,
            argv: found.argv,
            envp: req.envp,
            execfn: req.path,
            cwd: Vec::new(),
        };
        self.exec_image(prog)
    }

    /// Finds the ELF file to load for `path`, following `#!` lines (each
    /// rewrites argv: interpreter, its optional argument, the script).
    pub(crate) fn find_program(
        &mut self,
        start: &Location,
        mut path: Vec<u8>,
        mut argv: Vec<Vec<u8>>,
    ) -> KResult<Found> {
        for _ in 0..=MAX_INTERP_DEPTH {
            let loc = self.vfs.resolve(start, &path, Resolve::Follow)?;
            let (m, ino) = self.vfs.node(&loc);
            let attr = self.vfs.fs_query(m).getattr(ino)?;
            if attr.mode & mode::S_IFMT != mode::S_IFREG || attr.mode & 0o111 == 0 {
                return Err(Errno::EACCES);
            }
            let how = OpenMode {
                read: true,
                ..OpenMode::default()
            };
            let mut file = self.vfs.fs_query(m).open(ino, how)?;
            match script_interpreter(file.as_mut(), attr.size)? {
                Some((interp, arg)) => {
                    argv = script_argv(interp.clone(), arg, path, argv);
                    path = interp;
                }
                None => {
                    return Ok(Found {
                        file,
                        size: attr.size,
                        exe: loc.path(),
                        argv,
                    })
                }
            }
        }
        Err(Errno::ELOOP)
    }

    /// Loads `prog` into a new address space and commits to it.
    fn exec_image(&mut self, prog: Program<'_>) -> KResult<()> {
        let mut space = self.machine.new_space().map_err(|_| Errno::ENOMEM)?;
        let (entry, sp, exe, brk) = match self.load(&mut space, prog) {
            Ok(v) => v,
            Err(e) => {
                self.machine.free_space(space);
                return Err(exec_errno(&e));
            }
        };
        let t = self.current();
        let p = self.tasks.thread(t).process;
        for other in self.tasks.threads_of(p) {
            if other != t {
                self.tasks.thread_mut(other).state = ThreadState::Exited;
            }
        }
        self.end_vfork(p);
        self.sync_shared(p);
        let proc = self.tasks.proc_mut(p);
        let old = std::mem::replace(&mut proc.space, space);
        proc.cache = DecodeCache::new();
        proc.mm = crate::memory::mm::Mm {
            brk_start: brk,
            brk,
            ..Default::default()
        };
        proc.fds.close_on_exec();
        for a in proc.actions.iter_mut() {
            if a.handler != SIG_IGN {
                *a = SigAction::default();
            } else {
                a.flags = 0;
                a.mask = 0;
            }
        }
        proc.timers.clear();
        proc.did_exec = true;
        proc.exe = exe;
        let comm = comm_of(&proc.exe);
        self.machine.free_space(old);
        let pid = self.tasks.proc(p).pid;
        let th = self.tasks.thread_mut(t);
        th.tid = pid;
        th.comm = comm;
        th.altstack = Default::default();
        th.clear_child_tid = 0;
        th.robust_list = (0, 0);
        th.saved_mask = None;
        let mut gpr = [0; 8];
        gpr[reg::ESP] = sp;
        *self.machine.cpu() = CpuState {
            eip: entry,
            gpr,
            ..CpuState::default()
        };
        crate::signals::frame::reset_fpu(self.machine.cpu());
        self.shown = None;
        self.show_process(p);
        Ok(())
    }
}

/// A `#!` line: the interpreter and its optional argument.
pub type Shebang = (Vec<u8>, Option<Vec<u8>>);

/// An executable found by [`Kernel::find_program`].
pub struct Found {
    pub file: Box<dyn FileHandle>,
    pub size: u64,
    /// Its guest path (/proc/self/exe).
    pub exe: Vec<u8>,
    pub argv: Vec<Vec<u8>>,
}

/// The `#!` line of a file, if it has one.
pub fn script_interpreter(f: &mut dyn FileHandle, size: u64) -> KResult<Option<Shebang>> {
    let mut head = vec![0u8; size.min(BINPRM_BUF_SIZE as u64) as usize];
    let n = f.read_at(0, &mut head)?;
    head.truncate(n);
    Ok(parse_shebang(&head))
}

/// argv for a script: interpreter, optional argument, the script's path,
/// then the original arguments after argv[0].
pub fn script_argv(
    interp: Vec<u8>,
    arg: Option<Vec<u8>>,
    script: Vec<u8>,
    argv: Vec<Vec<u8>>,
) -> Vec<Vec<u8>> {
    let mut next = vec![interp];
    next.extend(arg);
    next.push(script);
    next.extend(argv.into_iter().skip(1));
    next
}

/// The errno execve returns for a failed load.
fn exec_errno(e: &ExecError) -> Errno {
    match e {
        ExecError::Elf(_) => Errno::ENOEXEC,
        ExecError::Interp { errno, .. } => *errno,
        ExecError::BadInterp { .. } => Errno::ENOEXEC,
        ExecError::NoMemory => Errno::ENOMEM,
    }
}

/// A `#!interpreter [argument]` line: the interpreter and the optional
/// single argument (the rest of the line, trimmed, as Linux passes it).
pub fn parse_shebang(head: &[u8]) -> Option<Shebang> {
    let rest = head.strip_prefix(b"#!")?;
    let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    let line = &rest[..end];
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let line = trim(line, blank);
    if line.is_empty() {
        return None;
    }
    let split = line.iter().position(blank).unwrap_or(line.len());
    let interp = line[..split].to_vec();
    let arg = trim(&line[split..], blank);
    Some((interp, (!arg.is_empty()).then(|| arg.to_vec())))
}

fn trim(s: &[u8], blank: impl Fn(&u8) -> bool + Copy) -> &[u8] {
    let start = s.iter().position(|b| !blank(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !blank(b)).map_or(start, |e| e + 1);
    &s[start..end.max(start)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebang_lines() {
        assert_eq!(
            parse_shebang(b"#!/bin/sh\necho"),
            Some((b"/bin/sh".to_vec(), None))
        );
        assert_eq!(
            parse_shebang(b"#! /usr/bin/env  python3 -u \n"),
            Some((b"/usr/bin/env".to_vec(), Some(b"python3 -u".to_vec())))
        );
        assert_eq!(parse_shebang(b"#!\n"), None);
        assert_eq!(parse_shebang(b"\x7fELF"), None);
    }

    /// A script larger than 4 GiB (a 32-bit usize on wasm32) still has
    /// its whole `#!` line read.
    #[test]
    fn shebang_of_a_huge_script() {
        use crate::vfs::tmpfs::{TmpFs, Usage};
        use crate::vfs::{FileSystem, NewNode};
        let mut fs = TmpFs::new(1, Default::default(), Usage::new(1 << 20), 0o1777);
        let node = NewNode {
            mode: mode::S_IFREG | 0o755,
            ..NewNode::default()
        };
        let ino = fs.create(fs.root(), b"s", &node).unwrap();
        let how = OpenMode {
            read: true,
            write: true,
            ..OpenMode::default()
        };
        let mut f = fs.open(ino, how).unwrap();
        f.write_at(0, b"#!/bin/bash -e\n").unwrap();
        let size = (1 << 32) + 4;
        f.set_len(size).unwrap();
        assert_eq!(
            script_interpreter(f.as_mut(), size).unwrap(),
            Some((b"/bin/bash".to_vec(), Some(b"-e".to_vec())))
        );
    }
}
