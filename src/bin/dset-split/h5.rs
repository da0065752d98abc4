//! Small pieces of plain HDF5 (the native connector) that the subcommands share: opening files
//! without the plugin, HDF5's own error message, links in creation order, and editing the links
//! of a group without changing their order.

use std::collections::BTreeMap;
use std::ffi::{CStr, CString, c_char, c_uint, c_void};
use std::path::Path;

use dset_split::ffi::sys::h5::{H5_index_t, H5_iter_order_t, herr_t};
use dset_split::ffi::sys::h5e::{
    H5E_DEFAULT, H5E_direction_t, H5E_error2_t, H5Eclose_stack, H5Eget_current_stack, H5Eset_auto2, H5Ewalk2,
};
use dset_split::ffi::sys::h5f::{H5F_ACC_RDONLY, H5F_ACC_RDWR, H5Fopen};
use dset_split::ffi::sys::h5g::{H5Gget_create_plist, H5Gopen2};
use dset_split::ffi::sys::h5i::hid_t;
use dset_split::ffi::sys::h5l::{H5L_info2_t, H5L_type_t, H5Lget_val, H5Literate2, H5Lmove, H5Lunpack_elink_val};
use dset_split::ffi::sys::h5p::{
    H5P_CLS_FILE_ACCESS, H5P_CLS_LINK_CREATE, H5P_CRT_ORDER_TRACKED, H5P_DEFAULT, H5Pcreate,
    H5Pget_link_creation_order, H5Pset_char_encoding, H5Pset_vol,
};
use dset_split::ffi::sys::h5t::H5T_cset_t;
use dset_split::ffi::sys::h5vl::H5VLget_connector_id_by_name;
use dset_split::split::IdGuard;

/// Switches HDF5's automatic error printing off for this process: the tool prints its own
/// messages (with HDF5's innermost one, see [`last_error`]).
pub fn quiet() {
    // SAFETY: a plain library call with valid arguments.
    unsafe { H5Eset_auto2(H5E_DEFAULT, None, std::ptr::null_mut()) };
}

/// The innermost message of HDF5's current error stack (where the failure happened), or "".
pub fn last_error() -> String {
    unsafe extern "C" fn first(n: c_uint, err: *const H5E_error2_t, data: *mut c_void) -> herr_t {
        // SAFETY: HDF5 passes a valid error record; `data` is the `String` below.
        let (err, out) = unsafe { (&*err, &mut *data.cast::<String>()) };
        if n == 0 && !err.desc.is_null() {
            // SAFETY: a NUL-terminated description owned by HDF5 during this call.
            *out = unsafe { CStr::from_ptr(err.desc) }.to_string_lossy().into_owned();
        }
        0
    }
    let mut out = String::new();
    // SAFETY: copies the current stack (H5Eget_current_stack also clears it), walks the copy
    // from the innermost record and closes it.
    unsafe {
        let stack = H5Eget_current_stack();
        if stack >= 0 {
            H5Ewalk2(stack, H5E_direction_t::H5E_WALK_UPWARD, Some(first), (&mut out as *mut String).cast());
            H5Eclose_stack(stack);
        }
    }
    out
}

/// `what` plus HDF5's own reason, if it gave one.
pub fn failed(what: impl std::fmt::Display) -> String {
    match last_error() {
        e if e.is_empty() => what.to_string(),
        e => format!("{what}: {e}"),
    }
}

/// The path as a C string.
pub fn c_path(path: &Path) -> Result<CString, String> {
    CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| format!("{}: the name holds a NUL byte", path.display()))
}

/// Takes a shared lock on `fd` (`path` names it), the one HDF5 takes to read a file: while it is
/// held, HDF5 programs cannot open the file for writing, and an HDF5 program writing it makes
/// this fail. As HDF5 does, no lock is taken with `HDF5_USE_FILE_LOCKING=FALSE` or on a file
/// system without locks.
pub fn lock_shared(fd: &std::fs::File, path: &Path) -> Result<(), String> {
    use std::os::fd::AsRawFd;
    if std::env::var("HDF5_USE_FILE_LOCKING").is_ok_and(|v| v.eq_ignore_ascii_case("false")) {
        return Ok(());
    }
    // SAFETY: an open descriptor.
    if unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) } != 0 {
        let e = std::io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::ENOSYS | libc::ENOLCK | libc::EOPNOTSUPP) => Ok(()),
            Some(libc::EWOULDBLOCK) => {
                Err(format!("{} is open for writing (locked by another program)", path.display()))
            }
            _ => Err(format!("cannot lock {}: {e}", path.display())),
        };
    }
    Ok(())
}

/// Gives the owner write permission on `path` (a copy of a read-only file, e.g. from a DVC
/// cache, is read-only too).
pub fn make_writable(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mut perm = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?.permissions();
    perm.set_mode(perm.mode() | 0o200);
    std::fs::set_permissions(path, perm).map_err(|e| format!("cannot make {} writable: {e}", path.display()))
}

/// A file access property list for HDF5's native connector, whatever `HDF5_VOL_CONNECTOR` says:
/// the tool reads and writes plain HDF5.
pub fn native_fapl() -> Result<IdGuard, String> {
    // SAFETY: plain HDF5 calls with valid arguments; every id is checked and released by `IdGuard`.
    let fapl = IdGuard(unsafe { H5Pcreate(*H5P_CLS_FILE_ACCESS) });
    // SAFETY: a NUL-terminated connector name.
    let native = IdGuard(unsafe { H5VLget_connector_id_by_name(c"native".as_ptr()) });
    // SAFETY: our own fapl and the native connector's id.
    if fapl.0 < 0 || native.0 < 0 || unsafe { H5Pset_vol(fapl.0, native.0, std::ptr::null()) } < 0 {
        return Err(failed("cannot set up HDF5's native connector"));
    }
    Ok(fapl)
}

/// Opens `path` with the native connector, read-only or read-write. Anything but a regular file
/// (after symbolic links) is refused first: opening a named pipe would wait for a writer.
pub fn open(path: &Path, write: bool) -> Result<IdGuard, String> {
    if let Some(what) = std::fs::metadata(path).ok().and_then(|m| not_regular(&m.file_type())) {
        return Err(format!("cannot open {} as an HDF5 file: it is {what}, not a regular file", path.display()));
    }
    let name = c_path(path)?;
    let fapl = native_fapl()?;
    let flags = if write { H5F_ACC_RDWR } else { H5F_ACC_RDONLY };
    // SAFETY: a NUL-terminated name and our fapl.
    let f = IdGuard(unsafe { H5Fopen(name.as_ptr(), flags, fapl.0) });
    if f.0 < 0 {
        let how = if write { "for writing" } else { "" };
        return Err(failed(format!("cannot open {} {how} as an HDF5 file", path.display()).replace("  ", " ")));
    }
    Ok(f)
}

/// What a file that is not a regular file is, in words; None for a regular file.
fn not_regular(t: &std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_fifo() {
        Some("a named pipe (FIFO)")
    } else if t.is_socket() {
        Some("a socket")
    } else if t.is_char_device() || t.is_block_device() {
        Some("a device")
    } else {
        Some("not a file")
    }
}

/// A link creation property list with the character set of a link's name.
pub fn lcpl(cset: H5T_cset_t) -> Result<IdGuard, String> {
    // SAFETY: a fresh list, checked, and a valid character set.
    let l = IdGuard(unsafe { H5Pcreate(*H5P_CLS_LINK_CREATE) });
    // SAFETY: as above.
    if l.0 < 0 || unsafe { H5Pset_char_encoding(l.0, cset) } < 0 {
        return Err(failed("cannot make a link creation property list"));
    }
    Ok(l)
}

/// One link of a group.
#[derive(Debug, Clone)]
pub struct Link {
    pub name: CString,
    pub cset: H5T_cset_t,
    pub kind: H5L_type_t,
}

/// Whether the group `group` records the creation order of its links.
pub fn tracks_order(group: hid_t) -> bool {
    // SAFETY: a valid group id; the list is released by `IdGuard`.
    let gcpl = IdGuard(unsafe { H5Gget_create_plist(group) });
    let mut flags: c_uint = 0;
    // SAFETY: our list and an output slot.
    gcpl.0 >= 0 && unsafe { H5Pget_link_creation_order(gcpl.0, &mut flags) } >= 0 && flags & H5P_CRT_ORDER_TRACKED != 0
}

/// The links of `group`, in creation order when the group tracks it (as HDF5 lists them then),
/// else in name order.
pub fn links(group: hid_t) -> Result<Vec<Link>, String> {
    unsafe extern "C" fn add(_: hid_t, name: *const c_char, info: *const H5L_info2_t, data: *mut c_void) -> herr_t {
        // SAFETY: HDF5 passes a NUL-terminated name and valid link info; `data` is the Vec below.
        let (name, info, out) = unsafe { (CStr::from_ptr(name), &*info, &mut *data.cast::<Vec<Link>>()) };
        out.push(Link { name: name.to_owned(), cset: info.cset, kind: info.type_ });
        0
    }
    let by_order = tracks_order(group);
    let mut found = Vec::new();
    for index in [H5_index_t::H5_INDEX_CRT_ORDER, H5_index_t::H5_INDEX_NAME] {
        if index == H5_index_t::H5_INDEX_CRT_ORDER && !by_order {
            continue;
        }
        found.clear();
        // SAFETY: a valid group; `add` only touches `found` during this call.
        let rc = unsafe {
            H5Literate2(
                group,
                index,
                H5_iter_order_t::H5_ITER_INC,
                std::ptr::null_mut(),
                Some(add),
                (&mut found as *mut Vec<Link>).cast(),
            )
        };
        if rc >= 0 {
            return Ok(found);
        }
    }
    Err(failed("cannot list the links of a group"))
}

/// Runs `edit`, which replaces links of `group` by links of the same names (e.g. a dataset by
/// an external link), and then, if the group records creation order, gives the links their old
/// order back: HDF5 appends a new link at the end, and programs (netCDF, h5py's `track_order`)
/// list a group's members in that order. The links from the first one out of place on are moved
/// away and back, in their old order (a link move keeps what the link is and leads to).
pub fn keep_order<R>(group: hid_t, edit: impl FnOnce() -> Result<R, String>) -> Result<R, String> {
    if !tracks_order(group) {
        return edit();
    }
    let before = links(group)?;
    let out = edit()?;
    let after = links(group)?;
    let Some(first) = before.iter().zip(&after).position(|(b, a)| b.name != a.name) else {
        return Ok(out);
    };
    let names: Vec<&CString> = before.iter().map(|l| &l.name).collect();
    let mut parked = Vec::new();
    for (i, link) in before[first..].iter().enumerate() {
        let mut n = i;
        let tmp = loop {
            let t = CString::new(format!(".dset-split-reorder-{n}")).expect("no NUL");
            if !names.contains(&&t) {
                break t;
            }
            n += before.len();
        };
        let l = lcpl(link.cset)?;
        // SAFETY: a valid group, NUL-terminated names and our lcpl.
        if unsafe { H5Lmove(group, link.name.as_ptr(), group, tmp.as_ptr(), l.0, H5P_DEFAULT) } < 0 {
            return Err(failed(format!("cannot reorder the link {}", link.name.to_string_lossy())));
        }
        parked.push((tmp, link, l));
    }
    for (tmp, link, l) in &parked {
        // SAFETY: as above.
        if unsafe { H5Lmove(group, tmp.as_ptr(), group, link.name.as_ptr(), l.0, H5P_DEFAULT) } < 0 {
            return Err(failed(format!("cannot reorder the link {}", link.name.to_string_lossy())));
        }
    }
    Ok(out)
}

/// Replaces links of `file` group by group: for each parent group of the absolute paths of
/// `items` (opened in `file`), calls `edit(group, item, name in the group)` for its items inside
/// [`keep_order`], so each group keeps its creation order.
pub fn edit_by_parent<'a, T>(
    file: hid_t,
    items: &'a [T],
    path_of: impl Fn(&T) -> &CStr,
    mut edit: impl FnMut(hid_t, &'a T, &CStr) -> Result<(), String>,
) -> Result<(), String> {
    let mut by_parent: BTreeMap<Vec<u8>, Vec<(&'a T, CString)>> = BTreeMap::new();
    for item in items {
        let p = path_of(item).to_bytes();
        let cut = p.iter().rposition(|&b| b == b'/').unwrap_or(0);
        let parent = if cut == 0 { b"/".to_vec() } else { p[..cut].to_vec() };
        let name = CString::new(&p[cut + 1..]).expect("from a C string");
        by_parent.entry(parent).or_default().push((item, name));
    }
    for (parent, members) in by_parent {
        let parent = CString::new(parent).expect("from a C string");
        // SAFETY: a valid file and path; released by `IdGuard`.
        let group = IdGuard(unsafe { H5Gopen2(file, parent.as_ptr(), H5P_DEFAULT) });
        if group.0 < 0 {
            return Err(failed(format!("cannot open the group {}", parent.to_string_lossy())));
        }
        keep_order(group.0, || members.iter().try_for_each(|(item, name)| edit(group.0, item, name)))?;
    }
    Ok(())
}

/// The target (file, object) of the external link `name` in `group`, whose value has `size`
/// bytes.
pub fn external_target(group: hid_t, name: &CStr, size: usize) -> Option<(String, String)> {
    let (file, object) = external_value(group, name, size)?;
    Some((String::from_utf8_lossy(&file).into_owned(), String::from_utf8_lossy(&object).into_owned()))
}

/// [`external_target`] as the bytes stored.
pub fn external_value(group: hid_t, name: &CStr, size: usize) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut buf = vec![0u8; size.max(1)];
    // SAFETY: the buffer holds `size` bytes.
    if unsafe { H5Lget_val(group, name.as_ptr(), buf.as_mut_ptr().cast(), size, H5P_DEFAULT) } < 0 {
        return None;
    }
    let (mut file, mut object): (*const c_char, *const c_char) = (std::ptr::null(), std::ptr::null());
    let mut flags = 0u32;
    // SAFETY: unpacks the value just read; the out pointers point into `buf`, which outlives them.
    if unsafe { H5Lunpack_elink_val(buf.as_ptr().cast(), size, &mut flags, &mut file, &mut object) } < 0
        || file.is_null()
        || object.is_null()
    {
        return None;
    }
    // SAFETY: NUL-terminated strings inside `buf`.
    let (file, object) = unsafe { (CStr::from_ptr(file), CStr::from_ptr(object)) };
    Some((file.to_bytes().to_vec(), object.to_bytes().to_vec()))
}

/// The one source of the virtual dataset `dset` (its file as written, `%%` undone, and its
/// dataset), or None when it is not a virtual dataset with one mapping onto one file.
pub fn virtual_source(dset: hid_t) -> Option<(String, String)> {
    // SAFETY: a valid dataset id; the list is released by the guard.
    let dcpl = IdGuard(unsafe { dset_split::ffi::sys::h5d::H5Dget_create_plist(dset) });
    // SAFETY: a property list id (or negative), as `single_source` takes it.
    let (file, object) = unsafe { dset_split::split::single_source(dcpl.0) }?;
    Some((String::from_utf8(file).ok()?, String::from_utf8(object).ok()?))
}

/// Copies every attribute of `from` to `to` (objects of one file), in creation order where
/// tracked, with its datatype (also a committed one), dataspace, character set and value.
pub fn copy_attributes(from: hid_t, to: hid_t) -> Result<(), String> {
    use dset_split::ffi::sys::h5a::{H5A_info_t, H5Aiterate2};
    struct Ctx {
        to: hid_t,
        error: Option<String>,
    }
    unsafe extern "C" fn one(loc: hid_t, name: *const c_char, _: *const H5A_info_t, data: *mut c_void) -> herr_t {
        // SAFETY: `data` is the `Ctx` below; HDF5 passes a NUL-terminated name.
        let (ctx, name) = unsafe { (&mut *data.cast::<Ctx>(), CStr::from_ptr(name)) };
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| copy_attribute(loc, name, ctx.to))) {
            Ok(Ok(())) => 0,
            Ok(Err(e)) => {
                ctx.error = Some(e);
                -1
            }
            Err(_) => {
                ctx.error = Some("internal error copying an attribute".into());
                -1
            }
        }
    }
    let mut ctx = Ctx { to, error: None };
    for index in [H5_index_t::H5_INDEX_CRT_ORDER, H5_index_t::H5_INDEX_NAME] {
        ctx.error = None;
        let mut n: dset_split::ffi::sys::h5::hsize_t = 0;
        // SAFETY: a valid object; `one` only uses `ctx` during this call.
        let rc = unsafe {
            H5Aiterate2(from, index, H5_iter_order_t::H5_ITER_INC, &mut n, Some(one), (&mut ctx as *mut Ctx).cast())
        };
        if rc >= 0 {
            return Ok(());
        }
        if let Some(e) = ctx.error.take() {
            return Err(e);
        }
        last_error(); // no creation-order index: by name
    }
    Err(failed("cannot list the attributes"))
}

fn copy_attribute(from: hid_t, name: &CStr, to: hid_t) -> Result<(), String> {
    use dset_split::ffi::sys::h5a::{
        H5A_info_t, H5Acreate2, H5Aget_info, H5Aget_space, H5Aget_type, H5Aopen, H5Aread, H5Awrite,
    };
    use dset_split::ffi::sys::h5p::{H5P_CLS_ATTRIBUTE_CREATE, H5Pcreate, H5Pset_char_encoding};
    let show = name.to_string_lossy();
    // SAFETY: valid ids throughout, each checked and released by `IdGuard`; the buffer has the
    // attribute's element count times its memory type's size, and is reclaimed with that type.
    unsafe {
        let a = IdGuard(H5Aopen(from, name.as_ptr(), H5P_DEFAULT));
        let t = IdGuard(H5Aget_type(a.0));
        let s = IdGuard(H5Aget_space(a.0));
        let mut info: H5A_info_t = std::mem::zeroed();
        if a.0 < 0 || t.0 < 0 || s.0 < 0 || H5Aget_info(a.0, &mut info) < 0 {
            return Err(failed(format!("cannot open the attribute {show}")));
        }
        let acpl = IdGuard(H5Pcreate(*H5P_CLS_ATTRIBUTE_CREATE));
        H5Pset_char_encoding(acpl.0, info.cset);
        let b = IdGuard(H5Acreate2(to, name.as_ptr(), t.0, s.0, acpl.0, H5P_DEFAULT));
        if b.0 < 0 {
            return Err(failed(format!("cannot create the attribute {show}")));
        }
        let n = dset_split::ffi::sys::h5s::H5Sget_simple_extent_npoints(s.0).max(0) as usize;
        let mut buf = vec![0u8; n * dset_split::ffi::sys::h5t::H5Tget_size(t.0)];
        if n > 0 {
            if H5Aread(a.0, t.0, buf.as_mut_ptr().cast()) < 0 || H5Awrite(b.0, t.0, buf.as_ptr().cast()) < 0 {
                return Err(failed(format!("cannot copy the attribute {show}")));
            }
            // Frees variable-length data and references (nothing for other types).
            dset_split::ffi::sys::h5t::H5Treclaim(t.0, s.0, H5P_DEFAULT, buf.as_mut_ptr().cast());
        }
    }
    Ok(())
}

/// An object copy property list that leaves attributes out (`H5O_COPY_WITHOUT_ATTR_FLAG`).
pub fn copy_without_attributes() -> Result<IdGuard, String> {
    use dset_split::ffi::sys::h5p::{H5P_CLS_OBJECT_COPY, H5Pcreate, H5Pset_copy_object};
    // SAFETY: a fresh list, checked, released by the guard.
    let l = IdGuard(unsafe { H5Pcreate(*H5P_CLS_OBJECT_COPY) });
    /// `H5O_COPY_WITHOUT_ATTR_FLAG`.
    const WITHOUT_ATTR: u32 = 0x0010;
    // SAFETY: sets a flag on our own list, checked to be valid first.
    if l.0 < 0 || unsafe { H5Pset_copy_object(l.0, WITHOUT_ATTR) } < 0 {
        return Err(failed("cannot make an object copy property list"));
    }
    Ok(l)
}
