//! `group_cls`: groups, forwarded to the connector below.

use std::ffi::{c_char, c_void};

use crate::boundary::guard;
use crate::ffi::{
    self, H5VL_GROUP_MOUNT, H5VL_group_get_args_t, H5VL_group_specific_args_t, H5VL_loc_params_t, H5VL_optional_args_t,
    herr_t, hid_t,
};
use crate::object::{Obj, forward, forward_close, forward_new};

type Req = *mut *mut c_void;

/// `group_cls.create`
pub unsafe extern "C" fn create<const K: usize>(
    obj: *mut c_void,
    loc_params: *const H5VL_loc_params_t,
    name: *const c_char,
    lcpl_id: hid_t,
    gcpl_id: hid_t,
    gapl_id: hid_t,
    dxpl_id: hid_t,
    req: Req,
) -> *mut c_void {
    guard(K, "group_create", || {
        // The main file records no object times unless track_times=on.
        // SAFETY: `obj` is our wrapper.
        let parent = unsafe { Obj::from_ptr(obj) }?;
        let own = crate::split::without_times(parent.ctx.as_ref(), gcpl_id)?;
        let gcpl_id = own.as_ref().map_or(gcpl_id, |p| p.0);
        // SAFETY: HDF5's own arguments.
        unsafe { crate::split::parents_for(parent, loc_params, name, lcpl_id, dxpl_id) }?;
        // SAFETY: `obj` is our wrapper and `req` HDF5's request slot; HDF5's own arguments go to
        // the connector below with its object (the same holds for every forward in this file).
        unsafe {
            forward_new(obj, req, |under, vol| {
                ffi::H5VLgroup_create(under, loc_params, vol, name, lcpl_id, gcpl_id, gapl_id, dxpl_id, req)
            })
        }
    })
}

/// `group_cls.open`
pub unsafe extern "C" fn open<const K: usize>(
    obj: *mut c_void,
    loc_params: *const H5VL_loc_params_t,
    name: *const c_char,
    gapl_id: hid_t,
    dxpl_id: hid_t,
    req: Req,
) -> *mut c_void {
    guard(K, "group_open", || {
        // SAFETY: see `create`.
        unsafe {
            forward_new(obj, req, |under, vol| ffi::H5VLgroup_open(under, loc_params, vol, name, gapl_id, dxpl_id, req))
        }
    })
}

/// `group_cls.get`
pub unsafe extern "C" fn get<const K: usize>(
    obj: *mut c_void,
    args: *mut H5VL_group_get_args_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "group_get", || {
        // SAFETY: see `create`.
        unsafe { forward(obj, req, |under, vol| ffi::H5VLgroup_get(under, vol, args, dxpl_id, req)) }
    })
}

/// `group_cls.specific` (mount, unmount, flush, refresh)
pub unsafe extern "C" fn specific<const K: usize>(
    obj: *mut c_void,
    args: *mut H5VL_group_specific_args_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "group_specific", || {
        // SAFETY: HDF5 passes a valid argument struct.
        let mut local = unsafe { *args };
        let args = if local.op_type == H5VL_GROUP_MOUNT {
            // SAFETY: for MOUNT the union holds `mount`, whose child file is one of our wrappers.
            let child = unsafe { Obj::from_ptr(local.args.mount.child_file) }?;
            local.args.mount.child_file = child.under_object;
            &mut local as *mut H5VL_group_specific_args_t
        } else {
            args
        };
        // SAFETY: see `create` (a refresh may replace the wrapper: `forward` copies what it needs).
        unsafe { forward(obj, req, |under, vol| ffi::H5VLgroup_specific(under, vol, args, dxpl_id, req)) }
    })
}

/// `group_cls.optional`
pub unsafe extern "C" fn optional<const K: usize>(
    obj: *mut c_void,
    args: *mut H5VL_optional_args_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "group_optional", || {
        // SAFETY: see `create`.
        unsafe { forward(obj, req, |under, vol| ffi::H5VLgroup_optional(under, vol, args, dxpl_id, req)) }
    })
}

/// `group_cls.close`
pub unsafe extern "C" fn close<const K: usize>(grp: *mut c_void, dxpl_id: hid_t, req: Req) -> herr_t {
    guard(K, "group_close", || {
        // SAFETY: see `create`; HDF5 never uses `grp` again once it is closed.
        unsafe { forward_close(grp, req, |under, vol| ffi::H5VLgroup_close(under, vol, dxpl_id, req)) }
    })
}
