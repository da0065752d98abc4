//! `request_cls`: asynchronous requests of the connector below, wrapped like any other object.

use std::ffi::c_void;

use crate::boundary::guard;
use crate::ffi::{
    self, H5VL_REQUEST_STATUS_IN_PROGRESS, H5VL_optional_args_t, H5VL_request_notify_t, H5VL_request_specific_args_t,
    H5VL_request_status_t, herr_t,
};
use crate::object::Obj;

/// Borrows the request wrapper, calls the connector below, and frees the wrapper when `done`
/// says the request is finished with.
///
/// # Safety
/// `req` must be one of our request wrappers.
unsafe fn call(
    req: *mut c_void,
    f: impl FnOnce(*mut c_void, ffi::hid_t) -> herr_t,
    done: impl FnOnce(herr_t) -> bool,
) -> crate::error::Result<herr_t> {
    // SAFETY: by the contract above.
    let (under, vol) = unsafe { Obj::from_ptr(req) }.map(|o| (o.under_object, o.under_vol_id))?;
    let rc = f(under, vol);
    if done(rc) {
        // SAFETY: the connector below is finished with the request; HDF5 drops its pointer.
        unsafe { Obj::free(req) };
    }
    Ok(rc)
}

/// `request_cls.wait`: frees our wrapper once the request is no longer in progress.
pub unsafe extern "C" fn wait<const K: usize>(
    req: *mut c_void,
    timeout: u64,
    status: *mut H5VL_request_status_t,
) -> herr_t {
    guard(K, "request_wait", || {
        // SAFETY: `req` is our wrapper; `status` is HDF5's out slot, read only after a success.
        unsafe {
            call(
                req,
                |under, vol| ffi::H5VLrequest_wait(under, vol, timeout, status),
                |rc| rc >= 0 && *status != H5VL_REQUEST_STATUS_IN_PROGRESS,
            )
        }
    })
}

/// `request_cls.notify`
pub unsafe extern "C" fn notify<const K: usize>(
    req: *mut c_void,
    cb: H5VL_request_notify_t,
    ctx: *mut c_void,
) -> herr_t {
    guard(K, "request_notify", || {
        // SAFETY: `req` is our wrapper; the callback and context are HDF5's own.
        unsafe { call(req, |under, vol| ffi::H5VLrequest_notify(under, vol, cb, ctx), |rc| rc >= 0) }
    })
}

/// `request_cls.cancel`
pub unsafe extern "C" fn cancel<const K: usize>(req: *mut c_void, status: *mut H5VL_request_status_t) -> herr_t {
    guard(K, "request_cancel", || {
        // SAFETY: `req` is our wrapper; `status` is HDF5's out slot.
        unsafe { call(req, |under, vol| ffi::H5VLrequest_cancel(under, vol, status), |rc| rc >= 0) }
    })
}

/// `request_cls.specific`
pub unsafe extern "C" fn specific<const K: usize>(req: *mut c_void, args: *mut H5VL_request_specific_args_t) -> herr_t {
    guard(K, "request_specific", || {
        // SAFETY: `req` is our wrapper; the arguments are HDF5's own.
        unsafe { call(req, |under, vol| ffi::H5VLrequest_specific(under, vol, args), |_| false) }
    })
}

/// `request_cls.optional`
pub unsafe extern "C" fn optional<const K: usize>(req: *mut c_void, args: *mut H5VL_optional_args_t) -> herr_t {
    guard(K, "request_optional", || {
        // SAFETY: `req` is our wrapper; the arguments are HDF5's own.
        unsafe { call(req, |under, vol| ffi::H5VLrequest_optional(under, vol, args), |_| false) }
    })
}

/// `request_cls.free`
pub unsafe extern "C" fn free<const K: usize>(req: *mut c_void) -> herr_t {
    guard(K, "request_free", || {
        // SAFETY: `req` is our wrapper.
        unsafe { call(req, |under, vol| ffi::H5VLrequest_free(under, vol), |rc| rc >= 0) }
    })
}
