//! Which file drivers the split layout applies to. Splitting needs a main file that is a real file
//! at the path HDF5 was given (the split folder goes beside it, and its external links are looked
//! up next to it). Files with any other driver are passed through untouched, exactly as natively:
//!
//! | driver | split? | why |
//! |---|---|---|
//! | `sec2` (the default), `stdio` | yes | one real file at the given path |
//! | `core` with a backing store | yes | written to the given path at close |
//! | `core` without a backing store, file images, h5py's file-like objects | no | no file on disk: nothing to put a folder beside |
//! | `family`, `multi`, `split` | no | the name is a pattern or a base name, not one file |
//! | `mpio` (parallel HDF5) | yes | one file written by every rank; rank 0 does the file-system work (`split::collective`) |
//! | `subfiling` | no | the data is in files the driver names itself |
//! | `log`, `direct`, `ros3`, `hdfs`, `mirror`, `splitter`, `onion`, any other | no | not a plain local file, or one the connector cannot vouch for |

use crate::ffi::sys::h5p::{
    H5P_CLS_FILE_ACCESS, H5Pcreate, H5Pget_driver, H5Pget_fapl_core, H5Pset_fapl_sec2, H5Pset_fapl_stdio,
};

use crate::conn_info::Plist;
use crate::error::quietly;
use crate::ffi::hid_t;

/// The id HDF5 gives the driver that `set` puts on a fresh file access property list.
fn driver_of(set: impl FnOnce(hid_t) -> crate::ffi::herr_t) -> Option<hid_t> {
    // SAFETY: creates our own property list (closed by Plist); checked.
    let fapl = Plist(unsafe { H5Pcreate(*H5P_CLS_FILE_ACCESS) });
    if fapl.0 < 0 || set(fapl.0) < 0 {
        return None;
    }
    // SAFETY: reads the driver back from our own valid list.
    Some(unsafe { H5Pget_driver(fapl.0) }).filter(|id| *id >= 0)
}

/// Whether the main file opened or created with `fapl` can have split datasets written by one
/// process: its driver writes one real file at the path HDF5 was given (see the table above). A
/// main file every rank of an MPI job writes (MPI-IO) has a [`communicator`] instead.
pub fn splits(fapl: hid_t) -> bool {
    quietly(|| {
        // SAFETY: reads the driver of HDF5's own file access property list.
        let driver = unsafe { H5Pget_driver(fapl) };
        if driver < 0 {
            return false;
        }
        // SAFETY: sets a driver on our own valid list.
        let sec2 = driver_of(|f| unsafe { H5Pset_fapl_sec2(f) });
        // SAFETY: as above.
        let stdio = driver_of(|f| unsafe { H5Pset_fapl_stdio(f) });
        if Some(driver) == sec2 || Some(driver) == stdio {
            return true;
        }
        let core = driver_of(|f| {
            // SAFETY: a valid list; the core driver with HDF5's usual increment.
            unsafe { crate::ffi::sys::h5p::H5Pset_fapl_core(f, 1 << 20, 1) }
        });
        if Some(driver) == core {
            let (mut increment, mut backing_store): (usize, crate::ffi::sys::h5::hbool_t) = (0, 0);
            // SAFETY: reads the core driver's settings from a list that has that driver.
            let rc = unsafe { H5Pget_fapl_core(fapl, &mut increment, &mut backing_store) };
            return rc >= 0 && backing_store != 0;
        }
        false
    })
}

/// The MPI communicator of a file access property list with the MPI-IO driver (None for any
/// other driver, or a serial HDF5): a duplicate, freed when dropped.
pub fn communicator(fapl: hid_t) -> Option<crate::ffi::mpi::Comm> {
    crate::ffi::mpi::get()?;
    quietly(|| crate::ffi::mpi::Comm::of_fapl(fapl)).ok()
}
