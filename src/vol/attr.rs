//! `attr_cls`: attributes, forwarded to the connector below.

use std::ffi::{CStr, c_char, c_void};

use crate::boundary::guard;
use crate::ffi::{
    self, H5VL_attr_get_args_t, H5VL_attr_specific_args_t, H5VL_loc_params_t, H5VL_optional_args_t, herr_t, hid_t,
};
use crate::object::{Obj, forward, forward_close, forward_new};
use crate::split::xref;

type Req = *mut *mut c_void;

/// `attr_cls.create`
pub unsafe extern "C" fn create<const K: usize>(
    obj: *mut c_void,
    loc_params: *const H5VL_loc_params_t,
    name: *const c_char,
    type_id: hid_t,
    space_id: hid_t,
    acpl_id: hid_t,
    aapl_id: hid_t,
    dxpl_id: hid_t,
    req: Req,
) -> *mut c_void {
    guard(K, "attr_create", || {
        // By name through a split dataset's link: its file must not be a link into a cache.
        // SAFETY: `obj` is our wrapper; the location is HDF5's.
        unsafe { crate::split::make_attr_owner_writable(Obj::from_ptr(obj)?, loc_params, dxpl_id) }?;
        // No dimension scale attached across files (see `split::xref`).
        // SAFETY: HDF5's location parameters (or NULL).
        if let (Some(loc), false) = (unsafe { loc_params.as_ref() }, name.is_null()) {
            // SAFETY: as above: our wrapper, a non-NULL NUL-terminated name, a datatype id.
            unsafe { xref::check_scale_attribute(Obj::from_ptr(obj)?, loc, CStr::from_ptr(name), type_id, dxpl_id) }?;
        }
        // SAFETY: `obj` is our wrapper and `req` HDF5's request slot; HDF5's own arguments go to
        // the connector below with its object (the same holds for every forward in this file).
        let made = unsafe {
            forward_new(obj, req, |under, vol| {
                ffi::H5VLattr_create(under, loc_params, vol, name, type_id, space_id, acpl_id, aapl_id, dxpl_id, req)
            })
        }?;
        // SAFETY: the wrapper just made; HDF5's name.
        unsafe { mark_scale_list(made, name) };
        Ok(made)
    })
}

/// `attr_cls.open`
pub unsafe extern "C" fn open<const K: usize>(
    obj: *mut c_void,
    loc_params: *const H5VL_loc_params_t,
    name: *const c_char,
    aapl_id: hid_t,
    dxpl_id: hid_t,
    req: Req,
) -> *mut c_void {
    guard(K, "attr_open", || {
        // By name through a split dataset's link: its file must not be a link into a cache.
        // SAFETY: `obj` is our wrapper; the location is HDF5's.
        unsafe { crate::split::make_attr_owner_writable(Obj::from_ptr(obj)?, loc_params, dxpl_id) }?;
        // SAFETY: see `create`.
        let made = unsafe {
            forward_new(obj, req, |under, vol| ffi::H5VLattr_open(under, loc_params, vol, name, aapl_id, dxpl_id, req))
        }?;
        // SAFETY: the wrapper just made; HDF5's name.
        unsafe { mark_scale_list(made, name) };
        Ok(made)
    })
}

/// Marks `made` if it is a dimension scale's `DIMENSION_LIST` or `REFERENCE_LIST` (NULL `name`:
/// opened by index, not marked).
///
/// # Safety
/// `made` must be NULL or our fresh wrapper; `name` NULL or NUL-terminated.
unsafe fn mark_scale_list(made: *mut c_void, name: *const c_char) {
    // SAFETY: by the contract above.
    if !name.is_null() && xref::is_scale_list(unsafe { CStr::from_ptr(name) }) {
        // SAFETY: by the contract above.
        unsafe { Obj::set_scale_list(made) };
    }
}

/// `attr_cls.read`
pub unsafe extern "C" fn read<const K: usize>(
    attr: *mut c_void,
    mem_type_id: hid_t,
    buf: *mut c_void,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "attr_read", || {
        // SAFETY: see `create`.
        let rc =
            unsafe { forward(attr, req, |under, vol| ffi::H5VLattr_read(under, vol, mem_type_id, buf, dxpl_id, req)) }?;
        if rc >= 0 {
            // Object references read may be written back (see `split::xref`).
            // SAFETY: `attr` is our wrapper; HDF5's memory type and the buffer it just filled.
            unsafe {
                xref::with_attribute_buffer(Obj::from_ptr(attr)?, mem_type_id, buf, dxpl_id, |b| {
                    xref::note_read(b, dxpl_id)
                })
            };
        }
        Ok(rc)
    })
}

/// `attr_cls.write`
pub unsafe extern "C" fn write<const K: usize>(
    attr: *mut c_void,
    mem_type_id: hid_t,
    buf: *const c_void,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "attr_write", || {
        // No reference to an object of another file (see `split::xref`).
        // SAFETY: `attr` is our wrapper; HDF5's memory type and its buffer of the values.
        unsafe {
            xref::with_attribute_buffer(Obj::from_ptr(attr)?, mem_type_id, buf, dxpl_id, |b| {
                xref::check_write(b, dxpl_id)
            })
        }
        .unwrap_or(Ok(()))?;
        // SAFETY: see `create`.
        unsafe { forward(attr, req, |under, vol| ffi::H5VLattr_write(under, vol, mem_type_id, buf, dxpl_id, req)) }
    })
}

/// `attr_cls.get`
pub unsafe extern "C" fn get<const K: usize>(
    obj: *mut c_void,
    args: *mut H5VL_attr_get_args_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "attr_get", || {
        // SAFETY: see `create`.
        unsafe { forward(obj, req, |under, vol| ffi::H5VLattr_get(under, vol, args, dxpl_id, req)) }
    })
}

/// `attr_cls.specific`
pub unsafe extern "C" fn specific<const K: usize>(
    obj: *mut c_void,
    loc_params: *const H5VL_loc_params_t,
    args: *mut H5VL_attr_specific_args_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "attr_specific", || {
        // By name through a split dataset's link: its file must not be a link into a cache.
        // SAFETY: `obj` is our wrapper; the location is HDF5's.
        unsafe { crate::split::make_attr_owner_writable(Obj::from_ptr(obj)?, loc_params, dxpl_id) }?;
        // SAFETY: see `create`.
        unsafe { forward(obj, req, |under, vol| ffi::H5VLattr_specific(under, loc_params, vol, args, dxpl_id, req)) }
    })
}

/// `attr_cls.optional`
pub unsafe extern "C" fn optional<const K: usize>(
    obj: *mut c_void,
    args: *mut H5VL_optional_args_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "attr_optional", || {
        // SAFETY: see `create`.
        unsafe { forward(obj, req, |under, vol| ffi::H5VLattr_optional(under, vol, args, dxpl_id, req)) }
    })
}

/// `attr_cls.close`
pub unsafe extern "C" fn close<const K: usize>(attr: *mut c_void, dxpl_id: hid_t, req: Req) -> herr_t {
    guard(K, "attr_close", || {
        // SAFETY: see `create`; HDF5 never uses `attr` again once it is closed.
        unsafe { forward_close(attr, req, |under, vol| ffi::H5VLattr_close(under, vol, dxpl_id, req)) }
    })
}
