//! Small, checked calls into the connector below us, for the split logic: names, links, types.
//!
//! These go through `H5VL*` functions of `H5VLconnector_passthru.h`, never through the public
//! API back into our own connector, and register no application-visible ids.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::mem::MaybeUninit;

use crate::error::{Error, Result};
use crate::ffi::{
    self, H5I_type_t, H5L_info2_t, H5VL_LINK_EXISTS, H5VL_LINK_GET_INFO, H5VL_LINK_GET_VAL, H5VL_OBJECT_BY_NAME,
    H5VL_OBJECT_BY_SELF, H5VL_OBJECT_GET_NAME, H5VL_link_get_args_t, H5VL_link_specific_args_t, H5VL_loc_by_name_t,
    H5VL_loc_data_t, H5VL_loc_params_t, H5VL_object_get_args_t, hid_t,
};

/// An object of the connector below: its pointer, the connector, and what kind of object it is.
#[derive(Debug, Clone, Copy)]
pub struct Below {
    pub obj: *mut c_void,
    pub vol: hid_t,
    pub obj_type: H5I_type_t,
}

/// The default link access and dataset transfer property lists.
pub fn default_lapl() -> hid_t {
    // SAFETY: the library is initialized (we run inside one of its callbacks or after H5open),
    // so the predefined property list ids are set.
    unsafe {
        crate::ffi::sys::h5::H5open();
        *crate::ffi::sys::h5p::H5P_LST_LINK_ACCESS
    }
}

pub fn default_dapl() -> hid_t {
    // SAFETY: as in `default_lapl`.
    unsafe {
        crate::ffi::sys::h5::H5open();
        *crate::ffi::sys::h5p::H5P_LST_DATASET_ACCESS
    }
}

pub fn default_dxpl() -> hid_t {
    // SAFETY: as in `default_lapl`.
    unsafe {
        crate::ffi::sys::h5::H5open();
        *crate::ffi::sys::h5p::H5P_LST_DATASET_XFER
    }
}

pub fn default_lcpl() -> hid_t {
    // SAFETY: as in `default_lapl`.
    unsafe {
        crate::ffi::sys::h5::H5open();
        *crate::ffi::sys::h5p::H5P_LST_LINK_CREATE
    }
}

impl Below {
    pub fn loc_self(&self) -> H5VL_loc_params_t {
        H5VL_loc_params_t {
            obj_type: self.obj_type,
            type_: H5VL_OBJECT_BY_SELF,
            // SAFETY: BY_SELF reads no member of the union; zeroed is a valid bit pattern for it.
            loc_data: unsafe { MaybeUninit::<H5VL_loc_data_t>::zeroed().assume_init() },
        }
    }

    pub fn loc_by_name(&self, name: &CStr) -> H5VL_loc_params_t {
        H5VL_loc_params_t {
            obj_type: self.obj_type,
            type_: H5VL_OBJECT_BY_NAME,
            loc_data: H5VL_loc_data_t {
                loc_by_name: H5VL_loc_by_name_t { name: name.as_ptr(), lapl_id: default_lapl() },
            },
        }
    }

    /// The path the object was opened by (HDF5 tracks it), or None for an anonymous object.
    pub fn path(&self, dxpl: hid_t) -> Result<Option<Vec<u8>>> {
        let mut len: usize = 0;
        let loc = self.loc_self();
        let mut args = H5VL_object_get_args_t {
            op_type: H5VL_OBJECT_GET_NAME,
            args: ffi::H5VL_object_get_args_u {
                get_name: ffi::H5VL_object_get_name_t { buf_size: 0, buf: std::ptr::null_mut(), name_len: &mut len },
            },
        };
        // SAFETY: our own argument struct; the connector writes only `len`.
        let rc = unsafe { ffi::H5VLobject_get(self.obj, &loc, self.vol, &mut args, dxpl, std::ptr::null_mut()) };
        if rc < 0 {
            return Err(Error::library("cannot get the path of the location object"));
        }
        if len == 0 {
            return Ok(None);
        }
        let mut buf = vec![0 as c_char; len + 1];
        args.args.get_name =
            ffi::H5VL_object_get_name_t { buf_size: buf.len(), buf: buf.as_mut_ptr(), name_len: &mut len };
        // SAFETY: as above, with a buffer of `buf_size` bytes for the name and its NUL.
        let rc = unsafe { ffi::H5VLobject_get(self.obj, &loc, self.vol, &mut args, dxpl, std::ptr::null_mut()) };
        if rc < 0 {
            return Err(Error::library("cannot get the path of the location object"));
        }
        // SAFETY: HDF5 wrote a NUL-terminated name into `buf`.
        Ok(Some(unsafe { CStr::from_ptr(buf.as_ptr()) }.to_bytes().to_vec()))
    }

    /// Whether a link `name` exists (relative to this object; its parent must exist).
    pub fn link_exists(&self, name: &CStr, dxpl: hid_t) -> Result<bool> {
        let mut exists = false;
        let loc = self.loc_by_name(name);
        let mut args = H5VL_link_specific_args_t {
            op_type: H5VL_LINK_EXISTS,
            args: ffi::H5VL_link_specific_args_u { exists: &mut exists },
        };
        // SAFETY: our own argument struct; the connector writes only `exists`.
        let rc = unsafe { ffi::H5VLlink_specific(self.obj, &loc, self.vol, &mut args, dxpl, std::ptr::null_mut()) };
        if rc < 0 {
            return Err(Error::library(format!("cannot check whether {} exists", name.to_string_lossy())));
        }
        Ok(exists)
    }

    /// The kind of object (`H5O_type_t`: 0 group, 1 dataset, 2 named datatype) at `name`.
    pub fn object_type(&self, name: &CStr, dxpl: hid_t) -> Result<c_int> {
        self.info(Some(name), dxpl)
            .map(|i| i.type_)
            .map_err(|_| Error::library(format!("cannot get the type of {}", name.to_string_lossy())))
    }

    /// The number HDF5 gives the file the object `name` (relative to this one; None: this one)
    /// is in (`H5Oget_info`'s `fileno`).
    pub fn fileno(&self, name: Option<&CStr>, dxpl: hid_t) -> Result<std::ffi::c_ulong> {
        self.info(name, dxpl).map(|i| i.fileno)
    }

    /// The object's token (its address in its file).
    pub fn token(&self, dxpl: hid_t) -> Result<[u8; 16]> {
        self.info(None, dxpl).map(|i| i.token.__data)
    }

    /// How many attributes the object has.
    pub fn attribute_count(&self, dxpl: hid_t) -> Result<u64> {
        self.info_fields(None, ffi::H5O_INFO_NUM_ATTRS, dxpl).map(|i| i.num_attrs)
    }

    /// `H5Oget_info` (basic fields) of the object `name` (relative to this one; None: this one).
    fn info(&self, name: Option<&CStr>, dxpl: hid_t) -> Result<ffi::H5O_info2_t> {
        self.info_fields(name, ffi::H5O_INFO_BASIC, dxpl)
    }

    fn info_fields(&self, name: Option<&CStr>, fields: std::ffi::c_uint, dxpl: hid_t) -> Result<ffi::H5O_info2_t> {
        let mut info = MaybeUninit::<ffi::H5O_info2_t>::zeroed();
        let loc = name.map_or_else(|| self.loc_self(), |n| self.loc_by_name(n));
        let mut args = H5VL_object_get_args_t {
            op_type: ffi::H5VL_OBJECT_GET_INFO,
            args: ffi::H5VL_object_get_args_u {
                get_info: ffi::H5VL_object_get_info_t { fields, oinfo: info.as_mut_ptr().cast() },
            },
        };
        // SAFETY: our own argument struct; the connector fills `info`.
        let rc = unsafe { ffi::H5VLobject_get(self.obj, &loc, self.vol, &mut args, dxpl, std::ptr::null_mut()) };
        if rc < 0 {
            return Err(Error::library("cannot get the object information of an object"));
        }
        // SAFETY: filled by a successful call (zeroed before, a valid pattern anyway).
        Ok(unsafe { info.assume_init() })
    }

    /// The link `name` (without following it).
    pub fn link_info(&self, name: &CStr, dxpl: hid_t) -> Result<H5L_info2_t> {
        let mut info = MaybeUninit::<H5L_info2_t>::zeroed();
        let loc = self.loc_by_name(name);
        let mut args = H5VL_link_get_args_t {
            op_type: H5VL_LINK_GET_INFO,
            args: ffi::H5VL_link_get_args_u { get_info: info.as_mut_ptr() },
        };
        // SAFETY: our own argument struct; the connector fills `info`.
        let rc = unsafe { ffi::H5VLlink_get(self.obj, &loc, self.vol, &mut args, dxpl, std::ptr::null_mut()) };
        if rc < 0 {
            return Err(Error::library(format!("cannot get the link {}", name.to_string_lossy())));
        }
        // SAFETY: filled by a successful call (and zeroed before, a valid pattern anyway).
        Ok(unsafe { info.assume_init() })
    }

    /// A new id for a dataset's creation property list, dataspace or datatype (`op`: one of
    /// `H5VL_DATASET_GET_DCPL/SPACE/TYPE`); the caller closes it.
    pub fn dataset_get_id(&self, op: c_int, dxpl: hid_t) -> Result<hid_t> {
        let mut args = ffi::H5VL_dataset_get_args_t { op_type: op, args: ffi::H5VL_dataset_get_args_u { id: -1 } };
        // SAFETY: our own argument struct; the connector writes one id.
        let rc = unsafe { ffi::H5VLdataset_get(self.obj, self.vol, &mut args, dxpl, std::ptr::null_mut()) };
        // SAFETY: the union holds the id just written (or -1).
        let id = unsafe { args.args.id };
        if rc < 0 || id < 0 {
            return Err(Error::library("cannot query a dataset"));
        }
        Ok(id)
    }

    /// The name of the link `loc` designates (by index), relative to the group it names.
    pub fn link_name(&self, loc: &H5VL_loc_params_t, dxpl: hid_t) -> Result<Vec<u8>> {
        let mut len: usize = 0;
        let mut args = H5VL_link_get_args_t {
            op_type: ffi::H5VL_LINK_GET_NAME,
            args: ffi::H5VL_link_get_args_u {
                get_name: ffi::H5VL_link_get_name_t { name_size: 0, name: std::ptr::null_mut(), name_len: &mut len },
            },
        };
        // SAFETY: our own argument struct; the connector writes only `len`.
        if unsafe { ffi::H5VLlink_get(self.obj, loc, self.vol, &mut args, dxpl, std::ptr::null_mut()) } < 0 {
            return Err(Error::library("cannot get a link's name"));
        }
        let mut buf = vec![0 as c_char; len + 1];
        args.args.get_name =
            ffi::H5VL_link_get_name_t { name_size: buf.len(), name: buf.as_mut_ptr(), name_len: &mut len };
        // SAFETY: as above, with a buffer for the name and its NUL.
        if unsafe { ffi::H5VLlink_get(self.obj, loc, self.vol, &mut args, dxpl, std::ptr::null_mut()) } < 0 {
            return Err(Error::library("cannot get a link's name"));
        }
        // SAFETY: HDF5 wrote a NUL-terminated name.
        Ok(unsafe { CStr::from_ptr(buf.as_ptr()) }.to_bytes().to_vec())
    }

    /// The value of a soft or user-defined (e.g. external) link, `size` bytes long.
    pub fn link_value(&self, name: &CStr, size: usize, dxpl: hid_t) -> Result<Vec<u8>> {
        let mut buf = vec![0u8; size];
        let loc = self.loc_by_name(name);
        let mut args = H5VL_link_get_args_t {
            op_type: H5VL_LINK_GET_VAL,
            args: ffi::H5VL_link_get_args_u {
                get_val: ffi::H5VL_link_get_val_t { buf_size: size, buf: buf.as_mut_ptr().cast() },
            },
        };
        // SAFETY: our own argument struct with a buffer of `size` bytes.
        let rc = unsafe { ffi::H5VLlink_get(self.obj, &loc, self.vol, &mut args, dxpl, std::ptr::null_mut()) };
        if rc < 0 {
            return Err(Error::library(format!("cannot read the link {}", name.to_string_lossy())));
        }
        Ok(buf)
    }
}

impl Below {
    /// Flushes the file this object is in (`H5Fflush` with local scope): what HDF5 holds in its
    /// metadata cache is written to the file, so that a process killed afterwards leaves it on
    /// disk. Failures are left to the next flush or the close (which report them).
    pub fn flush(&self, dxpl: hid_t) {
        if crate::error::quietly(|| self.try_flush(dxpl)).is_err() {
            crate::trace!("flushing the main file failed: left to its close");
        }
    }

    /// [`Below::flush`], failing when HDF5 does (its error stack says why). With the MPI-IO
    /// driver the flush also syncs the file (`MPI_File_sync`).
    pub fn try_flush(&self, dxpl: hid_t) -> Result<()> {
        let mut args = ffi::H5VL_file_specific_args_t {
            op_type: ffi::H5VL_FILE_FLUSH,
            args: ffi::H5VL_file_specific_args_u {
                flush: ffi::H5VL_file_specific_flush_t { obj_type: self.obj_type, scope: 0 },
            },
        };
        // SAFETY: our own argument struct, for an object of the connector below.
        if unsafe { ffi::H5VLfile_specific(self.obj, self.vol, &mut args, dxpl, std::ptr::null_mut()) } < 0 {
            return Err(Error::library("cannot flush a file"));
        }
        Ok(())
    }

    /// Flushes the split file holding dataset `obj` of connector `vol` ([`Below::try_flush`]).
    pub fn flush_split_file(obj: *mut c_void, vol: hid_t, dxpl: hid_t) -> Result<()> {
        Below { obj, vol, obj_type: ffi::H5I_DATASET }
            .try_flush(dxpl)
            .map_err(|_| Error::library("cannot flush a split file"))
    }

    /// Deletes the link `name` (relative to this object).
    pub fn delete_link(&self, name: &CStr, dxpl: hid_t) -> Result<()> {
        let loc = self.loc_by_name(name);
        let mut args = H5VL_link_specific_args_t {
            op_type: ffi::H5VL_LINK_DELETE,
            args: ffi::H5VL_link_specific_args_u { exists: std::ptr::null_mut() },
        };
        // SAFETY: our own argument struct (DELETE reads no member).
        if unsafe { ffi::H5VLlink_specific(self.obj, &loc, self.vol, &mut args, dxpl, std::ptr::null_mut()) } < 0 {
            return Err(Error::library(format!("cannot delete the link {}", name.to_string_lossy())));
        }
        Ok(())
    }

    /// Creates an external link `name` (relative to this object) to `/data` in `target`.
    /// A hard link `name` (relative to this object) to the object `curr_loc` designates from
    /// `curr_obj` (both of this connector below).
    pub fn create_hard_link(
        &self,
        name: &CStr,
        curr_obj: *mut c_void,
        curr_loc: H5VL_loc_params_t,
        dxpl: hid_t,
    ) -> Result<()> {
        let mut args = ffi::H5VL_link_create_args_t {
            op_type: ffi::H5VL_LINK_CREATE_HARD,
            args: ffi::H5VL_link_create_args_u {
                hard: ffi::H5VL_link_create_hard_t { curr_obj, curr_loc_params: curr_loc },
            },
        };
        let loc = self.loc_by_name(name);
        // SAFETY: our own argument struct; the names the locations hold outlive the call.
        let rc = unsafe {
            ffi::H5VLlink_create(
                &mut args,
                self.obj,
                &loc,
                self.vol,
                default_lcpl(),
                default_lapl(),
                dxpl,
                std::ptr::null_mut(),
            )
        };
        if rc < 0 {
            return Err(Error::library(format!("cannot link {}", name.to_string_lossy())));
        }
        Ok(())
    }

    pub fn create_external_link(&self, name: &CStr, target: &str, lcpl: hid_t, dxpl: hid_t) -> Result<()> {
        let value = pack_external_link(target, crate::layout::DATASET_PATH);
        let mut args = external_link_args(&value);
        let loc = self.loc_by_name(name);
        // SAFETY: our own argument struct; the value outlives the call.
        let rc = unsafe {
            ffi::H5VLlink_create(&mut args, self.obj, &loc, self.vol, lcpl, default_lapl(), dxpl, std::ptr::null_mut())
        };
        if rc < 0 {
            return Err(Error::library(format!("cannot link {} to {target}", name.to_string_lossy())));
        }
        Ok(())
    }
}

/// `link_cls.create` arguments for an external link with the packed `value` (which must outlive
/// the call).
pub fn external_link_args(value: &[u8]) -> ffi::H5VL_link_create_args_t {
    ffi::H5VL_link_create_args_t {
        op_type: ffi::H5VL_LINK_CREATE_UD,
        args: ffi::H5VL_link_create_args_u {
            ud: ffi::H5VL_link_create_ud_t {
                type_: ffi::H5L_TYPE_EXTERNAL,
                buf: value.as_ptr().cast(),
                buf_size: value.len(),
            },
        },
    }
}

/// The value of an external link: one byte `(version << 4) | flags` (both 0), the target file,
/// NUL, the object path in it, NUL.
pub fn pack_external_link(file: &str, object: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(file.len() + object.len() + 3);
    v.push(0);
    v.extend_from_slice(file.as_bytes());
    v.push(0);
    v.extend_from_slice(object.as_bytes());
    v.push(0);
    v
}

/// `(file, object)` of a packed external link value, if it is one.
pub fn unpack_external_link(value: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let (head, rest) = value.split_first()?;
    if head >> 4 != 0 {
        return None;
    }
    let mut parts = rest.splitn(3, |b| *b == 0);
    let file = parts.next()?.to_vec();
    let object = parts.next()?.to_vec();
    Some((file, object))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_link_values_round_trip() {
        let v = pack_external_link("run-split/g/x.h5", "/data");
        assert_eq!(v[0], 0);
        assert_eq!(unpack_external_link(&v), Some((b"run-split/g/x.h5".to_vec(), b"/data".to_vec())));
        assert_eq!(unpack_external_link(&[0x10, b'a', 0, b'b', 0]), None);
    }
}
