//! Forwarding a call to the connector below: the object and connector id a wrapper holds go
//! down, requests and new objects come back wrapped (`Obj`, in `crate::split`).

use std::ffi::c_void;

use crate::error::Result;
use crate::ffi::herr_t;
use crate::ffi::hid_t;
pub use crate::split::Obj;

/// After a forwarded call: wraps the request the connector below returned, if any.
///
/// # Safety
/// `req` must be NULL or point at a valid `void *` (HDF5 passes exactly that).
pub unsafe fn wrap_request(req: *mut *mut c_void, under_vol_id: hid_t) {
    // SAFETY: by the contract above `req` is NULL or points at a writable `void *`.
    if let Some(slot) = unsafe { req.as_mut() } {
        if !slot.is_null() {
            *slot = Obj::wrap(*slot, under_vol_id);
        }
    }
}

type Req = *mut *mut c_void;

/// Borrows our wrapper `obj`, runs the forwarded call `f` with the object and connector id below
/// (copied out first: a refresh may replace the wrapper during the call), then wraps the request
/// the connector below produced, if any.
///
/// # Safety
/// `obj` must be NULL or one of our live wrappers; `req` must be NULL or HDF5's request slot.
pub unsafe fn forward<T>(obj: *const c_void, req: Req, f: impl FnOnce(*mut c_void, hid_t) -> T) -> Result<T> {
    // SAFETY: by the contract above.
    let (under, vol) = unsafe { Obj::from_ptr(obj) }.map(|o| (o.under_object, o.under_vol_id))?;
    let out = f(under, vol);
    // SAFETY: by the contract above.
    unsafe { wrap_request(req, vol) };
    Ok(out)
}

/// [`forward`] for calls that create or open an object: wraps the object returned.
///
/// # Safety
/// As for [`forward`].
pub unsafe fn forward_new(
    obj: *const c_void,
    req: Req,
    f: impl FnOnce(*mut c_void, hid_t) -> *mut c_void,
) -> Result<*mut c_void> {
    // SAFETY: by the contract above.
    let ctx = unsafe { Obj::from_ptr(obj) }?.ctx.clone();
    let mut vol_below = -1;
    // SAFETY: by the contract above.
    let made = unsafe {
        forward(obj, req, |under, vol| {
            vol_below = vol;
            f(under, vol)
        })
    }?;
    Ok(if made.is_null() { made } else { Obj::wrap_in(made, vol_below, ctx) })
}

/// [`forward`] for calls that close an object: frees our wrapper once the object below closed.
///
/// # Safety
/// As for [`forward`]; HDF5 must not use `obj` again after a successful close.
pub unsafe fn forward_close(
    obj: *mut c_void,
    req: Req,
    f: impl FnOnce(*mut c_void, hid_t) -> herr_t,
) -> Result<herr_t> {
    // SAFETY: by the contract above.
    let rc = unsafe { forward(obj, req, f) }?;
    if rc >= 0 {
        // SAFETY: the object below is closed; HDF5 never hands us this wrapper again.
        unsafe { Obj::free(obj) };
    }
    Ok(rc)
}
