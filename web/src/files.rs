//! Files in and out of the running guest's root file system (uploads to
//! the home directory, downloads, the embedding API's readFile and
//! writeFile). Paths are absolute guest paths; the directories on the
//! way must be real directories (symlinks are not followed here, only in
//! the file read, through the kernel's lookup); `write_file` creates the
//! missing ones (mode 0755), as `install -D` does, and `make_dirs` as
//! `mkdir -p` does.

use wax_devices::Timespec;
use wax_kernel::errno::{Errno, KResult};
use wax_kernel::vfs::lookup::open_program;
use wax_kernel::vfs::{mode, FileSystem, FileType, Ino, NewNode, OpenMode, SetAttr};

/// The directory that holds `path`, and the file's name; with `make`,
/// missing directories on the way are created.
fn parent<'a>(fs: &mut dyn FileSystem, path: &'a [u8], make: bool) -> KResult<(Ino, &'a [u8])> {
    let path = path.strip_prefix(b"/").ok_or(Errno::EINVAL)?;
    let (dirs, name) = match path.iter().rposition(|&c| c == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (&path[..0], path),
    };
    if name.is_empty() || name == b"." || name == b".." {
        return Err(Errno::EINVAL);
    }
    let mut dir = fs.root();
    for part in dirs.split(|&c| c == b'/').filter(|p| !p.is_empty()) {
        dir = subdir(fs, dir, part, make && part != b"." && part != b"..")?;
    }
    Ok((dir, name))
}

/// The directory `name` in `dir`; with `make`, created (mode 0755) if
/// missing.
fn subdir(fs: &mut dyn FileSystem, dir: Ino, name: &[u8], make: bool) -> KResult<Ino> {
    let ino = match fs.lookup(dir, name) {
        Err(Errno::ENOENT) if make => {
            let node = NewNode {
                mode: mode::S_IFDIR | 0o755,
                ..NewNode::default()
            };
            fs.mkdir(dir, name, &node)?
        }
        other => other?,
    };
    if fs.getattr(ino)?.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    Ok(ino)
}

/// Creates the directory at `path` and the missing ones on the way (mode
/// 0755, as `mkdir -p`); an existing directory is left as it is.
pub fn make_dirs(fs: &mut dyn FileSystem, path: &[u8]) -> KResult<()> {
    let path = path.strip_suffix(b"/").unwrap_or(path);
    if path.is_empty() {
        return Ok(()); // the root
    }
    let (dir, name) = parent(fs, path, true)?;
    subdir(fs, dir, name, true).map(|_| ())
}

/// Creates or replaces the regular file at `path` with `data`.
pub fn write_file(fs: &mut dyn FileSystem, path: &[u8], data: &[u8], perm: u32) -> KResult<()> {
    let (dir, name) = parent(fs, path, true)?;
    let ino = match fs.lookup(dir, name) {
        Ok(ino) => ino,
        Err(Errno::ENOENT) => {
            let node = NewNode {
                mode: mode::S_IFREG | (perm & 0o7777),
                ..NewNode::default()
            };
            fs.create(dir, name, &node)?
        }
        Err(e) => return Err(e),
    };
    if fs.getattr(ino)?.file_type() != FileType::Regular {
        return Err(Errno::EISDIR);
    }
    fs.setattr(
        ino,
        &SetAttr {
            size: Some(0),
            ..SetAttr::default()
        },
    )?;
    let how = OpenMode {
        write: true,
        ..OpenMode::default()
    };
    let mut h = fs.open(ino, how)?;
    let mut done = 0;
    while done < data.len() {
        let n = h.write_at(done as u64, &data[done..])?;
        if n == 0 {
            return Err(Errno::ENOSPC);
        }
        done += n;
    }
    Ok(())
}

/// Sets the access and modification times of the file at `path` (not
/// following a symlink at the end), as `cp -p` keeps them.
pub fn set_times(fs: &mut dyn FileSystem, path: &[u8], at: Timespec) -> KResult<()> {
    let (dir, name) = parent(fs, path, false)?;
    let ino = fs.lookup(dir, name)?;
    fs.setattr(
        ino,
        &SetAttr {
            atime: Some(at),
            mtime: Some(at),
            ..SetAttr::default()
        },
    )
}

/// The contents of the regular file at `path` (symlinks followed).
pub fn read_file(fs: &mut dyn FileSystem, path: &[u8]) -> KResult<Vec<u8>> {
    let (mut h, size, _) = open_program(fs, path)?;
    let mut out = vec![0u8; size as usize];
    let mut done = 0;
    while done < out.len() {
        let n = h.read_at(done as u64, &mut out[done..])?;
        if n == 0 {
            break;
        }
        done += n;
    }
    out.truncate(done);
    Ok(out)
}
