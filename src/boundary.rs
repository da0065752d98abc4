//! The one place where control returns from Rust to HDF5.
//!
//! Every `extern "C"` function of the crate runs its body through [`guard`]: a Rust error becomes
//! a message on the HDF5 error stack and the C failure value of the return type; a panic is caught
//! the same way and never unwinds into C.

use std::any::Any;
use std::ffi::{c_char, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{self, Error, Kind, Result};
use crate::ffi::{herr_t, hid_t};

/// The value a C caller reads as failure, one per return type.
pub trait Failure {
    const FAIL: Self;
}

impl Failure for herr_t {
    const FAIL: herr_t = -1;
}

impl Failure for hid_t {
    const FAIL: hid_t = -1;
}

impl Failure for *mut c_void {
    const FAIL: *mut c_void = std::ptr::null_mut();
}

impl Failure for *const c_char {
    const FAIL: *const c_char = std::ptr::null();
}

impl Failure for () {
    const FAIL: () = ();
}

/// Runs `f`; on `Err` or panic, pushes a message attributed to `func` (at the caller's source
/// location) and returns `T::FAIL`.
///
/// HDF5 also calls the connector while it unwinds from an error (closing what it opened), and any
/// call into the layer below resets the error stack: so an error already on the stack when the
/// callback starts is set aside and put back afterwards, with our own message on top if the
/// callback fails.
///
/// HDF5's automatic error printing is off while `f` runs ([`error::without_printing`]): a failing
/// call to the connector below would print the stack a first time from inside the callback.
///
/// `copy` is the number of the libhdf5 copy whose class table the callback belongs to: its
/// binding is in force while `f` runs (`ffi::bind::with`).
#[track_caller]
pub fn guard<T: Failure>(copy: usize, func: &'static str, f: impl FnOnce() -> Result<T>) -> T {
    let at = std::panic::Location::caller();
    crate::ffi::bind::with(copy, || guarded(func, at, || error::without_printing(f)))
}

/// [`guard`] for the bookkeeping callbacks HDF5 makes around nearly every operation (wrap
/// contexts, info strings, tokens, introspection, initialize/terminate): they do not reach the
/// connector below in ways that fail and print, and switching printing off and on again would
/// cost four more API calls each time (measured in BENCHMARKS.md).
#[track_caller]
pub fn guard_light<T: Failure>(copy: usize, func: &'static str, f: impl FnOnce() -> Result<T>) -> T {
    let at = std::panic::Location::caller();
    crate::ffi::bind::with(copy, || guarded(func, at, f))
}

fn guarded<T: Failure>(
    func: &'static str,
    at: &'static std::panic::Location<'static>,
    f: impl FnOnce() -> Result<T>,
) -> T {
    crate::trace!("{func}");
    // Every HDF5 call goes through the binding in force (`ffi::bind`): without one, touch
    // nothing of HDF5.
    if !crate::ffi::bind::ready() {
        crate::trace!("{func}: not bound to an HDF5 library");
        return T::FAIL;
    }
    let pending = error::set_aside();
    let outcome = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => Err(Error::new(
            Kind::Panic,
            format!(
                "{func} panicked: {}; this is a bug in dset_split, please report it",
                panic_message(payload.as_ref())
            ),
        )),
    };
    if let Some(stack) = pending {
        error::put_back(stack);
    }
    match outcome {
        Ok(value) => value,
        Err(err) => {
            crate::trace!("{func}: error: {err}");
            // Pushing may itself fail in odd states (library shutting down): never let that unwind.
            let _ = catch_unwind(AssertUnwindSafe(|| {
                if err.kind == Kind::MissingFile {
                    error::push_as_cause(at, func, &err)
                } else {
                    error::push(at, func, &err)
                }
            }));
            T::FAIL
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.as_str()
    } else {
        "(non-string panic payload)"
    }
}
