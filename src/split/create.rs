//! Creating split datasets (`H5Dcreate2`): what stays in the main file, the name checks, the
//! split file and its dataset, and the external link.

use std::ffi::{CStr, CString, c_char, c_uint, c_void};
use std::sync::Arc;

use crate::ffi::sys::h5p::{
    H5P_CLS_FILE_CREATE, H5Pcopy, H5Pcreate, H5Pget_create_intermediate_group, H5Pget_external_count,
    H5Pset_obj_track_times,
};
use crate::ffi::sys::h5s::H5Sget_simple_extent_npoints;
use crate::ffi::sys::h5t::{H5Tcommitted, H5Tget_size};

use super::Obj;
use super::*;
use crate::below::{self, Below};
use crate::conn_info::Plist;
use crate::error::{Error, Result, preserving_stack};
use crate::ffi::{
    self, H5D_VIRTUAL, H5F_ACC_EXCL, H5I_FILE, H5T_REFERENCE, H5VL_OBJECT_BY_SELF, H5VL_loc_params_t, hid_t,
};
use crate::layout::{self, DATASET_PATH, DATASET_PATH_C};
use crate::policy::Form;
use crate::trace;

/// Why a dataset stays in the main file although splitting is on (None: it may split).
///
/// # Safety
/// The ids are HDF5's own arguments of `dataset_cls.create`.
pub unsafe fn structural_reason(type_id: hid_t, dcpl_id: hid_t) -> Option<&'static str> {
    // SAFETY: plain queries on HDF5's own ids.
    unsafe {
        if H5Tcommitted(type_id) > 0 {
            return Some(
                "its datatype is committed in the main file (a dataset can use only a committed datatype of its own file)",
            );
        }
        if ffi::H5Tdetect_class(type_id, H5T_REFERENCE) > 0 {
            return Some("it holds references (a reference stored in another file would point at the wrong object)");
        }
        if ffi::H5Pget_layout(dcpl_id) == H5D_VIRTUAL {
            return Some("it is a virtual dataset (its source paths are relative to the main file)");
        }
        if H5Pget_external_count(dcpl_id) > 0 {
            return Some("its raw data is in external files (their paths are relative to the main file)");
        }
    }
    None
}

/// The absolute HDF5 path of `name` created at `parent`.
pub fn absolute_path(parent: &Below, name: &[u8], dxpl: hid_t) -> Result<Option<Vec<u8>>> {
    let mut path = if name.first() == Some(&b'/') {
        Vec::new()
    } else {
        match parent.path(dxpl)? {
            Some(p) => p,
            None => return Ok(None),
        }
    };
    path.push(b'/');
    path.extend_from_slice(name);
    let parts = layout::components(&path);
    if parts.is_empty() {
        return Ok(None);
    }
    Ok(Some(parts.iter().flat_map(|c| std::iter::once(b'/').chain(c.iter().copied())).collect()))
}

/// Checks, before anything touches the disk, that `name` can be created at `parent`: every
/// parent group exists (or will be created per the lcpl) and the name is free.
pub(super) fn check_name_is_free(parent: &Below, name: &[u8], lcpl_id: hid_t, dxpl: hid_t) -> Result<()> {
    let mut intermediate: c_uint = 0;
    // SAFETY: queries HDF5's own link creation property list.
    unsafe { H5Pget_create_intermediate_group(lcpl_id, &mut intermediate) };
    let absolute = name.first() == Some(&b'/');
    let parts = layout::components(name);
    let Some((_, groups)) = parts.split_last() else {
        return Ok(());
    };
    let mut prefix: Vec<u8> = if absolute { b"/".to_vec() } else { Vec::new() };
    for g in groups {
        if !prefix.is_empty() && prefix.last() != Some(&b'/') {
            prefix.push(b'/');
        }
        prefix.extend_from_slice(g);
        let c = CString::new(prefix.clone()).map_err(|_| Error::arg("a name holds a NUL byte"))?;
        if !parent.link_exists(&c, dxpl)? {
            if intermediate != 0 {
                return Ok(()); // the rest is created with the link; the name is free
            }
            return Err(Error::arg(format!(
                "cannot create dataset {}: the group {} does not exist (set create-intermediate-group on the link creation property list to create it)",
                String::from_utf8_lossy(name),
                String::from_utf8_lossy(&prefix)
            )));
        }
        if parent.object_type(&c, dxpl)? != 0 {
            return Err(Error::arg(format!(
                "cannot create dataset {}: {} is not a group",
                String::from_utf8_lossy(name),
                String::from_utf8_lossy(&prefix)
            )));
        }
    }
    let c = CString::new(name.to_vec()).map_err(|_| Error::arg("a name holds a NUL byte"))?;
    if parent.link_exists(&c, dxpl)? {
        return Err(Error::arg(format!(
            "cannot create dataset {}: the name is already taken",
            String::from_utf8_lossy(name)
        )));
    }
    Ok(())
}

/// The arguments of `dataset_cls.create`.
#[derive(Debug, Clone, Copy)]
pub struct CreateArgs {
    pub loc_params: *const H5VL_loc_params_t,
    pub name: *const c_char,
    pub lcpl_id: hid_t,
    pub type_id: hid_t,
    pub space_id: hid_t,
    pub dcpl_id: hid_t,
    pub dapl_id: hid_t,
    pub dxpl_id: hid_t,
}

/// Creates the dataset in its own split file and links it, or returns `Ok(None)` when it stays
/// in the main file (the caller then forwards the create unchanged).
///
/// All or nothing: the name and its parents are checked first; a failure after the split file
/// was made removes the file and the directories made for it.
///
/// # Safety
/// `parent` is the wrapper HDF5 passed; the arguments are HDF5's own.
pub unsafe fn create_dataset(parent: &Obj, a: &CreateArgs) -> Result<Option<*mut c_void>> {
    let Some(ctx) = parent.ctx.as_ref() else {
        return Ok(None);
    };
    if a.name.is_null() || a.loc_params.is_null() {
        return Ok(None); // H5Dcreate_anon: stays in the main file
    }
    // SAFETY: HDF5 passes valid location parameters and a NUL-terminated name.
    let (loc, name) = unsafe { (&*a.loc_params, CStr::from_ptr(a.name)) };
    if loc.type_ != H5VL_OBJECT_BY_SELF || ctx.read_only {
        return Ok(None); // HDF5 itself refuses to write into a read-only file
    }
    let at = Below { obj: parent.under_object, vol: parent.under_vol_id, obj_type: loc.obj_type };
    let Some(path) = absolute_path(&at, name.to_bytes(), a.dxpl_id)? else {
        return Ok(None);
    };
    let show = String::from_utf8_lossy(&path).into_owned();
    if !ctx.holds(&at, name.to_bytes(), a.dxpl_id) {
        trace!("dataset {show} stays where it is created: its group is in a file mounted below the main file");
        return Ok(None);
    }
    // SAFETY: HDF5's own type and dcpl ids.
    if let Some(reason) = unsafe { structural_reason(a.type_id, a.dcpl_id) } {
        trace!("dataset {show} stays in the main file: {reason}");
        return Ok(None);
    }
    // SAFETY: plain queries on HDF5's own ids.
    let planned = unsafe {
        (H5Sget_simple_extent_npoints(a.space_id).max(0) as u64).saturating_mul(H5Tget_size(a.type_id) as u64)
    };
    if let Err(reason) = ctx.policy.decide(&path, planned) {
        trace!("dataset {show} stays in the main file: {reason}");
        return Ok(None);
    }
    check_name_is_free(&at, name.to_bytes(), a.lcpl_id, a.dxpl_id)?;
    // SAFETY: HDF5's own dataspace.
    let form = match (ctx.policy.layout, unsafe { mapping_of(a.space_id) }) {
        (Form::Virtual, Err(reason)) => {
            trace!("dataset {show} takes the link form: {reason}");
            Form::Link
        }
        (form, _) => form,
    };

    crate::lifecycle::reclaim_name(ctx, &at, &path, a.dxpl_id);
    let mut place = Place::prepare(ctx, &path)?;
    let target = place.target(ctx);
    // (What is on disk decides: rank 0's view under MPI.)
    let other = ctx.decided("looking for files standing in for the split file", || {
        Ok(ctx.shadowing(&target).map(|p| p.into_os_string().into_encoded_bytes()).unwrap_or_default())
    });
    match other {
        Ok(other) if other.is_empty() => {}
        Ok(other) => {
            place.remove();
            let other = std::path::Path::new(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&other));
            return Err(shadowed(&path, &target, other));
        }
        Err(e) => {
            place.remove();
            return Err(e);
        }
    }
    trace!("dataset {show} -> {}", place.file_path.display());
    // SAFETY: every call gets valid ids and pointers; failures roll back what was made.
    match unsafe { make_split_dataset(parent, ctx, a, &mut place, loc, name, form) } {
        Ok((object, data)) => {
            let wrapper = Obj::wrap_in(object, parent.under_vol_id, Some(ctx.clone()));
            let target: Arc<str> = Arc::from(place.target(ctx));
            crate::lifecycle::count_new_link(ctx, &target);
            // SAFETY: `wrapper` is our fresh wrapper.
            unsafe {
                match data {
                    Some(data) => {
                        Obj::set_data(wrapper, data);
                        ctx.track_virtual(wrapper, SplitInfo::new(target, path).with_form(form));
                    }
                    None => ctx.track(wrapper, SplitInfo::new(target, path)),
                }
            }
            Ok(Some(wrapper))
        }
        Err(e) => {
            place.remove();
            Err(e)
        }
    }
}

/// Creates an empty split file through the connector below, exclusively (it fails if anything
/// has the name: an existing file is never truncated, a symbolic link never followed), as HDF5
/// would open any file: inside
/// HDF5's API context of a file operation (the native layer records the connector stack of every
/// file from there; restored from the main file's open) and followed by the 'post open' step
/// (which gives the file its own connector-level object, used for variable-length data).
///
/// # Safety
/// `vol` is the connector below of the main file; `dxpl` a valid transfer property list.
pub(super) unsafe fn create_split_file(ctx: &FileCtx, vol: hid_t, c_path: &CStr, dxpl: hid_t) -> Result<*mut c_void> {
    let show = c_path.to_string_lossy();
    // Deterministic bytes: no object times in split files (the root group's included).
    // SAFETY: creates and sets our own property list; checked.
    let fcpl = Plist(unsafe { H5Pcreate(*H5P_CLS_FILE_CREATE) });
    // SAFETY: as above.
    if fcpl.0 < 0 || unsafe { H5Pset_obj_track_times(fcpl.0, 0) } < 0 {
        return Err(Error::library("cannot prepare the creation properties of a split file"));
    }
    // SAFETY: creates the split file through the connector below (named by split_fapl).
    let create = || unsafe {
        ffi::H5VLfile_create(c_path.as_ptr(), H5F_ACC_EXCL, fcpl.0, ctx.split_fapl.0, dxpl, std::ptr::null_mut())
    };
    // SAFETY: by this function's contract.
    unsafe { as_hdf5_opens(ctx, vol, dxpl, create) }.map_err(|e| match e {
        None => Error::library(format!("cannot create the split file {show}")),
        Some(e) => e,
    })
}

/// Opens an existing split file through the connector below, as HDF5 would (see
/// [`create_split_file`]).
///
/// # Safety
/// As for [`create_split_file`].
pub(super) unsafe fn open_split_file(
    ctx: &FileCtx,
    vol: hid_t,
    c_path: &CStr,
    flags: c_uint,
    dxpl: hid_t,
) -> Result<*mut c_void> {
    // SAFETY: opens the split file through the connector below (named by split_fapl).
    let open = || unsafe { ffi::H5VLfile_open(c_path.as_ptr(), flags, ctx.split_fapl.0, dxpl, std::ptr::null_mut()) };
    // SAFETY: by this function's contract.
    unsafe { as_hdf5_opens(ctx, vol, dxpl, open) }.map_err(|e| match e {
        None => Error::library(format!("cannot open the split file {}", c_path.to_string_lossy())),
        Some(e) => e,
    })
}

/// Runs `open` (which creates or opens a file through the connector below) inside the main
/// file's API context, then HDF5's 'post open' step. `Err(None)`: `open` failed.
///
/// # Safety
/// `vol` is the connector below of the main file; `dxpl` a valid transfer property list.
unsafe fn as_hdf5_opens(
    ctx: &FileCtx,
    vol: hid_t,
    dxpl: hid_t,
    open: impl FnOnce() -> *mut c_void,
) -> std::result::Result<*mut c_void, Option<Error>> {
    let state = ctx.lib_state.get().ok_or_else(|| {
        Some(Error::library("the main file was opened without HDF5's 'post open' step; cannot reach split files"))
    })?;
    let out = state.run(|| {
        let file = open();
        if file.is_null() {
            return Ok(None);
        }
        let mut supported = 0u64;
        // SAFETY: queries the connector below about its own file object.
        unsafe {
            ffi::H5VLintrospect_opt_query(
                file,
                vol,
                ffi::H5VL_SUBCLS_FILE,
                ffi::H5VL_NATIVE_FILE_POST_OPEN,
                &mut supported,
            )
        };
        if supported & ffi::H5VL_OPT_QUERY_SUPPORTED != 0 {
            let mut opt =
                ffi::H5VL_optional_args_t { op_type: ffi::H5VL_NATIVE_FILE_POST_OPEN, args: std::ptr::null_mut() };
            // SAFETY: the 'post open' operation takes no arguments.
            if unsafe { ffi::H5VLfile_optional(file, vol, &mut opt, dxpl, std::ptr::null_mut()) } < 0 {
                // SAFETY: closes the file made above.
                preserving_stack(|| unsafe { ffi::H5VLfile_close(file, vol, dxpl, std::ptr::null_mut()) });
                return Err(Error::library("cannot finish opening a split file"));
            }
        }
        Ok(Some(file))
    });
    match out {
        Ok(Some(file)) => Ok(file),
        Ok(None) => Err(None),
        Err(e) => Err(Some(e)),
    }
}

/// Creates the split file, its dataset and the dataset's object in the main file (in the link
/// form an external link, returned with the dataset; in the virtual form a virtual dataset,
/// returned with the dataset as its source); on failure closes what it opened (the caller
/// removes the file and directories).
///
/// # Safety
/// As for [`create_dataset`].
unsafe fn make_split_dataset(
    parent: &Obj,
    ctx: &FileCtx,
    a: &CreateArgs,
    place: &mut Place,
    loc: &H5VL_loc_params_t,
    name: &CStr,
    form: Form,
) -> Result<(*mut c_void, Option<Data>)> {
    let vol = parent.under_vol_id;
    let show = place.file_path.display().to_string();
    // Deterministic bytes: no object times in split files.
    // SAFETY: copies HDF5's own dcpl; checked.
    let dcpl = Plist(unsafe { H5Pcopy(a.dcpl_id) });
    // SAFETY: sets a property on our own list, checked to be valid first.
    if dcpl.0 < 0 || unsafe { H5Pset_obj_track_times(dcpl.0, 0) } < 0 {
        return Err(Error::library("cannot prepare the creation properties of a split dataset"));
    }
    // SAFETY: HDF5's own transfer property list.
    let file = unsafe { place.create_file(ctx, vol, a.dxpl_id) }?;
    // The dataset is made in the application's own API context (H5Dcreate's): it carries the
    // access properties (external file and VDS prefixes, chunk cache) HDF5 reads from there.
    let dset = {
        let loc_root = Below { obj: file, vol, obj_type: H5I_FILE }.loc_self();
        // SAFETY: creates the dataset in the new file with the application's type, space, properties.
        let dset = unsafe {
            ffi::H5VLdataset_create(
                file,
                &loc_root,
                vol,
                DATASET_PATH_C.as_ptr(),
                below::default_lcpl(),
                a.type_id,
                a.space_id,
                dcpl.0,
                a.dapl_id,
                a.dxpl_id,
                std::ptr::null_mut(),
            )
        };
        // The file stays open as long as the dataset is (weak close degree).
        // SAFETY: closes the file object made above.
        preserving_stack(|| unsafe { ffi::H5VLfile_close(file, vol, a.dxpl_id, std::ptr::null_mut()) });
        if dset.is_null() {
            return Err(Error::library(format!("cannot create the dataset {DATASET_PATH} in the split file {show}")));
        }
        dset
    };
    let at = Below { obj: parent.under_object, vol, obj_type: loc.obj_type };
    let made = make_parents_without_times(Some(ctx), &at, name, a.lcpl_id, a.dxpl_id).and_then(|()| match form {
        Form::Link => at.create_external_link(name, &place.target(ctx), a.lcpl_id, a.dxpl_id).map(|()| (dset, None)),
        // SAFETY: HDF5's own arguments, at the application's location.
        Form::Virtual => unsafe { create_virtual(ctx, &at, loc, name, a, &place.target(ctx)) }
            .map(|object| (object, Some(Data { obj: dset, file: Arc::from(place.target(ctx)) }))),
    });
    if made.is_err() {
        // SAFETY: closes the dataset made above (and with it the split file).
        preserving_stack(|| unsafe { ffi::H5VLdataset_close(dset, vol, a.dxpl_id, std::ptr::null_mut()) });
    }
    // Durability: the link is on disk before the application writes the data (which is on disk
    // once it closes the dataset), so a crash never loses a dataset it has closed.
    at.flush(a.dxpl_id);
    made
}

/// Creates the virtual dataset `name` (at `at`) over the split file `target`.
///
/// # Safety
/// As for [`create_dataset`].
pub(super) unsafe fn create_virtual(
    ctx: &FileCtx,
    at: &Below,
    loc: &H5VL_loc_params_t,
    name: &CStr,
    a: &CreateArgs,
    target: &str,
) -> Result<*mut c_void> {
    // SAFETY: HDF5's own ids.
    let dcpl = unsafe { virtual_dcpl(ctx.policy.track_times, a.dcpl_id, a.space_id, target) }?;
    // SAFETY: creates the dataset with HDF5's own arguments and our creation properties.
    let made = unsafe {
        ffi::H5VLdataset_create(
            at.obj,
            loc,
            at.vol,
            name.as_ptr(),
            a.lcpl_id,
            a.type_id,
            a.space_id,
            dcpl.0,
            a.dapl_id,
            a.dxpl_id,
            std::ptr::null_mut(),
        )
    };
    if made.is_null() {
        return Err(Error::library(format!("cannot create the virtual dataset {}", name.to_string_lossy())));
    }
    Ok(made)
}
