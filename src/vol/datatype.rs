//! `datatype_cls`: committed datatypes, forwarded to the connector below.

use std::ffi::{c_char, c_void};

use crate::boundary::guard;
use crate::ffi::{
    self, H5VL_datatype_get_args_t, H5VL_datatype_specific_args_t, H5VL_loc_params_t, H5VL_optional_args_t, herr_t,
    hid_t,
};
use crate::object::{Obj, forward, forward_close, forward_new};

type Req = *mut *mut c_void;

/// `datatype_cls.commit`
pub unsafe extern "C" fn commit<const K: usize>(
    obj: *mut c_void,
    loc_params: *const H5VL_loc_params_t,
    name: *const c_char,
    type_id: hid_t,
    lcpl_id: hid_t,
    tcpl_id: hid_t,
    tapl_id: hid_t,
    dxpl_id: hid_t,
    req: Req,
) -> *mut c_void {
    guard(K, "datatype_commit", || {
        // The main file records no object times unless track_times=on.
        // SAFETY: `obj` is our wrapper.
        let parent = unsafe { Obj::from_ptr(obj) }?;
        let own = crate::split::without_times(parent.ctx.as_ref(), tcpl_id)?;
        let tcpl_id = own.as_ref().map_or(tcpl_id, |p| p.0);
        // SAFETY: HDF5's own arguments.
        unsafe { crate::split::parents_for(parent, loc_params, name, lcpl_id, dxpl_id) }?;
        // SAFETY: `obj` is our wrapper and `req` HDF5's request slot; HDF5's own arguments go to
        // the connector below with its object (the same holds for every forward in this file).
        unsafe {
            forward_new(obj, req, |under, vol| {
                ffi::H5VLdatatype_commit(under, loc_params, vol, name, type_id, lcpl_id, tcpl_id, tapl_id, dxpl_id, req)
            })
        }
    })
}

/// `datatype_cls.open`
pub unsafe extern "C" fn open<const K: usize>(
    obj: *mut c_void,
    loc_params: *const H5VL_loc_params_t,
    name: *const c_char,
    tapl_id: hid_t,
    dxpl_id: hid_t,
    req: Req,
) -> *mut c_void {
    guard(K, "datatype_open", || {
        // SAFETY: see `commit`.
        unsafe {
            forward_new(obj, req, |under, vol| {
                ffi::H5VLdatatype_open(under, loc_params, vol, name, tapl_id, dxpl_id, req)
            })
        }
    })
}

/// `datatype_cls.get`
pub unsafe extern "C" fn get<const K: usize>(
    dt: *mut c_void,
    args: *mut H5VL_datatype_get_args_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "datatype_get", || {
        // SAFETY: see `commit`.
        unsafe { forward(dt, req, |under, vol| ffi::H5VLdatatype_get(under, vol, args, dxpl_id, req)) }
    })
}

/// `datatype_cls.specific` (flush, refresh)
pub unsafe extern "C" fn specific<const K: usize>(
    obj: *mut c_void,
    args: *mut H5VL_datatype_specific_args_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "datatype_specific", || {
        // SAFETY: see `commit` (a refresh may replace the wrapper: `forward` copies what it needs).
        unsafe { forward(obj, req, |under, vol| ffi::H5VLdatatype_specific(under, vol, args, dxpl_id, req)) }
    })
}

/// `datatype_cls.optional`
pub unsafe extern "C" fn optional<const K: usize>(
    obj: *mut c_void,
    args: *mut H5VL_optional_args_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "datatype_optional", || {
        // SAFETY: see `commit`.
        unsafe { forward(obj, req, |under, vol| ffi::H5VLdatatype_optional(under, vol, args, dxpl_id, req)) }
    })
}

/// `datatype_cls.close`
pub unsafe extern "C" fn close<const K: usize>(dt: *mut c_void, dxpl_id: hid_t, req: Req) -> herr_t {
    guard(K, "datatype_close", || {
        // SAFETY: see `commit`; HDF5 never uses `dt` again once it is closed.
        unsafe { forward_close(dt, req, |under, vol| ffi::H5VLdatatype_close(under, vol, dxpl_id, req)) }
    })
}
