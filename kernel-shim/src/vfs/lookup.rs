//! Paths looked up directly in one file system, outside any process:
//! what a host front end needs before the first process exists (the
//! program to exec) and to move files in and out of a running guest.
//! Symlinks are followed inside the file system; `..` never leaves its
//! root.

use super::{FileHandle, FileSystem, FileType, Ino, OpenMode};
use crate::abi::errno::{Errno, KResult};

/// An open program found by guest path inside `fs` (symlinks followed
/// inside the file system): (handle, size, resolved guest path).
pub fn open_program(
    fs: &mut dyn FileSystem,
    path: &[u8],
) -> KResult<(Box<dyn FileHandle>, u64, Vec<u8>)> {
    let mut todo: Vec<Vec<u8>> = Vec::new();
    let mut stack: Vec<(Ino, Vec<u8>)> = Vec::new();
    let mut pending = path.to_vec();
    let mut links = 0;
    loop {
        if pending.first() == Some(&b'/') || stack.is_empty() {
            stack.clear();
        }
        let mut parts: Vec<Vec<u8>> = pending
            .split(|&c| c == b'/')
            .filter(|c| !c.is_empty() && *c != b".")
            .map(<[u8]>::to_vec)
            .collect();
        parts.append(&mut todo);
        let mut iter = parts.into_iter();
        let mut jumped = None;
        for part in iter.by_ref() {
            if part == b".." {
                stack.pop();
                continue;
            }
            let dir = stack.last().map_or(fs.root(), |&(i, _)| i);
            let ino = fs.lookup(dir, &part)?;
            if fs.getattr(ino)?.file_type() == FileType::Symlink {
                links += 1;
                if links > 40 {
                    return Err(Errno::ELOOP);
                }
                jumped = Some(fs.readlink(ino)?);
                break;
            }
            stack.push((ino, part));
        }
        match jumped {
            Some(target) => {
                todo = iter.collect();
                pending = target;
            }
            None => break,
        }
    }
    let &(ino, _) = stack.last().ok_or(Errno::EACCES)?;
    let attr = fs.getattr(ino)?;
    // Like execve: only a regular file can run (and opening a FIFO would
    // wait for a writer).
    if attr.file_type() != FileType::Regular {
        return Err(Errno::EACCES);
    }
    let h = fs.open(
        ino,
        OpenMode {
            read: true,
            ..OpenMode::default()
        },
    )?;
    let mut shown = Vec::new();
    for (_, name) in &stack {
        shown.push(b'/');
        shown.extend_from_slice(name);
    }
    Ok((h, attr.size, shown))
}
