//! The C API in `include/dset_split.h`, for programs that register the connector explicitly
//! instead of through `HDF5_VOL_CONNECTOR`.
//!
//! Conventions: functions return a negative value (`hid_t`/`herr_t`) on failure, with a message on
//! the HDF5 error stack; outputs are written only on success; a NULL info string means the native
//! connector below.

use std::ffi::{CStr, c_char, c_uint};

use crate::ffi::sys::h5p::H5Pset_vol;

use crate::boundary::guard;
use crate::conn_info::ConnInfo;
use crate::error::Error;
use crate::ffi::{self, herr_t, hid_t};

/// The connector name, `"dset_split"`.
pub const DSET_SPLIT_NAME: &str = "dset_split";
/// The connector value (HDF5's testing range 256-511).
pub const DSET_SPLIT_VALUE: i32 = 469;
/// The connector's behaviour version (`conn_version` in its class).
pub const DSET_SPLIT_CONNECTOR_VERSION: u32 = 1;
/// The library version.
pub const DSET_SPLIT_VERSION: &str = "0.1.0";

/// Registers the dset_split connector and returns its id (release it with `H5VLclose`), or a
/// negative value on failure. Registering again returns a new reference to the same connector.
#[unsafe(no_mangle)]
pub extern "C" fn H5VL_dset_split_register() -> hid_t {
    // The program calling is linked to libhdf5: the one in the global scope.
    let Ok(copy) = crate::ffi::bind::global() else { return -1 };
    guard(copy, "H5VL_dset_split_register", || {
        let cls = &crate::vol::CLASSES[copy];
        // SAFETY: registers our static class table, which lives for the whole process.
        let id = unsafe { ffi::H5VLregister_connector(cls, crate::ffi::sys::h5p::H5P_DEFAULT) };
        if id < 0 {
            return Err(Error::library("H5VLregister_connector refused the dset_split class"));
        }
        Ok(id)
    })
}

/// Sets dset_split on the file access property list `fapl_id`, configured by `info` (the same
/// text that follows the name in `HDF5_VOL_CONNECTOR`, e.g. `"under_vol=0;under_info={}"`;
/// NULL or `""` for the native connector below). Registers the connector if needed.
///
/// # Safety
/// `info` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn H5Pset_fapl_dset_split(fapl_id: hid_t, info: *const c_char) -> herr_t {
    let Ok(copy) = crate::ffi::bind::global() else { return -1 };
    guard(copy, "H5Pset_fapl_dset_split", || {
        let text = if info.is_null() {
            ""
        } else {
            // SAFETY: by the contract above.
            unsafe { CStr::from_ptr(info) }
                .to_str()
                .map_err(|_| Error::config("the dset_split info string is not UTF-8"))?
        };
        let conn = ConnInfo::parse(text)?;
        let id = H5VL_dset_split_register();
        if id < 0 {
            return Err(Error::library("cannot register the dset_split connector"));
        }
        // SAFETY: `id` is our connector; HDF5 copies `conn` with our info copy callback.
        let rc = unsafe { H5Pset_vol(fapl_id, id, (&conn as *const ConnInfo).cast()) };
        // SAFETY: the property list holds its own reference on the connector now.
        unsafe { ffi::H5VLclose(id) };
        if rc < 0 {
            return Err(Error::library("H5Pset_vol failed (is fapl_id a file access property list?)"));
        }
        Ok(0)
    })
}

/// The file of the HDF5 library the plugin is bound to as copy `copy` (0 for the first HDF5
/// library in the process that loaded it, 1 for a second one ...), or NULL when there is none.
/// The string belongs to the dynamic loader and lives as long as that library.
#[unsafe(no_mangle)]
pub extern "C" fn dset_split_bound_library(copy: c_uint) -> *const c_char {
    crate::ffi::bind::bound_library(copy as usize).map_or(std::ptr::null(), CStr::as_ptr)
}

/// The library version as a static NUL-terminated string, e.g. `"0.1.0"`.
#[unsafe(no_mangle)]
pub extern "C" fn dset_split_version() -> *const c_char {
    c"0.1.0".as_ptr()
}
