//! The split layout, as pure logic: where a dataset's own file lives, given its HDF5 path.
//!
//! ```text
//! <dir>/<stem>.<ext>                     the main file (run.h5, out.nc, data)
//! <dir>/<stem>-split/                    its split folder (the suffix is configurable)
//! <dir>/<stem>-split/g1/g2/temp.h5       the dataset /g1/g2/temp, stored at /data inside
//! ```
//!
//! Each group on the path is a directory, the dataset is `<name>.h5`. Names are escaped so that
//! the mapping is deterministic, injective, reversible and portable:
//!
//! - `%` and bytes that are unsafe or not portable in file names are written `%XX` (upper-case
//!   hex): control characters, `/ \ : * ? " < > | ~`, and bytes that are not valid UTF-8;
//! - a leading `.` (so `.`, `..` and hidden names) and a trailing `.` or space are written `%2E` /
//!   `%20`; the first character of a Windows device name (`CON`, `nul.txt`, `COM1` ...) is escaped;
//! - a group whose name ends in `.h5` has that dot escaped, so a group `x.h5` (a directory) never
//!   meets the dataset `x` (the file `x.h5`);
//! - a name with upper-case letters gets `~` and, in lower-case hex, the bit mask of its upper-case
//!   characters: `Temp` -> `Temp~1.h5`, `temp` -> `temp.h5`, so names that differ only in case stay
//!   apart on case-insensitive file systems;
//! - a component longer than [`MAX_COMPONENT`] bytes keeps a prefix and ends in `~~` and a 64-bit
//!   FNV-1a hash of the name (written nowhere else, so no other name can produce it).

use std::path::{Path, PathBuf};

/// The path of the one dataset inside each split file.
pub const DATASET_PATH: &str = "/data";
/// The same, as a C string.
pub const DATASET_PATH_C: &std::ffi::CStr = c"/data";
/// The default suffix of the split folder.
pub const DEFAULT_SUFFIX: &str = "-split";
/// The file in a split folder that names the main file owning it (two main files with the same
/// stem in one directory, `run.h5` and `run.nc`, would otherwise share `run-split/`).
pub const OWNER_FILE: &str = ".dset-split";
/// The extension of split files.
pub const EXT: &str = ".h5";
/// The longest file-name component written (bytes): below the 255 of common file systems.
pub const MAX_COMPONENT: usize = 240;

/// What a path component names: a group (a directory) or the dataset (a file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Group,
    Dataset,
}

/// The split folder of a main file: `<dir>/<stem><suffix>` (`run.h5` -> `run-split`).
pub fn split_dir(main_file: &Path, suffix: &str) -> PathBuf {
    let stem = main_file.file_stem().map(|s| s.to_os_string()).unwrap_or_default();
    let mut name = stem;
    name.push(suffix);
    main_file.with_file_name(name)
}

/// The components of an HDF5 path, without empty and `.` components (HDF5 ignores both).
/// `..` is an ordinary link name in HDF5 and is kept (and escaped when mapped).
pub fn components(path: &[u8]) -> Vec<&[u8]> {
    path.split(|b| *b == b'/').filter(|c| !c.is_empty() && *c != b".").collect()
}

/// The name a soft link at `link` (a path relative to some location) holding `value` leads to,
/// relative to the same location: `value` itself when absolute, else `value` in the link's group.
pub fn soft_link_path(link: &[u8], value: &[u8]) -> Option<std::ffi::CString> {
    if value.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(link.len() + value.len() + 1);
    if value[0] != b'/' {
        if let Some(slash) = link.iter().rposition(|b| *b == b'/') {
            out.extend_from_slice(&link[..=slash]);
        }
    }
    out.extend_from_slice(value);
    std::ffi::CString::new(out).ok()
}

/// A split file's link target as the source file name of a virtual dataset: HDF5 reads source
/// names as printf-like patterns, where `%` must be written `%%`.
pub fn vds_source_name(target: &str) -> String {
    target.replace('%', "%%")
}

/// The file a virtual dataset's source name stands for ([`vds_source_name`] undone); None for a
/// pattern (`%b`: a series of files), which no split dataset uses.
pub fn vds_source_file(name: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(name.len());
    let mut bytes = name.iter();
    while let Some(&b) = bytes.next() {
        if b == b'%' && bytes.next() != Some(&b'%') {
            return None;
        }
        out.push(b);
    }
    Some(out)
}

fn must_escape(b: u8) -> bool {
    b < 0x20 || b == 0x7f || b"%/\\:*?\"<>|~".contains(&b)
}

const DEVICE_NAMES: &[&str] = &[
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8", "com9", "lpt1", "lpt2",
    "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

fn is_device_name(name: &[u8]) -> bool {
    let stem = name.split(|b| *b == b'.').next().unwrap_or_default();
    let stem = String::from_utf8_lossy(stem).trim_end().to_ascii_lowercase();
    DEVICE_NAMES.contains(&stem.as_str())
}

fn push_escaped(out: &mut String, b: u8) {
    out.push_str(&format!("%{b:02X}"));
}

/// 64-bit FNV-1a: small, and stable across Rust releases and machines.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The case mark of a name: bit i set when character i is upper case; None if none is.
fn case_mark(name: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(name);
    let mut bits: Vec<bool> = Vec::new();
    for c in text.chars() {
        bits.push(c.is_uppercase());
    }
    if !bits.iter().any(|b| *b) {
        return None;
    }
    // Hex digits, most significant first, of the number whose bit i is character i.
    let mut digits = String::new();
    let nibbles = bits.len().div_ceil(4);
    for n in (0..nibbles).rev() {
        let mut v = 0u8;
        for k in 0..4 {
            if bits.get(n * 4 + k).copied().unwrap_or(false) {
                v |= 1 << k;
            }
        }
        digits.push(char::from_digit(u32::from(v), 16).unwrap_or('0'));
    }
    Some(digits.trim_start_matches('0').to_string())
}

/// The file-system name of one component (without the `.h5` of a dataset).
pub fn encode_component(name: &[u8], kind: Kind) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    let device = is_device_name(name);
    // Index of a group's final ".h5" dot, if any.
    let h5_dot = (kind == Kind::Group && name.len() >= 3 && name[name.len() - 3..].eq_ignore_ascii_case(b".h5"))
        .then(|| name.len() - 3);
    let mut i = 0;
    while i < name.len() {
        let b = name[i];
        let last = i + 1 == name.len();
        // A valid UTF-8 sequence of more than one byte is kept whole.
        if b >= 0x80 {
            let len = utf8_len(&name[i..]);
            if len > 0 {
                out.push_str(std::str::from_utf8(&name[i..i + len]).unwrap_or_default());
                i += len;
                continue;
            }
            push_escaped(&mut out, b);
        } else if must_escape(b)
            || (i == 0 && (b == b'.' || device))
            || (last && (b == b'.' || b == b' '))
            || Some(i) == h5_dot
        {
            push_escaped(&mut out, b);
        } else {
            out.push(b as char);
        }
        i += 1;
    }
    if let Some(mark) = case_mark(name) {
        out.push('~');
        out.push_str(&mark);
    }
    let room = MAX_COMPONENT - if kind == Kind::Dataset { EXT.len() } else { 0 };
    if out.len() > room {
        let hash = format!("~~{:016x}", fnv1a(name));
        let mut cut = room - hash.len();
        // Never cut inside a %XX escape or a UTF-8 sequence.
        while !out.is_char_boundary(cut) || out[..cut].rfind('%').is_some_and(|p| p + 3 > cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str(&hash);
    }
    out
}

/// Length of the valid UTF-8 sequence starting `bytes` (0 if it is not one, or is ASCII).
fn utf8_len(bytes: &[u8]) -> usize {
    let want = match bytes[0] {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return 0,
    };
    match bytes.get(..want).map(std::str::from_utf8) {
        Some(Ok(_)) => want,
        _ => 0,
    }
}

/// The name a component was encoded from, or None if it is not an encoding of ours (or was
/// shortened: a shortened name keeps only a hash of its end). A dataset's alternate-name mark
/// (`~n<k>`, see [`alternate`]) is not part of the name.
pub fn decode_component(encoded: &str, kind: Kind) -> Option<Vec<u8>> {
    let encoded = match kind {
        Kind::Dataset => strip_alternate(encoded).0,
        Kind::Group => encoded,
    };
    if encoded.contains("~~") {
        return None;
    }
    let body = match encoded.rfind('~') {
        Some(p) => &encoded[..p],
        None => encoded,
    };
    let bytes = body.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = body.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    // Only what the encoder itself writes (escapes, case mark) counts as ours.
    (encode_component(&out, kind) == encoded).then_some(out)
}

/// The path of a dataset's file relative to the split folder, with `/` separators
/// (`/g1/g2/temp` -> `g1/g2/temp.h5`). None for the root group (it is not a dataset).
pub fn relative_file(hdf5_path: &[u8]) -> Option<String> {
    let parts = components(hdf5_path);
    let (leaf, groups) = parts.split_last()?;
    let mut out = String::new();
    for g in groups {
        out.push_str(&encode_component(g, Kind::Group));
        out.push('/');
    }
    out.push_str(&encode_component(leaf, Kind::Dataset));
    out.push_str(EXT);
    Some(out)
}

/// The directory of a group relative to the split folder (`/g1/g2` -> `g1/g2`; root -> "").
pub fn relative_dir(hdf5_path: &[u8]) -> String {
    components(hdf5_path).iter().map(|g| encode_component(g, Kind::Group)).collect::<Vec<_>>().join("/")
}

/// The `k`-th alternate of a split file's relative path (`g/x.h5` -> `g/x~n2.h5` for k = 2): used
/// when the layout's own name is taken by a file some other name still reaches (a split file
/// belongs to exactly one dataset and is never overwritten). `~` is always escaped in names, and
/// `n` is not a hex digit, so an alternate never meets another name's encoding or case mark.
pub fn alternate(relative: &str, k: u32) -> String {
    let stem = relative.strip_suffix(EXT).unwrap_or(relative);
    format!("{stem}~n{k}{EXT}")
}

/// A dataset component (without `.h5`) split into its name part and its alternate number.
fn strip_alternate(encoded: &str) -> (&str, Option<u32>) {
    if let Some(p) = encoded.rfind("~n") {
        let digits = &encoded[p + 2..];
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0') {
            if let Ok(k) = digits.parse() {
                return (&encoded[..p], Some(k));
            }
        }
    }
    (encoded, None)
}

/// The layout's own relative path for a dataset file `relative`, without any alternate mark
/// (`g/x~n2.h5` -> `g/x.h5`).
pub fn primary(relative: &str) -> String {
    let Some(stem) = relative.strip_suffix(EXT) else { return relative.to_string() };
    let (dir, leaf) = match stem.rfind('/') {
        Some(p) => (&stem[..=p], &stem[p + 1..]),
        None => ("", stem),
    };
    format!("{dir}{}{EXT}", strip_alternate(leaf).0)
}

/// Whether a relative file path (`/`-separated, below a split folder) is one the layout can
/// make: every component an encoding of a name, or a shortened one (`<start>~~<16 hex digits>`,
/// whose name cannot be decoded), the last one a dataset's `.h5` file (maybe an alternate).
pub fn is_layout_name(relative: &str) -> bool {
    let Some(dataset) = relative.strip_suffix(EXT) else { return false };
    let parts: Vec<&str> = dataset.split('/').collect();
    let Some((leaf, groups)) = parts.split_last() else { return false };
    let ok = |c: &str, kind: Kind| decode_component(c, kind).is_some() || is_shortened(c, kind);
    groups.iter().all(|g| ok(g, Kind::Group)) && ok(leaf, Kind::Dataset)
}

/// Whether a component is a shortened name: at most [`MAX_COMPONENT`] bytes ending in `~~` and
/// 16 lower-case hex digits (a dataset's maybe followed by an alternate mark).
fn is_shortened(encoded: &str, kind: Kind) -> bool {
    let c = match kind {
        Kind::Dataset => strip_alternate(encoded).0,
        Kind::Group => encoded,
    };
    let b = c.as_bytes();
    b.len() <= MAX_COMPONENT
        && b.len() >= 18
        && &b[b.len() - 18..b.len() - 16] == b"~~"
        && b[b.len() - 16..].iter().all(|x| x.is_ascii_digit() || (b'a'..=b'f').contains(x))
}

/// The HDF5 path a relative file path was made from (`g1/g2/temp.h5` -> `/g1/g2/temp`).
pub fn hdf5_path_of(relative: &str) -> Option<Vec<u8>> {
    let dataset = relative.strip_suffix(EXT)?;
    let mut out = Vec::new();
    let parts: Vec<&str> = dataset.split('/').collect();
    let (leaf, groups) = parts.split_last()?;
    for g in groups {
        out.push(b'/');
        out.extend(decode_component(g, Kind::Group)?);
    }
    out.push(b'/');
    out.extend(decode_component(leaf, Kind::Dataset)?);
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn vds_source_names_round_trip() {
        for t in ["run-split/x.h5", "run-split/100%25/a%.h5", "%%", "%"] {
            assert_eq!(vds_source_file(vds_source_name(t).as_bytes()).as_deref(), Some(t.as_bytes()));
        }
        assert_eq!(vds_source_file(b"f-%b.h5"), None);
        assert_eq!(vds_source_file(b"f%"), None);
    }

    #[test]
    fn soft_link_paths() {
        let p = |l: &str, v: &str| soft_link_path(l.as_bytes(), v.as_bytes()).map(|c| c.into_string().unwrap());
        assert_eq!(p("s", "/g/x").as_deref(), Some("/g/x"));
        assert_eq!(p("g/s", "x").as_deref(), Some("g/x"));
        assert_eq!(p("/g/h/s", "../x").as_deref(), Some("/g/h/../x"));
        assert_eq!(p("s", "x").as_deref(), Some("x"));
        assert_eq!(p("/s", "x").as_deref(), Some("/x"));
        assert_eq!(p("s", ""), None);
    }

    use super::*;

    #[test]
    fn examples() {
        assert_eq!(relative_file(b"/g1/g2/temp").as_deref(), Some("g1/g2/temp.h5"));
        assert_eq!(relative_file(b"//g1/./g2//temp").as_deref(), Some("g1/g2/temp.h5"));
        assert_eq!(relative_file(b"/x").as_deref(), Some("x.h5"));
        assert_eq!(relative_file(b"/"), None);
        assert_eq!(relative_file(b"/x.h5/x").as_deref(), Some("x%2Eh5/x.h5"));
        assert_eq!(relative_file(b"/../a").as_deref(), Some("%2E%2E/a.h5"));
        assert_eq!(encode_component(b"..", Kind::Group), "%2E%2E");
        assert_eq!(encode_component(b".", Kind::Dataset), "%2E");
        assert_eq!(encode_component(b".hidden", Kind::Dataset), "%2Ehidden");
        assert_eq!(encode_component(b"Temp", Kind::Dataset), "Temp~1");
        assert_eq!(encode_component(b"TEMP", Kind::Dataset), "TEMP~f");
        assert_eq!(encode_component(b"a b ", Kind::Dataset), "a b%20");
        assert_eq!(encode_component(b"x.", Kind::Dataset), "x%2E");
        assert_eq!(encode_component(b"a:b*c?", Kind::Dataset), "a%3Ab%2Ac%3F");
        assert_eq!(encode_component(b"100%", Kind::Dataset), "100%25");
        assert_eq!(encode_component(b"con", Kind::Dataset), "%63on");
        assert_eq!(encode_component(b"nul.txt", Kind::Dataset), "%6Eul.txt");
        assert_eq!(encode_component("température".as_bytes(), Kind::Dataset), "température");
        assert_eq!(encode_component(b"bad\xffutf8", Kind::Dataset), "bad%FFutf8");
        assert_eq!(encode_component(b"tab\there", Kind::Dataset), "tab%09here");
        assert_eq!(encode_component(b"x~1", Kind::Dataset), "x%7E1");
        assert_eq!(hdf5_path_of("g1/Temp~1.h5").unwrap(), b"/g1/Temp");
    }

    #[test]
    fn alternates_map_back_to_the_same_dataset() {
        assert_eq!(alternate("g/x.h5", 1), "g/x~n1.h5");
        assert_eq!(alternate("g/Temp~1.h5", 12), "g/Temp~1~n12.h5");
        assert_eq!(hdf5_path_of("g/x~n1.h5").unwrap(), b"/g/x");
        assert_eq!(hdf5_path_of("g/Temp~1~n12.h5").unwrap(), b"/g/Temp");
        assert_eq!(primary("g/Temp~1~n12.h5"), "g/Temp~1.h5");
        assert_eq!(primary("x~n3.h5"), "x.h5");
        assert_eq!(primary("x.h5"), "x.h5");
        // A group is never an alternate, and names that only look like one are not.
        assert_eq!(hdf5_path_of("g~n1/x.h5"), None);
        assert_eq!(strip_alternate("x~n0"), ("x~n0", None));
        assert_eq!(strip_alternate("x~n"), ("x~n", None));
        // No dataset name encodes to something that looks like an alternate.
        assert_eq!(encode_component(b"x~n1", Kind::Dataset), "x%7En1");
    }

    #[test]
    fn split_dir_replaces_the_extension() {
        assert_eq!(split_dir(Path::new("/d/run.h5"), "-split"), Path::new("/d/run-split"));
        assert_eq!(split_dir(Path::new("out.nc"), "-split"), Path::new("out-split"));
        assert_eq!(split_dir(Path::new("/d/data"), "-split"), Path::new("/d/data-split"));
        assert_eq!(split_dir(Path::new("/d/a.tar.h5"), "_parts"), Path::new("/d/a.tar_parts"));
    }

    #[test]
    fn long_names_are_shortened_with_a_hash() {
        let long = vec![b'a'; 1000];
        let e = encode_component(&long, Kind::Dataset);
        assert!(e.len() + EXT.len() <= MAX_COMPONENT, "{}", e.len());
        assert!(e.contains("~~"));
        let mut other = long.clone();
        other[999] = b'b';
        assert_ne!(e, encode_component(&other, Kind::Dataset));
        assert_eq!(decode_component(&e, Kind::Dataset), None);
        // Still recognisable as a name the layout made (so truncation and gc can remove it).
        let rel = relative_file(&[b"/".as_slice(), &long, b"/", &other].concat()).unwrap();
        assert!(is_layout_name(&rel), "{rel}");
        assert!(is_layout_name(&alternate(&rel, 3)));
        assert!(!is_layout_name("notes.txt") && !is_layout_name("x~~123.h5") && !is_layout_name(".dset-split"));
    }
}
