//! The virtual form of a split dataset (`layout=virtual`): the dataset object (header,
//! attributes, references and dimension scales to and from it) is a virtual dataset in the main
//! file whose one source is its split file's `/data`, named relative to the main file. Through
//! the connector, everything about the data (I/O, extent, creation properties, storage, chunks)
//! goes to that source, opened next to the virtual dataset ([`Data`]); everything else to the
//! virtual dataset. Plain HDF5 reads the values through the virtual dataset.
//!
//! The mapping: the whole extent, with the one extendible dimension (or the first) selected
//! without limit, so that the virtual dataset follows its source when it grows, and shows an
//! extent of 0 (not fill values) to plain readers when the split file is missing.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use crate::ffi::sys::h5p::{
    H5Pcopy, H5Pget_nfilters, H5Pget_virtual_count, H5Pget_virtual_dsetname, H5Pget_virtual_filename, H5Premove_filter,
    H5Pset_obj_track_times, H5Pset_virtual,
};
use crate::ffi::sys::h5s::{
    H5S_UNLIMITED, H5S_class_t, H5S_seloper_t, H5Scopy, H5Sget_simple_extent_dims, H5Sget_simple_extent_ndims,
    H5Sget_simple_extent_type, H5Sselect_all, H5Sselect_hyperslab,
};

use super::Obj;
use super::*;
use crate::below::Below;
use crate::conn_info::Plist;
use crate::error::{Error, Result, preserving_stack};
use crate::ffi::{self, H5D_VIRTUAL, H5I_FILE, hid_t};
use crate::layout::{self, DATASET_PATH, DATASET_PATH_C};

/// How a dataset of dataspace `space` maps onto its source: `Ok(Some(k))` with dimension `k`
/// unlimited in the mapping, `Ok(None)` for a scalar (the whole element), `Err(reason)` when the
/// virtual form cannot hold it (it then takes the link form).
///
/// # Safety
/// `space` is a valid dataspace id.
pub unsafe fn mapping_of(space: hid_t) -> std::result::Result<Option<usize>, &'static str> {
    // SAFETY: plain queries on a valid dataspace.
    match unsafe { H5Sget_simple_extent_type(space) } {
        H5S_class_t::H5S_SCALAR => return Ok(None),
        H5S_class_t::H5S_SIMPLE => {}
        _ => return Err("its dataspace is empty (H5S_NULL): a virtual dataset needs elements to map"),
    }
    // SAFETY: a valid simple dataspace, by the contract above.
    let (dims, max) = unsafe { extent(space) }.ok_or("its dataspace cannot be read")?;
    let growing: Vec<usize> = (0..dims.len()).filter(|&i| max[i] != dims[i]).collect();
    // The mapping's other dimensions are blocks of their whole size, which cannot be empty: a
    // dimension of size 0 must be the unlimited one.
    let empty: Vec<usize> = (0..dims.len()).filter(|&i| dims[i] == 0).collect();
    match (&growing[..], &empty[..]) {
        ([], []) => Ok(Some(0)),
        ([], [k]) => Ok(Some(*k)),
        ([k], []) => Ok(Some(*k)),
        ([k], [e]) if k == e => Ok(Some(*k)),
        ([_, _, ..], _) => Err("more than one of its dimensions can grow (a virtual mapping follows only one)"),
        _ => Err("it has a dimension of size 0 besides the one that can grow"),
    }
}

/// The current and maximum dimensions of a simple dataspace.
///
/// # Safety
/// `space` is a valid dataspace id.
unsafe fn extent(space: hid_t) -> Option<(Vec<u64>, Vec<u64>)> {
    // SAFETY: plain queries on a valid dataspace, into buffers of its rank.
    unsafe {
        let rank = usize::try_from(H5Sget_simple_extent_ndims(space)).ok()?;
        let (mut dims, mut max) = (vec![0u64; rank], vec![0u64; rank]);
        (H5Sget_simple_extent_dims(space, dims.as_mut_ptr(), max.as_mut_ptr()) >= 0).then_some((dims, max))
    }
}

/// A copy of `space` with the mapping's selection: everything, dimension `k` without limit.
///
/// # Safety
/// `space` is a valid dataspace id.
unsafe fn selection(space: hid_t, unlimited: Option<usize>) -> Result<IdGuard> {
    // SAFETY: copies a valid dataspace; released by the guard.
    let copy = IdGuard(unsafe { H5Scopy(space) });
    let failed = || Error::library("cannot select the mapping of a virtual split dataset");
    if copy.0 < 0 {
        return Err(failed());
    }
    let Some(k) = unlimited else {
        // SAFETY: selects all of our own copy.
        return if unsafe { H5Sselect_all(copy.0) } < 0 { Err(failed()) } else { Ok(copy) };
    };
    // SAFETY: our own copy of a valid dataspace.
    let (dims, _) = unsafe { extent(copy.0) }.ok_or_else(failed)?;
    let start = vec![0u64; dims.len()];
    // One block per dimension of its whole size, repeated without limit along `k`.
    let count: Vec<u64> = (0..dims.len()).map(|i| if i == k { H5S_UNLIMITED } else { 1 }).collect();
    let block: Vec<u64> = (0..dims.len()).map(|i| if i == k { 1 } else { dims[i] }).collect();
    // SAFETY: arrays of the space's rank.
    let rc = unsafe {
        H5Sselect_hyperslab(
            copy.0,
            H5S_seloper_t::H5S_SELECT_SET,
            start.as_ptr(),
            std::ptr::null(),
            count.as_ptr(),
            block.as_ptr(),
        )
    };
    if rc < 0 { Err(failed()) } else { Ok(copy) }
}

/// The creation properties of the virtual dataset for a dataset the application asked for with
/// `app_dcpl` and `space`, whose data is in the split file `target`: the application's object
/// properties (fill value, attribute creation order and storage), no filters, object times as
/// the main file records them (`track_times`), and the mapping. Plain HDF5 calls only: the
/// command uses it too.
///
/// # Safety
/// `app_dcpl` and `space` are valid ids.
pub unsafe fn virtual_dcpl(track_times: bool, app_dcpl: hid_t, space: hid_t, target: &str) -> Result<Plist> {
    // SAFETY: a valid dataspace, by the contract above.
    let unlimited = unsafe { mapping_of(space) }.map_err(Error::arg)?;
    // SAFETY: copies a valid property list; checked.
    let dcpl = Plist(unsafe { H5Pcopy(app_dcpl) });
    let failed = || Error::library("cannot prepare the creation properties of a virtual split dataset");
    if dcpl.0 < 0 {
        return Err(failed());
    }
    // SAFETY: queries and edits on our own copy.
    unsafe {
        if H5Pget_nfilters(dcpl.0) > 0 && H5Premove_filter(dcpl.0, 0 /* H5Z_FILTER_ALL */) < 0 {
            return Err(failed());
        }
        if H5Pset_obj_track_times(dcpl.0, track_times.into()) < 0 {
            return Err(failed());
        }
    }
    // SAFETY: a valid dataspace.
    let (virt, source) = unsafe { (selection(space, unlimited)?, selection(space, unlimited)?) };
    let name = std::ffi::CString::new(layout::vds_source_name(target)).map_err(|_| failed())?;
    // SAFETY: our own list, valid selections and NUL-terminated names.
    if unsafe { H5Pset_virtual(dcpl.0, virt.0, name.as_ptr(), DATASET_PATH_C.as_ptr(), source.0) } < 0 {
        return Err(failed());
    }
    Ok(dcpl)
}

/// The split file (as a link target, see [`FileCtx::split_file_of`]) a dataset `dset` of the
/// main file is the virtual form of: a virtual dataset with one mapping, onto `/data` of one of
/// the main file's split files. None for every other dataset.
pub fn source_of(ctx: &FileCtx, dset: &Below, dxpl: hid_t) -> Option<Arc<str>> {
    let dcpl = Plist(dset.dataset_get_id(ffi::H5VL_DATASET_GET_DCPL, dxpl).ok()?);
    source_in(ctx, &dcpl)
}

/// [`source_of`] for the object `name` at `at` (of the connector below), if it is a dataset.
pub fn virtual_source_by_name(ctx: &FileCtx, at: &Below, name: &std::ffi::CStr, dxpl: hid_t) -> Option<Arc<str>> {
    let loc = at.loc_by_name(name);
    // SAFETY: opens a dataset through the connector below by HDF5's own location; closed below.
    let dset = unsafe {
        ffi::H5VLdataset_open(
            at.obj,
            &loc,
            at.vol,
            name.as_ptr(),
            crate::below::default_dapl(),
            dxpl,
            std::ptr::null_mut(),
        )
    };
    if dset.is_null() {
        return None;
    }
    let found = source_of(ctx, &Below { obj: dset, vol: at.vol, obj_type: ffi::H5I_DATASET }, dxpl);
    // SAFETY: closes the dataset opened above.
    preserving_stack(|| unsafe { ffi::H5VLdataset_close(dset, at.vol, dxpl, std::ptr::null_mut()) });
    found
}

/// [`source_of`] for the object `name` in `group` (an id of the connector below, as a link
/// iteration passes it), if it is a dataset.
///
/// # Safety
/// `group` is a valid id and `name` a NUL-terminated name in it.
pub unsafe fn virtual_source_at(ctx: &FileCtx, group: hid_t, name: &std::ffi::CStr) -> Option<Arc<str>> {
    use crate::ffi::sys::h5d::{H5Dclose, H5Dget_create_plist, H5Dopen2};
    let mut info = std::mem::MaybeUninit::<ffi::H5O_info2_t>::zeroed();
    // SAFETY: by the contract above; the info is ours.
    let rc = unsafe {
        ffi::H5Oget_info_by_name3(
            group,
            name.as_ptr(),
            info.as_mut_ptr(),
            ffi::H5O_INFO_BASIC,
            crate::below::default_lapl(),
        )
    };
    // SAFETY: filled by a successful call (zeroed before).
    if rc < 0 || unsafe { info.assume_init() }.type_ != 1 {
        return None; // not a dataset
    }
    // SAFETY: opens the dataset just found; closed below.
    let dset = unsafe { H5Dopen2(group, name.as_ptr(), crate::ffi::sys::h5p::H5P_DEFAULT) };
    if dset < 0 {
        return None;
    }
    // SAFETY: a valid dataset id; the list is released by `Plist`.
    let dcpl = Plist(unsafe { H5Dget_create_plist(dset) });
    // SAFETY: closes the dataset opened above.
    unsafe { H5Dclose(dset) };
    source_in(ctx, &dcpl)
}

/// The split file a virtual dataset's creation properties `dcpl` map onto, if it is one of ours.
fn source_in(ctx: &FileCtx, dcpl: &Plist) -> Option<Arc<str>> {
    // SAFETY: a property list id (checked by `single_source`).
    let (file, object) = unsafe { single_source(dcpl.0) }?;
    if object != DATASET_PATH.as_bytes() {
        return None;
    }
    ctx.split_file_of(&file, &object)
}

/// The one source of a virtual dataset whose creation properties are `dcpl`: its file (as
/// written, `%%` undone) and its dataset; None for any other layout, several mappings, or a
/// pattern. Plain HDF5 calls only: the command uses it too.
///
/// # Safety
/// `dcpl` is a dataset creation property list id (or negative).
pub unsafe fn single_source(dcpl: hid_t) -> Option<(Vec<u8>, Vec<u8>)> {
    if dcpl < 0 {
        return None;
    }
    // SAFETY: queries on a valid property list, into buffers of the sizes HDF5 reports.
    unsafe {
        if ffi::H5Pget_layout(dcpl) != H5D_VIRTUAL {
            return None;
        }
        let mut count = 0usize;
        if H5Pget_virtual_count(dcpl, &mut count) < 0 || count != 1 {
            return None;
        }
        let text = |get: unsafe fn(hid_t, usize, *mut c_char, usize) -> isize| {
            let len = usize::try_from(get(dcpl, 0, std::ptr::null_mut(), 0)).ok()?;
            let mut buf = vec![0u8; len + 1];
            get(dcpl, 0, buf.as_mut_ptr().cast(), buf.len());
            buf.truncate(len);
            Some(buf)
        };
        let file = layout::vds_source_file(&text(H5Pget_virtual_filename)?)?;
        Some((file, text(H5Pget_virtual_dsetname)?))
    }
}

/// A virtual split dataset's source, open next to it: where its data goes through the connector.
#[derive(Debug)]
pub struct Data {
    /// The split file's `/data`, an object of the connector below (the virtual dataset's).
    pub obj: *mut c_void,
    /// The split file, as a link target (relative to the main file's directory).
    pub file: Arc<str>,
}

// SAFETY: an opaque HDF5 object used only inside HDF5 calls, which HDF5's global lock serializes
// (the connector does not declare itself thread-safe).
unsafe impl Send for Data {}
// SAFETY: as above.
unsafe impl Sync for Data {}

/// Opens `/data` of the split file `target` through the connector below `vol` (read-write unless
/// the main file is read-only), with the access properties `dapl`.
pub fn open_data(ctx: &FileCtx, vol: hid_t, target: &str, dapl: hid_t, dxpl: hid_t) -> Result<Data> {
    open_data_as(ctx, vol, target, !ctx.read_only, dapl, dxpl)
}

/// [`open_data`], read-write only with `write`.
///
/// A split file open already, in any handle of the main file, is reached through an object of
/// it: the native connector cannot close a second, id-less file object of a file open for
/// writing (it looks the file's id up to flush it; the file would never be written back:
/// measured).
pub fn open_data_as(ctx: &FileCtx, vol: hid_t, target: &str, write: bool, dapl: hid_t, dxpl: hid_t) -> Result<Data> {
    // Read-only, the file is read where HDF5 finds it (as plain readers do, also through a
    // symbolic link); for writing it must lie below the split folder through no symbolic link.
    let path = match write {
        false => crate::target::resolve(ctx.main_dir(), target.as_bytes()),
        true => ctx.split_file_path_everywhere(target)?,
    };
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| Error::arg("a path holds a NUL byte"))?;
    let flags = if write { ffi::H5F_ACC_RDWR } else { ffi::H5F_ACC_RDONLY };
    if let Some(open) = ctx.open_object_in(target) {
        // The file is open already: from an object of it.
        let at = Below { obj: open, vol, obj_type: ffi::H5I_DATASET }.loc_self();
        // SAFETY: opens a dataset by its absolute path from a valid object of the same file.
        let obj =
            unsafe { ffi::H5VLdataset_open(open, &at, vol, DATASET_PATH_C.as_ptr(), dapl, dxpl, std::ptr::null_mut()) };
        if obj.is_null() {
            return Err(Error::library(format!("cannot open {DATASET_PATH} in the split file {target}")));
        }
        return Ok(Data { obj, file: Arc::from(target) });
    }
    // SAFETY: opens the split file as HDF5 opens any file (see `open_split_file`).
    let file = unsafe { open_split_file(ctx, vol, &c_path, flags, dxpl) }?;
    let loc_root = Below { obj: file, vol, obj_type: H5I_FILE }.loc_self();
    // SAFETY: opens the dataset of a valid file object with the application's access properties.
    let obj = unsafe {
        ffi::H5VLdataset_open(file, &loc_root, vol, DATASET_PATH_C.as_ptr(), dapl, dxpl, std::ptr::null_mut())
    };
    // The file stays open as long as the dataset is (weak close degree).
    // SAFETY: closes the file object opened above.
    preserving_stack(|| unsafe { ffi::H5VLfile_close(file, vol, dxpl, std::ptr::null_mut()) });
    if obj.is_null() {
        return Err(Error::library(format!("cannot open {DATASET_PATH} in the split file {}", path.display())));
    }
    Ok(Data { obj, file: Arc::from(target) })
}

/// A virtual split dataset whose split file is missing (not materialised): its file and path.
#[derive(Debug, Clone)]
pub struct Missing {
    pub file: Arc<str>,
    pub path: String,
}

impl Missing {
    /// The error for any use of the dataset's data: names the file and how to fetch it.
    pub fn error(&self, ctx: &FileCtx) -> Error {
        unusable_split_file(ctx, self.file.as_bytes(), &self.path)
    }
}

/// Closes a virtual split dataset's source.
pub fn close_data(data: &Data, vol: hid_t, dxpl: hid_t) -> Result<()> {
    // SAFETY: closes the dataset `open_data` (or the creation) opened, once: its wrapper is
    // being closed.
    if unsafe { ffi::H5VLdataset_close(data.obj, vol, dxpl, std::ptr::null_mut()) } < 0 {
        return Err(Error::library("cannot close the split file of a virtual split dataset"));
    }
    Ok(())
}

/// After the virtual split dataset `object` (wrapped by `made`, opened by `name` when HDF5 gave
/// one) was opened: the same rules as for the link form (see `make_writable`), then its source
/// is opened next to it.
///
/// # Safety
/// `made` is our fresh wrapper of `object`, not borrowed elsewhere; `name` NULL or HDF5's.
pub(super) unsafe fn attach_source(
    ctx: &FileCtx,
    made: *mut c_void,
    object: &Below,
    target: Arc<str>,
    name: *const c_char,
    dxpl: hid_t,
) -> Result<AfterOpen> {
    let named = crate::error::quietly(|| object.path(dxpl)).ok().flatten();
    let shown = match (named, name.is_null()) {
        (Some(p), _) => String::from_utf8_lossy(&p).into_owned(),
        (None, true) => String::new(),
        // SAFETY: a NUL-terminated name, by the contract above.
        (None, false) => unsafe { std::ffi::CStr::from_ptr(name) }.to_string_lossy().into_owned(),
    };
    let exists = ctx.decided_bool(&format!("looking for the split file {target}"), || {
        Ok(crate::target::resolve(ctx.main_dir(), target.as_bytes()).exists())
    })?;
    if !exists {
        // Not materialised (not pulled; for git-annex a link to an object not fetched): the
        // object opens (its attributes, scales and references are in the main file); its data
        // is a clear error (`Obj::missing`).
        // SAFETY: by the contract above.
        unsafe { Obj::set_missing(made, Missing { file: target, path: shown }) };
        return Ok(AfterOpen::Keep);
    }
    if !ctx.read_only {
        let path = ctx.split_file_path_everywhere(&target).map_err(|e| {
            Error::arg(format!("refusing to open {shown} (its data is in {target}) for writing: {}", e.msg))
        })?;
        if ctx.must_copy(&target, &path)? {
            return Ok(AfterOpen::Reopen(path));
        }
    }
    let dapl = Plist(object.dataset_get_id(ffi::H5VL_DATASET_GET_DAPL, dxpl)?);
    let data = crate::error::quietly(|| open_data(ctx, object.vol, &target, dapl.0, dxpl))
        .map_err(|_| unusable_split_file(ctx, target.as_bytes(), &shown))?;
    // SAFETY: by the contract above.
    unsafe {
        Obj::set_data(made, data);
        ctx.track_virtual(made, SplitInfo::new(target, Vec::new()).with_form(crate::policy::Form::Virtual));
    }
    Ok(AfterOpen::Keep)
}

/// For a dataset HDF5 wrapped itself (reopened by `H5Drefresh` or when SWMR writing starts):
/// if it is a virtual split dataset, opens its source next to it again. On failure the dataset
/// stays as HDF5 made it (its data then goes through the virtual dataset itself).
///
/// # Safety
/// `made` is our fresh wrapper of a dataset, not borrowed elsewhere.
pub unsafe fn reattach_source(ctx: &FileCtx, made: *mut c_void) {
    // SAFETY: by the contract above.
    let Ok(o) = (unsafe { Obj::from_ptr(made) }) else { return };
    let dxpl = crate::below::default_dxpl();
    let object = Below { obj: o.under_object, vol: o.under_vol_id, obj_type: ffi::H5I_DATASET };
    let Some(target) = crate::error::quietly(|| source_of(ctx, &object, dxpl)) else { return };
    let opened = crate::error::quietly(|| {
        if !ctx.read_only {
            // As `attach_source`: never written in place when it is a link into a cache.
            let path = ctx.split_file_path_everywhere(&target)?;
            if ctx.must_copy(&target, &path)? {
                ctx.own_copy(&path)?;
            }
        }
        let dapl = Plist(object.dataset_get_id(ffi::H5VL_DATASET_GET_DAPL, dxpl)?);
        open_data(ctx, object.vol, &target, dapl.0, dxpl)
    });
    match opened {
        // SAFETY: by the contract above.
        Ok(data) => unsafe {
            Obj::set_data(made, data);
            ctx.track_virtual(made, SplitInfo::new(target, Vec::new()).with_form(crate::policy::Form::Virtual));
        },
        Err(e) => crate::trace!("a reopened dataset over {target} reads through its virtual dataset: {e}"),
    }
}

/// `H5Dset_extent` of the virtual dataset `vds` after its source took the extent `size`: the
/// virtual dataset follows. Its mapping holds the other dimensions at their size when it was
/// made, so when one of them shrank, those keep their size in the virtual dataset (through the
/// connector the extent is the source's; plain readers see the cut part as fill values, README).
///
/// # Safety
/// `size` points at one value per dimension of the dataset.
pub unsafe fn follow_extent(vds: &Below, size: *const u64, dxpl: hid_t) -> Result<()> {
    let set = |size: *const u64| {
        let mut args = ffi::H5VL_dataset_specific_args_t {
            op_type: ffi::H5VL_DATASET_SET_EXTENT,
            args: ffi::H5VL_dataset_specific_args_u { size },
        };
        // SAFETY: our own argument struct with HDF5's (or our) extent array.
        unsafe { ffi::H5VLdataset_specific(vds.obj, vds.vol, &mut args, dxpl, std::ptr::null_mut()) }
    };
    if crate::error::quietly(|| set(size)) >= 0 {
        return Ok(());
    }
    let space = IdGuard(vds.dataset_get_id(ffi::H5VL_DATASET_GET_SPACE, dxpl)?);
    // SAFETY: a valid dataspace just obtained.
    let (old, _) = unsafe { extent(space.0) }.ok_or_else(|| Error::library("cannot read a dataset's extent"))?;
    // SAFETY: by the contract above, one value per dimension.
    let new = unsafe { std::slice::from_raw_parts(size, old.len()) };
    let kept: Vec<u64> = new.iter().zip(&old).map(|(n, o)| *n.max(o)).collect();
    if set(kept.as_ptr()) < 0 {
        return Err(Error::library("cannot change the extent of a virtual split dataset's object"));
    }
    Ok(())
}
