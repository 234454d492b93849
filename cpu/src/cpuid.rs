//! CPUID: the identity and feature bits Wax reports.
//!
//! The guest sees a real P6-family part, an Intel Core 2 "Merom" (family 6,
//! model 15, stepping 6): its feature set is a superset of everything Wax
//! implements or plans to (x87, MMX, FXSR, SSE up to SSSE3, CMOV, CX8, TSC),
//! so software that keys behaviour on family/model sees a coherent CPU. Only
//! the bits of what is actually implemented are reported (DESIGN.md: never
//! more), each driven by one constant below. The brand string says it is
//! Wax.
//!
//! Switching a unit on: the x87 (`interp/x87`) and SSE (`interp/sse`)
//! engineers flip `X87`, `MMX`, `FXSR`, `SSE`, `SSE2`, `SSE3` or `SSSE3`
//! to `true` when their instructions are complete. All are off by default.
//!
//! What user mode can observe decides the rest of leaf 1: paging and
//! machine features (PSE, PAE, PGE, MTRR, PAT, APIC, MCE, MCA, ...) and MSR
//! access (RDMSR/WRMSR are privileged) are invisible to a user process and
//! not implemented, so they are not reported. SEP is off: SYSENTER is not a
//! way into Wax's kernel (`int 0x80` is). The cache-control instructions
//! CLFLUSH and the fences LFENCE/MFENCE/SFENCE and PREFETCHh are executed as
//! no-ops whatever the bits say (architecturally LFENCE/MFENCE come with
//! SSE2 and SFENCE/PREFETCHh with SSE); CLFLUSH has its own bit (CLFSH),
//! which is reported because CLFLUSH is implemented.

/// x87 FPU on chip (CPUID.1:EDX.FPU). Set by the x87 work.
pub const X87: bool = true;
/// MMX (CPUID.1:EDX.MMX).
pub const MMX: bool = true;
/// FXSAVE/FXRSTOR (CPUID.1:EDX.FXSR).
pub const FXSR: bool = true;
/// SSE (CPUID.1:EDX.SSE).
pub const SSE: bool = true;
/// SSE2 (CPUID.1:EDX.SSE2).
pub const SSE2: bool = true;
/// SSE3 (CPUID.1:ECX.SSE3).
pub const SSE3: bool = true;
/// SSSE3 (CPUID.1:ECX.SSSE3).
pub const SSSE3: bool = true;

/// The SHA extensions (CPUID.7.0:EBX.SHA, `interp/sse/sha.rs`). Not a
/// Core 2 feature: Wax reports it beyond the part it names because every
/// host it is compared with has it (Intel since Goldmont and Ice Lake,
/// AMD since Zen) and OpenSSL's SHA-1 and SHA-256 are 20 times fewer
/// instructions with it. A program that checks the bit (as it must) finds
/// the instructions; nothing keys on the pairing with family 6 model 15.
pub const SHA: bool = true;

/// Integer-core features that are implemented: RDTSC, CMPXCHG8B, CMOVcc
/// (and FCMOVcc once the FPU is on), CLFLUSH.
const TSC: bool = true;
const CX8: bool = true;
const CMOV: bool = true;
const CLFSH: bool = true;
/// Execute-disable: the memory model honours PROT_EXEC, which a process
/// can observe (CPUID.80000001h:EDX.NX).
const NX: bool = true;

/// CPUID.1:EDX bit numbers (Intel SDM Vol. 2A, table 3-11).
mod edx1 {
    pub const FPU: u32 = 0;
    pub const TSC: u32 = 4;
    pub const CX8: u32 = 8;
    pub const CMOV: u32 = 15;
    pub const CLFSH: u32 = 19;
    pub const MMX: u32 = 23;
    pub const FXSR: u32 = 24;
    pub const SSE: u32 = 25;
    pub const SSE2: u32 = 26;
}

/// CPUID.1:ECX bit numbers (Intel SDM Vol. 2A, table 3-10).
mod ecx1 {
    pub const SSE3: u32 = 0;
    pub const SSSE3: u32 = 9;
}

/// CPUID.7.0:EBX bit numbers (Intel SDM Vol. 2A, table 3-8).
mod ebx7 {
    pub const SHA: u32 = 29;
}

/// Highest basic leaf reported: 7, for the structured extended features
/// (leaves 5 and 6, MONITOR and power management, report nothing).
const MAX_BASIC: u32 = 7;
/// Highest extended leaf reported.
const MAX_EXTENDED: u32 = 0x8000_0004;

/// The nominal rate of the time-stamp counter in MHz: the kernel derives
/// RDTSC from its monotonic clock at this rate, and /proc/cpuinfo reports
/// it as "cpu MHz" (a constant, invariant TSC, as on current parts).
pub const TSC_MHZ: u64 = 2400;

/// Family 6, model 15, stepping 6: Core 2 Duo (Merom/Conroe), a P6-family
/// part whose feature set covers everything Wax implements.
const SIGNATURE: u32 = 0x0000_06f6;
/// CLFLUSH line size in 8-byte units (64 bytes), CPUID.1:EBX[15:8].
const CLFLUSH_LINE: u32 = 8;

/// The brand string (leaves 0x80000002..4), NUL padded to 48 bytes.
const BRAND: &[u8] = b"Wax virtual i386 CPU (Intel Core 2 compatible)";

const fn bit(on: bool, n: u32) -> u32 {
    (on as u32) << n
}

/// CPUID.1:EDX: the features Wax implements.
const fn leaf1_edx() -> u32 {
    bit(X87, edx1::FPU)
        | bit(TSC, edx1::TSC)
        | bit(CX8, edx1::CX8)
        | bit(CMOV, edx1::CMOV)
        | bit(CLFSH, edx1::CLFSH)
        | bit(MMX, edx1::MMX)
        | bit(FXSR, edx1::FXSR)
        | bit(SSE, edx1::SSE)
        | bit(SSE2, edx1::SSE2)
}

/// CPUID.1:ECX.
const fn leaf1_ecx() -> u32 {
    bit(SSE3, ecx1::SSE3) | bit(SSSE3, ecx1::SSSE3)
}

/// Executes CPUID for `leaf` (EAX) and `subleaf` (ECX); returns
/// `[EAX, EBX, ECX, EDX]`.
pub fn cpuid(leaf: u32, subleaf: u32) -> [u32; 4] {
    match leaf {
        0 => vendor(),
        1 => [
            SIGNATURE,
            CLFLUSH_LINE << 8 | 1 << 16,
            leaf1_ecx(),
            leaf1_edx(),
        ],
        // One descriptor, 0xff: "no cache information here, use leaf 4".
        2 => [0x00ff_0001, 0, 0, 0],
        3 | 5 | 6 => [0; 4],
        4 => cache_params(subleaf),
        // Subleaf 0: EAX is the highest subleaf (0).
        7 if subleaf == 0 => [0, bit(SHA, ebx7::SHA), 0, 0],
        7 => [0; 4],
        0x8000_0000 => [MAX_EXTENDED, 0, 0, 0],
        0x8000_0001 => [0, 0, 0, bit(NX, 20)],
        0x8000_0002..=0x8000_0004 => brand((leaf - 0x8000_0002) as usize),
        // Intel: an input above the highest leaf returns the data of the
        // highest basic leaf (SDM Vol. 2A, CPUID, "INPUT EAX").
        _ => cpuid(MAX_BASIC, subleaf),
    }
}

/// Leaf 0: highest basic leaf and "GenuineIntel" in EBX, EDX, ECX.
fn vendor() -> [u32; 4] {
    let v = b"GenuineIntel";
    let word = |i: usize| u32::from_le_bytes([v[i], v[i + 1], v[i + 2], v[i + 3]]);
    [MAX_BASIC, word(0), word(8), word(4)]
}

/// Leaf 4, deterministic cache parameters of a Core 2 core: 32 KiB L1D and
/// L1I (8-way), a 4 MiB L2 (16-way), 64-byte lines, one core per package.
fn cache_params(subleaf: u32) -> [u32; 4] {
    // (type: 1 data, 2 instruction, 3 unified; level; ways; size in bytes)
    const CACHES: [(u32, u32, u32, u32); 3] = [
        (1, 1, 8, 32 << 10),
        (2, 1, 8, 32 << 10),
        (3, 2, 16, 4 << 20),
    ];
    const LINE: u32 = 64;
    let Some(&(kind, level, ways, size)) = CACHES.get(subleaf as usize) else {
        return [0; 4];
    };
    let sets = size / (ways * LINE);
    // EAX[8] self-initialising; sharing fields (threads, cores) minus one
    // are zero: one logical processor.
    let eax = kind | level << 5 | 1 << 8;
    let ebx = (ways - 1) << 22 | (LINE - 1);
    [eax, ebx, sets - 1, 0]
}

/// One 16-byte quarter of the brand string.
fn brand(part: usize) -> [u32; 4] {
    let mut s = [0u8; 48];
    s[..BRAND.len()].copy_from_slice(BRAND);
    let at = |i: usize| {
        let o = part * 16 + i * 4;
        u32::from_le_bytes([s[o], s[o + 1], s[o + 2], s[o + 3]])
    };
    [at(0), at(1), at(2), at(3)]
}

/// The AT_HWCAP value Linux passes to i386 processes: CPUID.1:EDX.
pub fn hwcap() -> u32 {
    leaf1_edx()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(regs: &[u32]) -> Vec<u8> {
        regs.iter().flat_map(|r| r.to_le_bytes()).collect()
    }

    #[test]
    fn vendor_and_signature() {
        let [max, b, c, d] = cpuid(0, 0);
        assert_eq!(max, MAX_BASIC);
        assert_eq!(bytes(&[b, d, c]), b"GenuineIntel");
        let eax = cpuid(1, 0)[0];
        let family = (eax >> 8) & 0xf;
        let model = (eax >> 4) & 0xf | ((eax >> 16) & 0xf) << 4;
        assert_eq!((family, model), (6, 15));
    }

    #[test]
    fn integer_features_reported_and_nothing_else() {
        let edx = cpuid(1, 0)[3];
        assert_eq!(edx & (1 << 4 | 1 << 8 | 1 << 15), 1 << 4 | 1 << 8 | 1 << 15);
        // Never PSE, MSR, PAE, APIC, SEP, PAT.
        for b in [3, 5, 6, 9, 11, 16] {
            assert_eq!(edx & (1 << b), 0, "bit {b}");
        }
        assert_eq!(hwcap(), edx);
        assert_eq!(edx & 1, u32::from(X87));
        assert_eq!(edx >> 25 & 1, u32::from(SSE));
    }

    #[test]
    fn brand_string_names_wax() {
        let mut s = Vec::new();
        for leaf in 0x8000_0002..=0x8000_0004 {
            s.extend(bytes(&cpuid(leaf, 0)));
        }
        assert!(s.starts_with(b"Wax "));
        assert_eq!(s.len(), 48);
        assert_eq!(s[47], 0);
        assert_eq!(cpuid(0x8000_0000, 0)[0], MAX_EXTENDED);
    }

    #[test]
    fn leaf4_describes_l1d_and_terminates() {
        let [eax, ebx, ecx, _] = cpuid(4, 0);
        let size = ((ebx >> 22) + 1) * ((ebx >> 12 & 0x3ff) + 1) * ((ebx & 0xfff) + 1) * (ecx + 1);
        assert_eq!((eax & 0x1f, size), (1, 32 << 10));
        assert_eq!(cpuid(4, 3)[0] & 0x1f, 0);
    }

    #[test]
    fn leaf7_reports_sha_and_nothing_else() {
        assert_eq!(cpuid(7, 0), [0, 1 << 29, 0, 0]);
        assert_eq!(cpuid(7, 1), [0; 4]);
    }

    #[test]
    fn leaf_above_maximum_returns_highest_basic_leaf() {
        assert_eq!(cpuid(8, 0), cpuid(MAX_BASIC, 0));
        assert_eq!(cpuid(0x4000_0000, 1), cpuid(MAX_BASIC, 1));
    }
}
