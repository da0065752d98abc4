//! `link_cls`: links (hard, soft, external, user-defined), forwarded to the connector below.

use std::ffi::c_void;

use crate::boundary::guard;
use crate::error::Error;
use crate::ffi::{
    self, H5VL_LINK_CREATE_HARD, H5VL_link_create_args_t, H5VL_link_get_args_t, H5VL_link_specific_args_t,
    H5VL_loc_params_t, H5VL_optional_args_t, herr_t, hid_t,
};
use crate::object::{Obj, forward, wrap_request};
use std::ffi::{CStr, CString};

use crate::below::Below;
use crate::error::quietly;
use crate::{below, lifecycle, split};

type Req = *mut *mut c_void;

/// `link_cls.create`: the location object may be NULL for a hard link (`H5L_SAME_LOC`), in
/// which case the target object names the connector below.
pub unsafe extern "C" fn create<const K: usize>(
    args: *mut H5VL_link_create_args_t,
    obj: *mut c_void,
    loc_params: *const H5VL_loc_params_t,
    lcpl_id: hid_t,
    lapl_id: hid_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "link_create", || {
        // SAFETY: NULL or one of our wrappers.
        let o = unsafe { Obj::from_nullable(obj) };
        let mut vol = o.map(|o| o.under_vol_id);
        // SAFETY: HDF5 passes a valid argument struct.
        let mut local = unsafe { *args };
        // H5Olink of an anonymous dataset: it may move into a split file of its own.
        if local.op_type == H5VL_LINK_CREATE_HARD && !loc_params.is_null() {
            // SAFETY: for HARD the union holds `hard`; the target is NULL or one of our wrappers.
            let (target_ptr, curr_loc) = unsafe { (local.args.hard.curr_obj, local.args.hard.curr_loc_params) };
            // SAFETY: as above.
            if let (Some(target), Some(at)) = (unsafe { Obj::from_nullable(target_ptr) }, o) {
                if curr_loc.type_ == ffi::H5VL_OBJECT_BY_SELF && curr_loc.obj_type == ffi::H5I_DATASET {
                    // SAFETY: HDF5's arguments; nothing else borrows the target wrapper now.
                    if unsafe { split::link_anonymous(target_ptr, target, at, &*loc_params, lcpl_id, dxpl_id) }? {
                        return Ok(0);
                    }
                }
            }
        }
        let mut replacement = None;
        // Where the new link goes when HDF5 passes no location (`H5L_SAME_LOC` as the new link's
        // location: the target's location).
        let mut same_loc = None;
        if local.op_type == H5VL_LINK_CREATE_HARD {
            // SAFETY: for HARD the union holds `hard`, whose target is NULL or one of our wrappers.
            let target = unsafe { Obj::from_nullable(local.args.hard.curr_obj) };
            // `H5L_SAME_LOC` as the target's location: it is the new link's.
            if let Some(target) = target.or(o) {
                vol.get_or_insert(target.under_vol_id);
                // A split dataset lives in its own file, which a hard link cannot reach: link its
                // split file instead, as the dataset's own link does.
                // SAFETY: for HARD the union holds `hard`, with HDF5's location parameters of the
                // target; with `H5L_SAME_LOC` as the target's location they carry no object type:
                // the new link's location's it is.
                let mut curr = unsafe { local.args.hard.curr_loc_params };
                if target_is_same_loc(&local, loc_params) {
                    // SAFETY: checked non-NULL by `target_is_same_loc`.
                    curr.obj_type = unsafe { (*loc_params).obj_type };
                }
                // SAFETY: HDF5's valid location parameters of the target.
                replacement = unsafe { split::hard_link_replacement(target, &curr, dxpl_id) };
                // Natively a hard link cannot cross files: across main files (or into a file
                // mounted below one) the link is left to HDF5, which refuses it.
                if let (Some(_), Some(at), Some(tctx)) = (&replacement, o, target.ctx.as_ref()) {
                    let same = at.ctx.as_ref().is_some_and(|c| c.same_file(tctx));
                    // SAFETY: HDF5's valid location parameters of the new link.
                    let held = same && unsafe { link_lands_in_main(at, loc_params, dxpl_id) };
                    if !held {
                        replacement = None;
                    }
                }
                if o.is_none() {
                    if replacement.is_some() && target.split.is_some() {
                        return Err(Error::arg(
                            "a link next to a split dataset (H5L_SAME_LOC with the dataset as location) would go \
                             into its split file: give the main file or a group as the new link's location",
                        ));
                    }
                    // SAFETY: HDF5's valid location parameters of the target.
                    same_loc = Some((target.under_object, unsafe { local.args.hard.curr_loc_params.obj_type }));
                }
            }
            if let Some(target) = target {
                local.args.hard.curr_obj = target.under_object;
            }
        }
        let value = replacement.map(|file| below::pack_external_link(&file, crate::layout::DATASET_PATH));
        if let Some(value) = &value {
            local = below::external_link_args(value);
        }
        let vol = vol.ok_or_else(|| Error::arg("link create without a location or target object"))?;
        if let Some(o) = o {
            // SAFETY: HDF5's own location parameters.
            unsafe { split::parents_for_link(o, loc_params, lcpl_id, dxpl_id) }?;
        }
        // A new link may lead to a split file (a hard link to a split dataset, an external link
        // written by the application): count again at the next delete. With `H5L_SAME_LOC` the
        // location is the hard link's target's.
        // SAFETY: HDF5's argument struct, unchanged (`local` is our copy); for HARD the union
        // holds `hard`, whose target is NULL or one of our wrappers.
        let hard_target = unsafe {
            match (*args).op_type {
                H5VL_LINK_CREATE_HARD => Obj::from_nullable((*args).args.hard.curr_obj),
                _ => None,
            }
        };
        if let Some(ctx) = o.or(hard_target).and_then(|o| o.ctx.as_ref()) {
            lifecycle::forget_counts(ctx);
        }
        // An external link needs its location; a hard link with none is HDF5's `H5L_SAME_LOC`.
        // HDF5 then gives the new link's location no object type either: the target's it is.
        let mut own_loc = None;
        let under = match (o, value.is_some(), same_loc, loc_params.is_null()) {
            (Some(o), _, _, _) => o.under_object,
            (None, true, Some((at, obj_type)), false) => {
                // SAFETY: HDF5's valid location parameters, copied.
                let mut l = unsafe { *loc_params };
                l.obj_type = obj_type;
                own_loc = Some(l);
                at
            }
            _ => std::ptr::null_mut(),
        };
        let loc_params = own_loc.as_ref().map_or(loc_params, |l| l as *const H5VL_loc_params_t);
        // SAFETY: HDF5's arguments with our objects swapped for the ones below.
        let rc = unsafe { ffi::H5VLlink_create(&mut local, under, loc_params, vol, lcpl_id, lapl_id, dxpl_id, req) };
        // SAFETY: `req` is HDF5's request slot.
        unsafe { wrap_request(req, vol) };
        Ok(rc)
    })
}

/// Whether the new link that `loc` names (BY_NAME at `at`) goes into `at`'s main file itself,
/// not into a file mounted below it.
///
/// # Safety
/// `loc` is NULL or HDF5's valid location parameters.
unsafe fn link_lands_in_main(at: &Obj, loc: *const H5VL_loc_params_t, dxpl: hid_t) -> bool {
    // SAFETY: by the contract above.
    let (Some(ctx), Some(loc)) = (at.ctx.as_ref(), unsafe { loc.as_ref() }) else { return true };
    if loc.type_ != ffi::H5VL_OBJECT_BY_NAME {
        return true;
    }
    let below = Below { obj: at.under_object, vol: at.under_vol_id, obj_type: loc.obj_type };
    // SAFETY: for BY_NAME the union holds `loc_by_name`, with a NUL-terminated name.
    let name = unsafe { CStr::from_ptr(loc.loc_data.loc_by_name.name) };
    ctx.holds(&below, name.to_bytes(), dxpl)
}

/// Whether a hard link's target location is `H5L_SAME_LOC` (no target object: it is the new
/// link's location).
fn target_is_same_loc(args: &H5VL_link_create_args_t, loc_params: *const H5VL_loc_params_t) -> bool {
    // SAFETY: for HARD the union holds `hard` (the caller checked the op type).
    args.op_type == H5VL_LINK_CREATE_HARD && unsafe { args.args.hard.curr_obj.is_null() } && !loc_params.is_null()
}

#[derive(Clone, Copy)]
enum Op {
    Copy,
    Move,
}

/// Shared body of copy and move: either object may be NULL (`H5L_SAME_LOC`).
///
/// # Safety
/// HDF5's arguments of `link_cls.copy` / `link_cls.move`.
#[allow(clippy::too_many_arguments)]
unsafe fn copy_or_move(
    op: Op,
    src_obj: *mut c_void,
    loc_params1: *const H5VL_loc_params_t,
    dst_obj: *mut c_void,
    loc_params2: *const H5VL_loc_params_t,
    lcpl_id: hid_t,
    lapl_id: hid_t,
    dxpl_id: hid_t,
    req: Req,
) -> crate::error::Result<herr_t> {
    // SAFETY: both are NULL or our wrappers.
    let (src_o, dst_o) = unsafe { (Obj::from_nullable(src_obj), Obj::from_nullable(dst_obj)) };
    let vol = src_o
        .or(dst_o)
        .map(|o| o.under_vol_id)
        .ok_or_else(|| Error::arg("link copy/move without source or destination object"))?;
    if let Some(to) = dst_o.or(src_o) {
        // SAFETY: HDF5's own destination location parameters.
        unsafe { split::parents_for_link(to, loc_params2, lcpl_id, dxpl_id) }?;
    }
    let (src, dst) = (
        src_o.map_or(std::ptr::null_mut(), |o| o.under_object),
        dst_o.map_or(std::ptr::null_mut(), |o| o.under_object),
    );
    // A split dataset's link stands for a hard link, which natively cannot be copied or moved
    // into another file (or into a file mounted below this one).
    if let (Some(from), Some(to), false) = (src_o.or(dst_o), dst_o.or(src_o), loc_params1.is_null()) {
        // SAFETY: HDF5's valid source and destination location parameters.
        let (l1, l2) = unsafe { (&*loc_params1, loc_params2) };
        if let (Some(sctx), ffi::H5VL_OBJECT_BY_NAME) = (from.ctx.as_ref(), l1.type_) {
            let at = Below { obj: from.under_object, vol: from.under_vol_id, obj_type: l1.obj_type };
            // SAFETY: for BY_NAME the union holds `loc_by_name`, with a NUL-terminated name.
            let name = unsafe { CStr::from_ptr(l1.loc_data.loc_by_name.name) };
            if quietly(|| split::split_link_target(sctx, &at, name, dxpl_id)).is_some() {
                let same = to.ctx.as_ref().is_some_and(|c| c.same_file(sctx));
                // SAFETY: as above.
                if !same || !unsafe { link_lands_in_main(to, l2, dxpl_id) } {
                    return Err(Error::arg(format!(
                        "cannot {} {}: it is a split dataset's link, which stands for a hard link, and hard links \
                         cannot cross files (interfile hard links are not allowed); copy the dataset with H5Ocopy",
                        match op {
                            Op::Copy => "copy the link",
                            Op::Move => "move the link",
                        },
                        name.to_string_lossy()
                    )));
                }
            }
        }
    }
    // Copies and moves change which links lead to split files: count again at the next delete.
    for ctx in [src_o, dst_o].into_iter().flatten().filter_map(|o| o.ctx.as_ref()) {
        lifecycle::forget_counts(ctx);
    }
    // A move renames open split datasets too: their path before it.
    let old_path = match (op, src_o.or(dst_o), loc_params1.is_null()) {
        // SAFETY: HDF5's valid source location parameters.
        (Op::Move, Some(from), false) => unsafe { by_name_path(from, &*loc_params1, dxpl_id) },
        _ => None,
    };
    let f = match op {
        Op::Copy => ffi::H5VLlink_copy,
        Op::Move => ffi::H5VLlink_move,
    };
    // SAFETY: HDF5's arguments with our objects swapped for the ones below.
    let rc = unsafe { f(src, loc_params1, dst, loc_params2, vol, lcpl_id, lapl_id, dxpl_id, req) };
    // SAFETY: `req` is HDF5's request slot.
    unsafe { wrap_request(req, vol) };
    // A move renames HDF5 paths: move the split files too, so the layout keeps mirroring them.
    // (A copied link leads to the same split file, as a copied hard link leads to the same object.)
    if let (Op::Move, true, Some(to), false) = (op, rc >= 0, dst_o.or(src_o), loc_params2.is_null()) {
        // SAFETY: HDF5's valid destination location parameters.
        let loc = unsafe { &*loc_params2 };
        if let (Some(ctx), ffi::H5VL_OBJECT_BY_NAME) = (to.ctx.as_ref(), loc.type_) {
            let at = Below { obj: to.under_object, vol: to.under_vol_id, obj_type: loc.obj_type };
            // SAFETY: for BY_NAME the union holds `loc_by_name`, with a NUL-terminated name.
            let name = unsafe { CStr::from_ptr(loc.loc_data.loc_by_name.name) };
            let moved = lifecycle::relocate(ctx, &at, name, dxpl_id);
            // SAFETY: as above.
            if let (Some(old), Some(new)) = (old_path, unsafe { by_name_path(to, loc, dxpl_id) }) {
                ctx.renamed(&old, Some(&new), &moved);
            }
        }
    }
    Ok(rc)
}

/// `link_cls.copy`
pub unsafe extern "C" fn copy<const K: usize>(
    src_obj: *mut c_void,
    loc_params1: *const H5VL_loc_params_t,
    dst_obj: *mut c_void,
    loc_params2: *const H5VL_loc_params_t,
    lcpl_id: hid_t,
    lapl_id: hid_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "link_copy", || {
        // SAFETY: HDF5's own arguments.
        unsafe { copy_or_move(Op::Copy, src_obj, loc_params1, dst_obj, loc_params2, lcpl_id, lapl_id, dxpl_id, req) }
    })
}

/// `link_cls.move`
pub unsafe extern "C" fn move_<const K: usize>(
    src_obj: *mut c_void,
    loc_params1: *const H5VL_loc_params_t,
    dst_obj: *mut c_void,
    loc_params2: *const H5VL_loc_params_t,
    lcpl_id: hid_t,
    lapl_id: hid_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "link_move", || {
        // SAFETY: HDF5's own arguments.
        unsafe { copy_or_move(Op::Move, src_obj, loc_params1, dst_obj, loc_params2, lcpl_id, lapl_id, dxpl_id, req) }
    })
}

/// `link_cls.get` (info, name, value)
pub unsafe extern "C" fn get<const K: usize>(
    obj: *mut c_void,
    loc_params: *const H5VL_loc_params_t,
    args: *mut H5VL_link_get_args_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "link_get", || {
        // SAFETY: `obj` is our wrapper and `req` HDF5's request slot; the arguments are HDF5's own.
        unsafe { forward(obj, req, |under, vol| ffi::H5VLlink_get(under, loc_params, vol, args, dxpl_id, req)) }
    })
}

/// `link_cls.specific` (delete, exists, iterate)
pub unsafe extern "C" fn specific<const K: usize>(
    obj: *mut c_void,
    loc_params: *const H5VL_loc_params_t,
    args: *mut H5VL_link_specific_args_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "link_specific", || {
        // SAFETY: `obj` is our wrapper; HDF5 passes valid arguments.
        let (o, op) = unsafe { (Obj::from_ptr(obj)?, (*args).op_type) };
        // H5Ldelete: note the split files the link leads to, to remove those nothing else uses.
        let doomed = match (op, o.ctx.as_ref(), loc_params.is_null()) {
            (ffi::H5VL_LINK_DELETE, Some(ctx), false) => {
                // SAFETY: HDF5's valid location parameters.
                let loc = unsafe { &*loc_params };
                let at = Below { obj: o.under_object, vol: o.under_vol_id, obj_type: loc.obj_type };
                // A link in a file mounted below the main file is that file's, not ours to count.
                // SAFETY: as above; the name (by name or by index) is HDF5's.
                let name = unsafe { deleted_name(&at, loc, dxpl_id) }.filter(|n| ctx.holds(&at, n.to_bytes(), dxpl_id));
                name.map(|name| {
                    let path = quietly(|| split::absolute_path(&at, name.to_bytes(), dxpl_id)).ok().flatten();
                    (lifecycle::targets_of(ctx, &at, &name, dxpl_id), at, ctx.clone(), path)
                })
            }
            _ => None,
        };
        // SAFETY: as for `get`. Iteration callbacks receive ids HDF5 wraps through our wrap_cls.
        let rc = unsafe {
            forward(obj, req, |under, vol| ffi::H5VLlink_specific(under, loc_params, vol, args, dxpl_id, req))
        }?;
        if let (true, Some((doomed, at, ctx, path))) = (rc >= 0, doomed) {
            lifecycle::note_unreferenced(&ctx, &at, &doomed, dxpl_id);
            if let Some(path) = path {
                ctx.renamed(&path, None, &[]); // open objects lose their name, as natively
            }
        }
        Ok(rc)
    })
}

/// The absolute path of the link a by-name location designates, if it has one.
///
/// # Safety
/// HDF5's valid location parameters for `o`.
unsafe fn by_name_path(o: &Obj, loc: &H5VL_loc_params_t, dxpl: hid_t) -> Option<Vec<u8>> {
    if loc.type_ != ffi::H5VL_OBJECT_BY_NAME {
        return None;
    }
    let at = Below { obj: o.under_object, vol: o.under_vol_id, obj_type: loc.obj_type };
    // SAFETY: for BY_NAME the union holds `loc_by_name`, with a NUL-terminated name.
    let name = unsafe { CStr::from_ptr(loc.loc_data.loc_by_name.name) };
    quietly(|| split::absolute_path(&at, name.to_bytes(), dxpl)).ok().flatten()
}

/// The name, relative to the location object, of the link a delete designates.
///
/// # Safety
/// HDF5's valid location parameters.
unsafe fn deleted_name(at: &Below, loc: &H5VL_loc_params_t, dxpl: hid_t) -> Option<CString> {
    match loc.type_ {
        // SAFETY: for BY_NAME the union holds `loc_by_name`, with a NUL-terminated name.
        ffi::H5VL_OBJECT_BY_NAME => Some(unsafe { CStr::from_ptr(loc.loc_data.loc_by_name.name) }.to_owned()),
        ffi::H5VL_OBJECT_BY_IDX => {
            // SAFETY: for BY_IDX the union holds `loc_by_idx`, whose group name is NUL-terminated.
            let group = unsafe { CStr::from_ptr(loc.loc_data.loc_by_idx.name) }.to_bytes().to_vec();
            let link = quietly(|| at.link_name(loc, dxpl)).ok()?;
            let mut name = group;
            if !name.is_empty() && name.last() != Some(&b'/') {
                name.push(b'/');
            }
            name.extend_from_slice(&link);
            CString::new(name).ok()
        }
        _ => None,
    }
}

/// `link_cls.optional`
pub unsafe extern "C" fn optional<const K: usize>(
    obj: *mut c_void,
    loc_params: *const H5VL_loc_params_t,
    args: *mut H5VL_optional_args_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "link_optional", || {
        // SAFETY: as for `get`.
        unsafe { forward(obj, req, |under, vol| ffi::H5VLlink_optional(under, loc_params, vol, args, dxpl_id, req)) }
    })
}
