//! The read-only FUSE file system over a [`Tree`], with the `fuser` crate (the only module
//! that uses it: its API changes between minor versions). Answers from memory with long cache
//! timeouts; the kernel keeps file pages between opens (`FOPEN_KEEP_CACHE`: nothing changes
//! under a read-only mount). Plain bytes are read with `pread` from any thread; reads through
//! HDF5 hold one lock (HDF5 is not thread-safe).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::sync::Mutex;
use std::time::Duration;

use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo, InitFlags, KernelConfig,
    LockOwner, OpenFlags, ReplyAttr, ReplyData, ReplyDirectory, ReplyDirectoryPlus, ReplyEntry, ReplyOpen, ReplyStatfs,
    ReplyXattr, Request,
};

use super::tree::{Data, Ino, Kind, Node, Source, Tree};

/// How long the kernel may keep names and attributes: the tree never changes.
const TTL: Duration = Duration::from_secs(365 * 24 * 3600);

pub struct MountFs {
    /// The tree (empty when it could not be read).
    tree: Tree,
    /// Held around every HDF5 call.
    hdf5: Mutex<()>,
    /// The kernel opens files and folders without asking (FUSE_NO_OPEN_SUPPORT): no request
    /// on open and close, and it keeps the page cache as with `FOPEN_KEEP_CACHE`.
    no_open: bool,
}

impl std::fmt::Debug for MountFs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let nodes = self.tree.nodes.len();
        f.debug_struct("MountFs").field("nodes", &nodes).field("no_open", &self.no_open).finish()
    }
}

impl MountFs {
    /// A file system showing `tree` (when it is empty, as when it could not be read, lookups,
    /// attributes and listings fail with EIO).
    pub fn new(tree: Tree) -> MountFs {
        MountFs { tree, hdf5: Mutex::new(()), no_open: false }
    }

    /// The error for an inode not in the tree: ENOENT, or EIO when there is no tree (it could
    /// not be read).
    fn gone(&self) -> Errno {
        if self.tree().nodes.is_empty() { Errno::EIO } else { Errno::ENOENT }
    }

    fn tree(&self) -> &Tree {
        &self.tree
    }

    fn attr(&self, ino: Ino, node: &Node) -> FileAttr {
        let (kind, size) = match &node.kind {
            Kind::Dir(children) => (FileType::Directory, children.len() as u64),
            Kind::File(d) => (FileType::RegularFile, d.size),
            Kind::Symlink(t) => (FileType::Symlink, t.len() as u64),
            Kind::Part(_) => (FileType::Directory, 0),
        };
        let m = &node.meta;
        FileAttr {
            ino: INodeNo(ino),
            size,
            blocks: size.div_ceil(512),
            atime: m.mtime,
            mtime: m.mtime,
            ctime: m.mtime,
            crtime: m.mtime,
            kind,
            perm: m.perm,
            nlink: m.nlink,
            uid: m.uid,
            gid: m.gid,
            rdev: 0,
            blksize: 4096,
            flags: 0,
        }
    }

    /// `len` bytes at `offset` of a file's contents.
    fn read_data(&self, d: &Data, offset: u64, len: u64) -> Result<Vec<u8>, Errno> {
        if let Source::Missing(_) = d.source {
            return self.read_source(&d.source, 0, &mut []).map(|()| Vec::new());
        }
        let end = (offset.saturating_add(len)).min(d.size);
        if offset >= end {
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity((end - offset) as usize);
        let hlen = d.header.as_ref().map_or(0, |h| h.len() as u64);
        if offset < hlen {
            let h = d.header.as_ref().expect("a header");
            out.extend_from_slice(&h[offset as usize..end.min(hlen) as usize]);
        }
        let (from, to) = (offset.max(hlen) - hlen, end - hlen.min(end));
        if to > from {
            let start = out.len();
            out.resize(start + (to - from) as usize, 0);
            self.read_source(&d.source, from, &mut out[start..])?;
        }
        Ok(out)
    }

    fn read_source(&self, s: &Source, at: u64, buf: &mut [u8]) -> Result<(), Errno> {
        match s {
            Source::Empty => Ok(()),
            Source::Bytes { file, offset } => {
                // (A forged image could give any offset.)
                let at = offset.checked_add(at).ok_or(Errno::EIO)?;
                self.tree().files[*file].fd.read_exact_at(buf, at).map_err(|e| {
                    super::log(&format!("reading {}: {e}", self.tree().files[*file].path.display()));
                    Errno::EIO
                })
            }
            Source::Hdf5(h) => {
                let _lock = self.hdf5.lock().unwrap_or_else(|e| e.into_inner());
                let f = self.tree().files[h.file].h5.as_ref().map_or(-1, |f| f.0);
                super::read::read(f, &h.path, &h.dims, h.elem, at, buf).map_err(|e| {
                    super::log(&e);
                    Errno::EIO
                })
            }
            Source::Missing(why) => {
                super::log(why);
                Err(Errno::EIO)
            }
        }
    }
}

impl MountFs {
    /// The entries of folder `ino` from `offset` on (`.` and `..` first): each with the offset
    /// of the next, its name and inode; None when `ino` is not a folder.
    fn listing(&self, ino: Ino, offset: u64) -> Option<impl Iterator<Item = (u64, &OsStr, Ino)>> {
        let Some(node @ Node { kind: Kind::Dir(children), .. }) = self.tree().node(ino) else { return None };
        let dots = [(OsStr::new("."), ino), (OsStr::new(".."), node.parent)];
        let all = dots.into_iter().chain(children.iter().map(|c| (self.tree().name(c), c.ino)));
        Some(all.enumerate().skip(offset as usize).map(|(i, (name, child))| (i as u64 + 1, name, child)))
    }
}

fn file_type(node: &Node) -> FileType {
    match node.kind {
        Kind::Dir(_) => FileType::Directory,
        Kind::File(_) => FileType::RegularFile,
        Kind::Symlink(_) => FileType::Symlink,
        Kind::Part(_) => FileType::Directory,
    }
}

impl Filesystem for MountFs {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> std::io::Result<()> {
        // Directory listings carry attributes (one round trip for `ls -l` or a walk), and
        // symbolic link targets are cached.
        for wanted in [InitFlags::FUSE_DO_READDIRPLUS, InitFlags::FUSE_CACHE_SYMLINKS, InitFlags::FUSE_PARALLEL_DIROPS]
        {
            let _ = config.add_capabilities(wanted);
        }
        // Opening and closing cost no round trip (answered ENOSYS below, which such a kernel
        // takes as "never ask again"; it then keeps the page cache as with FOPEN_KEEP_CACHE).
        let no_open = InitFlags::FUSE_NO_OPEN_SUPPORT | InitFlags::FUSE_NO_OPENDIR_SUPPORT;
        // Not when a split file is missing: opening its entry must fail (with EIO), and an
        // empty entry is never read.
        let missing = self.tree.has_missing();
        self.no_open = !missing && config.add_capabilities(no_open).is_ok();
        if std::env::var_os("DSET_SPLIT_MOUNT_DEBUG").is_some() {
            super::log(&format!("kernel capabilities: {:?}", config.capabilities()));
        }
        let _ = config.set_max_readahead(1 << 20);
        Ok(())
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let Some(Node { kind: Kind::Dir(children), .. }) = self.tree().node(parent.0) else {
            return reply.error(self.gone());
        };
        match children.binary_search_by(|c| self.tree().name(c).as_bytes().cmp(name.as_bytes())) {
            Ok(i) => {
                let ino = children[i].ino;
                let node = self.tree().node(ino).expect("children exist");
                reply.entry(&TTL, &self.attr(ino, node), Generation(0));
            }
            Err(_) => reply.error(self.gone()),
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.tree().node(ino.0) {
            Some(node) => reply.attr(&TTL, &self.attr(ino.0, node)),
            None => reply.error(self.gone()),
        }
    }

    fn readlink(&self, _req: &Request, ino: INodeNo, reply: ReplyData) {
        match self.tree().node(ino.0) {
            Some(Node { kind: Kind::Symlink(t), .. }) => reply.data(t),
            _ => reply.error(Errno::EINVAL),
        }
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        if flags.0 & libc::O_ACCMODE != libc::O_RDONLY {
            return reply.error(Errno::EROFS);
        }
        if self.no_open {
            return reply.error(Errno::ENOSYS);
        }
        match self.tree().node(ino.0) {
            Some(Node { kind: Kind::File(Data { source: s @ Source::Missing(_), .. }), .. }) => {
                reply.error(self.read_source(s, 0, &mut []).err().unwrap_or(Errno::EIO))
            }
            Some(Node { kind: Kind::File(_), .. }) => {
                reply.opened(FileHandle(0), FopenFlags::FOPEN_KEEP_CACHE | FopenFlags::FOPEN_NOFLUSH)
            }
            Some(_) => reply.error(Errno::EISDIR),
            None => reply.error(self.gone()),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        match self.tree().node(ino.0) {
            Some(Node { kind: Kind::File(d), .. }) => match self.read_data(d, offset, size.into()) {
                Ok(bytes) => reply.data(&bytes),
                Err(e) => reply.error(e),
            },
            _ => reply.error(Errno::EISDIR),
        }
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        match self.tree().node(ino.0) {
            Some(_) if self.no_open => reply.error(Errno::ENOSYS),
            Some(Node { kind: Kind::Dir(_), .. }) => {
                reply.opened(FileHandle(0), FopenFlags::FOPEN_KEEP_CACHE | FopenFlags::FOPEN_CACHE_DIR)
            }
            Some(_) => reply.error(Errno::ENOTDIR),
            None => reply.error(self.gone()),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn ioctl(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _flags: fuser::IoctlFlags,
        _cmd: u32,
        _in_data: &[u8],
        _out_size: u32,
        reply: fuser::ReplyIoctl,
    ) {
        // Python's open() asks every file whether it is a terminal (TCGETS); the kernel passes
        // that on, one round trip per open that no FUSE file system avoids. Answered at once.
        reply.error(Errno::ENOTTY);
    }

    fn flush(&self, _req: &Request, _ino: INodeNo, _fh: FileHandle, _owner: LockOwner, reply: fuser::ReplyEmpty) {
        // Nothing to flush on a read-only mount; ENOSYS tells the kernel not to ask again.
        reply.error(Errno::ENOSYS);
    }

    fn readdir(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, offset: u64, mut reply: ReplyDirectory) {
        let Some(entries) = self.listing(ino.0, offset) else {
            return reply.error(if self.tree().node(ino.0).is_some() { Errno::ENOTDIR } else { self.gone() });
        };
        for (next, name, child) in entries {
            let kind = self.tree().node(child).map_or(FileType::Directory, file_type);
            if reply.add(INodeNo(child), next, kind, name) {
                break;
            }
        }
        reply.ok();
    }

    fn readdirplus(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, offset: u64, mut reply: ReplyDirectoryPlus) {
        let Some(entries) = self.listing(ino.0, offset) else {
            return reply.error(if self.tree().node(ino.0).is_some() { Errno::ENOTDIR } else { self.gone() });
        };
        for (next, name, child) in entries {
            let Some(n) = self.tree().node(child) else { continue };
            if reply.add(INodeNo(child), next, name, &TTL, &self.attr(child, n), Generation(0)) {
                break;
            }
        }
        reply.ok();
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        let bytes = self
            .tree()
            .nodes
            .iter()
            .fold(0u64, |sum, n| sum.saturating_add(if let Kind::File(d) = &n.kind { d.size } else { 0 }));
        reply.statfs(bytes.div_ceil(4096), 0, 0, self.tree().nodes.len() as u64, 0, 4096, 255, 4096);
    }

    fn getxattr(&self, _req: &Request, ino: INodeNo, name: &OsStr, size: u32, reply: ReplyXattr) {
        let found = self.tree().xattrs.get(&ino.0).and_then(|l| l.iter().find(|(n, _)| n == name.as_bytes()));
        match found {
            None => reply.error(Errno::ENODATA),
            Some((_, v)) if size == 0 => reply.size(v.len() as u32),
            Some((_, v)) if v.len() > size as usize => reply.error(Errno::ERANGE),
            Some((_, v)) => reply.data(v),
        }
    }

    fn listxattr(&self, _req: &Request, ino: INodeNo, size: u32, reply: ReplyXattr) {
        let mut names = Vec::new();
        for (n, _) in self.tree().xattrs.get(&ino.0).map_or(&[][..], |l| &l[..]) {
            names.extend_from_slice(n);
            names.push(0);
        }
        if size == 0 {
            reply.size(names.len() as u32)
        } else if names.len() > size as usize {
            reply.error(Errno::ERANGE)
        } else {
            reply.data(&names)
        }
    }

    fn access(&self, _req: &Request, ino: INodeNo, _mask: fuser::AccessFlags, reply: fuser::ReplyEmpty) {
        match self.tree().node(ino.0) {
            Some(_) => reply.ok(),
            None => reply.error(self.gone()),
        }
    }
}
