//! Copies of virtual split datasets. HDF5's object copy copies a virtual dataset with its mapping,
//! which names the source's split file: the copy would share the source's data. So each copied
//! virtual split dataset is rebuilt: its data copied into a split file of its own (or, into a
//! file that is not split, into an ordinary dataset), a new dataset object made over it, the
//! copied attributes moved onto it, and every name of the copy pointed at it.

use std::ffi::{CStr, CString, c_char, c_void};

use crate::ffi::sys::h5::{H5_index_t, H5_iter_order_t};
use crate::ffi::sys::h5a::{H5Aget_create_plist, H5Aget_space, H5Aget_type, H5Aopen, H5Aread};
use crate::ffi::sys::h5s::H5Sget_select_npoints;
use crate::ffi::sys::h5t::{H5Tget_size, H5Treclaim};

use super::*;
use crate::below::{self, Below};
use crate::conn_info::Plist;
use crate::error::{Error, Result, preserving_stack, quietly};
use crate::ffi::{self, H5I_DATASET, hid_t};

/// Where a copied virtual split dataset's data goes: a split file of the destination main file
/// (placed for its path), or into the destination file itself.
pub(super) enum Into<'a> {
    Split(&'a FileCtx, &'a [u8]),
    Inline,
}

/// Rebuilds the copied virtual dataset reached by `names` (relative to `at`, in the destination
/// file; every name of the one copied object) over its own data, copied from the source's split
/// file `target` (of the source main file `sctx`). Returns the place of a new split file (the
/// caller removes it if a later step fails).
///
/// # Safety
/// `at` is an object of the connector below in the destination file; `ocpypl` and `dxpl` valid.
pub(super) unsafe fn rebuild(
    sctx: &FileCtx,
    at: &Below,
    names: &[CString],
    target: &str,
    into: Into,
    ocpypl: hid_t,
    dxpl: hid_t,
) -> Result<Option<Place>> {
    let Some(first) = names.first() else { return Ok(None) };
    let vol = at.vol;
    let old = open_dataset(at, first, dxpl)?;
    // The source's data, read only (it is copied, never written).
    let src = match open_data_as(sctx, vol, target, false, below::default_dapl(), dxpl) {
        Ok(src) => src,
        Err(e) => {
            // SAFETY: closes the copied dataset opened above.
            preserving_stack(|| unsafe { ffi::H5VLdataset_close(old, vol, dxpl, std::ptr::null_mut()) });
            return Err(e);
        }
    };
    let result = (|| -> Result<(Option<Place>, *mut c_void, Option<*mut c_void>)> {
        let from_loc = Below { obj: src.obj, vol, obj_type: H5I_DATASET }.loc_self();
        let from = Source { obj: src.obj, loc: &from_loc, name: c"." };
        let out = match into {
            Into::Split(dctx, path) => {
                let mut place = Place::prepare(dctx, path)?;
                // SAFETY: copies the source's data into a new split file, opened.
                let raw = match unsafe { place.copy_into(dctx, vol, from, ocpypl, true, dxpl) } {
                    Ok(raw) => raw,
                    Err(e) => {
                        place.remove();
                        return Err(e);
                    }
                };
                // SAFETY: valid objects; on failure the copy is closed and its file removed.
                match unsafe { virtual_over(dctx, at, raw, &place.target(dctx), dxpl) } {
                    Ok(made) => (Some(place), made, Some(raw)),
                    Err(e) => {
                        // SAFETY: closes the copy opened above.
                        preserving_stack(|| unsafe { ffi::H5VLdataset_close(raw, vol, dxpl, std::ptr::null_mut()) });
                        place.remove();
                        return Err(e);
                    }
                }
            }
            // SAFETY: copies the source's data into the destination file.
            Into::Inline => (None, unsafe { inline_copy(at, from, ocpypl, dxpl) }?, None),
        };
        Ok(out)
    })();
    // The source goes on every path (an open one would keep its file, and the application's, open).
    preserving_stack(|| close_data(&src, vol, dxpl)).ok();
    let (place, made, raw) = match result {
        Ok(r) => r,
        Err(e) => {
            // SAFETY: closes the copied dataset opened above.
            preserving_stack(|| unsafe { ffi::H5VLdataset_close(old, vol, dxpl, std::ptr::null_mut()) });
            return Err(e);
        }
    };
    let moved = (|| {
        // SAFETY: both are open datasets of the connector below, in the same file.
        unsafe { move_attributes(old, made, vol, dxpl) }?;
        for name in names {
            at.delete_link(name, dxpl)?;
            let made_loc = Below { obj: made, vol, obj_type: H5I_DATASET }.loc_self();
            at.create_hard_link(name, made, made_loc, dxpl)
                .map_err(|_| Error::library(format!("cannot link the copy {}", name.to_string_lossy())))?;
        }
        Ok(())
    })();
    // SAFETY: closes what was opened or made above (the new object stays: it is linked now).
    preserving_stack(|| unsafe {
        ffi::H5VLdataset_close(old, vol, dxpl, std::ptr::null_mut());
        ffi::H5VLdataset_close(made, vol, dxpl, std::ptr::null_mut());
        if let Some(raw) = raw {
            ffi::H5VLdataset_close(raw, vol, dxpl, std::ptr::null_mut());
        }
    });
    match moved {
        Ok(()) => Ok(place),
        Err(e) => {
            if let Some(p) = place {
                p.remove();
            }
            Err(e)
        }
    }
}

fn open_dataset(at: &Below, name: &CStr, dxpl: hid_t) -> Result<*mut c_void> {
    let loc = at.loc_by_name(name);
    // SAFETY: opens a dataset through the connector below by a valid location.
    let d = unsafe {
        ffi::H5VLdataset_open(at.obj, &loc, at.vol, name.as_ptr(), below::default_dapl(), dxpl, std::ptr::null_mut())
    };
    if d.is_null() {
        return Err(Error::library(format!("cannot open the copy {}", name.to_string_lossy())));
    }
    Ok(d)
}

/// A new anonymous virtual dataset in the file of `at` over the split file `target`, whose
/// source `raw` was just made: its datatype, dataspace and creation properties.
///
/// # Safety
/// `raw` is an open dataset of the connector below.
unsafe fn virtual_over(ctx: &FileCtx, at: &Below, raw: *mut c_void, target: &str, dxpl: hid_t) -> Result<*mut c_void> {
    let r = Below { obj: raw, vol: at.vol, obj_type: H5I_DATASET };
    let type_id = IdGuard(r.dataset_get_id(ffi::H5VL_DATASET_GET_TYPE, dxpl)?);
    let space_id = IdGuard(r.dataset_get_id(ffi::H5VL_DATASET_GET_SPACE, dxpl)?);
    let dcpl = Plist(r.dataset_get_id(ffi::H5VL_DATASET_GET_DCPL, dxpl)?);
    // SAFETY: valid ids just obtained.
    let vdcpl = unsafe { virtual_dcpl(ctx.policy.track_times, dcpl.0, space_id.0, target) }?;
    // SAFETY: an anonymous dataset (NULL name) in the destination file, with valid ids.
    let made = unsafe {
        ffi::H5VLdataset_create(
            at.obj,
            &at.loc_self(),
            at.vol,
            std::ptr::null(),
            below::default_lcpl(),
            type_id.0,
            space_id.0,
            vdcpl.0,
            below::default_dapl(),
            dxpl,
            std::ptr::null_mut(),
        )
    };
    if made.is_null() {
        return Err(Error::library(format!("cannot make the dataset object over {target}")));
    }
    Ok(made)
}

/// The source's data copied into the destination file as an ordinary dataset (at a temporary
/// name, unlinked again: the caller links it), opened.
///
/// # Safety
/// As for [`rebuild`].
unsafe fn inline_copy(at: &Below, from: Source, ocpypl: hid_t, dxpl: hid_t) -> Result<*mut c_void> {
    // A fixed name (the same copy makes the same bytes); the copy fails if the group has it.
    let name = c".dset-split-copy";
    // SAFETY: copies the source into the destination file under a fresh name.
    let rc = unsafe {
        ffi::H5VLobject_copy(
            from.obj,
            from.loc,
            from.name.as_ptr(),
            at.obj,
            &at.loc_self(),
            name.as_ptr(),
            at.vol,
            ocpypl,
            below::default_lcpl(),
            dxpl,
            std::ptr::null_mut(),
        )
    };
    if rc < 0 {
        return Err(Error::library("cannot copy the data of a virtual split dataset"));
    }
    let made = open_dataset(at, name, dxpl);
    let _ = quietly(|| at.delete_link(name, dxpl));
    made
}

/// Copies every attribute of `from` onto `to` (both open datasets of the connector below, in one
/// file), in creation order where `from` tracks it: names, character sets, datatypes, dataspaces
/// and values (references included: they stay valid within the file).
///
/// # Safety
/// `from` and `to` are open datasets of connector `vol`.
unsafe fn move_attributes(from: *mut c_void, to: *mut c_void, vol: hid_t, dxpl: hid_t) -> Result<()> {
    struct State {
        to: *mut c_void,
        vol: hid_t,
        dxpl: hid_t,
        failed: Option<Error>,
    }
    unsafe extern "C" fn each(
        loc: hid_t,
        name: *const c_char,
        _: *const ffi::H5A_info_t,
        data: *mut c_void,
    ) -> ffi::herr_t {
        // SAFETY: `data` is the `State` below; HDF5 passes a valid object id and name.
        let (state, name) = unsafe { (&mut *data.cast::<State>(), CStr::from_ptr(name)) };
        // SAFETY: as above.
        match unsafe { copy_attribute(loc, name, state.to, state.vol, state.dxpl) } {
            Ok(()) => 0,
            Err(e) => {
                state.failed = Some(e);
                -1
            }
        }
    }
    let mut state = State { to, vol, dxpl, failed: None };
    let f = Below { obj: from, vol, obj_type: H5I_DATASET };
    for index in [H5_index_t::H5_INDEX_CRT_ORDER, H5_index_t::H5_INDEX_NAME] {
        let mut args = ffi::attr_iterate_args(
            index as _,
            H5_iter_order_t::H5_ITER_INC as _,
            Some(each),
            (&mut state as *mut State).cast(),
        );
        // SAFETY: our own argument struct and callback.
        let rc = quietly(|| unsafe {
            ffi::H5VLattr_specific(from, &f.loc_self(), vol, &mut args, dxpl, std::ptr::null_mut())
        });
        if let Some(e) = state.failed.take() {
            return Err(e);
        }
        if rc >= 0 {
            return Ok(());
        }
    }
    Err(Error::library("cannot list the attributes of a copied dataset"))
}

/// Copies the attribute `name` of `loc` onto `to`.
///
/// # Safety
/// `loc` is a valid object id; `to` an open dataset of connector `vol`.
unsafe fn copy_attribute(loc: hid_t, name: &CStr, to: *mut c_void, vol: hid_t, dxpl: hid_t) -> Result<()> {
    let failed = || Error::library(format!("cannot copy the attribute {} of a copied dataset", name.to_string_lossy()));
    // SAFETY: plain API calls on valid ids; each id is released by its guard.
    unsafe {
        let attr = IdGuard(H5Aopen(loc, name.as_ptr(), crate::ffi::sys::h5p::H5P_DEFAULT));
        if attr.0 < 0 {
            return Err(failed());
        }
        let (type_id, space_id, acpl) =
            (IdGuard(H5Aget_type(attr.0)), IdGuard(H5Aget_space(attr.0)), Plist(H5Aget_create_plist(attr.0)));
        if type_id.0 < 0 || space_id.0 < 0 || acpl.0 < 0 {
            return Err(failed());
        }
        let n = usize::try_from(H5Sget_select_npoints(space_id.0)).unwrap_or(0);
        let mut buf = vec![0u8; (n * H5Tget_size(type_id.0)).max(1)];
        if H5Aread(attr.0, type_id.0, buf.as_mut_ptr().cast()) < 0 {
            return Err(failed());
        }
        let here = Below { obj: to, vol, obj_type: H5I_DATASET }.loc_self();
        let made = ffi::H5VLattr_create(
            to,
            &here,
            vol,
            name.as_ptr(),
            type_id.0,
            space_id.0,
            acpl.0,
            *ffi::H5P_LST_ATTRIBUTE_ACCESS_ID_g,
            dxpl,
            std::ptr::null_mut(),
        );
        let written = !made.is_null()
            && ffi::H5VLattr_write(made, vol, type_id.0, buf.as_ptr().cast(), dxpl, std::ptr::null_mut()) >= 0;
        if !made.is_null() {
            ffi::H5VLattr_close(made, vol, dxpl, std::ptr::null_mut());
        }
        H5Treclaim(type_id.0, space_id.0, crate::ffi::sys::h5p::H5P_DEFAULT, buf.as_mut_ptr().cast());
        if !written {
            return Err(failed());
        }
    }
    Ok(())
}
