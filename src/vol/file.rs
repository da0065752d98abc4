//! `file_cls`: files. Create and open swap our connector for the one below on a copy of the file
//! access property list; everything else is forwarded.

use std::ffi::{CStr, c_char, c_uint, c_void};
use std::sync::Arc;

use crate::below::Below;
use crate::boundary::guard;
use crate::conn_info::{ConnInfo, enter_file, under_fapl};
use crate::error::Result;
use crate::ffi::{
    self, H5F_ACC_RDWR, H5F_ACC_TRUNC, H5VL_FILE_DELETE, H5VL_FILE_IS_ACCESSIBLE, H5VL_FILE_REOPEN,
    H5VL_file_get_args_t, H5VL_file_specific_args_t, H5VL_optional_args_t, herr_t, hid_t,
};
use crate::object::{Obj, forward, forward_close, wrap_request};
use crate::split::{self, FileCtx};

type Req = *mut *mut c_void;

/// The split context of a main file (None for an unnamed file, or one whose driver does not
/// write a plain file at its name: such files are passed through, see `crate::driver`).
fn file_ctx(name: *const c_char, under_fapl: hid_t, info: &ConnInfo, read_only: bool) -> Result<Option<Arc<FileCtx>>> {
    if name.is_null() {
        return Ok(None);
    }
    // A main file every rank of an MPI job writes splits too, coordinated over its communicator.
    let comm = match crate::driver::splits(under_fapl) {
        true => None,
        false => match crate::driver::communicator(under_fapl) {
            Some(comm) => Some(comm),
            None => return Ok(None),
        },
    };
    // SAFETY: HDF5 passes a NUL-terminated file name.
    let name = unsafe { CStr::from_ptr(name) };
    let ctx = FileCtx::new(name, under_fapl, comm, info.policy.clone(), read_only)?;
    ctx.agree_on_settings()?;
    Ok(Some(ctx))
}

/// `file_cls.create`
pub unsafe extern "C" fn create<const K: usize>(
    name: *const c_char,
    flags: c_uint,
    fcpl_id: hid_t,
    fapl_id: hid_t,
    dxpl_id: hid_t,
    req: Req,
) -> *mut c_void {
    guard(K, "file_create", || {
        // SAFETY: HDF5 passes NULL or a NUL-terminated name.
        crate::trace!("file_create name={} flags={flags:#x}", unsafe { crate::log::show(name) });
        // SAFETY: as above.
        let entry = enter_file("creating", &unsafe { crate::log::show(name) })?;
        let info = ConnInfo::from_fapl(fapl_id)?;
        let fapl = under_fapl(fapl_id, &info)?;
        let ctx = file_ctx(name, fapl.0, &info, false)?;
        // Only a file that exists has split files to go with it: a folder left by a main file
        // that was renamed or deleted without the connector may still be another file's.
        // (Under MPI, as rank 0 sees it: another rank may already be creating the file.)
        let existed = match &ctx {
            Some(c) => !c
                .decided("looking for the main file", || {
                    Ok(std::fs::symlink_metadata(&c.main_path).map_or(Vec::new(), |_| vec![1]))
                })?
                .is_empty(),
            None => false,
        };
        // The split files the old file links to go with it; others in the folder (of a main file
        // renamed away, say) stay.
        let old_targets = match (&ctx, flags & H5F_ACC_TRUNC != 0 && existed && req.is_null()) {
            (Some(c), true) if !name.is_null() => {
                // SAFETY: HDF5 passes a NUL-terminated name (checked non-NULL).
                let cname = unsafe { CStr::from_ptr(name) };
                crate::lifecycle::targets_of_old_file(c, cname, fapl.0)
            }
            _ => None,
        };
        if let (Some(ctx), true) = (&ctx, flags & H5F_ACC_TRUNC != 0) {
            // Truncating through a link into a cache would empty the cache's file.
            ctx.leader_does("truncating the main file", || crate::cow::unlink_shared(&ctx.main_path))?;
        }
        // The root group records no times unless track_times=on.
        let own_fcpl = crate::split::without_times(ctx.as_ref(), fcpl_id)?;
        let fcpl_id = own_fcpl.as_ref().map_or(fcpl_id, |p| p.0);
        // SAFETY: HDF5's own arguments, with the fapl naming the connector below.
        let under = unsafe { ffi::H5VLfile_create(name, flags, fcpl_id, fapl.0, dxpl_id, req) };
        entry.leave(under.is_null())?;
        // SAFETY: `req` is HDF5's request slot.
        unsafe { wrap_request(req, info.under_vol_id) };
        if under.is_null() {
            return Ok(under);
        }
        if let Some(ctx) = &ctx {
            if let Some(targets) = &old_targets {
                // The old file's datasets went with it: so do their split files.
                ctx.clear_old_split_files(targets);
            }
            crate::lifecycle::forget_counts(ctx);
            // Durability: a complete (empty) file on disk from the start, so that a process
            // killed before its first flush leaves a file that opens.
            if req.is_null() {
                Below { obj: under, vol: info.under_vol_id, obj_type: ffi::H5I_FILE }.flush(dxpl_id);
            }
        }
        Ok(Obj::wrap_in(under, info.under_vol_id, ctx))
    })
}

/// `file_cls.open`
pub unsafe extern "C" fn open<const K: usize>(
    name: *const c_char,
    flags: c_uint,
    fapl_id: hid_t,
    dxpl_id: hid_t,
    req: Req,
) -> *mut c_void {
    guard(K, "file_open", || {
        // SAFETY: HDF5 passes NULL or a NUL-terminated name.
        crate::trace!("file_open name={} flags={flags:#x}", unsafe { crate::log::show(name) });
        // SAFETY: as above.
        let entry = enter_file("opening", &unsafe { crate::log::show(name) })?;
        let info = ConnInfo::from_fapl(fapl_id)?;
        let fapl = under_fapl(fapl_id, &info)?;
        let ctx = file_ctx(name, fapl.0, &info, flags & H5F_ACC_RDWR == 0)?;
        if let (Some(ctx), true) = (&ctx, flags & H5F_ACC_RDWR != 0) {
            // Writing through a link into a cache would modify the cache's file.
            ctx.leader_does("opening the main file for writing", || crate::cow::own_copy(&ctx.main_path))?;
        }
        // SAFETY: HDF5's own arguments, with the fapl naming the connector below.
        let under = unsafe { ffi::H5VLfile_open(name, flags, fapl.0, dxpl_id, req) };
        entry.leave(under.is_null())?;
        // SAFETY: `req` is HDF5's request slot.
        unsafe { wrap_request(req, info.under_vol_id) };
        if let (false, Some(ctx)) = (under.is_null(), &ctx) {
            // Other programs may have changed its links since this process counted them.
            crate::lifecycle::forget_counts(ctx);
        }
        Ok(if under.is_null() { under } else { Obj::wrap_in(under, info.under_vol_id, ctx) })
    })
}

/// `file_cls.get`
pub unsafe extern "C" fn get<const K: usize>(
    file: *mut c_void,
    args: *mut H5VL_file_get_args_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "file_get", || {
        // SAFETY: `file` is our wrapper (of any object: H5Fget_name takes any id); HDF5 passes a
        // valid argument struct.
        let (o, a) = unsafe { (Obj::from_ptr(file)?, &*args) };
        if let (ffi::H5VL_FILE_GET_NAME, Some(ctx), Some(_)) = (a.op_type, o.ctx.as_ref(), o.split.as_ref()) {
            // A split dataset's file is, for the application, the main file.
            // SAFETY: for GET_NAME the union holds `get_name`, with HDF5's output slots.
            let n = unsafe { a.args.get_name };
            let name = &ctx.main_name;
            if !n.buf.is_null() && n.buf_size > 0 {
                let len = name.len().min(n.buf_size - 1);
                // SAFETY: HDF5's buffer holds `buf_size` bytes; we write `len` + 1 of them.
                unsafe {
                    std::ptr::copy_nonoverlapping(name.as_ptr(), n.buf.cast::<u8>(), len);
                    *n.buf.add(len) = 0;
                }
            }
            // SAFETY: HDF5's output slot for the full length.
            if let Some(out) = unsafe { n.file_name_len.as_mut() } {
                *out = name.len();
            }
            return Ok(0);
        }
        // SAFETY: `file` is our wrapper and `req` HDF5's request slot; the arguments are HDF5's own.
        let rc = unsafe { forward(file, req, |under, vol| ffi::H5VLfile_get(under, vol, args, dxpl_id, req)) }?;
        let counts_datasets = |types: std::ffi::c_uint| types & ffi::H5F_OBJ_DATASET != 0;
        match (rc >= 0, a.op_type, o.ctx.as_ref()) {
            (true, ffi::H5VL_FILE_GET_OBJ_COUNT, Some(ctx)) if o.split.is_none() => {
                // SAFETY: for GET_OBJ_COUNT the union holds `get_obj_count`, with HDF5's output.
                let c = unsafe { a.args.get_obj_count };
                if counts_datasets(c.types) {
                    // SAFETY: HDF5's output slot, filled by the call below.
                    if let Some(count) = unsafe { c.count.as_mut() } {
                        *count += split::open_split_dataset_ids(ctx).len();
                    }
                }
            }
            (true, ffi::H5VL_FILE_GET_OBJ_IDS, Some(ctx)) if o.split.is_none() => {
                // SAFETY: for GET_OBJ_IDS the union holds `get_obj_ids`, with HDF5's outputs.
                let c = unsafe { a.args.get_obj_ids };
                if counts_datasets(c.types) {
                    // SAFETY: HDF5's output slot, filled by the call below.
                    if let Some(count) = unsafe { c.count.as_mut() } {
                        for id in split::open_split_dataset_ids(ctx) {
                            if *count < c.max_objs && !c.oid_list.is_null() {
                                // SAFETY: the list holds `max_objs` ids.
                                unsafe { *c.oid_list.add(*count) = id };
                                *count += 1;
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        Ok(rc)
    })
}

/// `H5Fis_accessible` / `H5Fdelete`: no file object, the connector below comes from the fapl
/// (NULL info, as when HDF5 probes plugins after a failed open, means native).
fn specific_by_fapl(args: &H5VL_file_specific_args_t, fapl_id: hid_t, dxpl_id: hid_t, req: Req) -> Result<herr_t> {
    let info = ConnInfo::from_fapl(fapl_id)?;
    let fapl = under_fapl(fapl_id, &info)?;
    let mut local = *args;
    if local.op_type == H5VL_FILE_IS_ACCESSIBLE {
        local.args.is_accessible.fapl_id = fapl.0;
    } else {
        local.args.del.fapl_id = fapl.0;
    }
    // SAFETY: a copy of HDF5's arguments with the fapl swapped; no object for these operations.
    let rc = unsafe { ffi::H5VLfile_specific(std::ptr::null_mut(), info.under_vol_id, &mut local, dxpl_id, req) };
    // SAFETY: `req` is HDF5's request slot.
    unsafe { wrap_request(req, info.under_vol_id) };
    if local.op_type == H5VL_FILE_DELETE && rc >= 0 {
        // H5Fdelete: the split folder goes with the file.
        // SAFETY: for DELETE the union holds `del`, whose file name HDF5 passes NUL-terminated.
        let name = unsafe { local.args.del.filename };
        if let Some(ctx) = file_ctx(name, fapl.0, &info, true)? {
            ctx.clear_split_folder();
        }
    }
    Ok(rc)
}

/// `file_cls.specific` (flush, reopen, is-accessible, delete, is-equal)
pub unsafe extern "C" fn specific<const K: usize>(
    file: *mut c_void,
    args: *mut H5VL_file_specific_args_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "file_specific", || {
        // SAFETY: HDF5 passes a valid argument struct.
        let a = unsafe { &*args };
        match a.op_type {
            H5VL_FILE_IS_ACCESSIBLE => {
                // SAFETY: for this operation the union holds `is_accessible`.
                let fapl = unsafe { a.args.is_accessible.fapl_id };
                specific_by_fapl(a, fapl, dxpl_id, req)
            }
            H5VL_FILE_DELETE => {
                // SAFETY: for this operation the union holds `del`.
                let fapl = unsafe { a.args.del.fapl_id };
                specific_by_fapl(a, fapl, dxpl_id, req)
            }
            op => {
                // SAFETY: `file` is our wrapper.
                let o = unsafe { Obj::from_ptr(file) }?;
                let (ctx, is_main) = (o.ctx.clone(), o.split.is_none());
                let mut vol_below = -1;
                // SAFETY: `file` is our wrapper and `req` HDF5's request slot. IS_EQUAL needs no
                // unwrapping: HDF5 already passes the terminal object of the second file.
                let rc = unsafe {
                    forward(file, req, |under, vol| {
                        vol_below = vol;
                        ffi::H5VLfile_specific(under, vol, args, dxpl_id, req)
                    })
                }?;
                if op == H5VL_FILE_REOPEN && rc >= 0 {
                    // SAFETY: for REOPEN the union holds `reopen`, whose `file` slot the connector
                    // below filled with its new file object.
                    let slot = unsafe { &mut *(*args).args.reopen.file };
                    if !slot.is_null() {
                        *slot = Obj::wrap_in(*slot, vol_below, ctx);
                    }
                } else if op == ffi::H5VL_FILE_FLUSH && rc >= 0 && is_main {
                    // H5Fflush of the main file (or an object in it): its split datasets live in
                    // files of their own.
                    if let Some(ctx) = &ctx {
                        ctx.flush_split_files(dxpl_id)?;
                    }
                }
                Ok(rc)
            }
        }
    })
}

/// `file_cls.optional`
pub unsafe extern "C" fn optional<const K: usize>(
    file: *mut c_void,
    args: *mut H5VL_optional_args_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "file_optional", || {
        // SAFETY: `file` is our wrapper; HDF5 passes a valid argument struct.
        let (o, op) = unsafe { (Obj::from_ptr(file)?, (*args).op_type) };
        let (ctx, below) = (o.ctx.clone(), Below { obj: o.under_object, vol: o.under_vol_id, obj_type: ffi::H5I_FILE });
        // SAFETY: `file` is our wrapper and `req` HDF5's request slot; the arguments are HDF5's own.
        let rc = unsafe { forward(file, req, |under, vol| ffi::H5VLfile_optional(under, vol, args, dxpl_id, req)) }?;
        if rc >= 0 && op == ffi::H5VL_NATIVE_FILE_POST_OPEN {
            if let Some(ctx) = ctx {
                // HDF5's context now names our connector stack and this file's wrap context:
                // keep it for creating split files later.
                ctx.capture_lib_state(&below, dxpl_id)?;
            }
        }
        Ok(rc)
    })
}

/// How many objects of `types` (`H5F_OBJ_*`) are open in the file of `at` (natively: across all
/// its handles). Unknown counts as many.
fn open_count(at: &Below, types: c_uint, dxpl: hid_t) -> usize {
    let mut n: usize = 0;
    let mut args = H5VL_file_get_args_t {
        op_type: ffi::H5VL_FILE_GET_OBJ_COUNT,
        args: ffi::H5VL_file_get_args_u { get_obj_count: ffi::H5VL_file_get_obj_count_args_t { types, count: &mut n } },
    };
    // SAFETY: our own argument struct; the connector writes only `n`.
    let rc =
        crate::error::quietly(|| unsafe { ffi::H5VLfile_get(at.obj, at.vol, &mut args, dxpl, std::ptr::null_mut()) });
    if rc < 0 { usize::MAX } else { n }
}

/// `file_cls.close`
pub unsafe extern "C" fn close<const K: usize>(file: *mut c_void, dxpl_id: hid_t, req: Req) -> herr_t {
    guard(K, "file_close", || {
        // Split files whose links were deleted go once the main file is closed (and so flushed).
        // SAFETY: `file` is our wrapper.
        let (ctx, doomed) = match unsafe { Obj::from_ptr(file) } {
            Ok(o) if o.split.is_none() && req.is_null() => match o.ctx.clone() {
                Some(ctx) => {
                    let at = Below { obj: o.under_object, vol: o.under_vol_id, obj_type: ffi::H5I_FILE };
                    // Not while anything else of the file is open (another handle, a group or a
                    // dataset the application still holds may link an object again): the files
                    // wait for a later close, or stay as orphans for `dset-split gc`.
                    let (files, objects) =
                        (open_count(&at, ffi::H5F_OBJ_FILE, dxpl_id), open_count(&at, ffi::H5F_OBJ_OBJECTS, dxpl_id));
                    crate::trace!("closing {}: {files} file id(s), {objects} object(s) open", ctx.main_path.display());
                    let doomed = if files <= 1 && objects == 0 {
                        crate::lifecycle::remove_pending(&ctx, &at, dxpl_id)
                    } else {
                        Vec::new()
                    };
                    (Some(ctx), doomed)
                }
                None => (None, Vec::new()),
            },
            _ => (None, Vec::new()),
        };
        // SAFETY: as for `get`; HDF5 never uses `file` again once it is closed.
        let rc = unsafe { forward_close(file, req, |under, vol| ffi::H5VLfile_close(under, vol, dxpl_id, req)) }?;
        if let (true, Some(ctx)) = (rc >= 0, ctx) {
            crate::lifecycle::remove_files(&ctx, &doomed);
        }
        Ok(rc)
    })
}
