//! The mounted tree: every directory, file and link with its attributes and where its bytes
//! are. The file system answers from it without HDF5, except for reading data that is not
//! stored as plain bytes at an offset (compressed or chunked datasets). `build` reads it from an
//! HDF5 file; `image` stores a pack's tree in the pack, so a mount can load it without HDF5.

use std::collections::HashMap;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::SystemTime;

use dset_split::split::IdGuard;

/// An inode number: a node's index in [`Tree::nodes`] plus one (the root is 1).
pub type Ino = u64;

/// Extended attributes: (`user.NAME`, value).
pub type Xattrs = Vec<(Vec<u8>, Vec<u8>)>;

/// A file the tree reads from: the mounted one, or a file it links to.
#[derive(Debug)]
pub struct Backing {
    pub path: PathBuf,
    pub fd: std::fs::File,
    /// The file open in HDF5 (closed after mount when no node reads through HDF5).
    pub h5: Option<IdGuard>,
}

/// A folder's entry: its name (in [`Tree::names`]) and inode.
#[derive(Debug, Clone, Copy)]
pub struct Child {
    /// Where the name starts in [`Tree::names`], and its length.
    pub start: u32,
    pub len: u32,
    pub ino: Ino,
}

#[derive(Debug, Default)]
pub struct Tree {
    pub nodes: Vec<Node>,
    /// Every entry's name, one after another (a few large allocations rather than one per
    /// name: the daemon's memory stays compact).
    pub names: Vec<u8>,
    pub files: Vec<Backing>,
    /// Extended attributes by inode (`user.NAME` -> value).
    pub xattrs: HashMap<Ino, Xattrs>,
    /// Messages for the log: what could not be shown and why.
    pub notes: Vec<String>,
    /// How many files came from a pack's index (for `DSET_SPLIT_MOUNT_DEBUG`).
    pub from_index: usize,
}

#[derive(Debug)]
pub struct Node {
    pub parent: Ino,
    pub meta: Meta,
    pub kind: Kind,
}

/// What `stat` answers besides size and type.
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    pub perm: u16,
    pub uid: u32,
    pub gid: u32,
    pub mtime: SystemTime,
    pub nlink: u32,
}

#[derive(Debug)]
pub enum Kind {
    /// Its entries, sorted by name.
    Dir(Vec<Child>),
    File(Data),
    Symlink(Vec<u8>),
    /// A folder packed on its own (`pack --split-dirs`): its pack's path, as the main pack's
    /// link names it. Only in the tree a pack's image is made of (`build::image_tree`); a mount
    /// follows the link instead.
    Part(Vec<u8>),
}

/// A file's contents: an optional prefix (the `.npy` header), then the source's bytes.
#[derive(Debug)]
pub struct Data {
    pub size: u64,
    pub header: Option<Box<[u8]>>,
    pub source: Source,
}

#[derive(Debug, Clone)]
pub enum Source {
    /// Nothing (an empty file).
    Empty,
    /// Plain bytes at `offset` of backing file `file`.
    Bytes { file: usize, offset: u64 },
    /// Read through HDF5 (boxed: rare, and the tree holds many sources).
    Hdf5(Box<Hdf5Source>),
    /// Cannot be read: this says why (for the log).
    Missing(String),
}

/// A dataset read through HDF5: the one at `path` of backing file `file`, of shape `dims` and
/// elements of `elem` bytes.
#[derive(Debug, Clone)]
pub struct Hdf5Source {
    pub file: usize,
    pub path: CString,
    pub dims: Vec<u64>,
    pub elem: u64,
}

impl Tree {
    /// The name of a folder's entry.
    pub fn name(&self, c: &Child) -> &std::ffi::OsStr {
        std::ffi::OsStr::from_bytes(&self.names[c.start as usize..(c.start + c.len) as usize])
    }
    pub fn node(&self, ino: Ino) -> Option<&Node> {
        self.nodes.get(usize::try_from(ino).ok()?.checked_sub(1)?)
    }
    /// Whether any file's data is missing (its split file is not there).
    pub fn has_missing(&self) -> bool {
        self.nodes.iter().any(|n| matches!(&n.kind, Kind::File(Data { source: Source::Missing(_), .. })))
    }
    /// Whether any node reads through HDF5 (else HDF5 can let go of the files after mount).
    pub fn needs_hdf5(&self) -> bool {
        self.nodes.iter().any(|n| matches!(&n.kind, Kind::File(Data { source: Source::Hdf5 { .. }, .. })))
    }
}
