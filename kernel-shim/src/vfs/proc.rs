//! /proc: processes and kernel facts as files.
//!
//! The file system does not reach into the kernel: the kernel fills a
//! [`ProcInfo`] snapshot (processes, their descriptors, mounts, memory)
//! that procfs reads. The system call layer refreshes the snapshot before
//! a path walk that may enter /proc (`Kernel::refresh_proc_info`), and a
//! file's text is produced when it is opened, like Linux's seq files.
//!
//! Nodes are interned paths below /proc ("1000/fd/3"), so a node number
//! stays valid for a descriptor or a working directory while the snapshot
//! changes; a node whose process is gone reports ENOENT.
//!
//! Links (`exe`, `cwd`, `root`, `fd/N`, `self`) hold guest paths, so the
//! kernel's path walk resolves them inside the guest root: `root` is
//! always "/". Descriptor links of pipes and sockets (`pipe:[N]`) do not
//! resolve as paths; opening them is handled by the system call layer.

use super::procgen;
use super::{mode, Attr, DirEntry, FileHandle, FileSystem, FileType, FsType, Ino, OpenMode};
use crate::abi::errno::{Errno, KResult};
use crate::abi::times::CpuTime;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wax_devices::Timespec;

/// One descriptor of a process.
#[derive(Clone, Debug, Default)]
pub struct FdEntry {
    pub fd: u32,
    /// What the link shows: a guest path, `pipe:[N]`, `socket:[N]`, ...
    pub target: Vec<u8>,
    pub flags: u32,
    pub pos: u64,
    /// Device and inode of the open node (fdinfo's "ino").
    pub ino: u64,
}

/// One mapping of /proc/PID/maps.
#[derive(Clone, Debug, Default)]
pub struct MapEntry {
    pub start: u32,
    pub end: u32,
    /// "r-xp".
    pub perms: [u8; 4],
    pub name: Vec<u8>,
    /// File offset, device and inode of a file mapping.
    pub offset: u64,
    pub dev: u64,
    pub ino: u64,
}

/// One thread of a process.
#[derive(Clone, Debug, Default)]
pub struct ThreadEntry {
    pub tid: u32,
    pub comm: Vec<u8>,
    /// 'R', 'S', 'T', 'Z'.
    pub state: u8,
}

/// What /proc shows about one process.
#[derive(Clone, Debug, Default)]
pub struct ProcEntry {
    pub pid: u32,
    pub ppid: u32,
    pub pgid: u32,
    pub sid: u32,
    pub uid: u32,
    pub gid: u32,
    pub state: u8,
    pub comm: Vec<u8>,
    pub threads: Vec<ThreadEntry>,
    pub exe: Vec<u8>,
    pub cwd: Vec<u8>,
    pub fds: Vec<FdEntry>,
    /// NUL-separated, as in memory.
    pub cmdline: Vec<u8>,
    pub environ: Vec<u8>,
    /// Filled only when a walk may read maps (it scans the page table).
    pub maps: Vec<MapEntry>,
    pub umask: u32,
    /// personality(2).
    pub personality: u32,
    /// Pages mapped (VmSize) and resident (VmRSS).
    pub vm_pages: u64,
    pub rss_pages: u64,
    pub brk_start: u32,
    pub brk: u32,
    /// CPU time, own and of reaped children.
    pub times: CpuTime,
    pub child_times: CpuTime,
    /// Clock ticks (100 Hz) of the start after boot.
    pub start_ticks: u64,
    pub nofile: u64,
    /// Signal sets (bit N-1 for signal N), as /proc/PID/status shows them:
    /// the main thread's pending and blocked, the process's pending, and
    /// the dispositions ignored and caught.
    pub sig_pending: u64,
    pub sig_shared: u64,
    pub sig_blocked: u64,
    pub sig_ignored: u64,
    pub sig_caught: u64,
}

/// One line of /proc/mounts.
#[derive(Clone, Debug, Default)]
pub struct MountEntry {
    pub id: u32,
    pub parent: u32,
    pub point: Vec<u8>,
    pub fs_type: String,
    pub source: String,
    pub options: String,
    pub dev: u64,
}

/// The process and kernel facts /proc shows, filled by the kernel.
#[derive(Default, Debug)]
pub struct ProcInfo {
    /// The path `/proc/self/exe` points to (kept current by the kernel's
    /// scheduler even without a full refresh).
    pub exe: Vec<u8>,
    /// The caller: /proc/self and /proc/thread-self.
    pub self_pid: u32,
    pub self_tid: u32,
    /// Sorted by pid.
    pub procs: Vec<ProcEntry>,
    pub mounts: Vec<MountEntry>,
    pub mem_total: u64,
    pub mem_used: u64,
    /// Time since boot, and the wall-clock second of boot.
    pub uptime: Timespec,
    pub boot_time: i64,
    pub running: u32,
    /// CPU time of every guest thread since boot.
    pub cpu: CpuTime,
    /// Threads and unreaped zombies (the second number of loadavg).
    pub tasks: u32,
    pub last_pid: u32,
    pub hostname: Vec<u8>,
    pub domainname: Vec<u8>,
    /// Bytes for /proc/sys/kernel/random/{uuid,boot_id}.
    pub random: [u8; 16],
    pub boot_id: [u8; 16],
}

impl ProcInfo {
    pub fn proc(&self, pid: u32) -> Option<&ProcEntry> {
        self.procs
            .binary_search_by_key(&pid, |p| p.pid)
            .ok()
            .map(|i| &self.procs[i])
    }
}

/// The kernel's identity, shared by `uname` and /proc.
pub mod uname {
    pub const SYSNAME: &str = "Linux";
    pub const RELEASE: &str = "6.1.0-wax";
    pub const VERSION: &str = "#1 SMP PREEMPT_DYNAMIC Debian 6.1.0";
    pub const MACHINE: &str = "i686";
    pub const DOMAIN: &str = "(none)";
    pub const HOSTNAME: &str = "localhost";
    /// Longest host or domain name (`__NEW_UTS_LEN`).
    pub const NAME_LEN: usize = 64;

    /// The names `sethostname` and `setdomainname` change (one UTS
    /// namespace for the whole machine).
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Names {
        pub hostname: Vec<u8>,
        pub domainname: Vec<u8>,
    }

    impl Default for Names {
        fn default() -> Names {
            Names {
                hostname: HOSTNAME.as_bytes().to_vec(),
                domainname: DOMAIN.as_bytes().to_vec(),
            }
        }
    }
}

/// What a node is.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Dir,
    /// Text produced at open; `writable` files accept (and drop) writes.
    File,
    Link(Vec<u8>),
}

pub struct ProcFs {
    info: Rc<RefCell<ProcInfo>>,
    paths: Vec<Vec<Vec<u8>>>,
    ids: HashMap<Vec<Vec<u8>>, Ino>,
}

/// Files in every /proc/PID (and /proc/PID/task/TID) directory.
const PID_FILES: &[&[u8]] = &[
    b"cmdline",
    b"comm",
    b"cwd",
    b"environ",
    b"exe",
    b"fd",
    b"fdinfo",
    b"limits",
    b"maps",
    b"mountinfo",
    b"mounts",
    b"personality",
    b"root",
    b"stat",
    b"statm",
    b"status",
    b"task",
];

/// Top-level files and directories besides the pids.
const TOP: &[&[u8]] = &[
    b"cpuinfo",
    b"filesystems",
    b"loadavg",
    b"meminfo",
    b"mounts",
    b"self",
    b"stat",
    b"sys",
    b"thread-self",
    b"uptime",
    b"version",
];

/// The /proc/sys tree: (path, is a directory).
const SYS: &[(&str, bool)] = &[
    ("sys", true),
    ("sys/fs", true),
    ("sys/fs/file-max", false),
    ("sys/fs/nr_open", false),
    ("sys/kernel", true),
    ("sys/kernel/domainname", false),
    ("sys/kernel/hostname", false),
    ("sys/kernel/ngroups_max", false),
    ("sys/kernel/osrelease", false),
    ("sys/kernel/ostype", false),
    ("sys/kernel/pid_max", false),
    ("sys/kernel/random", true),
    ("sys/kernel/random/boot_id", false),
    ("sys/kernel/random/uuid", false),
    ("sys/kernel/version", false),
    ("sys/vm", true),
    ("sys/vm/overcommit_memory", false),
];

fn parse_num(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 10 || (s[0] == b'0' && s.len() > 1) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

fn join(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.join(&b'/')
}

impl ProcFs {
    pub fn new(info: Rc<RefCell<ProcInfo>>) -> ProcFs {
        let mut fs = ProcFs {
            info,
            paths: Vec::new(),
            ids: HashMap::new(),
        };
        fs.intern(Vec::new());
        fs
    }

    fn intern(&mut self, p: Vec<Vec<u8>>) -> Ino {
        if let Some(&i) = self.ids.get(&p) {
            return i;
        }
        let i = self.paths.len() as Ino + 1;
        self.paths.push(p.clone());
        self.ids.insert(p, i);
        i
    }

    fn path(&self, ino: Ino) -> KResult<Vec<Vec<u8>>> {
        let i = usize::try_from(ino)
            .ok()
            .and_then(|i| i.checked_sub(1))
            .ok_or(Errno::ENOENT)?;
        self.paths.get(i).cloned().ok_or(Errno::ENOENT)
    }

    /// What `path` names now, or ENOENT.
    fn classify(&self, p: &[Vec<u8>]) -> KResult<Node> {
        let info = self.info.borrow();
        let names: Vec<&[u8]> = p.iter().map(Vec::as_slice).collect();
        match names.as_slice() {
            [] => Ok(Node::Dir),
            [b"self"] => Ok(Node::Link(info.self_pid.to_string().into_bytes())),
            [b"thread-self"] => Ok(Node::Link(
                format!("{}/task/{}", info.self_pid, info.self_tid).into_bytes(),
            )),
            [b"mounts"] => Ok(Node::Link(b"self/mounts".to_vec())),
            [b"sys", ..] => {
                let s = String::from_utf8_lossy(&join(p)).into_owned();
                match SYS.iter().find(|(n, _)| *n == s) {
                    Some((_, true)) => Ok(Node::Dir),
                    Some((_, false)) => Ok(Node::File),
                    None => Err(Errno::ENOENT),
                }
            }
            [top] if TOP.contains(top) => Ok(Node::File),
            [pid, ..] => {
                let pid = parse_num(pid).ok_or(Errno::ENOENT)?;
                let e = info.proc(pid).ok_or(Errno::ENOENT)?;
                classify_pid(e, &p[1..])
            }
        }
    }

    fn children(&self, p: &[Vec<u8>]) -> KResult<Vec<(Vec<u8>, FileType)>> {
        let info = self.info.borrow();
        let names: Vec<&[u8]> = p.iter().map(Vec::as_slice).collect();
        let kind_of = |n: &Node| match n {
            Node::Dir => FileType::Directory,
            Node::File => FileType::Regular,
            Node::Link(_) => FileType::Symlink,
        };
        let mut out = Vec::new();
        match names.as_slice() {
            [] => {
                for t in TOP {
                    out.push(t.to_vec());
                }
                for e in &info.procs {
                    out.push(e.pid.to_string().into_bytes());
                }
            }
            [b"sys", ..] => {
                let prefix = format!("{}/", String::from_utf8_lossy(&join(p)));
                for (n, _) in SYS {
                    if let Some(rest) = n.strip_prefix(&prefix) {
                        if !rest.contains('/') {
                            out.push(rest.as_bytes().to_vec());
                        }
                    }
                }
            }
            [pid, ..] => {
                let pid = parse_num(pid).ok_or(Errno::ENOENT)?;
                let e = info.proc(pid).ok_or(Errno::ENOENT)?;
                out = pid_children(e, &p[1..])?;
            }
        }
        drop(info);
        out.into_iter()
            .map(|name| {
                let mut c = p.to_vec();
                c.push(name.clone());
                Ok((name, kind_of(&self.classify(&c)?)))
            })
            .collect()
    }

    /// The text of a file.
    fn content(&self, p: &[Vec<u8>]) -> KResult<Vec<u8>> {
        let info = self.info.borrow();
        let names: Vec<&[u8]> = p.iter().map(Vec::as_slice).collect();
        match names.as_slice() {
            [pid, ..] if parse_num(pid).is_some() => {
                let e = info
                    .proc(parse_num(pid).unwrap_or(0))
                    .ok_or(Errno::ENOENT)?;
                procgen::pid_file(&info, e, &p[1..])
            }
            _ => procgen::top_file(&info, &String::from_utf8_lossy(&join(p))),
        }
    }
}

/// What a path below /proc/PID names.
fn classify_pid(e: &ProcEntry, rest: &[Vec<u8>]) -> KResult<Node> {
    let names: Vec<&[u8]> = rest.iter().map(Vec::as_slice).collect();
    match names.as_slice() {
        [] | [b"fd" | b"fdinfo" | b"task"] => Ok(Node::Dir),
        [b"exe"] => Ok(Node::Link(e.exe.clone())),
        [b"cwd"] => Ok(Node::Link(e.cwd.clone())),
        [b"root"] => Ok(Node::Link(b"/".to_vec())),
        [b"fd", n] => fd_of(e, n).map(|f| Node::Link(f.target.clone())),
        [b"fdinfo", n] => fd_of(e, n).map(|_| Node::File),
        [b"task", tid, more @ ..] => {
            let tid = parse_num(tid).ok_or(Errno::ENOENT)?;
            if !e.threads.iter().any(|t| t.tid == tid) {
                return Err(Errno::ENOENT);
            }
            if more.first().is_some_and(|m| *m == b"task") {
                return Err(Errno::ENOENT);
            }
            classify_pid(e, &rest[2..])
        }
        [f] if PID_FILES.contains(f) => Ok(Node::File),
        _ => Err(Errno::ENOENT),
    }
}

fn fd_of<'a>(e: &'a ProcEntry, n: &[u8]) -> KResult<&'a FdEntry> {
    let fd = parse_num(n).ok_or(Errno::ENOENT)?;
    e.fds.iter().find(|f| f.fd == fd).ok_or(Errno::ENOENT)
}

fn pid_children(e: &ProcEntry, rest: &[Vec<u8>]) -> KResult<Vec<Vec<u8>>> {
    let names: Vec<&[u8]> = rest.iter().map(Vec::as_slice).collect();
    Ok(match names.as_slice() {
        [] => PID_FILES.iter().map(|f| f.to_vec()).collect(),
        [b"fd" | b"fdinfo"] => e
            .fds
            .iter()
            .map(|f| f.fd.to_string().into_bytes())
            .collect(),
        [b"task"] => e
            .threads
            .iter()
            .map(|t| t.tid.to_string().into_bytes())
            .collect(),
        [b"task", _, more @ ..] => pid_children(e, &rest[2..])?
            .into_iter()
            .filter(|n| more.is_empty() || n != b"task")
            .collect(),
        _ => return Err(Errno::ENOTDIR),
    })
}

impl FileSystem for ProcFs {
    fn root(&self) -> Ino {
        1
    }

    fn lookup(&mut self, dir: Ino, name: &[u8]) -> KResult<Ino> {
        let mut p = self.path(dir)?;
        if self.classify(&p)? != Node::Dir {
            return Err(Errno::ENOTDIR);
        }
        p.push(name.to_vec());
        self.classify(&p)?;
        Ok(self.intern(p))
    }

    fn getattr(&mut self, ino: Ino) -> KResult<Attr> {
        let p = self.path(ino)?;
        let node = self.classify(&p)?;
        let info = self.info.borrow();
        // Files of a process belong to its user, like Linux's
        // non-dumpable-less default.
        let owner = p
            .first()
            .and_then(|n| parse_num(n))
            .and_then(|pid| info.proc(pid))
            .map_or((0, 0), |e| (e.uid, e.gid));
        let writable = p.len() == 2 && p[1] == b"comm"
            || p.first().is_some_and(|n| n == b"sys") && !p.iter().any(|n| n == b"random");
        let (m, nlink, size) = match &node {
            Node::Dir => (mode::S_IFDIR | 0o555, 2, 0),
            Node::File if writable => (mode::S_IFREG | 0o644, 1, 0),
            Node::File => (mode::S_IFREG | 0o444, 1, 0),
            Node::Link(t) => (mode::S_IFLNK | 0o777, 1, t.len() as u64),
        };
        let t = Timespec {
            sec: info.boot_time,
            nsec: 0,
        };
        Ok(Attr {
            dev: super::dev::makedev(0, 22),
            ino,
            mode: m,
            nlink,
            uid: owner.0,
            gid: owner.1,
            size,
            blksize: 1024,
            atime: t,
            mtime: t,
            ctime: t,
            ..Attr::default()
        })
    }

    fn open(&mut self, ino: Ino, _how: OpenMode) -> KResult<Box<dyn FileHandle>> {
        let p = self.path(ino)?;
        match self.classify(&p)? {
            Node::Dir => Err(Errno::EISDIR),
            Node::Link(_) => Err(Errno::ELOOP),
            Node::File => Ok(Box::new(Text(self.content(&p)?))),
        }
    }

    fn readdir(&mut self, dir: Ino) -> KResult<Vec<DirEntry>> {
        let p = self.path(dir)?;
        if self.classify(&p)? != Node::Dir {
            return Err(Errno::ENOTDIR);
        }
        let kids = self.children(&p)?;
        Ok(kids
            .into_iter()
            .map(|(name, kind)| {
                let mut c = p.clone();
                c.push(name.clone());
                DirEntry {
                    ino: self.intern(c),
                    kind,
                    name,
                }
            })
            .collect())
    }

    fn readlink(&mut self, ino: Ino) -> KResult<Vec<u8>> {
        let p = self.path(ino)?;
        match self.classify(&p)? {
            Node::Link(t) => Ok(t),
            _ => Err(Errno::EINVAL),
        }
    }

    fn fs_type(&self) -> FsType {
        FsType::PROC
    }
}

/// An open /proc file: its text as of the open. Writes are accepted and
/// dropped (sysctl settings are fixed).
struct Text(Vec<u8>);

impl FileHandle for Text {
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> KResult<usize> {
        let start = usize::try_from(off).map_or(self.0.len(), |o| o.min(self.0.len()));
        let n = buf.len().min(self.0.len() - start);
        buf[..n].copy_from_slice(&self.0[start..start + n]);
        Ok(n)
    }
    fn write_at(&mut self, _off: u64, buf: &[u8]) -> KResult<usize> {
        Ok(buf.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vfs::memfs::MemFs;
    use crate::vfs::{Location, Resolve, Vfs};

    fn info() -> Rc<RefCell<ProcInfo>> {
        let e = ProcEntry {
            pid: 1000,
            ppid: 999,
            state: b'R',
            comm: b"sh".to_vec(),
            threads: vec![ThreadEntry {
                tid: 1000,
                comm: b"sh".to_vec(),
                state: b'R',
            }],
            exe: b"/bin/sh".to_vec(),
            cwd: b"/etc".to_vec(),
            fds: vec![FdEntry {
                fd: 3,
                target: b"/etc/passwd".to_vec(),
                ..FdEntry::default()
            }],
            cmdline: b"sh\0-c\0".to_vec(),
            ..ProcEntry::default()
        };
        Rc::new(RefCell::new(ProcInfo {
            self_pid: 1000,
            self_tid: 1000,
            procs: vec![e],
            ..ProcInfo::default()
        }))
    }

    fn vfs() -> Vfs {
        let mut fs = MemFs::new();
        let etc = fs.add_dir(fs.root_ino(), b"etc");
        fs.add_file(etc, b"passwd", b"root");
        fs.add_dir(fs.root_ino(), b"bin");
        let mut v = Vfs::new(Box::new(fs));
        v.mount(b"/proc", Box::new(ProcFs::new(info()))).unwrap();
        v
    }

    fn resolve(v: &mut Vfs, p: &str) -> KResult<String> {
        let l = v.resolve(&Location::root(), p.as_bytes(), Resolve::Follow)?;
        Ok(String::from_utf8(l.path()).unwrap())
    }

    #[test]
    fn root_links_never_leave_the_guest_root() {
        let mut v = vfs();
        assert_eq!(resolve(&mut v, "/proc/self/root").unwrap(), "/");
        assert_eq!(resolve(&mut v, "/proc/1000/root/..").unwrap(), "/");
        assert_eq!(
            resolve(&mut v, "/proc/self/root/../../etc/passwd").unwrap(),
            "/etc/passwd"
        );
        assert_eq!(resolve(&mut v, "/proc/self/cwd/..").unwrap(), "/");
        assert_eq!(resolve(&mut v, "/proc/1/root"), Err(Errno::ENOENT));
        assert_eq!(
            resolve(&mut v, "/proc/thread-self/fd/3").unwrap(),
            "/etc/passwd"
        );
    }

    #[test]
    fn directories_list_what_lookup_finds() {
        let mut p = ProcFs::new(info());
        let root = p.root();
        let names: Vec<_> = p
            .readdir(root)
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert!(names.contains(&b"1000".to_vec()) && names.contains(&b"cpuinfo".to_vec()));
        let pid = p.lookup(root, b"1000").unwrap();
        for e in p.readdir(pid).unwrap() {
            assert_eq!(p.lookup(pid, &e.name).unwrap(), e.ino);
        }
        let fd = p.lookup(pid, b"fd").unwrap();
        let three = p.lookup(fd, b"3").unwrap();
        assert_eq!(p.readlink(three).unwrap(), b"/etc/passwd");
        assert_eq!(p.lookup(fd, b"4"), Err(Errno::ENOENT));
        assert_eq!(p.lookup(fd, b"03"), Err(Errno::ENOENT));
        let sys = p.lookup(root, b"sys").unwrap();
        let kernel = p.lookup(sys, b"kernel").unwrap();
        let names: Vec<_> = p
            .readdir(kernel)
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert!(names.contains(&b"osrelease".to_vec()) && names.contains(&b"random".to_vec()));
    }

    /// Offsets and node numbers past 4 GiB do not wrap on a 32-bit host.
    #[test]
    fn huge_offsets_and_nodes_do_not_wrap() {
        let mut p = ProcFs::new(info());
        let cpuinfo = p.lookup(p.root(), b"cpuinfo").unwrap();
        let mut h = p.open(cpuinfo, OpenMode::default()).unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(h.read_at(0, &mut buf).unwrap(), 16);
        assert_eq!(h.read_at(1 << 32, &mut buf).unwrap(), 0);
        assert_eq!(p.getattr(cpuinfo + (1 << 32)), Err(Errno::ENOENT));
    }

    #[test]
    fn a_node_of_a_gone_process_is_enoent() {
        let info = info();
        let mut p = ProcFs::new(info.clone());
        let pid = p.lookup(p.root(), b"1000").unwrap();
        info.borrow_mut().procs.clear();
        assert_eq!(p.getattr(pid), Err(Errno::ENOENT));
    }
}
