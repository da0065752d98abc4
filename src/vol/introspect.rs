//! `introspect_cls`: what HDF5 asks about the connector itself.

use std::ffi::{c_int, c_void};

use crate::boundary::guard_light;
use crate::conn_info::ConnInfo;
use crate::error::Error;
use crate::ffi::{
    self, H5VL_CAP_FLAG_THREADSAFE, H5VL_GET_CONN_LVL_CURR, H5VL_class_t, H5VL_get_conn_lvl_t, H5VL_subclass_t, herr_t,
};
use crate::object::Obj;

/// `introspect_cls.get_conn_cls`: our class for the current level, the terminal one from below.
pub unsafe extern "C" fn get_conn_cls<const K: usize>(
    obj: *mut c_void,
    lvl: H5VL_get_conn_lvl_t,
    conn_cls: *mut *const H5VL_class_t,
) -> herr_t {
    guard_light(K, "introspect_get_conn_cls", || {
        // SAFETY: HDF5's out slot.
        let slot = unsafe { conn_cls.as_mut() }.ok_or_else(|| Error::arg("NULL class slot"))?;
        if lvl == H5VL_GET_CONN_LVL_CURR {
            *slot = &super::CLASSES[K];
            return Ok(0);
        }
        // SAFETY: `obj` is one of our wrappers.
        let o = unsafe { Obj::from_ptr(obj) }?;
        // SAFETY: asks the connector below with its own object.
        Ok(unsafe { ffi::H5VLintrospect_get_conn_cls(o.under_object, o.under_vol_id, lvl, conn_cls) })
    })
}

/// `introspect_cls.get_cap_flags`: the flags of the connector below, plus ours, minus
/// thread-safety (our wrappers rely on HDF5's global lock).
pub unsafe extern "C" fn get_cap_flags<const K: usize>(info: *const c_void, cap_flags: *mut u64) -> herr_t {
    guard_light(K, "introspect_get_cap_flags", || {
        let native;
        // SAFETY: HDF5 hands us NULL or an info made by us.
        let info = match unsafe { ConnInfo::borrow(info) } {
            Some(info) => info,
            None => {
                native = ConnInfo::native()?;
                &native
            }
        };
        let mut flags = 0u64;
        // SAFETY: asks the connector below with its own info; the out pointer is a local.
        let rc = unsafe { ffi::H5VLintrospect_get_cap_flags(info.under_vol_info, info.under_vol_id, &mut flags) };
        if rc < 0 {
            return Err(Error::library("cannot get the capability flags of the connector below"));
        }
        // SAFETY: HDF5's out slot.
        let out = unsafe { cap_flags.as_mut() }.ok_or_else(|| Error::arg("NULL flags slot"))?;
        *out = (flags & !H5VL_CAP_FLAG_THREADSAFE) | super::CLASSES[K].cap_flags;
        Ok(0)
    })
}

/// `introspect_cls.opt_query`: whether an optional operation is supported, asked below.
pub unsafe extern "C" fn opt_query<const K: usize>(
    obj: *mut c_void,
    cls: H5VL_subclass_t,
    opt_type: c_int,
    flags: *mut u64,
) -> herr_t {
    guard_light(K, "introspect_opt_query", || {
        // SAFETY: `obj` is one of our wrappers.
        let o = unsafe { Obj::from_ptr(obj) }?;
        // SAFETY: asks the connector below with its own object.
        Ok(unsafe { ffi::H5VLintrospect_opt_query(o.under_object, o.under_vol_id, cls, opt_type, flags) })
    })
}
