//! Files in and out of the running guest's root file system (uploads to
//! the home directory, downloads, the embedding API's readFile and
//! writeFile). Paths are absolute guest paths; the directories on the
//! way must exist and be real directories (symlinks are not followed
//! here, only in the file read, through the kernel's lookup).

use wax_kernel::errno::{Errno, KResult};
use wax_kernel::vfs::lookup::open_program;
use wax_kernel::vfs::{mode, FileSystem, FileType, Ino, NewNode, OpenMode, SetAttr};

/// The directory that holds `path`, and the file's name.
fn parent<'a>(fs: &mut dyn FileSystem, path: &'a [u8]) -> KResult<(Ino, &'a [u8])> {
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
        dir = fs.lookup(dir, part)?;
        if fs.getattr(dir)?.file_type() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
    }
    Ok((dir, name))
}

/// Creates or replaces the regular file at `path` with `data`.
pub fn write_file(fs: &mut dyn FileSystem, path: &[u8], data: &[u8], perm: u32) -> KResult<()> {
    let (dir, name) = parent(fs, path)?;
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
