//! Property tests of the split layout's name mapping: deterministic, injective (also on
//! case-insensitive file systems), reversible, portable, and confined to the split folder.

use dset_split::layout::{EXT, Kind, MAX_COMPONENT, decode_component, encode_component, hdf5_path_of, relative_file};
use proptest::prelude::*;

/// HDF5 link names: any bytes but '/' and NUL, not "." (which HDF5 resolves away).
fn name() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => prop::sample::select(b"abcxyzABCXYZ0129._- ".to_vec()),
        2 => prop::sample::select(b"%\\:*?\"<>|~\t\x01\x7f".to_vec()),
        1 => (1u8..=255u8).prop_filter("no / or NUL", |b| *b != b'/'),
    ];
    let utf8 = prop::sample::select(vec!["é", "température", "Ω", "数据", "ß"]).prop_map(|s| s.as_bytes().to_vec());
    prop::collection::vec(prop_oneof![4 => byte.prop_map(|b| vec![b]), 1 => utf8], 1..24)
        .prop_map(|parts| parts.concat())
        .prop_filter("not .", |n| n != b".")
}

fn long_name() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(b"aB%.:".to_vec()), 200..400)
}

fn fold(s: &str) -> String {
    s.to_lowercase()
}

fn portable(component: &str) -> Result<(), String> {
    let bytes = component.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_COMPONENT {
        return Err(format!("length {}", bytes.len()));
    }
    if bytes.iter().any(|b| *b < 0x20 || b"/\\:*?\"<>|".contains(b) || *b == 0x7f) {
        return Err("unsafe byte".into());
    }
    if bytes[0] == b'.' || bytes.ends_with(b".") || bytes.ends_with(b" ") {
        return Err("leading dot or trailing dot/space".into());
    }
    let stem = component.split('.').next().unwrap().to_ascii_lowercase();
    if ["con", "prn", "aux", "nul", "com1", "lpt1"].contains(&stem.as_str()) {
        return Err("device name".into());
    }
    std::str::from_utf8(bytes).map(|_| ()).map_err(|e| e.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn components_round_trip(n in name(), group in any::<bool>()) {
        let kind = if group { Kind::Group } else { Kind::Dataset };
        let e = encode_component(&n, kind);
        prop_assert_eq!(&e, &encode_component(&n, kind), "deterministic");
        prop_assert_eq!(decode_component(&e, kind), Some(n));
    }

    #[test]
    fn components_are_portable(n in prop_oneof![name(), long_name()]) {
        let d = format!("{}{EXT}", encode_component(&n, Kind::Dataset));
        prop_assert!(portable(&d).is_ok(), "{:?} -> {d:?}: {:?}", n, portable(&d));
        let g = encode_component(&n, Kind::Group);
        prop_assert!(portable(&g).is_ok(), "{:?} -> {g:?}: {:?}", n, portable(&g));
    }

    #[test]
    fn distinct_names_never_share_a_file_even_ignoring_case(a in prop_oneof![name(), long_name()], b in prop_oneof![name(), long_name()]) {
        prop_assume!(a != b);
        for kind in [Kind::Group, Kind::Dataset] {
            prop_assert_ne!(fold(&encode_component(&a, kind)), fold(&encode_component(&b, kind)));
        }
    }

    #[test]
    fn a_group_never_meets_a_dataset_file(g in name(), d in name()) {
        let dir = fold(&encode_component(&g, Kind::Group));
        let file = fold(&format!("{}{EXT}", encode_component(&d, Kind::Dataset)));
        prop_assert_ne!(dir, file);
    }

    #[test]
    fn paths_round_trip_and_stay_inside(parts in prop::collection::vec(name(), 1..6)) {
        let mut path = Vec::new();
        for p in &parts {
            path.push(b'/');
            path.extend(p);
        }
        let rel = relative_file(&path).unwrap();
        prop_assert!(!rel.starts_with('/'));
        prop_assert!(rel.split('/').all(|c| c != ".." && c != "." && !c.is_empty()), "{rel}");
        prop_assert_eq!(hdf5_path_of(&rel), Some(path));
    }
}
