//! `wrap_cls`: lets HDF5 wrap objects it makes itself (iteration callbacks, objects reached
//! through external links, committed datatypes, VDS sources) so that our callbacks only ever
//! see our own wrappers.

use std::ffi::c_void;

use crate::boundary::guard_light;
use crate::error::{Error, Result, preserving_stack};
use crate::ffi::{self, H5I_type_t, herr_t, hid_t};
use std::sync::Arc;

use crate::ffi::sys::h5i::{H5Idec_ref, H5Iinc_ref};

use crate::object::Obj;
use crate::split::FileCtx;

/// `wrap_cls.get_object`: the terminal object below us.
pub unsafe extern "C" fn get_object<const K: usize>(obj: *const c_void) -> *mut c_void {
    guard_light(K, "wrap_get_object", || {
        // SAFETY: `obj` is one of our wrappers.
        let o = unsafe { Obj::from_ptr(obj) }?;
        // SAFETY: asks the connector below about its own object.
        Ok(unsafe { ffi::H5VLget_object(o.under_object, o.under_vol_id) })
    })
}

/// `wrap_cls.get_wrap_ctx`
pub unsafe extern "C" fn get_wrap_ctx<const K: usize>(obj: *const c_void, wrap_ctx: *mut *mut c_void) -> herr_t {
    guard_light(K, "wrap_get_wrap_ctx", || {
        // SAFETY: `obj` is one of our wrappers.
        let o = unsafe { Obj::from_ptr(obj) }?;
        let ctx = WrapCtx::for_object(o)?;
        // SAFETY: HDF5's out slot.
        unsafe { wrap_ctx.as_mut() }.ok_or_else(|| Error::arg("NULL wrap context slot"))?.clone_from(&ctx);
        Ok(0)
    })
}

/// `wrap_cls.wrap_object`
pub unsafe extern "C" fn wrap_object<const K: usize>(
    obj: *mut c_void,
    obj_type: H5I_type_t,
    wrap_ctx: *mut c_void,
) -> *mut c_void {
    guard_light(K, "wrap_object", || {
        crate::trace!("wrap_object type={obj_type} obj={obj:p}");
        // SAFETY: `wrap_ctx` came from our `get_wrap_ctx`.
        unsafe { WrapCtx::wrap(wrap_ctx, obj, obj_type) }
    })
}

/// `wrap_cls.unwrap_object`: frees our wrapper once the layer below unwrapped its own.
pub unsafe extern "C" fn unwrap_object<const K: usize>(obj: *mut c_void) -> *mut c_void {
    guard_light(K, "wrap_unwrap_object", || {
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
pub unsafe extern "C" fn free_wrap_ctx<const K: usize>(wrap_ctx: *mut c_void) -> herr_t {
    guard_light(K, "wrap_free_wrap_ctx", || {
        // SAFETY: `wrap_ctx` came from our `get_wrap_ctx` and is not used afterwards.
        unsafe { WrapCtx::free(wrap_ctx) };
        Ok(0)
    })
}

/// The context HDF5 keeps while it wraps objects it creates itself (iteration callbacks,
/// external links, committed datatypes, VDS sources).
#[derive(Debug)]
pub struct WrapCtx {
    pub under_vol_id: hid_t,
    pub under_wrap_ctx: *mut c_void,
    /// Weak: HDF5 may keep a wrap context inside state our `FileCtx` itself holds.
    pub ctx: Option<std::sync::Weak<FileCtx>>,
}

impl WrapCtx {
    /// Builds the wrap context for `obj`.
    pub fn for_object(obj: &Obj) -> Result<*mut c_void> {
        let mut under_wrap_ctx = std::ptr::null_mut();
        // SAFETY: `obj` is a live wrapper; the out pointer is a valid local.
        let rc = unsafe { ffi::H5VLget_wrap_ctx(obj.under_object, obj.under_vol_id, &mut under_wrap_ctx) };
        if rc < 0 {
            return Err(Error::library("cannot get the wrap context of the connector below"));
        }
        // SAFETY: the id is live (held by `obj`); this reference belongs to the new context.
        unsafe { H5Iinc_ref(obj.under_vol_id) };
        Ok(Box::into_raw(Box::new(WrapCtx {
            under_vol_id: obj.under_vol_id,
            under_wrap_ctx,
            ctx: obj.ctx.as_ref().map(Arc::downgrade),
        }))
        .cast())
    }

    /// Wraps an object HDF5 made, using the context.
    ///
    /// # Safety
    /// `ctx` must come from [`WrapCtx::for_object`] and not be freed.
    pub unsafe fn wrap(ctx: *mut c_void, obj: *mut c_void, obj_type: H5I_type_t) -> Result<*mut c_void> {
        // SAFETY: by the contract above.
        let ctx = unsafe { ctx.cast::<WrapCtx>().as_ref() }.ok_or_else(|| Error::arg("NULL wrap context"))?;
        // SAFETY: forwards HDF5's object and type with the under connector's own wrap context.
        let under = unsafe { ffi::H5VLwrap_object(obj, obj_type, ctx.under_vol_id, ctx.under_wrap_ctx) };
        if under.is_null() {
            return Err(Error::library("the connector below could not wrap an object"));
        }
        let file = ctx.ctx.as_ref().and_then(|w| w.upgrade());
        let made = Obj::wrap_in(under, ctx.under_vol_id, file.clone());
        if let (Some(file), ffi::H5I_DATASET) = (file, obj_type) {
            // SAFETY: our fresh wrapper of a dataset.
            unsafe { crate::split::reattach_source(&file, made) };
        }
        Ok(made)
    }

    /// Frees the context.
    ///
    /// # Safety
    /// `ctx` must come from [`WrapCtx::for_object`], and nothing may use it afterwards.
    pub unsafe fn free(ctx: *mut c_void) {
        if ctx.is_null() {
            return;
        }
        // SAFETY: by the contract above the pointer came from `Box::into_raw` and is unique.
        let ctx = unsafe { Box::from_raw(ctx.cast::<WrapCtx>()) };
        preserving_stack(|| {
            if !ctx.under_wrap_ctx.is_null() {
                // SAFETY: the under context was produced by `H5VLget_wrap_ctx` for this connector.
                unsafe { ffi::H5VLfree_wrap_ctx(ctx.under_wrap_ctx, ctx.under_vol_id) };
            }
            // SAFETY: releases the reference taken in `for_object`.
            unsafe { H5Idec_ref(ctx.under_vol_id) };
        });
    }
}
