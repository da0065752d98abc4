//! `info_cls`: our connector info (which connector is below, and its info).

use std::ffi::{CStr, c_char, c_int, c_void};

use crate::ffi::sys::h5::H5allocate_memory;

use crate::boundary::guard_light;
use crate::conn_info::ConnInfo;
use crate::error::Error;
use crate::ffi::herr_t;

/// `info_cls.copy`
pub unsafe extern "C" fn copy<const K: usize>(info: *const c_void) -> *mut c_void {
    guard_light(K, "info_copy", || {
        // SAFETY: HDF5 hands us NULL or an info made by us.
        let info = unsafe { ConnInfo::borrow(info) }.ok_or_else(|| Error::arg("NULL connector info to copy"))?;
        Ok(info.try_clone()?.into_raw())
    })
}

/// `info_cls.cmp`
pub unsafe extern "C" fn cmp<const K: usize>(
    cmp_value: *mut c_int,
    info1: *const c_void,
    info2: *const c_void,
) -> herr_t {
    guard_light(K, "info_cmp", || {
        // SAFETY: HDF5 hands us NULL or infos made by us.
        let (a, b) = unsafe { (ConnInfo::borrow(info1), ConnInfo::borrow(info2)) };
        let value = match (a, b) {
            (Some(a), Some(b)) => a.compare(b)?,
            (None, None) => 0,
            (None, Some(_)) => -1,
            (Some(_), None) => 1,
        };
        // SAFETY: HDF5's out slot.
        unsafe { cmp_value.as_mut() }.ok_or_else(|| Error::arg("NULL comparison result slot"))?.clone_from(&value);
        Ok(0)
    })
}

/// `info_cls.free`
pub unsafe extern "C" fn free<const K: usize>(info: *mut c_void) -> herr_t {
    guard_light(K, "info_free", || {
        if !info.is_null() {
            // SAFETY: HDF5 gives back an info made by us, which it no longer uses.
            drop(unsafe { ConnInfo::from_raw(info) });
        }
        Ok(0)
    })
}

/// `info_cls.to_str`: allocated with `H5allocate_memory`, as HDF5 frees it.
pub unsafe extern "C" fn to_str<const K: usize>(info: *const c_void, out: *mut *mut c_char) -> herr_t {
    guard_light(K, "info_to_str", || {
        // SAFETY: HDF5 hands us NULL or an info made by us.
        let info = unsafe { ConnInfo::borrow(info) }.ok_or_else(|| Error::arg("NULL connector info"))?;
        let text = info.to_info_string()?;
        // SAFETY: plain allocation; checked for NULL below.
        let mem = unsafe { H5allocate_memory(text.len() + 1, 0) }.cast::<u8>();
        if mem.is_null() {
            return Err(Error::library("H5allocate_memory failed"));
        }
        // SAFETY: `mem` has room for the text and its NUL; `out` is HDF5's out slot.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), mem, text.len());
            *mem.add(text.len()) = 0;
            *out = mem.cast();
        }
        Ok(0)
    })
}

/// `info_cls.from_str`: the text after the connector name in `HDF5_VOL_CONNECTOR`.
pub unsafe extern "C" fn from_str<const K: usize>(text: *const c_char, out: *mut *mut c_void) -> herr_t {
    guard_light(K, "info_from_str", || {
        let info = if text.is_null() {
            ConnInfo::native()?
        } else {
            // SAFETY: HDF5 passes a NUL-terminated string.
            let text = unsafe { CStr::from_ptr(text) };
            let text = text.to_str().map_err(|_| Error::config("the dset_split info string is not UTF-8"))?;
            ConnInfo::parse(text)?
        };
        // SAFETY: HDF5's out slot.
        unsafe { *out = info.into_raw() };
        Ok(0)
    })
}
