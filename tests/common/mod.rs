//! Helpers shared by the integration tests: the built plugin, small HDF5 calls, the error stack.
#![allow(dead_code)]

use std::ffi::{CStr, CString, c_char, c_uint, c_void};
use std::path::{Path, PathBuf};

use hdf5_sys::h5::{H5open, herr_t};
use hdf5_sys::h5d::{H5Dclose, H5Dcreate2, H5Dopen2, H5Dread, H5Dwrite};
use hdf5_sys::h5e::{H5E_DEFAULT, H5E_direction_t, H5E_error2_t, H5Eclear2, H5Eget_class_name, H5Ewalk2};
use hdf5_sys::h5f::{H5F_ACC_RDONLY, H5F_ACC_RDWR, H5F_ACC_TRUNC, H5Fclose, H5Fcreate, H5Fopen};
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

/// A file access property list with dset_split configured by `info`.
pub fn split_fapl(info: &str) -> hid_t {
    // SAFETY: H5open makes the class id valid; the result is checked.
    let fapl = unsafe {
        H5open();
        hdf5_sys::h5p::H5Pcreate(*hdf5_sys::h5p::H5P_CLS_FILE_ACCESS)
    };
    assert!(fapl >= 0);
    let c = cstr(info);
    // SAFETY: a NUL-terminated string that outlives the call.
    let rc = unsafe { dset_split::capi::H5Pset_fapl_dset_split(fapl, c.as_ptr()) };
    assert!(rc >= 0, "H5Pset_fapl_dset_split({info}): {:#?}", take_error_stack());
    fapl
}

/// A link creation property list that creates missing parent groups.
pub fn lcpl_intermediate() -> hid_t {
    // SAFETY: as in `split_fapl`.
    unsafe {
        H5open();
        let l = hdf5_sys::h5p::H5Pcreate(*hdf5_sys::h5p::H5P_CLS_LINK_CREATE);
        assert!(hdf5_sys::h5p::H5Pset_create_intermediate_group(l, 1) >= 0);
        l
    }
}

/// Creates dataset `name` (1-D doubles) at `loc` with `lcpl`, writes `data`, closes it; on
/// failure, the error stack HDF5 left.
pub fn try_dataset(loc: hid_t, name: &str, data: &[f64], lcpl: hid_t) -> Result<(), Vec<(String, String)>> {
    let t = native_double();
    let dims = [data.len() as u64];
    // SAFETY: ids checked; buffers outlive the calls.
    unsafe {
        let s = H5Screate_simple(1, dims.as_ptr(), std::ptr::null());
        let d = H5Dcreate2(loc, cstr(name).as_ptr(), t, s, lcpl, H5P_DEFAULT, H5P_DEFAULT);
        if d < 0 {
            let stack = take_error_stack(); // before any other call clears it
            H5Sclose(s);
            return Err(stack);
        }
        H5Sclose(s);
        assert!(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.as_ptr().cast()) >= 0);
        assert!(H5Dclose(d) >= 0);
    }
    Ok(())
}

/// [`try_dataset`] that must succeed.
pub fn make_dataset(loc: hid_t, name: &str, data: &[f64], lcpl: hid_t) -> bool {
    try_dataset(loc, name, data, lcpl).map_err(|stack| panic!("creating {name}: {stack:#?}")).is_ok()
}

/// [`try_dataset`] that must fail with a dset_split message containing `needle`.
pub fn refused_dataset(loc: hid_t, name: &str, lcpl: hid_t, needle: &str) {
    let stack = try_dataset(loc, name, &[0.0], lcpl).err().unwrap_or_else(|| panic!("{name} was created"));
    assert!(
        stack.iter().any(|(class, desc)| class == "dset_split" && desc.contains(needle)),
        "no dset_split message containing {needle:?} in {stack:#?}"
    );
}

/// The type and (for external links) the `(file, object)` target of link `name`, read natively.
pub fn link_of(path: &Path, name: &str) -> (i32, Option<(String, String)>) {
    let mut info = std::mem::MaybeUninit::<dset_split::ffi::H5L_info2_t>::zeroed();
    // SAFETY: ids checked; the info and buffer are ours.
    unsafe {
        let f = H5Fopen(cpath(path).as_ptr(), H5F_ACC_RDONLY, H5P_DEFAULT);
        assert!(f >= 0);
        let n = cstr(name);
        assert!(hdf5_sys::h5l::H5Lget_info2(f, n.as_ptr(), info.as_mut_ptr().cast(), H5P_DEFAULT) >= 0, "{name}");
        let info = info.assume_init();
        let mut target = None;
        if info.type_ == dset_split::ffi::H5L_TYPE_EXTERNAL {
            let mut buf = vec![0u8; info.u.val_size];
            assert!(dset_split::ffi::H5Lget_val(f, n.as_ptr(), buf.as_mut_ptr().cast(), buf.len(), H5P_DEFAULT) >= 0);
            let (file, obj) = dset_split::below::unpack_external_link(&buf).unwrap();
            target = Some((String::from_utf8(file).unwrap(), String::from_utf8(obj).unwrap()));
        }
        H5Fclose(f);
        (info.type_, target)
    }
}

/// Every file below `dir`, relative, sorted (without a split folder's owner file).
pub fn files_below(dir: &Path) -> Vec<String> {
    fn walk(d: &Path, root: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, root, out);
            } else if p.file_name().is_some_and(|n| n == dset_split::layout::OWNER_FILE) && d == root {
                // the split folder's owner file: checked by its own test
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Switches HDF5's automatic error printing off until dropped (for expected failures).
pub struct QuietErrors(hdf5_sys::h5e::H5E_auto2_t, *mut c_void);

pub fn quiet_errors() -> QuietErrors {
    let mut q = QuietErrors(None, std::ptr::null_mut());
    // SAFETY: reads the current printing function into `q`, then switches printing off.
    unsafe {
        H5open();
        hdf5_sys::h5e::H5Eget_auto2(H5E_DEFAULT, &mut q.0, &mut q.1);
        hdf5_sys::h5e::H5Eset_auto2(H5E_DEFAULT, None, std::ptr::null_mut());
    }
    q
}

impl Drop for QuietErrors {
    fn drop(&mut self) {
        // SAFETY: restores what `quiet_errors` read.
        unsafe { hdf5_sys::h5e::H5Eset_auto2(H5E_DEFAULT, self.0, self.1) };
    }
}

/// Creates (truncates) the file `path` with `fapl`; panics with HDF5's error stack on failure.
pub fn create(path: &Path, fapl: hid_t) -> hid_t {
    // SAFETY: plain call; checked.
    let f = unsafe { H5Fcreate(cpath(path).as_ptr(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl) };
    assert!(f >= 0, "H5Fcreate: {:#?}", take_error_stack());
    f
}

/// Opens the file `path` read-write with `fapl`.
pub fn open_rw(path: &Path, fapl: hid_t) -> hid_t {
    // SAFETY: plain call; checked.
    let f = unsafe { H5Fopen(cpath(path).as_ptr(), H5F_ACC_RDWR, fapl) };
    assert!(f >= 0, "H5Fopen: {:#?}", take_error_stack());
    f
}

/// Closes a file id.
pub fn close(id: hid_t) {
    // SAFETY: closes a file id we own.
    assert!(unsafe { H5Fclose(id) } >= 0);
}
