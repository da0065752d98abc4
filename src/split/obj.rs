//! The wrapper every object of ours is: the object of the connector below, that connector's id,
//! and what the split engine knows of it (its main file's context; for a split dataset, its
//! file, or in the virtual form its source).
//!
//! All conversions between HDF5's `void *` and our Rust types live here; the callbacks never cast.

use std::ffi::c_void;
use std::sync::Arc;

use crate::ffi::sys::h5i::{H5Idec_ref, H5Iinc_ref};

use super::{Data, FileCtx, Missing, SplitInfo};
use crate::error::{Error, Result, preserving_stack};
use crate::ffi::hid_t;

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
    pub data: Option<Data>,
    /// For a split dataset in the virtual form whose split file is missing: what to say when
    /// its data is used.
    pub missing: Option<Missing>,
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
    pub unsafe fn set_data(ptr: *mut c_void, data: Data) {
        // SAFETY: by the contract above.
        if let Some(o) = unsafe { ptr.cast::<Obj>().as_mut() } {
            o.data = Some(data);
        }
    }

    /// Marks the wrapper `ptr` as a virtual split dataset whose split file is missing.
    ///
    /// # Safety
    /// As for [`Obj::set_anonymous`].
    pub unsafe fn set_missing(ptr: *mut c_void, missing: Missing) {
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

    /// Closes the dataset behind the wrapper `ptr` (not given to HDF5) in the connector below,
    /// then frees the wrapper.
    ///
    /// # Safety
    /// `ptr` must be our fresh wrapper of a dataset, used by nothing else.
    pub unsafe fn close_dataset(ptr: *mut c_void, dxpl: hid_t) -> Result<crate::ffi::herr_t> {
        // SAFETY: by the contract above.
        let o = unsafe { Obj::from_ptr(ptr) }?;
        // SAFETY: the dataset below, closed once.
        let rc = unsafe { crate::ffi::H5VLdataset_close(o.under_object, o.under_vol_id, dxpl, std::ptr::null_mut()) };
        if rc >= 0 {
            // SAFETY: the object below is closed; nothing uses this wrapper again.
            unsafe { Obj::free(ptr) };
        }
        Ok(rc)
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
