//! `H5Ocopy` of split datasets: every copy gets split files of its own, as natively every copy
//! is independent.

use std::ffi::{CStr, CString};

use super::*;
use crate::below::{self, Below};
use crate::error::{Error, Result, preserving_stack};
use crate::ffi::{self, H5I_FILE, H5VL_OBJECT_BY_SELF, H5VL_loc_params_t, hid_t};
use crate::layout::DATASET_PATH_C;
use crate::object::Obj;

/// `H5Ocopy` of a split dataset into a main file of ours: the copy gets a split file of its own
/// (an independent copy, as natively), instead of landing in the main file. `Ok(false)`: not such
/// a copy; the caller forwards it.
///
/// # Safety
/// HDF5's own arguments of `object_cls.copy`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn copy_split(
    src: &Obj,
    src_loc: &H5VL_loc_params_t,
    src_name: &CStr,
    dst: &Obj,
    dst_loc: &H5VL_loc_params_t,
    dst_name: &CStr,
    ocpypl: hid_t,
    lcpl: hid_t,
    dxpl: hid_t,
) -> Result<bool> {
    let (Some(sctx), Some(dctx)) = (src.ctx.as_ref(), dst.ctx.as_ref()) else { return Ok(false) };
    if src_loc.type_ != H5VL_OBJECT_BY_SELF || dst_loc.type_ != H5VL_OBJECT_BY_SELF || dctx.read_only {
        return Ok(false);
    }
    let src_at = Below { obj: src.under_object, vol: src.under_vol_id, obj_type: src_loc.obj_type };
    if split_link_target(sctx, &src_at, src_name, dxpl).is_none() {
        return Ok(false);
    }
    let dst_at = Below { obj: dst.under_object, vol: dst.under_vol_id, obj_type: dst_loc.obj_type };
    let Some(path) = absolute_path(&dst_at, dst_name.to_bytes(), dxpl)? else { return Ok(false) };
    if dctx.policy.decide(&path, u64::MAX).is_err() {
        return Ok(false);
    }
    check_name_is_free(&dst_at, dst_name.to_bytes(), lcpl, dxpl)?;
    let place = Place::prepare(dctx, &path)?;
    let vol = dst.under_vol_id;
    let result = (|| {
        let c_path = CString::new(place.file_path.as_os_str().as_encoded_bytes())
            .map_err(|_| Error::arg("a path holds a NUL byte"))?;
        // SAFETY: HDF5's own transfer property list.
        let file = unsafe { create_split_file(dctx, vol, &c_path, dxpl) }?;
        let root = Below { obj: file, vol, obj_type: H5I_FILE }.loc_self();
        // SAFETY: copies the source (through its link) into the new file, with HDF5's own
        // object copy properties.
        let rc = unsafe {
            ffi::H5VLobject_copy(
                src.under_object,
                src_loc,
                src_name.as_ptr(),
                file,
                &root,
                DATASET_PATH_C.as_ptr(),
                vol,
                ocpypl,
                below::default_lcpl(),
                dxpl,
                std::ptr::null_mut(),
            )
        };
        // SAFETY: closes the file made above.
        preserving_stack(|| unsafe { ffi::H5VLfile_close(file, vol, dxpl, std::ptr::null_mut()) });
        if rc < 0 {
            return Err(Error::library(format!(
                "cannot copy {} into {}",
                src_name.to_string_lossy(),
                c_path.to_string_lossy()
            )));
        }
        make_parents_without_times(Some(dctx), &dst_at, dst_name, lcpl, dxpl)?;
        dst_at.create_external_link(dst_name, &dctx.link_target(&place.relative), lcpl, dxpl)
    })();
    match result {
        Ok(()) => Ok(true),
        Err(e) => {
            place.remove();
            Err(e)
        }
    }
}
