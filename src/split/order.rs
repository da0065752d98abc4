//! Link creation order kept across link edits. A group that tracks creation order lists its links
//! in the order they were made (netCDF-4 files depend on it); replacing a link (delete, create)
//! would move it to the end. After an edit, every link from the first one out of place onwards is
//! moved away and back, in the old order, which gives them new creation order values in it.

use std::ffi::{CStr, CString, c_char, c_void};

use crate::below::Below;
use crate::conn_info::Plist;
use crate::error::{Error, Result, quietly};
use crate::ffi::{self, H5L_info2_t, H5VL_LINK_ITER, H5VL_link_specific_args_t, herr_t, hid_t};

/// One link of a group: its name and character set.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Link {
    name: Vec<u8>,
    cset: i32,
}

unsafe extern "C" fn collect(
    _group: hid_t,
    name: *const c_char,
    info: *const H5L_info2_t,
    data: *mut c_void,
) -> herr_t {
    // SAFETY: HDF5 passes a valid name and info; `data` is the vector of `links_in_order`.
    let (found, name, info) = unsafe { (&mut *data.cast::<Vec<Link>>(), CStr::from_ptr(name), &*info) };
    found.push(Link { name: name.to_bytes().to_vec(), cset: info.cset });
    0
}

/// The links of the group `group` (relative to `at`) in creation order; None when the group does
/// not track it (or cannot be listed by it).
fn links_in_order(at: &Below, group: &CStr, dxpl: hid_t) -> Option<Vec<Link>> {
    let loc = at.loc_by_name(group);
    let mut found: Vec<Link> = Vec::new();
    let mut args = H5VL_link_specific_args_t {
        op_type: H5VL_LINK_ITER,
        args: ffi::H5VL_link_specific_args_u {
            iterate: ffi::H5VL_link_iterate_args_t {
                recursive: false,
                idx_type: 1, // H5_INDEX_CRT_ORDER
                order: 0,    // H5_ITER_INC
                idx_p: std::ptr::null_mut(),
                op: Some(collect),
                op_data: (&mut found as *mut Vec<Link>).cast(),
            },
        },
    };
    // SAFETY: our own argument struct and callback, which only reads its arguments.
    let rc = quietly(|| unsafe { ffi::H5VLlink_specific(at.obj, &loc, at.vol, &mut args, dxpl, std::ptr::null_mut()) });
    (rc >= 0).then_some(found)
}

/// A link creation property list with character set `cset` (for names moved or made again).
pub(crate) fn lcpl_for(cset: i32) -> Result<Plist> {
    // SAFETY: creates our own property list; checked.
    let lcpl = Plist(unsafe { crate::ffi::sys::h5p::H5Pcreate(*crate::ffi::sys::h5p::H5P_CLS_LINK_CREATE) });
    use crate::ffi::sys::h5t::H5T_cset_t;
    let cset =
        if cset == H5T_cset_t::H5T_CSET_UTF8 as i32 { H5T_cset_t::H5T_CSET_UTF8 } else { H5T_cset_t::H5T_CSET_ASCII };
    // SAFETY: sets a property on our own list, checked to be valid first.
    if lcpl.0 < 0 || unsafe { crate::ffi::sys::h5p::H5Pset_char_encoding(lcpl.0, cset) } < 0 {
        return Err(Error::library("cannot prepare link creation properties"));
    }
    Ok(lcpl)
}

/// `base/rest` as a C string (`base` alone when `rest` is empty): a path below a location.
pub(super) fn join(base: &[u8], rest: &[u8]) -> Result<CString> {
    let mut p = base.to_vec();
    if !rest.is_empty() {
        if !p.is_empty() && p.last() != Some(&b'/') {
            p.push(b'/');
        }
        p.extend_from_slice(rest);
    }
    CString::new(p).map_err(|_| Error::arg("a name holds a NUL byte"))
}

/// Runs `edit` on links of the group `group` (relative to `at`), then puts the group's links
/// back in their creation order if it tracks one.
pub(crate) fn keep_order<R>(at: &Below, group: &CStr, dxpl: hid_t, edit: impl FnOnce() -> Result<R>) -> Result<R> {
    let Some(before) = links_in_order(at, group, dxpl) else { return edit() };
    let out = edit()?;
    let after = links_in_order(at, group, dxpl).unwrap_or_default();
    let Some(first) = before.iter().zip(&after).position(|(b, a)| b.name != a.name) else {
        return Ok(out);
    };
    let taken: Vec<&[u8]> = after.iter().map(|l| l.name.as_slice()).collect();
    let mut parked = Vec::new();
    for (i, link) in before[first..].iter().enumerate() {
        let mut n = i;
        let tmp = loop {
            let t = format!(".dset-split-reorder-{n}").into_bytes();
            if !taken.contains(&t.as_slice()) {
                break t;
            }
            n += before.len();
        };
        let (from, to) = (join(group.to_bytes(), &link.name)?, join(group.to_bytes(), &tmp)?);
        move_link(at, &from, &to, link.cset, dxpl)?;
        parked.push((to, from, link.cset));
    }
    for (tmp, name, cset) in parked {
        move_link(at, &tmp, &name, cset, dxpl)?;
    }
    Ok(out)
}

/// `H5Lmove` within the file of `at`, through the connector below.
fn move_link(at: &Below, from: &CStr, to: &CStr, cset: i32, dxpl: hid_t) -> Result<()> {
    let lcpl = lcpl_for(cset)?;
    let (l1, l2) = (at.loc_by_name(from), at.loc_by_name(to));
    // SAFETY: valid locations and names in one file of the connector below.
    let rc = unsafe {
        ffi::H5VLlink_move(
            at.obj,
            &l1,
            at.obj,
            &l2,
            at.vol,
            lcpl.0,
            crate::below::default_lapl(),
            dxpl,
            std::ptr::null_mut(),
        )
    };
    if rc < 0 {
        return Err(Error::library(format!(
            "cannot restore the creation order of the link {}",
            from.to_string_lossy()
        )));
    }
    Ok(())
}
