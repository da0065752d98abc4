//! References and dimension scales across files. An HDF5 object reference is an address inside
//! one file (a new-style `H5R_ref_t` also names the other file, as it was opened), so a reference
//! stored in another file than its object's points at a wrong object, or breaks when the tree
//! moves (`../shared/notes/references-and-vds.md`). HDF5 writes such references silently; through
//! the connector these are refused, with an error that says why:
//!
//! - a reference made by a name that leads into another file (through an external link or a
//!   mount point): HDF5 records the location's file with an address inside the other one;
//! - an object reference (`hobj_ref_t`, also in `DIMENSION_LIST` and `REFERENCE_LIST`, so
//!   `H5DSattach_scale` with the dataset and the scale in different files) written into another
//!   file than the one its object is in;
//! - a new-style reference to an object of another file written into a main file.
//!
//! An old reference is only an address, so the connector remembers in which file it saw each
//! address: handed out for a reference (`H5VL_OBJECT_LOOKUP`), opened by one, or read from
//! reference data. A written address is refused when it was seen in another file and never in
//! the destination; an address never seen is let through (nothing to tell by), and so is one seen
//! in both (two files can hold objects at the same address), except in a dimension scale's
//! `DIMENSION_LIST` and `REFERENCE_LIST`: `H5DSattach_scale` makes a reference to the scale and
//! one to the dataset, then creates (or reads and writes) each list in the other's file, so there
//! the last two references made decide, which also catches the two objects sitting at the same
//! address of their files, as the first datasets of two new files do. Only main files are
//! guarded, each known by its device and inode (one file under two names is one file); a write
//! whose dataspace is in the transfer property list (`H5S_PLIST`) is not looked into.

use std::collections::HashMap;
use std::ffi::{CStr, c_ulong, c_void};
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex, MutexGuard};

use super::Obj;
pub use super::refscan::Values;
use super::refscan::{Ref, Shape, each_ref, shape_of};
use super::{FileCtx, IdGuard};
use crate::below::Below;
use crate::error::{Error, Result, quietly};
use crate::ffi::{self, H5VL_loc_params_t, hid_t};
use crate::layout;

/// The file an object is in, as references go: a main file by its device and inode (the same
/// when it is closed and opened again, or opened by another name: a symbolic or hard link), or
/// its normal path when it cannot be told; any other file by HDF5's number for it while it is
/// open.
#[derive(Clone, Debug)]
pub enum FileKey {
    Main(Option<(u64, u64)>, PathBuf),
    Other(c_ulong),
}

impl PartialEq for FileKey {
    fn eq(&self, other: &FileKey) -> bool {
        match (self, other) {
            (FileKey::Main(Some(a), _), FileKey::Main(Some(b), _)) => a == b,
            (FileKey::Main(_, a), FileKey::Main(_, b)) => a == b,
            (FileKey::Other(a), FileKey::Other(b)) => a == b,
            _ => false,
        }
    }
}

impl FileKey {
    /// The key of the file numbered `fileno` (`H5Oget_info`), reached from main file `ctx`.
    fn of(ctx: Option<&FileCtx>, fileno: c_ulong) -> FileKey {
        match ctx {
            Some(c) if c.fileno.get() == Some(&fileno) => Self::main(c),
            _ => FileKey::Other(fileno),
        }
    }

    /// The key of main file `ctx`.
    fn main(ctx: &FileCtx) -> FileKey {
        let id = *ctx.file_id.get_or_init(|| {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata(&ctx.main_path).ok().map(|m| (m.dev(), m.ino()))
        });
        FileKey::Main(id, ctx.norm_main_path.clone())
    }

    fn describe(&self) -> String {
        match self {
            FileKey::Main(_, p) => p.display().to_string(),
            FileKey::Other(n) => format!("another file (HDF5's file number {n})"),
        }
    }
}

/// The file (other than `dest`) a reference to an object seen in the files `seen` belongs to,
/// when it was not seen in `dest`: storing it in `dest` would point at a wrong object.
pub fn foreign<'a>(seen: &'a [FileKey], dest: &FileKey) -> Option<&'a FileKey> {
    match seen.contains(dest) {
        true => None,
        false => seen.first(),
    }
}

/// How many (address, file) pairs are remembered; past that the check gives up (lets every
/// reference through) rather than grow without bound.
const CAPACITY: usize = 1 << 20;

/// The files each address was seen in, process-wide.
#[derive(Default)]
struct Seen {
    by_addr: HashMap<u64, Vec<FileKey>>,
    pairs: usize,
    full: bool,
}

static SEEN: LazyLock<Mutex<Seen>> = LazyLock::new(Default::default);

/// The references made (file, address) since the last write of references, newest last.
static PENDING: LazyLock<Mutex<Vec<(FileKey, u64)>>> = LazyLock::new(Default::default);

/// How many references made are kept pending: the two `H5DSattach_scale` makes (to the scale,
/// then to the dataset) right before it writes the lists; older ones say nothing about them.
const PENDING_MAX: usize = 2;

fn pending() -> MutexGuard<'static, Vec<(FileKey, u64)>> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// The file (other than `dest`) that one of the references made since the last write handed
/// `addr` out in, else the one [`foreign`] finds among the files `addr` was seen in.
fn foreign_file(pending: &[(FileKey, u64)], seen: &[FileKey], addr: u64, dest: &FileKey) -> Option<FileKey> {
    pending
        .iter()
        .find(|(k, a)| *a == addr && k != dest)
        .map(|(k, _)| k.clone())
        .or_else(|| foreign(seen, dest).cloned())
}

fn seen() -> MutexGuard<'static, Seen> {
    SEEN.lock().unwrap_or_else(|e| e.into_inner())
}

/// The address of a native object token (its first 8 bytes, little-endian).
fn addr_of(token: &[u8; 16]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&token[..8]);
    u64::from_le_bytes(a)
}

/// Notes that the object at `addr` of file `key` was referenced or opened by a reference.
fn note(key: &FileKey, addr: u64) {
    note_in(&mut seen(), key, addr);
}

/// [`note`] with the list locked already.
fn note_in(s: &mut Seen, key: &FileKey, addr: u64) {
    if s.full {
        return;
    }
    let files = s.by_addr.entry(addr).or_default();
    if files.contains(key) {
        return;
    }
    files.push(key.clone());
    s.pairs += 1;
    if s.pairs >= CAPACITY {
        *s = Seen { full: true, ..Default::default() };
    }
}

/// Whether a reference was made to (or an object opened by one, or read from reference data)
/// the object with `token` of main file `ctx`.
pub fn is_referenced(ctx: &FileCtx, token: &[u8; 16]) -> bool {
    let s = seen();
    let key = FileKey::main(ctx);
    s.full || s.by_addr.get(&addr_of(token)).is_some_and(|f| f.contains(&key))
}

/// Forgets everything (the connector is unloaded).
pub fn forget_all() {
    *seen() = Seen::default();
    *pending() = Vec::new();
}

/// The key of the file the object `name` (None: the object itself) at `o` is in.
fn key_at(o: &Obj, obj_type: ffi::H5I_type_t, name: Option<&CStr>, dxpl: hid_t) -> Option<FileKey> {
    let at = Below { obj: o.under_object, vol: o.under_vol_id, obj_type };
    let fileno = quietly(|| at.fileno(name, dxpl)).ok()?;
    Some(FileKey::of(o.ctx.as_deref(), fileno))
}

/// After `H5VL_OBJECT_LOOKUP` at `o` handed out `token` for a reference: refuses a name that
/// leads into another file (HDF5 would record this one with an address of the other), else notes
/// the token in its object's file.
pub fn after_lookup(o: &Obj, loc: &H5VL_loc_params_t, token: &[u8; 16], dxpl: hid_t) -> Result<()> {
    let name = match loc.type_ {
        // SAFETY: for BY_NAME the union holds `loc_by_name`, with a NUL-terminated name.
        ffi::H5VL_OBJECT_BY_NAME => Some(unsafe { CStr::from_ptr(loc.loc_data.loc_by_name.name) }),
        ffi::H5VL_OBJECT_BY_SELF => None,
        _ => return Ok(()),
    };
    let Some(target) = key_at(o, loc.obj_type, name, dxpl) else { return Ok(()) };
    if let Some(name) = name.filter(|n| !layout::components(n.to_bytes()).is_empty()) {
        if key_at(o, loc.obj_type, None, dxpl).is_some_and(|here| here != target) {
            return Err(Error::arg(format!(
                "cannot make a reference to {}: the name leads into another file (through an external link or \
                 a mount point), and HDF5 would record this file with an address inside that one, a reference \
                 to a wrong object; make it from an object of the file that holds the target",
                name.to_string_lossy()
            )));
        }
    }
    note(&target, addr_of(token));
    let mut p = pending();
    if p.len() == PENDING_MAX {
        p.remove(0);
    }
    p.push((target, addr_of(token)));
    Ok(())
}

/// After the object `made` was opened by a reference (`token`): notes the token in its file.
pub fn after_open_by_token(made: &Obj, obj_type: ffi::H5I_type_t, token: &[u8; 16], dxpl: hid_t) {
    if let Some(key) = key_at(made, obj_type, None, dxpl) {
        note(&key, addr_of(token));
    }
}

/// The buffer of an attribute or dataset I/O call: the object, its kind, the memory type, which
/// values of the buffer the call uses, and the buffer.
#[derive(Debug)]
pub struct Buffer<'a> {
    pub obj: &'a Obj,
    pub obj_type: ffi::H5I_type_t,
    pub mem_type: hid_t,
    pub values: &'a Values,
    pub buf: *const c_void,
}

impl Buffer<'_> {
    /// Where its references sit and the file of its object, or None when it holds none (or the
    /// file cannot be told).
    ///
    /// # Safety
    /// HDF5's own I/O arguments: a valid memory type.
    unsafe fn prepare(&self, dxpl: hid_t) -> Option<(Shape, FileKey)> {
        // SAFETY: a valid datatype id, by the contract above.
        let shape = unsafe { shape_of(self.mem_type) }?;
        Some((shape, key_at(self.obj, self.obj_type, None, dxpl)?))
    }
}

/// Before the buffer `b` is written: refuses references whose object is in another file. Only
/// main files are guarded (another file's number changes when it is opened again).
///
/// # Safety
/// HDF5's own write arguments: a valid memory type and a buffer of the values described.
pub unsafe fn check_write(b: &Buffer, dxpl: hid_t) -> Result<()> {
    // SAFETY: by the contract above.
    let Some((shape, dest)) = (unsafe { b.prepare(dxpl) }) else { return Ok(()) };
    // The references just made decide for a dimension scale's lists only: elsewhere they would
    // refuse a reference of the destination made next to one of another file at the same address.
    let made = std::mem::take(&mut *pending());
    let FileKey::Main(_, main) = &dest else { return Ok(()) };
    let made = if b.obj.scale_list { made } else { Vec::new() };
    let (mut addrs, mut news) = (Vec::new(), Vec::new());
    // SAFETY: by the contract above.
    unsafe {
        each_ref(&shape, b.buf.cast(), b.values, &mut |r| match r {
            Ref::Obj(addr) => addrs.push(addr),
            Ref::New(r) => news.push(r),
        })
    }?;
    {
        let s = seen();
        for addr in addrs {
            let files = s.by_addr.get(&addr).map(Vec::as_slice).unwrap_or(&[]);
            if let Some(other) = foreign_file(&made, files, addr, &dest) {
                return Err(refusal(&other.describe(), &dest.describe(), false));
            }
        }
    }
    let mut same: HashMap<String, bool> = HashMap::new();
    for r in news {
        let Some(name) = new_ref_file(r) else { continue };
        if !*same.entry(name.clone()).or_insert_with(|| same_file(Path::new(&name), main)) {
            return Err(refusal(&name, &dest.describe(), true));
        }
    }
    Ok(())
}

/// Whether an attribute of this name holds a dimension scale's references.
pub fn is_scale_list(name: &CStr) -> bool {
    matches!(name.to_bytes(), b"DIMENSION_LIST" | b"REFERENCE_LIST")
}

/// Before the attribute `name` of type `type_id` is created at `loc` of `o`: refuses the
/// `DIMENSION_LIST` or `REFERENCE_LIST` of a dimension scale attached across files
/// (`H5DSattach_scale` makes a reference to the scale, then one to the dataset, then creates the
/// attribute it writes the first into; refused when it writes, it would stay behind, empty).
///
/// # Safety
/// `type_id` must be a valid datatype id.
pub unsafe fn check_scale_attribute(
    o: &Obj,
    loc: &H5VL_loc_params_t,
    name: &CStr,
    type_id: hid_t,
    dxpl: hid_t,
) -> Result<()> {
    if !is_scale_list(name) {
        return Ok(());
    }
    // SAFETY: a valid datatype id, by the contract above.
    if unsafe { ffi::H5Tdetect_class(type_id, ffi::H5T_REFERENCE) } <= 0 {
        return Ok(());
    }
    let on = match loc.type_ {
        // SAFETY: for BY_NAME the union holds `loc_by_name`, with a NUL-terminated name.
        ffi::H5VL_OBJECT_BY_NAME => Some(unsafe { CStr::from_ptr(loc.loc_data.loc_by_name.name) }),
        ffi::H5VL_OBJECT_BY_SELF => None,
        _ => return Ok(()),
    };
    let Some(dest) = key_at(o, loc.obj_type, on, dxpl) else { return Ok(()) };
    let mut p = pending();
    let other = match p.as_slice() {
        [(a, _), (b, _)] if a != b && (*a == dest || *b == dest) => {
            if *a == dest {
                b.clone()
            } else {
                a.clone()
            }
        }
        _ => return Ok(()),
    };
    // Refused now: the pair is spent (a retry makes its own).
    p.clear();
    Err(refusal(&other.describe(), &dest.describe(), false))
}

/// After the buffer `b` was read: notes the addresses of its object references in its object's
/// file (writing them back is fine).
///
/// # Safety
/// As for [`check_write`], with the values just read.
pub unsafe fn note_read(b: &Buffer, dxpl: hid_t) {
    // SAFETY: by the contract above.
    let Some((shape, key)) = (unsafe { b.prepare(dxpl) }) else { return };
    let mut addrs = Vec::new();
    // SAFETY: by the contract above.
    let _ = unsafe {
        each_ref(&shape, b.buf.cast(), b.values, &mut |r| {
            if let Ref::Obj(addr) = r {
                addrs.push(addr);
            }
        })
    };
    let mut s = seen();
    for addr in addrs {
        note_in(&mut s, &key, addr);
    }
}

fn refusal(other: &str, dest: &str, new_style: bool) -> Error {
    let why = match new_style {
        true => {
            "a reference between two files records the other file's name as it was opened (relative to the \
             working directory) and opens it read-write to follow it, so it breaks when the tree moves or the \
             file is a read-only link into a cache"
        }
        false => {
            "an object reference is an address inside one file, so in another file it would point at a wrong \
             object (attaching a dimension scale to a dataset of another file writes such references)"
        }
    };
    Error::arg(format!(
        "cannot store a reference to an object of {other} in {dest}: {why}; keep both ends in one file (copy the \
         object, e.g. the dimension scale, into it)"
    ))
}

/// The name of the file a new-style reference's object is in, as HDF5 knows it.
fn new_ref_file(r: *const c_void) -> Option<String> {
    use crate::ffi::sys::h5r::{H5R_ref_t, H5Rget_file_name};
    let r = r.cast::<H5R_ref_t>();
    quietly(|| {
        // SAFETY: an `H5R_ref_t` of the buffer being written; asking the size first.
        let n = usize::try_from(unsafe { H5Rget_file_name(r, std::ptr::null_mut(), 0) }).ok()?;
        let mut name = vec![0u8; n + 1];
        // SAFETY: as above, with a buffer of `n + 1` bytes.
        if unsafe { H5Rget_file_name(r, name.as_mut_ptr().cast(), name.len()) } < 0 {
            return None;
        }
        name.truncate(n);
        String::from_utf8(name).ok()
    })
}

/// Whether `name` (as a program opened it: relative to the working directory) is the file at
/// `path`; a name that does not resolve counts as the same (nothing to tell by).
fn same_file(name: &Path, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(name), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => true,
    }
}

/// Runs `f` with the buffer of a read or write of the attribute `o` in memory type `mem_type`,
/// when that type holds references (the values: all of the attribute's); None otherwise.
///
/// # Safety
/// `mem_type` must be a valid datatype id and `buf` HDF5's buffer of the attribute's values.
pub unsafe fn with_attribute_buffer<R>(
    o: &Obj,
    mem_type: hid_t,
    buf: *const c_void,
    dxpl: hid_t,
    f: impl FnOnce(&Buffer) -> R,
) -> Option<R> {
    // SAFETY: a valid datatype id, by the contract above.
    if unsafe { ffi::H5Tdetect_class(mem_type, ffi::H5T_REFERENCE) } <= 0 {
        return None;
    }
    let mut args =
        ffi::H5VL_attr_get_args_t { op_type: ffi::H5VL_ATTR_GET_SPACE, args: ffi::H5VL_attr_get_args_u { id: -1 } };
    // SAFETY: our own argument struct; the connector writes one dataspace id.
    let rc =
        quietly(|| unsafe { ffi::H5VLattr_get(o.under_object, o.under_vol_id, &mut args, dxpl, std::ptr::null_mut()) });
    // SAFETY: the union holds the id just written (or -1).
    let space = IdGuard(unsafe { args.args.id });
    if rc < 0 || space.0 < 0 {
        return None;
    }
    // SAFETY: a valid dataspace id.
    let n = usize::try_from(unsafe { crate::ffi::sys::h5s::H5Sget_simple_extent_npoints(space.0) }).ok()?;
    let values = Values::First(n);
    Some(f(&Buffer { obj: o, obj_type: ffi::H5I_ATTR, mem_type, values: &values, buf }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_seen_only_in_another_file_is_foreign() {
        let (a, b) = (FileKey::Main(None, "/d/a.h5".into()), FileKey::Main(None, "/d/b.h5".into()));
        assert_eq!(foreign(std::slice::from_ref(&b), &a), Some(&b));
        assert_eq!(foreign(&[FileKey::Other(7)], &a), Some(&FileKey::Other(7)));
    }

    #[test]
    fn a_reference_seen_in_the_destination_or_never_is_not() {
        let (a, b) = (FileKey::Main(None, "/d/a.h5".into()), FileKey::Main(None, "/d/b.h5".into()));
        assert_eq!(foreign(&[b.clone(), a.clone()], &a), None);
        assert_eq!(foreign(&[], &a), None);
    }

    #[test]
    fn a_reference_just_made_in_another_file_is_foreign_even_at_an_address_seen_here() {
        let (a, b) = (FileKey::Main(None, "/d/a.h5".into()), FileKey::Main(None, "/d/b.h5".into()));
        // H5DSattach_scale of b's scale to a's dataset, both at address 800 of their files
        let made = [(b.clone(), 800), (a.clone(), 800)];
        assert_eq!(foreign_file(&made, &[b.clone(), a.clone()], 800, &a), Some(b.clone()));
        assert_eq!(foreign_file(&made, &[b.clone(), a.clone()], 800, &b), Some(a.clone()));
        // made in the destination only: fine
        assert_eq!(foreign_file(&[(a.clone(), 800)], &[b.clone(), a.clone()], 800, &a), None);
    }

    #[test]
    fn a_main_file_is_its_device_and_inode_whatever_its_name() {
        let a = FileKey::Main(Some((1, 7)), "/d/a.h5".into());
        assert_eq!(a, FileKey::Main(Some((1, 7)), "/d/link-to-a.h5".into()));
        assert_ne!(a, FileKey::Main(Some((1, 8)), "/d/a.h5".into()));
        assert_eq!(FileKey::Main(None, "/d/a.h5".into()), FileKey::Main(None, "/d/a.h5".into()));
        assert_ne!(a, FileKey::Other(3));
    }

    #[test]
    fn a_token_s_address_is_its_first_eight_bytes() {
        let mut t = [0u8; 16];
        t[..8].copy_from_slice(&0x1234_5678u64.to_le_bytes());
        assert_eq!(addr_of(&t), 0x1234_5678);
    }
}
