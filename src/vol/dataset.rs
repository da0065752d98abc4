//! `dataset_cls`: datasets, forwarded to the connector below (splitting comes in `create`).

use std::ffi::{c_char, c_void};

use crate::below::Below;
use crate::boundary::guard;
use crate::error::{Error, Result};
use crate::ffi::{
    self, H5VL_dataset_get_args_t, H5VL_dataset_specific_args_t, H5VL_loc_params_t, H5VL_optional_args_t, herr_t, hid_t,
};
use crate::object::{Obj, forward, forward_close, forward_new, wrap_request};
use crate::split::{self, CreateArgs, xref};

type Req = *mut *mut c_void;

/// `dataset_cls.create`
pub unsafe extern "C" fn create<const K: usize>(
    obj: *mut c_void,
    loc_params: *const H5VL_loc_params_t,
    name: *const c_char,
    lcpl_id: hid_t,
    type_id: hid_t,
    space_id: hid_t,
    dcpl_id: hid_t,
    dapl_id: hid_t,
    dxpl_id: hid_t,
    req: Req,
) -> *mut c_void {
    guard(K, "dataset_create", || {
        // SAFETY: `obj` is our wrapper (HDF5 only hands us objects we returned).
        let parent = unsafe { Obj::from_ptr(obj) }?;
        let args = CreateArgs { loc_params, name, lcpl_id, type_id, space_id, dcpl_id, dapl_id, dxpl_id };
        // SAFETY: HDF5's own arguments.
        if let Some(made) = unsafe { split::create_dataset(parent, &args) }? {
            return Ok(made);
        }
        // An anonymous dataset may move into a split file when it is linked: no object times;
        // the others stay in the main file, which records no times unless track_times=on.
        let own_dcpl = match name.is_null() {
            true => split::anonymous_dcpl(parent, dcpl_id)?.or(split::without_times(parent.ctx.as_ref(), dcpl_id)?),
            false => split::without_times(parent.ctx.as_ref(), dcpl_id)?,
        };
        let dcpl_id = own_dcpl.as_ref().map_or(dcpl_id, |p| p.0);
        // SAFETY: HDF5's own arguments.
        unsafe { split::parents_for(parent, loc_params, name, lcpl_id, dxpl_id) }?;
        // SAFETY: `obj` is our wrapper and `req` HDF5's request slot; HDF5's own arguments go to
        // the connector below with its object (the same holds for every forward in this file).
        let made = unsafe {
            forward_new(obj, req, |under, vol| {
                ffi::H5VLdataset_create(
                    under, loc_params, vol, name, lcpl_id, type_id, space_id, dcpl_id, dapl_id, dxpl_id, req,
                )
            })
        }?;
        if name.is_null() && !made.is_null() {
            // SAFETY: our fresh wrapper, not borrowed elsewhere.
            unsafe { Obj::set_anonymous(made) };
        }
        Ok(made)
    })
}

/// `dataset_cls.open`
pub unsafe extern "C" fn open<const K: usize>(
    obj: *mut c_void,
    loc_params: *const H5VL_loc_params_t,
    name: *const c_char,
    dapl_id: hid_t,
    dxpl_id: hid_t,
    req: Req,
) -> *mut c_void {
    guard(K, "dataset_open", || {
        // SAFETY: `obj` is our wrapper; the other arguments are HDF5's own.
        unsafe { split::make_writable(Obj::from_ptr(obj)?, loc_params, name, dxpl_id) }?;
        // SAFETY: `obj` is our wrapper (HDF5 only hands us objects we returned).
        let parent = unsafe { Obj::from_ptr(obj) }?;
        let open = || {
            // SAFETY: see `create`.
            let made = unsafe {
                forward_new(obj, req, |under, vol| {
                    ffi::H5VLdataset_open(under, loc_params, vol, name, dapl_id, dxpl_id, req)
                })
            }?;
            if !made.is_null() {
                // Recognised by its link first (the cheap way, which `open_checked` then skips).
                // SAFETY: `made` is the one just made; the rest are HDF5's.
                unsafe { split::note_opened(parent, loc_params, name, made, dxpl_id) };
            }
            Ok(made)
        };
        // SAFETY: `name` is HDF5's; `open` makes our wrappers.
        let made = unsafe { split::open_checked(parent, name, dxpl_id, open) }?;
        if made.is_null() {
            // SAFETY: HDF5's own arguments.
            if let Some(err) = unsafe { split::explain_open_failure(parent, loc_params, name, dxpl_id) } {
                return Err(err);
            }
        }
        Ok(made)
    })
}

/// The objects below of `count` wrapped datasets, and the one connector they all belong to.
///
/// # Safety
/// `dset` must point at `count` of our wrappers.
unsafe fn unwrap_all(count: usize, dset: *mut *mut c_void) -> Result<(Vec<*mut c_void>, hid_t)> {
    if count == 0 || dset.is_null() {
        return Err(Error::arg("no dataset given"));
    }
    // SAFETY: by the contract above `dset` holds `count` pointers.
    let wrapped = unsafe { std::slice::from_raw_parts(dset, count) };
    let mut under = Vec::with_capacity(count);
    let mut vol_id = None;
    for &w in wrapped {
        // SAFETY: each element is one of our wrappers.
        let o = unsafe { Obj::from_ptr(w) }?;
        o.missing_data()?;
        match vol_id {
            None => vol_id = Some(o.under_vol_id),
            Some(id) if id != o.under_vol_id => {
                return Err(Error::arg("a multi-dataset I/O call mixes datasets of different connectors below"));
            }
            Some(_) => {}
        }
        under.push(o.raw());
    }
    Ok((under, vol_id.unwrap_or(-1)))
}

/// A read buffer (`*mut`) or a write buffer (`*const`), looked at.
trait ConstPtr {
    fn into_const(self) -> *const c_void;
}

impl ConstPtr for *mut c_void {
    fn into_const(self) -> *const c_void {
        self.cast_const()
    }
}

impl ConstPtr for *const c_void {
    fn into_const(self) -> *const c_void {
        self
    }
}

/// HDF5's arguments of one (multi-)dataset I/O call: `count` entries in each array, `B` the
/// element type of the buffers.
#[derive(Clone, Copy)]
struct Io<B> {
    count: usize,
    dset: *mut *mut c_void,
    mem_type_id: *mut hid_t,
    mem_space_id: *mut hid_t,
    file_space_id: *mut hid_t,
    buf: *mut B,
}

/// Multi-dataset I/O as HDF5 allows it: within one file. Split datasets each live in their own
/// file, so the datasets are grouped by file and each group is one call below (synchronous when
/// there is more than one group: one request cannot stand for several calls).
///
/// # Safety
/// HDF5's own arguments of `dataset_cls.read` / `write`, with `B` the element type of `buf`.
unsafe fn io<B: Copy>(
    args: Io<B>,
    req: Req,
    call: impl Fn(usize, *mut *mut c_void, hid_t, *mut hid_t, *mut hid_t, *mut hid_t, *mut B, Req) -> herr_t,
) -> Result<herr_t> {
    let Io { count, dset, mem_type_id, mem_space_id, file_space_id, buf } = args;
    // SAFETY: HDF5 passes `count` of our dataset wrappers.
    let (mut under, vol) = unsafe { unwrap_all(count, dset) }?;
    // The file each dataset lives in: a split dataset's own file, or the shared one (asking the
    // connector below for the file object would mark that file as held by an id and keep it open).
    // SAFETY: as above.
    let files: Vec<Option<std::sync::Arc<str>>> = unsafe { std::slice::from_raw_parts(dset, count) }
        .iter()
        // SAFETY: each element is one of our wrappers (checked by `unwrap_all`).
        .map(|d| {
            // SAFETY: as above.
            unsafe { Obj::from_ptr(*d) }
                .map(|o| o.split.as_ref().map(|s| s.file()).or_else(|| o.data.as_ref().map(|d| d.file.clone())))
        })
        .collect::<Result<_>>()?;
    if files.iter().all(|f| files.first() == Some(f)) {
        let rc = call(count, under.as_mut_ptr(), vol, mem_type_id, mem_space_id, file_space_id, buf, req);
        // SAFETY: `req` is HDF5's request slot.
        unsafe { wrap_request(req, vol) };
        return Ok(rc);
    }
    // SAFETY: HDF5's arrays hold `count` elements each.
    let (mt, ms, fs, bufs) = unsafe {
        (
            std::slice::from_raw_parts(mem_type_id, count),
            std::slice::from_raw_parts(mem_space_id, count),
            std::slice::from_raw_parts(file_space_id, count),
            std::slice::from_raw_parts(buf, count),
        )
    };
    let mut done = vec![false; count];
    for first in 0..count {
        if done[first] {
            continue;
        }
        let group: Vec<usize> = (first..count).filter(|i| files[*i] == files[first]).collect();
        let mut g_under: Vec<*mut c_void> = group.iter().map(|i| under[*i]).collect();
        let mut g_mt: Vec<hid_t> = group.iter().map(|i| mt[*i]).collect();
        let mut g_ms: Vec<hid_t> = group.iter().map(|i| ms[*i]).collect();
        let mut g_fs: Vec<hid_t> = group.iter().map(|i| fs[*i]).collect();
        let mut g_buf: Vec<B> = group.iter().map(|i| bufs[*i]).collect();
        let rc = call(
            group.len(),
            g_under.as_mut_ptr(),
            vol,
            g_mt.as_mut_ptr(),
            g_ms.as_mut_ptr(),
            g_fs.as_mut_ptr(),
            g_buf.as_mut_ptr(),
            std::ptr::null_mut(),
        );
        if rc < 0 {
            return Ok(rc);
        }
        for i in group {
            done[i] = true;
        }
    }
    Ok(0)
}

/// `dataset_cls.read` (one or many datasets: `H5Dread`, `H5Dread_multi`)
pub unsafe extern "C" fn read<const K: usize>(
    count: usize,
    dset: *mut *mut c_void,
    mem_type_id: *mut hid_t,
    mem_space_id: *mut hid_t,
    file_space_id: *mut hid_t,
    dxpl_id: hid_t,
    buf: *mut *mut c_void,
    req: Req,
) -> herr_t {
    guard(K, "dataset_read", || {
        let args = Io { count, dset, mem_type_id, mem_space_id, file_space_id, buf };
        // SAFETY: HDF5's own arguments; each call forwards them (or a per-file part of them) below.
        let rc = unsafe {
            io(args, req, |n, d, vol, mt, ms, fs, b, r| ffi::H5VLdataset_read(n, d, vol, mt, ms, fs, dxpl_id, b, r))
        }?;
        if rc >= 0 {
            // Object references read may be written back (see `split::xref`).
            // SAFETY: as above, the buffers just filled.
            unsafe {
                each_with_references(args, dxpl_id, |b| {
                    xref::note_read(&b, dxpl_id);
                    Ok(())
                })
            }?;
        }
        Ok(rc)
    })
}

/// `dataset_cls.write` (one or many datasets: `H5Dwrite`, `H5Dwrite_multi`)
pub unsafe extern "C" fn write<const K: usize>(
    count: usize,
    dset: *mut *mut c_void,
    mem_type_id: *mut hid_t,
    mem_space_id: *mut hid_t,
    file_space_id: *mut hid_t,
    dxpl_id: hid_t,
    buf: *mut *const c_void,
    req: Req,
) -> herr_t {
    guard(K, "dataset_write", || {
        let args = Io { count, dset, mem_type_id, mem_space_id, file_space_id, buf };
        // No reference to an object of another file (see `split::xref`).
        // SAFETY: HDF5's own arguments.
        unsafe { each_with_references(args, dxpl_id, |b| xref::check_write(&b, dxpl_id)) }?;
        // SAFETY: HDF5's own arguments; each call forwards them (or a per-file part of them) below.
        unsafe {
            io(args, req, |n, d, vol, mt, ms, fs, b, r| ffi::H5VLdataset_write(n, d, vol, mt, ms, fs, dxpl_id, b, r))
        }
    })
}

/// Calls `f` for each dataset of a (multi-)dataset I/O call whose memory type holds references,
/// with the values of its buffer the call uses.
///
/// # Safety
/// HDF5's own I/O arguments.
unsafe fn each_with_references<B: Copy + ConstPtr>(
    args: Io<B>,
    dxpl_id: hid_t,
    mut f: impl FnMut(xref::Buffer) -> Result<()>,
) -> Result<()> {
    use crate::ffi::sys::h5s::{H5S_ALL, H5Sget_select_npoints};
    let Io { count, dset, mem_type_id, mem_space_id, file_space_id, buf } = args;
    for i in 0..count {
        // SAFETY: by the contract above.
        let (d, mt, ms, fs, b) =
            unsafe { (*dset.add(i), *mem_type_id.add(i), *mem_space_id.add(i), *file_space_id.add(i), *buf.add(i)) };
        // SAFETY: HDF5's memory type id.
        if unsafe { ffi::H5Tdetect_class(mt, ffi::H5T_REFERENCE) } <= 0 {
            continue;
        }
        // SAFETY: one of our wrappers.
        let o = unsafe { Obj::from_ptr(d) }?;
        // The values the buffer holds: the memory selection; with H5S_ALL, the file selection
        // (the whole dataset when that is H5S_ALL too); with H5S_BLOCK, as many as the file
        // selection picks, one after the other.
        if fs == H5S_PLIST || ms == H5S_PLIST {
            continue; // the dataspace is in the transfer list: nothing to tell by
        }
        let mut whole = None;
        let space = match (ms, fs) {
            (H5S_ALL, H5S_ALL) | (H5S_BLOCK, H5S_ALL) => {
                let at = Below { obj: o.under_object, vol: o.under_vol_id, obj_type: ffi::H5I_DATASET };
                match crate::error::quietly(|| at.dataset_get_id(ffi::H5VL_DATASET_GET_SPACE, dxpl_id)) {
                    Ok(id) => whole.insert(crate::split::IdGuard(id)).0,
                    Err(_) => continue,
                }
            }
            (H5S_ALL, fs) | (H5S_BLOCK, fs) => fs,
            (ms, _) => ms,
        };
        let values = match ms {
            H5S_BLOCK => {
                // SAFETY: a valid dataspace id.
                let n = unsafe { H5Sget_select_npoints(space) };
                match usize::try_from(n) {
                    Ok(n) => xref::Values::First(n),
                    Err(_) => continue,
                }
            }
            _ => xref::Values::Selected(space),
        };
        f(xref::Buffer { obj: o, obj_type: ffi::H5I_DATASET, mem_type: mt, values: &values, buf: b.into_const() })?;
    }
    Ok(())
}

/// `H5S_BLOCK` and `H5S_PLIST` (HDF5 1.14 and 2.x): the memory buffer is one block, or its
/// dataspace is in the transfer property list.
const H5S_BLOCK: hid_t = 1;
const H5S_PLIST: hid_t = 2;

/// Runs `f` with the object below that a dataset operation `on_data` goes to: for a virtual
/// split dataset, its source when the operation is about its data, else the wrapped object.
///
/// # Safety
/// As for [`forward`].
unsafe fn forward_to<T>(
    obj: *mut c_void,
    on_data: bool,
    req: Req,
    f: impl FnOnce(*mut c_void, hid_t) -> T,
) -> Result<T> {
    // SAFETY: by the contract above.
    let raw = unsafe { Obj::from_ptr(obj) }?.data.as_ref().map(|d| d.obj).filter(|_| on_data);
    // SAFETY: by the contract above.
    unsafe { forward(obj, req, |under, vol| f(raw.unwrap_or(under), vol)) }
}

/// `dataset_cls.get`: a virtual split dataset's dataspace, datatype, creation properties and
/// storage are its source's (what the application created); its access properties its own.
pub unsafe extern "C" fn get<const K: usize>(
    obj: *mut c_void,
    args: *mut H5VL_dataset_get_args_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "dataset_get", || {
        // SAFETY: HDF5's valid argument struct.
        let op = unsafe { ffi::op_type_of(args) };
        let on_data = op != ffi::H5VL_DATASET_GET_DAPL;
        if op == ffi::H5VL_DATASET_GET_STORAGE_SIZE {
            // With its split file missing, the rest is what plain readers see of it (the
            // virtual dataset's); its storage is not there.
            // SAFETY: `obj` is our wrapper.
            unsafe { Obj::from_ptr(obj) }?.missing_data()?;
        }
        // SAFETY: see `create`.
        unsafe { forward_to(obj, on_data, req, |under, vol| ffi::H5VLdataset_get(under, vol, args, dxpl_id, req)) }
    })
}

/// `dataset_cls.specific` (set extent, flush, refresh)
pub unsafe extern "C" fn specific<const K: usize>(
    obj: *mut c_void,
    args: *mut H5VL_dataset_specific_args_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "dataset_specific", || {
        // SAFETY: `obj` is our wrapper; HDF5's valid argument struct.
        let (data, op) =
            (unsafe { Obj::from_ptr(obj) }?.data.as_ref().map(|d| d.obj), unsafe { ffi::op_type_of(args) });
        if op == ffi::H5VL_DATASET_SET_EXTENT {
            // SAFETY: `obj` is our wrapper.
            unsafe { Obj::from_ptr(obj) }?.missing_data()?;
        }
        // A refresh reopens the dataset behind the application's id (HDF5 wraps the new one:
        // `reattach_source` gives it its source again), so it goes to the virtual dataset only.
        if let Some(data) = data.filter(|_| op != ffi::H5VL_DATASET_REFRESH) {
            // A virtual split dataset: its source first (its extent is the dataset's; the virtual
            // dataset follows it), then the virtual dataset itself (synchronously: one request
            // cannot stand for two calls).
            // SAFETY: see `create`; HDF5's valid argument struct, passed to both.
            let rc = unsafe {
                forward(obj, std::ptr::null_mut(), |_, vol| {
                    ffi::H5VLdataset_specific(data, vol, args, dxpl_id, std::ptr::null_mut())
                })
            }?;
            if rc < 0 {
                return Ok(rc);
            }
            // SAFETY: `obj` is our wrapper.
            let o = unsafe { Obj::from_ptr(obj) }?;
            let vds = crate::below::Below { obj: o.under_object, vol: o.under_vol_id, obj_type: ffi::H5I_DATASET };
            if op == ffi::H5VL_DATASET_SET_EXTENT {
                // SAFETY: for SET_EXTENT the union holds HDF5's extent array.
                unsafe { split::follow_extent(&vds, (*args).args.size, dxpl_id) }?;
                return Ok(0);
            }
            // SAFETY: as above.
            return unsafe {
                forward(obj, std::ptr::null_mut(), |under, vol| {
                    ffi::H5VLdataset_specific(under, vol, args, dxpl_id, std::ptr::null_mut())
                })
            };
        }
        // SAFETY: see `create` (a refresh may replace the wrapper: `forward` copies what it needs).
        unsafe { forward(obj, req, |under, vol| ffi::H5VLdataset_specific(under, vol, args, dxpl_id, req)) }
    })
}

/// `dataset_cls.optional`
pub unsafe extern "C" fn optional<const K: usize>(
    obj: *mut c_void,
    args: *mut H5VL_optional_args_t,
    dxpl_id: hid_t,
    req: Req,
) -> herr_t {
    guard(K, "dataset_optional", || {
        // SAFETY: `obj` is our wrapper.
        unsafe { Obj::from_ptr(obj) }?.missing_data()?;
        // Every dataset operation of the native connector is about the data (chunks, storage,
        // offsets, variable-length sizes): a virtual split dataset's source answers it.
        // SAFETY: see `create`.
        unsafe { forward_to(obj, true, req, |under, vol| ffi::H5VLdataset_optional(under, vol, args, dxpl_id, req)) }
    })
}

/// `dataset_cls.close`
pub unsafe extern "C" fn close<const K: usize>(dset: *mut c_void, dxpl_id: hid_t, req: Req) -> herr_t {
    guard(K, "dataset_close", || {
        // SAFETY: `dset` is our wrapper.
        let o = unsafe { Obj::from_ptr(dset) }?;
        if let (Some(ctx), true) = (&o.ctx, o.split.is_some() || o.data.is_some()) {
            if ctx.comm.is_some() {
                // Parallel HDF5 puts a file's data on disk when it is flushed (`MPI_File_sync`),
                // not when it is closed: a split file closes with its dataset, before the main
                // file's next flush could reach it, so it is flushed now (a collective call, as
                // the close is).
                let under = o.data.as_ref().map_or(o.under_object, |d| d.obj);
                crate::below::Below::flush_split_file(under, o.under_vol_id, dxpl_id)?;
            }
            ctx.untrack(o);
        }
        // The source first; the virtual dataset is closed whatever happened to it (HDF5 frees a
        // dataset even when closing it fails, so neither may be closed again).
        let data = o.data.as_ref().map(|d| split::close_data(d, o.under_vol_id, dxpl_id));
        // SAFETY: see `create`; HDF5 never uses `dset` again once it is closed.
        let rc = unsafe { forward_close(dset, req, |under, vol| ffi::H5VLdataset_close(under, vol, dxpl_id, req)) }?;
        data.transpose()?;
        Ok(rc)
    })
}
