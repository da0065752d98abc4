//! Copying files' bytes into a pack: straight to a contiguous dataset's offset in the file, in
//! the kernel where it can (`copy_file_range`), by a thread of its own ([`Copier`]) so that the
//! copying and HDF5's work on the next datasets overlap.

use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::write::PIECE;

/// Opens a file to pack (a symbolic link put in its place since the walk is not followed).
pub fn open_source(path: &Path) -> Result<std::fs::File, String> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// A thread that copies files' bytes to their datasets' offsets in a new pack, so the copying
/// (system calls) and HDF5's work on the next datasets (this thread) overlap. At most
/// `QUEUE` files wait; the first error stops it and is reported by `send` or `finish`.
pub struct Copier {
    tx: Option<std::sync::mpsc::SyncSender<(PathBuf, u64, u64)>>,
    /// Ends with the files that grew while they were copied (cut at their walked size).
    handle: Option<std::thread::JoinHandle<Result<Vec<String>, String>>>,
}

const QUEUE: usize = 256;

impl Copier {
    pub fn start(dst: std::fs::File) -> Copier {
        let (tx, rx) = std::sync::mpsc::sync_channel::<(PathBuf, u64, u64)>(QUEUE);
        let handle = std::thread::spawn(move || {
            let (mut buf, mut grew) = (Vec::new(), Vec::new());
            for (path, offset, size) in rx {
                crate::interrupted()?;
                let src = open_source(&path)?;
                copy_range(&src, &dst, offset, size, &mut buf).map_err(|e| format!("{}: {e}", path.display()))?;
                if src.metadata().is_ok_and(|m| m.len() > size) {
                    grew.push(format!(
                        "{}: the file grew while it was packed; the pack has its first {size} bytes",
                        path.display()
                    ));
                }
            }
            Ok(grew)
        });
        Copier { tx: Some(tx), handle: Some(handle) }
    }

    /// Queues a copy; false when the thread has stopped at an error (`finish` returns it).
    pub fn send(&self, path: &Path, offset: u64, size: u64) -> bool {
        let tx = self.tx.as_ref().expect("open until finish");
        tx.send((path.to_path_buf(), offset, size)).is_ok()
    }

    /// Waits for every queued copy; the files that grew meanwhile, or the first error.
    pub fn finish(mut self) -> Result<Vec<String>, String> {
        self.tx = None;
        match self.handle.take().map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err("the copying thread failed".into()),
            None => Ok(Vec::new()),
        }
    }
}

impl Drop for Copier {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Bytes copied between two checks for an interrupt.
const STEP: usize = 64 << 20;

/// Copies `size` bytes from the start of `src` to `offset` of `dst`: in the kernel
/// (`copy_file_range`) where it can, else through `buf`; stops at an interrupt.
pub fn copy_range(
    src: &std::fs::File,
    dst: &std::fs::File,
    offset: u64,
    size: u64,
    buf: &mut Vec<u8>,
) -> Result<(), String> {
    use std::os::fd::AsRawFd;
    let shorter = || "the file got shorter while it was packed".to_string();
    let (mut from, mut to) = (0i64, offset as i64);
    while (from as u64) < size {
        crate::interrupted()?;
        let left = ((size - from as u64) as usize).min(STEP);
        // SAFETY: two open descriptors and offsets the kernel advances; no memory is shared.
        let n = unsafe { libc::copy_file_range(src.as_raw_fd(), &mut from, dst.as_raw_fd(), &mut to, left, 0) };
        if n == 0 {
            return Err(shorter());
        }
        if n < 0 {
            let e = std::io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EXDEV | libc::ENOSYS | libc::EINVAL | libc::EOPNOTSUPP) => break,
                Some(libc::EINTR) => crate::interrupted()?,
                _ => return Err(format!("cannot copy it: {e}")),
            }
        }
    }
    buf.resize(PIECE.min(size as usize), 0);
    while (from as u64) < size {
        crate::interrupted()?;
        let n = (size - from as u64).min(PIECE as u64) as usize;
        src.read_exact_at(&mut buf[..n], from as u64).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => shorter(),
            _ => format!("cannot read it: {e}"),
        })?;
        dst.write_all_at(&buf[..n], to as u64).map_err(|e| format!("cannot write the pack: {e}"))?;
        from += n as i64;
        to += n as i64;
    }
    Ok(())
}
