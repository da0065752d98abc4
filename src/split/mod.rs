//! Splitting: each dataset created through the connector gets its own HDF5 file in the main
//! file's split folder, named relative to the main file's directory by the dataset's object in
//! the main file: a virtual dataset over it (the default, `vds`), or an external link to it (the
//! link form). See `crate::layout` for the names and the README for the whole specification.

mod access;
mod anon;
mod collective;
mod copy;
mod create;
mod ctx;
mod folder;
pub mod lifecycle;
mod obj;
pub(crate) mod order;
mod place;
mod refscan;
mod times;
mod vcopy;
mod vds;
pub mod xref;

pub use access::*;
pub use anon::*;
pub use copy::*;
pub use create::*;
pub use ctx::*;
pub use obj::Obj;
pub(crate) use order::lcpl_for;
use place::*;
pub use times::*;
pub use vds::*;

use crate::error::preserving_stack;
use crate::ffi::hid_t;

/// An id released with `H5Idec_ref` on drop (types, dataspaces; any id whose only reference is
/// ours: HDF5 then closes it as its own close function would).
#[derive(Debug)]
pub struct IdGuard(pub hid_t);

impl Drop for IdGuard {
    fn drop(&mut self) {
        if self.0 >= 0 {
            // SAFETY: an id we own.
            preserving_stack(|| unsafe { crate::ffi::sys::h5i::H5Idec_ref(self.0) });
        }
    }
}
