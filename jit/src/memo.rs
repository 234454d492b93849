//! The memo of translations: what a later run needs to take a page the
//! profile remembers straight from the on-disk code cache, without
//! translating it first.
//!
//! A translation is a function of its inputs: the translator (the build's
//! `WAX_TRANSLATOR_ID`, a hash of every source it depends on), its
//! [`Options`], the page's address, its bytes and the next page's first
//! bytes, and the entries and block starts it was given. [`input`] digests
//! all of them; the engine keeps, under that digest, which compiled module
//! the wasm became, and this module's [`Record`] of the translation (its
//! blocks and counts), which the executor needs besides the module. The
//! executor digests the page as it is now, so a recalled module is exactly
//! the one translating it again would give (the same wasm, hence the same
//! entry in the code cache): hints never change what runs, and neither
//! does the memo.

use crate::profile::Hint;
use crate::translate::{Options, Translation};
use sha2::{Digest, Sha256};

/// The build's translator (see `build.rs`).
const TRANSLATOR: &str = env!("WAX_TRANSLATOR_ID");

/// The digest of a translation's inputs.
pub type Input = [u8; 32];

/// Digests the inputs of `translate_page_ran(code, base, &hint.entries,
/// &hint.ran, opts)`, the translation of a page the profile remembers.
pub fn input(opts: &Options, base: u32, code: &[u8], hint: &Hint) -> Input {
    let mut h = Sha256::new();
    h.update(b"wax translation\0");
    h.update(TRANSLATOR.as_bytes());
    h.update(format!("{opts:?}").as_bytes());
    h.update(base.to_le_bytes());
    h.update((code.len() as u32).to_le_bytes());
    h.update(code);
    for list in [&hint.entries, &hint.ran] {
        h.update((list.len() as u32).to_le_bytes());
        for s in list {
            h.update(s.to_le_bytes());
        }
    }
    h.finalize().into()
}

/// What the executor keeps of a translation besides its module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub blocks: Vec<Vec<u32>>,
    pub insns: usize,
    pub stepped: usize,
    /// The wasm's length.
    pub bytes: usize,
}

impl Record {
    pub fn of(t: &Translation) -> Record {
        Record {
            blocks: t.blocks.clone(),
            insns: t.insns,
            stepped: t.stepped,
            bytes: t.wasm.len(),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut put = |v: usize| out.extend_from_slice(&(v as u32).to_le_bytes());
        put(self.insns);
        put(self.stepped);
        put(self.bytes);
        put(self.blocks.len());
        for b in &self.blocks {
            put(b.len());
            for &eip in b {
                put(eip as usize);
            }
        }
        out
    }

    /// The record `encode` wrote, if `b` is one (the engine checked the
    /// file's digest; this only refuses what is not a record).
    pub fn decode(b: &[u8]) -> Option<Record> {
        let mut words = b.chunks_exact(4).map(|c| {
            let w: [u8; 4] = c.try_into().unwrap_or_default();
            u32::from_le_bytes(w) as usize
        });
        if !b.len().is_multiple_of(4) {
            return None;
        }
        let (insns, stepped, bytes, n) =
            (words.next()?, words.next()?, words.next()?, words.next()?);
        let mut blocks = Vec::with_capacity(n.min(4096));
        for _ in 0..n {
            let len = words.next()?;
            let block: Vec<u32> = (0..len)
                .map(|_| words.next().map(|w| w as u32))
                .collect::<Option<_>>()?;
            if block.is_empty() {
                return None;
            }
            blocks.push(block);
        }
        if words.next().is_some() || blocks.is_empty() {
            return None;
        }
        Some(Record {
            blocks,
            insns,
            stepped,
            bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Options {
        Options {
            shared_memory: true,
            inline_checks: false,
            memory_base: 0,
            link: true,
            reuse_pages: true,
        }
    }

    #[test]
    fn records_round_trip_and_garbage_is_refused() {
        let r = Record {
            blocks: vec![vec![0x1000, 0x1002], vec![0x1010]],
            insns: 3,
            stepped: 1,
            bytes: 1234,
        };
        let b = r.encode();
        assert_eq!(Record::decode(&b), Some(r));
        assert_eq!(Record::decode(&b[..b.len() - 4]), None);
        assert_eq!(Record::decode(&b[..b.len() - 1]), None);
        let mut longer = b.clone();
        longer.extend_from_slice(&[0; 4]);
        assert_eq!(Record::decode(&longer), None);
        assert_eq!(Record::decode(&[]), None);
    }

    #[test]
    fn every_input_changes_the_digest() {
        let code = [0x90u8; 4100];
        let one = Hint::new(vec![0x1000], vec![]);
        let a = input(&opts(), 0x1000, &code, &one);
        assert_eq!(a, input(&opts(), 0x1000, &code, &one));
        assert_ne!(a, input(&opts(), 0x2000, &code, &one));
        assert_ne!(a, input(&opts(), 0x1000, &code[..4096], &one));
        let more_entries = Hint::new(vec![0x1000, 0x1001], vec![]);
        assert_ne!(a, input(&opts(), 0x1000, &code, &more_entries));
        // The same EIPs as block starts only: another translation.
        let more_ran = Hint::new(vec![0x1000], vec![0x1001]);
        assert_ne!(a, input(&opts(), 0x1000, &code, &more_ran));
        assert_ne!(more_entries, more_ran);
        assert_ne!(
            input(&opts(), 0x1000, &code, &more_entries),
            input(&opts(), 0x1000, &code, &more_ran)
        );
        let mut other = code;
        other[7] = 0xc3;
        assert_ne!(a, input(&opts(), 0x1000, &other, &one));
        let o = Options {
            link: false,
            ..opts()
        };
        assert_ne!(a, input(&o, 0x1000, &code, &one));
    }
}
