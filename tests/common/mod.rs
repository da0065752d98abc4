//! Helpers shared by the integration tests: the built plugin, small HDF5 calls, the error stack.
#![allow(dead_code)]

use std::ffi::{CStr, CString, c_char, c_uint, c_void};
use std::path::{Path, PathBuf};

use hdf5_sys::h5::{H5open, herr_t};
use hdf5_sys::h5d::{H5Dclose, H5Dcreate2, H5Dopen2, H5Dread, H5Dwrite};
use hdf5_sys::h5e::{H5E_DEFAULT, H5E_direction_t, H5E_error2_t, H5Eclear2, H5Eget_class_name, H5Ewalk2};
use hdf5_sys::h5f::{H5F_ACC_RDONLY, H5F_ACC_TRUNC, H5Fclose, H5Fcreate, H5Fopen};
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5p::H5P_DEFAULT;
use hdf5_sys::h5s::{H5S_ALL, H5Sclose, H5Screate_simple};
use hdf5_sys::h5t::H5T_NATIVE_DOUBLE;

/// The plugin cargo built for this test run (`cargo test` places the cdylib in `deps/`).
pub fn built_plugin() -> PathBuf {
    let deps = std::env::current_exe().unwrap().parent().unwrap().to_path_buf();
    let lib = deps.join("libdset_split.so");
    assert!(lib.exists(), "{} is missing: cargo should have built the cdylib", lib.display());
    lib
}

/// A fresh directory holding only our plugin, as a user sets up `HDF5_PLUGIN_PATH`.
pub fn plugin_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(built_plugin(), dir.path().join("libdset_split.so")).unwrap();
    dir
}

pub fn cstr(s: &str) -> CString {
    CString::new(s).unwrap()
}

pub fn cpath(p: &Path) -> CString {
    CString::new(p.to_str().unwrap()).unwrap()
}

fn native_double() -> hid_t {
    // SAFETY: H5open initializes the library so that the predefined type ids are valid.
    unsafe { H5open() };
    *H5T_NATIVE_DOUBLE
}

/// Writes `data` as the 1-D double dataset `name` of a new file at `path`, opened with `fapl`.
pub fn write_vector(path: &Path, name: &str, data: &[f64], fapl: hid_t) {
    let t = native_double();
    let dims = [data.len() as u64];
    // SAFETY: every id is checked before use and closed; pointers outlive the calls.
    unsafe {
        let f = H5Fcreate(cpath(path).as_ptr(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
        assert!(f >= 0, "H5Fcreate {}", path.display());
        let s = H5Screate_simple(1, dims.as_ptr(), std::ptr::null());
        let d = H5Dcreate2(f, cstr(name).as_ptr(), t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        assert!(d >= 0, "H5Dcreate2 {name}");
        assert!(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.as_ptr().cast()) >= 0);
        assert!(H5Dclose(d) >= 0 && H5Sclose(s) >= 0 && H5Fclose(f) >= 0);
    }
}

/// Reads `n` doubles of dataset `name` from the file at `path` (native connector).
pub fn read_vector(path: &Path, name: &str, n: usize) -> Vec<f64> {
    let t = native_double();
    let mut out = vec![0.0; n];
    // SAFETY: every id is checked before use and closed; the buffer holds `n` doubles.
    unsafe {
        let f = H5Fopen(cpath(path).as_ptr(), H5F_ACC_RDONLY, H5P_DEFAULT);
        assert!(f >= 0, "H5Fopen {}", path.display());
        let d = H5Dopen2(f, cstr(name).as_ptr(), H5P_DEFAULT);
        assert!(d >= 0, "H5Dopen2 {name}");
        assert!(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.as_mut_ptr().cast()) >= 0);
        assert!(H5Dclose(d) >= 0 && H5Fclose(f) >= 0);
    }
    out
}

/// The (class name, description) of every message on the default error stack, then clears it.
pub fn take_error_stack() -> Vec<(String, String)> {
    unsafe extern "C" fn visit(_n: c_uint, err: *const H5E_error2_t, data: *mut c_void) -> herr_t {
        // SAFETY: HDF5 passes a valid entry; `data` is the vector below. The entry is read before
        // H5Eget_class_name, an API call that may reset the default stack.
        unsafe {
            let out = &mut *data.cast::<Vec<(hid_t, String)>>();
            let desc = (*err).desc;
            let desc = if desc.is_null() { String::new() } else { CStr::from_ptr(desc).to_string_lossy().into_owned() };
            out.push(((*err).cls_id, desc));
        }
        0
    }
    let mut raw: Vec<(hid_t, String)> = Vec::new();
    // SAFETY: walks the default stack with a callback that copies each entry.
    unsafe { H5Ewalk2(H5E_DEFAULT, H5E_direction_t::H5E_WALK_UPWARD, Some(visit), (&mut raw as *mut Vec<_>).cast()) };
    let out = raw
        .into_iter()
        .map(|(cls, desc)| {
            let mut buf = [0 as c_char; 128];
            // SAFETY: the buffer is large enough for HDF5 to write a NUL-terminated name into.
            let n = unsafe { H5Eget_class_name(cls, buf.as_mut_ptr(), buf.len()) };
            let name = if n > 0 {
                // SAFETY: HDF5 wrote a NUL-terminated string.
                unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned()
            } else {
                String::new()
            };
            (name, desc)
        })
        .collect();
    // SAFETY: plain call.
    unsafe { H5Eclear2(H5E_DEFAULT) };
    out
}

/// Asserts that a message of the dset_split class containing `needle` is on the stack (taken).
pub fn assert_our_error(needle: &str) {
    let stack = take_error_stack();
    assert!(
        stack.iter().any(|(class, desc)| class == "dset_split" && desc.contains(needle)),
        "no dset_split message containing {needle:?} in {stack:#?}"
    );
}

/// The name of the connector an open object goes through.
pub fn connector_name(obj: hid_t) -> String {
    let mut buf = [0 as c_char; 64];
    // SAFETY: the buffer is large enough; the result is checked.
    let n = unsafe { dset_split::ffi::H5VLget_connector_name(obj, buf.as_mut_ptr(), buf.len()) };
    assert!(n > 0, "H5VLget_connector_name");
    // SAFETY: HDF5 wrote a NUL-terminated string.
    unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned()
}
