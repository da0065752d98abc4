//! A pack's mounted tree (`tree`) as a tree image (`packfs::image`, the format and its reader,
//! shared with the mount server `dset-split-serve`), which `pack` stores in the pack's HDF5
//! user block. Pure data; `sealed` reads and writes it.

use packfs::image::{Entry, Record};
pub use packfs::image::{
    HEAD_LEN, SIGNATURE, SUPERBLOCK_LEN, Seal, head, hides_superblock, room, superblock_places, time_of, time_parts,
};

use super::tree::{Data, Kind, Node, Source};

/// The image of a pack's tree (`nodes`, `names`), or why it cannot be one: only what a pack
/// shows is imaged (folders, files stored as plain bytes of the pack itself, links), nothing
/// with a `.npy` header or data read through HDF5.
pub fn encode(nodes: &[Node], names: &[u8], seal: &Seal) -> Result<Vec<u8>, String> {
    let u32_of = |n: u64| u32::try_from(n).map_err(|_| "more than 4 billion entries".to_string());
    let mut entries = Vec::new();
    let mut targets: Vec<u8> = Vec::new();
    let mut records = Vec::with_capacity(nodes.len());
    for node in nodes {
        let kind = match &node.kind {
            Kind::Dir(c) => {
                let first = entries.len() as u64;
                for c in c {
                    entries.push(Entry { start: c.start, len: c.len, ino: u32_of(c.ino)? });
                }
                packfs::image::Kind::Dir { first, count: c.len() as u64 }
            }
            Kind::File(Data { size, header: None, source: Source::Empty }) => {
                packfs::image::Kind::File { size: *size, offset: None }
            }
            Kind::File(Data { size, header: None, source: Source::Bytes { file: 0, offset } }) => {
                packfs::image::Kind::File { size: *size, offset: Some(*offset) }
            }
            Kind::File(_) => return Err("a file not stored as plain bytes of the pack".into()),
            Kind::Symlink(t) => {
                let start = targets.len() as u64;
                targets.extend_from_slice(t);
                packfs::image::Kind::Link { start, len: t.len() as u64 }
            }
            Kind::Part(t) => {
                let start = targets.len() as u64;
                targets.extend_from_slice(t);
                packfs::image::Kind::Part { start, len: t.len() as u64 }
            }
        };
        let (sec, nsec) = time_parts(node.meta.mtime);
        let m = &node.meta;
        records.push(Record {
            parent: u32_of(node.parent)?,
            kind,
            perm: m.perm,
            uid: m.uid,
            gid: m.gid,
            sec,
            nsec,
            nlink: m.nlink,
        });
    }
    packfs::image::encode(&records, &entries, names, &targets, seal)
}

#[cfg(test)]
mod tests {
    use super::super::tree::{Child, Meta};
    use super::*;
    use packfs::image::View;

    fn meta(perm: u16, sec: i64, nsec: u32, nlink: u32) -> Meta {
        Meta { perm, uid: 1000, gid: 100, mtime: time_of(sec, nsec), nlink }
    }

    fn sample() -> (Vec<Node>, Vec<u8>, Seal) {
        let names = b"afilelink\xff\xfe".to_vec();
        let nodes = vec![
            Node { parent: 1, meta: meta(0o755, 5, 1, 3), kind: Kind::Dir(vec![Child { start: 0, len: 1, ino: 2 }]) },
            Node {
                parent: 1,
                meta: meta(0o700, -3, 7, 2),
                kind: Kind::Dir(vec![
                    Child { start: 1, len: 4, ino: 3 },
                    Child { start: 5, len: 4, ino: 4 },
                    Child { start: 9, len: 2, ino: 5 },
                ]),
            },
            Node {
                parent: 2,
                meta: meta(0o644, 1_700_000_000, 999_999_999, 1),
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

    #[test]
    fn a_pack_tree_reads_back_from_its_image() {
        let (nodes, names, seal) = sample();
        let bytes = encode(&nodes, &names, &seal).unwrap();
        let layout = packfs::image::check(bytes.len() as u64, &bytes[..]).unwrap();
        let v = View { layout, bytes: &bytes[..] };
        for (i, n) in nodes.iter().enumerate() {
            let r = v.node(i as u64 + 1).unwrap().unwrap();
            assert_eq!(
                (u64::from(r.parent), r.perm, r.uid, r.gid, r.nlink),
                (n.parent, n.meta.perm, 1000, 100, n.meta.nlink)
            );
            assert_eq!(time_of(r.sec, r.nsec), n.meta.mtime);
        }
        assert_eq!(v.lookup(1, 3, b"link").unwrap(), Some(4));
        assert_eq!(v.lookup(1, 3, b"\xff\xfe").unwrap(), Some(5));
        let Some(packfs::image::Kind::Link { start, len }) = v.node(4).unwrap().map(|r| r.kind) else { panic!() };
        assert_eq!(v.target(start, len).unwrap(), b"../x/\x80y");
        assert_eq!(v.node(3).unwrap().unwrap().kind, packfs::image::Kind::File { size: 10, offset: Some(4096) });
        assert_eq!(v.node(5).unwrap().unwrap().kind, packfs::image::Kind::File { size: 0, offset: None });
        assert_eq!(v.layout.file_bytes, 10);
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
}
