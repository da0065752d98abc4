//! `blob_cls` (variable-length data and references in files) and `token_cls` (object
//! addresses), forwarded to the connector below.

use std::ffi::{c_char, c_int, c_void};

use crate::boundary::{guard, guard_light};
use crate::ffi::{self, H5I_type_t, H5O_token_t, H5VL_blob_specific_args_t, H5VL_optional_args_t, herr_t};
use crate::object::forward;

const NO_REQ: *mut *mut c_void = std::ptr::null_mut();

/// `blob_cls.put`
pub unsafe extern "C" fn put<const K: usize>(
    obj: *mut c_void,
    buf: *const c_void,
    size: usize,
    blob_id: *mut c_void,
    ctx: *mut c_void,
) -> herr_t {
    guard(K, "blob_put", || {
        // SAFETY: `obj` is our file wrapper; the other arguments are HDF5's own (the same holds
        // for every forward in this file).
        unsafe { forward(obj, NO_REQ, |under, vol| ffi::H5VLblob_put(under, vol, buf, size, blob_id, ctx)) }
    })
}

/// `blob_cls.get`
pub unsafe extern "C" fn get<const K: usize>(
    obj: *mut c_void,
    blob_id: *const c_void,
    buf: *mut c_void,
    size: usize,
    ctx: *mut c_void,
) -> herr_t {
    guard(K, "blob_get", || {
        // SAFETY: see `put`.
        unsafe { forward(obj, NO_REQ, |under, vol| ffi::H5VLblob_get(under, vol, blob_id, buf, size, ctx)) }
    })
}

/// `blob_cls.specific`
pub unsafe extern "C" fn specific<const K: usize>(
    obj: *mut c_void,
    blob_id: *mut c_void,
    args: *mut H5VL_blob_specific_args_t,
) -> herr_t {
    guard(K, "blob_specific", || {
        // SAFETY: see `put`.
        unsafe { forward(obj, NO_REQ, |under, vol| ffi::H5VLblob_specific(under, vol, blob_id, args)) }
    })
}

/// `blob_cls.optional`
pub unsafe extern "C" fn optional<const K: usize>(
    obj: *mut c_void,
    blob_id: *mut c_void,
    args: *mut H5VL_optional_args_t,
) -> herr_t {
    guard(K, "blob_optional", || {
        // SAFETY: see `put`.
        unsafe { forward(obj, NO_REQ, |under, vol| ffi::H5VLblob_optional(under, vol, blob_id, args)) }
    })
}

/// `token_cls.cmp`
pub unsafe extern "C" fn token_cmp<const K: usize>(
    obj: *mut c_void,
    token1: *const H5O_token_t,
    token2: *const H5O_token_t,
    cmp_value: *mut c_int,
) -> herr_t {
    guard_light(K, "token_cmp", || {
        // SAFETY: see `put`.
        unsafe { forward(obj, NO_REQ, |under, vol| ffi::H5VLtoken_cmp(under, vol, token1, token2, cmp_value)) }
    })
}

/// `token_cls.to_str`
pub unsafe extern "C" fn token_to_str<const K: usize>(
    obj: *mut c_void,
    obj_type: H5I_type_t,
    token: *const H5O_token_t,
    token_str: *mut *mut c_char,
) -> herr_t {
    guard_light(K, "token_to_str", || {
        // SAFETY: see `put`.
        unsafe { forward(obj, NO_REQ, |under, vol| ffi::H5VLtoken_to_str(under, obj_type, vol, token, token_str)) }
    })
}

/// `token_cls.from_str`
pub unsafe extern "C" fn token_from_str<const K: usize>(
    obj: *mut c_void,
    obj_type: H5I_type_t,
    token_str: *const c_char,
    token: *mut H5O_token_t,
) -> herr_t {
    guard_light(K, "token_from_str", || {
        // SAFETY: see `put`.
        unsafe { forward(obj, NO_REQ, |under, vol| ffi::H5VLtoken_from_str(under, obj_type, vol, token_str, token)) }
    })
}
