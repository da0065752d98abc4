//! `H5Ovisit` that sees split datasets.
//!
//! Natively, `H5Ovisit` follows hard links only, so datasets moved into split files (reached by
//! external links) would vanish from it. HDF5 visits objects (`H5Ovisit`) and links (`H5Lvisit`)
//! with the same depth-first walk in the same index order; the object visit reports an object at
//! the first hard link that reaches it. So: list the links first (`H5Lvisit` order), then run the
//! native object visit and, before each object it reports, report the split datasets whose links
//! come earlier in that list; the rest after the walk. The application's callback sees each split
//! dataset where its hard link would have been, with the start object's id and its info.

use std::ffi::{CStr, CString, c_char, c_void};
use std::mem::MaybeUninit;

use crate::below::{self, Below};
use crate::error::{Error, Result};
use crate::ffi::{
    self, H5L_TYPE_EXTERNAL, H5L_TYPE_HARD, H5L_info2_t, H5O_info2_t, H5VL_LINK_ITER, H5VL_link_specific_args_t,
    H5VL_loc_params_t, H5VL_object_specific_args_t, H5VL_object_visit_args_t, herr_t, hid_t,
};
use crate::split::FileCtx;

#[derive(Debug, PartialEq, Eq)]
enum LinkKind {
    Hard,
    Split,
    Other,
}

struct Collect<'a> {
    ctx: &'a FileCtx,
    links: Vec<(CString, LinkKind)>,
    targets: Vec<std::sync::Arc<str>>,
}

/// Link visit callback: records each link's name and whether it leads to one of our split files.
unsafe extern "C" fn collect(group: hid_t, name: *const c_char, info: *const H5L_info2_t, data: *mut c_void) -> herr_t {
    // SAFETY: HDF5 passes a valid name and info; `data` is the `Collect` of `visit`.
    let (state, name, info) = unsafe { (&mut *data.cast::<Collect>(), CStr::from_ptr(name), &*info) };
    let kind = match info.type_ {
        H5L_TYPE_HARD => LinkKind::Hard,
        H5L_TYPE_EXTERNAL => {
            // SAFETY: for external links the union holds the value size.
            let size = unsafe { info.u.val_size };
            let mut value = vec![0u8; size];
            // SAFETY: reads the link value into a buffer of its size.
            let rc = unsafe {
                ffi::H5Lget_val(group, name.as_ptr(), value.as_mut_ptr().cast(), size, below::default_lapl())
            };
            match below::unpack_external_link(&value) {
                Some((file, object)) if rc >= 0 => match state.ctx.split_file_of(&file, &object) {
                    Some(target) if state.targets.contains(&target) => LinkKind::Other, // one object
                    Some(target) => {
                        state.targets.push(target);
                        LinkKind::Split
                    }
                    None => LinkKind::Other,
                },
                _ => LinkKind::Other,
            }
        }
        _ => LinkKind::Other,
    };
    state.links.push((name.to_owned(), kind));
    0
}

struct Visit {
    op: VisitFn,
    op_data: *mut c_void,
    fields: std::ffi::c_uint,
    links: Vec<(CString, LinkKind)>,
    cursor: usize,
    start: hid_t,
}

impl Visit {
    /// Reports the split dataset linked at `name` (relative to the start object).
    fn emit(&self, name: &CStr) -> herr_t {
        let mut info = MaybeUninit::<H5O_info2_t>::zeroed();
        // SAFETY: `start` is the id HDF5 passed for the start object; the info is ours to fill.
        let rc = unsafe {
            ffi::H5Oget_info_by_name3(self.start, name.as_ptr(), info.as_mut_ptr(), self.fields, below::default_lapl())
        };
        if rc < 0 {
            // Its split file is missing (not pulled) or damaged: the visit goes on without it,
            // as the native visit does without every external link.
            // SAFETY: plain call; the failed look-up is not an error of the visit.
            unsafe { crate::ffi::sys::h5e::H5Eclear2(crate::ffi::sys::h5e::H5E_DEFAULT) };
            return 0;
        }
        // SAFETY: the application's callback, with the arguments H5Ovisit documents.
        unsafe { (self.op)(self.start, name.as_ptr(), info.as_ptr(), self.op_data) }
    }

    /// Reports the split datasets listed before link `upto` (or all that remain).
    fn catch_up(&mut self, upto: Option<&CStr>) -> herr_t {
        while self.cursor < self.links.len() {
            let (name, kind) = &self.links[self.cursor];
            if Some(name.as_c_str()) == upto {
                self.cursor += 1;
                return 0;
            }
            self.cursor += 1;
            if *kind == LinkKind::Split {
                let name = name.clone();
                let rc = self.emit(&name);
                if rc != 0 {
                    return rc;
                }
            }
        }
        0
    }
}

/// Object visit callback: reports pending split datasets, then the object HDF5 found.
unsafe extern "C" fn trampoline(
    obj: hid_t,
    name: *const c_char,
    info: *const H5O_info2_t,
    data: *mut c_void,
) -> herr_t {
    // SAFETY: `data` is the `Visit` of `visit`; the name is HDF5's NUL-terminated string.
    let (state, cname) = unsafe { (&mut *data.cast::<Visit>(), CStr::from_ptr(name)) };
    if state.start < 0 {
        // HDF5 releases this id when its walk ends; the datasets after the last object still
        // need it, so hold a reference until `visit` is done.
        // SAFETY: `obj` is a valid id during the callback.
        unsafe { crate::ffi::sys::h5i::H5Iinc_ref(obj) };
        state.start = obj;
    }
    if cname.to_bytes() != b"." {
        let rc = state.catch_up(Some(cname));
        if rc != 0 {
            return rc;
        }
    }
    // SAFETY: the application's callback with HDF5's own arguments.
    unsafe { (state.op)(obj, name, info, state.op_data) }
}

/// `H5Ovisit` through the connector. Falls back to the native visit when nothing is split.
///
/// # Safety
/// HDF5's own arguments of `object_cls.specific` for `H5VL_OBJECT_VISIT`, with `at` the object
/// below.
pub unsafe fn visit(
    ctx: &FileCtx,
    at: Below,
    loc_params: *const H5VL_loc_params_t,
    args: *mut H5VL_object_specific_args_t,
    dxpl: hid_t,
    req: *mut *mut c_void,
) -> Result<herr_t> {
    // SAFETY: for VISIT the union holds `visit`.
    let v: H5VL_object_visit_args_t = unsafe { (*args).args.visit };
    let Some(op) = v.op else {
        return Err(Error::arg("H5Ovisit without a callback"));
    };
    let native = || {
        // SAFETY: forwards HDF5's own arguments unchanged.
        unsafe { ffi::H5VLobject_specific(at.obj, loc_params, at.vol, args, dxpl, req) }
    };
    let mut collected = Collect { ctx, links: Vec::new(), targets: Vec::new() };
    let mut link_args = H5VL_link_specific_args_t {
        op_type: H5VL_LINK_ITER,
        args: ffi::H5VL_link_specific_args_u {
            iterate: ffi::H5VL_link_iterate_args_t {
                recursive: true,
                idx_type: v.idx_type,
                order: v.order,
                idx_p: std::ptr::null_mut(),
                op: Some(collect),
                op_data: (&mut collected as *mut Collect).cast(),
            },
        },
    };
    // A start object that is not a group has no links: the native visit is complete.
    // SAFETY: our own argument struct and callback; the location is HDF5's.
    let listed = crate::error::preserving_stack(|| unsafe {
        ffi::H5VLlink_specific(at.obj, loc_params, at.vol, &mut link_args, dxpl, std::ptr::null_mut())
    });
    if listed < 0 || !collected.links.iter().any(|(_, k)| *k == LinkKind::Split) {
        if listed < 0 {
            // SAFETY: plain call; the failed listing is not an error of the visit.
            unsafe { crate::ffi::sys::h5e::H5Eclear2(crate::ffi::sys::h5e::H5E_DEFAULT) };
        }
        return Ok(native());
    }
    let mut state = Visit { op, op_data: v.op_data, fields: v.fields, links: collected.links, cursor: 0, start: -1 };
    // SAFETY: HDF5 passes a valid argument struct; we change only our copy.
    let mut mine = unsafe { *args };
    mine.args.visit.op = Some(trampoline as VisitFn);
    mine.args.visit.op_data = (&mut state as *mut Visit).cast();
    // SAFETY: HDF5's arguments with our trampoline in place of the application's callback.
    let rc = unsafe { ffi::H5VLobject_specific(at.obj, loc_params, at.vol, &mut mine, dxpl, req) };
    if state.start < 0 {
        return Ok(rc);
    }
    let rc = if rc != 0 { rc } else { state.catch_up(None) };
    // SAFETY: releases the reference taken in `trampoline`.
    crate::error::preserving_stack(|| unsafe { crate::ffi::sys::h5i::H5Idec_ref(state.start) });
    Ok(rc)
}

/// The callback type inside `H5O_iterate2_t`.
type VisitFn = unsafe extern "C" fn(hid_t, *const c_char, *const H5O_info2_t, *mut c_void) -> herr_t;
