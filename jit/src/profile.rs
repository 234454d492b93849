//! What ran hot in earlier runs, kept on disk beside the code cache, so a
//! later run translates those pages at their first entry instead of
//! interpreting them up to the threshold again.
//!
//! A page is remembered by its guest page number and a digest of its
//! bytes, with a [`Hint`]: where control entered it (the translation's
//! entries) and where the interpreter's blocks started (the only code
//! translated). The two are kept apart: a block start is often only where
//! a time slice happened to stop the interpreter, and made an entry it
//! splits the page's code at every such point, one more with every run
//! (sha256sum's page had 1,510 blocks after six runs, each run slower than
//! the last). Because the
//! translation of the same page from the same hints is the same wasm, the
//! module then comes out of the on-disk code cache: from the third run on,
//! a start-up pays neither the interpretation nor the compile.
//!
//! Hints never affect what the guest computes: a translation is made from
//! the page's bytes as they are now, and a stale or colliding hint only
//! makes a module with useless entries. The file is read when a page
//! first runs long enough to be looked up (a short run, such as most
//! start-ups of small tools, never reads it) and written at exit through a temporary file and a rename, so runs in
//! parallel never see half a file (the last writer's view wins); a file
//! that fails its checksum, or comes from another translator, is ignored.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs;
use std::path::PathBuf;

/// Bumped whenever translation changes in a way that makes old hints
/// worse than none.
const FORMAT: &[u8; 8] = b"WAXPRF04";
/// Pages remembered at most; the ones unused for the most runs go first.
const MAX_PAGES: usize = 8192;
/// Entries, and block starts, remembered per page at most.
const MAX_STARTS: usize = 1024;
/// Set in a page's count of entries in the file: [`Hint::no_reuse`].
const NO_REUSE: u32 = 1 << 31;

/// A page's digest: its guest page number and its bytes.
pub type PageDigest = [u8; 16];

pub fn digest(vpage: u32, code: &[u8]) -> PageDigest {
    let mut h = Sha256::new();
    h.update(vpage.to_le_bytes());
    h.update(code);
    let mut d = [0u8; 16];
    d.copy_from_slice(&h.finalize()[..16]);
    d
}

/// What the profile remembers of a page: EIPs, sorted, without repeats.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hint {
    /// Where control entered the page: the translation's entries.
    pub entries: Vec<u32>,
    /// Where the interpreter's blocks started, and the entries: the code
    /// that ran, the only code translated.
    pub ran: Vec<u32>,
    /// The page's module kept leaving where a reused page lookup found
    /// another page: it is translated without
    /// [`crate::Options::reuse_pages`] (`exec.rs`).
    pub no_reuse: bool,
}

impl Hint {
    /// A hint from `entries` and block starts `ran` (any order; `ran`
    /// gains the entries).
    pub fn new(mut entries: Vec<u32>, mut ran: Vec<u32>) -> Hint {
        ran.extend_from_slice(&entries);
        for v in [&mut entries, &mut ran] {
            v.sort_unstable();
            v.dedup();
            v.truncate(MAX_STARTS);
        }
        Hint {
            entries,
            ran,
            no_reuse: false,
        }
    }

    /// This hint, translated without page reuse if `no_reuse`.
    pub fn without_reuse(mut self, no_reuse: bool) -> Hint {
        self.no_reuse = no_reuse;
        self
    }

    /// This hint and `other`'s together.
    fn union(&self, other: &Hint) -> Hint {
        let cat = |a: &[u32], b: &[u32]| [a, b].concat();
        Hint::new(
            cat(&self.entries, &other.entries),
            cat(&self.ran, &other.ran),
        )
        .without_reuse(self.no_reuse || other.no_reuse)
    }

    fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.ran.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Kept {
    hint: Stored,
    /// The run (of this file's count) that last used or wrote the hint.
    run: u32,
}

/// Where a hint is: in the file read (`Profile::file`: reading a profile
/// of thousands of pages allocates nothing per page, so a run that asks it
/// about one page does not pay for all of them; `entries` EIPs at `at`,
/// then `ran` EIPs), or made in this run.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Stored {
    InFile {
        at: u32,
        entries: u32,
        ran: u32,
        no_reuse: bool,
    },
    Owned(Hint),
}

/// Hashes a [`PageDigest`] (already uniformly distributed) by its first
/// eight bytes, and a guest page number by one multiplication: SipHash
/// made the index of a large profile cost milliseconds to build.
#[derive(Default)]
struct QuickHasher(u64);

impl std::hash::Hasher for QuickHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            self.0 = (self.0 ^ u64::from_le_bytes(w)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.0 = u64::from(v).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn write_usize(&mut self, _: usize) {}
}

type Quick = std::hash::BuildHasherDefault<QuickHasher>;

#[derive(Debug, Default)]
pub struct Profile {
    path: Option<PathBuf>,
    /// Runs that have written the file.
    runs: u32,
    pages: HashMap<PageDigest, Kept, Quick>,
    /// Guest pages with at least one hint (a cheap test before hashing).
    vpages: HashMap<u32, u32, Quick>,
    /// The file read, which `Stored::InFile` points into.
    file: Vec<u8>,
    /// Hints used in this run: their age is renewed when the file is
    /// written, which only new hints cause (a run that only uses the
    /// profile leaves the file alone).
    used: Vec<PageDigest>,
    changed: bool,
    /// Whether the file at `path` has been read (or there is none).
    loaded: bool,
}

impl Profile {
    /// An empty profile that is never saved.
    pub fn in_memory() -> Profile {
        Profile {
            loaded: true,
            ..Profile::default()
        }
    }

    /// The profile kept at `path` (empty if it is missing or unusable),
    /// read at its first use.
    pub fn open(path: PathBuf) -> Profile {
        Profile {
            path: Some(path),
            ..Profile::default()
        }
    }

    /// Reads the file, once.
    fn load(&mut self) {
        if self.loaded {
            return;
        }
        self.loaded = true;
        let Some(path) = self.path.take() else {
            return;
        };
        let mut p = fs::read(&path)
            .ok()
            .and_then(Profile::parse)
            .unwrap_or_default();
        p.path = Some(path);
        p.runs = p.runs.wrapping_add(1);
        p.loaded = true;
        *self = p;
    }

    /// Whether any page at `vpage` is remembered.
    pub fn knows_vpage(&mut self, vpage: u32) -> bool {
        self.load();
        self.vpages.contains_key(&vpage)
    }

    /// The hint remembered for a page (marking it used).
    pub fn hint(&mut self, d: &PageDigest) -> Option<Hint> {
        self.load();
        let hint = self.hint_of(self.pages.get(d)?);
        self.used.push(*d);
        Some(hint)
    }

    fn hint_of(&self, k: &Kept) -> Hint {
        match &k.hint {
            Stored::Owned(h) => h.clone(),
            Stored::InFile {
                at,
                entries,
                ran,
                no_reuse,
            } => {
                let words = |at: usize, len: u32| -> Vec<u32> {
                    let bytes = self.file.get(at..at + len as usize * 4);
                    bytes
                        .unwrap_or_default()
                        .chunks_exact(4)
                        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect()
                };
                let at = *at as usize;
                Hint {
                    entries: words(at, *entries),
                    ran: words(at + *entries as usize * 4, *ran),
                    no_reuse: *no_reuse,
                }
            }
        }
    }

    /// Remembers the hint of a page that ran warm.
    pub fn remember(&mut self, vpage: u32, d: PageDigest, hint: Hint) {
        if hint.is_empty() {
            return;
        }
        self.load();
        if self
            .pages
            .get(&d)
            .is_some_and(|k| k.run == self.runs && self.hint_of(k) == hint)
        {
            return;
        }
        let kept = Kept {
            hint: Stored::Owned(hint),
            run: self.runs,
        };
        if self.pages.insert(d, kept).is_none() {
            *self.vpages.entry(vpage).or_default() += 1;
        }
        self.changed = true;
    }

    /// Adds to a page's hint (or remembers the page with `more`): entries
    /// a module made from the hint missed in this run.
    pub fn extend(&mut self, vpage: u32, d: PageDigest, more: Hint) {
        self.load();
        let hint = match self.pages.get(&d) {
            Some(k) => self.hint_of(k).union(&more),
            None => more,
        };
        self.remember(vpage, d, hint);
    }

    /// Whether the profile has a file (it outlives the run).
    pub fn is_persistent(&self) -> bool {
        self.path.is_some()
    }

    pub fn len(&mut self) -> usize {
        self.load();
        self.pages.len()
    }

    pub fn is_empty(&mut self) -> bool {
        self.len() == 0
    }

    /// Writes the profile back if it changed (and has a file). Errors
    /// only lose hints, so they are ignored.
    pub fn save(&mut self) {
        let Some(path) = self.path.clone() else {
            return;
        };
        if !self.changed {
            return;
        }
        self.changed = false;
        for d in std::mem::take(&mut self.used) {
            if let Some(h) = self.pages.get_mut(&d) {
                h.run = self.runs;
            }
        }
        let bytes = self.serialize();
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        if fs::write(&tmp, &bytes).is_ok() && fs::rename(&tmp, &path).is_err() {
            let _ = fs::remove_file(&tmp);
        }
    }

    fn serialize(&self) -> Vec<u8> {
        let mut pages: Vec<(&PageDigest, &Kept)> = self.pages.iter().collect();
        // Most recently used first; the oldest fall off the end.
        pages.sort_by(|a, b| b.1.run.cmp(&a.1.run).then(a.0.cmp(b.0)));
        pages.truncate(MAX_PAGES);
        let mut body = Vec::new();
        body.extend_from_slice(&self.runs.to_le_bytes());
        body.extend_from_slice(&(pages.len() as u32).to_le_bytes());
        for (d, k) in pages {
            body.extend_from_slice(d);
            body.extend_from_slice(&k.run.to_le_bytes());
            let h = self.hint_of(k);
            let flags = if h.no_reuse { NO_REUSE } else { 0 };
            body.extend_from_slice(&(h.entries.len() as u32 | flags).to_le_bytes());
            body.extend_from_slice(&(h.ran.len() as u32).to_le_bytes());
            for s in h.entries.iter().chain(&h.ran) {
                body.extend_from_slice(&s.to_le_bytes());
            }
        }
        let mut out = FORMAT.to_vec();
        out.extend_from_slice(&checksum(&body));
        out.extend(body);
        out
    }

    /// The profile in file `b` (kept: the hints' EIPs stay in it).
    fn parse(b: Vec<u8>) -> Option<Profile> {
        let body = b.strip_prefix(FORMAT.as_slice())?;
        let (sum, body) = body.split_at_checked(16)?;
        if checksum(body) != *sum {
            return None;
        }
        let mut r = Reader(body);
        let runs = r.u32()?;
        let n = (r.u32()? as usize).min(MAX_PAGES);
        let mut p = Profile {
            runs,
            ..Profile::default()
        };
        p.pages.reserve(n);
        p.vpages.reserve(n);
        for _ in 0..n {
            let d: PageDigest = r.take(16)?.try_into().ok()?;
            let run = r.u32()?;
            let (entries, ran) = (r.u32()?, r.u32()?);
            let (no_reuse, entries) = (entries & NO_REUSE != 0, entries & !NO_REUSE);
            if ran == 0 || entries > ran || ran as usize > MAX_STARTS {
                return None;
            }
            let at = (b.len() - r.0.len()) as u32;
            r.take(entries as usize * 4)?;
            // `ran` holds the entries too, so it is never empty.
            let first = r.u32()?;
            r.take((ran as usize - 1) * 4)?;
            *p.vpages.entry(first >> 12).or_default() += 1;
            let hint = Stored::InFile {
                at,
                entries,
                ran,
                no_reuse,
            };
            p.pages.insert(d, Kept { hint, run });
        }
        p.file = b;
        Some(p)
    }
}

/// The file's checksum (of a cache, against damage, not attack): two
/// multiply-rotate lanes over the body's 8-byte words and its length, a
/// fraction of SHA-256's cost on a profile of megabytes.
fn checksum(b: &[u8]) -> [u8; 16] {
    let (mut x, mut y) = (0x9e37_79b9_7f4a_7c15u64, 0x6a09_e667_f3bc_c909u64);
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        let w = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        x = (x ^ w).wrapping_mul(0xff51_afd7_ed55_8ccd).rotate_left(31);
        y = y
            .wrapping_add(w)
            .wrapping_mul(0xc4ce_b9fe_1a85_ec53)
            .rotate_left(27);
    }
    let mut tail = [0u8; 8];
    tail[..words.remainder().len()].copy_from_slice(words.remainder());
    let t = u64::from_le_bytes(tail) ^ ((b.len() as u64) << 3);
    x = (x ^ t).wrapping_mul(0xff51_afd7_ed55_8ccd);
    y = (y ^ x.rotate_left(17)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^= y >> 29;
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&x.to_le_bytes());
    out[8..].copy_from_slice(&y.to_le_bytes());
    out
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let (a, b) = self.0.split_at_checked(n)?;
        self.0 = b;
        Some(a)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("wax-profile-{}", std::process::id()));
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn hints_survive_a_save_and_a_reopen() {
        let path = dir().join("roundtrip");
        let _ = fs::remove_file(&path);
        let code = vec![0x90u8; 4096];
        let d = digest(0x8048, &code);
        let mut p = Profile::open(path.clone());
        assert!(p.is_empty());
        p.remember(
            0x8048,
            d,
            Hint::new(vec![0x0804_8010], vec![0x0804_8000, 0x0804_8020]),
        );
        p.save();
        let mut q = Profile::open(path.clone());
        assert!(q.knows_vpage(0x8048));
        assert!(!q.knows_vpage(0x8049));
        let hint = q.hint(&d).unwrap();
        assert_eq!(hint.entries, vec![0x0804_8010]);
        assert_eq!(hint.ran, vec![0x0804_8000, 0x0804_8010, 0x0804_8020]);
        assert!(!hint.no_reuse);
        // Other bytes at the same page are another page.
        assert_eq!(q.hint(&digest(0x8048, &[0u8; 4096])), None);
        // A page translated without page reuse is remembered so.
        let e = digest(0x8049, &code);
        q.remember(
            0x8049,
            e,
            Hint::new(vec![0x0804_9000], vec![]).without_reuse(true),
        );
        q.save();
        let mut r = Profile::open(path.clone());
        let hint = r.hint(&e).unwrap();
        assert!(hint.no_reuse);
        assert_eq!(hint.entries, vec![0x0804_9000]);
        assert!(!r.hint(&d).unwrap().no_reuse);
        // An extension keeps it.
        r.extend(0x8049, e, Hint::new(vec![0x0804_9010], vec![]));
        assert!(r.hint(&e).unwrap().no_reuse);
        let _ = fs::remove_file(&path);
    }

    #[test]
    fn a_hint_grows_by_extension() {
        let mut p = Profile::in_memory();
        let d = digest(0x8048, &[0x90; 4096]);
        p.remember(0x8048, d, Hint::new(vec![0x0804_8010], vec![0x0804_8020]));
        p.extend(0x8048, d, Hint::new(vec![0x0804_8000], vec![0x0804_8030]));
        let hint = p.hint(&d).unwrap();
        assert_eq!(hint.entries, vec![0x0804_8000, 0x0804_8010]);
        assert_eq!(
            hint.ran,
            vec![0x0804_8000, 0x0804_8010, 0x0804_8020, 0x0804_8030]
        );
        let e = digest(0x8049, &[0x90; 4096]);
        p.extend(0x8049, e, Hint::new(vec![0x0804_9000], vec![]));
        assert_eq!(
            p.hint(&e),
            Some(Hint::new(vec![0x0804_9000], vec![0x0804_9000]))
        );
    }

    #[test]
    fn the_file_is_read_at_first_use_and_an_unused_profile_writes_nothing() {
        let path = dir().join("lazy");
        let _ = fs::remove_file(&path);
        let mut p = Profile::open(path.clone());
        let one = Hint::new(vec![0x0804_8000], vec![]);
        p.remember(0x8048, digest(0x8048, &[1; 16]), one);
        p.save();
        let written = fs::read(&path).unwrap();
        // Opened, never asked: saving leaves the file as it was.
        let mut idle = Profile::open(path.clone());
        idle.save();
        assert_eq!(fs::read(&path).unwrap(), written);
        // Opened before the file went away, asked after: nothing to read.
        let mut late = Profile::open(path.clone());
        fs::remove_file(&path).unwrap();
        assert!(!late.knows_vpage(0x8048));
    }

    #[test]
    fn a_damaged_or_foreign_file_is_ignored() {
        let path = dir().join("damaged");
        let mut p = Profile::open(path.clone());
        p.remember(1, digest(1, &[1; 4096]), Hint::new(vec![0x1000], vec![]));
        p.save();
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert!(Profile::open(path.clone()).is_empty());
        fs::write(&path, b"WAXPRF01 something else").unwrap();
        assert!(Profile::open(path.clone()).is_empty());
        fs::write(&path, &bytes[..20]).unwrap();
        assert!(Profile::open(path.clone()).is_empty());
        let _ = fs::remove_file(&path);
    }

    #[test]
    fn the_oldest_pages_fall_off_first() {
        let mut p = Profile::in_memory();
        for i in 0..(MAX_PAGES as u32 + 10) {
            p.runs = i;
            p.remember(i, digest(i, &[0; 16]), Hint::new(vec![i << 12], vec![]));
        }
        let mut q = Profile::parse(p.serialize()).unwrap();
        assert_eq!(q.len(), MAX_PAGES);
        assert!(q.knows_vpage(MAX_PAGES as u32 + 9));
        assert!(!q.knows_vpage(0));
    }
}
