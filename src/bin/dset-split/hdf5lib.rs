//! The HDF5 library the command works with. Like the plugin, the command is not linked to
//! libhdf5: it binds at run time (`dset_split::ffi::bind`) to the one in the global scope, so it
//! first loads one there: `DSET_SPLIT_HDF5_LIB` (a libhdf5 file: the Python package's `dset-split`
//! sets it to the one h5py's wheel bundles), else the HDF5 it was built with (not in the Python
//! package: that path is the build machine's), else `HDF5_DIR`'s.

use std::path::PathBuf;

use dset_split::ffi::bind::Lib;

/// Where to look for libhdf5, in order.
fn candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = std::env::var_os("DSET_SPLIT_HDF5_LIB") {
        out.push(PathBuf::from(p));
    }
    let built = env!("DSET_SPLIT_HDF5_FALLBACK");
    if !built.is_empty() {
        out.push(PathBuf::from(built).join("libhdf5.so"));
    }
    if let Some(dir) = std::env::var_os("HDF5_DIR") {
        out.push(PathBuf::from(dir).join("lib").join("libhdf5.so"));
    }
    out
}

/// Makes a libhdf5 available to the binding, or says why none is.
pub fn load() -> Result<(), String> {
    if Lib::global().is_ok() {
        return Ok(());
    }
    let mut tried = Vec::new();
    for path in candidates() {
        if !path.exists() {
            tried.push(format!("{} (missing)", path.display()));
            continue;
        }
        // Into the global scope, for good: the binding finds it there.
        if let Err(why) = dset_split::ffi::bind::dlopen(&path, libc::RTLD_NOW | libc::RTLD_GLOBAL) {
            tried.push(format!("{}: {why}", path.display()));
            continue;
        }
        if Lib::global().is_ok() {
            return Ok(());
        }
        tried.push(format!("{}: not an HDF5 library", path.display()));
    }
    Err(format!(
        "dset-split needs an HDF5 library (1.14 or 2.x): install h5py (pip install h5py) and run it as the \
         Python package's dset-split, or set DSET_SPLIT_HDF5_LIB=/path/to/libhdf5.so; tried: {}",
        if tried.is_empty() { "nothing".to_string() } else { tried.join("; ") }
    ))
}
