//! The HDF5 calls a pack is made of and read with: the `stat` compound, byte attributes, a
//! group's links with their tokens, and object tokens as plain bytes. Each function is a few
//! checked HDF5 calls; what the values mean is in `format`.

use std::ffi::{CStr, CString, c_char, c_void};

use dset_split::ffi::sys::h5::{H5_index_t, H5_iter_order_t, haddr_t, herr_t, hsize_t};
use dset_split::ffi::sys::h5a::{H5Acreate2, H5Aexists, H5Aget_space, H5Aget_type, H5Aopen, H5Aread, H5Awrite};
use dset_split::ffi::sys::h5i::hid_t;
use dset_split::ffi::sys::h5l::{H5L_info2_t, H5L_type_t, H5Lget_val, H5Literate2};
use dset_split::ffi::sys::h5o::{H5O_INFO_BASIC, H5O_info2_t, H5O_token_t, H5Oget_info3};
use dset_split::ffi::sys::h5p::H5P_DEFAULT;
use dset_split::ffi::sys::h5s::{H5S_class_t, H5Screate, H5Screate_simple, H5Sget_simple_extent_npoints};
use dset_split::ffi::sys::h5t::{
    H5T_NATIVE_INT64, H5T_NATIVE_UINT8, H5T_NATIVE_UINT32, H5T_STD_I64LE, H5T_STD_U8LE, H5T_STD_U32LE, H5T_class_t,
    H5Tcreate, H5Tget_size, H5Tinsert,
};
use dset_split::split::IdGuard;

use super::format::{STAT_ATTR, STAT_FIELDS, Stat};
use crate::h5::failed;

/// An object token as bytes (the native connector's token: the object header's address).
pub fn token_bytes(t: H5O_token_t) -> [u8; 16] {
    // SAFETY: `H5O_token_t` is 16 plain bytes (H5O_MAX_TOKEN_SIZE); the size is checked by the
    // compiler.
    unsafe { std::mem::transmute::<H5O_token_t, [u8; 16]>(t) }
}

/// The file address of the object header a native token names: the first 8 bytes,
/// little-endian (HDF5 encodes the address with the file's address size, 8 in files this tool
/// writes).
pub fn token_addr(t: &[u8; 16]) -> haddr_t {
    u64::from_le_bytes(t[..8].try_into().expect("8 bytes"))
}

/// The size of the user block of the open file `file` (where its HDF5 addresses start).
pub fn userblock(file: hid_t) -> u64 {
    // SAFETY: a valid file id; the list is released by `IdGuard`; an output slot.
    unsafe {
        let fcpl = IdGuard(dset_split::ffi::sys::h5f::H5Fget_create_plist(file));
        let mut size: dset_split::ffi::sys::h5::hsize_t = 0;
        if fcpl.0 < 0 || dset_split::ffi::sys::h5p::H5Pget_userblock(fcpl.0, &mut size) < 0 {
            return 0;
        }
        size
    }
}

/// The token of an open object.
pub fn token_of(obj: hid_t) -> Result<[u8; 16], String> {
    // SAFETY: zeroed is a valid `H5O_info2_t` (plain numbers and bytes).
    let mut info: H5O_info2_t = unsafe { std::mem::zeroed() };
    // SAFETY: a valid object id and an output slot.
    if unsafe { H5Oget_info3(obj, &mut info, H5O_INFO_BASIC) } < 0 {
        return Err(failed("cannot get an object's token"));
    }
    Ok(token_bytes(info.token))
}

/// The `stat` compound, in the file (little-endian, packed) and in memory ([`Stat`]'s layout).
#[derive(Debug)]
pub struct StatTypes {
    pub file: IdGuard,
    pub mem: IdGuard,
    pub scalar: IdGuard,
}

impl StatTypes {
    pub fn new() -> Result<StatTypes, String> {
        // A compound of `size` bytes with the fields at `offsets`, of type `u32` or `i64`.
        let make = |size: usize, offsets: &dyn Fn(usize) -> usize, u32: hid_t, i64: hid_t| -> Result<IdGuard, String> {
            // SAFETY: a fresh compound type, checked.
            let t = IdGuard(unsafe { H5Tcreate(H5T_class_t::H5T_COMPOUND, size) });
            if t.0 < 0 {
                return Err(failed("cannot make the stat type"));
            }
            for (i, (name, _, width)) in STAT_FIELDS.iter().enumerate() {
                let member = if *width == 8 { i64 } else { u32 };
                let name = CString::new(*name).expect("no NUL");
                // SAFETY: our compound type, a NUL-terminated name and a predefined type that
                // fits at this offset.
                if unsafe { H5Tinsert(t.0, name.as_ptr(), offsets(i), member) } < 0 {
                    return Err(failed("cannot make the stat type"));
                }
            }
            Ok(t)
        };
        let packed: Vec<usize> = STAT_FIELDS.iter().scan(0, |at, f| Some(std::mem::replace(at, *at + f.2))).collect();
        let file = make(24, &|i| packed[i], *H5T_STD_U32LE, *H5T_STD_I64LE)?;
        let mem = make(std::mem::size_of::<Stat>(), &|i| STAT_FIELDS[i].1, *H5T_NATIVE_UINT32, *H5T_NATIVE_INT64)?;
        // SAFETY: a plain library call.
        let scalar = IdGuard(unsafe { H5Screate(H5S_class_t::H5S_SCALAR) });
        if scalar.0 < 0 {
            return Err(failed("cannot make a dataspace"));
        }
        Ok(StatTypes { file, mem, scalar })
    }

    /// Writes `stat` as the `stat` attribute of `obj`, making it when missing.
    pub fn write(&self, obj: hid_t, stat: &Stat) -> Result<(), String> {
        let name = &CString::new(STAT_ATTR).expect("no NUL");
        // SAFETY: a valid object and a NUL-terminated name.
        let a = IdGuard(unsafe {
            if H5Aexists(obj, name.as_ptr()) > 0 {
                H5Aopen(obj, name.as_ptr(), H5P_DEFAULT)
            } else {
                H5Acreate2(obj, name.as_ptr(), self.file.0, self.scalar.0, H5P_DEFAULT, H5P_DEFAULT)
            }
        });
        // SAFETY: our attribute, memory type and a `Stat` matching that type.
        if a.0 < 0 || unsafe { H5Awrite(a.0, self.mem.0, (stat as *const Stat).cast()) } < 0 {
            return Err(failed("cannot write the stat attribute"));
        }
        Ok(())
    }

    /// The `stat` attribute of `obj`; None when it has none (or one of another shape).
    pub fn read(&self, obj: hid_t) -> Option<Stat> {
        let name = &CString::new(STAT_ATTR).expect("no NUL");
        // SAFETY: a valid object and a NUL-terminated name.
        if unsafe { H5Aexists(obj, name.as_ptr()) } <= 0 {
            return None;
        }
        // SAFETY: as above.
        let a = IdGuard(unsafe { H5Aopen(obj, name.as_ptr(), H5P_DEFAULT) });
        // SAFETY: our attribute; the space and type are released by `IdGuard`.
        let (space, ftype) = unsafe { (IdGuard(H5Aget_space(a.0)), IdGuard(H5Aget_type(a.0))) };
        // SAFETY: valid ids.
        if a.0 < 0 || unsafe { H5Sget_simple_extent_npoints(space.0) } != 1 || unsafe { H5Tget_size(ftype.0) } != 24 {
            return None;
        }
        let mut stat = Stat::default();
        // SAFETY: one element of the memory type into a `Stat` (HDF5 converts member by name).
        (unsafe { H5Aread(a.0, self.mem.0, (&mut stat as *mut Stat).cast()) } >= 0).then_some(stat)
    }
}

/// Whether the dataset `d` is what a pack makes of a file: one dimension of unsigned bytes (read
/// and written as such, unconverted),
/// stored in the pack itself (contiguous or chunked; not in external files or other datasets,
/// which a reader must never be led to).
pub fn packed_bytes(d: hid_t) -> bool {
    use dset_split::ffi::sys::h5d::{H5D_layout_t, H5Dget_create_plist, H5Dget_space, H5Dget_type};
    use dset_split::ffi::sys::h5p::{H5Pget_external_count, H5Pget_layout};
    use dset_split::ffi::sys::h5s::H5Sget_simple_extent_ndims;
    use dset_split::ffi::sys::h5t::H5Tget_class;
    // SAFETY: plain HDF5 calls on a valid dataset; ids are released by `IdGuard`.
    unsafe {
        let (dcpl, space, t) = (IdGuard(H5Dget_create_plist(d)), IdGuard(H5Dget_space(d)), IdGuard(H5Dget_type(d)));
        dcpl.0 >= 0
            && space.0 >= 0
            && t.0 >= 0
            && H5Sget_simple_extent_ndims(space.0) == 1
            && H5Tget_class(t.0) == H5T_class_t::H5T_INTEGER
            && H5Tget_size(t.0) == 1
            && dset_split::ffi::sys::h5t::H5Tget_sign(t.0) == dset_split::ffi::sys::h5t::H5T_sign_t::H5T_SGN_NONE
            && H5Pget_external_count(dcpl.0) == 0
            && matches!(
                H5Pget_layout(dcpl.0),
                H5D_layout_t::H5D_CONTIGUOUS | H5D_layout_t::H5D_CHUNKED | H5D_layout_t::H5D_COMPACT
            )
    }
}

/// The memory and file dataspaces that select bytes `at..at + len` of the 1-D byte dataset `d`.
fn byte_range(d: hid_t, at: u64, len: usize) -> Option<(IdGuard, IdGuard)> {
    use dset_split::ffi::sys::h5d::H5Dget_space;
    use dset_split::ffi::sys::h5s::{H5S_seloper_t, H5Sselect_hyperslab};
    let (start, count) = ([at as hsize_t], [len as hsize_t]);
    // SAFETY: plain HDF5 calls on a valid dataset; ids are checked and released by `IdGuard`.
    unsafe {
        let mem = IdGuard(H5Screate_simple(1, count.as_ptr(), std::ptr::null()));
        let file = IdGuard(H5Dget_space(d));
        let ok = mem.0 >= 0
            && file.0 >= 0
            && H5Sselect_hyperslab(
                file.0,
                H5S_seloper_t::H5S_SELECT_SET,
                start.as_ptr(),
                std::ptr::null(),
                count.as_ptr(),
                std::ptr::null(),
            ) >= 0;
        ok.then_some((mem, file))
    }
}

/// Reads `buf.len()` bytes at byte `at` of the 1-D byte dataset `d`.
pub fn read_piece(d: hid_t, at: u64, buf: &mut [u8]) -> Result<(), String> {
    use dset_split::ffi::sys::h5d::H5Dread;
    let ok = byte_range(d, at, buf.len()).is_some_and(|(mem, file)| {
        // SAFETY: selections of `buf.len()` bytes and a buffer that long.
        unsafe { H5Dread(d, *H5T_NATIVE_UINT8, mem.0, file.0, H5P_DEFAULT, buf.as_mut_ptr().cast()) >= 0 }
    });
    if !ok {
        return Err(failed("cannot read the dataset"));
    }
    Ok(())
}

/// Writes `piece` at byte `at` of the 1-D byte dataset `d` (`whole`: it is all of it).
pub fn write_piece(d: hid_t, at: u64, piece: &[u8], whole: bool) -> Result<(), String> {
    use dset_split::ffi::sys::h5d::H5Dwrite;
    use dset_split::ffi::sys::h5s::H5S_ALL;
    let ok = if whole {
        // SAFETY: the whole dataset, `piece.len()` bytes.
        unsafe { H5Dwrite(d, *H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, piece.as_ptr().cast()) >= 0 }
    } else {
        byte_range(d, at, piece.len()).is_some_and(|(mem, file)| {
            // SAFETY: selections of `piece.len()` bytes and a buffer that long.
            unsafe { H5Dwrite(d, *H5T_NATIVE_UINT8, mem.0, file.0, H5P_DEFAULT, piece.as_ptr().cast()) >= 0 }
        })
    };
    if !ok {
        return Err(failed("cannot write the file's bytes"));
    }
    Ok(())
}

/// Writes `bytes` as the 1-D `uint8` attribute `name` of `obj`, replacing one of that name.
pub fn write_bytes_attr(obj: hid_t, name: &CStr, bytes: &[u8]) -> Result<(), String> {
    delete_attr(obj, name);
    let dims = [bytes.len() as hsize_t];
    // SAFETY: a one-dimensional space of the given length.
    let space = IdGuard(unsafe { H5Screate_simple(1, dims.as_ptr(), std::ptr::null()) });
    // SAFETY: a valid object, a NUL-terminated name, a predefined type and our space.
    let a = IdGuard(unsafe { H5Acreate2(obj, name.as_ptr(), *H5T_STD_U8LE, space.0, H5P_DEFAULT, H5P_DEFAULT) });
    // SAFETY: our attribute and `bytes.len()` bytes of the memory type.
    if space.0 < 0 || a.0 < 0 || unsafe { H5Awrite(a.0, *H5T_NATIVE_UINT8, bytes.as_ptr().cast()) } < 0 {
        return Err(failed(format!("cannot write the {} attribute", name.to_string_lossy())));
    }
    Ok(())
}

/// The 1-D `uint8` attribute `name` of `obj` as bytes; None when there is none.
pub fn read_bytes_attr(obj: hid_t, name: &CStr) -> Option<Vec<u8>> {
    // SAFETY: a valid object and a NUL-terminated name.
    if unsafe { H5Aexists(obj, name.as_ptr()) } <= 0 {
        return None;
    }
    // SAFETY: as above; the ids are released by `IdGuard`.
    let a = IdGuard(unsafe { H5Aopen(obj, name.as_ptr(), H5P_DEFAULT) });
    // SAFETY: our attribute.
    let space = IdGuard(unsafe { H5Aget_space(a.0) });
    // SAFETY: a valid space.
    let n = unsafe { H5Sget_simple_extent_npoints(space.0) };
    if a.0 < 0 || n < 0 {
        return None;
    }
    let mut out = vec![0u8; n as usize];
    // SAFETY: `n` elements of one byte each into a buffer that long.
    (unsafe { H5Aread(a.0, *H5T_NATIVE_UINT8, out.as_mut_ptr().cast()) } >= 0).then_some(out)
}

/// Deletes the attribute `name` of `obj` if it has one.
pub fn delete_attr(obj: hid_t, name: &CStr) {
    // SAFETY: a valid object and a NUL-terminated name.
    unsafe {
        if H5Aexists(obj, name.as_ptr()) > 0 {
            dset_split::ffi::sys::h5a::H5Adelete(obj, name.as_ptr());
        }
    }
}

/// One link of a group, as a pack reader needs it.
#[derive(Debug, Clone)]
pub enum Member {
    /// A hard link to the object with this token.
    Hard([u8; 16]),
    /// A soft link with this value.
    Soft(Vec<u8>),
    /// An external link: the file and the object it names, as stored (`pack --split-dirs`
    /// links a folder's own pack this way; a mount follows any).
    External { file: Vec<u8>, object: Vec<u8> },
    /// A user-defined link.
    Other,
}

/// What the link `name` of `group` is.
pub fn member(group: hid_t, name: &CStr) -> Result<Member, String> {
    // SAFETY: zeroed is a valid `H5L_info2_t` (plain numbers and bytes).
    let mut info: H5L_info2_t = unsafe { std::mem::zeroed() };
    // SAFETY: a valid group, a NUL-terminated name and an output slot.
    if unsafe { dset_split::ffi::sys::h5l::H5Lget_info2(group, name.as_ptr(), &mut info, H5P_DEFAULT) } < 0 {
        return Err(failed("cannot read a link"));
    }
    Ok(match info.type_ {
        // SAFETY: a hard link's info holds a token.
        H5L_type_t::H5L_TYPE_HARD => Member::Hard(token_bytes(unsafe { *info.u.token() })),
        H5L_type_t::H5L_TYPE_SOFT => {
            // SAFETY: a soft link's info holds the value's size.
            let size = unsafe { *info.u.val_size() };
            Member::Soft(soft_value(group, name.as_ptr(), size).ok_or_else(|| failed("cannot read a soft link"))?)
        }
        H5L_type_t::H5L_TYPE_EXTERNAL => {
            // SAFETY: an external link's info holds the value's size.
            let size = unsafe { *info.u.val_size() };
            let (file, object) =
                crate::h5::external_value(group, name, size).ok_or_else(|| failed("cannot read an external link"))?;
            Member::External { file, object }
        }
        _ => Member::Other,
    })
}

/// The value of the soft link `name` (of `size` bytes with its NUL) of `group`.
fn soft_value(group: hid_t, name: *const c_char, size: usize) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; size.max(1)];
    // SAFETY: a buffer of the value's size; `name` is NUL-terminated (the callers' contract).
    if unsafe { H5Lget_val(group, name, buf.as_mut_ptr().cast(), buf.len(), H5P_DEFAULT) } < 0 {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    buf.truncate(end);
    Some(buf)
}

/// The links of `group` in name order: name bytes and what each is.
pub fn members(group: hid_t) -> Result<Vec<(Vec<u8>, Member)>, String> {
    unsafe extern "C" fn add(g: hid_t, name: *const c_char, info: *const H5L_info2_t, data: *mut c_void) -> herr_t {
        // SAFETY: HDF5 passes a NUL-terminated name and valid link info; `data` is the Vec below.
        let (cname, info, out) =
            unsafe { (CStr::from_ptr(name), &mut *info.cast_mut(), &mut *data.cast::<Vec<(Vec<u8>, Member)>>()) };
        let member = match info.type_ {
            // SAFETY: a hard link's info holds a token.
            H5L_type_t::H5L_TYPE_HARD => Member::Hard(token_bytes(unsafe { *info.u.token() })),
            H5L_type_t::H5L_TYPE_SOFT => {
                // SAFETY: a soft link's info holds the value's size.
                let size = unsafe { *info.u.val_size() };
                match soft_value(g, name, size) {
                    Some(v) => Member::Soft(v),
                    None => return -1,
                }
            }
            H5L_type_t::H5L_TYPE_EXTERNAL => {
                // SAFETY: an external link's info holds the value's size.
                let size = unsafe { *info.u.val_size() };
                // Unreadable (never seen): shown as what a pack does not hold.
                match crate::h5::external_value(g, cname, size) {
                    Some((file, object)) => Member::External { file, object },
                    None => Member::Other,
                }
            }
            _ => Member::Other,
        };
        out.push((cname.to_bytes().to_vec(), member));
        0
    }
    let mut found: Vec<(Vec<u8>, Member)> = Vec::new();
    // SAFETY: a valid group; `add` only touches `found` during this call.
    let rc = unsafe {
        H5Literate2(
            group,
            H5_index_t::H5_INDEX_NAME,
            H5_iter_order_t::H5_ITER_INC,
            std::ptr::null_mut(),
            Some(add),
            (&mut found as *mut Vec<(Vec<u8>, Member)>).cast(),
        )
    };
    if rc < 0 {
        return Err(failed("cannot list the links of a group"));
    }
    Ok(found)
}

/// A name as a C string (names from a directory or an HDF5 group hold no NUL).
pub fn c_name(name: &[u8]) -> Result<CString, String> {
    CString::new(name).map_err(|_| format!("{}: the name holds a NUL byte", String::from_utf8_lossy(name)))
}
