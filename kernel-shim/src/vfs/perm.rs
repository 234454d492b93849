//! Permission checks: who may read, write or search a node, following
//! Linux's `generic_permission` (owner, then group, then other bits; root
//! bypasses all of them except that executing a non-directory needs at
//! least one x bit).

use super::Attr;
use crate::abi::errno::{Errno, KResult};

/// Bits of an access mask (the `access(2)` values).
pub const MAY_EXEC: u32 = 1;
pub const MAY_WRITE: u32 = 2;
pub const MAY_READ: u32 = 4;

/// The credentials a check is made for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cred {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
}

impl Cred {
    pub fn new(uid: u32, gid: u32) -> Cred {
        Cred {
            uid,
            gid,
            groups: Vec::new(),
        }
    }

    pub fn is_root(&self) -> bool {
        self.uid == 0
    }

    pub fn in_group(&self, gid: u32) -> bool {
        self.gid == gid || self.groups.contains(&gid)
    }

    /// Whether the caller owns the node (or is root, who may act as its
    /// owner: CAP_FOWNER).
    pub fn owns(&self, a: &Attr) -> bool {
        self.is_root() || self.uid == a.uid
    }
}

/// Checks `mask` (MAY_*) against the node's mode for `cred`.
pub fn check(a: &Attr, cred: &Cred, mask: u32) -> KResult<()> {
    if allowed(a, cred, mask) {
        Ok(())
    } else {
        Err(Errno::EACCES)
    }
}

pub fn allowed(a: &Attr, cred: &Cred, mask: u32) -> bool {
    let mask = mask & 7;
    if cred.is_root() {
        // CAP_DAC_OVERRIDE: everything but executing a file no one may
        // execute.
        return mask & MAY_EXEC == 0 || a.is_dir() || a.mode & 0o111 != 0;
    }
    let bits = if a.uid == cred.uid {
        a.mode >> 6
    } else if cred.in_group(a.gid) {
        a.mode >> 3
    } else {
        a.mode
    };
    bits & mask == mask
}

/// Whether `cred` may remove or rename `victim` from directory `dir`: the
/// sticky bit (S_ISVTX) limits that to the owner of either.
pub fn sticky_ok(dir: &Attr, victim: &Attr, cred: &Cred) -> bool {
    dir.mode & 0o1000 == 0 || cred.is_root() || cred.uid == victim.uid || cred.uid == dir.uid
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::mode::{S_IFDIR, S_IFREG};

    fn attr(mode: u32, uid: u32, gid: u32) -> Attr {
        Attr {
            mode,
            uid,
            gid,
            ..Attr::default()
        }
    }

    #[test]
    fn owner_group_other_in_order() {
        let user = Cred::new(1000, 100);
        // The owner class decides even when "other" would allow more.
        assert!(!allowed(&attr(S_IFREG | 0o077, 1000, 0), &user, MAY_READ));
        assert!(allowed(&attr(S_IFREG | 0o040, 0, 100), &user, MAY_READ));
        assert!(!allowed(&attr(S_IFREG | 0o004, 0, 100), &user, MAY_READ));
        assert!(allowed(&attr(S_IFREG | 0o004, 0, 0), &user, MAY_READ));
        assert!(allowed(
            &attr(S_IFREG | 0o600, 1000, 0),
            &user,
            MAY_READ | MAY_WRITE
        ));
    }

    #[test]
    fn root_needs_an_x_bit_to_execute_files() {
        let root = Cred::new(0, 0);
        assert!(allowed(&attr(S_IFREG, 5, 5), &root, MAY_READ | MAY_WRITE));
        assert!(!allowed(&attr(S_IFREG | 0o644, 5, 5), &root, MAY_EXEC));
        assert!(allowed(&attr(S_IFREG | 0o001, 5, 5), &root, MAY_EXEC));
        assert!(allowed(&attr(S_IFDIR, 5, 5), &root, MAY_EXEC));
    }

    #[test]
    fn sticky_directories_protect_others_files() {
        let tmp = attr(S_IFDIR | 0o1777, 0, 0);
        let f = attr(S_IFREG | 0o666, 1, 1);
        assert!(!sticky_ok(&tmp, &f, &Cred::new(2, 2)));
        assert!(sticky_ok(&tmp, &f, &Cred::new(1, 2)));
        assert!(sticky_ok(&tmp, &f, &Cred::new(0, 0)));
    }
}
