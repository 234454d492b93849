//! The text of /proc files, in Linux's formats (fs/proc/*.c), from a
//! [`ProcInfo`] snapshot.

use super::proc::{uname, ProcEntry, ProcInfo};
use crate::abi::errno::{Errno, KResult};
use std::fmt::Write;

/// Clock ticks per second (USER_HZ).
const HZ: u64 = 100;

/// The text of a file below /proc/PID.
pub fn pid_file(info: &ProcInfo, e: &ProcEntry, rest: &[Vec<u8>]) -> KResult<Vec<u8>> {
    let names: Vec<&[u8]> = rest.iter().map(Vec::as_slice).collect();
    let s = match names.as_slice() {
        [b"task", _, more @ ..] => {
            return pid_file(info, e, &rest[2..rest.len().min(2 + more.len())])
        }
        [b"cmdline"] => return Ok(e.cmdline.clone()),
        [b"environ"] => return Ok(e.environ.clone()),
        [b"comm"] => format!("{}\n", String::from_utf8_lossy(&e.comm)),
        [b"stat"] => stat(info, e),
        [b"statm"] => {
            let data = u64::from(e.brk.saturating_sub(e.brk_start)) / 4096;
            format!("{} {} 0 0 0 {} 0\n", e.vm_pages, e.rss_pages, data)
        }
        [b"status"] => status(e),
        [b"maps"] => maps(e),
        [b"mounts"] => mounts(info),
        [b"mountinfo"] => mountinfo(info),
        [b"limits"] => limits(e),
        [b"personality"] => format!("{:08x}\n", e.personality),
        [b"fdinfo", n] => {
            let fd = std::str::from_utf8(n)
                .ok()
                .and_then(|s| s.parse::<u32>().ok());
            let f = e
                .fds
                .iter()
                .find(|f| Some(f.fd) == fd)
                .ok_or(Errno::ENOENT)?;
            format!(
                "pos:\t{}\nflags:\t0{:o}\nmnt_id:\t1\nino:\t{}\n",
                f.pos, f.flags, f.ino
            )
        }
        _ => return Err(Errno::ENOENT),
    };
    Ok(s.into_bytes())
}

fn state_name(s: u8) -> &'static str {
    match s {
        b'R' => "R (running)",
        b'S' => "S (sleeping)",
        b'T' => "T (stopped)",
        b'Z' => "Z (zombie)",
        _ => "S (sleeping)",
    }
}

/// /proc/PID/stat: 52 fields (fs/proc/array.c, do_task_stat).
fn stat(info: &ProcInfo, e: &ProcEntry) -> String {
    let vsize = e.vm_pages * 4096;
    let fields: [u64; 49] = [
        u64::from(e.ppid),
        u64::from(e.pgid),
        u64::from(e.sid),
        34816, // tty_nr: /dev/pts/0
        u64::from(e.pgid),
        0x0040_0000, // PF_RANDOMIZE-free flags of a user task
        0,
        0,
        0,
        0,
        e.times.user_ticks(),
        e.times.system_ticks(),
        e.child_times.user_ticks(),
        e.child_times.system_ticks(),
        20,
        0,
        e.threads.len().max(1) as u64,
        0,
        e.start_ticks,
        vsize,
        e.rss_pages,
        u64::from(u32::MAX),
        0x0804_8000,
        0x0804_8000,
        0xbfff_f000,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        17,
        0,
        0,
        0,
        0,
        0,
        0,
        u64::from(e.brk_start),
        u64::from(e.brk_start),
        u64::from(e.brk),
        0,
        0,
        0,
        0,
        0,
    ];
    let _ = info;
    let mut s = format!(
        "{} ({}) {}",
        e.pid,
        String::from_utf8_lossy(&e.comm),
        e.state as char
    );
    for f in fields {
        let _ = write!(s, " {f}");
    }
    s.push('\n');
    s
}

fn kb(pages: u64) -> String {
    format!("{:>8} kB", pages * 4)
}

/// /proc/PID/status (fs/proc/array.c, proc_pid_status).
fn status(e: &ProcEntry) -> String {
    let data = u64::from(e.brk.saturating_sub(e.brk_start)) / 4096;
    let mut s = String::new();
    let _ = writeln!(s, "Name:\t{}", String::from_utf8_lossy(&e.comm));
    let _ = writeln!(s, "Umask:\t{:04o}", e.umask);
    let _ = writeln!(s, "State:\t{}", state_name(e.state));
    for (k, v) in [
        ("Tgid", e.pid),
        ("Ngid", 0),
        ("Pid", e.pid),
        ("PPid", e.ppid),
    ] {
        let _ = writeln!(s, "{k}:\t{v}");
    }
    let _ = writeln!(s, "TracerPid:\t0");
    let _ = writeln!(s, "Uid:\t{0}\t{0}\t{0}\t{0}", e.uid);
    let _ = writeln!(s, "Gid:\t{0}\t{0}\t{0}\t{0}", e.gid);
    let _ = writeln!(s, "FDSize:\t{}", 64.max(e.fds.len().next_power_of_two()));
    let _ = writeln!(s, "Groups:\t");
    for (k, v) in [
        ("VmPeak", e.vm_pages),
        ("VmSize", e.vm_pages),
        ("VmLck", 0),
        ("VmPin", 0),
        ("VmHWM", e.rss_pages),
        ("VmRSS", e.rss_pages),
        ("RssAnon", e.rss_pages),
        ("RssFile", 0),
        ("RssShmem", 0),
        ("VmData", data),
        ("VmStk", 33),
        ("VmExe", 0),
        ("VmLib", 0),
        ("VmPTE", 0),
        ("VmSwap", 0),
    ] {
        let _ = writeln!(s, "{k}:\t{}", kb(v));
    }
    let _ = writeln!(s, "Threads:\t{}", e.threads.len().max(1));
    let _ = writeln!(s, "SigQ:\t0/63000");
    for (k, v) in [
        ("SigPnd", e.sig_pending),
        ("ShdPnd", e.sig_shared),
        ("SigBlk", e.sig_blocked),
        ("SigIgn", e.sig_ignored),
        ("SigCgt", e.sig_caught),
    ] {
        let _ = writeln!(s, "{k}:\t{v:016x}");
    }
    let caps = if e.uid == 0 {
        "000001ffffffffff"
    } else {
        "0000000000000000"
    };
    for k in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        let v = if k == "CapInh" || k == "CapAmb" {
            "0000000000000000"
        } else {
            caps
        };
        let _ = writeln!(s, "{k}:\t{v}");
    }
    s.push_str("NoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n");
    s.push_str("Speculation_Store_Bypass:\tnot vulnerable\n");
    s.push_str("Cpus_allowed:\t1\nCpus_allowed_list:\t0\n");
    s.push_str("Mems_allowed:\t1\nMems_allowed_list:\t0\n");
    s.push_str("voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n");
    s
}

/// /proc/PID/maps (fs/proc/task_mmu.c, show_map_vma): names start at
/// column 73 as on a 64-bit kernel.
fn maps(e: &ProcEntry) -> String {
    let mut s = String::new();
    for m in &e.maps {
        let mut line = format!(
            "{:08x}-{:08x} {} {:08x} {:02x}:{:02x} {}",
            m.start,
            m.end,
            String::from_utf8_lossy(&m.perms),
            m.offset,
            (m.dev >> 8) & 0xfff,
            (m.dev & 0xff) | ((m.dev >> 12) & !0xff),
            m.ino
        );
        if m.name.is_empty() {
            line.push(' ');
        } else {
            while line.len() < 72 {
                line.push(' ');
            }
            line.push(' ');
            line.push_str(&String::from_utf8_lossy(&m.name));
        }
        s.push_str(&line);
        s.push('\n');
    }
    s
}

fn mounts(info: &ProcInfo) -> String {
    let mut s = String::new();
    for m in &info.mounts {
        let _ = writeln!(
            s,
            "{} {} {} {} 0 0",
            m.source,
            String::from_utf8_lossy(&m.point),
            m.fs_type,
            m.options
        );
    }
    s
}

fn mountinfo(info: &ProcInfo) -> String {
    let mut s = String::new();
    for m in &info.mounts {
        let (major, minor) = (
            (m.dev >> 8) & 0xfff,
            (m.dev & 0xff) | ((m.dev >> 12) & !0xff),
        );
        let _ = writeln!(
            s,
            "{} {} {}:{} / {} {} - {} {} {}",
            m.id,
            m.parent,
            major,
            minor,
            String::from_utf8_lossy(&m.point),
            m.options,
            m.fs_type,
            m.source,
            m.options
        );
    }
    s
}

fn limits(e: &ProcEntry) -> String {
    let rows: [(&str, &str, &str, &str); 16] = [
        ("Max cpu time", "unlimited", "unlimited", "seconds"),
        ("Max file size", "unlimited", "unlimited", "bytes"),
        ("Max data size", "unlimited", "unlimited", "bytes"),
        ("Max stack size", "8388608", "unlimited", "bytes"),
        ("Max core file size", "0", "unlimited", "bytes"),
        ("Max resident set", "unlimited", "unlimited", "bytes"),
        ("Max processes", "63000", "63000", "processes"),
        ("Max open files", "", "4096", "files"),
        ("Max locked memory", "8388608", "8388608", "bytes"),
        ("Max address space", "unlimited", "unlimited", "bytes"),
        ("Max file locks", "unlimited", "unlimited", "locks"),
        ("Max pending signals", "63000", "63000", "signals"),
        ("Max msgqueue size", "819200", "819200", "bytes"),
        ("Max nice priority", "0", "0", ""),
        ("Max realtime priority", "0", "0", ""),
        ("Max realtime timeout", "unlimited", "unlimited", "us"),
    ];
    let mut s = format!(
        "{:<25} {:<20} {:<20} {:<10}\n",
        "Limit", "Soft Limit", "Hard Limit", "Units"
    );
    for (name, soft, hard, unit) in rows {
        let soft = if soft.is_empty() {
            e.nofile.to_string()
        } else {
            soft.to_string()
        };
        let _ = writeln!(s, "{name:<25} {soft:<20} {hard:<20} {unit:<10}");
    }
    s
}

/// The text of a file outside the process directories ("cpuinfo",
/// "sys/kernel/osrelease").
pub fn top_file(info: &ProcInfo, path: &str) -> KResult<Vec<u8>> {
    let s = match path {
        "cpuinfo" => cpuinfo(),
        "meminfo" => meminfo(info),
        "uptime" => {
            let up = info.uptime;
            let centi = up.nsec / 10_000_000;
            format!("{}.{:02} {}.{:02}\n", up.sec, centi, up.sec, centi)
        }
        "loadavg" => format!(
            "0.00 0.00 0.00 {}/{} {}\n",
            info.running.max(1),
            info.tasks.max(1),
            info.last_pid
        ),
        "stat" => proc_stat(info),
        "version" => format!(
            "{} version {} (wax@wax) (gcc (Debian 12.2.0-14) 12.2.0) {}\n",
            uname::SYSNAME,
            uname::RELEASE,
            uname::VERSION
        ),
        "filesystems" => "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\nnodev\tdevpts\n\text3\n\text2\n\text4\n".into(),
        "sys/fs/file-max" => "9223372036854775807\n".into(),
        "sys/fs/nr_open" => "1048576\n".into(),
        "sys/kernel/domainname" => format!("{}\n", String::from_utf8_lossy(&info.domainname)),
        "sys/kernel/hostname" => format!("{}\n", String::from_utf8_lossy(&info.hostname)),
        "sys/kernel/ngroups_max" => "65536\n".into(),
        "sys/kernel/osrelease" => format!("{}\n", uname::RELEASE),
        "sys/kernel/ostype" => format!("{}\n", uname::SYSNAME),
        "sys/kernel/version" => format!("{}\n", uname::VERSION),
        "sys/kernel/pid_max" => "32768\n".into(),
        "sys/kernel/random/uuid" => uuid(&info.random),
        "sys/kernel/random/boot_id" => uuid(&info.boot_id),
        "sys/vm/overcommit_memory" => "0\n".into(),
        _ => return Err(Errno::ENOENT),
    };
    Ok(s.into_bytes())
}

/// A version 4 UUID from 16 random bytes.
fn uuid(b: &[u8; 16]) -> String {
    let mut b = *b;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}\n",
        hex[0..4].concat(),
        hex[4..6].concat(),
        hex[6..8].concat(),
        hex[8..10].concat(),
        hex[10..16].concat()
    )
}

fn meminfo(info: &ProcInfo) -> String {
    let total = info.mem_total / 1024;
    let free = info.mem_total.saturating_sub(info.mem_used) / 1024;
    let mut s = String::new();
    for (k, v) in [
        ("MemTotal", total),
        ("MemFree", free),
        ("MemAvailable", free),
        ("Buffers", 0),
        ("Cached", 0),
        ("SwapCached", 0),
        ("Active", info.mem_used / 1024),
        ("Inactive", 0),
        ("HighTotal", 0),
        ("HighFree", 0),
        ("LowTotal", total),
        ("LowFree", free),
        ("SwapTotal", 0),
        ("SwapFree", 0),
        ("Dirty", 0),
        ("Writeback", 0),
        ("AnonPages", info.mem_used / 1024),
        ("Mapped", 0),
        ("Shmem", 0),
        ("Slab", 0),
        ("CommitLimit", total),
        ("Committed_AS", info.mem_used / 1024),
        ("VmallocTotal", 0),
        ("VmallocUsed", 0),
    ] {
        let _ = writeln!(s, "{:<16}{:>8} kB", format!("{k}:"), v);
    }
    s
}

fn proc_stat(info: &ProcInfo) -> String {
    let (user, system) = (info.cpu.user_ticks(), info.cpu.system_ticks());
    let up = info.uptime.sec as u64 * HZ + u64::from(info.uptime.nsec) / 10_000_000;
    let idle = up.saturating_sub(user + system);
    let cpu = format!("{user} 0 {system} {idle} 0 0 0 0 0 0");
    format!(
        "cpu  {cpu}\ncpu0 {cpu}\nintr 0\nctxt 0\nbtime {}\nprocesses {}\nprocs_running {}\nprocs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n",
        info.boot_time,
        info.last_pid,
        info.running.max(1)
    )
}

/// Linux's names for CPUID.1:EDX bits (arch/x86/include/asm/cpufeatures.h).
const EDX1: [&str; 32] = [
    "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", "", "sep", "mtrr", "pge",
    "mca", "cmov", "pat", "pse36", "pn", "clflush", "", "dts", "acpi", "mmx", "fxsr", "sse",
    "sse2", "ss", "ht", "tm", "ia64", "pbe",
];
/// CPUID.80000001h:EDX bits Linux names.
const EDX81: [(u32, &str); 4] = [(11, "syscall"), (20, "nx"), (27, "rdtscp"), (29, "lm")];
/// CPUID.1:ECX.
const ECX1: [&str; 32] = [
    "pni",
    "pclmulqdq",
    "dtes64",
    "monitor",
    "ds_cpl",
    "vmx",
    "smx",
    "est",
    "tm2",
    "ssse3",
    "cid",
    "sdbg",
    "fma",
    "cx16",
    "xtpr",
    "pdcm",
    "",
    "pcid",
    "dca",
    "sse4_1",
    "sse4_2",
    "x2apic",
    "movbe",
    "popcnt",
    "tsc_deadline_timer",
    "aes",
    "xsave",
    "osxsave",
    "avx",
    "f16c",
    "rdrand",
    "hypervisor",
];

/// CPUID.7.0:EBX bits Linux names (those Wax could report).
const EBX7: [(u32, &str); 1] = [(29, "sha_ni")];

/// The flags line: exactly the bits `wax_cpu::cpuid` reports, in Linux's
/// order (its feature words: 1:EDX, 80000001h:EDX, 1:ECX, 7.0:EBX).
pub fn cpu_flags() -> String {
    let [_, _, ecx, edx] = wax_cpu::cpuid::cpuid(1, 0);
    let max_ext = wax_cpu::cpuid::cpuid(0x8000_0000, 0)[0];
    let edx81 = if max_ext >= 0x8000_0001 {
        wax_cpu::cpuid::cpuid(0x8000_0001, 0)[3]
    } else {
        0
    };
    let mut f: Vec<&str> = Vec::new();
    f.extend((0..32).filter(|b| edx >> b & 1 != 0).map(|b| EDX1[b]));
    f.extend(
        EDX81
            .iter()
            .filter(|(b, _)| edx81 >> b & 1 != 0)
            .map(|(_, n)| *n),
    );
    f.extend((0..32).filter(|b| ecx >> b & 1 != 0).map(|b| ECX1[b]));
    let max_basic = wax_cpu::cpuid::cpuid(0, 0)[0];
    let ebx7 = if max_basic >= 7 {
        wax_cpu::cpuid::cpuid(7, 0)[1]
    } else {
        0
    };
    f.extend(
        EBX7.iter()
            .filter(|(b, _)| ebx7 >> b & 1 != 0)
            .map(|(_, n)| *n),
    );
    f.retain(|n| !n.is_empty());
    f.join(" ")
}

/// The brand string of CPUID leaves 80000002h-80000004h.
fn brand() -> String {
    let mut b = Vec::new();
    for leaf in 0x8000_0002..=0x8000_0004 {
        for r in wax_cpu::cpuid::cpuid(leaf, 0) {
            b.extend_from_slice(&r.to_le_bytes());
        }
    }
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).trim().to_string()
}

fn cpuinfo() -> String {
    let mhz = wax_cpu::cpuid::TSC_MHZ;
    // Linux's bogomips on x86 is twice the TSC rate in MHz.
    let bogomips = 2 * mhz;
    let [sig, _, _, _] = wax_cpu::cpuid::cpuid(1, 0);
    let [max_basic, ..] = wax_cpu::cpuid::cpuid(0, 0);
    let family = (sig >> 8) & 0xf;
    let model = ((sig >> 4) & 0xf) | ((sig >> 12) & 0xf0);
    let stepping = sig & 0xf;
    format!(
        "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: {family}\nmodel\t\t: {model}\n\
         model name\t: {}\nstepping\t: {stepping}\ncpu MHz\t\t: {mhz}.000\ncache size\t: 4096 KB\n\
         physical id\t: 0\nsiblings\t: 1\ncore id\t\t: 0\ncpu cores\t: 1\napicid\t\t: 0\n\
         initial apicid\t: 0\nfdiv_bug\t: no\nf00f_bug\t: no\ncoma_bug\t: no\nfpu\t\t: yes\n\
         fpu_exception\t: yes\ncpuid level\t: {max_basic}\nwp\t\t: yes\nflags\t\t: {}\n\
         bugs\t\t:\nbogomips\t: {bogomips}.00\nclflush size\t: 64\ncache_alignment\t: 64\n\
         address sizes\t: 36 bits physical, 32 bits virtual\npower management:\n\n",
        brand(),
        cpu_flags()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_flags_follow_cpuid() {
        let f = cpu_flags();
        let words: Vec<&str> = f.split(' ').collect();
        assert!(words.contains(&"sse2") && words.contains(&"cmov") && words.contains(&"nx"));
        assert!(!words.contains(&"avx") && !words.contains(&"lm"));
        assert_eq!(words.last(), Some(&"sha_ni"));
        assert!(cpuinfo().contains(&format!("model name\t: {}\n", brand())));
    }

    #[test]
    fn stat_has_52_fields_and_status_the_usual_keys() {
        let e = ProcEntry {
            pid: 7,
            ppid: 1,
            comm: b"a b".to_vec(),
            state: b'R',
            ..ProcEntry::default()
        };
        let s = stat(&ProcInfo::default(), &e);
        assert!(s.starts_with("7 (a b) R 1 "));
        let after = s.rsplit_once(')').unwrap().1;
        assert_eq!(after.split_whitespace().count() + 2, 52);
        let st = status(&e);
        for key in [
            "Name:\ta b\n",
            "State:\tR (running)\n",
            "Tgid:\t7\n",
            "PPid:\t1\n",
            "VmRSS:",
            "Threads:\t1\n",
        ] {
            assert!(st.contains(key), "{key}");
        }
    }

    #[test]
    fn maps_pad_names_to_column_73() {
        let e = ProcEntry {
            maps: vec![
                super::super::proc::MapEntry {
                    start: 0x0804_8000,
                    end: 0x0804_9000,
                    perms: *b"r-xp",
                    name: b"[heap]".to_vec(),
                    ..Default::default()
                },
                super::super::proc::MapEntry {
                    start: 0xf7f0_0000,
                    end: 0xf7f0_1000,
                    perms: *b"rw-p",
                    name: Vec::new(),
                    ..Default::default()
                },
            ],
            ..ProcEntry::default()
        };
        let m = maps(&e);
        let lines: Vec<&str> = m.lines().collect();
        assert_eq!(lines[0].find("[heap]"), Some(73));
        assert_eq!(lines[1], "f7f00000-f7f01000 rw-p 00000000 00:00 0 ");
    }

    #[test]
    fn uuid_is_version_4() {
        let u = uuid(&[0xff; 16]);
        assert_eq!(u, "ffffffff-ffff-4fff-bfff-ffffffffffff\n");
    }
}
