//! The connector's own HDF5 error class, and how failures reach the HDF5 error stack.
//!
//! The class and its messages are registered when HDF5 initializes the connector (or on first
//! use, whichever comes first) and released when HDF5 terminates it. Messages are always passed
//! to `H5Epush2` as a `"%s"` argument, never as the format string.

use std::ffi::{CString, c_char, c_uint};
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::ffi::sys::h5e::{
    H5E_DEFAULT, H5E_type_t, H5Eclose_msg, H5Ecreate_msg, H5Epush2, H5Eregister_class, H5Eunregister_class,
};

use crate::ffi::hid_t;

/// What kind of failure, shown as the minor message on the HDF5 error stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The connector's info string or info object is not valid.
    BadConfig,
    /// An argument HDF5 handed us is not usable (NULL object, bad name, ...).
    BadArgument,
    /// A call into the HDF5 library or the connector below us failed.
    Library,
    /// A dataset's split file is missing (not materialised) or cannot be opened.
    MissingFile,
    /// A bug in dset_split: a Rust panic caught at the C boundary.
    Panic,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::BadConfig, Kind::BadArgument, Kind::Library, Kind::Panic];

    fn text(self) -> &'static str {
        match self {
            Kind::BadConfig => "Invalid dset_split configuration",
            Kind::BadArgument => "Invalid argument",
            Kind::Library => "HDF5 call failed",
            Kind::MissingFile => "Split file missing or unreadable",
            Kind::Panic => "Internal error (panic caught at the C boundary)",
        }
    }

    fn index(self) -> usize {
        Kind::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }
}

/// A failure inside the connector, with a message that says what and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: Kind,
    pub msg: String,
}

impl Error {
    pub fn new(kind: Kind, msg: impl Into<String>) -> Self {
        Error { kind, msg: msg.into() }
    }
    pub fn config(msg: impl Into<String>) -> Self {
        Self::new(Kind::BadConfig, msg)
    }
    pub fn arg(msg: impl Into<String>) -> Self {
        Self::new(Kind::BadArgument, msg)
    }
    pub fn library(msg: impl Into<String>) -> Self {
        Self::new(Kind::Library, msg)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.text(), self.msg)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Registered ids: the class, the major message, one minor message per [`Kind`].
struct Ids {
    class: AtomicI64,
    major: AtomicI64,
    minors: [AtomicI64; Kind::ALL.len()],
}

/// One set per libhdf5 copy (`ffi::bind`): an id of one copy means nothing to another.
static IDS: [Ids; crate::ffi::bind::MAX_COPIES] = [const {
    Ids {
        class: AtomicI64::new(-1),
        major: AtomicI64::new(-1),
        minors: [const { AtomicI64::new(-1) }; Kind::ALL.len()],
    }
}; crate::ffi::bind::MAX_COPIES];

/// The ids of the libhdf5 copy in force.
fn ids() -> &'static Ids {
    &IDS[crate::ffi::bind::index()]
}
static REGISTRATION: Mutex<()> = Mutex::new(());

/// The name our error class shows in `H5Eprint` output.
pub const CLASS_NAME: &str = "dset_split";

/// Registers the error class and its messages unless already registered.
pub fn register() {
    let _lock = REGISTRATION.lock().unwrap_or_else(|e| e.into_inner());
    if ids().class.load(Ordering::Acquire) >= 0 {
        return;
    }
    let name = c"dset_split";
    let lib = c"dset-split VOL connector";
    let version = CString::new(crate::VERSION_STRING).unwrap_or_default();
    // SAFETY: all three arguments are valid NUL-terminated strings that HDF5 copies.
    let class = unsafe { H5Eregister_class(name.as_ptr(), lib.as_ptr(), version.as_ptr()) };
    if class < 0 {
        return;
    }
    // SAFETY: `class` is the class id just registered; the message text is copied by HDF5.
    let major = unsafe { H5Ecreate_msg(class, H5E_type_t::H5E_MAJOR, c"dset_split VOL connector".as_ptr()) };
    for kind in Kind::ALL {
        let text = CString::new(kind.text()).unwrap_or_default();
        // SAFETY: as above; `text` outlives the call.
        let minor = unsafe { H5Ecreate_msg(class, H5E_type_t::H5E_MINOR, text.as_ptr()) };
        ids().minors[kind.index()].store(minor, Ordering::Release);
    }
    ids().major.store(major, Ordering::Release);
    ids().class.store(class, Ordering::Release);
}

/// Releases the error class and its messages (connector terminate).
pub fn unregister() {
    let _lock = REGISTRATION.lock().unwrap_or_else(|e| e.into_inner());
    let class = ids().class.swap(-1, Ordering::AcqRel);
    if class < 0 {
        return;
    }
    for id in ids().minors.iter().chain(std::iter::once(&ids().major)) {
        let msg = id.swap(-1, Ordering::AcqRel);
        if msg >= 0 {
            // SAFETY: `msg` is a message id we created and have not closed yet.
            unsafe { H5Eclose_msg(msg) };
        }
    }
    // SAFETY: `class` is the class id we registered; no message of ours refers to it any more.
    unsafe { H5Eunregister_class(class) };
}

/// The id of our error class, registering it if needed (-1 if HDF5 refused).
pub fn class_id() -> hid_t {
    if ids().class.load(Ordering::Acquire) < 0 {
        register();
    }
    ids().class.load(Ordering::Acquire)
}

/// Pushes `err` below the messages already on the default stack: it becomes the innermost entry,
/// the one HDF5 reports as the cause. For explanations of a failure below (a split file that is
/// missing): clients such as h5py show only the innermost message, so the explanation must be it.
pub fn push_as_cause(at: &std::panic::Location<'_>, func: &str, err: &Error) {
    // SAFETY: H5Eget_num only reads the default stack.
    if unsafe { crate::ffi::sys::h5e::H5Eget_num(H5E_DEFAULT) } <= 0 {
        return push(at, func, err);
    }
    // SAFETY: copies the current stack into a new id and clears the current stack.
    let below = unsafe { crate::ffi::sys::h5e::H5Eget_current_stack() };
    push(at, func, err);
    if below < 0 {
        return;
    }
    // SAFETY: as above, now the stack holding only our message.
    let ours = unsafe { crate::ffi::sys::h5e::H5Eget_current_stack() };
    if ours < 0 {
        // SAFETY: `below` is the stack id made above; closing it releases it.
        unsafe { crate::ffi::sys::h5e::H5Eclose_stack(below) };
        return;
    }
    // SAFETY: both ids are stacks made above; H5Eappend_stack closes `below` (true), and
    // H5Eset_current_stack consumes `ours`.
    unsafe {
        crate::ffi::sys::h5e::H5Eappend_stack(ours, below, true as _);
        crate::ffi::sys::h5e::H5Eset_current_stack(ours);
    }
}

/// Runs `f` with HDF5's automatic error printing off, restored afterwards. A callback calls
/// public `H5VL*` functions to reach the connector below, and a failing public function prints
/// the stack when printing is on: the application would see the same error twice (once from
/// inside the callback, once from its own call). Only the version-2 printing function (the
/// default, and what `H5Eset_auto2` sets) is switched off; a program that uses `H5Eset_auto1`
/// keeps it as it is.
pub fn without_printing<R>(f: impl FnOnce() -> R) -> R {
    let mut v2: c_uint = 0;
    // SAFETY: reads a flag of the default stack into our local; does not clear the stack.
    if unsafe { crate::ffi::sys::h5e::H5Eauto_is_v2(H5E_DEFAULT, &mut v2) } < 0 || v2 == 0 {
        return f();
    }
    let mut func: crate::ffi::sys::h5e::H5E_auto2_t = None;
    let mut data: *mut std::ffi::c_void = std::ptr::null_mut();
    // SAFETY: reads the default stack's printing function into our locals (does not clear).
    if unsafe { crate::ffi::sys::h5e::H5Eget_auto2(H5E_DEFAULT, &mut func, &mut data) } < 0 || func.is_none() {
        return f();
    }
    // SAFETY: switches printing off (does not clear the stack); restored below.
    unsafe { crate::ffi::sys::h5e::H5Eset_auto2(H5E_DEFAULT, None, std::ptr::null_mut()) };
    struct Restore(crate::ffi::sys::h5e::H5E_auto2_t, *mut std::ffi::c_void);
    impl Drop for Restore {
        fn drop(&mut self) {
            // SAFETY: restores the function and data read above, also if `f` panicked.
            unsafe { crate::ffi::sys::h5e::H5Eset_auto2(H5E_DEFAULT, self.0, self.1) };
        }
    }
    let _restore = Restore(func, data);
    f()
}

/// Pushes `err` on the default HDF5 error stack, in our class, attributed to `func` at `at`.
pub fn push(at: &std::panic::Location<'_>, func: &str, err: &Error) {
    let class = class_id();
    if class < 0 {
        return;
    }
    let major = ids().major.load(Ordering::Acquire);
    let minor = ids().minors[err.kind.index()].load(Ordering::Acquire);
    let func = CString::new(func).unwrap_or_default();
    let msg = CString::new(err.msg.replace('\0', "\\0")).unwrap_or_default();
    let file = CString::new(at.file()).unwrap_or_default();
    // SAFETY: every pointer is a valid NUL-terminated string that lives across the call; the
    // message is passed as the argument of a constant "%s" format, so no '%' in it is interpreted.
    unsafe {
        H5Epush2(
            H5E_DEFAULT,
            file.as_ptr(),
            func.as_ptr(),
            at.line() as c_uint,
            class,
            major,
            minor,
            c"%s".as_ptr(),
            msg.as_ptr() as *const c_char,
        )
    };
}

/// If the default error stack holds messages, moves them to a new stack id (the default one is
/// left empty) for [`put_back`].
pub fn set_aside() -> Option<hid_t> {
    // SAFETY: H5Eget_num only reads the default stack.
    if unsafe { crate::ffi::sys::h5e::H5Eget_num(H5E_DEFAULT) } <= 0 {
        return None;
    }
    // SAFETY: copies the default stack into a new id and clears it.
    let id = unsafe { crate::ffi::sys::h5e::H5Eget_current_stack() };
    (id >= 0).then_some(id)
}

/// Makes a stack from [`set_aside`] the default one again (and releases its id).
pub fn put_back(stack: hid_t) {
    // SAFETY: `stack` came from H5Eget_current_stack; H5Eset_current_stack consumes it.
    unsafe { crate::ffi::sys::h5e::H5Eset_current_stack(stack) };
}

/// Whether the error stack `stack_id` holds a message of our class.
fn stack_mentions_us(stack_id: hid_t, class: hid_t) -> bool {
    unsafe extern "C" fn visit(
        _n: c_uint,
        err: *const crate::ffi::sys::h5e::H5E_error2_t,
        data: *mut std::ffi::c_void,
    ) -> crate::ffi::sys::h5::herr_t {
        // SAFETY: HDF5 passes a valid entry, and `data` is the `(class, found)` pair below.
        let (class, found) = unsafe { &mut *data.cast::<(hid_t, bool)>() };
        // SAFETY: as above.
        if unsafe { (*err).cls_id } == *class {
            *found = true;
        }
        0
    }
    let mut state = (class, false);
    // SAFETY: walks a stack id we own with a callback that only reads the entries.
    unsafe {
        crate::ffi::sys::h5e::H5Ewalk2(
            stack_id,
            crate::ffi::sys::h5e::H5E_direction_t::H5E_WALK_UPWARD,
            Some(visit),
            (&mut state as *mut (hid_t, bool)).cast(),
        )
    };
    state.1
}

/// Releases the error class at connector terminate, unless the current error stack still holds
/// messages of ours (a failed `HDF5_VOL_CONNECTOR` info string terminates the connector right
/// away): then the messages must stay printable, and HDF5 releases the class at shutdown.
pub fn release_at_terminate() {
    let class = ids().class.load(Ordering::Acquire);
    if class < 0 {
        return;
    }
    // SAFETY: copies the current stack into a new id and clears it (restored below).
    let saved = unsafe { crate::ffi::sys::h5e::H5Eget_current_stack() };
    let keep = saved >= 0 && stack_mentions_us(saved, class);
    if !keep {
        unregister();
    }
    if saved >= 0 {
        // SAFETY: restores the stack saved above; consumes the id.
        unsafe { crate::ffi::sys::h5e::H5Eset_current_stack(saved) };
    }
}

/// Runs `f`, a probe that may fail, with the caller's error stack saved and restored and HDF5's
/// automatic error printing off (a failed `H5VL*` call prints its stack otherwise).
pub fn quietly<R>(f: impl FnOnce() -> R) -> R {
    preserving_stack(|| without_printing(f))
}

/// Runs `f` with the caller's error stack saved and restored, so that cleanup work cannot bury
/// the error that is being reported.
pub fn preserving_stack<R>(f: impl FnOnce() -> R) -> R {
    // SAFETY: H5Eget_num only reads the default stack (it does not clear it).
    if unsafe { crate::ffi::sys::h5e::H5Eget_num(H5E_DEFAULT) } == 0 {
        // Nothing to preserve: the usual case (every wrap context is freed this way), and saving
        // an empty stack costs an allocation and an id. Leave it empty again.
        let r = f();
        // SAFETY: plain call on the default stack.
        if unsafe { crate::ffi::sys::h5e::H5Eget_num(H5E_DEFAULT) } != 0 {
            // SAFETY: as above.
            unsafe { crate::ffi::sys::h5e::H5Eclear2(H5E_DEFAULT) };
        }
        return r;
    }
    // SAFETY: H5Eget_current_stack copies the current stack into a new id (or fails with -1).
    let saved = unsafe { crate::ffi::sys::h5e::H5Eget_current_stack() };
    let r = f();
    if saved >= 0 {
        // SAFETY: `saved` is the stack id returned above; H5Eset_current_stack consumes it.
        unsafe { crate::ffi::sys::h5e::H5Eset_current_stack(saved) };
    }
    r
}
