//! The connector info object HDF5 stores in file access property lists: which connector sits
//! below us and that connector's own info.

use std::ffi::{CStr, CString, c_char, c_int, c_void};

use crate::ffi::sys::h5::H5free_memory;
use crate::ffi::sys::h5i::{H5Idec_ref, H5Iinc_ref};
use crate::ffi::sys::h5p::{H5P_DEFAULT, H5Pclose, H5Pcopy, H5Pget_vol_info, H5Pset_vol};

use crate::error::{Error, Result, preserving_stack};
use crate::ffi::{self, hid_t};
use crate::info::{self, InfoSpec, UnderVol};
use crate::policy::Policy;

/// Our info: owns one reference on `under_vol_id` and the (possibly NULL) `under_vol_info`.
#[derive(Debug)]
pub struct ConnInfo {
    pub under_vol_id: hid_t,
    pub under_vol_info: *mut c_void,
    /// Which datasets get their own file.
    pub policy: Policy,
}

impl ConnInfo {
    /// Resolves a parsed info string: registers (or loads) the connector below and converts its
    /// inner info string.
    pub fn from_spec(spec: &InfoSpec) -> Result<ConnInfo> {
        spec.check_stack().map_err(Error::config)?;
        let under_vol_id = match &spec.under_vol {
            UnderVol::Value(v) => {
                if *v == ffi::H5VL_PASSTHRU_VALUE {
                    ensure_pass_through_registered();
                }
                // SAFETY: plain call with a value and the default property list.
                let id = unsafe { ffi::H5VLregister_connector_by_value(*v, H5P_DEFAULT) };
                if id < 0 {
                    return Err(Error::config(format!(
                        "under_vol={v}: no VOL connector with value {v} is registered or found on HDF5_PLUGIN_PATH"
                    )));
                }
                id
            }
            UnderVol::Name(name) => {
                let c = CString::new(name.as_str()).map_err(|_| Error::config("under_vol name holds a NUL byte"))?;
                // SAFETY: `c` is a valid NUL-terminated string.
                let id = unsafe { ffi::H5VLregister_connector_by_name(c.as_ptr(), H5P_DEFAULT) };
                if id < 0 {
                    return Err(Error::config(format!(
                        "under_vol={name}: no VOL connector named '{name}' is registered or found on HDF5_PLUGIN_PATH"
                    )));
                }
                id
            }
        };
        // From here on `info` owns the id: an early return releases it.
        let mut info = ConnInfo { under_vol_id, under_vol_info: std::ptr::null_mut(), policy: spec.policy.clone() };
        if !spec.under_info.trim().is_empty() {
            let c = CString::new(spec.under_info.as_str()).map_err(|_| Error::config("under_info holds a NUL byte"))?;
            // SAFETY: `c` is valid; the out pointer is a field we own.
            let rc = unsafe { ffi::H5VLconnector_str_to_info(c.as_ptr(), under_vol_id, &mut info.under_vol_info) };
            if rc < 0 {
                return Err(Error::config(format!(
                    "under_info={{{}}} was rejected by the connector below (see the messages under this one)",
                    info::excerpt(&spec.under_info)
                )));
            }
            if info.under_vol_info.is_null() {
                return Err(Error::config(format!(
                    "under_info={{{}}}: the connector below takes no info string (write under_info={{}})",
                    info::excerpt(&spec.under_info)
                )));
            }
        }
        Ok(info)
    }

    /// Parses and resolves an info string.
    pub fn parse(text: &str) -> Result<ConnInfo> {
        Self::from_spec(&info::parse(text)?)
    }

    /// The info used when HDF5 gives us none: the native connector below.
    pub fn native() -> Result<ConnInfo> {
        Self::from_spec(&InfoSpec::default())
    }

    /// Our info from a file access property list (a copy), or the native default if it holds none.
    pub fn from_fapl(fapl_id: hid_t) -> Result<ConnInfo> {
        let mut raw: *mut c_void = std::ptr::null_mut();
        // SAFETY: HDF5 writes a copy of the fapl's connector info (made by our `copy`) or NULL.
        let rc = unsafe { H5Pget_vol_info(fapl_id, &mut raw) };
        if rc < 0 {
            return Err(Error::library("cannot read the dset_split connector info from the file access property list"));
        }
        if raw.is_null() {
            return Self::native();
        }
        // SAFETY: `raw` is a fresh copy made by our info `copy` callback; we now own it.
        Ok(unsafe { Self::from_raw(raw) })
    }

    /// A deep copy (new reference on the connector below, copied under info).
    pub fn try_clone(&self) -> Result<ConnInfo> {
        // SAFETY: our id is live; the new reference belongs to the copy.
        unsafe { H5Iinc_ref(self.under_vol_id) };
        let mut copy = ConnInfo {
            under_vol_id: self.under_vol_id,
            under_vol_info: std::ptr::null_mut(),
            policy: self.policy.clone(),
        };
        if !self.under_vol_info.is_null() {
            // SAFETY: our under info belongs to this connector id; the out pointer is ours.
            let rc = unsafe {
                ffi::H5VLcopy_connector_info(self.under_vol_id, &mut copy.under_vol_info, self.under_vol_info)
            };
            if rc < 0 {
                return Err(Error::library("cannot copy the info of the connector below"));
            }
        }
        Ok(copy)
    }

    /// Compares like `strcmp`: connector class first, then the under info.
    pub fn compare(&self, other: &ConnInfo) -> Result<c_int> {
        let mut cmp: c_int = 0;
        // SAFETY: both ids are live; the out pointer is a local.
        if unsafe { ffi::H5VLcmp_connector_cls(&mut cmp, self.under_vol_id, other.under_vol_id) } < 0 {
            return Err(Error::library("cannot compare the connectors below"));
        }
        if cmp != 0 {
            return Ok(cmp);
        }
        // SAFETY: both infos belong to the same connector class (just compared equal).
        let rc = unsafe {
            ffi::H5VLcmp_connector_info(&mut cmp, self.under_vol_id, self.under_vol_info, other.under_vol_info)
        };
        if rc < 0 {
            return Err(Error::library("cannot compare the infos of the connector below"));
        }
        if cmp == 0 {
            cmp = match self.policy.render().cmp(&other.policy.render()) {
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 1,
            };
        }
        Ok(cmp)
    }

    /// The info string that parses back to this info.
    pub fn to_info_string(&self) -> Result<String> {
        let mut value: ffi::H5VL_class_value_t = -1;
        // SAFETY: the id is live; the out pointer is a local.
        if unsafe { ffi::H5VLget_value(self.under_vol_id, &mut value) } < 0 {
            return Err(Error::library("cannot get the value of the connector below"));
        }
        let mut under: *mut c_char = std::ptr::null_mut();
        // SAFETY: the info belongs to the connector; HDF5 allocates the string with H5allocate_memory.
        if unsafe { ffi::H5VLconnector_info_to_str(self.under_vol_info, self.under_vol_id, &mut under) } < 0 {
            return Err(Error::library("cannot turn the info of the connector below into a string"));
        }
        let inner = if under.is_null() {
            String::new()
        } else {
            // SAFETY: HDF5 returned a NUL-terminated string, freed right after copying.
            let s = unsafe { CStr::from_ptr(under) }.to_string_lossy().into_owned();
            // SAFETY: the string was allocated by the HDF5 library.
            unsafe { H5free_memory(under.cast()) };
            s
        };
        Ok(info::render(value, &inner, &self.policy))
    }

    /// Hands ownership to HDF5.
    pub fn into_raw(self) -> *mut c_void {
        Box::into_raw(Box::new(self)).cast()
    }

    /// Takes ownership back from HDF5.
    ///
    /// # Safety
    /// `raw` must come from [`ConnInfo::into_raw`] and not be used afterwards.
    pub unsafe fn from_raw(raw: *mut c_void) -> ConnInfo {
        // SAFETY: by the contract above.
        *unsafe { Box::from_raw(raw.cast::<ConnInfo>()) }
    }

    /// Borrows an info HDF5 hands us.
    ///
    /// # Safety
    /// `raw` must be NULL or come from [`ConnInfo::into_raw`] and still be owned by HDF5.
    pub unsafe fn borrow<'a>(raw: *const c_void) -> Option<&'a ConnInfo> {
        // SAFETY: by the contract above.
        unsafe { raw.cast::<ConnInfo>().as_ref() }
    }
}

impl Drop for ConnInfo {
    fn drop(&mut self) {
        preserving_stack(|| {
            if !self.under_vol_info.is_null() {
                // SAFETY: the under info is ours and belongs to this connector id.
                unsafe { ffi::H5VLfree_connector_info(self.under_vol_id, self.under_vol_info) };
            }
            // SAFETY: releases the reference this info owns.
            unsafe { H5Idec_ref(self.under_vol_id) };
        });
    }
}

/// Where this thread is with respect to dset_split's file create and open (see [`enter_file`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    Outside,
    Inside,
    /// Inside, and dset_split was reached again below and refused.
    RefusedBelow,
}

thread_local! {
    static FILE_ENTRY: std::cell::Cell<Entry> = const { std::cell::Cell::new(Entry::Outside) };
}

/// Held while dset_split's file create or open passes the call to the connectors below.
#[derive(Debug)]
pub struct FileEntry {
    op: &'static str,
    name: String,
}

impl FileEntry {
    /// Leaves, after the call below: if it `failed` because dset_split was reached again below,
    /// the error that says so (the connectors in between may have cleared the inner one's message:
    /// HDF5's pass-through does).
    pub fn leave(self, failed: bool) -> Result<()> {
        let refused = FILE_ENTRY.with(|e| e.get()) == Entry::RefusedBelow;
        if failed && refused { Err(self_below(self.op, &self.name)) } else { Ok(()) }
    }
}

impl Drop for FileEntry {
    fn drop(&mut self) {
        FILE_ENTRY.with(|e| e.set(Entry::Outside));
    }
}

fn self_below(op: &str, name: &str) -> Error {
    Error::config(format!(
        "{op} {name}: dset_split is below itself in the connector stack (it was reached again through the \
         connectors below it), and would split every dataset twice; name a stack without dset_split below it \
         (e.g. under_vol=0 for native)"
    ))
}

/// Enters dset_split's file create or open (`op`: "creating" or "opening") of `name`, refusing
/// dset_split below itself. The info string check ([`InfoSpec::check_stack`]) sees the stacks
/// written in the usual convention, but a connector in between may name dset_split with no info
/// string, or build its info otherwise; then the inner dset_split's create or open runs inside the
/// outer one's, and meets this guard. Nothing below dset_split opens a file through it otherwise.
pub fn enter_file(op: &'static str, name: &str) -> Result<FileEntry> {
    let refused = FILE_ENTRY.with(|e| {
        let inside = e.get() != Entry::Outside;
        if inside {
            e.set(Entry::RefusedBelow);
        } else {
            e.set(Entry::Inside);
        }
        inside
    });
    if refused {
        return Err(self_below(op, name));
    }
    Ok(FileEntry { op, name: name.to_string() })
}

/// In HDF5 1.14 the built-in pass-through connector (value 1) is not a plugin and is registered
/// only on demand; register it so that `under_vol=1` / `under_vol=pass_through` find it.
/// (HDF5 2.x registers it when the library starts.)
fn ensure_pass_through_registered() {
    ffi::bind::register_pass_through();
}

/// An owned property list, closed on drop.
#[derive(Debug)]
pub struct Plist(pub hid_t);

impl Drop for Plist {
    fn drop(&mut self) {
        if self.0 >= 0 {
            // SAFETY: the id is a property list we own.
            preserving_stack(|| unsafe { H5Pclose(self.0) });
        }
    }
}

/// A copy of `fapl_id` that names the connector below us, for forwarding file operations (with
/// the external file cache size of the policy, unless the application set one).
pub fn under_fapl(fapl_id: hid_t, info: &ConnInfo) -> Result<Plist> {
    // SAFETY: plain call; a negative result is checked.
    let copy = unsafe { H5Pcopy(fapl_id) };
    if copy < 0 {
        return Err(Error::library("cannot copy the file access property list"));
    }
    let copy = Plist(copy);
    // SAFETY: `copy` is our property list; HDF5 copies the under info.
    if unsafe { H5Pset_vol(copy.0, info.under_vol_id, info.under_vol_info) } < 0 {
        return Err(Error::library("cannot set the connector below on the file access property list"));
    }
    if info.policy.elink_cache > 0 {
        let mut current: std::ffi::c_uint = 0;
        // SAFETY: reads and sets properties of our own copy.
        unsafe {
            if crate::ffi::sys::h5p::H5Pget_elink_file_cache_size(copy.0, &mut current) >= 0 && current == 0 {
                crate::ffi::sys::h5p::H5Pset_elink_file_cache_size(copy.0, info.policy.elink_cache);
            }
        }
    }
    Ok(copy)
}
