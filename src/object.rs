//! The wrapper every object of ours is: the object of the connector below, and that connector's id.
//!
//! All conversions between HDF5's `void *` and our Rust types live here; the callbacks never cast.

use std::ffi::c_void;
use std::sync::Arc;

use hdf5_sys::h5i::{H5Idec_ref, H5Iinc_ref};

use crate::error::{Error, Result, preserving_stack};
use crate::ffi::{self, H5I_type_t, herr_t, hid_t};
use crate::split::{FileCtx, SplitInfo};

/// A wrapped object (file, group, dataset, attribute, datatype, request...).
///
/// Holds one reference on `under_vol_id`, released when the wrapper is freed, and the context of
/// the main file it was reached from (None for requests and objects outside any file of ours).
#[derive(Debug)]
pub struct Obj {
    pub under_vol_id: hid_t,
    pub under_object: *mut c_void,
    pub ctx: Option<Arc<FileCtx>>,
    /// For a split dataset: its file and its path in the main file.
    pub split: Option<Arc<SplitInfo>>,
    /// Whether this is a dataset the application created anonymous (`H5Dcreate_anon`) through
    /// the connector: only such a dataset may move into a split file when it is linked.
    pub anonymous: bool,
    /// For a split dataset in the virtual form: its source, where its data goes.
    pub data: Option<crate::split::Data>,
    /// For a split dataset in the virtual form whose split file is missing: what to say when
    /// its data is used.
    pub missing: Option<crate::split::Missing>,
    /// For an attribute: whether it is a `DIMENSION_LIST` or `REFERENCE_LIST` (dimension scales'
    /// references; see `split::xref`).
    pub scale_list: bool,
}

impl Obj {
    /// Wraps `under_object` of connector `under_vol_id`, returning the pointer HDF5 keeps.
    pub fn wrap(under_object: *mut c_void, under_vol_id: hid_t) -> *mut c_void {
        Self::wrap_in(under_object, under_vol_id, None)
    }

    /// Like [`Obj::wrap`], for an object of the main file `ctx` describes.
    pub fn wrap_in(under_object: *mut c_void, under_vol_id: hid_t, ctx: Option<Arc<FileCtx>>) -> *mut c_void {
        // SAFETY: `under_vol_id` is a live connector id owned by our caller; taking another
        // reference keeps it alive for as long as this wrapper exists.
        unsafe { H5Iinc_ref(under_vol_id) };
        Box::into_raw(Box::new(Obj {
            under_vol_id,
            under_object,
            ctx,
            split: None,
            anonymous: false,
            data: None,
            missing: None,
            scale_list: false,
        }))
        .cast()
    }

    /// Borrows the wrapper behind a pointer HDF5 hands us.
    ///
    /// # Safety
    /// `ptr` must be NULL or a pointer returned by [`Obj::wrap`] and not yet freed.
    pub unsafe fn from_ptr<'a>(ptr: *const c_void) -> Result<&'a Obj> {
        // SAFETY: by the contract above a non-NULL `ptr` points at a live `Obj`.
        unsafe { ptr.cast::<Obj>().as_ref() }.ok_or_else(|| Error::arg("NULL object pointer"))
    }

    /// Like [`Obj::from_ptr`] but NULL is allowed (e.g. link create with no location object).
    ///
    /// # Safety
    /// As for [`Obj::from_ptr`].
    pub unsafe fn from_nullable<'a>(ptr: *const c_void) -> Option<&'a Obj> {
        // SAFETY: by the contract above a non-NULL `ptr` points at a live `Obj`.
        unsafe { ptr.cast::<Obj>().as_ref() }
    }

    /// The object the dataset's data goes to below: a virtual split dataset's source, or the
    /// wrapped object itself.
    pub fn raw(&self) -> *mut c_void {
        self.data.as_ref().map_or(self.under_object, |d| d.obj)
    }

    /// Attaches the source of a virtual split dataset to the wrapper `ptr`.
    ///
    /// # Safety
    /// As for [`Obj::set_anonymous`].
    pub unsafe fn set_data(ptr: *mut c_void, data: crate::split::Data) {
        // SAFETY: by the contract above.
        if let Some(o) = unsafe { ptr.cast::<Obj>().as_mut() } {
            o.data = Some(data);
        }
    }

    /// Marks the wrapper `ptr` as a virtual split dataset whose split file is missing.
    ///
    /// # Safety
    /// As for [`Obj::set_anonymous`].
    pub unsafe fn set_missing(ptr: *mut c_void, missing: crate::split::Missing) {
        // SAFETY: by the contract above.
        if let Some(o) = unsafe { ptr.cast::<Obj>().as_mut() } {
            o.missing = Some(missing);
        }
    }

    /// The error for using the data of a virtual split dataset whose split file is missing.
    pub fn missing_data(&self) -> Result<()> {
        match (&self.missing, &self.ctx) {
            (Some(m), Some(ctx)) => Err(m.error(ctx)),
            _ => Ok(()),
        }
    }

    /// Records that the wrapped dataset was created anonymous through the connector.
    ///
    /// # Safety
    /// `ptr` must be a live wrapper made by [`Obj::wrap_in`] that nothing else borrows now.
    pub unsafe fn set_anonymous(ptr: *mut c_void) {
        // SAFETY: by the contract above.
        if let Some(o) = unsafe { ptr.cast::<Obj>().as_mut() } {
            o.anonymous = true;
        }
    }

    /// Marks the wrapper `ptr` as a split dataset with `info`.
    ///
    /// # Safety
    /// As for [`Obj::set_anonymous`].
    pub unsafe fn set_split(ptr: *mut c_void, info: Arc<SplitInfo>) {
        // SAFETY: by the contract above.
        if let Some(o) = unsafe { ptr.cast::<Obj>().as_mut() } {
            o.split = Some(info);
        }
    }

    /// Marks the attribute wrapper `ptr` as a dimension scale's reference list.
    ///
    /// # Safety
    /// As for [`Obj::set_anonymous`].
    pub unsafe fn set_scale_list(ptr: *mut c_void) {
        // SAFETY: by the contract above.
        if let Some(o) = unsafe { ptr.cast::<Obj>().as_mut() } {
            o.scale_list = true;
        }
    }

    /// Frees the wrapper and its reference on the connector below, keeping the error stack.
    ///
    /// # Safety
    /// `ptr` must come from [`Obj::wrap`], and nothing may use it afterwards.
    pub unsafe fn free(ptr: *mut c_void) {
        if ptr.is_null() {
            return;
        }
        // SAFETY: by the contract above `ptr` came from `Box::into_raw` in `wrap` and is unique.
        let obj = unsafe { Box::from_raw(ptr.cast::<Obj>()) };
        preserving_stack(|| {
            // SAFETY: releases the reference taken in `wrap`.
            unsafe { H5Idec_ref(obj.under_vol_id) }
        });
    }
}

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
