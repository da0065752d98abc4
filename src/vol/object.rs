//! `object_cls`: generic objects (open by location, copy, get, visit, flush, refresh).

use std::ffi::{c_char, c_void};

use crate::below::Below;
use crate::boundary::guard;
use crate::ffi::{
    self, H5I_type_t, H5VL_loc_params_t, H5VL_object_get_args_t, H5VL_object_specific_args_t, H5VL_optional_args_t,
    herr_t, hid_t,
};
use crate::object::{Obj, forward, forward_new, wrap_request};
use crate::{split, visit};

type Req = *mut *mut c_void;

/// `object_cls.open`
pub unsafe extern "C" fn open<const K: usize>(
    obj: *mut c_void,
    loc_params: *const H5VL_loc_params_t,
    opened_type: *mut H5I_type_t,
    dxpl_id: hid_t,
    req: Req,
) -> *mut c_void {
    guard(K, "object_open", || {
        // SAFETY: `obj` is our wrapper; the location is HDF5's.
        unsafe { split::make_writable(Obj::from_ptr(obj)?, loc_params, std::ptr::null(), dxpl_id) }?;
        // SAFETY: `obj` is our wrapper and `req` HDF5's request slot; HDF5's own arguments go to
        // the connector below with its object (the same holds for every forward in this file).
        // A link opened by name: recognised by its link first (the cheap way, which
        // `recheck_opened` then skips).
        // SAFETY: `obj` is our wrapper; HDF5's valid location parameters (or NULL).
        let (parent, loc) = unsafe { (Obj::from_ptr(obj)?, loc_params.as_ref()) };
        let by_name = loc.filter(|l| l.type_ == ffi::H5VL_OBJECT_BY_NAME).map(|l| {
            let mut self_loc = *l;
            self_loc.type_ = ffi::H5VL_OBJECT_BY_SELF;
            // SAFETY: for BY_NAME the union holds `loc_by_name`, with a NUL-terminated name.
            (self_loc, unsafe { l.loc_data.loc_by_name.name })
        });
        let open = || {
            // SAFETY: as above.
            let made = unsafe {
                forward_new(obj, req, |under, vol| {
                    ffi::H5VLobject_open(under, loc_params, vol, opened_type, dxpl_id, req)
                })
            }?;
            if let (false, Some((self_loc, name))) = (made.is_null(), &by_name) {
                // SAFETY: `made` is the wrapper just made; the name is HDF5's.
                unsafe { split::note_opened(parent, self_loc, *name, made, dxpl_id) };
            }
            Ok(made)
        };
        // SAFETY: HDF5's output slot, filled by a successful open.
        let is_dataset = || unsafe { opened_type.as_ref() } == Some(&ffi::H5I_DATASET);
        let made = open()?;
        let made = match made.is_null() || !is_dataset() {
            true => made,
            // SAFETY: `obj` is our wrapper; `made` the dataset just made, given back to the check.
            false => unsafe { split::recheck_opened(parent, made, std::ptr::null(), dxpl_id, open) }?,
        };
        if !loc_params.is_null() {
            // SAFETY: HDF5's valid location parameters.
            let loc = unsafe { &*loc_params };
            if loc.type_ == ffi::H5VL_OBJECT_BY_TOKEN {
                // Opened by a reference: note it (see `split::xref`).
                // SAFETY: for BY_TOKEN the union holds `loc_by_token`, with HDF5's token.
                let token = unsafe { loc.loc_data.loc_by_token.token.as_ref() };
                // SAFETY: HDF5's output slot, filled by a successful open.
                let opened = unsafe { opened_type.as_ref() }.copied();
                if let (Some(token), Some(kind), false) = (token, opened, made.is_null()) {
                    // SAFETY: `made` is the wrapper just made.
                    split::xref::after_open_by_token(unsafe { Obj::from_ptr(made) }?, kind, &token.__data, dxpl_id);
                }
            }
            if let (true, Some((self_loc, name))) = (made.is_null(), &by_name) {
                // SAFETY: as above.
                if let Some(err) = unsafe { split::explain_open_failure(parent, self_loc, *name, dxpl_id) } {
                    return Err(err);
                }
            }
        }
        Ok(made)
    })
}

/// `object_cls.copy` (`H5Ocopy`, also across files)
pub unsafe extern "C" fn copy<const K: usize>(
    src_obj: *mut c_void,
    src_loc_params: *const H5VL_loc_params_t,
    src_name: *const c_char,
    dst_obj: *mut c_void,
    dst_loc_params: *const H5VL_loc_params_t,
    dst_name: *const c_char,
    ocpypl_id: hid_t,
    lcpl_id: hid_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "object_copy", || {
        // SAFETY: both objects are our wrappers.
        let (src, dst) = unsafe { (Obj::from_ptr(src_obj)?, Obj::from_ptr(dst_obj)?) };
        // The copy may add links to split files: count again at the next delete.
        if let Some(ctx) = dst.ctx.as_ref() {
            crate::lifecycle::forget_counts(ctx);
        }
        // SAFETY: HDF5's valid location parameters and NUL-terminated names (or NULLs).
        let sides = unsafe {
            match (src_loc_params.as_ref(), dst_loc_params.as_ref(), src_name.is_null() || dst_name.is_null()) {
                (Some(sl), Some(dl), false) => Some((
                    split::CopySide { obj: src, loc: sl, name: std::ffi::CStr::from_ptr(src_name) },
                    split::CopySide { obj: dst, loc: dl, name: std::ffi::CStr::from_ptr(dst_name) },
                )),
                _ => None,
            }
        };
        if let Some((s, d)) = sides {
            // SAFETY: HDF5's own arguments.
            if unsafe { split::copy_split(s, d, ocpypl_id, lcpl_id, dxpl_id) }? {
                return Ok(0);
            }
        }
        // Where the copy may hold split datasets (both sides in files of ours), it is made
        // synchronously, so that they get split files of their own right after it (an
        // asynchronous request is then simply not made: HDF5 takes the call as done).
        let sync = sides.is_some() && src.ctx.is_some() && dst.ctx.is_some();
        let below_req = if sync { std::ptr::null_mut() } else { req };
        // SAFETY: HDF5's arguments with our objects swapped for the ones below.
        let rc = unsafe {
            ffi::H5VLobject_copy(
                src.under_object,
                src_loc_params,
                src_name,
                dst.under_object,
                dst_loc_params,
                dst_name,
                src.under_vol_id,
                ocpypl_id,
                lcpl_id,
                dxpl_id,
                below_req,
            )
        };
        // A copied group: its split datasets get split files of their own.
        if let (true, Some((s, d)), true) = (rc >= 0, sides, below_req.is_null()) {
            // SAFETY: HDF5's own arguments; the copy succeeded.
            unsafe { split::make_copy_independent(s, d, ocpypl_id, dxpl_id) }?;
        }
        // SAFETY: `req` is HDF5's request slot.
        unsafe { wrap_request(req, src.under_vol_id) };
        Ok(rc)
    })
}

/// `object_cls.get` (file, name, type, info)
pub unsafe extern "C" fn get<const K: usize>(
    obj: *mut c_void,
    loc_params: *const H5VL_loc_params_t,
    args: *mut H5VL_object_get_args_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "object_get", || {
        // SAFETY: `obj` is our wrapper; HDF5 passes valid arguments.
        let (o, a, by_self) = unsafe {
            (Obj::from_ptr(obj)?, &*args, !loc_params.is_null() && (*loc_params).type_ == ffi::H5VL_OBJECT_BY_SELF)
        };
        if let (ffi::H5VL_OBJECT_GET_NAME, true, Some(split)) = (a.op_type, by_self, o.split.as_ref()) {
            // H5Iget_name of a split dataset: its path in the main file, not "/data" in its own.
            // SAFETY: for GET_NAME the union holds `get_name`, with HDF5's output slots.
            let n = unsafe { a.args.get_name };
            let path = split.path();
            if !n.buf.is_null() && n.buf_size > 0 {
                let len = path.len().min(n.buf_size - 1);
                // SAFETY: HDF5's buffer holds `buf_size` bytes; we write `len` + 1 of them.
                unsafe {
                    std::ptr::copy_nonoverlapping(path.as_ptr(), n.buf.cast::<u8>(), len);
                    *n.buf.add(len) = 0;
                }
            }
            // SAFETY: HDF5's output slot for the full length.
            if let Some(out) = unsafe { n.name_len.as_mut() } {
                *out = path.len();
            }
            return Ok(0);
        }
        // SAFETY: see `open`.
        unsafe { forward(obj, req, |under, vol| ffi::H5VLobject_get(under, loc_params, vol, args, dxpl_id, req)) }
    })
}

/// `object_cls.specific` (ref count, exists, lookup, visit, flush, refresh)
pub unsafe extern "C" fn specific<const K: usize>(
    obj: *mut c_void,
    loc_params: *const H5VL_loc_params_t,
    args: *mut H5VL_object_specific_args_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "object_specific", || {
        // SAFETY: `obj` is our wrapper; HDF5 passes valid arguments.
        let (o, op) = unsafe { (Obj::from_ptr(obj)?, (*args).op_type) };
        if op == ffi::H5VL_OBJECT_LOOKUP && !loc_params.is_null() {
            // SAFETY: HDF5's valid location parameters.
            if let Some(err) = unsafe { split::refuse_reference(o, &*loc_params, dxpl_id) } {
                return Err(err);
            }
            // SAFETY: as below.
            let rc = unsafe {
                forward(obj, req, |under, vol| ffi::H5VLobject_specific(under, loc_params, vol, args, dxpl_id, req))
            }?;
            // A reference is being made to the object looked up: refuse one across files, note it.
            // SAFETY: for LOOKUP the union holds the token slot, filled by a successful call.
            if let (true, Some(token)) = (rc >= 0, unsafe { (*args).args.lookup.as_ref() }) {
                // SAFETY: HDF5's valid location parameters (checked non-NULL above).
                split::xref::after_lookup(o, unsafe { &*loc_params }, &token.__data, dxpl_id)?;
            }
            return Ok(rc);
        }
        if let (ffi::H5VL_OBJECT_FLUSH, Some(data)) = (op, o.data.as_ref()) {
            // `H5Oflush` of a virtual split dataset: its data first (in its split file).
            let mut flush = ffi::H5VL_dataset_specific_args_t {
                op_type: ffi::H5VL_DATASET_FLUSH,
                args: ffi::H5VL_dataset_specific_args_u { dset_id: -1 },
            };
            // SAFETY: flushes an open dataset of the connector below.
            if unsafe { ffi::H5VLdataset_specific(data.obj, o.under_vol_id, &mut flush, dxpl_id, std::ptr::null_mut()) }
                < 0
            {
                return Err(crate::error::Error::library("cannot flush the data of a virtual split dataset"));
            }
            // and its file's own metadata (its superblock records where the file ends)
            let mut file_flush = ffi::H5VL_file_specific_args_t {
                op_type: ffi::H5VL_FILE_FLUSH,
                args: ffi::H5VL_file_specific_args_u {
                    flush: ffi::H5VL_file_specific_flush_t { obj_type: ffi::H5I_DATASET, scope: 0 },
                },
            };
            // SAFETY: flushes the file of an open dataset of the connector below (scope: local).
            let rc = unsafe {
                ffi::H5VLfile_specific(data.obj, o.under_vol_id, &mut file_flush, dxpl_id, std::ptr::null_mut())
            };
            if rc < 0 {
                return Err(crate::error::Error::library("cannot flush the split file of a virtual split dataset"));
            }
        }
        if op == ffi::H5VL_OBJECT_VISIT && !loc_params.is_null() {
            // With split=off the connector is a pure passthrough.
            if let Some(ctx) = o.ctx.clone().filter(|c| c.policy.split) {
                // SAFETY: HDF5's valid location parameters.
                let obj_type = unsafe { (*loc_params).obj_type };
                let at = Below { obj: o.under_object, vol: o.under_vol_id, obj_type };
                // SAFETY: HDF5's own arguments for a visit.
                let rc = unsafe { visit::visit(&ctx, at, loc_params, args, dxpl_id, req) }?;
                // SAFETY: `req` is HDF5's request slot.
                unsafe { wrap_request(req, at.vol) };
                return Ok(rc);
            }
        }
        // SAFETY: see `open` (a refresh may replace the wrapper: `forward` copies what it needs).
        unsafe { forward(obj, req, |under, vol| ffi::H5VLobject_specific(under, loc_params, vol, args, dxpl_id, req)) }
    })
}

/// `object_cls.optional`
pub unsafe extern "C" fn optional<const K: usize>(
    obj: *mut c_void,
    loc_params: *const H5VL_loc_params_t,
    args: *mut H5VL_optional_args_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "object_optional", || {
        // By name through a split dataset's link (`H5Oset_comment_by_name`): as for `open`.
        // SAFETY: `obj` is our wrapper; the location is HDF5's.
        unsafe { split::make_writable(Obj::from_ptr(obj)?, loc_params, std::ptr::null(), dxpl_id) }?;
        // SAFETY: see `open`.
        unsafe { forward(obj, req, |under, vol| ffi::H5VLobject_optional(under, loc_params, vol, args, dxpl_id, req)) }
    })
}
