//! Reading a dataset's raw bytes through HDF5 (for data not stored as plain bytes: chunked or
//! compressed): the whole rows of the first dimension that cover the bytes asked for, in the
//! file's own type (no conversion), so the bytes are what the file holds.

use std::ffi::CStr;

use dset_split::ffi::sys::h5::hsize_t;
use dset_split::ffi::sys::h5d::{H5Dget_space, H5Dget_type, H5Dopen2, H5Dread};
use dset_split::ffi::sys::h5i::hid_t;
use dset_split::ffi::sys::h5p::H5P_DEFAULT;
use dset_split::ffi::sys::h5s::{
    H5S_ALL, H5S_seloper_t, H5Screate_simple, H5Sget_simple_extent_dims, H5Sget_simple_extent_ndims,
    H5Sselect_hyperslab,
};
use dset_split::split::IdGuard;

use crate::h5::failed;

/// Fills `buf` with the bytes at `at` of the dataset `path` of the open file `file`, whose
/// first dimension has `rows` rows of `row` bytes (a scalar: one row).
pub fn rows(file: hid_t, path: &CStr, rows: u64, row: u64, at: u64, buf: &mut [u8]) -> Result<(), String> {
    let what = || failed(format!("cannot read {}", path.to_string_lossy()));
    let first = at / row;
    let last = (at + buf.len() as u64).div_ceil(row).min(rows);
    let mut tmp = vec![0u8; ((last - first) * row) as usize];
    // SAFETY: plain HDF5 calls on valid ids; the selection is (last - first) rows of `row`
    // bytes in the file's own type, and `tmp` is that long.
    unsafe {
        let d = IdGuard(H5Dopen2(file, path.as_ptr(), H5P_DEFAULT));
        let (space, t) = (IdGuard(H5Dget_space(d.0)), IdGuard(H5Dget_type(d.0)));
        if d.0 < 0 || space.0 < 0 || t.0 < 0 {
            return Err(what());
        }
        let n = H5Sget_simple_extent_ndims(space.0).max(0) as usize;
        let ok = if n == 0 {
            H5Dread(d.0, t.0, H5S_ALL, H5S_ALL, H5P_DEFAULT, tmp.as_mut_ptr().cast()) >= 0
        } else {
            let mut dims = vec![0 as hsize_t; n];
            H5Sget_simple_extent_dims(space.0, dims.as_mut_ptr(), std::ptr::null_mut());
            let mut start = vec![0 as hsize_t; n];
            start[0] = first;
            dims[0] = last - first;
            let mem = IdGuard(H5Screate_simple(n as i32, dims.as_ptr(), std::ptr::null()));
            mem.0 >= 0
                && H5Sselect_hyperslab(
                    space.0,
                    H5S_seloper_t::H5S_SELECT_SET,
                    start.as_ptr(),
                    std::ptr::null(),
                    dims.as_ptr(),
                    std::ptr::null(),
                ) >= 0
                && H5Dread(d.0, t.0, mem.0, space.0, H5P_DEFAULT, tmp.as_mut_ptr().cast()) >= 0
        };
        if !ok {
            return Err(what());
        }
    }
    let skip = (at - first * row) as usize;
    buf.copy_from_slice(&tmp[skip..skip + buf.len()]);
    Ok(())
}
