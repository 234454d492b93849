//! Everything a comparison needs before the first timed run: the static
//! workloads built from `bench/workloads/`, the `wax` binary, the Debian
//! root and the input files inside it. Nothing is installed here: a
//! missing tool is an error that says to run `scripts/setup.sh`.

use super::engines::{binary_name, Engine, Paths};
use super::inputs::GUEST_DIR;
use super::workloads::{Program, Workload};
use super::Options;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's root directory.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ is inside the repository")
        .to_path_buf()
}

pub fn prepare(opts: &Options, selected: &[&Workload], repo: &Path) -> Result<Paths, String> {
    let out = repo.join("target/wax-bench");
    let bin = out.join("bin");
    std::fs::create_dir_all(&bin).map_err(|e| format!("{}: {e}", bin.display()))?;
    for w in selected {
        if let Program::Static { source } = w.program {
            build_static(&repo.join("bench/workloads"), source, &bin)?;
        }
    }
    if opts.engines.contains(&Engine::Qemu) && !found("qemu-i386") {
        return Err("qemu-i386 not found: run scripts/setup.sh (it installs qemu-user)".into());
    }
    let wax = match &opts.wax {
        Some(p) => p.clone(),
        None if opts.engines.iter().any(|e| {
            matches!(
                e,
                Engine::WaxInterp | Engine::WaxJit | Engine::WaxJitWarm | Engine::WaxImage
            )
        }) =>
        {
            build_wax(repo)?
        }
        None => PathBuf::from("wax"),
    };
    let root = find_root(opts, repo)?;
    if let Some(root) = &root {
        write_inputs(opts, selected, root, repo)?;
    }
    let image = root.as_ref().and_then(|_| find_image(repo));
    let node_runner = opts
        .engines
        .contains(&Engine::WaxNode)
        .then(|| find_node_runner(repo))
        .flatten();
    Ok(Paths {
        root,
        bin,
        wax,
        image,
        jit_cache: out.join("jit-cache"),
        node_runner,
    })
}

/// web/node/wax.mjs, if the web app it loads is built and `node` runs.
fn find_node_runner(repo: &Path) -> Option<PathBuf> {
    let built = repo.join("web/dist/pkg/wax_web_bg.wasm");
    if !built.exists() || !found("node") {
        eprintln!(
            "wax-bench: no {} or no node: the wax-node engine is skipped \
             (build the web app with scripts/build-web.sh)",
            built.display()
        );
        return None;
    }
    Some(repo.join("web/node/wax.mjs"))
}

/// build/images/test.img, the image of build/roots/test, if it is built
/// (mkimage.sh writes the manifest last).
fn find_image(repo: &Path) -> Option<PathBuf> {
    let image = repo.join("build/images/test.img");
    if image.exists() && repo.join("build/images/test.img.manifest.json").exists() {
        return Some(image);
    }
    eprintln!(
        "wax-bench: no image at {}: the wax-image engine is skipped \
         (build it with disk-images/mkimage.sh test build/images/test.img)",
        image.display()
    );
    None
}

fn found(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// gcc -m32 -static -O2, as Debian builds i386 code (x87 floating point),
/// unless the binary is newer than its source.
fn build_static(src_dir: &Path, source: &str, bin: &Path) -> Result<(), String> {
    let src = src_dir.join(source);
    let exe = bin.join(binary_name(source));
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if let (Some(s), Some(e)) = (modified(&src), modified(&exe)) {
        if e > s {
            return Ok(());
        }
    }
    eprintln!("building {}", exe.display());
    let status = Command::new("gcc")
        .args(["-m32", "-static", "-O2", "-o"])
        .arg(&exe)
        .arg(&src)
        .arg("-lm")
        .status()
        .map_err(|e| format!("cannot run gcc: {e}"))?;
    if !status.success() {
        return Err(format!(
            "gcc -m32 -static failed for {source}: is gcc-multilib installed? (scripts/setup.sh)"
        ));
    }
    Ok(())
}

/// `cargo build --release --workspace --bin wax` (a no-op when it is up to
/// date). `--workspace` unifies features as `cargo test --workspace` does
/// (wax-web turns on wax-jit's `js`), so the binary the tests built is
/// reused rather than built a second time with other features.
fn build_wax(repo: &Path) -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("building wax (cargo build --release --workspace --bin wax)");
    let status = Command::new(cargo)
        .args(["build", "--release", "--workspace", "--bin", "wax"])
        .current_dir(repo)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("building wax failed".into());
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or(repo.join("target"), PathBuf::from);
    Ok(target.join("release/wax"))
}

/// The root given with --root (which must exist), else build/roots/test if
/// it has been built.
fn find_root(opts: &Options, repo: &Path) -> Result<Option<PathBuf>, String> {
    let usable = |p: &Path| p.join("usr/bin/true").exists();
    if let Some(r) = &opts.root {
        return if usable(r) {
            Ok(Some(
                r.canonicalize()
                    .map_err(|e| format!("{}: {e}", r.display()))?,
            ))
        } else {
            Err(format!("--root {}: not a Debian i386 root", r.display()))
        };
    }
    // mkroot.sh writes .complete last, so a root being built is not used.
    let default = repo.join("build/roots/test");
    if usable(&default) && default.join(".complete").exists() {
        return Ok(Some(default.canonicalize().unwrap_or(default)));
    }
    eprintln!(
        "wax-bench: no Debian root at {}: the Debian workloads are skipped \
         (build it with scripts/setup.sh or disk-images/mkroot.sh test build/roots/test)",
        default.display()
    );
    Ok(None)
}

fn write_inputs(
    opts: &Options,
    selected: &[&Workload],
    root: &Path,
    repo: &Path,
) -> Result<(), String> {
    let dir = root.join(GUEST_DIR.trim_start_matches('/'));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let workloads = repo.join("bench/workloads");
    for w in selected {
        if let Some(input) = w.variant(opts.quick).input {
            input
                .prepare(&dir, &workloads)
                .map_err(|e| format!("writing {} in {}: {e}", input.file_name(), dir.display()))?;
        }
    }
    Ok(())
}
