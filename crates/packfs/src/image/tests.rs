use super::*;

fn rec(parent: u32, kind: Kind, perm: u16, sec: i64, nsec: u32, nlink: u32) -> Record {
    Record { parent, kind, perm, uid: 1000, gid: 100, sec, nsec, nlink }
}

/// A root holding folder `a`, which holds a file, a link, a hard link to the file and an
/// empty file with a name that is not UTF-8.
fn sample() -> (Vec<Record>, Vec<Entry>, Vec<u8>, Vec<u8>, Seal) {
    let names = b"afilehardlink\xff\xfe".to_vec();
    let records = vec![
        rec(1, Kind::Dir { first: 0, count: 1 }, 0o755, 5, 1, 3),
        rec(1, Kind::Dir { first: 1, count: 4 }, 0o700, -3, 7, 2),
        rec(2, Kind::File { size: 10, offset: Some(4096) }, 0o644, 1_700_000_000, 999_999_999, 2),
        rec(2, Kind::Link { start: 0, len: 8 }, 0o777, 0, 0, 1),
        rec(2, Kind::File { size: 0, offset: None }, 0o600, 1, 0, 1),
    ];
    let entries = vec![
        Entry { start: 0, len: 1, ino: 2 },
        Entry { start: 1, len: 4, ino: 3 },
        Entry { start: 5, len: 4, ino: 3 },
        Entry { start: 9, len: 4, ino: 4 },
        Entry { start: 13, len: 2, ino: 5 },
    ];
    let seal = Seal { base: 1024, size: 99_999, mtime_sec: 42, mtime_nsec: 999_999_999, superblock: vec![7; 48] };
    (records, entries, names, b"../x/\x80yz".to_vec(), seal)
}

fn image() -> Vec<u8> {
    let (r, e, n, t, s) = sample();
    encode(&r, &e, &n, &t, &s).unwrap()
}

fn check_bytes(bytes: &[u8]) -> Result<Layout, String> {
    let len = length(bytes).filter(|&n| n == bytes.len() as u64).ok_or_else(|| bad("length"))?;
    check(len, bytes)
}

fn view(bytes: &[u8]) -> View<'_, [u8]> {
    View { layout: check_bytes(bytes).unwrap(), bytes }
}

#[test]
fn a_tree_comes_back_as_it_went_in() {
    let bytes = image();
    let (records, entries, names, targets, seal) = sample();
    assert_eq!(length(&bytes), Some(bytes.len() as u64));
    assert!(bytes.len() as u64 <= room(5, names.len() as u64, targets.len() as u64));
    let v = view(&bytes);
    let mut sb = vec![7; 48];
    sb.resize(SUPERBLOCK_LEN, 0);
    assert_eq!(v.layout.head.seal, Seal { superblock: sb, ..seal.clone() });
    for (i, r) in records.iter().enumerate() {
        assert_eq!(v.node(i as u64 + 1).unwrap().as_ref(), Some(r));
    }
    assert_eq!(v.node(0).unwrap(), None);
    assert_eq!(v.node(6).unwrap(), None);
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(v.entry(i as u64).unwrap(), *e);
    }
    assert!(v.entry(5).is_err());
    let mut name = Vec::new();
    v.name(&entries[4], &mut name).unwrap();
    assert_eq!(name, b"\xff\xfe");
    assert_eq!(v.target(0, 8).unwrap(), targets);
    // Lookups by binary search, hits and misses on both sides.
    for (name, ino) in [(&b"file"[..], Some(3)), (b"hard", Some(3)), (b"link", Some(4)), (b"\xff\xfe", Some(5))] {
        assert_eq!(v.lookup(1, 4, name).unwrap(), ino);
    }
    for miss in [&b""[..], b"a", b"fil", b"files", b"zzz", b"\xff\xff"] {
        assert_eq!(v.lookup(1, 4, miss).unwrap(), None);
    }
    assert_eq!(v.lookup(0, 1, b"a").unwrap(), Some(2));
    // The same tree gives the same bytes.
    assert_eq!(encode(&records, &entries, &names, &targets, &v.layout.head.seal).unwrap(), bytes);
}

#[test]
fn any_damage_is_refused() {
    let bytes = image();
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x10;
        assert!(check_bytes(&b).is_err(), "byte {i}");
    }
    for cut in [0, 10, HEAD_LEN, bytes.len() - 1] {
        assert!(check_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(check_bytes(&longer).is_err());
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
    let good = image();
    assert!(check_bytes(&resealed(good.clone())).is_ok());
    let record = |i: usize| HEAD_LEN + i * NODE_LEN;
    let entries_at = HEAD_LEN + 5 * NODE_LEN;
    let forge = |at: usize, value: &[u8]| {
        let mut b = good.clone();
        b[at..at + value.len()].copy_from_slice(value);
        check_bytes(&resealed(b))
    };
    // No nodes; a parent, an entry's inode or name beyond the tree; an unknown kind; a time
    // with more than a second of nanoseconds; a root that is no folder.
    assert!(forge(16 + SEAL_LEN, &0u32.to_le_bytes()).is_err());
    assert!(forge(record(2), &9u32.to_le_bytes()).is_err());
    assert!(forge(entries_at + 8, &99u32.to_le_bytes()).is_err());
    assert!(forge(entries_at, &u32::MAX.to_le_bytes()).is_err());
    assert!(forge(record(2) + 4, &[7]).is_err());
    assert!(forge(record(2) + 4 + 1 + 2 + 8 + 8, &1_000_000_000u32.to_le_bytes()).is_err());
    assert!(forge(record(0) + 4, &[1]).is_err());
    // Two folders sharing entries; entries beyond the image; a link whose target starts
    // elsewhere than where the previous one ended, or runs past the targets.
    let range_at = |i: usize| record(i) + 4 + 1 + 2 + 4 + 4 + 8 + 4 + 4;
    assert!(forge(range_at(1), &0u64.to_le_bytes()).is_err());
    assert!(forge(range_at(1) + 8, &u64::MAX.to_le_bytes()).is_err());
    assert!(forge(range_at(3), &1u64.to_le_bytes()).is_err());
    assert!(forge(range_at(3) + 8, &9u64.to_le_bytes()).is_err());
}

#[test]
fn a_record_pointing_outside_the_image_or_the_pack_is_refused() {
    let (records, entries, names, targets, seal) = sample();
    let refused = |records: &[Record], entries: &[Entry], names: &[u8], targets: &[u8]| {
        check_bytes(&encode(records, entries, names, targets, &seal).unwrap()).is_err()
    };
    assert!(!refused(&records, &entries, &names, &targets));
    // A file's bytes beyond the pack; permissions that are not; a root that is a link.
    let mut r = records.clone();
    r[2].kind = Kind::File { size: 10, offset: Some(seal.size - 9) };
    assert!(refused(&r, &entries, &names, &targets));
    let mut r = records.clone();
    r[2].perm = 0o10000;
    assert!(refused(&r, &entries, &names, &targets));
    let mut r = records.clone();
    r[0].kind = Kind::Link { start: 0, len: 0 };
    assert!(refused(&r, &entries, &names, &targets));
    // A target longer than a path can be.
    let long = vec![b'x'; 4096];
    let mut r = records.clone();
    r[3].kind = Kind::Link { start: 0, len: 4096 };
    assert!(refused(&r, &entries, &names, &long));
    // Names of no bytes or more than 255.
    let mut e = entries.clone();
    e[4].len = 0;
    assert!(refused(&records, &e, &names, &targets));
    let mut n = names.clone();
    n.extend(std::iter::repeat_n(b'y', 256));
    let mut e = entries.clone();
    e[4] = Entry { start: 15, len: 256, ino: 5 };
    assert!(refused(&records, &e, &n, &targets));
}

#[test]
fn names_and_targets_no_folder_can_hold_are_errors_when_read() {
    let (records, entries, names, _, seal) = sample();
    for bad in [&b"a/b"[..], b".", b"..", b"a\0"] {
        let mut n = names.clone();
        n.extend_from_slice(bad);
        let mut e = entries.clone();
        e[4] = Entry { start: names.len() as u32, len: bad.len() as u32, ino: 5 };
        let bytes = encode(&records, &e, &n, b"../x/\x80yz", &seal).unwrap();
        let v = view(&bytes);
        assert!(v.name(&v.entry(4).unwrap(), &mut Vec::new()).is_err(), "{bad:?}");
    }
    let bytes = encode(&records, &entries, &names, b"../x/\0yz", &seal).unwrap();
    assert!(view(&bytes).target(0, 8).is_err());
}

#[test]
fn a_large_tree_is_checked_across_pieces() {
    // More records than one 64 KiB piece holds.
    let n = 5000u32;
    let mut records = vec![rec(1, Kind::Dir { first: 0, count: u64::from(n) }, 0o755, 0, 0, 2)];
    let mut entries = Vec::new();
    let mut names = Vec::new();
    for i in 0..n {
        let name = format!("{i:05}");
        entries.push(Entry { start: names.len() as u32, len: 5, ino: i + 2 });
        names.extend_from_slice(name.as_bytes());
        records.push(rec(1, Kind::File { size: 1, offset: Some(u64::from(i)) }, 0o644, 0, 0, 1));
    }
    let seal = Seal { base: 512, size: 1 << 20, mtime_sec: 0, mtime_nsec: 0, superblock: vec![] };
    let bytes = encode(&records, &entries, &names, &[], &seal).unwrap();
    let v = view(&bytes);
    assert_eq!(v.lookup(0, u64::from(n), b"04321").unwrap(), Some(4323));
    assert_eq!(v.node(4323).unwrap().unwrap().kind, Kind::File { size: 1, offset: Some(4321) });
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

#[test]
fn a_folders_own_pack_is_a_node_with_its_path_in_the_targets() {
    let (mut r, mut e, mut n, mut t, s) = sample();
    // The root holds `p`, a folder packed on its own into `x-split/p.h5`, after the link's target.
    r[0].kind = Kind::Dir { first: 0, count: 2 };
    r.push(rec(1, Kind::Part { start: 8, len: 12 }, 0o755, 0, 0, 2));
    e.insert(1, Entry { start: 15, len: 1, ino: 6 });
    // Folder `a`'s entries now start at 2.
    r[1].kind = Kind::Dir { first: 2, count: 4 };
    n.push(b'p');
    t.extend_from_slice(b"x-split/p.h5");
    let bytes = encode(&r, &e, &n, &t, &s).unwrap();
    let v = view(&bytes);
    assert_eq!(v.layout.parts, 1);
    assert_eq!(v.node(6).unwrap().unwrap().kind, Kind::Part { start: 8, len: 12 });
    assert_eq!(v.target(8, 12).unwrap(), b"x-split/p.h5");
    assert_eq!(v.lookup(0, 2, b"p").unwrap(), Some(6));
    // Its path must lie after the link's target, like a second link's.
    let mut bad = r.clone();
    bad[5].kind = Kind::Part { start: 0, len: 12 };
    assert!(check_bytes(&encode(&bad, &e, &n, &t, &s).unwrap()).is_err());
    assert_eq!(view(&image()).layout.parts, 0);
}
