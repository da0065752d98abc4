//! Using split datasets after creation: recognising their links, opening (copy-on-write,
//! tracking), hard links, references, counting open ids, and explaining failed opens.

use std::ffi::{CStr, c_char, c_void};
use std::sync::Arc;

use super::Obj;
use super::*;
use crate::below::{self, Below};
use crate::error::{Error, Kind, Result, preserving_stack, quietly};
use crate::ffi::{self, H5L_TYPE_EXTERNAL, H5VL_OBJECT_BY_SELF, H5VL_loc_params_t, hid_t};
use crate::layout::{self};

/// The split file an external link `name` at `at` leads to, if it is one of this main file's
/// split files, written the canonical way (see [`FileCtx::split_file_of`]).
pub fn split_link_target(ctx: &FileCtx, at: &Below, name: &CStr, dxpl: hid_t) -> Option<Arc<str>> {
    if layout::components(name.to_bytes()).is_empty() {
        return None; // the location itself ("." or "/"): no link to look at
    }
    // Callers ask about names that exist (just opened, or the target of a new hard link), so
    // the calls below do not fail and print nothing: keeping errors quiet would cost four more
    // library calls on every dataset open.
    preserving_stack(|| {
        // A soft link (also a chain of them, as far as HDF5 follows one) leads to the same dataset
        // as the name it holds: follow it, so that every name of a split dataset is recognised.
        let mut name = std::borrow::Cow::Borrowed(name);
        for _ in 0..=SOFT_LINK_HOPS {
            let info = at.link_info(&name, dxpl).ok()?;
            // SAFETY: for soft and external links the union holds the value size.
            let size = unsafe { info.u.val_size };
            match info.type_ {
                H5L_TYPE_EXTERNAL => {
                    let value = at.link_value(&name, size, dxpl).ok()?;
                    let (file, object) = below::unpack_external_link(&value)?;
                    return ctx.split_file_of(&file, &object);
                }
                ffi::H5L_TYPE_SOFT => {
                    let value = at.link_value(&name, size, dxpl).ok()?;
                    let value = value.split(|&b| b == 0).next().unwrap_or_default();
                    name = std::borrow::Cow::Owned(layout::soft_link_path(name.to_bytes(), value)?);
                }
                _ => return None,
            }
        }
        None
    })
}

/// How many soft links in a row [`split_link_target`] follows (HDF5's default `H5Pset_nlinks`).
const SOFT_LINK_HOPS: usize = 16;

/// The open dataset ids of split datasets of the main file `ctx` (HDF5 counts a file's open
/// objects by the file they live in; split datasets live in their own).
pub fn open_split_dataset_ids(ctx: &Arc<FileCtx>) -> Vec<hid_t> {
    struct State {
        open: Vec<usize>,
        ids: Vec<hid_t>,
    }
    unsafe extern "C" fn visit(id: hid_t, data: *mut c_void) -> ffi::herr_t {
        // SAFETY: `data` is the `State` below.
        let state = unsafe { &mut *data.cast::<State>() };
        let mut name = [0 as c_char; 32];
        // SAFETY: a valid id and a buffer of the given size.
        let n = unsafe { ffi::H5VLget_connector_name(id, name.as_mut_ptr(), name.len()) };
        // SAFETY: HDF5 wrote a NUL-terminated name.
        if n <= 0 || unsafe { CStr::from_ptr(name.as_ptr()) }.to_bytes() != crate::CONNECTOR_NAME.as_bytes() {
            return 0;
        }
        // SAFETY: H5VLobject returns the terminal (connector-below) object of a valid id.
        let terminal = unsafe { ffi::H5VLobject(id) } as usize;
        if state.open.contains(&terminal) {
            state.ids.push(id);
        }
        0
    }
    // A virtual split dataset is an object of the main file: HDF5 counts it already.
    let open: Vec<usize> = ctx
        .open_split
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|e| e.info.form == crate::policy::Form::Link)
        .map(|e| e.terminal)
        .collect();
    if open.is_empty() {
        return Vec::new();
    }
    let mut state = State { open, ids: Vec::new() };
    // SAFETY: iterates dataset ids with a callback that only reads them.
    quietly(|| unsafe {
        crate::ffi::sys::h5i::H5Iiterate(
            crate::ffi::sys::h5i::H5I_type_t::H5I_DATASET,
            Some(visit),
            (&mut state as *mut State).cast(),
        )
    });
    state.ids
}

/// Before something at `name` (relative to `parent`, by `loc`) is opened in a main file open for
/// writing: if it is a split dataset whose file is a link into a cache (DVC's hardlink/symlink
/// modes), gives it a private copy first, so that writing can never modify the cache.
///
/// # Safety
/// `loc` and `name` are NULL or HDF5's valid arguments; with `name` NULL, a BY_NAME `loc` names.
pub unsafe fn make_writable(
    parent: &Obj,
    loc: *const H5VL_loc_params_t,
    name: *const c_char,
    dxpl: hid_t,
) -> Result<()> {
    let Some(ctx) = parent.ctx.as_ref() else { return Ok(()) };
    if (ctx.read_only && !ctx.has_ext_prefixes()) || loc.is_null() {
        return Ok(());
    }
    // SAFETY: by the contract above.
    let loc = unsafe { &*loc };
    let name = match (loc.type_, name.is_null()) {
        // SAFETY: as above.
        (H5VL_OBJECT_BY_SELF, false) => unsafe { CStr::from_ptr(name) },
        // SAFETY: for BY_NAME the union holds `loc_by_name`, with a NUL-terminated name.
        (ffi::H5VL_OBJECT_BY_NAME, true) => unsafe { CStr::from_ptr(loc.loc_data.loc_by_name.name) },
        _ => return Ok(()),
    };
    let at = Below { obj: parent.under_object, vol: parent.under_vol_id, obj_type: loc.obj_type };
    if let Some(target) = quietly(|| split_link_target(ctx, &at, name, dxpl)) {
        // What is on disk decides: rank 0's view under MPI (`collective`).
        ctx.leader_does(&format!("opening {} for writing", name.to_string_lossy()), || {
            if let Some(other) = ctx.shadowing(&target) {
                return Err(shadowed(name.to_bytes(), &target, &other));
            }
            if ctx.read_only {
                return Ok(());
            }
            if ctx.own_split_file(&target).is_err() && ctx.split_file_path(&target).is_ok() {
                return Ok(()); // not ours (no owner file, another main file's): written as natively
            }
            let file = ctx.split_file_path(&target).map_err(|e| {
                Error::arg(format!(
                    "refusing to open {} for writing: {}; open the main file read-only, or make the split folder's \
                     directories real ones",
                    name.to_string_lossy(),
                    e.msg
                ))
            })?;
            crate::cow::own_copy(&file)
        })?;
    }
    Ok(())
}

/// [`make_writable`] for the object whose attributes `loc` names: for attributes, a BY_IDX
/// location means the object by name and the attribute by index (`H5Aopen_by_idx`,
/// `H5Adelete_by_idx`).
///
/// # Safety
/// `loc` is NULL or HDF5's valid location parameters of an attribute call.
pub unsafe fn make_attr_owner_writable(parent: &Obj, loc: *const H5VL_loc_params_t, dxpl: hid_t) -> Result<()> {
    // SAFETY: by the contract above.
    let Some(l) = (unsafe { loc.as_ref() }) else { return Ok(()) };
    if l.type_ != ffi::H5VL_OBJECT_BY_IDX {
        // SAFETY: as above.
        return unsafe { make_writable(parent, loc, std::ptr::null(), dxpl) };
    }
    let mut by_name = *l;
    by_name.type_ = ffi::H5VL_OBJECT_BY_NAME;
    // SAFETY: for BY_IDX the union holds `loc_by_idx`, whose object name and access list are
    // those of a BY_NAME location.
    by_name.loc_data.loc_by_name =
        unsafe { ffi::H5VL_loc_by_name_t { name: l.loc_data.loc_by_idx.name, lapl_id: l.loc_data.loc_by_idx.lapl_id } };
    // SAFETY: a valid BY_NAME location made from HDF5's.
    unsafe { make_writable(parent, &by_name, std::ptr::null(), dxpl) }
}

/// The error for a split file that `HDF5_EXT_PREFIX` hides behind another file.
pub(super) fn shadowed(name: &[u8], target: &str, other: &std::path::Path) -> Error {
    Error::arg(format!(
        "refusing dataset {}: HDF5_EXT_PREFIX makes HDF5 look its split file {target} up as {} first, another \
         file; unset HDF5_EXT_PREFIX (dset-split's links are relative to the main file already)",
        String::from_utf8_lossy(name),
        other.display()
    ))
}

/// After `name` was opened at `parent` as `made`: marks it as a split dataset if its link is
/// one of ours.
///
/// # Safety
/// `made` is the wrapper just made for the opened object; the rest are HDF5's arguments.
pub unsafe fn note_opened(
    parent: &Obj,
    loc: *const H5VL_loc_params_t,
    name: *const c_char,
    made: *mut c_void,
    dxpl: hid_t,
) {
    let Some(ctx) = parent.ctx.as_ref() else { return };
    if made.is_null() || name.is_null() || loc.is_null() {
        return;
    }
    // SAFETY: HDF5's valid location parameters and NUL-terminated name.
    let (loc, name) = unsafe { (&*loc, CStr::from_ptr(name)) };
    let at = Below { obj: parent.under_object, vol: parent.under_vol_id, obj_type: loc.obj_type };
    if let Some(file) = split_link_target(ctx, &at, name, dxpl) {
        let path = preserving_stack(|| absolute_path(&at, name.to_bytes(), dxpl).ok().flatten())
            .unwrap_or_else(|| name.to_bytes().to_vec());
        // SAFETY: `made` is our fresh wrapper, not borrowed elsewhere.
        unsafe { ctx.track(made, SplitInfo::new(file, path)) };
    }
}

/// For a hard link to `target` (+ `curr_loc`): the split file to link to instead, when the
/// target is a split dataset (a hard link cannot cross files; an external link to the same split
/// file shares the dataset the same way).
///
/// # Safety
/// `curr_loc` is HDF5's valid location parameters for `target`.
pub unsafe fn hard_link_replacement(target: &Obj, curr_loc: &H5VL_loc_params_t, dxpl: hid_t) -> Option<Arc<str>> {
    let ctx = target.ctx.as_ref()?;
    match curr_loc.type_ {
        H5VL_OBJECT_BY_SELF => target.split.as_ref().map(|s| s.file()),
        ffi::H5VL_OBJECT_BY_NAME => {
            // SAFETY: for BY_NAME the union holds `loc_by_name`, with a NUL-terminated name.
            let name = unsafe { CStr::from_ptr(curr_loc.loc_data.loc_by_name.name) };
            let at = Below { obj: target.under_object, vol: target.under_vol_id, obj_type: curr_loc.obj_type };
            split_link_target(ctx, &at, name, dxpl)
        }
        _ => None,
    }
}

/// References (`H5Rcreate_object`, `H5Rcreate_region`, `H5Rcreate_attr`, the old `H5Rcreate`,
/// and so `H5DSattach_scale`) look their object up to store its address. The address of a split
/// dataset is one in its own file: stored in the main file (or anywhere else) and dereferenced
/// there, it would open whatever sits at that address, silently. Refuse instead.
///
/// # Safety
/// `loc` is HDF5's valid location parameters for `at_obj`.
pub unsafe fn refuse_reference(at_obj: &Obj, loc: &H5VL_loc_params_t, dxpl: hid_t) -> Option<Error> {
    let ctx = at_obj.ctx.as_ref()?;
    let (path, file) = match loc.type_ {
        H5VL_OBJECT_BY_SELF => {
            let s = at_obj.split.as_ref()?;
            (String::from_utf8_lossy(&s.path()).into_owned(), s.file().to_string())
        }
        ffi::H5VL_OBJECT_BY_NAME => {
            // SAFETY: for BY_NAME the union holds `loc_by_name`, with a NUL-terminated name.
            let name = unsafe { CStr::from_ptr(loc.loc_data.loc_by_name.name) };
            if layout::components(name.to_bytes()).is_empty() {
                // "." relative to the location: the location itself.
                let s = at_obj.split.as_ref()?;
                (String::from_utf8_lossy(&s.path()).into_owned(), s.file().to_string())
            } else {
                let at = Below { obj: at_obj.under_object, vol: at_obj.under_vol_id, obj_type: loc.obj_type };
                let file = quietly(|| split_link_target(ctx, &at, name, dxpl))?;
                let path = quietly(|| absolute_path(&at, name.to_bytes(), dxpl).ok().flatten())
                    .unwrap_or_else(|| name.to_bytes().to_vec());
                (String::from_utf8_lossy(&path).into_owned(), file.to_string())
            }
        }
        _ => return None,
    };
    Some(Error::arg(format!(
        "cannot reference dataset {path}: it is stored in its own split file {file}, and an HDF5 reference \
         (also a dimension scale attachment) holds an address inside one file, which would point at a wrong \
         object elsewhere; keep datasets that are referenced or are dimension scales in the main file \
         (e.g. exclude={path})"
    )))
}

/// After a failed open of `name` at `parent`: if it is an external link into a missing or
/// unreadable split file, an error that names the dataset, the file and how to get it.
///
/// # Safety
/// As for [`create_dataset`].
pub unsafe fn explain_open_failure(
    parent: &Obj,
    loc: *const H5VL_loc_params_t,
    name: *const c_char,
    dxpl: hid_t,
) -> Option<Error> {
    let ctx = parent.ctx.as_ref()?;
    if name.is_null() || loc.is_null() {
        return None;
    }
    // SAFETY: HDF5's valid location parameters and NUL-terminated name.
    let (loc, name) = unsafe { (&*loc, CStr::from_ptr(name)) };
    if loc.type_ != H5VL_OBJECT_BY_SELF {
        return None;
    }
    let at = Below { obj: parent.under_object, vol: parent.under_vol_id, obj_type: loc.obj_type };
    quietly(|| {
        let info = at.link_info(name, dxpl).ok()?;
        if info.type_ != H5L_TYPE_EXTERNAL {
            return None;
        }
        // SAFETY: for external links the union holds the value size.
        let size = unsafe { info.u.val_size };
        let value = at.link_value(name, size, dxpl).ok()?;
        let (file, _) = below::unpack_external_link(&value)?;
        let path = absolute_path(&at, name.to_bytes(), dxpl).ok().flatten().unwrap_or_else(|| name.to_bytes().to_vec());
        Some(unusable_split_file(ctx, &file, &String::from_utf8_lossy(&path)))
    })
}

/// The error for a dataset `path` whose split file `file` (as its link or mapping names it)
/// could not be opened: missing (with how to fetch it), unreadable, or not HDF5.
pub(super) fn unusable_split_file(ctx: &FileCtx, file: &[u8], path: &str) -> Error {
    let target = crate::target::resolve(ctx.main_dir(), file);
    let file = String::from_utf8_lossy(file).into_owned();
    {
        if !target.exists() {
            Error::new(
                Kind::MissingFile,
                format!(
                    "dataset {path} is stored in {file} (next to {}), which is missing: it was not materialised; \
                     fetch it, e.g. `dvc pull {file}` or `git annex get {file}`",
                    ctx.main_path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
                ),
            )
        } else if let Err(e) = std::fs::OpenOptions::new().read(true).write(!ctx.read_only).open(&target) {
            Error::new(Kind::MissingFile, format!("dataset {path} is stored in {file}, which cannot be opened: {e}"))
        } else if locked_by_writer(&target) {
            Error::new(
                Kind::MissingFile,
                format!(
                    "dataset {path} is stored in {file}, which a program (maybe this one) has open for writing: \
                     HDF5's file locking keeps others out; SWMR readers cannot open split datasets yet (README)"
                ),
            )
        } else {
            Error::new(
                Kind::MissingFile,
                format!(
                    "dataset {path} is stored in {file}, which exists but cannot be opened as a split file (damaged, or not HDF5?)"
                ),
            )
        }
    }
}

/// Whether a writer holds the file at `path` locked as HDF5 locks a file it opens for writing
/// (`flock`, exclusive): a shared lock cannot be taken now. Takes none for long.
fn locked_by_writer(path: &std::path::Path) -> bool {
    use std::os::fd::AsRawFd;
    let Ok(f) = std::fs::File::open(path) else { return false };
    // SAFETY: a valid descriptor of the file just opened; a non-blocking shared lock, released
    // when `f` closes.
    let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) };
    rc != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EWOULDBLOCK)
}

/// What to do with a dataset just opened by a way the link-name checks do not see (a soft link,
/// an index, a mount point): nothing, or close it and open it again once its split file has a
/// private copy (it is a link into a cache and the main file is open for writing).
#[derive(Debug, PartialEq, Eq)]
pub enum AfterOpen {
    Keep,
    Reopen(std::path::PathBuf),
}

/// After a dataset was opened at `parent` as `made` (by `name`, when HDF5 gave one): if it lives
/// in one of this main file's split files and was not recognised by its link, applies the same
/// rules as an open by its own link (see [`make_writable`]) and tracks it as a split dataset.
///
/// # Safety
/// `made` is our fresh wrapper of a dataset; `name` NULL or HDF5's NUL-terminated name.
pub unsafe fn after_open(parent: &Obj, made: *mut c_void, name: *const c_char, dxpl: hid_t) -> Result<AfterOpen> {
    let Some(ctx) = parent.ctx.as_ref() else { return Ok(AfterOpen::Keep) };
    // SAFETY: by the contract above.
    let o = unsafe { Obj::from_ptr(made) }?;
    if o.split.is_some() || o.data.is_some() {
        return Ok(AfterOpen::Keep); // recognised by its link: checked before the open
    }
    let object = Below { obj: o.under_object, vol: o.under_vol_id, obj_type: ffi::H5I_DATASET };
    if let Some(target) = quietly(|| source_of(ctx, &object, dxpl)) {
        // SAFETY: `made` is our fresh wrapper of the dataset `object`.
        return unsafe { attach_source(ctx, made, &object, target, name, dxpl) };
    }
    let Some(file) = quietly(|| file_name_of(o.under_object, o.under_vol_id, dxpl)) else { return Ok(AfterOpen::Keep) };
    let file = crate::target::normalize(&std::path::absolute(&file).unwrap_or(file));
    let folder = ctx.link_target("");
    for prefix in &ctx.ext_prefixes {
        let stood_in = crate::target::in_folder(prefix, &file).filter(|r| r.starts_with(folder.as_str()));
        if let Some(target) = stood_in {
            return Err(shadowed(&[], &target, &file));
        }
    }
    let Some(relative) = crate::target::in_folder(&ctx.norm_split_dir, &file) else {
        return Ok(AfterOpen::Keep); // not one of ours
    };
    let target = ctx.link_target(&relative);
    if !ctx.read_only {
        let path = ctx
            .split_file_path_everywhere(&target)
            .map_err(|e| Error::arg(format!("refusing to open {} for writing: {}", file.display(), e.msg)))?;
        if ctx.must_copy(&target, &path)? {
            return Ok(AfterOpen::Reopen(path));
        }
    }
    let shown = match name.is_null() {
        true => Vec::new(),
        // SAFETY: by the contract above.
        false => unsafe { CStr::from_ptr(name) }.to_bytes().to_vec(),
    };
    // SAFETY: `made` is our fresh wrapper.
    unsafe { ctx.track(made, SplitInfo::new(Arc::from(target), shown)) };
    Ok(AfterOpen::Keep)
}

/// The name of the file the object `obj` (a dataset of connector `vol`) is in, as HDF5 opened it.
fn file_name_of(obj: *mut c_void, vol: hid_t, dxpl: hid_t) -> Option<std::path::PathBuf> {
    let mut len: usize = 0;
    let mut args = ffi::H5VL_file_get_args_t {
        op_type: ffi::H5VL_FILE_GET_NAME,
        args: ffi::H5VL_file_get_args_u {
            get_name: ffi::H5VL_file_get_name_args_t {
                type_: ffi::H5I_DATASET,
                buf_size: 0,
                buf: std::ptr::null_mut(),
                file_name_len: &mut len,
            },
        },
    };
    // SAFETY: our own argument struct; the connector writes only `len`.
    if unsafe { ffi::H5VLfile_get(obj, vol, &mut args, dxpl, std::ptr::null_mut()) } < 0 || len == 0 {
        return None;
    }
    let mut buf = vec![0 as c_char; len + 1];
    args.args.get_name = ffi::H5VL_file_get_name_args_t {
        type_: ffi::H5I_DATASET,
        buf_size: buf.len(),
        buf: buf.as_mut_ptr(),
        file_name_len: &mut len,
    };
    // SAFETY: as above, with a buffer of the size given.
    if unsafe { ffi::H5VLfile_get(obj, vol, &mut args, dxpl, std::ptr::null_mut()) } < 0 {
        return None;
    }
    // SAFETY: HDF5 wrote a NUL-terminated name into `buf`.
    let bytes = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_bytes().to_vec();
    Some(std::path::PathBuf::from(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&bytes)))
}

/// Opens a dataset with `open` (HDF5's open through the connector below, wrapped) and applies
/// [`after_open`] to it: a refused dataset is closed again, untouched; one in a split file that
/// is a link into a cache is closed, the file made private, and opened again.
///
/// # Safety
/// `name` is NULL or HDF5's NUL-terminated name; `open` returns our fresh wrappers (or NULL).
pub unsafe fn open_checked(
    parent: &Obj,
    name: *const c_char,
    dxpl: hid_t,
    open: impl Fn() -> Result<*mut c_void>,
) -> Result<*mut c_void> {
    let made = open()?;
    if made.is_null() {
        return Ok(made);
    }
    // SAFETY: by the contract above.
    unsafe { recheck_opened(parent, made, name, dxpl, open) }
}

/// [`open_checked`] for a dataset `made` already opened by `open`.
///
/// # Safety
/// As for [`open_checked`]; `made` is `open`'s fresh wrapper of a dataset.
pub unsafe fn recheck_opened(
    parent: &Obj,
    made: *mut c_void,
    name: *const c_char,
    dxpl: hid_t,
    open: impl Fn() -> Result<*mut c_void>,
) -> Result<*mut c_void> {
    let close = |made| {
        // SAFETY: `made` is our fresh wrapper, closed once, through the connector below.
        unsafe { Obj::close_dataset(made, dxpl) }
    };
    // SAFETY: by the contract above.
    match unsafe { after_open(parent, made, name, dxpl) } {
        Ok(AfterOpen::Keep) => Ok(made),
        Ok(AfterOpen::Reopen(path)) => {
            // A link into a cache reached some other way: close, make it private, open again
            // (and look at it again: a virtual split dataset gets its source opened now).
            close(made)?;
            if let Some(ctx) = parent.ctx.as_ref() {
                ctx.own_copy(&path)?; // (only a main file's context asks for a reopen)
            }
            let again = open()?;
            if again.is_null() {
                return Ok(again);
            }
            // SAFETY: `again` is `open`'s fresh wrapper of a dataset.
            match unsafe { after_open(parent, again, name, dxpl) } {
                Ok(AfterOpen::Keep) => Ok(again),
                Ok(AfterOpen::Reopen(path)) => {
                    let _ = close(again);
                    Err(Error::library(format!("{} is still shared after its private copy was made", path.display())))
                }
                Err(e) => {
                    let _ = close(again);
                    Err(e)
                }
            }
        }
        Err(e) => {
            let _ = close(made); // refused: closed again, untouched
            Err(e)
        }
    }
}
