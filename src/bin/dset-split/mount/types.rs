//! What HDF5 says about a dataset that the mount needs: the sources of a virtual dataset, and
//! the element type in NumPy's terms for the `.npy` view.

use std::ffi::CStr;

use dset_split::ffi::sys::h5d::{H5D_layout_t, H5Dget_create_plist};
use dset_split::ffi::sys::h5i::hid_t;
use dset_split::ffi::sys::h5p::H5Pget_layout;
use dset_split::ffi::sys::h5t::{
    H5T_class_t, H5T_order_t, H5T_sign_t, H5Tget_class, H5Tget_order, H5Tget_sign, H5Tget_size, H5Tget_super,
};
use dset_split::split::IdGuard;

use super::npy;

/// The sources (file as written, `%%` undone; dataset) of the virtual dataset `d`; None when it
/// is not one, or names its files by a pattern (`%b`), which cannot be checked here.
pub fn virtual_sources(d: hid_t) -> Option<Vec<(String, String)>> {
    use dset_split::ffi::sys::h5p::{H5Pget_virtual_count, H5Pget_virtual_dsetname, H5Pget_virtual_filename};
    // SAFETY: queries on a valid property list, into buffers of the sizes HDF5 reports.
    unsafe {
        let dcpl = IdGuard(H5Dget_create_plist(d));
        if dcpl.0 < 0 || H5Pget_layout(dcpl.0) != H5D_layout_t::H5D_VIRTUAL {
            return None;
        }
        let mut count = 0usize;
        if H5Pget_virtual_count(dcpl.0, &mut count) < 0 {
            return None;
        }
        let text = |get: unsafe fn(hid_t, usize, *mut std::ffi::c_char, usize) -> isize, i: usize| {
            let len = usize::try_from(get(dcpl.0, i, std::ptr::null_mut(), 0)).ok()?;
            let mut buf = vec![0u8; len + 1];
            get(dcpl.0, i, buf.as_mut_ptr().cast(), buf.len());
            buf.truncate(len);
            Some(buf)
        };
        (0..count)
            .map(|i| {
                let file = dset_split::layout::vds_source_file(&text(H5Pget_virtual_filename, i)?)?;
                Some((String::from_utf8(file).ok()?, String::from_utf8(text(H5Pget_virtual_dsetname, i)?).ok()?))
            })
            .collect()
    }
}

/// The element type of a dataset for its `.npy` view, if NumPy has one.
pub fn elem(t: hid_t) -> Option<npy::Elem> {
    // SAFETY: a valid datatype; the super type of an enum is released by `IdGuard`.
    unsafe {
        let size = H5Tget_size(t);
        let big = H5Tget_order(t) == H5T_order_t::H5T_ORDER_BE;
        match H5Tget_class(t) {
            H5T_class_t::H5T_INTEGER | H5T_class_t::H5T_BITFIELD => {
                Some(npy::Elem::Int { size, signed: H5Tget_sign(t) == H5T_sign_t::H5T_SGN_2, big_endian: big })
            }
            H5T_class_t::H5T_FLOAT => Some(npy::Elem::Float { size, big_endian: big }),
            H5T_class_t::H5T_STRING => Some(npy::Elem::Bytes { size }),
            H5T_class_t::H5T_OPAQUE => Some(npy::Elem::Opaque { size }),
            H5T_class_t::H5T_ENUM if size == 1 && enum_names(t) == ["FALSE", "TRUE"] => Some(npy::Elem::Bool),
            H5T_class_t::H5T_ENUM => {
                let base = IdGuard(H5Tget_super(t));
                if base.0 < 0 { None } else { elem(base.0) }
            }
            _ => None,
        }
    }
}

/// The member names of the enum type `t`, in order.
fn enum_names(t: hid_t) -> Vec<String> {
    use dset_split::ffi::sys::h5t::{H5Tget_member_name, H5Tget_nmembers};
    // SAFETY: a valid enum type; each name HDF5 allocates is copied and freed with its allocator.
    unsafe {
        (0..H5Tget_nmembers(t).max(0) as u32)
            .map(|i| {
                let p = H5Tget_member_name(t, i);
                if p.is_null() {
                    return String::new();
                }
                let name = CStr::from_ptr(p).to_string_lossy().into_owned();
                dset_split::ffi::sys::h5::H5free_memory(p.cast());
                name
            })
            .collect()
    }
}
