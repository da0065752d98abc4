//! dset-split: an HDF5 VOL connector that passes every operation to the connector below it.
//!
//! Loaded as a plugin (`HDF5_PLUGIN_PATH` + `HDF5_VOL_CONNECTOR="dset_split under_vol=0;under_info={}"`)
//! or registered from C with [`capi::H5VL_dset_split_register`]. See the README for the layout it
//! writes and how to configure it.

pub mod below;
pub mod boundary;
pub mod capi;
pub mod confine;
pub mod conn_info;
pub mod cow;
pub mod driver;
pub mod error;
pub mod ffi;
pub mod info;
pub mod layout;
pub mod log;
pub mod object;
pub mod policy;
pub mod split;
/// The split folder kept in step after creation (part of the engine, `split::lifecycle`).
pub use split::lifecycle;
pub mod target;
pub mod visit;
pub mod vol;

use std::ffi::{CStr, c_void};

use ffi::{H5PL_TYPE_VOL, H5PL_type_t};

/// The connector name users put in `HDF5_VOL_CONNECTOR`.
pub const CONNECTOR_NAME: &str = capi::DSET_SPLIT_NAME;
/// The same, as a C string for the class table.
pub const CONNECTOR_NAME_C: &CStr = c"dset_split";
/// Connector value: in HDF5's testing range (256-511); dset_split has no registered value.
pub const CONNECTOR_VALUE: i32 = capi::DSET_SPLIT_VALUE;
/// Version of the connector's behaviour, reported in the class table (`conn_version`).
pub const CONNECTOR_VERSION: u32 = capi::DSET_SPLIT_CONNECTOR_VERSION;
/// The crate version, also in the C header (a test checks it against Cargo.toml).
pub const VERSION_STRING: &str = capi::DSET_SPLIT_VERSION;

/// Plugin entry point: HDF5 asks what kind of plugin this library is.
#[unsafe(no_mangle)]
pub extern "C" fn H5PLget_plugin_type() -> H5PL_type_t {
    H5PL_TYPE_VOL
}

/// Plugin entry point: HDF5 asks for the connector class. The libhdf5 that asks is the one to
/// bind to (`ffi::bind`): its return address is passed on to [`plugin_info_for`].
#[cfg(target_arch = "x86_64")]
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub extern "C" fn H5PLget_plugin_info() -> *const c_void {
    // At entry the return address is on top of the stack: pass it as the first argument and
    // jump (the callee returns straight to HDF5, with the stack as HDF5's call left it).
    core::arch::naked_asm!("mov rdi, [rsp]", "jmp {f}", f = sym plugin_info_for)
}

/// As above: the return address is in the link register.
#[cfg(target_arch = "aarch64")]
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub extern "C" fn H5PLget_plugin_info() -> *const c_void {
    core::arch::naked_asm!("mov x0, x30", "b {f}", f = sym plugin_info_for)
}

/// The connector class for the libhdf5 holding the code at `caller` (or, when something else
/// asks, such as `dset-split doctor`, the libhdf5 of the global scope), once bound to it: each
/// copy of libhdf5 in the process gets a class table of its own, whose callbacks run with its
/// binding. NULL (HDF5 then reports that the plugin cannot be loaded) when no libhdf5 can be bound.
extern "C" fn plugin_info_for(caller: *const c_void) -> *const c_void {
    let copy = std::panic::catch_unwind(|| match ffi::bind::Lib::containing(caller) {
        Ok(lib) if lib.opt_sym(c"H5VLregister_connector").is_some() => ffi::bind::bind(lib),
        _ => ffi::bind::global().map_err(str::to_string),
    });
    match copy {
        Ok(Ok(k)) => (&vol::CLASSES[k] as *const ffi::H5VL_class_t).cast(),
        Ok(Err(e)) => {
            eprintln!("dset_split: cannot serve: {e}");
            std::ptr::null()
        }
        Err(_) => std::ptr::null(),
    }
}
