//! Bringing split datasets in the virtual form back into a main file, for `merge`: each virtual
//! dataset is replaced by an ordinary dataset (a copy of its split file's `/data`, with the
//! virtual dataset's attributes), a new object at a new address; then every object reference in
//! the file that pointed at a virtual dataset (dimension scales' `DIMENSION_LIST` and
//! `REFERENCE_LIST`, references in datasets and attributes) is pointed at its replacement.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::ffi::{CStr, CString};

use dset_split::ffi::sys::h5g::H5Gopen2;
use dset_split::ffi::sys::h5i::hid_t;
use dset_split::ffi::sys::h5l::{H5Lcreate_hard, H5Ldelete};
use dset_split::ffi::sys::h5o::{H5O_INFO_BASIC, H5O_info2_t, H5Ocopy, H5Oget_info_by_name3, H5Oopen};
use dset_split::ffi::sys::h5p::H5P_DEFAULT;
use dset_split::layout;
use dset_split::split::IdGuard;

use crate::{h5, refs};

/// The virtual split datasets of a main file being merged, and what replaced them.
pub struct Objects {
    /// Each virtual dataset's address, by one of its paths.
    old: HashMap<CString, u64>,
    /// Old address -> the address of the ordinary dataset that replaced it.
    moved: RefCell<HashMap<u64, u64>>,
}

/// The address of the object `name` (relative to `loc`).
fn address(loc: hid_t, name: &CStr) -> Result<(u64, u64), String> {
    // SAFETY: zeroed is a valid bit pattern for this plain C struct, filled in by HDF5.
    let mut info: H5O_info2_t = unsafe { std::mem::zeroed() };
    // SAFETY: a valid location and NUL-terminated name.
    if unsafe { H5Oget_info_by_name3(loc, name.as_ptr(), &mut info, H5O_INFO_BASIC, H5P_DEFAULT) } < 0 {
        return Err(h5::failed(format!("cannot look up {}", name.to_string_lossy())));
    }
    Ok((refs::token_addr(&info), info.fileno))
}

impl Objects {
    /// The virtual datasets at `paths` of `file`; refuses (before anything changes) when a
    /// reference that cannot be rewritten in place (a region or HDF5 1.12-style one) leads to one.
    pub fn find<'a>(file: hid_t, paths: impl Iterator<Item = &'a CStr>) -> Result<Objects, String> {
        let mut old = HashMap::new();
        let mut fileno = 0;
        for p in paths {
            let (addr, no) = address(file, p)?;
            fileno = no;
            old.insert(p.to_owned(), addr);
        }
        if !old.is_empty() {
            let replaced: HashSet<u64> = old.values().copied().collect();
            let holders = refs::holders(file)?;
            if let Some(why) = refs::refusal_for_replaced(file, fileno, &holders, &replaced)? {
                return Err(why);
            }
        }
        Ok(Objects { old, moved: RefCell::new(HashMap::new()) })
    }

    /// Replaces the virtual dataset at `path` (absolute) by a copy of `split`'s `/data` with its
    /// attributes, linked with `lcpl` under the same name (its other names follow as hard links
    /// to `path`: the caller's job).
    pub fn replace(&self, file: hid_t, path: &CStr, split: hid_t, lcpl: hid_t) -> Result<(), String> {
        let show = path.to_string_lossy();
        let old = *self.old.get(path).ok_or_else(|| format!("{show} is not a virtual split dataset"))?;
        let bytes = path.to_bytes();
        let cut = bytes.iter().rposition(|&b| b == b'/').unwrap_or(0);
        let parent = CString::new(if cut == 0 { b"/".as_slice() } else { &bytes[..cut] }).expect("from a C string");
        let name = CString::new(&bytes[cut + 1..]).expect("from a C string");
        let tmp = c".dset-split-merge";
        // SAFETY: valid ids and NUL-terminated names; every id is released by its guard.
        unsafe {
            let group = IdGuard(H5Gopen2(file, parent.as_ptr(), H5P_DEFAULT));
            if group.0 < 0 {
                return Err(h5::failed(format!("cannot open the group of {show}")));
            }
            // Without the split file's own attributes (none, as the connector and `split` make
            // them): the dataset's are the virtual dataset's.
            let without_attrs = h5::copy_without_attributes()?;
            if H5Ocopy(split, layout::DATASET_PATH_C.as_ptr(), group.0, tmp.as_ptr(), without_attrs.0, lcpl) < 0 {
                return Err(h5::failed(format!("cannot copy the data of {show}")));
            }
            let (vds, new) = (
                IdGuard(H5Oopen(file, path.as_ptr(), H5P_DEFAULT)),
                IdGuard(H5Oopen(group.0, tmp.as_ptr(), H5P_DEFAULT)),
            );
            if vds.0 < 0 || new.0 < 0 {
                return Err(h5::failed(format!("cannot open {show} or its copy")));
            }
            h5::copy_attributes(vds.0, new.0).map_err(|e| format!("{show}: {e}"))?;
            let (addr, _) = address(group.0, tmp)?;
            drop((vds, new));
            if H5Ldelete(group.0, name.as_ptr(), H5P_DEFAULT) < 0
                || H5Lcreate_hard(group.0, tmp.as_ptr(), group.0, name.as_ptr(), lcpl, H5P_DEFAULT) < 0
                || H5Ldelete(group.0, tmp.as_ptr(), H5P_DEFAULT) < 0
            {
                return Err(h5::failed(format!("cannot put the copy of {show} in its place")));
            }
            self.moved.borrow_mut().insert(old, addr);
        }
        Ok(())
    }

    /// Points every object reference of `file` to a replaced virtual dataset at its replacement.
    pub fn remap_references(&self, file: hid_t) -> Result<(), String> {
        let moved = self.moved.borrow();
        if moved.is_empty() {
            return Ok(());
        }
        refs::remap_objects(file, &moved, &refs::holders(file)?)
    }
}
