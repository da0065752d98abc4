//! `dataset_cls`: datasets, forwarded to the connector below (splitting comes in `create`).

use std::ffi::{c_char, c_void};

use crate::boundary::guard;
use crate::error::{Error, Result};
use crate::ffi::{
    self, H5VL_dataset_get_args_t, H5VL_dataset_specific_args_t, H5VL_loc_params_t,
    H5VL_optional_args_t, herr_t, hid_t,
};
use crate::object::{Obj, forward, forward_close, forward_new, wrap_request};

type Req = *mut *mut c_void;

/// `dataset_cls.create`
pub unsafe extern "C" fn create(
    obj: *mut c_void,
    loc_params: *const H5VL_loc_params_t,
    name: *const c_char,
    lcpl_id: hid_t,
    type_id: hid_t,
    space_id: hid_t,
    dcpl_id: hid_t,
    dapl_id: hid_t,
    dxpl_id: hid_t,
    req: Req,
) -> *mut c_void {
    guard("dataset_create", || {
        // SAFETY: `obj` is our wrapper and `req` HDF5's request slot; HDF5's own arguments go to
        // the connector below with its object (the same holds for every forward in this file).
        unsafe {
            forward_new(obj, req, |under, vol| {
                ffi::H5VLdataset_create(
                    under, loc_params, vol, name, lcpl_id, type_id, space_id, dcpl_id, dapl_id,
                    dxpl_id, req,
                )
            })
        }
    })
}

/// `dataset_cls.open`
pub unsafe extern "C" fn open(
    obj: *mut c_void,
    loc_params: *const H5VL_loc_params_t,
    name: *const c_char,
    dapl_id: hid_t,
    dxpl_id: hid_t,
    req: Req,
) -> *mut c_void {
    guard("dataset_open", || {
        // SAFETY: see `create`.
        unsafe {
            forward_new(obj, req, |under, vol| {
                ffi::H5VLdataset_open(under, loc_params, vol, name, dapl_id, dxpl_id, req)
            })
        }
    })
}

/// The objects below of `count` wrapped datasets, and the one connector they all belong to.
///
/// # Safety
/// `dset` must point at `count` of our wrappers.
unsafe fn unwrap_all(count: usize, dset: *mut *mut c_void) -> Result<(Vec<*mut c_void>, hid_t)> {
    if count == 0 || dset.is_null() {
        return Err(Error::arg("no dataset given"));
    }
    // SAFETY: by the contract above `dset` holds `count` pointers.
    let wrapped = unsafe { std::slice::from_raw_parts(dset, count) };
    let mut under = Vec::with_capacity(count);
    let mut vol_id = None;
    for &w in wrapped {
        // SAFETY: each element is one of our wrappers.
        let o = unsafe { Obj::from_ptr(w) }?;
        match vol_id {
            None => vol_id = Some(o.under_vol_id),
            Some(id) if id != o.under_vol_id => {
                return Err(Error::arg(
                    "a multi-dataset I/O call mixes datasets of different connectors below",
                ));
            }
            Some(_) => {}
        }
        under.push(o.under_object);
    }
    Ok((under, vol_id.unwrap_or(-1)))
}

/// `dataset_cls.read` (one or many datasets: `H5Dread`, `H5Dread_multi`)
pub unsafe extern "C" fn read(
    count: usize,
    dset: *mut *mut c_void,
    mem_type_id: *mut hid_t,
    mem_space_id: *mut hid_t,
    file_space_id: *mut hid_t,
    dxpl_id: hid_t,
    buf: *mut *mut c_void,
    req: Req,
) -> herr_t {
    guard("dataset_read", || {
        // SAFETY: HDF5 passes `count` of our dataset wrappers.
        let (mut under, vol_id) = unsafe { unwrap_all(count, dset) }?;
        // SAFETY: forwards HDF5's arrays unchanged, with the objects below in place of ours.
        let rc = unsafe {
            ffi::H5VLdataset_read(
                count,
                under.as_mut_ptr(),
                vol_id,
                mem_type_id,
                mem_space_id,
                file_space_id,
                dxpl_id,
                buf,
                req,
            )
        };
        // SAFETY: `req` is HDF5's request slot.
        unsafe { wrap_request(req, vol_id) };
        Ok(rc)
    })
}

/// `dataset_cls.write` (one or many datasets: `H5Dwrite`, `H5Dwrite_multi`)
pub unsafe extern "C" fn write(
    count: usize,
    dset: *mut *mut c_void,
    mem_type_id: *mut hid_t,
    mem_space_id: *mut hid_t,
    file_space_id: *mut hid_t,
    dxpl_id: hid_t,
    buf: *mut *const c_void,
    req: Req,
) -> herr_t {
    guard("dataset_write", || {
        // SAFETY: HDF5 passes `count` of our dataset wrappers.
        let (mut under, vol_id) = unsafe { unwrap_all(count, dset) }?;
        // SAFETY: forwards HDF5's arrays unchanged, with the objects below in place of ours.
        let rc = unsafe {
            ffi::H5VLdataset_write(
                count,
                under.as_mut_ptr(),
                vol_id,
                mem_type_id,
                mem_space_id,
                file_space_id,
                dxpl_id,
                buf,
                req,
            )
        };
        // SAFETY: `req` is HDF5's request slot.
        unsafe { wrap_request(req, vol_id) };
        Ok(rc)
    })
}

/// `dataset_cls.get`
pub unsafe extern "C" fn get(
    obj: *mut c_void,
    args: *mut H5VL_dataset_get_args_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard("dataset_get", || {
        // SAFETY: see `create`.
        unsafe {
            forward(obj, req, |under, vol| {
                ffi::H5VLdataset_get(under, vol, args, dxpl_id, req)
            })
        }
    })
}

/// `dataset_cls.specific` (set extent, flush, refresh)
pub unsafe extern "C" fn specific(
    obj: *mut c_void,
    args: *mut H5VL_dataset_specific_args_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard("dataset_specific", || {
        // SAFETY: see `create` (a refresh may replace the wrapper: `forward` copies what it needs).
        unsafe {
            forward(obj, req, |under, vol| {
                ffi::H5VLdataset_specific(under, vol, args, dxpl_id, req)
            })
        }
    })
}

/// `dataset_cls.optional`
pub unsafe extern "C" fn optional(
    obj: *mut c_void,
    args: *mut H5VL_optional_args_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard("dataset_optional", || {
        // SAFETY: see `create`.
        unsafe {
            forward(obj, req, |under, vol| {
                ffi::H5VLdataset_optional(under, vol, args, dxpl_id, req)
            })
        }
    })
}

/// `dataset_cls.close`
pub unsafe extern "C" fn close(dset: *mut c_void, dxpl_id: hid_t, req: Req) -> herr_t {
    guard("dataset_close", || {
        // SAFETY: see `create`; HDF5 never uses `dset` again once it is closed.
        unsafe {
            forward_close(dset, req, |under, vol| {
                ffi::H5VLdataset_close(under, vol, dxpl_id, req)
            })
        }
    })
}
