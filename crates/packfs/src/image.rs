//! A pack's tree image: the folder tree `mount` shows, as bytes that `pack` stores in the pack's
//! HDF5 user block, so that a mount answers from the pack without HDF5 and without holding the
//! tree in memory ([`View`] reads what each request needs). Pure data.
//!
//! The image is trusted only while the pack is as it was sealed: the [`Seal`] records the
//! file's size, its modification time (which `pack` sets; any later write changes it) and the
//! first bytes of the HDF5 superblock that follows the user block. Anything else (an old pack,
//! a copy with a new time, a compressed pack) is read through HDF5 instead.
//!
//! Layout, little-endian: [`MAGIC`]; the image's length (u64); the [`Seal`]; the numbers of
//! nodes and of folder entries (u32 each) and the lengths of the names and of the link targets
//! (u64 each); one [`NODE_LEN`]-byte [`Record`] per node (parent, kind, permissions, owner,
//! group, time, link count, then two numbers that depend on the kind: a folder's first entry
//! and count; a file's size and data offset, or `u64::MAX` for an empty one; a link's target
//! start and length; for a folder packed on its own, the start and length of its pack's path); one [`ENTRY_LEN`]-byte [`Entry`] per folder entry (name start and length,
//! inode), each folder's sorted by name; the names; the targets; a checksum of everything
//! before it. Node `i` (from 0) has inode `i + 1`; the root is inode 1.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The first bytes of an image.
pub const MAGIC: &[u8; 8] = b"DSPKTREE";
/// HDF5's superblock signature.
pub const SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";
/// Bytes of the superblock a seal keeps.
pub const SUPERBLOCK_LEN: usize = 64;
/// The bytes before the node records: magic, length, seal, counts.
pub const HEAD_LEN: usize = 8 + 8 + SEAL_LEN + 4 + 4 + 8 + 8;
const SEAL_LEN: usize = 8 + 8 + 8 + 4 + SUPERBLOCK_LEN;
/// Bytes per node record.
pub const NODE_LEN: usize = 4 + 1 + 2 + 4 + 4 + 8 + 4 + 4 + 8 + 8;
/// Bytes per folder entry record.
pub const ENTRY_LEN: usize = 4 + 4 + 4;

/// What the pack was like when its image was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seal {
    /// Where the HDF5 superblock starts (the user block's size).
    pub base: u64,
    /// The file's size.
    pub size: u64,
    pub mtime_sec: i64,
    pub mtime_nsec: u32,
    /// The first [`SUPERBLOCK_LEN`] bytes at `base` (fewer when the file ends first).
    pub superblock: Vec<u8>,
}

impl Seal {
    /// Whether a file of `meta` is as sealed: its size and modification time (any write to the
    /// pack stamps another).
    pub fn holds(&self, meta: &std::fs::Metadata) -> bool {
        use std::os::unix::fs::MetadataExt;
        self.size == meta.len() && (self.mtime_sec, self.mtime_nsec) == (meta.mtime(), meta.mtime_nsec() as u32)
    }
}

/// The first [`HEAD_LEN`] bytes of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The image's length, checksum included.
    pub len: u64,
    pub seal: Seal,
    pub nodes: u32,
    pub entries: u32,
    pub names_len: u64,
    pub targets_len: u64,
}

/// One node: a folder, a file or a symbolic link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The parent's inode (the root's is its own).
    pub parent: u32,
    pub kind: Kind,
    pub perm: u16,
    pub uid: u32,
    pub gid: u32,
    /// Modification time: seconds since the epoch (negative before) and nanoseconds.
    pub sec: i64,
    pub nsec: u32,
    pub nlink: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Its entries: `count` [`Entry`] records from the `first`.
    Dir { first: u64, count: u64 },
    /// `size` bytes at `offset` of the pack (None: an empty file).
    File { size: u64, offset: Option<u64> },
    /// Its target: `len` bytes from `start` of the targets.
    Link { start: u64, len: u64 },
    /// A folder packed on its own (`pack --split-dirs`): the path of its pack, relative to the
    /// pack's folder, is `len` bytes from `start` of the targets. The folder is that pack's root.
    Part { start: u64, len: u64 },
}

/// A folder's entry: its name (`len` bytes from `start` of the names) and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub start: u32,
    pub len: u32,
    pub ino: u32,
}

impl Record {
    /// Appends the record's [`NODE_LEN`] bytes.
    pub fn put(&self, out: &mut Vec<u8>) {
        let (kind, a, b) = match self.kind {
            Kind::Dir { first, count } => (0u8, first, count),
            Kind::File { size, offset } => (1, size, offset.unwrap_or(u64::MAX)),
            Kind::Link { start, len } => (2, start, len),
            Kind::Part { start, len } => (3, start, len),
        };
        out.extend_from_slice(&self.parent.to_le_bytes());
        out.push(kind);
        out.extend_from_slice(&self.perm.to_le_bytes());
        out.extend_from_slice(&self.uid.to_le_bytes());
        out.extend_from_slice(&self.gid.to_le_bytes());
        out.extend_from_slice(&self.sec.to_le_bytes());
        out.extend_from_slice(&self.nsec.to_le_bytes());
        out.extend_from_slice(&self.nlink.to_le_bytes());
        out.extend_from_slice(&a.to_le_bytes());
        out.extend_from_slice(&b.to_le_bytes());
    }

    /// The record in `bytes` ([`NODE_LEN`] of them), if its kind and time are possible ones.
    pub fn parse(bytes: &[u8]) -> Option<Record> {
        let mut r = Reader { buf: bytes.get(..NODE_LEN)?, at: 0 };
        let parent = r.u32()?;
        let kind = r.take(1)?[0];
        let perm = u16::from_le_bytes(r.take(2)?.try_into().ok()?);
        let (uid, gid) = (r.u32()?, r.u32()?);
        let (sec, nsec, nlink) = (r.u64()? as i64, r.u32()?, r.u32()?);
        let (a, b) = (r.u64()?, r.u64()?);
        let kind = match kind {
            0 => Kind::Dir { first: a, count: b },
            1 => Kind::File { size: a, offset: (b != u64::MAX).then_some(b) },
            2 => Kind::Link { start: a, len: b },
            3 => Kind::Part { start: a, len: b },
            _ => return None,
        };
        (nsec <= 999_999_999).then_some(Record { parent, kind, perm, uid, gid, sec, nsec, nlink })
    }
}

impl Entry {
    pub fn put(&self, out: &mut Vec<u8>) {
        for n in [self.start, self.len, self.ino] {
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
    pub fn parse(bytes: &[u8]) -> Option<Entry> {
        let mut r = Reader { buf: bytes.get(..ENTRY_LEN)?, at: 0 };
        Some(Entry { start: r.u32()?, len: r.u32()?, ino: r.u32()? })
    }
}

/// The most bytes an image of a tree of `entries` entries (the root not counted; each hard
/// link an entry) with `names` bytes of names and `targets` bytes of link targets takes.
pub fn room(entries: u64, names: u64, targets: u64) -> u64 {
    HEAD_LEN as u64 + (entries + 1) * (NODE_LEN + ENTRY_LEN) as u64 + names + targets + 4
}

/// Where HDF5 looks for its superblock, in order: 0, 512, 1024, 2048, ... (it takes the first
/// that holds its signature).
pub fn superblock_places() -> impl Iterator<Item = u64> {
    std::iter::successors(Some(0u64), |&at| if at == 0 { Some(512) } else { at.checked_mul(2) })
}

/// Whether a user block holding `block` would hide the HDF5 superblock after it: a name or
/// link target in the image could put HDF5's signature at one of [`superblock_places`].
pub fn hides_superblock(block: &[u8]) -> bool {
    superblock_places().take_while(|&at| at < block.len() as u64).any(|at| block[at as usize..].starts_with(SIGNATURE))
}

/// The length of the image whose first bytes are `head`, if they start one.
pub fn length(head: &[u8]) -> Option<u64> {
    (head.len() >= 16 && &head[..8] == MAGIC).then(|| u64::from_le_bytes(head[8..16].try_into().expect("8 bytes")))
}

/// The head of the image whose first [`HEAD_LEN`] bytes are `bytes` (not checked against the
/// image's checksum: [`check`] does that).
pub fn head(bytes: &[u8]) -> Option<Head> {
    let len = length(bytes)?;
    let mut r = Reader { buf: bytes.get(..HEAD_LEN)?, at: 16 };
    let seal = Seal {
        base: r.u64()?,
        size: r.u64()?,
        mtime_sec: r.u64()? as i64,
        mtime_nsec: r.u32()?,
        superblock: r.take(SUPERBLOCK_LEN)?.to_vec(),
    };
    Some(Head { len, seal, nodes: r.u32()?, entries: r.u32()?, names_len: r.u64()?, targets_len: r.u64()? })
}

/// The image of a tree: its nodes (inode 1 first), folder entries, names and link targets (as
/// the records point into them), sealed with `seal`.
pub fn encode(
    records: &[Record],
    entries: &[Entry],
    names: &[u8],
    targets: &[u8],
    seal: &Seal,
) -> Result<Vec<u8>, String> {
    let too_many = |_| "more than 4 billion entries".to_string();
    let mut out = Vec::with_capacity(room(records.len() as u64, names.len() as u64, targets.len() as u64) as usize);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&0u64.to_le_bytes()); // the length, below
    out.extend_from_slice(&seal.base.to_le_bytes());
    out.extend_from_slice(&seal.size.to_le_bytes());
    out.extend_from_slice(&seal.mtime_sec.to_le_bytes());
    out.extend_from_slice(&seal.mtime_nsec.to_le_bytes());
    let mut sb = [0u8; SUPERBLOCK_LEN];
    let n = seal.superblock.len().min(SUPERBLOCK_LEN);
    sb[..n].copy_from_slice(&seal.superblock[..n]);
    out.extend_from_slice(&sb);
    out.extend_from_slice(&u32::try_from(records.len()).map_err(too_many)?.to_le_bytes());
    out.extend_from_slice(&u32::try_from(entries.len()).map_err(too_many)?.to_le_bytes());
    out.extend_from_slice(&(names.len() as u64).to_le_bytes());
    out.extend_from_slice(&(targets.len() as u64).to_le_bytes());
    debug_assert_eq!(out.len(), HEAD_LEN);
    records.iter().for_each(|r| r.put(&mut out));
    entries.iter().for_each(|e| e.put(&mut out));
    out.extend_from_slice(names);
    out.extend_from_slice(targets);
    let len = out.len() as u64 + 4;
    out[8..16].copy_from_slice(&len.to_le_bytes());
    let sum = checksum(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    Ok(out)
}

/// Fills a buffer from an offset of an image.
type ReadAt<'a> = dyn FnMut(u64, &mut [u8]) -> Result<(), String> + 'a;

/// Where each part of a sound image is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub head: Head,
    /// The sizes of all files, summed (for `statfs`).
    pub file_bytes: u64,
    /// How many nodes are folders packed on their own ([`Kind::Part`]).
    pub parts: u64,
}

/// The longest name a folder entry may have (as on Linux file systems).
pub const NAME_MAX: u32 = 255;
/// The longest symbolic link target (PATH_MAX less the NUL).
pub const TARGET_MAX: u64 = 4095;

impl Layout {
    /// Whether `r` points only within this image and the pack (its entries, its target, its
    /// bytes), its parent is a node and its permissions are permissions: checked for every record
    /// by [`check`], and again whenever [`View`] reads one (the pack could be rewritten while
    /// mounted, by a program that ignores its lock).
    pub fn sound(&self, r: &Record) -> bool {
        let within = |at: u64, len: u64, total: u64| at.checked_add(len).is_some_and(|end| end <= total);
        let kind = match r.kind {
            Kind::Dir { first, count } => within(first, count, self.head.entries.into()),
            Kind::Link { start, len } | Kind::Part { start, len } => {
                len <= TARGET_MAX && within(start, len, self.head.targets_len)
            }
            Kind::File { size, offset: Some(at) } => within(at, size, self.head.seal.size),
            Kind::File { offset: None, .. } => true,
        };
        kind && r.parent >= 1 && r.parent <= self.head.nodes && r.perm <= 0o7777
    }

    /// Whether folder entry `e` names a node with a name of 1 to [`NAME_MAX`] bytes within the
    /// names.
    pub fn sound_entry(&self, e: &Entry) -> bool {
        (1..=NAME_MAX).contains(&e.len)
            && u64::from(e.start) + u64::from(e.len) <= self.head.names_len
            && e.ino >= 1
            && e.ino <= self.head.nodes
    }

    /// Where node `ino`'s record is, if there is such a node.
    pub fn record_at(&self, ino: u64) -> Option<u64> {
        (ino >= 1 && ino <= u64::from(self.head.nodes)).then(|| HEAD_LEN as u64 + (ino - 1) * NODE_LEN as u64)
    }
    /// Where the `i`th folder entry record is.
    pub fn entry_at(&self, i: u64) -> u64 {
        self.entries_at() + i * ENTRY_LEN as u64
    }
    fn entries_at(&self) -> u64 {
        HEAD_LEN as u64 + u64::from(self.head.nodes) * NODE_LEN as u64
    }
    /// Where the names start.
    pub fn names_at(&self) -> u64 {
        self.entries_at() + u64::from(self.head.entries) * ENTRY_LEN as u64
    }
    /// Where the link targets start.
    pub fn targets_at(&self) -> u64 {
        self.names_at() + self.head.names_len
    }
}

/// The layout of the image of `len` bytes at the start of `bytes`, once every byte of it is checked:
/// the checksum, and that every record points where it may (each folder's entries and each
/// link's target follow the previous one's, so no two nodes share bytes; every inode and name
/// is in the image; the root is a folder). Reads a piece at a time: memory stays small
/// whatever the size of the image.
pub fn check<B: Bytes + ?Sized>(len: u64, bytes: &B) -> Result<Layout, String> {
    let read = &mut |at, buf: &mut [u8]| bytes.read_exact_at(buf, at).map_err(|e| e.to_string());
    const PIECE: usize = 64 << 10; // a multiple of 8: the checksum sums 8-byte words
    if len < (HEAD_LEN + 4) as u64 || len > u32::MAX as u64 {
        return Err(bad("length"));
    }
    let body_len = len - 4;
    let mut buf = vec![0u8; PIECE];
    let mut h = Summer::default();
    let mut at = 0;
    while at < body_len {
        let n = PIECE.min((body_len - at) as usize);
        read(at, &mut buf[..n])?;
        h.add(&buf[..n]);
        at += n as u64;
    }
    let mut sum = [0u8; 4];
    read(body_len, &mut sum)?;
    if h.finish(body_len) != u32::from_le_bytes(sum) {
        return Err(bad("checksum"));
    }
    read(0, &mut buf[..HEAD_LEN])?;
    let head = head(&buf[..HEAD_LEN]).filter(|h| h.len == len).ok_or_else(|| bad("head"))?;
    let (n_nodes, n_entries) = (u64::from(head.nodes), u64::from(head.entries));
    let expected = u128::from(n_nodes) * NODE_LEN as u128
        + u128::from(n_entries) * ENTRY_LEN as u128
        + u128::from(head.names_len)
        + u128::from(head.targets_len);
    if (HEAD_LEN as u128) + expected != u128::from(body_len) || n_nodes == 0 {
        return Err(bad("sizes"));
    }
    let mut layout = Layout { head, file_bytes: 0, parts: 0 };
    let entries_at = layout.entry_at(0);
    each(read, &mut buf, entries_at, n_entries, ENTRY_LEN, &mut |bytes| match Entry::parse(bytes) {
        Some(e) if layout.sound_entry(&e) => Ok(()),
        _ => Err(bad("folder entry")),
    })?;
    let (mut next_entry, mut next_target, mut first, mut file_bytes, mut parts) = (0u64, 0u64, true, 0u64, 0u64);
    let targets_len = layout.head.targets_len;
    each(read, &mut buf, HEAD_LEN as u64, n_nodes, NODE_LEN, &mut |bytes| {
        let r = Record::parse(bytes).filter(|r| layout.sound(r)).ok_or_else(|| bad("node"))?;
        match r.kind {
            Kind::Dir { first, count } => {
                follow(&mut next_entry, first, count, n_entries).ok_or_else(|| bad("folder"))?
            }
            _ if first => return Err(bad("root")),
            Kind::Link { start, len } => {
                follow(&mut next_target, start, len, targets_len).ok_or_else(|| bad("link"))?
            }
            Kind::Part { start, len } => {
                follow(&mut next_target, start, len, targets_len).ok_or_else(|| bad("folder's pack"))?;
                parts += 1;
            }
            Kind::File { size, .. } => file_bytes = file_bytes.saturating_add(size),
        }
        first = false;
        Ok(())
    })?;
    if (next_entry, next_target) != (n_entries, targets_len) {
        return Err(bad("entries no folder holds"));
    }
    layout.file_bytes = file_bytes;
    layout.parts = parts;
    Ok(layout)
}

/// Calls `f` on each of the `count` records of `size` bytes from `at` on, read a piece at a time.
fn each(
    read: &mut ReadAt,
    buf: &mut [u8],
    at: u64,
    count: u64,
    size: usize,
    f: &mut dyn FnMut(&[u8]) -> Result<(), String>,
) -> Result<(), String> {
    let per_piece = (buf.len() / size) as u64;
    let mut done = 0;
    while done < count {
        let n = per_piece.min(count - done);
        let piece = &mut buf[..n as usize * size];
        read(at + done * size as u64, piece)?;
        piece.chunks_exact(size).try_for_each(&mut *f)?;
        done += n;
    }
    Ok(())
}

/// Moves `cursor` past the `len` items from `at`, when they start where the previous node's
/// ended and end within `total`.
fn follow(cursor: &mut u64, at: u64, len: u64, total: u64) -> Option<()> {
    let end = at.checked_add(len)?;
    (at == *cursor && end <= total).then(|| *cursor = end)
}

fn bad(what: &str) -> String {
    format!("the pack's tree image is damaged ({what})")
}

/// Where a [`View`] reads from: the pack (a file), or bytes in memory.
pub trait Bytes {
    /// Fills `buf` from offset `at`.
    fn read_exact_at(&self, buf: &mut [u8], at: u64) -> std::io::Result<()>;
}

impl Bytes for std::fs::File {
    fn read_exact_at(&self, buf: &mut [u8], at: u64) -> std::io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(self, buf, at)
    }
}

impl Bytes for [u8] {
    fn read_exact_at(&self, buf: &mut [u8], at: u64) -> std::io::Result<()> {
        let from = usize::try_from(at).map_err(|_| changed())?;
        buf.copy_from_slice(self.get(from..from.checked_add(buf.len()).ok_or_else(changed)?).ok_or_else(changed)?);
        Ok(())
    }
}

/// A sound image (see [`check`]) read as requests need it: nothing of the tree is kept in
/// memory. An error reading (the pack cannot be read, or changed) is passed on.
#[derive(Debug)]
pub struct View<'a, B: ?Sized> {
    pub layout: Layout,
    pub bytes: &'a B,
}

impl<B: Bytes + ?Sized> View<'_, B> {
    fn read(&self, at: u64, buf: &mut [u8]) -> std::io::Result<()> {
        self.bytes.read_exact_at(buf, at)
    }

    /// Node `ino`, or None when there is no such node.
    pub fn node(&self, ino: u64) -> std::io::Result<Option<Record>> {
        let Some(at) = self.layout.record_at(ino) else { return Ok(None) };
        let mut b = [0u8; NODE_LEN];
        self.read(at, &mut b)?;
        Record::parse(&b).filter(|r| self.layout.sound(r)).map(Some).ok_or_else(changed)
    }

    /// Folder entry `i` (of all folders').
    pub fn entry(&self, i: u64) -> std::io::Result<Entry> {
        if i >= u64::from(self.layout.head.entries) {
            return Err(changed());
        }
        let mut b = [0u8; ENTRY_LEN];
        self.read(self.layout.entry_at(i), &mut b)?;
        Entry::parse(&b).filter(|e| self.layout.sound_entry(e)).ok_or_else(changed)
    }

    /// The name of entry `e` (read by [`View::entry`], so at most [`NAME_MAX`] bytes), into `out`
    /// (cleared first). A name no folder can hold (`.`, `..`, one with a `/` or a NUL) is an
    /// error: the image is not sound.
    pub fn name(&self, e: &Entry, out: &mut Vec<u8>) -> std::io::Result<()> {
        out.clear();
        out.resize(e.len.min(NAME_MAX) as usize, 0);
        self.read(self.layout.names_at() + u64::from(e.start), out)?;
        if out.contains(&b'/') || out.contains(&0) || out == b"." || out == b".." {
            return Err(changed());
        }
        Ok(())
    }

    /// The target of a link (read by [`View::node`], so at most [`TARGET_MAX`] bytes). One with a
    /// NUL is an error: the image is not sound.
    pub fn target(&self, start: u64, len: u64) -> std::io::Result<Vec<u8>> {
        let mut out = vec![0u8; len.min(TARGET_MAX) as usize];
        self.read(self.layout.targets_at() + start, &mut out)?;
        if out.contains(&0) {
            return Err(changed());
        }
        Ok(out)
    }

    /// The inode of the entry `name` among a folder's `count` entries from `first` (sorted by
    /// name): a binary search, two small reads a step.
    pub fn lookup(&self, first: u64, count: u64, name: &[u8]) -> std::io::Result<Option<u32>> {
        let (mut lo, mut hi) = (0u64, count);
        let mut buf = Vec::with_capacity(256);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let e = self.entry(first + mid)?;
            self.name(&e, &mut buf)?;
            match buf.as_slice().cmp(name) {
                std::cmp::Ordering::Equal => return Ok(Some(e.ino)),
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
            }
        }
        Ok(None)
    }
}

fn changed() -> std::io::Error {
    let why = "the pack's tree image is damaged, or the pack changed while mounted";
    std::io::Error::new(std::io::ErrorKind::InvalidData, why)
}

/// A time as seconds since the epoch (negative before) and nanoseconds.
pub fn time_parts(t: SystemTime) -> (i64, u32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
        Err(e) => {
            let d = e.duration();
            if d.subsec_nanos() == 0 {
                (-(d.as_secs() as i64), 0)
            } else {
                (-(d.as_secs() as i64) - 1, 1_000_000_000 - d.subsec_nanos())
            }
        }
    }
}

/// The inverse of [`time_parts`].
pub fn time_of(sec: i64, nsec: u32) -> SystemTime {
    if sec >= 0 {
        UNIX_EPOCH + Duration::new(sec as u64, nsec)
    } else {
        UNIX_EPOCH - Duration::from_secs(sec.unsigned_abs()) + Duration::from_nanos(nsec.into())
    }
}

/// A checksum against damage (not against tampering): the word hash over the bytes, then
/// their length. Given the bytes in pieces, all but the last a multiple of 8 long.
#[derive(Default)]
struct Summer(crate::hash::WordHasher);

impl Summer {
    fn add(&mut self, bytes: &[u8]) {
        std::hash::Hasher::write(&mut self.0, bytes);
    }
    fn finish(mut self, len: u64) -> u32 {
        use std::hash::Hasher;
        self.0.write_u64(len);
        let x = self.0.finish();
        (x ^ (x >> 32)) as u32
    }
}

/// The checksum an image ending after `bytes` carries.
pub fn checksum(bytes: &[u8]) -> u32 {
    let mut h = Summer::default();
    h.add(bytes);
    h.finish(bytes.len() as u64)
}

struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let out = self.buf.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(out)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests;
