//! The kernel side of /proc: fills the [`ProcInfo`] snapshot procfs reads,
//! and mounts the in-memory file systems (tmpfs on /tmp and /dev/shm).
//!
//! The snapshot is refreshed before a path walk that may enter /proc
//! ([`wants`] decides from the path), so ordinary file calls pay nothing.
//! Two parts cost more and are filled only when the path asks for them:
//! maps (a scan of the page table) and cmdline/environ (found in the
//! process's stack).

use crate::kernel::Kernel;
use crate::tasks::process::{ProcState, ThreadState};
use crate::vfs::proc::{FdEntry, MapEntry, MountEntry, ProcEntry, ThreadEntry};
use crate::vfs::tmpfs::{TmpFs, Usage};
use crate::vfs::{dev, Location};
use wax_cpu::{GuestAddr, GuestMem, Prot};

/// Which costly parts of the snapshot a walk needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Want {
    pub any: bool,
    pub maps: bool,
    pub args: bool,
}

/// What a path walk from `start` along `path` may need from /proc: a walk
/// enters it by a component named "proc" (the mount point's name), from
/// inside it, or through the /dev links into it (/dev/fd, /dev/stdin).
pub fn wants(path: &[u8], start_in_proc: bool) -> Want {
    let has = |w: &[u8]| path.windows(w.len()).any(|x| x == w);
    let names_proc = || path.split(|&b| b == b'/').any(|c| c == b"proc");
    let any = start_in_proc || path.starts_with(b"/dev") || has(b"/dev/") || names_proc();
    Want {
        any,
        maps: any && (has(b"maps") || has(b"stat")),
        args: any && (has(b"cmdline") || has(b"environ")),
    }
}

impl Kernel {
    /// Mounts the tmpfs instances: /dev/shm always, /tmp when `tmp`.
    /// Their pages together are capped at half the machine memory (Linux's
    /// default tmpfs size).
    pub fn mount_tmpfs(&mut self, tmp: bool) {
        let usage = Usage::new(self.machine_bytes() / 2);
        let points: &[&[u8]] = if tmp {
            &[b"/dev/shm", b"/tmp"]
        } else {
            &[b"/dev/shm"]
        };
        for (i, at) in points.iter().enumerate() {
            let fs = TmpFs::new(
                dev::makedev(0, 30 + i as u32),
                self.vfs.now.clone(),
                usage.clone(),
                0o1777,
            );
            // Mount points are names in directories that exist.
            let _ = self.vfs.mount(at, Box::new(fs));
        }
    }

    /// Brings the /proc snapshot up to date for the calling thread.
    pub(crate) fn refresh_proc_info(&mut self, want: Want) {
        if !want.any {
            return;
        }
        let me = self.current();
        let (self_pid, self_tid) = (
            self.tasks.proc(self.tasks.thread(me).process).pid,
            self.tasks.thread(me).tid,
        );
        let live = self.tasks.unreaped();
        let mut procs: Vec<ProcEntry> =
            live.into_iter().map(|p| self.proc_entry(p, want)).collect();
        procs.sort_by_key(|e| e.pid);
        let mounts = self.mount_entries();
        let now = self.time.monotonic();
        let up = now.as_nanos() - self.time.boot().as_nanos();
        let real = self.time.realtime();
        let mut random = [0u8; 16];
        self.entropy.borrow_mut().fill(&mut random);
        let frames = u64::from(self.machine.frames().frames_in_use());
        let running = self
            .tasks
            .threads()
            .map(|(_, x)| x)
            .filter(|t| t.state == ThreadState::Runnable)
            .count() as u32;
        let mut info = self.proc_info.borrow_mut();
        if info.boot_id == [0; 16] {
            self.entropy.borrow_mut().fill(&mut info.boot_id);
        }
        info.self_pid = self_pid;
        info.self_tid = self_tid;
        info.last_pid = procs.iter().map(|e| e.pid).max().unwrap_or(0);
        info.procs = procs;
        info.mounts = mounts;
        info.mem_total = self.machine_bytes();
        info.mem_used = frames * 4096;
        info.uptime = wax_devices::Timespec {
            sec: (up / 1_000_000_000) as i64,
            nsec: (up % 1_000_000_000) as u32,
        };
        info.boot_time = real.sec - (up / 1_000_000_000) as i64;
        info.running = running;
        info.cpu = self.machine_cpu_time();
        info.tasks = self.tasks.task_count();
        info.random = random;
        info.hostname = self.uts.hostname.clone();
        info.domainname = self.uts.domainname.clone();
    }

    fn proc_entry(&mut self, p: usize, want: Want) -> ProcEntry {
        let slots = self.tasks.threads_of(p);
        let threads: Vec<ThreadEntry> = slots
            .iter()
            .map(|&t| self.tasks.thread(t))
            .map(|t| ThreadEntry {
                tid: t.tid,
                comm: t.comm.iter().take_while(|&&c| c != 0).copied().collect(),
                state: if t.state == ThreadState::Runnable {
                    b'R'
                } else {
                    b'S'
                },
            })
            .collect();
        let pr = self.tasks.proc(p);
        let main = slots.first().map(|&t| self.tasks.thread(t));
        let (sig_pending, sig_blocked) = main.map_or((0, 0), |t| (t.pending.set, t.sigmask));
        let disposition = |which: fn(u32) -> bool| {
            (0..64).fold(0u64, |set, i| {
                let h = pr
                    .actions
                    .get(i)
                    .map_or(crate::signals::SIG_DFL, |a| a.handler);
                if which(h) {
                    set | 1 << i
                } else {
                    set
                }
            })
        };
        let sig_ignored = disposition(|h| h == crate::signals::SIG_IGN);
        let sig_caught =
            disposition(|h| h != crate::signals::SIG_IGN && h != crate::signals::SIG_DFL);
        let state = match pr.state {
            ProcState::Zombie(_) => b'Z',
            _ if pr.stopped => b'T',
            _ if threads.iter().any(|t| t.state == b'R') => b'R',
            _ => b'S',
        };
        let mut e = ProcEntry {
            pid: pr.pid,
            ppid: pr.ppid,
            pgid: pr.pgid,
            sid: pr.sid,
            uid: self.uid,
            gid: self.gid,
            state,
            comm: threads.first().map(|t| t.comm.clone()).unwrap_or_default(),
            exe: pr.exe.clone(),
            cwd: pr.cwd.path(),
            umask: pr.umask,
            personality: pr.personality,
            brk_start: pr.mm.brk_start,
            brk: pr.mm.brk,
            times: pr.times,
            child_times: pr.child_times,
            nofile: pr.rlimits[7].0,
            threads,
            sig_pending,
            sig_shared: pr.pending.set,
            sig_blocked,
            sig_ignored,
            sig_caught,
            ..ProcEntry::default()
        };
        e.fds = self.fd_entries(p);
        if want.maps {
            self.fill_maps(p, &mut e);
        }
        if want.args {
            let (c, env) = self.args_of(p);
            e.cmdline = c;
            e.environ = env;
        }
        e
    }

    fn fd_entries(&mut self, p: usize) -> Vec<FdEntry> {
        let mut out = Vec::new();
        let open: Vec<(u32, crate::vfs::file::FileRef)> = self
            .tasks
            .proc(p)
            .fds
            .iter()
            .map(|(n, fd)| (n, fd.file.clone()))
            .collect();
        for (fd, file) in open {
            let f = file.borrow();
            let (target, ino) = match (&f.location, &f.handle) {
                (Some(loc), _) => {
                    let ino = f.attr(&mut self.vfs).map_or(0, |a| a.ino);
                    (loc.path(), ino)
                }
                (None, Some(h)) => (h.proc_name().unwrap_or_else(|| b"/dev/pts/0".to_vec()), 0),
                (None, None) => (b"anon_inode:[unknown]".to_vec(), 0),
            };
            out.push(FdEntry {
                fd,
                target,
                flags: f.flags,
                pos: f.offset,
                ino,
            });
        }
        out
    }

    /// Mappings: runs of pages with the same protection and origin.
    /// The page table says which pages exist (the loader's images and
    /// stack are only there); the mapping list (memory/mm.rs) names mmap'ed
    /// files, their offsets and shared mappings, and covers the pages
    /// past a file's end that are not in the page table.
    fn fill_maps(&mut self, p: usize, e: &mut ProcEntry) {
        let (brk_start, brk) = (e.brk_start, e.brk);
        let stack_low = crate::memory::mm::STACK_TOP - crate::memory::mm::STACK_SIZE;
        let mut maps: Vec<MapEntry> = Vec::new();
        let mut pages = 0u64;
        for page in 0..crate::memory::mm::STACK_TOP / 4096 {
            let addr = page * 4096;
            let Some(m) = self.map_entry(p, addr, brk_start..brk.max(brk_start), stack_low) else {
                continue;
            };
            pages += 1;
            match maps.last_mut() {
                Some(l) if l.end == addr && same_run(l, &m) => l.end += 4096,
                _ => maps.push(m),
            }
        }
        e.maps = maps;
        e.vm_pages = pages;
        // Frames are committed lazily and the page table does not say
        // which are; mapped pages stand in for resident ones.
        e.rss_pages = pages;
    }

    /// The one-page map entry for `addr`, if anything is mapped there.
    fn map_entry(
        &mut self,
        p: usize,
        addr: u32,
        heap: std::ops::Range<u32>,
        stack_low: u32,
    ) -> Option<MapEntry> {
        let proc = self.tasks.proc(p);
        let vma = proc.mm.find(addr);
        let prot = match (self.machine.prot_at(&proc.space, GuestAddr(addr)), vma) {
            (_, Some(v)) => Prot(v.prot),
            (Some(prot), None) => prot,
            (None, None) => return None,
        };
        let bit = |b: Prot, c: u8| if prot.contains(b) { c } else { b'-' };
        let shared = vma.is_some_and(|v| v.shared);
        let perms = [
            bit(Prot::READ, b'r'),
            bit(Prot::WRITE, b'w'),
            bit(Prot::EXEC, b'x'),
            if shared { b's' } else { b'p' },
        ];
        let mut m = MapEntry {
            start: addr,
            end: addr + 4096,
            perms,
            ..MapEntry::default()
        };
        if let Some((v, f)) = vma.and_then(|v| v.file.as_ref().map(|f| (v, f))) {
            m.name = f.path.clone();
            m.offset = v.offset_of(addr);
            m.dev = f.dev;
            m.ino = f.ino;
        } else if vma.is_some_and(|v| v.shared) {
            // Shared anonymous memory is a deleted shmem file on Linux.
            m.name = b"/dev/zero (deleted)".to_vec();
        } else if heap.contains(&addr) {
            m.name = b"[heap]".to_vec();
        } else if addr >= stack_low && vma.is_none() {
            m.name = b"[stack]".to_vec();
        }
        Some(m)
    }

    /// argv and envp strings as laid out at exec (see `find_args`).
    fn args_of(&mut self, p: usize) -> (Vec<u8>, Vec<u8>) {
        let space = &mut self.tasks.proc_mut(p).space;
        let mut mem = self.machine.mem(space);
        find_args(&mut mem).unwrap_or_default()
    }

    fn mount_entries(&mut self) -> Vec<MountEntry> {
        let mut out = Vec::new();
        for (id, point, ty) in self.vfs.mounts() {
            let root = self.vfs.fs_query(id).root();
            let dev = self.vfs.fs_query(id).getattr(root).map_or(0, |a| a.dev);
            let source = match ty.name {
                "proc" | "tmpfs" | "devtmpfs" => ty.name.to_string(),
                _ => "/dev/root".to_string(),
            };
            let options = match ty.name {
                "proc" => "rw,nosuid,nodev,noexec,relatime",
                "tmpfs" => "rw,nosuid,nodev",
                "devtmpfs" => "rw,nosuid,relatime,mode=755",
                _ => "rw,relatime",
            };
            out.push(MountEntry {
                id: 20 + id as u32,
                parent: if id == 0 { 1 } else { 20 },
                point,
                fs_type: ty.name.to_string(),
                source,
                options: options.to_string(),
                dev,
            });
        }
        out
    }

    /// Whether a location is inside the /proc mount.
    pub(crate) fn in_proc(&self, loc: &Location) -> bool {
        let m = self.vfs.mount_of(loc);
        self.vfs.mount_at(b"/proc") == Some(m)
    }
}

/// Finds argv and envp in a process's stack. The loader puts the strings
/// (argv, envp, then AT_EXECFN) at the very top, below one NULL word, and
/// the pointer arrays (argc, argv[], NULL, envp[], NULL) lower down. The
/// arrays are found by scanning down for an argc whose pointers walk the
/// string block exactly up to the AT_EXECFN string. Returns the strings
/// NUL-terminated, as /proc/PID/cmdline and environ show them.
fn find_args(mem: &mut GuestMem<'_>) -> Option<(Vec<u8>, Vec<u8>)> {
    let top = crate::memory::mm::STACK_TOP - 4;
    let mut execfn = top - 1;
    while execfn > top - 4096 && mem.read_u8(GuestAddr(execfn - 1)).ok()? != 0 {
        execfn -= 1;
    }
    let mut at = (execfn & !3) - 4;
    let lowest = top.saturating_sub(256 << 10);
    while at > lowest {
        at -= 4;
        let argc = mem.read_u32(GuestAddr(at)).ok()?;
        if !(1..=0x8000).contains(&argc) {
            continue;
        }
        if let Some(r) = try_args(mem, at, argc, execfn) {
            return Some(r);
        }
    }
    None
}

/// Checks the candidate argc at `at`: argv then envp pointers must name
/// consecutive strings that end right where AT_EXECFN starts.
fn try_args(mem: &mut GuestMem<'_>, at: u32, argc: u32, execfn: u32) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut next = mem.read_u32(GuestAddr(at + 4)).ok()?;
    if next >= execfn || next <= at {
        return None;
    }
    let mut out = [Vec::new(), Vec::new()];
    let mut slot = at + 4;
    for (part, limit) in [(0, Some(argc)), (1, None)] {
        let mut n = 0;
        loop {
            let ptr = mem.read_u32(GuestAddr(slot)).ok()?;
            slot += 4;
            if ptr == 0 {
                break;
            }
            if ptr != next || limit.is_some_and(|l| n >= l) {
                return None;
            }
            let s = mem.read_cstr(GuestAddr(ptr), 1 << 17).ok()??;
            next = ptr + s.len() as u32 + 1;
            out[part].extend_from_slice(&s);
            out[part].push(0);
            n += 1;
        }
        if limit.is_some_and(|l| n != l) {
            return None;
        }
    }
    let [argv, envp] = out;
    (next == execfn).then_some((argv, envp))
}

/// Whether `next` (one page) continues the run `last`.
fn same_run(last: &MapEntry, next: &MapEntry) -> bool {
    let contiguous_file = next.dev == last.dev
        && next.ino == last.ino
        && next.offset == last.offset + u64::from(last.end - last.start);
    last.perms == next.perms && last.name == next.name && (next.ino == 0 || contiguous_file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_that_may_reach_proc() {
        assert!(wants(b"/proc/self/maps", false).maps);
        assert!(wants(b"/dev/stdin", false).any);
        assert!(wants(b"cmdline", true).args);
        assert_eq!(wants(b"/etc/passwd", false), Want::default());
        assert_eq!(wants(b"x", false), Want::default());
        // "proc" inside a name does not lead into /proc.
        assert_eq!(
            wants(b"/usr/include/proc_service.h", false),
            Want::default()
        );
        assert!(wants(b"../../proc/1/stat", false).maps);
    }
}
