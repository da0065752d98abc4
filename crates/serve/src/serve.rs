//! The read-only file system of a sealed pack, answering the kernel's FUSE requests from the
//! tree image (read from the pack as each request needs it: nothing of the tree is held in
//! memory) and file contents with `pread` at their offsets. Long cache timeouts (the tree never
//! changes); the kernel opens files and folders without asking, keeping their page cache
//! between opens. Any number of threads may serve one session.
//!
//! A pack made with `pack --split-dirs` names, for each folder packed on its own, that folder's
//! pack, which has an image of its own: the server holds every one, numbering their nodes one
//! after another (node `n` of image `k` is inode `n` plus the nodes of the images before it; 0
//! is the main pack's). Where the main pack's image names a folder's pack, the kernel is shown
//! that pack's root, whose parent is the main pack's folder.

use std::fs::File;
use std::io::{IoSlice, Read, Write};
use std::time::Duration;

use packfs::image::{Kind, Record, View};

use crate::abi::{self, bytes_of};

/// How long the kernel may keep names and attributes: the tree never changes.
const TTL: Duration = Duration::from_secs(365 * 24 * 3600);
/// The largest read asked for, in pages (512 KiB: a fifth faster than the kernel's default of
/// 32 pages reading a pack from a cold cache, BENCHMARKS.md). Replies are spliced, so this
/// costs no memory in this process.
const READ_PAGES: u16 = 128;
/// A request buffer: room for the largest request a read-only mount gets, an `ioctl` with up to
/// 16 KiB of argument (answered ENOTTY; a request that does not fit would fail with EIO
/// instead). Only the pages a request fills take memory.
pub const REQUEST_BUFFER: usize = 20 << 10;
const _: () = assert!(REQUEST_BUFFER >= abi::MIN_READ_BUFFER, "the kernel refuses smaller reads");

/// Where the main pack shows a folder packed on its own: its node there, and that node's folder.
#[derive(Debug, Clone, Copy)]
pub struct PartLink {
    pub node: u32,
    pub parent: u32,
}

#[derive(Debug)]
pub struct Server<'a> {
    /// The tree images, read from their packs (`bytes`), whose files' bytes are read too: the
    /// mounted pack's, then each folder's own pack's, in the order of `parts`.
    pub views: Vec<View<'a, File>>,
    /// Where the main pack shows each folder's own pack (`views[k + 1]`), sorted by node.
    pub parts: Vec<PartLink>,
    /// The inode before each image's first node (the nodes of the images before it).
    pub bases: Vec<u64>,
    pub fuse: &'a File,
    /// The kernel opens files and folders without asking (FUSE_NO_OPEN_SUPPORT and
    /// FUSE_NO_OPENDIR_SUPPORT).
    pub no_open: bool,
    /// The pack was found changed (logged once).
    pub changed: std::sync::atomic::AtomicBool,
}

/// A reply: the bytes that follow the header, or an errno.
type Reply<'b> = Result<&'b [u8], i32>;

/// A node as the kernel sees it: the image it is in, its record, and its folder's inode.
struct Found {
    view: usize,
    rec: Record,
    parent: u64,
}

/// The inodes before each image's first: the nodes of the images before it.
pub fn bases(views: &[View<File>]) -> Vec<u64> {
    views
        .iter()
        .scan(0u64, |before, v| Some(std::mem::replace(before, *before + u64::from(v.layout.head.nodes))))
        .collect()
}

impl Server<'_> {
    /// Answers the kernel's INIT (the first request of a session): what this server wants of
    /// what the kernel offers. Returns whether the kernel opens without asking.
    pub fn handshake(fuse: &File) -> std::io::Result<bool> {
        let mut buf = vec![0u8; REQUEST_BUFFER];
        let n = read_request(fuse, &mut buf)?.ok_or_else(|| std::io::Error::other("the mount went away"))?;
        let h: abi::fuse_in_header = abi::read(&buf[..n]).ok_or_else(|| std::io::Error::other("a short request"))?;
        let body = &buf[std::mem::size_of::<abi::fuse_in_header>()..n];
        let init: Option<abi::fuse_init_in> = abi::read(body);
        let Some(init) = init.filter(|i| h.opcode == abi::INIT && i.major == abi::KERNEL_MAJOR) else {
            send(fuse, h.unique, Err(libc::EPROTO));
            return Err(std::io::Error::other("the kernel speaks a FUSE protocol this server does not (7.x)"));
        };
        let wanted = abi::ASYNC_READ
            | abi::DO_READDIRPLUS
            | abi::PARALLEL_DIROPS
            | abi::CACHE_SYMLINKS
            | abi::NO_OPEN_SUPPORT
            | abi::NO_OPENDIR_SUPPORT
            | abi::MAX_PAGES;
        let flags = init.flags & wanted;
        let out = abi::fuse_init_out {
            major: abi::KERNEL_MAJOR,
            minor: abi::KERNEL_MINOR,
            max_readahead: init.max_readahead.min(1 << 20),
            flags,
            max_background: 16,
            congestion_threshold: 12,
            max_write: 4096,
            time_gran: 1,
            max_pages: READ_PAGES,
            ..Default::default()
        };
        send(fuse, h.unique, Ok(bytes_of(&out)));
        Ok(flags & abi::NO_OPEN_SUPPORT != 0 && flags & abi::NO_OPENDIR_SUPPORT != 0)
    }

    /// Serves requests until the file system is unmounted (Ok), or reading a request fails.
    pub fn run(&self) -> std::io::Result<()> {
        let mut buf = vec![0u8; REQUEST_BUFFER];
        let mut out = Vec::new();
        // Room for the largest read, with the reply's header in a page of its own and the data
        // starting anywhere in a page (1 MiB: what a user may make a pipe hold, by default).
        // DSET_SPLIT_MOUNT_NO_SPLICE: read into a buffer instead (for tests of that path).
        let pipe = std::env::var_os("DSET_SPLIT_MOUNT_NO_SPLICE")
            .is_none()
            .then(|| crate::splice::Pipe::new((usize::from(READ_PAGES) + 2) * 4096))
            .flatten();
        loop {
            let Some(n) = read_request(self.fuse, &mut buf)? else { return Ok(()) };
            let Some(h) = abi::read::<abi::fuse_in_header>(&buf[..n]) else { continue };
            let body = &buf[std::mem::size_of::<abi::fuse_in_header>()..n];
            // No reply: the kernel forgets (there is nothing to count), or asks to stop a request
            // (each is answered at once).
            if matches!(h.opcode, abi::FORGET | abi::BATCH_FORGET | abi::INTERRUPT) {
                continue;
            }
            // A panic (a bug) must not leave the request unanswered: its caller would wait for
            // ever, and the thread would serve no more.
            let answered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.unchanged(h.nodeid)?;
                match &pipe {
                    Some(p) if h.opcode == abi::READ && self.spliced(p, &h, body) => Ok(false),
                    _ => self.answer(h.opcode, h.nodeid, body, &mut out).map(|()| true),
                }
            }));
            match answered {
                Ok(Ok(false)) => {}
                Ok(Ok(true)) => send(self.fuse, h.unique, Ok(&out)),
                Ok(Err(e)) => send(self.fuse, h.unique, Err(e)),
                Err(_) => {
                    if let Some(p) = &pipe {
                        p.drain();
                    }
                    crate::log(&format!("request {} failed (a bug): answered EIO", h.opcode));
                    send(self.fuse, h.unique, Err(libc::EIO));
                }
            }
        }
    }

    /// Whether the pack, and the folder's pack inode `ino` is in, are still as sealed (their
    /// size and modification time), checked on every request: a program that ignores a pack's
    /// lock (`cp` over it) could have rewritten it, and its records would then point anywhere.
    /// EIO from then on, and the log says why once.
    fn unchanged(&self, ino: u64) -> Result<(), i32> {
        self.sealed(0)?;
        match self.split(ino) {
            Some((view, _)) if view > 0 => self.sealed(view),
            _ => Ok(()),
        }
    }

    /// Whether the pack of image `view` is still as sealed (see [`Server::unchanged`]).
    fn sealed(&self, view: usize) -> Result<(), i32> {
        let v = &self.views[view];
        match v.bytes.metadata().is_ok_and(|m| v.layout.head.seal.holds(&m)) {
            true => Ok(()),
            false => {
                if !self.changed.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    crate::log("the pack was changed while mounted: requests fail with EIO (mount it again)");
                }
                Err(libc::EIO)
            }
        }
    }

    /// The reply to request `op` about inode `ino` with arguments `body`; a reply's bytes are
    /// built in `out`.
    fn answer(&self, op: u32, ino: u64, body: &[u8], out: &mut Vec<u8>) -> Result<(), i32> {
        out.clear();
        match op {
            abi::LOOKUP => {
                let name = body.split(|&b| b == 0).next().unwrap_or_default();
                let dir = self.node(ino)?;
                let Kind::Dir { first, count } = dir.rec.kind else { return Err(libc::ENOTDIR) };
                let view = &self.views[dir.view];
                let child = view.lookup(first, count, name).map_err(|e| self.failed(e))?.ok_or(libc::ENOENT)?;
                let (child, found) = self.child(dir.view, child)?;
                out.extend_from_slice(bytes_of(&entry(child, &found.rec)));
            }
            abi::GETATTR => {
                let rec = self.node(ino)?.rec;
                let (valid, nsec) = ttl();
                let a =
                    abi::fuse_attr_out { attr_valid: valid, attr_valid_nsec: nsec, dummy: 0, attr: attr(ino, &rec) };
                out.extend_from_slice(bytes_of(&a));
            }
            abi::READLINK => {
                let link = self.node(ino)?;
                let Kind::Link { start, len } = link.rec.kind else { return Err(libc::EINVAL) };
                *out = self.views[link.view].target(start, len).map_err(|e| self.failed(e))?;
            }
            abi::OPEN => {
                let flags = abi::read::<abi::fuse_open_in>(body).ok_or(libc::EINVAL)?.flags as i32;
                if flags & libc::O_ACCMODE != libc::O_RDONLY {
                    return Err(libc::EROFS);
                }
                if self.no_open {
                    return Err(libc::ENOSYS);
                }
                match self.node(ino)?.rec.kind {
                    Kind::File { .. } => opened(out, abi::FOPEN_KEEP_CACHE | abi::FOPEN_NOFLUSH),
                    _ => return Err(libc::EISDIR),
                }
            }
            abi::OPENDIR => {
                if self.no_open {
                    return Err(libc::ENOSYS);
                }
                match self.node(ino)?.rec.kind {
                    Kind::Dir { .. } => opened(out, abi::FOPEN_KEEP_CACHE | abi::FOPEN_CACHE_DIR),
                    _ => return Err(libc::ENOTDIR),
                }
            }
            abi::READ => {
                let r = abi::read::<abi::fuse_read_in>(body).ok_or(libc::EINVAL)?;
                let file = self.node(ino)?;
                let Kind::File { size, offset } = file.rec.kind else { return Err(libc::EISDIR) };
                let (Some(at), true) = (offset, r.offset < size) else { return Ok(()) };
                // (At most READ_PAGES: only when a pipe could not be made.)
                let n = (size - r.offset).min(u64::from(r.size)) as usize;
                out.resize(n, 0);
                // (A forged image could give any offset.)
                let at = at.checked_add(r.offset).ok_or(libc::EIO)?;
                let bytes = self.views[file.view].bytes;
                std::os::unix::fs::FileExt::read_exact_at(bytes, out, at).map_err(|e| self.failed(e))?;
            }
            abi::READDIR | abi::READDIRPLUS => {
                let r = abi::read::<abi::fuse_read_in>(body).ok_or(libc::EINVAL)?;
                self.listing(ino, r.offset, r.size as usize, op == abi::READDIRPLUS, out)?;
            }
            abi::STATFS => {
                // (A folder's node in the main pack is its pack's root, counted there.)
                let nodes: u64 = self.views.iter().map(|v| u64::from(v.layout.head.nodes)).sum();
                let files = nodes - self.views[0].layout.parts;
                let bytes: u64 = self.views.iter().map(|v| v.layout.file_bytes).fold(0, u64::saturating_add);
                let st = abi::fuse_kstatfs {
                    blocks: bytes.div_ceil(4096),
                    files,
                    bsize: 4096,
                    namelen: 255,
                    frsize: 4096,
                    ..Default::default()
                };
                out.extend_from_slice(bytes_of(&st));
            }
            abi::GETXATTR => {
                self.node(ino)?;
                return Err(libc::ENODATA);
            }
            abi::LISTXATTR => {
                self.node(ino)?;
                let size = abi::read::<abi::fuse_getxattr_in>(body).ok_or(libc::EINVAL)?.size;
                if size == 0 {
                    out.extend_from_slice(bytes_of(&abi::fuse_getxattr_out::default()));
                }
            }
            abi::ACCESS => {
                self.node(ino)?;
            }
            abi::RELEASE | abi::RELEASEDIR | abi::DESTROY => {}
            // Nothing to flush on a read-only mount: ENOSYS tells the kernel not to ask again.
            abi::FLUSH => return Err(libc::ENOSYS),
            // Python's open() asks every file whether it is a terminal (TCGETS).
            abi::IOCTL => return Err(libc::ENOTTY),
            _ => return Err(libc::ENOSYS),
        }
        Ok(())
    }

    /// Answers a read through `pipe`; false when it did not (the read is answered the usual
    /// way: an empty one, an error, or a failed splice).
    fn spliced(&self, pipe: &crate::splice::Pipe, h: &abi::fuse_in_header, body: &[u8]) -> bool {
        let Some(r) = abi::read::<abi::fuse_read_in>(body) else { return false };
        let Ok(Found { view, rec: Record { kind: Kind::File { size, offset: Some(at) }, .. }, .. }) =
            self.node(h.nodeid)
        else {
            return false;
        };
        let n = size.saturating_sub(r.offset).min(u64::from(r.size)) as usize;
        let Some(at) = at.checked_add(r.offset) else { return false };
        n > 0 && pipe.send(self.fuse, h.unique, self.views[view].bytes, at, n)
    }

    /// The image inode `ino` is in, and its node there.
    fn split(&self, ino: u64) -> Option<(usize, u64)> {
        let view = self.bases.partition_point(|&b| b < ino).checked_sub(1)?;
        Some((view, ino - self.bases[view]))
    }

    /// The inode of node `node` of image `view`.
    fn join(&self, view: usize, node: u64) -> u64 {
        self.bases[view] + node
    }

    /// Inode `ino`: ENOENT when there is none (a folder's node in the main pack is shown as its
    /// pack's root, under another inode), EIO when it cannot be read.
    fn node(&self, ino: u64) -> Result<Found, i32> {
        let (view, node) = self.split(ino).ok_or(libc::ENOENT)?;
        let rec = self.views[view].node(node).map_err(|e| self.failed(e))?.ok_or(libc::ENOENT)?;
        self.found(view, node, rec)
    }

    /// Node `node` of image `view`, whose record is `rec`, as the kernel sees it (ENOENT for a
    /// folder's node in the main pack: it is shown as its pack's root).
    fn found(&self, view: usize, node: u64, rec: Record) -> Result<Found, i32> {
        if matches!(rec.kind, Kind::Part { .. }) {
            return Err(libc::ENOENT);
        }
        let parent = match view.checked_sub(1) {
            Some(part) if node == 1 => self.join(0, self.parts[part].parent.into()),
            _ => self.join(view, rec.parent.into()),
        };
        Ok(Found { view, rec, parent })
    }

    /// The inode and node of node `node` of image `view`, which a folder names (a folder's own
    /// pack's root in place of its node in the main pack): EIO when there is none (the image is
    /// not sound; ENOENT would end a listing early without an error).
    fn child(&self, view: usize, node: u32) -> Result<(u64, Found), i32> {
        let eio = |e| if e == libc::ENOENT { libc::EIO } else { e };
        let rec = self.views[view].node(node.into()).map_err(|e| self.failed(e))?.ok_or(libc::EIO)?;
        if let (Kind::Part { .. }, 0) = (rec.kind, view) {
            let part = self.parts.binary_search_by_key(&node, |p| p.node).map_err(|_| libc::EIO)?;
            // Its root is read from that pack, which the request was not about.
            self.sealed(part + 1)?;
            let ino = self.join(part + 1, 1);
            return Ok((ino, self.node(ino).map_err(eio)?));
        }
        Ok((self.join(view, node.into()), self.found(view, node.into(), rec).map_err(eio)?))
    }

    /// Logs a failed read of the pack; EIO.
    fn failed(&self, e: std::io::Error) -> i32 {
        crate::log(&format!("reading the pack: {e}"));
        libc::EIO
    }

    /// Folder `ino`'s entries from `offset` on (`.` and `..` first; an entry's offset is the
    /// next one's index), as many as `size` bytes hold, with attributes when `plus`.
    fn listing(&self, ino: u64, offset: u64, size: usize, plus: bool, out: &mut Vec<u8>) -> Result<(), i32> {
        let dir = self.node(ino)?;
        let Kind::Dir { first, count } = dir.rec.kind else { return Err(libc::ENOTDIR) };
        let view = &self.views[dir.view];
        let mut name = Vec::new();
        for i in offset..count + 2 {
            let (child, found) = match i {
                0 => {
                    name.clear();
                    name.push(b'.');
                    (ino, Found { view: dir.view, rec: dir.rec.clone(), parent: dir.parent })
                }
                1 => {
                    name.clear();
                    name.extend_from_slice(b"..");
                    (dir.parent, self.node(dir.parent).map_err(|_| libc::EIO)?)
                }
                _ => {
                    let e = view.entry(first + i - 2).map_err(|e| self.failed(e))?;
                    view.name(&e, &mut name).map_err(|e| self.failed(e))?;
                    self.child(dir.view, e.ino)?
                }
            };
            let rec = found.rec;
            let dirent = abi::fuse_dirent { ino: child, off: i + 1, namelen: name.len() as u32, r#type: dtype(&rec) };
            let fixed = if plus { std::mem::size_of::<abi::fuse_entry_out>() } else { 0 };
            let len = (fixed + std::mem::size_of::<abi::fuse_dirent>() + name.len()).next_multiple_of(8);
            if out.len() + len > size {
                break;
            }
            let start = out.len();
            if plus {
                out.extend_from_slice(bytes_of(&entry(child, &rec)));
            }
            out.extend_from_slice(bytes_of(&dirent));
            out.extend_from_slice(&name);
            out.resize(start + len, 0);
        }
        Ok(())
    }
}

/// Reads one request into `buf`: its length, or None when the file system was unmounted.
fn read_request(mut fuse: &File, buf: &mut [u8]) -> std::io::Result<Option<usize>> {
    loop {
        match fuse.read(buf) {
            Ok(n) => return Ok(Some(n)),
            Err(e) => match e.raw_os_error() {
                // Interrupted, or the request was taken back before it was read.
                Some(libc::EINTR | libc::EAGAIN | libc::ENOENT) => {}
                Some(libc::ENODEV) => return Ok(None),
                _ => return Err(e),
            },
        }
    }
}

/// Sends the reply to request `unique`. A reply the kernel no longer waits for (ENOENT: the
/// request was interrupted) or cannot take is dropped: there is nobody else to tell.
fn send(mut fuse: &File, unique: u64, reply: Reply) {
    let (error, body) = match reply {
        Ok(b) => (0, b),
        Err(e) => (-e, &[][..]),
    };
    let h =
        abi::fuse_out_header { len: (std::mem::size_of::<abi::fuse_out_header>() + body.len()) as u32, error, unique };
    let _ = fuse.write_vectored(&[IoSlice::new(bytes_of(&h)), IoSlice::new(body)]);
}

fn opened(out: &mut Vec<u8>, flags: u32) {
    out.extend_from_slice(bytes_of(&abi::fuse_open_out { fh: 0, open_flags: flags, padding: 0 }));
}

fn ttl() -> (u64, u32) {
    (TTL.as_secs(), TTL.subsec_nanos())
}

fn dtype(rec: &Record) -> u32 {
    u32::from(match rec.kind {
        Kind::Dir { .. } | Kind::Part { .. } => libc::DT_DIR,
        Kind::File { .. } => libc::DT_REG,
        Kind::Link { .. } => libc::DT_LNK,
    })
}

/// What `stat` shows of node `ino`.
fn attr(ino: u64, rec: &Record) -> abi::fuse_attr {
    let (kind, size) = match rec.kind {
        Kind::Dir { count, .. } => (libc::S_IFDIR, count),
        Kind::Part { .. } => (libc::S_IFDIR, 0),
        Kind::File { size, .. } => (libc::S_IFREG, size),
        Kind::Link { len, .. } => (libc::S_IFLNK, len),
    };
    // Times before 1970 go to the kernel as negative seconds, as it keeps them.
    let t = rec.sec as u64;
    abi::fuse_attr {
        ino,
        size,
        blocks: size.div_ceil(512),
        atime: t,
        mtime: t,
        ctime: t,
        atimensec: rec.nsec,
        mtimensec: rec.nsec,
        ctimensec: rec.nsec,
        mode: kind | u32::from(rec.perm),
        nlink: rec.nlink,
        uid: rec.uid,
        gid: rec.gid,
        rdev: 0,
        blksize: 4096,
        flags: 0,
    }
}

fn entry(ino: u64, rec: &Record) -> abi::fuse_entry_out {
    let (valid, nsec) = ttl();
    abi::fuse_entry_out {
        nodeid: ino,
        generation: 0,
        entry_valid: valid,
        attr_valid: valid,
        entry_valid_nsec: nsec,
        attr_valid_nsec: nsec,
        attr: attr(ino, rec),
    }
}
