//! A persistent cache of compiled modules, so a page compiled by one run
//! is loaded by the next in well under a millisecond instead of compiled
//! again (Cranelift spends tens of milliseconds on a full page).
//!
//! Files are named by the SHA-256 of the engine's compatibility
//! fingerprint (wasmtime version and every setting that changes code)
//! followed by the module's wasm bytes, which the translator derives only
//! from the page's bytes, its address, its entries and the translator's
//! options: a hit is the same module compiled by the same compiler. Each
//! file holds a magic number, the SHA-256 of the compiled bytes and the
//! bytes; a file that does not check out (truncated, corrupt, another
//! format) is deleted and treated as a miss, since the engine loads
//! compiled code without validating it. Files are written to a temporary
//! name and renamed, so concurrent runs never see half a file. The
//! directory is kept under a size bound by deleting the least recently
//! written files. Any I/O failure disables the cache for the rest of the
//! run: it is an optimisation, never a reason to fail.

use sha2::{Digest, Sha256};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"WAXJIT\x01\x00";
const HEADER: usize = MAGIC.len() + 32;

/// Counters for `--stats`.
#[derive(Clone, Copy, Debug, Default)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub writes: u64,
    /// Files that failed the integrity check.
    pub rejected: u64,
    /// Files deleted to stay within the size bound.
    pub evicted: u64,
    /// Translations recalled from the memo (`memo.rs`), whose module was
    /// loaded without translating the page (also counted in `hits`).
    pub recalled: u64,
    /// Memo entries written.
    pub noted: u64,
}

pub struct DiskCache {
    dir: PathBuf,
    /// SHA-256 state after the engine fingerprint.
    seed: Sha256,
    max_bytes: u64,
    /// Bytes in the directory, counted on first write.
    used: Option<u64>,
    disabled: bool,
    pub stats: CacheStats,
}

/// The default directory: `$XDG_CACHE_HOME/wax/jit`, else
/// `$HOME/.cache/wax/jit`.
pub fn default_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))?;
    Some(base.join("wax").join("jit"))
}

impl DiskCache {
    /// A cache in `dir` for an engine whose compatibility fingerprint is
    /// `fingerprint`, holding at most `max_bytes`.
    pub fn new(dir: PathBuf, fingerprint: &[u8], max_bytes: u64) -> DiskCache {
        let mut seed = Sha256::new();
        seed.update(fingerprint);
        let disabled = fs::create_dir_all(&dir).is_err();
        DiskCache {
            dir,
            seed,
            max_bytes,
            used: None,
            disabled,
            stats: CacheStats::default(),
        }
    }

    /// The key of a module.
    pub fn key(&self, wasm: &[u8]) -> String {
        hex(&self.digest(wasm))
    }

    fn digest(&self, wasm: &[u8]) -> [u8; 32] {
        let mut h = self.seed.clone();
        h.update(wasm);
        h.finalize().into()
    }

    /// The key of the memo entry for translation inputs `input`.
    fn memo_key(&self, input: &[u8; 32]) -> String {
        let mut h = self.seed.clone();
        h.update(b"\0memo\0");
        h.update(input);
        hex(&h.finalize())
    }

    /// The compiled bytes of the translation with inputs `input` (see
    /// `memo.rs`) and the record noted with it, if both files are present
    /// and intact.
    pub fn recall(&mut self, input: &[u8; 32]) -> Option<(Vec<u8>, Vec<u8>)> {
        let entry = self.read(&self.memo_key(input))?;
        let (wasm_key, record) = entry.split_at_checked(32)?;
        let compiled = self.load(&hex(wasm_key))?;
        self.stats.recalled += 1;
        Some((record.to_vec(), compiled))
    }

    /// Notes that the translation with inputs `input` is `wasm` (whose
    /// compiled bytes are stored under [`DiskCache::key`]), with `record`.
    pub fn note(&mut self, input: &[u8; 32], wasm: &[u8], record: &[u8]) {
        let mut entry = self.digest(wasm).to_vec();
        entry.extend_from_slice(record);
        if self.put(&self.memo_key(input), &entry) {
            self.stats.noted += 1;
        }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.bin"))
    }

    /// The compiled bytes stored under `key`, if present and intact.
    pub fn load(&mut self, key: &str) -> Option<Vec<u8>> {
        let got = self.read(key);
        match got {
            Some(_) => self.stats.hits += 1,
            None => self.stats.misses += 1,
        }
        got
    }

    /// The bytes of the file for `key`, if present and intact (a damaged
    /// file is deleted).
    fn read(&mut self, key: &str) -> Option<Vec<u8>> {
        if self.disabled {
            return None;
        }
        let path = self.path(key);
        let mut file = fs::read(&path).ok()?;
        match check(&file) {
            Some(()) => Some(file.split_off(HEADER)),
            None => {
                self.stats.rejected += 1;
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    /// Stores compiled bytes under `key`.
    pub fn store(&mut self, key: &str, compiled: &[u8]) {
        if self.put(key, compiled) {
            self.stats.writes += 1;
        }
    }

    /// Writes the file for `key`, within the size bound; whether it was
    /// written.
    fn put(&mut self, key: &str, bytes: &[u8]) -> bool {
        if self.disabled {
            return false;
        }
        if self.write(key, bytes).is_err() {
            self.disabled = true;
            return false;
        }
        let used = match self.used {
            Some(u) => u,
            None => self.scan().iter().map(|f| f.1).sum(),
        } + (HEADER + bytes.len()) as u64;
        self.used = Some(used);
        if used > self.max_bytes {
            self.shrink();
        }
        true
    }

    fn write(&self, key: &str, compiled: &[u8]) -> std::io::Result<()> {
        let tmp = self.dir.join(format!(".{key}.{}.tmp", std::process::id()));
        let mut f = fs::File::create(&tmp)?;
        f.write_all(MAGIC)?;
        f.write_all(&Sha256::digest(compiled))?;
        f.write_all(compiled)?;
        drop(f);
        fs::rename(&tmp, self.path(key)).inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })
    }

    /// (path, bytes, modified) of every cache file.
    fn scan(&self) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
        let Ok(rd) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        rd.flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "bin"))
            .filter_map(|e| {
                let m = e.metadata().ok()?;
                Some((e.path(), m.len(), m.modified().ok()?))
            })
            .collect()
    }

    /// Deletes the oldest files until the directory is at 3/4 of its bound.
    fn shrink(&mut self) {
        let mut files = self.scan();
        files.sort_by_key(|f| f.2);
        let mut used: u64 = files.iter().map(|f| f.1).sum();
        for (path, len, _) in files {
            if used <= self.max_bytes / 4 * 3 {
                break;
            }
            if fs::remove_file(&path).is_ok() {
                used -= len;
                self.stats.evicted += 1;
            }
        }
        self.used = Some(used);
    }
}

/// Checks a file's magic and digest.
fn check(file: &[u8]) -> Option<()> {
    let (head, body) = (file.get(..HEADER)?, &file[HEADER..]);
    (head[..MAGIC.len()] == *MAGIC && head[MAGIC.len()..] == Sha256::digest(body)[..]).then_some(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("wax-jit-cache-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn round_trip_and_keys() {
        let dir = temp_dir("rt");
        let mut c = DiskCache::new(dir.clone(), b"engine A", 1 << 20);
        let k = c.key(b"module");
        assert_ne!(k, c.key(b"module2"));
        assert_ne!(
            k,
            DiskCache::new(dir.clone(), b"engine B", 1 << 20).key(b"module")
        );
        assert_eq!(c.load(&k), None);
        c.store(&k, b"compiled code");
        assert_eq!(c.load(&k).as_deref(), Some(&b"compiled code"[..]));
        assert_eq!((c.stats.hits, c.stats.misses, c.stats.writes), (1, 1, 1));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_memo_leads_to_the_module_noted_with_it() {
        let dir = temp_dir("memo");
        let mut c = DiskCache::new(dir.clone(), b"e", 1 << 20);
        let input = [7u8; 32];
        assert_eq!(c.recall(&input), None);
        c.note(&input, b"wasm", b"record");
        // Noted before the module is compiled: nothing to recall yet.
        assert_eq!(c.recall(&input), None);
        c.store(&c.key(b"wasm"), b"compiled");
        assert_eq!(
            c.recall(&input),
            Some((b"record".to_vec(), b"compiled".to_vec()))
        );
        assert_eq!(c.recall(&[8u8; 32]), None);
        // Another engine's memo is another memo.
        let mut other = DiskCache::new(dir.clone(), b"f", 1 << 20);
        assert_eq!(other.recall(&input), None);
        assert_eq!((c.stats.recalled, c.stats.noted), (1, 1));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_corrupt_file_is_a_miss_and_is_deleted() {
        let dir = temp_dir("corrupt");
        let mut c = DiskCache::new(dir.clone(), b"e", 1 << 20);
        let k = c.key(b"m");
        c.store(&k, b"compiled code");
        let path = c.path(&k);
        let mut bytes = fs::read(&path).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert_eq!(c.load(&k), None);
        assert_eq!(c.stats.rejected, 1);
        assert!(!path.exists());
        fs::write(&path, b"WAX").unwrap();
        assert_eq!(c.load(&k), None, "truncated");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_directory_stays_within_its_bound() {
        let dir = temp_dir("bound");
        let mut c = DiskCache::new(dir.clone(), b"e", 4000);
        for i in 0..20u32 {
            let k = c.key(&i.to_le_bytes());
            c.store(&k, &[0u8; 500]);
        }
        let total: u64 = c.scan().iter().map(|f| f.1).sum();
        assert!(total <= 4000, "{total}");
        assert!(c.stats.evicted > 0);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_unwritable_directory_disables_the_cache() {
        let file = temp_dir("file");
        fs::write(&file, b"not a directory").unwrap();
        let mut c = DiskCache::new(file.join("jit"), b"e", 1 << 20);
        let k = c.key(b"m");
        c.store(&k, b"x");
        assert_eq!(c.load(&k), None);
        assert_eq!(c.stats.writes, 0);
        let _ = fs::remove_file(&file);
    }
}
