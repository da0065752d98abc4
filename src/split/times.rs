//! Deterministic bytes: creation properties without object times, and intermediate groups made
//! without them.

use std::ffi::{CStr, CString, c_char, c_uint};
use std::sync::Arc;

use crate::ffi::sys::h5p::{H5Pcopy, H5Pcreate, H5Pget_create_intermediate_group, H5Pset_obj_track_times};

use super::Obj;
use super::*;
use crate::below::{self, Below};
use crate::conn_info::Plist;
use crate::error::{Error, Result, preserving_stack, quietly};
use crate::ffi::{self, H5VL_OBJECT_BY_SELF, H5VL_loc_params_t, hid_t};
use crate::layout::{self};

/// Creation properties to use instead of the application's: `.0` is the list's id; the list is
/// ours (closed when this is dropped) or a per-file cached copy of a default list.
#[derive(Debug)]
pub struct Timeless(pub hid_t, #[allow(dead_code)] Arc<Plist>);

/// The object creation property list `plist_id` (gcpl, dcpl, tcpl, fcpl) without object times,
/// when the main file's policy says so (`track_times=off`, the default); None keeps the
/// application's list.
pub fn without_times(ctx: Option<&Arc<FileCtx>>, plist_id: hid_t) -> Result<Option<Timeless>> {
    match ctx {
        Some(ctx) if !ctx.policy.track_times => timeless(ctx, plist_id).map(Some),
        _ => Ok(None),
    }
}

/// `plist_id` without object times: a copy made now, or for one of HDF5's default lists (what
/// `H5P_DEFAULT` stands for by the time the connector sees it) a copy made once per file.
pub(super) fn timeless(ctx: &FileCtx, plist_id: hid_t) -> Result<Timeless> {
    use crate::ffi::sys::h5p::{H5P_LST_DATASET_CREATE, H5P_LST_DATATYPE_CREATE, H5P_LST_GROUP_CREATE};
    let copy = || {
        // SAFETY: copies HDF5's own property list; checked.
        let copy = Plist(unsafe { H5Pcopy(plist_id) });
        // SAFETY: sets a property on our own list, checked to be valid first.
        if copy.0 < 0 || unsafe { H5Pset_obj_track_times(copy.0, 0) } < 0 {
            return Err(Error::library("cannot prepare creation properties without object times"));
        }
        Ok(Arc::new(copy))
    };
    // HDF5's global default list ids (the library is initialised: we are in a callback).
    let is_default = plist_id == *H5P_LST_DATASET_CREATE
        || plist_id == *H5P_LST_GROUP_CREATE
        || plist_id == *H5P_LST_DATATYPE_CREATE;
    if !is_default {
        let list = copy()?;
        return Ok(Timeless(list.0, list));
    }
    let mut cache = ctx.timeless_defaults.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, list)) = cache.iter().find(|(id, _)| *id == plist_id) {
        return Ok(Timeless(list.0, list.clone()));
    }
    let list = copy()?;
    cache.push((plist_id, list.clone()));
    Ok(Timeless(list.0, list))
}

/// When the link creation properties ask HDF5 to create missing parent groups and the main file
/// records no times: creates those groups first, without times (HDF5 would create them with its
/// default properties, which record times in newer file formats).
pub fn make_parents_without_times(
    ctx: Option<&FileCtx>,
    at: &Below,
    name: &CStr,
    lcpl_id: hid_t,
    dxpl: hid_t,
) -> Result<()> {
    match ctx {
        Some(ctx) if !ctx.policy.track_times && !ctx.read_only => {}
        _ => return Ok(()),
    }
    let mut intermediate: c_uint = 0;
    // SAFETY: queries HDF5's own link creation property list.
    if unsafe { H5Pget_create_intermediate_group(lcpl_id, &mut intermediate) } < 0 || intermediate == 0 {
        return Ok(());
    }
    let parts = layout::components(name.to_bytes());
    let Some((_, groups)) = parts.split_last() else { return Ok(()) };
    if groups.is_empty() {
        return Ok(());
    }
    // SAFETY: creates our own property list; checked.
    let gcpl = Plist(unsafe { H5Pcreate(*crate::ffi::sys::h5p::H5P_CLS_GROUP_CREATE) });
    // SAFETY: sets a property on our own list, checked to be valid first.
    if gcpl.0 < 0 || unsafe { H5Pset_obj_track_times(gcpl.0, 0) } < 0 {
        return Err(Error::library("cannot prepare group creation properties"));
    }
    let mut prefix: Vec<u8> = if name.to_bytes().first() == Some(&b'/') { b"/".to_vec() } else { Vec::new() };
    for g in groups {
        if !prefix.is_empty() && prefix.last() != Some(&b'/') {
            prefix.push(b'/');
        }
        prefix.extend_from_slice(g);
        let c = CString::new(prefix.clone()).map_err(|_| Error::arg("a name holds a NUL byte"))?;
        if quietly(|| at.link_exists(&c, dxpl)).unwrap_or(true) {
            continue;
        }
        let loc = at.loc_self();
        // SAFETY: creates one missing group (its parent exists now) with our properties.
        let group = unsafe {
            ffi::H5VLgroup_create(
                at.obj,
                &loc,
                at.vol,
                c.as_ptr(),
                below::default_lcpl(),
                gcpl.0,
                *crate::ffi::sys::h5p::H5P_LST_GROUP_ACCESS,
                dxpl,
                std::ptr::null_mut(),
            )
        };
        if group.is_null() {
            return Err(Error::library(format!("cannot create the group {}", c.to_string_lossy())));
        }
        // SAFETY: closes the group just made.
        preserving_stack(|| unsafe { ffi::H5VLgroup_close(group, at.vol, dxpl, std::ptr::null_mut()) });
    }
    Ok(())
}

/// [`make_parents_without_times`] for a callback's `(obj, loc_params, name)` about to create
/// `name` with `lcpl_id` (BY_SELF locations only; anything else is left to HDF5).
///
/// # Safety
/// `loc` and `name` are NULL or HDF5's valid arguments.
pub unsafe fn parents_for(
    obj: &Obj,
    loc: *const H5VL_loc_params_t,
    name: *const c_char,
    lcpl_id: hid_t,
    dxpl: hid_t,
) -> Result<()> {
    if loc.is_null() || name.is_null() || obj.ctx.is_none() {
        return Ok(());
    }
    // SAFETY: by the contract above.
    let (loc, name) = unsafe { (&*loc, CStr::from_ptr(name)) };
    if loc.type_ != H5VL_OBJECT_BY_SELF {
        return Ok(());
    }
    let at = Below { obj: obj.under_object, vol: obj.under_vol_id, obj_type: loc.obj_type };
    make_parents_without_times(obj.ctx.as_deref(), &at, name, lcpl_id, dxpl)
}

/// [`parents_for`] for a link callback whose location names the new link (BY_NAME).
///
/// # Safety
/// `loc` is NULL or HDF5's valid location parameters.
pub unsafe fn parents_for_link(obj: &Obj, loc: *const H5VL_loc_params_t, lcpl_id: hid_t, dxpl: hid_t) -> Result<()> {
    if loc.is_null() || obj.ctx.is_none() {
        return Ok(());
    }
    // SAFETY: by the contract above.
    let loc = unsafe { &*loc };
    if loc.type_ != ffi::H5VL_OBJECT_BY_NAME {
        return Ok(());
    }
    // SAFETY: for BY_NAME the union holds `loc_by_name`, with a NUL-terminated name.
    let name = unsafe { CStr::from_ptr(loc.loc_data.loc_by_name.name) };
    let at = Below { obj: obj.under_object, vol: obj.under_vol_id, obj_type: loc.obj_type };
    make_parents_without_times(obj.ctx.as_deref(), &at, name, lcpl_id, dxpl)
}
