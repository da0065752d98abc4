//! A pack's tree image: the mounted tree (`tree`) of a pack as bytes, which `pack` stores in the
//! pack's HDF5 user block so that `mount` loads the tree without HDF5. Pure data; `sealed`
//! reads and writes it.
//!
//! The image is trusted only while the pack is as it was sealed: the [`Seal`] records the
//! file's size, its modification time (which `pack` sets; any later write changes it) and the
//! first bytes of the HDF5 superblock that follows the user block. Anything else (an old pack,
//! a copy with a new time, a compressed pack) is read through HDF5 instead.
//!
//! Layout, little-endian: [`MAGIC`]; the image's length (u64); the [`Seal`]; the numbers of
//! nodes and of folder entries (u32 each) and the lengths of the names and of the link targets
//! (u64 each); one [`NODE_LEN`]-byte record per node (parent, kind, permissions, owner, group,
//! time, link count, then two numbers that depend on the kind: a folder's first entry and
//! count; a file's size and data offset, or `u64::MAX` for an empty one; a link's target
//! start and length); one [`CHILD_LEN`]-byte record per folder entry (name start and length,
//! inode); the names; the targets; a checksum of everything before it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::tree::{Child, Data, Kind, Meta, Node, Source};

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
pub const CHILD_LEN: usize = 4 + 4 + 4;

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

/// A decoded image: the tree's nodes and names, and its seal.
#[derive(Debug)]
pub struct Image {
    pub seal: Seal,
    pub nodes: Vec<Node>,
    pub names: Vec<u8>,
}

/// The most bytes an image of a tree of `entries` entries (the root not counted; each hard
/// link an entry) with `names` bytes of names and `targets` bytes of link targets takes.
pub fn room(entries: u64, names: u64, targets: u64) -> u64 {
    HEAD_LEN as u64 + (entries + 1) * (NODE_LEN + CHILD_LEN) as u64 + names + targets + 4
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

/// The length and seal of the image whose first [`HEAD_LEN`] bytes are `head` (not checked
/// against the image's checksum: [`decode`] does that).
pub fn head(head: &[u8]) -> Option<(u64, Seal)> {
    let len = length(head)?;
    let mut r = Reader { buf: head.get(..HEAD_LEN)?, at: 16 };
    let seal = Seal {
        base: r.u64().ok()?,
        size: r.u64().ok()?,
        mtime_sec: r.u64().ok()? as i64,
        mtime_nsec: r.u32().ok()?,
        superblock: r.take(SUPERBLOCK_LEN).ok()?.to_vec(),
    };
    Some((len, seal))
}

/// The image of a pack's tree (`nodes`, `names`), or why it cannot be one: only what a pack
/// shows is imaged (folders, files stored as plain bytes of the pack itself, links), nothing
/// with a `.npy` header or data read through HDF5.
pub fn encode(nodes: &[Node], names: &[u8], seal: &Seal) -> Result<Vec<u8>, String> {
    let mut children: Vec<&Child> = Vec::new();
    let mut targets: Vec<u8> = Vec::new();
    let mut records = Vec::with_capacity(nodes.len() * NODE_LEN);
    for node in nodes {
        let (kind, a, b) = match &node.kind {
            Kind::Dir(c) => {
                let first = children.len() as u64;
                children.extend(c.iter());
                (0u8, first, c.len() as u64)
            }
            Kind::File(Data { size, header: None, source: Source::Empty }) => (1, *size, u64::MAX),
            Kind::File(Data { size, header: None, source: Source::Bytes { file: 0, offset } }) => (1, *size, *offset),
            Kind::File(_) => return Err("a file not stored as plain bytes of the pack".into()),
            Kind::Symlink(t) => {
                let start = targets.len() as u64;
                targets.extend_from_slice(t);
                (2, start, t.len() as u64)
            }
        };
        let (sec, nsec) = time_parts(node.meta.mtime);
        put32(&mut records, u32_of(node.parent)?);
        records.push(kind);
        records.extend_from_slice(&node.meta.perm.to_le_bytes());
        put32(&mut records, node.meta.uid);
        put32(&mut records, node.meta.gid);
        records.extend_from_slice(&sec.to_le_bytes());
        put32(&mut records, nsec);
        put32(&mut records, node.meta.nlink);
        records.extend_from_slice(&a.to_le_bytes());
        records.extend_from_slice(&b.to_le_bytes());
    }
    let mut out = Vec::with_capacity(HEAD_LEN + records.len() + children.len() * CHILD_LEN + names.len() + 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&0u64.to_le_bytes()); // the length, below
    out.extend_from_slice(&seal.base.to_le_bytes());
    out.extend_from_slice(&seal.size.to_le_bytes());
    out.extend_from_slice(&seal.mtime_sec.to_le_bytes());
    put32(&mut out, seal.mtime_nsec);
    let mut sb = [0u8; SUPERBLOCK_LEN];
    let n = seal.superblock.len().min(SUPERBLOCK_LEN);
    sb[..n].copy_from_slice(&seal.superblock[..n]);
    out.extend_from_slice(&sb);
    put32(&mut out, u32_of(nodes.len() as u64)?);
    put32(&mut out, u32_of(children.len() as u64)?);
    out.extend_from_slice(&(names.len() as u64).to_le_bytes());
    out.extend_from_slice(&(targets.len() as u64).to_le_bytes());
    debug_assert_eq!(out.len(), HEAD_LEN);
    out.extend_from_slice(&records);
    for c in children {
        put32(&mut out, c.start);
        put32(&mut out, c.len);
        put32(&mut out, u32_of(c.ino)?);
    }
    out.extend_from_slice(names);
    out.extend_from_slice(&targets);
    let len = out.len() as u64 + 4;
    out[8..16].copy_from_slice(&len.to_le_bytes());
    let sum = checksum(&out);
    put32(&mut out, sum);
    Ok(out)
}

/// The tree in `bytes` (an image and nothing after it), or why it is not a sound one.
#[cfg(test)]
pub fn decode(bytes: &[u8]) -> Result<Image, String> {
    let len = length(bytes).filter(|&n| n == bytes.len() as u64).ok_or_else(|| bad("length"))?;
    decode_from(len, &mut |at, buf| {
        let from = usize::try_from(at).map_err(|_| bad("length"))?;
        buf.copy_from_slice(bytes.get(from..from + buf.len()).ok_or_else(|| bad("length"))?);
        Ok(())
    })
}

/// Fills a buffer from an offset of an image.
pub type ReadAt<'a> = dyn FnMut(u64, &mut [u8]) -> Result<(), String> + 'a;

/// The tree in the image of `len` bytes that `read` (which fills a buffer from an offset of
/// the image) gives, or why it is not a sound one. Reads a piece at a time: only the tree
/// takes memory, not the image too.
pub fn decode_from(len: u64, read: &mut ReadAt) -> Result<Image, String> {
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
    let mut section = |at: &mut u64, n: usize| -> Result<Vec<u8>, String> {
        let mut out = vec![0u8; n];
        read(*at, &mut out)?;
        *at += n as u64;
        Ok(out)
    };
    let mut at = 0u64;
    let head_bytes = section(&mut at, HEAD_LEN)?;
    let (_, seal) = head(&head_bytes).ok_or_else(|| bad("head"))?;
    let mut r = Reader { buf: &head_bytes, at: 16 + SEAL_LEN };
    let (n_nodes, n_children) = (r.u32()? as usize, r.u32()? as usize);
    let (names_len, targets_len) = (r.u64()?, r.u64()?);
    let expected = (n_nodes as u128) * NODE_LEN as u128
        + (n_children as u128) * CHILD_LEN as u128
        + names_len as u128
        + targets_len as u128;
    if (HEAD_LEN as u128) + expected != body_len as u128 || n_nodes == 0 {
        return Err(bad("sizes"));
    }
    let records_at = at;
    at += (n_nodes * NODE_LEN) as u64;
    let child_bytes = section(&mut at, n_children * CHILD_LEN)?;
    let names = section(&mut at, names_len as usize)?;
    let targets = section(&mut at, targets_len as usize)?;
    let ino_ok = |ino: u64| ino >= 1 && ino <= n_nodes as u64;
    let mut children = Vec::with_capacity(n_children);
    let mut c = Reader { buf: &child_bytes, at: 0 };
    for _ in 0..n_children {
        let (start, len, ino) = (c.u32()?, c.u32()?, u64::from(c.u32()?));
        if start as usize + len as usize > names.len() || !ino_ok(ino) {
            return Err(bad("folder entry"));
        }
        children.push(Child { start, len, ino });
    }
    drop(child_bytes);
    let mut nodes = Vec::with_capacity(n_nodes);
    let mut next = Next::default();
    let per_piece = PIECE / NODE_LEN;
    while nodes.len() < n_nodes {
        let count = per_piece.min(n_nodes - nodes.len());
        let piece = &mut buf[..count * NODE_LEN];
        read(records_at + (nodes.len() * NODE_LEN) as u64, piece)?;
        let mut n = Reader { buf: piece, at: 0 };
        for _ in 0..count {
            nodes.push(node(&mut n, &children, &targets, &ino_ok, &mut next)?);
        }
    }
    if !matches!(nodes[0].kind, Kind::Dir(_)) {
        return Err(bad("root"));
    }
    if next != (Next { child: children.len(), target: targets.len() }) {
        return Err(bad("entries no folder holds"));
    }
    Ok(Image { seal, nodes, names })
}

/// Where the next folder's entries and the next link's target start: each follows the one
/// before, as [`encode`] writes them (so no two nodes share bytes, and the tree takes no more
/// memory than the image says, whatever a forged image claims).
#[derive(Debug, Default, PartialEq, Eq)]
struct Next {
    child: usize,
    target: usize,
}

/// One node record.
fn node(
    n: &mut Reader,
    children: &[Child],
    targets: &[u8],
    ino_ok: &dyn Fn(u64) -> bool,
    next: &mut Next,
) -> Result<Node, String> {
    let parent = u64::from(n.u32()?);
    let kind = n.take(1)?[0];
    let perm = u16::from_le_bytes(n.take(2)?.try_into().expect("2 bytes"));
    let (uid, gid) = (n.u32()?, n.u32()?);
    let (sec, nsec) = (n.u64()? as i64, n.u32()?);
    let nlink = n.u32()?;
    let (a, b) = (n.u64()?, n.u64()?);
    if !ino_ok(parent) || nsec > 999_999_999 {
        return Err(bad("node"));
    }
    let kind = match kind {
        0 => Kind::Dir(following(children, a, b, &mut next.child).ok_or_else(|| bad("folder"))?.to_vec()),
        1 => {
            let source = if b == u64::MAX { Source::Empty } else { Source::Bytes { file: 0, offset: b } };
            Kind::File(Data { size: a, header: None, source })
        }
        2 => Kind::Symlink(following(targets, a, b, &mut next.target).ok_or_else(|| bad("link"))?.to_vec()),
        _ => return Err(bad("kind")),
    };
    Ok(Node { parent, meta: Meta { perm, uid, gid, mtime: time_of(sec, nsec), nlink }, kind })
}

/// The `len` items of `all` from `at` on, when they start where the previous node's ended
/// (`cursor`, moved past them).
fn following<'a, T>(all: &'a [T], at: u64, len: u64, cursor: &mut usize) -> Option<&'a [T]> {
    let (at, len) = (usize::try_from(at).ok()?, usize::try_from(len).ok()?);
    if at != *cursor {
        return None;
    }
    let items = all.get(at..at.checked_add(len)?)?;
    *cursor += len;
    Some(items)
}

fn bad(what: &str) -> String {
    format!("the pack's tree image is damaged ({what})")
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

/// A checksum against damage (not against tampering): the pack index's word hash over the
/// bytes, then their length. Given the bytes in pieces, all but the last a multiple of 8 long.
#[derive(Default)]
struct Summer(crate::pack::format::WordHasher);

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

fn checksum(bytes: &[u8]) -> u32 {
    let mut h = Summer::default();
    h.add(bytes);
    h.finish(bytes.len() as u64)
}

fn put32(out: &mut Vec<u8>, n: u32) {
    out.extend_from_slice(&n.to_le_bytes());
}

fn u32_of(n: u64) -> Result<u32, String> {
    u32::try_from(n).map_err(|_| "more than 4 billion entries".to_string())
}

struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let out = self
            .buf
            .get(self.at..self.at.checked_add(n).ok_or("overflow")?)
            .ok_or_else(|| "the pack's tree image is damaged (cut short)".to_string())?;
        self.at += n;
        Ok(out)
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(perm: u16, sec: i64, nsec: u32, nlink: u32) -> Meta {
        Meta { perm, uid: 1000, gid: 100, mtime: time_of(sec, nsec), nlink }
    }

    fn sample() -> (Vec<Node>, Vec<u8>, Seal) {
        let names = b"afilelinkhard\xff\xfe".to_vec();
        let nodes = vec![
            Node { parent: 1, meta: meta(0o755, 5, 1, 3), kind: Kind::Dir(vec![Child { start: 0, len: 1, ino: 2 }]) },
            Node {
                parent: 1,
                meta: meta(0o700, -3, 7, 2),
                kind: Kind::Dir(vec![
                    Child { start: 1, len: 4, ino: 3 },
                    Child { start: 5, len: 4, ino: 4 },
                    Child { start: 9, len: 4, ino: 3 },
                    Child { start: 13, len: 2, ino: 5 },
                ]),
            },
            Node {
                parent: 2,
                meta: meta(0o644, 1_700_000_000, 999_999_999, 2),
                kind: Kind::File(Data { size: 10, header: None, source: Source::Bytes { file: 0, offset: 4096 } }),
            },
            Node { parent: 2, meta: meta(0o777, 0, 0, 1), kind: Kind::Symlink(b"../x/\x80y".to_vec()) },
            Node {
                parent: 2,
                meta: meta(0o600, 1, 0, 1),
                kind: Kind::File(Data { size: 0, header: None, source: Source::Empty }),
            },
        ];
        let seal = Seal { base: 1024, size: 99_999, mtime_sec: 42, mtime_nsec: 999_999_999, superblock: vec![7; 48] };
        (nodes, names, seal)
    }

    fn shape(nodes: &[Node]) -> String {
        format!("{nodes:?}")
    }

    #[test]
    fn a_tree_comes_back_as_it_went_in() {
        let (nodes, names, seal) = sample();
        let bytes = encode(&nodes, &names, &seal).unwrap();
        assert_eq!(length(&bytes), Some(bytes.len() as u64));
        assert!(bytes.len() as u64 <= room(5, names.len() as u64, 8));
        let img = decode(&bytes).unwrap();
        assert_eq!(shape(&img.nodes), shape(&nodes));
        assert_eq!(img.names, names);
        let mut sb = vec![7; 48];
        sb.resize(SUPERBLOCK_LEN, 0);
        assert_eq!(img.seal, Seal { superblock: sb, ..seal });
        // The same tree gives the same bytes.
        assert_eq!(encode(&nodes, &names, &img.seal).unwrap(), bytes);
    }

    #[test]
    fn any_damage_is_refused() {
        let (nodes, names, seal) = sample();
        let bytes = encode(&nodes, &names, &seal).unwrap();
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x10;
            assert!(decode(&b).is_err(), "byte {i}");
        }
        for cut in [0, 10, HEAD_LEN, bytes.len() - 1] {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer).is_err());
    }

    /// `bytes` with its checksum made right again (as a forger would).
    fn resealed(mut bytes: Vec<u8>) -> Vec<u8> {
        let n = bytes.len() - 4;
        let sum = checksum(&bytes[..n]);
        bytes[n..].copy_from_slice(&sum.to_le_bytes());
        bytes
    }

    #[test]
    fn a_forged_image_with_a_right_checksum_is_refused_when_unsound() {
        let (nodes, names, seal) = sample();
        let good = encode(&nodes, &names, &seal).unwrap();
        assert!(decode(&resealed(good.clone())).is_ok());
        let record = |i: usize| HEAD_LEN + i * NODE_LEN;
        let children_at = HEAD_LEN + nodes.len() * NODE_LEN;
        let forge = |at: usize, value: &[u8]| {
            let mut b = good.clone();
            b[at..at + value.len()].copy_from_slice(value);
            decode(&resealed(b))
        };
        // No nodes; a parent, an entry's inode or name beyond the tree; an unknown kind; a time
        // with more than a second of nanoseconds; a root that is no folder.
        assert!(forge(16 + SEAL_LEN, &0u32.to_le_bytes()).is_err());
        assert!(forge(record(2), &9u32.to_le_bytes()).is_err());
        assert!(forge(children_at + 8, &99u32.to_le_bytes()).is_err());
        assert!(forge(children_at, &u32::MAX.to_le_bytes()).is_err());
        assert!(forge(record(2) + 4, &[7]).is_err());
        assert!(forge(record(2) + 4 + 1 + 2 + 8 + 8, &1_000_000_000u32.to_le_bytes()).is_err());
        assert!(forge(record(0) + 4, &[1]).is_err());
        // Two folders sharing entries (each would copy them: memory beyond the image's size).
        let range_at = |i: usize| record(i) + 4 + 1 + 2 + 4 + 4 + 8 + 4 + 4;
        assert!(forge(range_at(1), &0u64.to_le_bytes()).is_err());
        // A link whose target starts elsewhere than where the previous one ended.
        assert!(forge(range_at(3), &1u64.to_le_bytes()).is_err());
    }

    #[test]
    fn what_a_pack_does_not_show_is_not_imaged() {
        let (mut nodes, names, seal) = sample();
        nodes[4].kind = Kind::File(Data { size: 3, header: Some(vec![1].into()), source: Source::Empty });
        assert!(encode(&nodes, &names, &seal).is_err());
        nodes[4].kind = Kind::File(Data { size: 3, header: None, source: Source::Bytes { file: 1, offset: 0 } });
        assert!(encode(&nodes, &names, &seal).is_err());
        nodes[4].kind = Kind::File(Data { size: 3, header: None, source: Source::Missing("gone".into()) });
        assert!(encode(&nodes, &names, &seal).is_err());
    }

    #[test]
    fn the_superblock_signature_where_hdf5_looks_is_noticed() {
        let mut block = vec![0u8; 4096];
        assert!(!hides_superblock(&block));
        block[513..521].copy_from_slice(SIGNATURE);
        assert!(!hides_superblock(&block));
        block[2048..2056].copy_from_slice(SIGNATURE);
        assert!(hides_superblock(&block));
        assert!(!hides_superblock(&block[..2048]));
    }

    #[test]
    fn times_before_and_after_the_epoch_round_trip() {
        for (s, n) in [(0, 0), (-1, 0), (-1, 999_999_999), (-86_400, 5), (1_700_000_000, 123)] {
            assert_eq!(time_parts(time_of(s, n)), (s, n));
        }
    }
}
