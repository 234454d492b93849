//! The Debian corpus (tests/corpus/commands.txt, see tests/corpus.rs) on
//! the ext2 image of the same root: each command runs natively with
//! `chroot build/roots/test /bin/bash -c CMD` and with
//! `wax run --image build/images/test.img /bin/bash -c CMD`; stdout,
//! stderr and the exit status must be identical.
//!
//! The image's writes go to wax's in-memory overlay, so every run starts
//! from the same image. Each command runs in a fresh directory
//! /tmp/wax-dcorpus-NAME (its $HOME), which the script itself creates, in
//! both runs alike (a name apart from tests/corpus.rs's, so the two tests
//! can run at the same time). Running and comparing is shared with
//! tests/corpus.rs: see tests/common/corpus.rs.
//!
//! What the image adds over `--root` is the ext2 driver, so a command
//! that differs from native is run once more with `wax run --root`: if
//! that run has the very same output, the difference is the kernel's (it
//! is tests/corpus.rs's business, listed in its KNOWN_FAILURES) and is
//! reported, not failed. A difference of the image alone fails the test,
//! unless `IMAGE_DIFFERENCES` lists it with the reason.
//! `WAX_CORPUS_FILTER=SUBSTRING` runs only the matching commands.
//!
//! The same corpus runs on the same image under Node's V8 (`node
//! web/node/wax.mjs run --image`, the wasm32 build with its JIT, which
//! scripts/build-web.sh makes): a command that differs from native there
//! is run with `wax run --image` too, and fails the test unless that run
//! differs the same way (then the difference is not V8's or the wasm32
//! build's, and the test above judges it).
//!
//! Needs build/roots/test (disk-images/mkroot.sh), build/images/test.img
//! (disk-images/mkimage.sh) and root (for chroot and mounting procfs).

mod common;

use common::corpus::{self, ProcMount, Runner};
use common::repo_root;
use std::ffi::OsStr;
use std::path::PathBuf;

/// Commands whose output on the image legitimately differs from the
/// unconfigured root directory, with the reason. The test recipe
/// configures the image (hostname, users, motd) after copying the root:
/// its /etc/passwd and /etc/group have the extra login user
/// ("user:x:1000:1000:Wax user:/home/user:/bin/bash").
const IMAGE_DIFFERENCES: &[(&str, &str)] = &[
    (
        "coreutils-text",
        "counts the login shells in /etc/passwd: the image has one more bash user",
    ),
    (
        "coreutils-checksums",
        "md5sum of /etc/passwd and /etc/group, which the image configures",
    ),
    (
        "symlinks-and-dotdot",
        "counts the lines of /etc/passwd through a symlink: one more on the image",
    ),
    (
        "wc-and-counting",
        "wc of /etc/passwd and /etc/group, which the image configures",
    ),
];

/// Scratch directories are /tmp/wax-dcorpus-NAME in the root (and
/// /tmp/wax-ncorpus-NAME for the Node run).
const SCRATCH: &str = "wax-dcorpus";
const NODE_SCRATCH: &str = "wax-ncorpus";

/// One corpus run at a time: each mounts and unmounts the root's /proc.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn paths() -> (PathBuf, PathBuf) {
    let root = corpus::debian_root();
    let image = repo_root().join("build/images/test.img");
    assert!(
        image.is_file(),
        "build the test image first: disk-images/mkimage.sh test build/images/test.img"
    );
    (root, image)
}

#[test]
fn image_differences_name_corpus_commands() {
    let entries = corpus::entries();
    corpus::assert_names_known(&entries, IMAGE_DIFFERENCES, "IMAGE_DIFFERENCES");
}

#[test]
fn debian_corpus_on_the_image_matches_native() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let (root, image) = paths();
    let _proc = ProcMount::new(&root);
    let image_options = [OsStr::new("--image"), image.as_os_str()];
    let root_options = [OsStr::new("--root"), root.as_os_str()];
    let (mut same, mut kernel, mut listed, mut failed) = (0, Vec::new(), 0, Vec::new());
    let entries = corpus::entries();
    for entry in corpus::selected(&entries) {
        let native = corpus::run(&root, SCRATCH, entry, Runner::Native);
        let on_image = corpus::run(&root, SCRATCH, entry, Runner::Wax(&image_options));
        let Some(report) = corpus::compare(&native, &on_image) else {
            println!(
                "{:<32} same ({:.2}s native, {:.2}s wax --image)",
                entry.name,
                native.elapsed.as_secs_f64(),
                on_image.elapsed.as_secs_f64()
            );
            same += 1;
            continue;
        };
        let on_root = corpus::run(&root, SCRATCH, entry, Runner::Wax(&root_options));
        let verdict = if corpus::compare(&on_root, &on_image).is_none() {
            kernel.push(entry.name.as_str());
            "differs from native as --root does (a kernel difference)"
        } else if IMAGE_DIFFERENCES.iter().any(|(n, _)| *n == entry.name) {
            listed += 1;
            "differs (listed in IMAGE_DIFFERENCES)"
        } else {
            failed.push(entry.name.as_str());
            "DIFFERS on the image only"
        };
        println!(
            "{:<32} {verdict}\n  {}",
            entry.name,
            report.replace('\n', "\n  ")
        );
    }
    println!(
        "image corpus: {same} identical to native, {} differ as with --root ({}), \
         {listed} listed, {} differ on the image only",
        kernel.len(),
        kernel.join(", "),
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "on the image only, these differ from native: {}",
        failed.join(", ")
    );
}

#[test]
fn debian_corpus_under_node_matches_native() {
    let (root, image) = paths();
    assert!(
        repo_root().join("web/dist/pkg/wax_web_bg.wasm").is_file(),
        "build the web app first: scripts/build-web.sh"
    );
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let _proc = ProcMount::new(&root);
    let image_options = [OsStr::new("--image"), image.as_os_str()];
    let (mut same, mut as_wax, mut failed) = (0, Vec::new(), Vec::new());
    let entries = corpus::entries();
    for entry in corpus::selected(&entries) {
        let native = corpus::run(&root, NODE_SCRATCH, entry, Runner::Native);
        let node = corpus::run(&root, NODE_SCRATCH, entry, Runner::Node(&image));
        let Some(report) = corpus::compare(&native, &node) else {
            println!(
                "{:<32} same ({:.2}s native, {:.2}s node)",
                entry.name,
                native.elapsed.as_secs_f64(),
                node.elapsed.as_secs_f64()
            );
            same += 1;
            continue;
        };
        let wax = corpus::run(&root, NODE_SCRATCH, entry, Runner::Wax(&image_options));
        let verdict = if corpus::compare(&wax, &node).is_none() {
            as_wax.push(entry.name.as_str());
            "differs from native as wax run --image does"
        } else {
            failed.push(entry.name.as_str());
            "DIFFERS under Node only"
        };
        println!(
            "{:<32} {verdict}\n  {}",
            entry.name,
            report.replace('\n', "\n  ")
        );
    }
    println!(
        "node corpus: {same} identical to native, {} differ as under wax run --image ({}), \
         {} differ under Node only",
        as_wax.len(),
        as_wax.join(", "),
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "under Node only, these differ from native: {}",
        failed.join(", ")
    );
}
