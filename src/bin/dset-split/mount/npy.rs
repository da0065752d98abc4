//! The `.npy` view of a dataset: NumPy's file format (version 1.0, or 2.0 for long headers)
//! is a header describing the type and shape, then the raw bytes in C order, which is what
//! the dataset's own file shows. Pure: the header from a type description.

/// What the header needs to know of an HDF5 datatype.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elem {
    /// An integer of `size` bytes.
    Int { size: usize, signed: bool, big_endian: bool },
    /// An IEEE float of `size` bytes.
    Float { size: usize, big_endian: bool },
    /// A fixed-length byte string.
    Bytes { size: usize },
    /// Opaque bytes.
    Opaque { size: usize },
    /// A boolean of one byte (h5py's: an enum FALSE = 0, TRUE = 1 of 8-bit integers).
    Bool,
}

/// The NumPy type string of an element type (`<f8`, `|u1`, `|S10`), or None when NumPy has
/// no such type.
pub fn descr(e: Elem) -> Option<String> {
    let order = |size: usize, big: bool| {
        if size == 1 {
            '|'
        } else if big {
            '>'
        } else {
            '<'
        }
    };
    match e {
        Elem::Int { size: size @ (1 | 2 | 4 | 8), signed, big_endian } => {
            Some(format!("{}{}{size}", order(size, big_endian), if signed { 'i' } else { 'u' }))
        }
        Elem::Float { size: size @ (2 | 4 | 8), big_endian } => Some(format!("{}f{size}", order(size, big_endian))),
        Elem::Bytes { size } if size > 0 => Some(format!("|S{size}")),
        Elem::Opaque { size } if size > 0 => Some(format!("|V{size}")),
        Elem::Bool => Some("|b1".into()),
        _ => None,
    }
}

/// The `.npy` header (everything before the data) for an array of `descr` elements and
/// `shape` (empty: a scalar), padded so the data starts at a multiple of 64 bytes.
pub fn header(descr: &str, shape: &[u64]) -> Vec<u8> {
    let shape = match shape {
        [] => "()".to_string(),
        [n] => format!("({n},)"),
        dims => format!("({})", dims.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")),
    };
    let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // Version 1.0 has a 2-byte header length, 2.0 a 4-byte one; magic + version is 8 bytes.
    let total_for = |prefix: usize| (prefix + dict.len() + 1).div_ceil(64) * 64;
    let (version, len_bytes) = if total_for(10) - 10 <= 65535 { (1u8, 2) } else { (2u8, 4) };
    let prefix = 8 + len_bytes;
    let total = total_for(prefix);
    let hlen = total - prefix;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"\x93NUMPY");
    out.extend([version, 0]);
    if len_bytes == 2 {
        out.extend((hlen as u16).to_le_bytes());
    } else {
        out.extend((hlen as u32).to_le_bytes());
    }
    out.extend(dict.as_bytes());
    out.resize(total - 1, b' ');
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_follow_numpy() {
        assert_eq!(descr(Elem::Int { size: 1, signed: false, big_endian: false }).unwrap(), "|u1");
        assert_eq!(descr(Elem::Int { size: 4, signed: true, big_endian: true }).unwrap(), ">i4");
        assert_eq!(descr(Elem::Float { size: 8, big_endian: false }).unwrap(), "<f8");
        assert_eq!(descr(Elem::Float { size: 2, big_endian: false }).unwrap(), "<f2");
        assert_eq!(descr(Elem::Bytes { size: 7 }).unwrap(), "|S7");
        assert_eq!(descr(Elem::Opaque { size: 3 }).unwrap(), "|V3");
        assert_eq!(descr(Elem::Bool).unwrap(), "|b1");
        assert_eq!(descr(Elem::Int { size: 16, signed: true, big_endian: false }), None);
        assert_eq!(descr(Elem::Float { size: 16, big_endian: false }), None);
        assert_eq!(descr(Elem::Bytes { size: 0 }), None);
    }

    #[test]
    fn headers_are_aligned_and_say_the_shape() {
        for shape in [&[][..], &[5], &[2, 3], &[0, 4, 1]] {
            let h = header("<f8", shape);
            assert_eq!(h.len() % 64, 0);
            assert_eq!(&h[..8], b"\x93NUMPY\x01\x00");
            assert_eq!(u16::from_le_bytes([h[8], h[9]]) as usize + 10, h.len());
            assert_eq!(*h.last().unwrap(), b'\n');
            let text = std::str::from_utf8(&h[10..]).unwrap();
            assert!(text.starts_with("{'descr': '<f8', 'fortran_order': False, 'shape': ("), "{text}");
        }
        let text = |shape: &[u64]| String::from_utf8(header("|u1", shape)[10..].to_vec()).unwrap();
        assert!(text(&[5]).contains("'shape': (5,)"));
        assert!(text(&[]).contains("'shape': ()"));
        assert!(text(&[2, 3]).contains("'shape': (2, 3)"));
    }

    #[test]
    fn a_header_longer_than_version_1_allows_uses_version_2() {
        let descr = format!("|S{}", "9".repeat(70000));
        let h = header(&descr, &[1]);
        assert_eq!(&h[..8], b"\x93NUMPY\x02\x00");
        assert_eq!(u32::from_le_bytes(h[8..12].try_into().unwrap()) as usize + 12, h.len());
        assert_eq!(h.len() % 64, 0);
    }
}
