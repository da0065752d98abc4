//! The pack format, as pure data: what a packed file's attributes hold and the encoding of its
//! two binary attributes. No HDF5 here (tested in full below); `write` and `read` put these
//! into files and take them out.
//!
//! A pack is plain HDF5 (readable by any HDF5 1.8 or newer):
//! - the root group has [`PACK_ATTR`] (the format version, `u32`), and its directories and
//!   files mirror the packed folder: a directory is a group, a regular file a 1-D `uint8`
//!   dataset holding its bytes, a symbolic link a soft link whose value is the link's target,
//!   a hard link a second HDF5 hard link to the same dataset;
//! - every group and dataset has the [`STAT_ATTR`] attribute, a compound of [`Stat`]'s fields;
//! - a group holding symbolic links has [`SYMLINKS_ATTR`], their own owner and times
//!   ([`encode_symlinks`]), since an HDF5 link has no attributes;
//! - with `--split-dirs`, each folder at the chosen depth is a pack of its own in the split
//!   folder (`<stem>-split/<path>.h5`, named by `dset_split::layout`), reached from the main
//!   pack by an external link to its root group, and the main pack's root has [`SPLIT_ATTR`];
//! - the root has [`INDEX_ATTR`], a cache of every object's stat, size and data offset
//!   ([`encode_index`]) that lets `mount` list the tree without opening each dataset. Each record
//!   carries the object header's checksum, so a record whose object was changed after packing
//!   is noticed and ignored.

use std::collections::HashMap;

/// The root attribute that marks a pack: the format version.
pub const PACK_ATTR: &str = "dset_split_pack";
/// The format version this build writes and reads.
pub const VERSION: u32 = 1;
/// Mode, owner and modification time of a directory or file.
pub const STAT_ATTR: &str = "stat";
/// The owner and times of a group's symbolic links.
pub const SYMLINKS_ATTR: &str = "dset_split_symlinks";
/// The root's cache of every object's record (see [`encode_index`]).
pub const INDEX_ATTR: &str = "dset_split_pack_index";
/// A main pack made with `--split-dirs`: the depth of the folders packed on their own (`u32`),
/// which `--update` keeps.
pub const SPLIT_ATTR: &str = "dset_split_pack_split";

/// What `stat` keeps of a directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct Stat {
    /// `st_mode`: permission bits and the file type bits.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Modification time: seconds since the epoch (negative before 1970) ...
    pub mtime_sec: i64,
    /// ... and nanoseconds within the second.
    pub mtime_nsec: u32,
}

/// The fields of the `stat` compound: name and offset in [`Stat`] (its in-memory layout, which
/// `write` and `read` hand HDF5), and size in bytes.
pub const STAT_FIELDS: [(&str, usize, usize); 5] = [
    ("mode", std::mem::offset_of!(Stat, mode), 4),
    ("uid", std::mem::offset_of!(Stat, uid), 4),
    ("gid", std::mem::offset_of!(Stat, gid), 4),
    ("mtime_sec", std::mem::offset_of!(Stat, mtime_sec), 8),
    ("mtime_nsec", std::mem::offset_of!(Stat, mtime_nsec), 4),
];

/// What the index records of one object (group or dataset), found by its HDF5 token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// A group (else a dataset).
    pub dir: bool,
    /// The checksum that ends the first chunk of the object's header when packed.
    pub checksum: u32,
    pub stat: Stat,
    /// For a dataset: its size in bytes.
    pub size: u64,
    /// For a dataset stored contiguously without filters: where its bytes start in the file.
    pub offset: Option<u64>,
}

/// The index: records by object token.
pub type Index = HashMap<[u8; 16], Record, TokenHash>;

/// Hashing for maps keyed by object tokens (file addresses: already well spread, and not
/// chosen by an adversary who could only slow a lookup down): a multiply-rotate over 8-byte
/// words, much cheaper than the default SipHash on tens of thousands of keys.
pub type TokenHash = std::hash::BuildHasherDefault<packfs::hash::WordHasher>;

const INDEX_MAGIC: &[u8; 8] = b"DSPKIX01";
const RECORD_LEN: usize = 16 + 1 + 4 + 4 + 4 + 4 + 8 + 4 + 8 + 8;

/// The index as bytes: a magic, then one fixed-size little-endian record per object, sorted by
/// token (the same index gives the same bytes).
pub fn encode_index(index: &Index) -> Vec<u8> {
    let mut tokens: Vec<&[u8; 16]> = index.keys().collect();
    tokens.sort();
    let mut out = Vec::with_capacity(INDEX_MAGIC.len() + tokens.len() * RECORD_LEN);
    out.extend_from_slice(INDEX_MAGIC);
    for token in tokens {
        let r = &index[token];
        out.extend_from_slice(token);
        out.push(u8::from(r.dir));
        out.extend_from_slice(&r.checksum.to_le_bytes());
        put_stat(&mut out, &r.stat);
        out.extend_from_slice(&r.size.to_le_bytes());
        out.extend_from_slice(&r.offset.unwrap_or(u64::MAX).to_le_bytes());
    }
    out
}

/// An encoded index, read in place: records are found by binary search over the token-sorted
/// bytes, so a reader holds the bytes only (no map of tens of thousands of entries).
#[derive(Debug, Default)]
pub struct IndexView(Vec<u8>);

impl IndexView {
    /// The view of [`encode_index`]'s bytes; None when they are not such bytes (or not sorted).
    pub fn new(bytes: Vec<u8>) -> Option<IndexView> {
        let body = bytes.strip_prefix(INDEX_MAGIC)?;
        if body.len() % RECORD_LEN != 0 || !body.chunks_exact(RECORD_LEN).is_sorted_by_key(|r| &r[..16]) {
            return None;
        }
        Some(IndexView(bytes))
    }

    /// The record of `token`, if any.
    pub fn get(&self, token: &[u8; 16]) -> Option<Record> {
        let body = self.0.get(INDEX_MAGIC.len()..)?;
        let n = body.len() / RECORD_LEN;
        let rec = |i: usize| &body[i * RECORD_LEN..(i + 1) * RECORD_LEN];
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match rec(mid)[..16].cmp(&token[..]) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return decode_record(rec(mid)).map(|(_, r)| r),
            }
        }
        None
    }
}

/// One record of the index: its token and what it says.
fn decode_record(rec: &[u8]) -> Option<([u8; 16], Record)> {
    let mut r = Reader(rec);
    let token: [u8; 16] = r.take(16)?.try_into().ok()?;
    let dir = match r.take(1)?[0] {
        0 => false,
        1 => true,
        _ => return None,
    };
    let checksum = r.u32()?;
    let stat = r.stat()?;
    let size = r.u64()?;
    let offset = Some(r.u64()?).filter(|&o| o != u64::MAX);
    Some((token, Record { dir, checksum, stat, size, offset }))
}

/// One symbolic link's own metadata (its target is the soft link's value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymlinkStat {
    pub name: Vec<u8>,
    pub stat: Stat,
}

/// A group's symbolic links' metadata as bytes: per link, the name's length (`u32`) and bytes,
/// then the stat, little-endian.
pub fn encode_symlinks(links: &[SymlinkStat]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in links {
        out.extend_from_slice(&(l.name.len() as u32).to_le_bytes());
        out.extend_from_slice(&l.name);
        put_stat(&mut out, &l.stat);
    }
    out
}

/// [`encode_symlinks`]'s bytes back; None when damaged.
pub fn decode_symlinks(bytes: &[u8]) -> Option<Vec<SymlinkStat>> {
    let mut r = Reader(bytes);
    let mut out = Vec::new();
    while !r.0.is_empty() {
        let len = r.u32()? as usize;
        let name = r.take(len)?.to_vec();
        out.push(SymlinkStat { name, stat: r.stat()? });
    }
    Some(out)
}

fn put_stat(out: &mut Vec<u8>, s: &Stat) {
    out.extend_from_slice(&s.mode.to_le_bytes());
    out.extend_from_slice(&s.uid.to_le_bytes());
    out.extend_from_slice(&s.gid.to_le_bytes());
    out.extend_from_slice(&s.mtime_sec.to_le_bytes());
    out.extend_from_slice(&s.mtime_nsec.to_le_bytes());
}

/// Takes little-endian values off the front of a byte slice.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn stat(&mut self) -> Option<Stat> {
        let (mode, uid, gid) = (self.u32()?, self.u32()?, self.u32()?);
        let mtime_sec = self.u64()? as i64;
        let mtime_nsec = self.u32()?;
        Some(Stat { mode, uid, gid, mtime_sec, mtime_nsec })
    }
}

/// What the first bytes of a version-2 object header (HDF5 file format, "Version 2 Object
/// Header") say about the checksum that ends its first chunk.
#[derive(Debug, PartialEq, Eq)]
pub enum HeaderChecksum {
    /// The checksum, of a header whose first chunk holds all of it (no continuation chunk,
    /// attributes stored in the header: every change to the object changes this checksum).
    Found(u32),
    /// A header with parts elsewhere (continuation chunks, or attributes in dense storage): its
    /// checksum does not cover every change.
    Partial,
    /// The header is longer than the bytes given: read this many and ask again.
    Need(usize),
    /// Not a version-2 header (a version-1 header has no checksum).
    NotV2,
}

/// The checksum of the version-2 object header whose first bytes are `buf`: the signature
/// `OHDR`, version 2, flags (bits 0-1: width of the chunk size; bit 4: attribute phase change
/// values stored, 4 bytes; bit 5: times stored, 16 bytes), the size of chunk 0, its messages
/// (each: type, 1 byte; size, 2; flags, 1; with bit 2 of the header's flags a 2-byte creation
/// order; the data), then the 4-byte checksum. A continuation message (type 0x10) or an
/// attribute info message (0x15, attributes in dense storage) makes it [`HeaderChecksum::Partial`].
pub fn header_checksum(buf: &[u8]) -> HeaderChecksum {
    const PREFIX: usize = 6;
    if buf.len() < PREFIX {
        return HeaderChecksum::Need(64);
    }
    if &buf[..4] != b"OHDR" || buf[4] != 2 {
        return HeaderChecksum::NotV2;
    }
    let flags = buf[5];
    let width = 1usize << (flags & 3);
    let mut at = PREFIX;
    if flags & 0x20 != 0 {
        at += 16;
    }
    if flags & 0x10 != 0 {
        at += 4;
    }
    if buf.len() < at + width {
        return HeaderChecksum::Need(at + width + 256);
    }
    let mut size = [0u8; 8];
    size[..width].copy_from_slice(&buf[at..at + width]);
    let end = (at + width).saturating_add(u64::from_le_bytes(size).min(1 << 32) as usize);
    let Some(sum) = buf.get(end..end + 4) else { return HeaderChecksum::Need(end + 4) };
    let message_head = if flags & 0x04 != 0 { 6 } else { 4 };
    let mut m = at + width;
    while m + message_head <= end {
        let (kind, len) = (buf[m], u16::from_le_bytes([buf[m + 1], buf[m + 2]]) as usize);
        let data = buf.get(m + message_head..(m + message_head + len).min(end)).unwrap_or_default();
        if kind == 0x10 || (kind == 0x15 && dense_attributes(data)) {
            return HeaderChecksum::Partial;
        }
        m += message_head + len;
    }
    HeaderChecksum::Found(u32::from_le_bytes(sum.try_into().expect("4 bytes")))
}

/// Whether an attribute info message (`data`: version 0, flags, with bit 0 a 2-byte maximum
/// creation index, then the fractal heap's 8-byte address) says the attributes are in dense
/// storage: its heap address is defined. A message of another shape counts as dense.
fn dense_attributes(data: &[u8]) -> bool {
    let (Some(&0), Some(&flags)) = (data.first(), data.get(1)) else { return true };
    let at = 2 + if flags & 1 != 0 { 2 } else { 0 };
    data.get(at..at + 8).is_none_or(|heap| heap != [0xff; 8])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(n: u32) -> Stat {
        Stat { mode: 0o100644 + n, uid: n, gid: 2 * n, mtime_sec: -5 + n as i64, mtime_nsec: 999_999_999 - n }
    }

    #[test]
    fn the_index_round_trips_and_is_the_same_bytes_whatever_the_insertion_order() {
        let mut a = Index::default();
        let mut b = Index::default();
        for n in 0..50u32 {
            let mut token = [0u8; 16];
            token[..4].copy_from_slice(&(n * 7919).to_le_bytes());
            let rec = Record {
                dir: n % 5 == 0,
                checksum: n ^ 0xdead,
                stat: stat(n),
                size: n as u64 * 3,
                offset: (n % 3 != 0).then_some(n as u64 * 4096),
            };
            a.insert(token, rec);
        }
        let mut keys: Vec<_> = a.keys().copied().collect();
        keys.reverse();
        for k in keys {
            b.insert(k, a[&k]);
        }
        let bytes = encode_index(&a);
        assert_eq!(bytes, encode_index(&b));
        let view = IndexView::new(bytes.clone()).unwrap();
        for (token, rec) in &a {
            assert_eq!(view.get(token), Some(*rec));
        }
        assert_eq!(view.get(&[0xff; 16]), None);
        assert_eq!(view.get(&[1; 16]), None);
    }

    #[test]
    fn a_damaged_index_is_refused_not_misread() {
        let mut a = Index::default();
        a.insert([1; 16], Record { dir: false, checksum: 1, stat: stat(1), size: 1, offset: None });
        let bytes = encode_index(&a);
        assert!(IndexView::new(bytes[..bytes.len() - 1].to_vec()).is_none());
        assert!(IndexView::new(b"DSPKIX02".to_vec()).is_none());
        assert!(IndexView::new(Vec::new()).is_none());
        assert_eq!(IndexView::new(INDEX_MAGIC.to_vec()).unwrap().get(&[1; 16]), None);
        // Unsorted records are refused (a binary search would miss some).
        let mut two = Index::default();
        two.insert([2; 16], a[&[1; 16]]);
        two.insert([1; 16], a[&[1; 16]]);
        let sorted = encode_index(&two);
        let mut swapped = INDEX_MAGIC.to_vec();
        swapped.extend_from_slice(&sorted[8 + RECORD_LEN..]);
        swapped.extend_from_slice(&sorted[8..8 + RECORD_LEN]);
        assert!(IndexView::new(swapped).is_none());
        // A damaged record (a kind byte that is neither 0 nor 1) is not read as a record.
        let mut bad = sorted.clone();
        bad[8 + 16] = 7;
        assert_eq!(IndexView::new(bad).unwrap().get(&[1; 16]), None);
    }

    #[test]
    fn symlink_stats_round_trip_with_any_name_bytes() {
        let links = vec![
            SymlinkStat { name: b"latest".to_vec(), stat: stat(3) },
            SymlinkStat { name: vec![0xff, 0xfe, b'x'], stat: stat(4) },
            SymlinkStat { name: vec![], stat: stat(5) },
        ];
        let bytes = encode_symlinks(&links);
        assert_eq!(decode_symlinks(&bytes), Some(links));
        assert_eq!(decode_symlinks(&bytes[..bytes.len() - 2]), None);
        assert_eq!(decode_symlinks(&[]), Some(vec![]));
    }

    #[test]
    fn the_stat_fields_cover_the_struct() {
        let covered: usize = STAT_FIELDS.iter().map(|f| f.2).sum();
        assert_eq!(covered, 24);
        assert!(STAT_FIELDS.windows(2).all(|w| w[0].1 + w[0].2 <= w[1].1));
        assert!(std::mem::size_of::<Stat>() >= STAT_FIELDS[4].1 + 4);
    }

    fn header(flags: u8, chunk: &[u8], sum: u32) -> Vec<u8> {
        let mut h = b"OHDR".to_vec();
        h.extend([2, flags]);
        if flags & 0x20 != 0 {
            h.extend([0u8; 16]);
        }
        if flags & 0x10 != 0 {
            h.extend([0u8; 4]);
        }
        let width = 1usize << (flags & 3);
        h.extend(&(chunk.len() as u64).to_le_bytes()[..width]);
        h.extend(chunk);
        h.extend(sum.to_le_bytes());
        h
    }

    #[test]
    fn header_checksums_are_found_for_every_prefix_shape() {
        for flags in [0u8, 1, 2, 3, 0x10, 0x20, 0x31, 0x22] {
            // Messages: a dataspace (type 1) of 8 bytes and a null message (type 0) of 180.
            let mut chunk = vec![1u8, 8, 0, 0];
            chunk.extend([9u8; 8]);
            chunk.extend([0u8, 180, 0, 0]);
            chunk.extend([0u8; 180]);
            let h = header(flags, &chunk, 0x1234_5678 + flags as u32);
            assert_eq!(header_checksum(&h), HeaderChecksum::Found(0x1234_5678 + flags as u32), "flags {flags:#x}");
            // Any shorter read asks for more, never past what the header needs.
            for cut in 0..h.len() {
                match header_checksum(&h[..cut]) {
                    HeaderChecksum::Need(n) => assert!(n > cut, "flags {flags:#x} cut {cut}"),
                    other => panic!("flags {flags:#x} cut {cut}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn a_header_with_a_continuation_or_dense_attributes_is_partial() {
        let mut chunk = vec![1u8, 2, 0, 0, 7, 7];
        chunk.extend([0x10u8, 4, 0, 0, 1, 2, 3, 4]);
        assert_eq!(header_checksum(&header(2, &chunk, 5)), HeaderChecksum::Partial);
        // Attribute info: compact (heap address undefined) is whole, dense is partial, with and
        // without the maximum creation index.
        let ainfo = |flags: u8, heap: [u8; 8]| {
            let mut data = vec![0u8, flags];
            if flags & 1 != 0 {
                data.extend([3, 0]);
            }
            data.extend(heap);
            data.extend([0xffu8; 8]);
            let mut chunk = vec![0x15u8, data.len() as u8, 0, 0];
            chunk.extend(data);
            header_checksum(&header(2, &chunk, 5))
        };
        assert_eq!(ainfo(0, [0xff; 8]), HeaderChecksum::Found(5));
        assert_eq!(ainfo(1, [0xff; 8]), HeaderChecksum::Found(5));
        assert_eq!(ainfo(0, [0x10, 0, 0, 0, 0, 0, 0, 0]), HeaderChecksum::Partial);
        assert_eq!(ainfo(3, [0x10, 0, 0, 0, 0, 0, 0, 0]), HeaderChecksum::Partial);
        // With creation order stored per message (flag 0x04), the message heads are 6 bytes.
        let mut chunk = vec![1u8, 2, 0, 0, 0, 0, 7, 7];
        chunk.extend([0x0cu8, 4, 0, 0, 0, 0, 1, 2, 3, 4]);
        assert_eq!(header_checksum(&header(0x06, &chunk, 5)), HeaderChecksum::Found(5));
        // A gap shorter than a message head at the end is not a message.
        let mut chunk = vec![1u8, 2, 0, 0, 7, 7];
        chunk.extend([0x10u8, 0]);
        assert_eq!(header_checksum(&header(2, &chunk, 5)), HeaderChecksum::Found(5));
    }

    #[test]
    fn a_version_1_header_has_no_checksum() {
        assert_eq!(header_checksum(&[1, 0, 3, 0, 1, 0, 0, 0]), HeaderChecksum::NotV2);
        assert_eq!(header_checksum(b"OHDR\x03\x00\x00\x00"), HeaderChecksum::NotV2);
    }
}
