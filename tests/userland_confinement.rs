//! Confinement: with `--root DIR`, no guest path leads to a host file
//! outside DIR. tests/programs/u_escape.c tries an absolute host path,
//! `..` from `/` and from the cwd, symlinks made by the guest and by the
//! host (absolute and relative, to the file and to a directory above),
//! /proc/self/root, /proc/1/root, /proc/PID/root, /proc/self/cwd, openat
//! from a root descriptor and the classic chroot-and-walk-up escape. Every
//! attempt must fail under wax. As a control, the same program run
//! natively without a chroot must read the secret, which shows that the
//! program does detect a leak.

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::time::Duration;

use common::{c_program, host_problems, Invocation, Status, TempDir};

const SECRET: &str = "WAX-SECRET: this host file is outside the guest root\n";

#[test]
fn no_path_leads_outside_the_root() {
    let dir = TempDir::new("confine");
    let secret = dir.path().join("secret.txt");
    fs::write(&secret, SECRET).unwrap();
    let root = dir.path().join("root");
    fs::create_dir(&root).unwrap();
    let program = root.join("u_escape");
    fs::copy(c_program("u_escape"), &program).unwrap();
    symlink(&secret, root.join("host-abs")).unwrap();
    symlink("../secret.txt", root.join("host-rel")).unwrap();
    let secret_arg = secret.to_str().expect("a UTF-8 scratch path").to_string();

    let native = Invocation::new(&program).arg(&secret_arg).run_native();
    let native_out = String::from_utf8_lossy(&native.stdout);
    assert!(
        native_out.contains("absolute host path: LEAKED"),
        "control failed: natively (no chroot) u_escape should read the secret:\n{native_out}"
    );

    let mut cmd = common::wax_run();
    cmd.arg("--root")
        .arg(&root)
        .arg("/u_escape")
        .arg(&secret_arg)
        .current_dir(&root);
    let wax = common::run_with_timeout(cmd, &[], Duration::from_secs(60));
    let out = String::from_utf8_lossy(&wax.stdout);
    let problems = host_problems(&wax);
    assert!(problems.is_empty(), "{problems:?}\n{}", wax.stderr_text());
    let leaks: Vec<&str> = out.lines().filter(|l| l.contains("LEAKED")).collect();
    assert!(
        leaks.is_empty(),
        "the guest read a host file outside --root:\n{}",
        leaks.join("\n")
    );
    assert_eq!(
        wax.status,
        Status::Exited(0),
        "u_escape did not finish cleanly:\n{out}\n{}",
        wax.stderr_text()
    );
    assert!(out.contains("0 leaks"), "incomplete output:\n{out}");
    // The guest's own files stay inside the root.
    assert!(root.join("escape/abs").symlink_metadata().is_ok());
}
