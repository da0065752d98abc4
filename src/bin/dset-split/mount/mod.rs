//! `dset-split mount FILE MOUNTPOINT`: any HDF5 file as a read-only folder through FUSE (a pack
//! shows the packed folder). Mounts in the foreground process, so every error is reported
//! before the command returns (but one: a sealed pack's tree image is read on the first request,
//! and when it is damaged and HDF5 cannot read the pack either, requests fail with EIO and the
//! log says why); then, unless `--foreground`, serves from a background process.
//! SIGINT, SIGTERM and SIGHUP unmount cleanly; so do `fusermount3 -u` and `umount`.

mod attrs;
mod build;
mod fs;
mod image;
mod npy;
mod read;
mod sealed;
mod tree;
mod types;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The HDF5 file to show
    file: PathBuf,
    /// An empty folder to show it in
    mountpoint: PathBuf,
    /// Stay in the foreground (log to stderr) instead of serving from a background process
    #[arg(short, long)]
    foreground: bool,
    /// In the background: append log lines (e.g. a split file that is missing) to this file
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// Let other users read the mount (needs `user_allow_other` in /etc/fuse.conf unless root)
    #[arg(long)]
    allow_other: bool,
}

/// Writes a line to the log: stderr (in the background, the `--log` file or nowhere). A closed
/// stderr is no reason to stop serving.
pub fn log(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "dset-split mount: {msg}");
}

/// The pack's user block as `pack` fills it: the tree image (see `sealed`).
pub fn user_block() -> crate::pack::write::UserBlock {
    crate::pack::write::UserBlock { room: sealed::room, write: sealed::write }
}

pub fn run(args: &Args) -> ExitCode {
    match mount(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "dset-split: {e}");
            ExitCode::from(2)
        }
    }
}

fn mount(args: &Args) -> Result<(), String> {
    check_mountpoint(&args.mountpoint)?;
    raise_open_files_limit();
    // Large buffers (the tree's arrays, HDF5's while the tree is read) are mapped on their own
    // and given back whole when freed, instead of leaving holes in the heap that the background
    // process would inherit.
    // SAFETY: a plain libc setting, before any thread starts.
    unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 64 << 10) };
    // Absolute: the background process leaves the working directory, and unmounts by this path.
    let mountpoint = std::fs::canonicalize(&args.mountpoint)
        .map_err(|e| format!("mount point {}: {e}", args.mountpoint.display()))?;
    let log_file = match &args.log {
        Some(p) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| format!("{}: {e}", p.display()))?,
        ),
        None => None,
    };
    let debug = std::env::var_os("DSET_SPLIT_MOUNT_DEBUG").is_some();
    if debug {
        log(&format!("memory before the tree: {}", memory()));
    }
    let t = std::time::Instant::now();
    // Absolute: the background process, which leaves the working directory, names it in its log.
    let file = std::path::absolute(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?;
    let filesystem = match sealed::check(&file) {
        // A sealed pack's tree is read from its image on the first request (in the background
        // process): the mount is in place at once, whatever the size of the tree.
        Ok(pack) => fs::MountFs::later(later(pack, file.clone(), debug)),
        Err(why) => {
            if let (Some(why), true) = (why, debug) {
                log(&format!("the tree image is not used: {why}"));
            }
            let tree = read_tree(&file, debug)?;
            for note in &tree.notes {
                log(note);
                if let Some(mut f) = log_file.as_ref() {
                    use std::io::Write;
                    let _ = writeln!(f, "dset-split mount: {note}");
                }
            }
            fs::MountFs::new(tree)
        }
    };
    let mut options = vec![
        fuser::MountOption::RO,
        fuser::MountOption::FSName(args.file.display().to_string()),
        fuser::MountOption::Subtype("dset-split".into()),
        fuser::MountOption::DefaultPermissions,
        fuser::MountOption::NoAtime,
    ];
    let mut config = fuser::Config::default();
    if args.allow_other {
        config.acl = fuser::SessionACL::All;
    }
    options.push(fuser::MountOption::NoDev);
    config.mount_options = options;
    config.n_threads = Some(std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 8));
    config.clone_fd = true;
    // Signals are taken by one thread (below), not by the threads serving requests.
    let signals = block_signals();
    let mut session = fuser::Session::new(filesystem, &mountpoint, &config)
        .map_err(|e| {
            // SAFETY: a plain system call.
            let user = unsafe { libc::geteuid() } != 0;
            let hint = if user && e.kind() == std::io::ErrorKind::PermissionDenied {
                " (as a user, FUSE needs /dev/fuse open to users, mode 0666 as distributions ship it, and fusermount3 from the fuse3 package)"
            } else {
                ""
            };
            format!("cannot mount {} at {}: {e}{hint}", args.file.display(), args.mountpoint.display())
        })?;
    if debug {
        log(&format!("mounted after {:?}", t.elapsed()));
    }
    if !args.foreground {
        daemonize(log_file)?;
    }
    let mut unmounter = session.unmount_callable();
    std::thread::spawn(move || {
        loop {
            let mut sig = 0;
            // SAFETY: a signal set made by `block_signals` and an output slot.
            unsafe { libc::sigwait(&signals, &mut sig) };
            match unmounter.unmount() {
                Ok(()) => return,
                // Busy (a program has a file open): detach it now, the kernel finishes when the
                // last user lets go, and the session then ends.
                Err(e) => {
                    log(&format!("{} is busy ({e}); detaching it", mountpoint.display()));
                    if detach(&mountpoint) {
                        return;
                    }
                }
            }
        }
    });
    session.run().map_err(|e| format!("the mount at {} ended: {e}", args.mountpoint.display()))
}

/// The tree of the HDF5 file at `path`, read through HDF5 (loaded now).
fn read_tree(path: &Path, debug: bool) -> Result<tree::Tree, String> {
    let t = std::time::Instant::now();
    crate::hdf5lib::load()?;
    crate::h5::quiet();
    let tree = build::build(path)?;
    if debug {
        log(&format!(
            "tree of {} nodes ({} files from the index) built in {:?}",
            tree.nodes.len(),
            tree.from_index,
            t.elapsed()
        ));
        log(&format!("memory after the tree: {}", memory()));
    }
    Ok(tree)
}

/// Reads the sealed pack at `path` from its image; if the image turns out damaged, through
/// HDF5 (its notes go to the log).
fn later(pack: sealed::Sealed, path: PathBuf, debug: bool) -> fs::Load {
    Box::new(move || {
        let t = std::time::Instant::now();
        match pack.tree() {
            Ok(tree) => {
                if debug {
                    log(&format!("tree of {} nodes read from the image in {:?}", tree.nodes.len(), t.elapsed()));
                    log(&format!("memory after the tree: {}", memory()));
                }
                Ok(tree)
            }
            Err(why) => {
                log(&format!("{}: {why}; reading it through HDF5", path.display()));
                // The file checked and locked, not whatever the name leads to now.
                let tree = read_tree(&pack.own_path(), debug)?;
                tree.notes.iter().for_each(|n| log(n));
                Ok(tree)
            }
        }
    })
}

/// Detaches the mount at `dir` even though it is busy (`umount -l`): directly as root, else
/// with `fusermount3 -u -z`. Whether it worked.
fn detach(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else { return false };
    // SAFETY: a NUL-terminated path; a plain system call.
    if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } == 0 {
        return true;
    }
    std::process::Command::new("fusermount3").arg("-u").arg("-z").arg(dir).status().is_ok_and(|s| s.success())
}

/// Raises the limit of open files to the most allowed: a split layout keeps a file (and HDF5
/// another) open per split file.
fn raise_open_files_limit() {
    // SAFETY: reads and sets this process's limit through valid pointers.
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// This process's peak and current resident memory (for `DSET_SPLIT_MOUNT_DEBUG`).
fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |k: &str| {
        status.lines().find(|l| l.starts_with(k)).map(|l| l[k.len()..].trim().to_string()).unwrap_or_default()
    };
    // SAFETY: a plain libc query.
    let heap = unsafe { libc::mallinfo2() };
    format!(
        "peak {}, now {} ({} anonymous; heap {} kB in use, {} kB free)",
        field("VmHWM:"),
        field("VmRSS:"),
        field("RssAnon:"),
        heap.uordblks / 1024,
        heap.fordblks / 1024
    )
}

/// Refuses a mount point that is missing, not an empty folder, or already mounted on.
fn check_mountpoint(dir: &Path) -> Result<(), String> {
    let meta = std::fs::metadata(dir).map_err(|e| format!("mount point {}: {e}", dir.display()))?;
    if !meta.is_dir() {
        return Err(format!("mount point {} is not a folder", dir.display()));
    }
    let parent = std::fs::metadata(dir.join("..")).map_err(|e| format!("mount point {}: {e}", dir.display()))?;
    if parent.dev() != meta.dev() || parent.ino() == meta.ino() {
        return Err(format!(
            "{} is already a mount point (unmount it first: fusermount3 -u {})",
            dir.display(),
            dir.display()
        ));
    }
    let mut entries = std::fs::read_dir(dir).map_err(|e| format!("mount point {}: {e}", dir.display()))?;
    if entries.next().is_some() {
        return Err(format!("mount point {} is not empty", dir.display()));
    }
    Ok(())
}

/// Blocks SIGINT, SIGTERM and SIGHUP in this thread and the threads it starts; returns them as
/// a set for `sigwait`.
fn block_signals() -> libc::sigset_t {
    // SAFETY: zeroed is a valid `sigset_t`, initialised by `sigemptyset`; the signals are valid.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, sig);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

/// Goes on in a child process in a new session, its standard streams on /dev/null (stderr on
/// the log file if there is one), while the command returns: the mount is already in place.
fn daemonize(log: Option<std::fs::File>) -> Result<(), String> {
    use std::os::fd::AsRawFd;
    let null =
        std::fs::OpenOptions::new().read(true).write(true).open("/dev/null").map_err(|e| format!("/dev/null: {e}"))?;
    // SAFETY: no other thread runs yet (the session starts its threads later), so the child
    // is a copy of this single thread. The parent leaves with `_exit`, which skips destructors
    // (the session's would unmount).
    unsafe {
        match libc::fork() {
            -1 => return Err(format!("cannot start the background process: {}", std::io::Error::last_os_error())),
            0 => {}
            _ => libc::_exit(0),
        }
        libc::setsid();
        let err = log.as_ref().map_or(null.as_raw_fd(), |f| f.as_raw_fd());
        libc::dup2(null.as_raw_fd(), 0);
        libc::dup2(null.as_raw_fd(), 1);
        libc::dup2(err, 2);
        let _ = libc::chdir(c"/".as_ptr());
    }
    Ok(())
}
