//! An object's HDF5 attributes as extended attributes `user.NAME`: strings as their text,
//! numbers as decimal text (arrays as `[1, 2, 3]`), anything else as its raw bytes.

use std::ffi::{CStr, c_char, c_void};

use dset_split::ffi::sys::h5::{H5_index_t, H5_iter_order_t, herr_t};
use dset_split::ffi::sys::h5a::{H5A_info_t, H5Aget_space, H5Aget_type, H5Aiterate2, H5Aopen, H5Aread};
use dset_split::ffi::sys::h5i::hid_t;
use dset_split::ffi::sys::h5p::H5P_DEFAULT;
use dset_split::ffi::sys::h5s::H5Sget_simple_extent_npoints;
use dset_split::ffi::sys::h5t::{
    H5T_C_S1, H5T_NATIVE_DOUBLE, H5T_NATIVE_INT64, H5T_NATIVE_UINT64, H5T_VARIABLE, H5T_class_t, H5T_sign_t, H5Tcopy,
    H5Tdetect_class, H5Tget_class, H5Tget_cset, H5Tget_sign, H5Tget_size, H5Tis_variable_str, H5Treclaim, H5Tset_cset,
    H5Tset_size,
};
use dset_split::split::IdGuard;

/// Every attribute of `obj` as (`user.NAME`, value), in name order; attributes whose value
/// cannot be read are left out.
pub fn all(obj: hid_t) -> super::tree::Xattrs {
    unsafe extern "C" fn each(loc: hid_t, name: *const c_char, _: *const H5A_info_t, data: *mut c_void) -> herr_t {
        // SAFETY: HDF5 passes a NUL-terminated name; `data` is the Vec below.
        let (name, out) = unsafe { (CStr::from_ptr(name), &mut *data.cast::<Vec<(Vec<u8>, Vec<u8>)>>()) };
        if let Some(v) = value(loc, name) {
            out.push(([b"user.", name.to_bytes()].concat(), v));
        }
        0
    }
    let mut out: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    // SAFETY: a valid object; `each` only touches `out` during this call.
    unsafe {
        H5Aiterate2(
            obj,
            H5_index_t::H5_INDEX_NAME,
            H5_iter_order_t::H5_ITER_INC,
            std::ptr::null_mut(),
            Some(each),
            (&mut out as *mut Vec<(Vec<u8>, Vec<u8>)>).cast(),
        );
    }
    out
}

fn value(obj: hid_t, name: &CStr) -> Option<Vec<u8>> {
    // SAFETY: plain HDF5 calls on valid ids; buffers are sized from the attribute's own space
    // and type, and variable-length strings are reclaimed after use.
    unsafe {
        let a = IdGuard(H5Aopen(obj, name.as_ptr(), H5P_DEFAULT));
        let (space, t) = (IdGuard(H5Aget_space(a.0)), IdGuard(H5Aget_type(a.0)));
        let n = usize::try_from(H5Sget_simple_extent_npoints(space.0)).ok()?;
        if a.0 < 0 || t.0 < 0 {
            return None;
        }
        match H5Tget_class(t.0) {
            H5T_class_t::H5T_STRING if H5Tis_variable_str(t.0) > 0 => {
                let mem = IdGuard(H5Tcopy(*H5T_C_S1));
                H5Tset_size(mem.0, H5T_VARIABLE);
                H5Tset_cset(mem.0, H5Tget_cset(t.0));
                let mut ptrs = vec![std::ptr::null_mut::<c_char>(); n];
                if H5Aread(a.0, mem.0, ptrs.as_mut_ptr().cast()) < 0 {
                    return None;
                }
                let texts: Vec<Vec<u8>> = ptrs
                    .iter()
                    .map(|&p| if p.is_null() { Vec::new() } else { CStr::from_ptr(p).to_bytes().to_vec() })
                    .collect();
                H5Treclaim(mem.0, space.0, H5P_DEFAULT, ptrs.as_mut_ptr().cast());
                Some(texts.join(&b"\n"[..]))
            }
            H5T_class_t::H5T_STRING => {
                let size = H5Tget_size(t.0);
                let mut buf = vec![0u8; size * n];
                if H5Aread(a.0, t.0, buf.as_mut_ptr().cast()) < 0 {
                    return None;
                }
                let texts: Vec<&[u8]> =
                    buf.chunks(size.max(1)).map(|s| &s[..s.iter().position(|&b| b == 0).unwrap_or(s.len())]).collect();
                Some(texts.join(&b"\n"[..]))
            }
            H5T_class_t::H5T_INTEGER if H5Tget_sign(t.0) == H5T_sign_t::H5T_SGN_NONE => {
                let mut v = vec![0u64; n];
                (H5Aread(a.0, *H5T_NATIVE_UINT64, v.as_mut_ptr().cast()) >= 0).then(|| numbers(&v, space.0))
            }
            H5T_class_t::H5T_INTEGER | H5T_class_t::H5T_ENUM => {
                let mut v = vec![0i64; n];
                (H5Aread(a.0, *H5T_NATIVE_INT64, v.as_mut_ptr().cast()) >= 0).then(|| numbers(&v, space.0))
            }
            H5T_class_t::H5T_FLOAT => {
                let mut v = vec![0f64; n];
                (H5Aread(a.0, *H5T_NATIVE_DOUBLE, v.as_mut_ptr().cast()) >= 0).then(|| numbers(&v, space.0))
            }
            // Pointers or addresses: nothing to show outside HDF5.
            H5T_class_t::H5T_VLEN | H5T_class_t::H5T_REFERENCE => None,
            _ if H5Tdetect_class(t.0, H5T_class_t::H5T_VLEN) > 0
                || H5Tdetect_class(t.0, H5T_class_t::H5T_REFERENCE) > 0 =>
            {
                None
            }
            _ => {
                let mut buf = vec![0u8; H5Tget_size(t.0) * n];
                (H5Aread(a.0, t.0, buf.as_mut_ptr().cast()) >= 0).then_some(buf)
            }
        }
    }
}

/// Numbers as text: one number for a scalar, `[a, b, ...]` for an array.
fn numbers<T: std::fmt::Display>(v: &[T], space: hid_t) -> Vec<u8> {
    // SAFETY: a valid dataspace.
    let scalar = unsafe { dset_split::ffi::sys::h5s::H5Sget_simple_extent_ndims(space) } == 0;
    let items: Vec<String> = v.iter().map(T::to_string).collect();
    if scalar && items.len() == 1 {
        items[0].clone().into_bytes()
    } else {
        format!("[{}]", items.join(", ")).into_bytes()
    }
}
