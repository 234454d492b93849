//! The (engine, workload) pairs that are known not to work yet, each with
//! the reason. They still run and show up as failures in the table, but
//! `--check` does not fail because of them, so CI stays green honestly
//! while the gaps stay visible. Remove an entry when its feature lands:
//! `--check` reports entries that have started to pass.

use super::engines::Engine;

pub struct KnownFailure {
    pub engine: Engine,
    pub workload: &'static str,
    pub reason: &'static str,
}

pub const KNOWN_FAILURES: &[KnownFailure] = &[
    KnownFailure {
        engine: Engine::Qemu,
        workload: "gcc",
        reason: "qemu-user does not follow exec: the host kernel runs gcc's \
                 children (cc1, as) natively outside the root, where their \
                 shared libraries are not found",
    },
    KnownFailure {
        engine: Engine::Qemu,
        workload: "disk-ls-lR",
        reason: "qemu-user does not follow exec: bash's ls runs natively \
                 outside the root and lists the host's /usr",
    },
];

/// Why `workload` is expected to fail under `engine`, if it is.
pub fn known_failure(engine: Engine, workload: &str) -> Option<&'static str> {
    KNOWN_FAILURES
        .iter()
        .find(|k| k.engine == engine && k.workload == workload)
        .map(|k| k.reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_names_a_workload() {
        for k in KNOWN_FAILURES {
            assert!(
                super::super::workloads::find(k.workload).is_some(),
                "{}",
                k.workload
            );
        }
    }
}
