//! Anonymous datasets (`H5Dcreate_anon` + `H5Olink`, as h5py's `group[name] = data` does):
//! split when they are linked.

use std::ffi::{CStr, c_void};
use std::sync::Arc;

use crate::ffi::sys::h5s::H5Sget_simple_extent_npoints;
use crate::ffi::sys::h5t::H5Tget_size;

use super::Obj;
use super::*;
use crate::below::{self, Below};
use crate::conn_info::Plist;
use crate::error::{Result, preserving_stack, quietly};
use crate::ffi::{self, H5VL_loc_params_t, hid_t};
use crate::policy::Form;
use crate::trace;

/// The creation properties for an anonymous dataset (`H5Dcreate_anon`) made while splitting is on:
/// the application's, without object times, because the dataset may move into a split file when
/// it is linked (and split files record no times). None: use the application's as they are.
pub fn anonymous_dcpl(parent: &Obj, dcpl_id: hid_t) -> Result<Option<Timeless>> {
    match parent.ctx.as_ref() {
        Some(ctx) if ctx.policy.split && !ctx.read_only => timeless(ctx, dcpl_id).map(Some),
        _ => Ok(None),
    }
}

/// `H5Olink` of an anonymous dataset (h5py's `group[name] = data` makes datasets this way): if the
/// policy splits its path, the dataset moves into a split file of its own and the name becomes an
/// external link, as for `H5Dcreate2`. The application's dataset id is switched to the split
/// dataset, so what it writes afterwards lands there; the anonymous original is released (HDF5
/// deletes an object nothing links to when it closes). `Ok(false)`: link it as usual.
///
/// # Safety
/// `target_ptr`/`target` is the dataset wrapper HDF5 passed (nothing else borrows it during the
/// call); `link_at`/`loc` the link location; the ids are HDF5's own.
pub unsafe fn link_anonymous(
    target_ptr: *mut c_void,
    target: &Obj,
    link_at: &Obj,
    loc: &H5VL_loc_params_t,
    lcpl: hid_t,
    dxpl: hid_t,
) -> Result<bool> {
    let Some(ctx) = link_at.ctx.as_ref() else { return Ok(false) };
    if !target.anonymous || target.split.is_some() || ctx.read_only || loc.type_ != ffi::H5VL_OBJECT_BY_NAME {
        return Ok(false); // an object that had a name (unlinked since, maybe open twice) stays itself
    }
    if !target.ctx.as_ref().is_some_and(|t| t.same_file(ctx)) {
        return Ok(false); // into another file: HDF5 refuses it, as natively
    }
    let vol = target.under_vol_id;
    let dset = Below { obj: target.under_object, vol, obj_type: ffi::H5I_DATASET };
    if quietly(|| dset.path(dxpl)).ok().flatten().is_some() {
        return Ok(false); // not anonymous: an ordinary hard link
    }
    if quietly(|| dset.token(dxpl)).map_or(true, |t| super::xref::is_referenced(ctx, &t)) {
        return Ok(false); // a reference or a handle opened by one would stay on the original
    }
    // SAFETY: for BY_NAME the union holds `loc_by_name`, with a NUL-terminated name.
    let name = unsafe { CStr::from_ptr(loc.loc_data.loc_by_name.name) };
    let at = Below { obj: link_at.under_object, vol: link_at.under_vol_id, obj_type: loc.obj_type };
    if !ctx.holds(&at, name.to_bytes(), dxpl) {
        return Ok(false); // linked in a file mounted below the main file: it stays there
    }
    let Some(path) = absolute_path(&at, name.to_bytes(), dxpl)? else { return Ok(false) };
    // What would keep it in the main file, as for H5Dcreate2.
    let query = |op| quietly(|| dset.dataset_get_id(op, dxpl));
    let (Ok(type_id), Ok(space_id), Ok(dcpl)) = (
        query(ffi::H5VL_DATASET_GET_TYPE).map(IdGuard),
        query(ffi::H5VL_DATASET_GET_SPACE).map(IdGuard),
        query(ffi::H5VL_DATASET_GET_DCPL).map(Plist),
    ) else {
        return Ok(false);
    };
    // SAFETY: HDF5's own ids, just obtained.
    if let Some(reason) = unsafe { structural_reason(type_id.0, dcpl.0) } {
        trace!("dataset {} stays in the main file: {reason}", String::from_utf8_lossy(&path));
        return Ok(false);
    }
    // SAFETY: plain queries on valid ids.
    let planned = unsafe {
        (H5Sget_simple_extent_npoints(space_id.0).max(0) as u64).saturating_mul(H5Tget_size(type_id.0) as u64)
    };
    if let Err(reason) = ctx.policy.decide(&path, planned) {
        trace!("dataset {} stays in the main file: {reason}", String::from_utf8_lossy(&path));
        return Ok(false);
    }
    check_name_is_free(&at, name.to_bytes(), lcpl, dxpl)?;
    // The virtual form, as for H5Dcreate2, unless its mapping cannot hold it or it has
    // attributes already (they stay with the object in its split file, in the link form).
    // SAFETY: a valid dataspace id.
    let form = match (ctx.policy.layout, unsafe { mapping_of(space_id.0) }) {
        (Form::Virtual, Ok(_)) if quietly(|| dset.attribute_count(dxpl)).is_ok_and(|n| n == 0) => Form::Virtual,
        _ => Form::Link,
    };
    crate::lifecycle::reclaim_name(ctx, &at, &path, dxpl);
    let mut place = Place::prepare(ctx, &path)?;
    let result = (|| -> Result<(*mut c_void, Option<*mut c_void>)> {
        let self_loc = dset.loc_self();
        // SAFETY: the anonymous dataset (as it is now) is copied by its own location.
        let copy = unsafe {
            place.copy_into(
                ctx,
                vol,
                Source { obj: target.under_object, loc: &self_loc, name: c"." },
                *crate::ffi::sys::h5p::H5P_LST_OBJECT_COPY,
                true,
                dxpl,
            )
        }?;
        let linked = make_parents_without_times(Some(ctx), &at, name, lcpl, dxpl).and_then(|()| match form {
            Form::Link => at.create_external_link(name, &place.target(ctx), lcpl, dxpl).map(|()| (copy, None)),
            Form::Virtual => {
                let args = CreateArgs {
                    loc_params: &at.loc_self(),
                    name: name.as_ptr(),
                    lcpl_id: lcpl,
                    type_id: type_id.0,
                    space_id: space_id.0,
                    dcpl_id: dcpl.0,
                    dapl_id: below::default_dapl(),
                    dxpl_id: dxpl,
                };
                // SAFETY: valid ids, at the link's location.
                unsafe { create_virtual(ctx, &at, &at.loc_self(), name, &args, &place.target(ctx)) }
                    .map(|object| (object, Some(copy)))
            }
        });
        if linked.is_err() {
            // SAFETY: closes the copy made above.
            preserving_stack(|| unsafe { ffi::H5VLdataset_close(copy, vol, dxpl, std::ptr::null_mut()) });
        }
        at.flush(dxpl); // durability, as for H5Dcreate2
        linked
    })();
    let (copy, data) = match result {
        Ok(c) => c,
        Err(e) => {
            place.remove();
            return Err(e);
        }
    };
    // Tracked in the context of the wrapper's own handle of the file (the one its close untracks
    // from), which may be another handle than the one holding the new link.
    let own = target.ctx.clone().unwrap_or_else(|| ctx.clone());
    // Switch the application's dataset to the split copy, and release the anonymous original.
    let original = target.under_object;
    // SAFETY: by the contract above nothing else borrows the wrapper now; `target` is not used
    // after this write.
    unsafe { (*target_ptr.cast::<Obj>()).under_object = copy };
    // SAFETY: closes the anonymous original (HDF5 deletes it: nothing links to it).
    preserving_stack(|| unsafe { ffi::H5VLdataset_close(original, vol, dxpl, std::ptr::null_mut()) });
    let file: Arc<str> = Arc::from(place.target(ctx));
    crate::lifecycle::count_new_link(ctx, &file);
    // SAFETY: the wrapper now holds the split dataset (or its virtual form and its source).
    unsafe {
        match data {
            None => own.track(target_ptr, SplitInfo::new(file, path)),
            Some(obj) => {
                Obj::set_data(target_ptr, Data { obj, file: file.clone() });
                own.track_virtual(target_ptr, SplitInfo::new(file, path).with_form(Form::Virtual));
            }
        }
    }
    trace!("anonymous dataset linked as {} moved to {}", name.to_string_lossy(), place.file_path.display());
    Ok(true)
}
