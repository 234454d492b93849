//! A process's credentials: real, effective, saved and file-system user
//! and group ids, supplementary groups, and its nice value and I/O
//! priority. They start as
//! the machine's configured user (`Config::uid/gid`) and are inherited
//! through fork and kept across exec. Set-user-id and set-group-id bits on
//! executables are not honoured yet (exec keeps the caller's ids).
//!
//! The rules are Linux's for a process with or without all capabilities:
//! root (effective uid 0) may set any id; anyone else may only move
//! between its current real, effective and saved ids.

/// NGROUPS_MAX.
pub const NGROUPS_MAX: usize = 65536;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Creds {
    pub ruid: u32,
    pub euid: u32,
    pub suid: u32,
    pub fsuid: u32,
    pub rgid: u32,
    pub egid: u32,
    pub sgid: u32,
    pub fsgid: u32,
    pub groups: Vec<u32>,
    /// The nice value, -20..=19.
    pub nice: i32,
    /// The I/O priority (ioprio_set(2)): class << 13 | level; 0 (class
    /// none: what the nice value implies) until set. Only kept and
    /// reported: Wax's I/O has no scheduler for it to order.
    pub ioprio: u32,
}

/// -1 as a uid/gid argument: leave that id unchanged.
const KEEP: u32 = u32::MAX;

impl Creds {
    pub fn new(uid: u32, gid: u32) -> Creds {
        Creds {
            ruid: uid,
            euid: uid,
            suid: uid,
            fsuid: uid,
            rgid: gid,
            egid: gid,
            sgid: gid,
            fsgid: gid,
            groups: Vec::new(),
            nice: 0,
            ioprio: 0,
        }
    }

    /// CAP_SETUID / CAP_SETGID / CAP_SYS_NICE: all or nothing, by euid.
    pub fn privileged(&self) -> bool {
        self.euid == 0
    }

    /// setresuid: each id that is not -1 becomes the new value; without
    /// privilege each must be one of the current three. `None` is EPERM.
    pub fn setresuid(&self, r: u32, e: u32, s: u32) -> Option<Creds> {
        let ids = [self.ruid, self.euid, self.suid];
        if !self.privileged() && [r, e, s].iter().any(|&v| v != KEEP && !ids.contains(&v)) {
            return None;
        }
        let mut c = self.clone();
        keep_or(&mut c.ruid, r);
        keep_or(&mut c.euid, e);
        keep_or(&mut c.suid, s);
        c.fsuid = c.euid;
        Some(c)
    }

    pub fn setresgid(&self, r: u32, e: u32, s: u32) -> Option<Creds> {
        let ids = [self.rgid, self.egid, self.sgid];
        if !self.privileged() && [r, e, s].iter().any(|&v| v != KEEP && !ids.contains(&v)) {
            return None;
        }
        let mut c = self.clone();
        keep_or(&mut c.rgid, r);
        keep_or(&mut c.egid, e);
        keep_or(&mut c.sgid, s);
        c.fsgid = c.egid;
        Some(c)
    }

    /// setreuid: the real id may become the effective one, the effective
    /// id any of the three; the saved id follows the new effective id when
    /// the real id is set or the effective id moves away from the real one.
    pub fn setreuid(&self, r: u32, e: u32) -> Option<Creds> {
        let ok_r = r == KEEP || r == self.ruid || r == self.euid;
        let ok_e = e == KEEP || [self.ruid, self.euid, self.suid].contains(&e);
        if !(self.privileged() || ok_r && ok_e) {
            return None;
        }
        let mut c = self.clone();
        keep_or(&mut c.ruid, r);
        keep_or(&mut c.euid, e);
        if r != KEEP || (e != KEEP && e != self.ruid) {
            c.suid = c.euid;
        }
        c.fsuid = c.euid;
        Some(c)
    }

    pub fn setregid(&self, r: u32, e: u32) -> Option<Creds> {
        let ok_r = r == KEEP || r == self.rgid || r == self.egid;
        let ok_e = e == KEEP || [self.rgid, self.egid, self.sgid].contains(&e);
        if !(self.privileged() || ok_r && ok_e) {
            return None;
        }
        let mut c = self.clone();
        keep_or(&mut c.rgid, r);
        keep_or(&mut c.egid, e);
        if r != KEEP || (e != KEEP && e != self.rgid) {
            c.sgid = c.egid;
        }
        c.fsgid = c.egid;
        Some(c)
    }

    /// setuid: with privilege all three ids, else only the effective one
    /// (to the real or saved id).
    pub fn setuid(&self, id: u32) -> Option<Creds> {
        if self.privileged() {
            return self.setresuid(id, id, id);
        }
        (id == self.ruid || id == self.suid).then(|| {
            let mut c = self.clone();
            c.euid = id;
            c.fsuid = id;
            c
        })
    }

    pub fn setgid(&self, id: u32) -> Option<Creds> {
        if self.privileged() {
            return self.setresgid(id, id, id);
        }
        (id == self.rgid || id == self.sgid).then(|| {
            let mut c = self.clone();
            c.egid = id;
            c.fsgid = id;
            c
        })
    }
}

fn keep_or(id: &mut u32, new: u32) {
    if new != KEEP {
        *id = new;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unprivileged_may_only_swap_among_its_ids() {
        let mut c = Creds::new(1000, 1000);
        c.suid = 1001;
        assert!(c.setresuid(0, KEEP, KEEP).is_none());
        let d = c.setresuid(KEEP, 1001, KEEP).unwrap();
        assert_eq!((d.ruid, d.euid, d.suid, d.fsuid), (1000, 1001, 1001, 1001));
        assert_eq!(c.setreuid(KEEP, KEEP), Some(c.clone()));
    }

    #[test]
    fn root_sets_anything_and_setuid_drops_all() {
        let c = Creds::new(0, 0);
        let d = c.setuid(1000).unwrap();
        assert_eq!((d.ruid, d.euid, d.suid), (1000, 1000, 1000));
        assert!(d.setuid(0).is_none());
        let e = c.setreuid(KEEP, 1000).unwrap();
        assert_eq!((e.ruid, e.euid, e.suid), (0, 1000, 1000));
        assert_eq!(e.setreuid(KEEP, 0).unwrap().euid, 0);
    }
}
