//! Reading a dataset's raw bytes through HDF5 (for data not stored as plain bytes: chunked,
//! compressed, virtual): the elements that hold the bytes asked for, selected as the few
//! rectangular blocks a run of elements in C order makes ([`blocks`]), read in the file's own
//! type (no conversion), so the bytes are what the file holds.

use std::ffi::CStr;

use dset_split::ffi::sys::h5::hsize_t;
use dset_split::ffi::sys::h5d::{H5Dget_space, H5Dget_type, H5Dopen2, H5Dread};
use dset_split::ffi::sys::h5i::hid_t;
use dset_split::ffi::sys::h5p::H5P_DEFAULT;
use dset_split::ffi::sys::h5s::{H5S_ALL, H5S_seloper_t, H5Screate_simple, H5Sselect_hyperslab, H5Sselect_none};
use dset_split::split::IdGuard;

use crate::h5::failed;

/// A block of a hyperslab: its start and its size in each dimension.
pub type Block = (Vec<u64>, Vec<u64>);

/// The blocks that together are the elements `first..end` (in C order) of an array of shape
/// `dims`, in that order: at most two per dimension, whatever the range.
pub fn blocks(dims: &[u64], first: u64, end: u64) -> Vec<Block> {
    fn go(dims: &[u64], prefix: &mut Vec<u64>, first: u64, end: u64, out: &mut Vec<Block>) {
        let d = prefix.len();
        let pad = |prefix: &[u64], rest: &[u64]| prefix.iter().chain(rest).copied().collect::<Vec<_>>();
        if d + 1 == dims.len() {
            let ones = vec![1; d];
            out.push((pad(prefix, &[first]), pad(&ones, &[end - first])));
            return;
        }
        let stride: u64 = dims[d + 1..].iter().product();
        let (mut a, ra, b, rb) = (first / stride, first % stride, end / stride, end % stride);
        if a == b {
            prefix.push(a);
            go(dims, prefix, ra, rb, out);
            prefix.pop();
            return;
        }
        if ra != 0 {
            prefix.push(a);
            go(dims, prefix, ra, stride, out);
            prefix.pop();
            a += 1;
        }
        if b > a {
            let start = pad(&pad(prefix, &[a]), &vec![0; dims.len() - d - 1]);
            let count = pad(&pad(&vec![1; d], &[b - a]), &dims[d + 1..]);
            out.push((start, count));
        }
        if rb != 0 {
            prefix.push(b);
            go(dims, prefix, 0, rb, out);
            prefix.pop();
        }
    }
    let mut out = Vec::new();
    if first < end && !dims.is_empty() {
        go(dims, &mut Vec::new(), first, end, &mut out);
    }
    out
}

/// Fills `buf` with the bytes at `at` of the dataset `path` of the open file `file`, of shape
/// `dims` (empty: a scalar) and elements of `elem` bytes.
pub fn read(file: hid_t, path: &CStr, dims: &[u64], elem: u64, at: u64, buf: &mut [u8]) -> Result<(), String> {
    let what = || failed(format!("cannot read {}", path.to_string_lossy()));
    let first = at / elem;
    let end = (at + buf.len() as u64).div_ceil(elem);
    let mut tmp = vec![0u8; ((end - first) * elem) as usize];
    // SAFETY: plain HDF5 calls on valid ids; the selection is `end - first` elements in the
    // file's own type, and `tmp` holds that many.
    unsafe {
        let d = IdGuard(H5Dopen2(file, path.as_ptr(), H5P_DEFAULT));
        let (space, t) = (IdGuard(H5Dget_space(d.0)), IdGuard(H5Dget_type(d.0)));
        if d.0 < 0 || space.0 < 0 || t.0 < 0 {
            return Err(what());
        }
        let ok = if dims.is_empty() {
            H5Dread(d.0, t.0, H5S_ALL, H5S_ALL, H5P_DEFAULT, tmp.as_mut_ptr().cast()) >= 0
        } else {
            let n = [end - first];
            let mem = IdGuard(H5Screate_simple(1, n.as_ptr(), std::ptr::null()));
            let mut ok = mem.0 >= 0 && H5Sselect_none(space.0) >= 0;
            for (start, count) in blocks(dims, first, end) {
                let (start, count): (Vec<hsize_t>, Vec<hsize_t>) = (start, count);
                ok = ok
                    && H5Sselect_hyperslab(
                        space.0,
                        H5S_seloper_t::H5S_SELECT_OR,
                        start.as_ptr(),
                        std::ptr::null(),
                        count.as_ptr(),
                        std::ptr::null(),
                    ) >= 0;
            }
            ok && H5Dread(d.0, t.0, mem.0, space.0, H5P_DEFAULT, tmp.as_mut_ptr().cast()) >= 0
        };
        if !ok {
            return Err(what());
        }
    }
    let skip = (at - first * elem) as usize;
    buf.copy_from_slice(&tmp[skip..skip + buf.len()]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flat (C order) indices of the elements of `blocks`, block after block.
    fn flat(dims: &[u64], blocks: &[Block]) -> Vec<u64> {
        let mut out = Vec::new();
        for (start, count) in blocks {
            let total: u64 = count.iter().product();
            for k in 0..total {
                let (mut rest, mut idx) = (k, 0u64);
                let mut pos = vec![0; dims.len()];
                for d in (0..dims.len()).rev() {
                    pos[d] = start[d] + rest % count[d];
                    rest /= count[d];
                }
                for d in 0..dims.len() {
                    idx = idx * dims[d] + pos[d];
                }
                out.push(idx);
            }
        }
        out
    }

    #[test]
    fn blocks_cover_exactly_the_range_in_order() {
        let shapes: [&[u64]; 6] = [&[10], &[3, 4], &[2, 3, 5], &[4, 1, 3, 2], &[1, 7], &[5, 1]];
        for dims in shapes {
            let n: u64 = dims.iter().product();
            for first in 0..n {
                for end in first + 1..=n {
                    let b = blocks(dims, first, end);
                    assert!(b.len() <= 2 * dims.len(), "{dims:?} {first}..{end}: {} blocks", b.len());
                    assert_eq!(flat(dims, &b), (first..end).collect::<Vec<_>>(), "{dims:?} {first}..{end}");
                }
            }
        }
    }

    #[test]
    fn a_long_last_dimension_is_read_in_part() {
        // (1, 64 Mi): 4 KiB of elements is one block of 4 Ki elements, not the whole row.
        assert_eq!(blocks(&[1, 64 << 20], 1000, 5096), vec![(vec![0, 1000], vec![1, 4096])]);
    }

    #[test]
    fn nothing_for_an_empty_range() {
        assert!(blocks(&[3, 4], 5, 5).is_empty());
    }
}
