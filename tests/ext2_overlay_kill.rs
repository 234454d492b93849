//! `wax run --image --overlay` killed with SIGKILL in the middle of writes:
//! the overlay must still give an image that `e2fsck -fn` finds clean (its
//! state at the last flush; flushes happen every few seconds of writing).
//!
//! Needs build/images/test.img (disk-images/mkimage.sh test
//! build/images/test.img) and e2fsprogs; fails without them.

use std::path::Path;
use std::process::Command;
use std::time::Duration;
use wax_devices::block::{
    BackingFile, BlockDevice, BlockError, FileDevice, MemFile, OverlayDevice,
};

struct HostFile(std::fs::File);

impl BackingFile for HostFile {
    fn len(&mut self) -> Result<u64, BlockError> {
        Ok(self.0.metadata().unwrap().len())
    }
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        std::os::unix::fs::FileExt::read_exact_at(&self.0, buf, off)
            .map_err(|e| BlockError::Io(e.to_string()))
    }
    fn write_at(&mut self, off: u64, buf: &[u8]) -> Result<(), BlockError> {
        std::os::unix::fs::FileExt::write_all_at(&self.0, buf, off)
            .map_err(|e| BlockError::Io(e.to_string()))
    }
    fn set_len(&mut self, len: u64) -> Result<(), BlockError> {
        self.0
            .set_len(len)
            .map_err(|e| BlockError::Io(e.to_string()))
    }
    fn sync(&mut self) -> Result<(), BlockError> {
        Ok(())
    }
}

#[test]
fn overlay_survives_sigkill_mid_write() {
    let image = Path::new(env!("CARGO_MANIFEST_DIR")).join("build/images/test.img");
    assert!(
        image.exists(),
        "build the test image first: disk-images/mkimage.sh test build/images/test.img"
    );
    let dir = std::env::temp_dir().join(format!("wax-ovl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ovl = dir.join("overlay");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wax"))
        .args(["run", "--image"])
        .arg(&image)
        .arg("--overlay")
        .arg(&ovl)
        .args(["/bin/cp", "-r", "/usr/lib", "/root/copy"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(14));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        std::fs::metadata(&ovl).unwrap().len() > 4096,
        "nothing was flushed before the kill"
    );

    // Merge base and overlay into one image and check it.
    let base = FileDevice::new(HostFile(std::fs::File::open(&image).unwrap()), true).unwrap();
    let log = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&ovl)
        .unwrap();
    let mut dev = OverlayDevice::with_log(Box::new(base), Box::new(HostFile(log))).unwrap();
    let mut merged = MemFile::default();
    let mut buf = vec![0u8; 1 << 20];
    let mut off = 0;
    while off < dev.size() {
        let n = (dev.size() - off).min(buf.len() as u64) as usize;
        dev.read_at(off, &mut buf[..n]).unwrap();
        merged.write_at(off, &buf[..n]).unwrap();
        off += n as u64;
    }
    let out_img = dir.join("merged.img");
    std::fs::write(&out_img, &merged.0).unwrap();
    let out = Command::new("e2fsck")
        .arg("-fn")
        .arg(&out_img)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "e2fsck:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
