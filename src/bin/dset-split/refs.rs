//! References inside a file, for `split`: which objects something refers to (those must stay in
//! the main file: a reference holds an address in the file it is stored in), and carrying
//! references nested in compound, array or variable-length data over to a new file (HDF5's object
//! copy maps only references that are the whole element; nested ones it copies unchanged, which
//! would leave them pointing at old addresses, e.g. a dimension scale's `DIMENSION_LIST`).

use std::collections::{HashMap, HashSet};
use std::ffi::{CStr, CString, c_char, c_void};

use dset_split::ffi::sys::h5::{H5_index_t, H5_iter_order_t, hsize_t};
use dset_split::ffi::sys::h5a::{H5Aget_space, H5Aget_type, H5Aopen, H5Aread, H5Awrite};
use dset_split::ffi::sys::h5d::{H5Dget_space, H5Dget_type, H5Dopen2, H5Dread, H5Dwrite};
use dset_split::ffi::sys::h5i::hid_t;
use dset_split::ffi::sys::h5o::{
    H5O_INFO_BASIC, H5O_info2_t, H5O_type_t, H5Oget_info_by_name3, H5Oget_info3, H5Ovisit3,
};
use dset_split::ffi::sys::h5p::H5P_DEFAULT;
use dset_split::ffi::sys::h5r::{H5R_ref_t, H5R_type_t, H5Rdereference2, H5Ropen_object};
use dset_split::ffi::sys::h5s::{
    H5S_ALL, H5S_seloper_t, H5Screate_simple, H5Sget_simple_extent_dims, H5Sget_simple_extent_ndims,
    H5Sget_simple_extent_npoints, H5Sselect_hyperslab,
};
use dset_split::ffi::sys::h5t::{
    H5T_STD_REF_DSETREG, H5T_STD_REF_OBJ, H5T_class_t, H5Tdetect_class, H5Tequal, H5Tget_array_dims2,
    H5Tget_array_ndims, H5Tget_class, H5Tget_member_offset, H5Tget_member_type, H5Tget_nmembers, H5Tget_size,
    H5Tget_super, H5Tis_variable_str, H5Treclaim,
};
use dset_split::split::IdGuard;

use crate::h5;

/// The kinds of reference HDF5 stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `hobj_ref_t`: the object's address.
    Object1,
    /// `hdset_reg_ref_t`: a global heap entry holding an address and a selection.
    Region1,
    /// `H5R_ref_t` (HDF5 1.12 and later).
    Ref,
}

/// Where reference data lives: a dataset, or an attribute of an object.
#[derive(Debug, Clone)]
pub struct Holder {
    /// The object's path (absolute).
    pub path: CString,
    /// The attribute's name, for an attribute.
    pub attr: Option<CString>,
    /// Whether the references are nested (inside compound, array or variable-length data) rather
    /// than the whole element.
    pub nested: bool,
}

impl Holder {
    fn show(&self) -> String {
        match &self.attr {
            Some(a) => format!("attribute {} of {}", a.to_string_lossy(), self.path.to_string_lossy()),
            None => format!("dataset {}", self.path.to_string_lossy()),
        }
    }
}

/// The address an object token of the native connector holds (its first bytes, little-endian).
pub fn token_addr(info: &H5O_info2_t) -> u64 {
    // SAFETY: `H5O_token_t` is a `#[repr(C)]` wrapper of exactly `H5O_MAX_TOKEN_SIZE` (16) bytes.
    let bytes: [u8; 16] = unsafe { std::mem::transmute(info.token) };
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(b)
}

fn is_ref_type(t: hid_t) -> bool {
    // SAFETY: a valid type id.
    unsafe { H5Tdetect_class(t, H5T_class_t::H5T_REFERENCE) > 0 }
}

/// Calls `f` with every reference inside one element of type `t` at `p` (a memory buffer read
/// with `t`).
///
/// # Safety
/// `p` points at one element of the memory type `t`, as HDF5 read it.
unsafe fn walk(t: hid_t, p: *mut u8, f: &mut dyn FnMut(Kind, *mut u8) -> Result<(), String>) -> Result<(), String> {
    if !is_ref_type(t) {
        return Ok(());
    }
    // SAFETY: queries on a valid type; the offsets and sizes HDF5 gives stay inside the element
    // (compound members, array elements) or inside the variable-length buffer HDF5 allocated.
    unsafe {
        match H5Tget_class(t) {
            H5T_class_t::H5T_REFERENCE => {
                let kind = if H5Tequal(t, *H5T_STD_REF_OBJ) > 0 {
                    Kind::Object1
                } else if H5Tequal(t, *H5T_STD_REF_DSETREG) > 0 {
                    Kind::Region1
                } else {
                    Kind::Ref
                };
                f(kind, p)
            }
            H5T_class_t::H5T_COMPOUND => {
                for i in 0..H5Tget_nmembers(t).max(0) as u32 {
                    let m = IdGuard(H5Tget_member_type(t, i));
                    walk(m.0, p.add(H5Tget_member_offset(t, i)), f)?;
                }
                Ok(())
            }
            H5T_class_t::H5T_ARRAY => {
                let base = IdGuard(H5Tget_super(t));
                let n = H5Tget_array_ndims(t).max(0) as usize;
                let mut dims = vec![0 as hsize_t; n];
                H5Tget_array_dims2(t, dims.as_mut_ptr());
                let size = H5Tget_size(base.0);
                for k in 0..dims.iter().product::<hsize_t>() as usize {
                    walk(base.0, p.add(k * size), f)?;
                }
                Ok(())
            }
            H5T_class_t::H5T_VLEN if H5Tis_variable_str(t) <= 0 => {
                let base = IdGuard(H5Tget_super(t));
                let size = H5Tget_size(base.0);
                let (len, data) =
                    (p.cast::<usize>().read_unaligned(), p.add(size_of::<usize>()).cast::<*mut u8>().read_unaligned());
                for k in 0..len {
                    walk(base.0, data.add(k * size), f)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// Reads the data of `holder` in `file` block by block (datasets: along their first dimension)
/// and lets `f` see (and change) every reference; with `write_back`, the changed blocks are
/// written back.
fn each_block(
    file: hid_t,
    holder: &Holder,
    write_back: bool,
    f: &mut dyn FnMut(hid_t, Kind, *mut u8) -> Result<(), String>,
) -> Result<(), String> {
    // SAFETY: every id is checked and released by `IdGuard`; buffers are sized from HDF5's own
    // type sizes and element counts, and reclaimed with the type they were read with.
    unsafe {
        let obj = match &holder.attr {
            None => IdGuard(H5Dopen2(file, holder.path.as_ptr(), H5P_DEFAULT)),
            Some(a) => {
                let o = IdGuard(dset_split::ffi::sys::h5o::H5Oopen(file, holder.path.as_ptr(), H5P_DEFAULT));
                if o.0 < 0 {
                    return Err(h5::failed(format!("cannot open {}", holder.show())));
                }
                IdGuard(H5Aopen(o.0, a.as_ptr(), H5P_DEFAULT))
            }
        };
        if obj.0 < 0 {
            return Err(h5::failed(format!("cannot open {}", holder.show())));
        }
        let is_attr = holder.attr.is_some();
        let t = IdGuard(if is_attr { H5Aget_type(obj.0) } else { H5Dget_type(obj.0) });
        let space = IdGuard(if is_attr { H5Aget_space(obj.0) } else { H5Dget_space(obj.0) });
        let size = H5Tget_size(t.0);
        let total = H5Sget_simple_extent_npoints(space.0).max(0) as usize;
        let rank = H5Sget_simple_extent_ndims(space.0).max(0) as usize;
        let mut dims = vec![0 as hsize_t; rank];
        H5Sget_simple_extent_dims(space.0, dims.as_mut_ptr(), std::ptr::null_mut());
        // Attributes and scalar datasets in one piece; datasets in blocks of whole rows.
        let row: usize = dims.iter().skip(1).product::<hsize_t>() as usize;
        let rows_per_block = if is_attr || rank == 0 { usize::MAX } else { (1 << 20) / row.max(1) }.max(1);
        let rows = if rank == 0 { 1 } else { dims[0] as usize };
        let mut start = 0usize;
        while start < rows.max(1) && total > 0 {
            let n = rows_per_block.min(rows - start);
            let elems = if is_attr || rank == 0 { total } else { n * row };
            let mut buf = vec![0u8; elems * size];
            let (mem, file_space) = if is_attr || rank == 0 {
                (IdGuard(-1), IdGuard(-1))
            } else {
                let fs = IdGuard(H5Dget_space(obj.0));
                let mut off = vec![0 as hsize_t; rank];
                off[0] = start as hsize_t;
                let mut count = dims.clone();
                count[0] = n as hsize_t;
                H5Sselect_hyperslab(
                    fs.0,
                    H5S_seloper_t::H5S_SELECT_SET,
                    off.as_ptr(),
                    std::ptr::null(),
                    count.as_ptr(),
                    std::ptr::null(),
                );
                let m = [elems as hsize_t];
                (IdGuard(H5Screate_simple(1, m.as_ptr(), std::ptr::null())), fs)
            };
            let (ms, fs) = if mem.0 < 0 { (H5S_ALL, H5S_ALL) } else { (mem.0, file_space.0) };
            let rc = if is_attr {
                H5Aread(obj.0, t.0, buf.as_mut_ptr().cast())
            } else {
                H5Dread(obj.0, t.0, ms, fs, H5P_DEFAULT, buf.as_mut_ptr().cast())
            };
            if rc < 0 {
                return Err(h5::failed(format!("cannot read {}", holder.show())));
            }
            let mut outcome = Ok(());
            for k in 0..elems {
                outcome = walk(t.0, buf.as_mut_ptr().add(k * size), &mut |kind, p| f(obj.0, kind, p));
                if outcome.is_err() {
                    break;
                }
            }
            if outcome.is_ok() && write_back {
                let rc = if is_attr {
                    H5Awrite(obj.0, t.0, buf.as_ptr().cast())
                } else {
                    H5Dwrite(obj.0, t.0, ms, fs, H5P_DEFAULT, buf.as_ptr().cast())
                };
                if rc < 0 {
                    outcome = Err(h5::failed(format!("cannot write {}", holder.show())));
                }
            }
            let reclaim_space = if mem.0 < 0 { space.0 } else { mem.0 };
            H5Treclaim(t.0, reclaim_space, H5P_DEFAULT, buf.as_mut_ptr().cast());
            outcome?;
            start += n;
        }
    }
    Ok(())
}

/// Calls `f` with every object of `file` (once, with one of its absolute paths) and its info.
fn visit_objects(file: hid_t, f: &mut dyn FnMut(hid_t, CString, &H5O_info2_t)) -> Result<(), String> {
    type Visitor<'a> = &'a mut dyn FnMut(hid_t, CString, &H5O_info2_t);
    extern "C" fn object(o: hid_t, name: *const c_char, info: *const H5O_info2_t, data: *mut c_void) -> i32 {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // SAFETY: HDF5 passes a valid location, NUL-terminated name and object info; `data`
            // is the visitor below.
            let (name, info, f) = unsafe { (CStr::from_ptr(name), &*info, &mut *data.cast::<Visitor>()) };
            let mut path = b"/".to_vec();
            if name.to_bytes() != b"." {
                path.extend_from_slice(name.to_bytes());
            }
            f(o, CString::new(path).expect("from a C string"), info);
        }));
        if outcome.is_ok() { 0 } else { -1 }
    }
    let mut visitor: Visitor = f;
    // SAFETY: a valid file; `object` only uses the visitor during this call.
    let rc = unsafe {
        H5Ovisit3(
            file,
            H5_index_t::H5_INDEX_NAME,
            H5_iter_order_t::H5_ITER_INC,
            Some(object),
            (&mut visitor as *mut Visitor).cast(),
            H5O_INFO_BASIC,
        )
    };
    if rc < 0 {
        return Err(h5::failed("cannot visit the objects of the file"));
    }
    Ok(())
}

/// Whether references are nested in `t` (inside compound, array or variable-length data) rather
/// than the whole element.
fn nested(t: hid_t) -> bool {
    // SAFETY: a valid type.
    unsafe { H5Tget_class(t) != H5T_class_t::H5T_REFERENCE }
}

/// The datasets and attributes of `file` that hold references.
pub fn holders(file: hid_t) -> Result<Vec<Holder>, String> {
    let mut found = Vec::new();
    visit_objects(file, &mut |o, path, info| {
        if info.type_ == H5O_type_t::H5O_TYPE_DATASET {
            // SAFETY: opens a dataset HDF5 just listed; ids released by `IdGuard`.
            let d = IdGuard(unsafe { H5Dopen2(o, path.as_ptr(), H5P_DEFAULT) });
            // SAFETY: as above.
            let t = IdGuard(unsafe { H5Dget_type(d.0) });
            if is_ref_type(t.0) {
                found.push(Holder { path: path.clone(), attr: None, nested: nested(t.0) });
            }
        }
        for (attr, t) in attributes(o, &path) {
            if is_ref_type(t.0) {
                found.push(Holder { path: path.clone(), attr: Some(attr), nested: nested(t.0) });
            }
        }
    })?;
    Ok(found)
}

/// The attributes (name, type) of the object at `path`.
fn attributes(loc: hid_t, path: &CStr) -> Vec<(CString, IdGuard)> {
    use dset_split::ffi::sys::h5a::{H5A_info_t, H5Aiterate_by_name};
    unsafe extern "C" fn add(loc: hid_t, name: *const c_char, _: *const H5A_info_t, data: *mut c_void) -> i32 {
        // SAFETY: HDF5 passes the object and a NUL-terminated name; `data` is the Vec below.
        let (name, out) = unsafe { (CStr::from_ptr(name), &mut *data.cast::<Vec<(CString, IdGuard)>>()) };
        // SAFETY: opens the attribute HDF5 just listed; released by `IdGuard`.
        let a = IdGuard(unsafe { H5Aopen(loc, name.as_ptr(), H5P_DEFAULT) });
        // SAFETY: as above.
        let t = IdGuard(unsafe { H5Aget_type(a.0) });
        out.push((name.to_owned(), t));
        0
    }
    let mut out = Vec::new();
    // SAFETY: a valid location and path; `add` only touches `out` during this call.
    unsafe {
        H5Aiterate_by_name(
            loc,
            path.as_ptr(),
            H5_index_t::H5_INDEX_NAME,
            H5_iter_order_t::H5_ITER_INC,
            std::ptr::null_mut(),
            Some(add),
            (&mut out as *mut Vec<(CString, IdGuard)>).cast(),
            H5P_DEFAULT,
        )
    };
    out
}

/// The addresses of the objects the references in `holders` point at (in `file`, whose number
/// is `fileno`; references into other files are left out).
/// Read in the same pass: why the file's nested references could not be carried over to a new
/// main file, if they could not (only object references, `hobj_ref_t`, can be; see
/// [`remap_nested`]).
pub fn targets(file: hid_t, fileno: u64, holders: &[Holder]) -> Result<(HashSet<u64>, Option<String>), String> {
    let mut found = HashSet::new();
    let mut refusal = None;
    for h in holders {
        each_block(file, h, false, &mut |obj, kind, p| {
            if h.nested && kind != Kind::Object1 && refusal.is_none() {
                refusal = Some(format!(
                    "{} holds region or HDF5 1.12-style references inside compound, array or variable-length data, \
                     which cannot be carried over to a new file; nothing was changed",
                    h.show()
                ));
            }
            if let Some(addr) = target(obj, fileno, kind, p) {
                found.insert(addr);
            }
            Ok(())
        })?;
    }
    Ok((found, refusal))
}

/// The address of the object the reference at `p` points at, or None (a null reference, or one
/// into another file).
fn target(obj: hid_t, fileno: u64, kind: Kind, p: *mut u8) -> Option<u64> {
    // SAFETY: `p` points at a reference of `kind` that HDF5 read; opened objects are released
    // by `IdGuard`.
    unsafe {
        let opened = match kind {
            Kind::Object1 => {
                let addr = p.cast::<u64>().read_unaligned();
                return (addr != 0 && addr != u64::MAX).then_some(addr);
            }
            Kind::Region1 => IdGuard(H5Rdereference2(obj, H5P_DEFAULT, H5R_type_t::H5R_DATASET_REGION1, p.cast())),
            Kind::Ref => IdGuard(H5Ropen_object(p.cast::<H5R_ref_t>(), H5P_DEFAULT, H5P_DEFAULT)),
        };
        if opened.0 < 0 {
            h5::last_error(); // a null reference: nothing to keep
            return None;
        }
        let mut info: H5O_info2_t = std::mem::zeroed();
        if H5Oget_info3(opened.0, &mut info, H5O_INFO_BASIC) < 0 || info.fileno != fileno {
            return None;
        }
        Some(token_addr(&info))
    }
}

/// The address of every object of `file` reachable by a path, with one path for each.
pub fn paths(file: hid_t) -> Result<HashMap<u64, CString>, String> {
    let mut out = HashMap::new();
    visit_objects(file, &mut |_, path, info| {
        out.entry(token_addr(info)).or_insert(path);
    })?;
    Ok(out)
}

/// In `dst`, a copy of the file whose objects `old_paths` lists (by their old addresses), points
/// the nested references of `holders` (copied unchanged, so still holding old addresses) at the
/// copies of their objects, found by path. Only object references (`hobj_ref_t`) can be nested
/// this way in practice (dimension scales); [`targets`] tells of the others beforehand.
pub fn remap_nested(dst: hid_t, old_paths: &HashMap<u64, CString>, holders: &[Holder]) -> Result<(), String> {
    let mut new_addr: HashMap<u64, u64> = HashMap::new();
    for h in holders.iter().filter(|h| h.nested) {
        each_block(dst, h, true, &mut |_, kind, p| {
            if kind != Kind::Object1 {
                return Err(format!("{}: only object references can be carried over when nested", h.show()));
            }
            // SAFETY: `p` points at an `hobj_ref_t` HDF5 read.
            let old = unsafe { p.cast::<u64>().read_unaligned() };
            if old == 0 || old == u64::MAX {
                return Ok(());
            }
            let addr = match new_addr.get(&old) {
                Some(a) => *a,
                None => {
                    let path = old_paths.get(&old).ok_or_else(|| {
                        format!("{}: holds a reference to an object that has no path (anonymous)", h.show())
                    })?;
                    // SAFETY: a valid file and path; the info is plain output.
                    let mut info: H5O_info2_t = unsafe { std::mem::zeroed() };
                    // SAFETY: as above.
                    if unsafe { H5Oget_info_by_name3(dst, path.as_ptr(), &mut info, H5O_INFO_BASIC, H5P_DEFAULT) } < 0 {
                        return Err(h5::failed(format!(
                            "{}: cannot find {} in the copy",
                            h.show(),
                            path.to_string_lossy()
                        )));
                    }
                    new_addr.insert(old, token_addr(&info));
                    token_addr(&info)
                }
            };
            // SAFETY: as above.
            unsafe { p.cast::<u64>().write_unaligned(addr) };
            Ok(())
        })?;
    }
    Ok(())
}

/// The addresses of the objects that region or HDF5 1.12-style references of `holders` (in
/// `file`, whose number is `fileno`) point at: those references cannot follow an object that is
/// replaced by a new one.
pub fn region_targets(file: hid_t, fileno: u64, holders: &[Holder]) -> Result<HashSet<u64>, String> {
    let mut found = HashSet::new();
    for h in holders {
        each_block(file, h, false, &mut |obj, kind, p| {
            if kind != Kind::Object1 {
                if let Some(addr) = target(obj, fileno, kind, p) {
                    found.insert(addr);
                }
            }
            Ok(())
        })?;
    }
    Ok(found)
}

/// Why the references of `holders` (in `file`, whose number is `fileno`) cannot follow objects
/// that are replaced (at the addresses `replaced`): only object references (`hobj_ref_t`) can be
/// rewritten in place; a region or HDF5 1.12-style reference to one of them cannot yet.
pub fn refusal_for_replaced(
    file: hid_t,
    fileno: u64,
    holders: &[Holder],
    replaced: &HashSet<u64>,
) -> Result<Option<String>, String> {
    for h in holders {
        let mut refusal = None;
        each_block(file, h, false, &mut |obj, kind, p| {
            if kind != Kind::Object1
                && refusal.is_none()
                && target(obj, fileno, kind, p).is_some_and(|a| replaced.contains(&a))
            {
                refusal = Some(format!(
                    "{} holds a region or HDF5 1.12-style reference to a dataset in the virtual form, which cannot \
                     be carried over to its new object yet; nothing written",
                    h.show()
                ));
            }
            Ok(())
        })?;
        if refusal.is_some() {
            return Ok(refusal);
        }
    }
    Ok(None)
}

/// Points every object reference (`hobj_ref_t`, whole or nested) of `holders` in `file` whose
/// address is a key of `moved` at the object's new address.
pub fn remap_objects(file: hid_t, moved: &HashMap<u64, u64>, holders: &[Holder]) -> Result<(), String> {
    for h in holders {
        each_block(file, h, true, &mut |_, kind, p| {
            if kind == Kind::Object1 {
                // SAFETY: `p` points at an `hobj_ref_t` HDF5 read.
                let old = unsafe { p.cast::<u64>().read_unaligned() };
                if let Some(new) = moved.get(&old) {
                    // SAFETY: as above.
                    unsafe { p.cast::<u64>().write_unaligned(*new) };
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}
