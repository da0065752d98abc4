//! Run-time logging of every callback, switched on by `DSET_SPLIT_LOG`.
//!
//! `DSET_SPLIT_LOG` unset, empty, `0` or `off`: no logging, and a callback pays one atomic load.
//! `1`, `stderr` or `on`: lines on standard error. Anything else: a file path, appended to.
//!
//! Writes go straight to the file descriptor with `write(2)`: no Rust standard stream and no
//! thread-local is touched, so logging is safe from HDF5's `atexit` shutdown, after `main`.

use std::ffi::CString;
use std::fmt;
use std::sync::atomic::{AtomicI32, Ordering};

const UNINIT: i32 = -2;
const OFF: i32 = -1;

static FD: AtomicI32 = AtomicI32::new(UNINIT);

/// The environment variable that switches logging on.
pub const ENV: &str = "DSET_SPLIT_LOG";

fn open_target() -> i32 {
    let value = std::env::var_os(ENV).unwrap_or_default();
    let value = value.to_string_lossy();
    match value.trim() {
        "" | "0" | "off" | "false" => OFF,
        "1" | "on" | "true" | "stderr" => libc::STDERR_FILENO,
        path => {
            let Ok(c) = CString::new(path) else {
                return OFF;
            };
            // SAFETY: `c` is a valid NUL-terminated path; open returns -1 on failure.
            let fd = unsafe {
                libc::open(c.as_ptr(), libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND | libc::O_CLOEXEC, 0o644)
            };
            if fd < 0 { libc::STDERR_FILENO } else { fd }
        }
    }
}

/// Reads `DSET_SPLIT_LOG` (once per connector lifetime).
pub fn init() {
    if FD.load(Ordering::Acquire) == UNINIT {
        let fd = open_target();
        if FD.compare_exchange(UNINIT, fd, Ordering::AcqRel, Ordering::Acquire).is_err() && fd > 2 {
            // SAFETY: `fd` was opened above and lost the race, so nobody else uses it.
            unsafe { libc::close(fd) };
        }
    }
}

/// Closes the log file, if any (connector terminate).
pub fn shutdown() {
    let fd = FD.swap(UNINIT, Ordering::AcqRel);
    if fd > 2 {
        // SAFETY: `fd` is the descriptor we opened; it was swapped out, so no writer uses it again.
        unsafe { libc::close(fd) };
    }
}

/// Whether logging is on. Cheap: one atomic load once initialized.
#[inline]
pub fn enabled() -> bool {
    let fd = FD.load(Ordering::Relaxed);
    if fd == UNINIT {
        init();
        return FD.load(Ordering::Relaxed) >= 0;
    }
    fd >= 0
}

/// Writes one line. Call through [`trace!`](crate::trace) so that nothing is formatted when off.
pub fn write(args: fmt::Arguments<'_>) {
    let fd = FD.load(Ordering::Relaxed);
    if fd < 0 {
        return;
    }
    let line = format!("dset_split[{}]: {args}\n", std::process::id());
    let mut bytes = line.as_bytes();
    while !bytes.is_empty() {
        // SAFETY: `bytes` is a valid buffer of the given length; a failed write just ends the loop.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n <= 0 {
            break;
        }
        bytes = &bytes[n as usize..];
    }
}

/// Logs a line when `DSET_SPLIT_LOG` is set; formats nothing otherwise.
#[macro_export]
macro_rules! trace {
    ($($arg:tt)*) => {
        if $crate::log::enabled() {
            $crate::log::write(format_args!($($arg)*));
        }
    };
}

/// A C string argument as text for log lines ("NULL" for a NULL pointer).
///
/// # Safety
/// `p` must be NULL or point at a NUL-terminated string.
pub unsafe fn show(p: *const std::ffi::c_char) -> String {
    if p.is_null() {
        "NULL".to_string()
    } else {
        // SAFETY: by the contract above.
        let s = unsafe { std::ffi::CStr::from_ptr(p) };
        format!("{:?}", s.to_string_lossy())
    }
}
