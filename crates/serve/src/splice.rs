//! Reads answered without copying through this process: the reply's header is written into a
//! pipe, the pack's pages are spliced in after it, and the whole reply is spliced on to the
//! kernel. No buffer of the file's size in this process (its memory stays small), one copy
//! less. Any failure before the reply leaves for the kernel falls back to `pread`.

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::abi::{self, bytes_of};

/// A pipe to splice replies through.
#[derive(Debug)]
pub struct Pipe {
    r: OwnedFd,
    w: OwnedFd,
}

impl Pipe {
    /// A pipe holding at least `room` bytes of replies, if the system gives one.
    pub fn new(room: usize) -> Option<Pipe> {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors returned.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
            return None;
        }
        // SAFETY: two descriptors just made, owned by nothing else.
        let pipe = unsafe { Pipe { r: OwnedFd::from_raw_fd(fds[0]), w: OwnedFd::from_raw_fd(fds[1]) } };
        // SAFETY: a plain system call on a descriptor we own.
        let size = unsafe { libc::fcntl(pipe.w.as_raw_fd(), libc::F_SETPIPE_SZ, room as libc::c_int) };
        (size >= 0 && size as usize >= room).then_some(pipe)
    }

    /// Sends the reply to request `unique`: the `n` bytes at `at` of `file`. False when nothing
    /// was sent (the caller answers another way).
    pub fn send(&self, fuse: &File, unique: u64, file: &File, at: u64, n: usize) -> bool {
        let total = std::mem::size_of::<abi::fuse_out_header>() + n;
        let h = abi::fuse_out_header { len: total as u32, error: 0, unique };
        let head = bytes_of(&h);
        let Ok(mut off) = libc::loff_t::try_from(at) else { return false };
        // SAFETY: `head` is valid for its length; a plain system call.
        if unsafe { libc::write(self.w.as_raw_fd(), head.as_ptr().cast(), head.len()) } != head.len() as isize {
            self.drain();
            return false;
        }
        let mut moved = 0;
        while moved < n {
            // SAFETY: `off` is a live offset the call advances; the descriptors are open.
            let got = unsafe {
                libc::splice(
                    file.as_raw_fd(),
                    &mut off,
                    self.w.as_raw_fd(),
                    std::ptr::null_mut(),
                    n - moved,
                    libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK,
                )
            };
            if got < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            if got <= 0 {
                // The end of the pack (it was cut short) or an error: `pread` tells which.
                self.drain();
                return false;
            }
            moved += got as usize;
        }
        // SAFETY: the descriptors are open; no offsets (a pipe and a device).
        let sent = unsafe {
            libc::splice(
                self.r.as_raw_fd(),
                std::ptr::null_mut(),
                fuse.as_raw_fd(),
                std::ptr::null_mut(),
                total,
                libc::SPLICE_F_MOVE,
            )
        };
        if sent == total as isize {
            return true;
        }
        let refused = std::io::Error::last_os_error().raw_os_error();
        self.drain();
        // ENOENT: the request was interrupted and nobody waits for the reply; else the kernel
        // took nothing, and the reply goes the other way.
        sent < 0 && refused == Some(libc::ENOENT)
    }

    /// Empties the pipe of a reply that could not be sent.
    pub fn drain(&self) {
        let mut buf = [0u8; 4096];
        // SAFETY: `buf` is valid for its length; the pipe does not block.
        while unsafe { libc::read(self.r.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// A pipe's two ends as files (standing in for /dev/fuse, which takes a reply whole).
    fn pipe() -> (File, File) {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors returned.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        // SAFETY: two descriptors just made, owned by nothing else.
        unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) }
    }

    #[test]
    fn a_reply_goes_whole_and_a_failed_one_leaves_nothing_behind() {
        let dir = std::env::temp_dir().join(format!("dset-split-splice-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(dir.join("f"), &data).unwrap();
        let file = File::open(dir.join("f")).unwrap();
        let p = Pipe::new(130 * 4096).unwrap();
        let (mut from, to) = pipe();
        // SAFETY: a plain system call on a descriptor we own.
        assert!(unsafe { libc::fcntl(to.as_raw_fd(), libc::F_SETPIPE_SZ, 1 << 20) } >= 1 << 20);
        // From an offset inside a page, more than the default pipe holds.
        assert!(p.send(&to, 42, &file, 1001, 200_000));
        let mut got = vec![0u8; 16 + 200_000];
        from.read_exact(&mut got).unwrap();
        let h: abi::fuse_out_header = abi::read(&got).unwrap();
        assert_eq!((h.len, h.error, h.unique), (16 + 200_000, 0, 42));
        assert_eq!(&got[16..], &data[1001..201_001]);
        // Past the end of the file: nothing sent, and the pipe is empty for the next reply.
        assert!(!p.send(&to, 43, &file, 299_000, 5_000));
        assert!(p.send(&to, 44, &file, 0, 10));
        let mut got = vec![0u8; 26];
        from.read_exact(&mut got).unwrap();
        assert_eq!(abi::read::<abi::fuse_out_header>(&got).unwrap().unique, 44);
        assert_eq!(&got[16..], &data[..10]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
