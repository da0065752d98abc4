//! The FUSE kernel protocol (`linux/fuse.h`, protocol 7.31 and later): the structs this server
//! reads and writes, as `repr(C)` mirrors of the kernel's, and the numbers it uses. A test
//! compiles the real header and compares every size and field offset.

#![allow(non_camel_case_types)]

pub const KERNEL_MAJOR: u32 = 7;
/// The protocol minor this server speaks (the kernel uses the lower of its and ours): 7.31
/// has everything asked for below and the struct sizes mirrored here.
pub const KERNEL_MINOR: u32 = 31;

pub const LOOKUP: u32 = 1;
pub const FORGET: u32 = 2;
pub const GETATTR: u32 = 3;
pub const READLINK: u32 = 5;
pub const OPEN: u32 = 14;
pub const READ: u32 = 15;
pub const STATFS: u32 = 17;
pub const RELEASE: u32 = 18;
pub const GETXATTR: u32 = 22;
pub const LISTXATTR: u32 = 23;
pub const FLUSH: u32 = 25;
pub const INIT: u32 = 26;
pub const OPENDIR: u32 = 27;
pub const READDIR: u32 = 28;
pub const RELEASEDIR: u32 = 29;
pub const ACCESS: u32 = 34;
pub const INTERRUPT: u32 = 36;
pub const DESTROY: u32 = 38;
pub const IOCTL: u32 = 39;
pub const BATCH_FORGET: u32 = 42;
pub const READDIRPLUS: u32 = 44;

pub const ASYNC_READ: u32 = 1 << 0;
pub const DO_READDIRPLUS: u32 = 1 << 13;
pub const NO_OPEN_SUPPORT: u32 = 1 << 17;
pub const PARALLEL_DIROPS: u32 = 1 << 18;
pub const MAX_PAGES: u32 = 1 << 22;
pub const CACHE_SYMLINKS: u32 = 1 << 23;
pub const NO_OPENDIR_SUPPORT: u32 = 1 << 24;

pub const FOPEN_KEEP_CACHE: u32 = 1 << 1;
pub const FOPEN_CACHE_DIR: u32 = 1 << 3;
pub const FOPEN_NOFLUSH: u32 = 1 << 5;

/// The least a read of `/dev/fuse` may ask for.
pub const MIN_READ_BUFFER: usize = 8192;

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct fuse_in_header {
    pub len: u32,
    pub opcode: u32,
    pub unique: u64,
    pub nodeid: u64,
    pub uid: u32,
    pub gid: u32,
    pub pid: u32,
    pub total_extlen: u16,
    pub padding: u16,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct fuse_out_header {
    pub len: u32,
    pub error: i32,
    pub unique: u64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct fuse_init_in {
    pub major: u32,
    pub minor: u32,
    pub max_readahead: u32,
    pub flags: u32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct fuse_init_out {
    pub major: u32,
    pub minor: u32,
    pub max_readahead: u32,
    pub flags: u32,
    pub max_background: u16,
    pub congestion_threshold: u16,
    pub max_write: u32,
    pub time_gran: u32,
    pub max_pages: u16,
    pub map_alignment: u16,
    pub flags2: u32,
    pub unused: [u32; 7],
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct fuse_attr {
    pub ino: u64,
    pub size: u64,
    pub blocks: u64,
    pub atime: u64,
    pub mtime: u64,
    pub ctime: u64,
    pub atimensec: u32,
    pub mtimensec: u32,
    pub ctimensec: u32,
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u32,
    pub blksize: u32,
    pub flags: u32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct fuse_entry_out {
    pub nodeid: u64,
    pub generation: u64,
    pub entry_valid: u64,
    pub attr_valid: u64,
    pub entry_valid_nsec: u32,
    pub attr_valid_nsec: u32,
    pub attr: fuse_attr,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct fuse_attr_out {
    pub attr_valid: u64,
    pub attr_valid_nsec: u32,
    pub dummy: u32,
    pub attr: fuse_attr,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct fuse_open_out {
    pub fh: u64,
    pub open_flags: u32,
    pub padding: u32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct fuse_open_in {
    pub flags: u32,
    pub open_flags: u32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct fuse_read_in {
    pub fh: u64,
    pub offset: u64,
    pub size: u32,
    pub read_flags: u32,
    pub lock_owner: u64,
    pub flags: u32,
    pub padding: u32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct fuse_kstatfs {
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
    pub files: u64,
    pub ffree: u64,
    pub bsize: u32,
    pub namelen: u32,
    pub frsize: u32,
    pub padding: u32,
    pub spare: [u32; 6],
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct fuse_getxattr_in {
    pub size: u32,
    pub padding: u32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct fuse_getxattr_out {
    pub size: u32,
    pub padding: u32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct fuse_dirent {
    pub ino: u64,
    pub off: u64,
    pub namelen: u32,
    pub r#type: u32,
}

/// A struct of this protocol: `repr(C)`, integers only, no padding (the ABI test checks that
/// each size is the kernel's, and the kernel's structs have no holes), so any bytes are a valid
/// value and every byte of a value is initialised.
///
/// # Safety
/// Only for such structs.
pub unsafe trait Plain: Copy + Default {}

// SAFETY: a repr(C) struct of integers without padding (each of these, checked by the ABI test).
unsafe impl Plain for fuse_in_header {}
// SAFETY: as above.
unsafe impl Plain for fuse_out_header {}
// SAFETY: as above.
unsafe impl Plain for fuse_init_in {}
// SAFETY: as above.
unsafe impl Plain for fuse_init_out {}
// SAFETY: as above.
unsafe impl Plain for fuse_entry_out {}
// SAFETY: as above.
unsafe impl Plain for fuse_attr_out {}
// SAFETY: as above.
unsafe impl Plain for fuse_open_out {}
// SAFETY: as above.
unsafe impl Plain for fuse_open_in {}
// SAFETY: as above.
unsafe impl Plain for fuse_read_in {}
// SAFETY: as above.
unsafe impl Plain for fuse_kstatfs {}
// SAFETY: as above.
unsafe impl Plain for fuse_getxattr_in {}
// SAFETY: as above.
unsafe impl Plain for fuse_getxattr_out {}
// SAFETY: as above.
unsafe impl Plain for fuse_dirent {}

/// The bytes of `value`.
pub fn bytes_of<T: Plain>(value: &T) -> &[u8] {
    // SAFETY: `T: Plain` has no padding, so all its size_of bytes are initialised; the slice
    // borrows `value`.
    unsafe { std::slice::from_raw_parts((value as *const T).cast::<u8>(), std::mem::size_of::<T>()) }
}

/// The `T` at the start of `bytes` (None when they are too few): a request's fixed part.
pub fn read<T: Plain>(bytes: &[u8]) -> Option<T> {
    if bytes.len() < std::mem::size_of::<T>() {
        return None;
    }
    // SAFETY: `bytes` holds at least size_of::<T>() bytes, and any bytes are a valid `T:
    // Plain`; read_unaligned needs no alignment.
    Some(unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<T>()) })
}

#[cfg(test)]
mod tests;
