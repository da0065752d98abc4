//! Becoming another program with this process's signal mask: the mount's programs hand over to
//! each other with SIGINT, SIGTERM, SIGHUP and SIGQUIT blocked, so that a signal arriving meanwhile waits
//! for the next program's signal thread (which unmounts) instead of killing the process and
//! leaving the mount without a server. (`std::process::Command` unblocks every signal in the
//! new program.)

use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;

/// Runs `program` with `args` (its own name first) in place of this process; returns only
/// when that fails, with why.
pub fn exec(program: &OsStr, args: &[&OsStr]) -> std::io::Error {
    let cstr = |s: &OsStr| CString::new(s.as_bytes());
    let Ok(path) = cstr(program) else { return nul() };
    let Ok(args) = args.iter().map(|a| cstr(a)).collect::<Result<Vec<_>, _>>() else { return nul() };
    let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    // SAFETY: NUL-terminated strings and a null-terminated array of them, alive across the
    // call; execv returns only on failure.
    unsafe { libc::execv(path.as_ptr(), argv.as_ptr()) };
    std::io::Error::last_os_error()
}

fn nul() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, "a NUL byte in an argument")
}

/// Blocks SIGINT, SIGTERM, SIGHUP and SIGQUIT in this thread and the threads it starts (and, through
/// [`exec`], the next program); returns them as a set for `sigwait`.
pub fn block_signals() -> libc::sigset_t {
    // SAFETY: zeroed is a valid `sigset_t`, initialised by `sigemptyset`; the signals are valid.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
            libc::sigaddset(&mut set, sig);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}
