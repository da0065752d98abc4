//! `wrap_cls`: lets HDF5 wrap objects it makes itself (iteration callbacks, objects reached
//! through external links, committed datatypes, VDS sources) so that our callbacks only ever
//! see our own wrappers.

use std::ffi::c_void;

use crate::boundary::guard_light;
use crate::error::Error;
use crate::ffi::{self, H5I_type_t, herr_t};
use crate::object::{Obj, WrapCtx};

/// `wrap_cls.get_object`: the terminal object below us.
pub unsafe extern "C" fn get_object(obj: *const c_void) -> *mut c_void {
    guard_light("wrap_get_object", || {
        // SAFETY: `obj` is one of our wrappers.
        let o = unsafe { Obj::from_ptr(obj) }?;
        // SAFETY: asks the connector below about its own object.
        Ok(unsafe { ffi::H5VLget_object(o.under_object, o.under_vol_id) })
    })
}

/// `wrap_cls.get_wrap_ctx`
pub unsafe extern "C" fn get_wrap_ctx(obj: *const c_void, wrap_ctx: *mut *mut c_void) -> herr_t {
    guard_light("wrap_get_wrap_ctx", || {
        // SAFETY: `obj` is one of our wrappers.
        let o = unsafe { Obj::from_ptr(obj) }?;
        let ctx = WrapCtx::for_object(o)?;
        // SAFETY: HDF5's out slot.
        unsafe { wrap_ctx.as_mut() }.ok_or_else(|| Error::arg("NULL wrap context slot"))?.clone_from(&ctx);
        Ok(0)
    })
}

/// `wrap_cls.wrap_object`
pub unsafe extern "C" fn wrap_object(obj: *mut c_void, obj_type: H5I_type_t, wrap_ctx: *mut c_void) -> *mut c_void {
    guard_light("wrap_object", || {
        crate::trace!("wrap_object type={obj_type} obj={obj:p}");
        // SAFETY: `wrap_ctx` came from our `get_wrap_ctx`.
        unsafe { WrapCtx::wrap(wrap_ctx, obj, obj_type) }
    })
}

/// `wrap_cls.unwrap_object`: frees our wrapper once the layer below unwrapped its own.
pub unsafe extern "C" fn unwrap_object(obj: *mut c_void) -> *mut c_void {
    guard_light("wrap_unwrap_object", || {
        // SAFETY: `obj` is one of our wrappers.
        let o = unsafe { Obj::from_ptr(obj) }?;
        // SAFETY: asks the connector below to unwrap its own object.
        let under = unsafe { ffi::H5VLunwrap_object(o.under_object, o.under_vol_id) };
        crate::trace!("unwrap_object obj={under:p}");
        if !under.is_null() {
            // A virtual split dataset HDF5 wrapped itself got its source opened
            // (`reattach_source`): it goes with the wrapper.
            if let Some(data) = &o.data {
                if let Some(ctx) = &o.ctx {
                    ctx.untrack(o);
                }
                let _ = crate::split::close_data(data, o.under_vol_id, crate::below::default_dxpl());
            }
            // SAFETY: the wrapper is no longer referenced by HDF5 after unwrapping.
            unsafe { Obj::free(obj) };
        }
        Ok(under)
    })
}

/// `wrap_cls.free_wrap_ctx`
pub unsafe extern "C" fn free_wrap_ctx(wrap_ctx: *mut c_void) -> herr_t {
    guard_light("wrap_free_wrap_ctx", || {
        // SAFETY: `wrap_ctx` came from our `get_wrap_ctx` and is not used afterwards.
        unsafe { WrapCtx::free(wrap_ctx) };
        Ok(0)
    })
}
