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

/// Whether the virtual dataset `d`'s only mapping gives it the whole of its source as it is
/// (`source`, open): the same shape and type, both selections covering everything from the
/// start (all, or one regular hyperslab of adjacent blocks, unlimited allowed). Then its bytes are
/// the source's, read from there; any other mapping is read through HDF5.
pub fn whole_source(d: hid_t, source: hid_t) -> bool {
    use dset_split::ffi::sys::h5d::{H5Dget_space, H5Dget_type};
    use dset_split::ffi::sys::h5p::{H5Pget_virtual_srcspace, H5Pget_virtual_vspace};
    use dset_split::ffi::sys::h5s::{
        H5S_UNLIMITED, H5S_sel_type, H5Sget_regular_hyperslab, H5Sget_select_type, H5Sget_simple_extent_dims,
        H5Sget_simple_extent_ndims, H5Sis_regular_hyperslab,
    };
    use dset_split::ffi::sys::h5t::H5Tequal;
    // SAFETY: queries on valid ids into buffers of the rank HDF5 reports; ids are released by
    // `IdGuard`.
    unsafe {
        let dims = |space: hid_t| {
            let n = H5Sget_simple_extent_ndims(space).max(0) as usize;
            let mut v = vec![0u64; n];
            H5Sget_simple_extent_dims(space, v.as_mut_ptr(), std::ptr::null_mut());
            v
        };
        let covers = |space: hid_t, extent: &[u64]| -> bool {
            match H5Sget_select_type(space) {
                H5S_sel_type::H5S_SEL_ALL => true,
                H5S_sel_type::H5S_SEL_HYPERSLABS if H5Sis_regular_hyperslab(space) > 0 => {
                    let n = extent.len();
                    let (mut start, mut stride, mut count, mut block) =
                        (vec![0u64; n], vec![0u64; n], vec![0u64; n], vec![0u64; n]);
                    if H5Sget_regular_hyperslab(
                        space,
                        start.as_mut_ptr(),
                        stride.as_mut_ptr(),
                        count.as_mut_ptr(),
                        block.as_mut_ptr(),
                    ) < 0
                    {
                        return false;
                    }
                    (0..n).all(|i| {
                        start[i] == 0
                            && (count[i] == 1 || stride[i] == block[i])
                            && (count[i] == H5S_UNLIMITED || count[i].saturating_mul(block[i]) >= extent[i])
                    })
                }
                _ => false,
            }
        };
        let dcpl = IdGuard(H5Dget_create_plist(d));
        let (vspace, sspace) = (IdGuard(H5Pget_virtual_vspace(dcpl.0, 0)), IdGuard(H5Pget_virtual_srcspace(dcpl.0, 0)));
        let (dspace, srcspace) = (IdGuard(H5Dget_space(d)), IdGuard(H5Dget_space(source)));
        let (dtype, stype) = (IdGuard(H5Dget_type(d)), IdGuard(H5Dget_type(source)));
        if [dcpl.0, vspace.0, sspace.0, dspace.0, srcspace.0, dtype.0, stype.0].iter().any(|&id| id < 0) {
            return false;
        }
        let (vdims, sdims) = (dims(dspace.0), dims(srcspace.0));
        vdims == sdims
            && H5Tequal(dtype.0, stype.0) > 0
            && covers(vspace.0, &dims(vspace.0))
            && covers(sspace.0, &dims(sspace.0))
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
