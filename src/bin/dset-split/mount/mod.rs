//! `dset-split mount FILE MOUNTPOINT`: any HDF5 file as a read-only folder through FUSE (a pack
//! shows the packed folder). Mounts in the foreground process, so every error is reported
//! before the command returns; then, unless `--foreground`, serves from a background process.
//! SIGINT, SIGTERM, SIGHUP and SIGQUIT unmount cleanly; so do `fusermount3 -u` and `umount`.
//!
//! A sealed pack (`sealed`) is served by `dset-split-serve`, a small program of its own that
//! answers from the pack's tree image without HDF5 and without the tree in memory. It checks
//! every byte of the image before it answers the kernel's first request; when the image is
//! damaged it hands the mount back to this command (`--fuse-fd`), which reads the pack through
//! HDF5; when that fails too, requests fail with EIO and the log says why. Anything else is
//! read through HDF5 here, and served with the `fuser` crate (`fs`).

mod attrs;
mod build;
mod fs;
mod image;
mod npy;
mod read;
mod sealed;
mod tree;
mod types;

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
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
    /// Serve a mount already in place from this `/dev/fuse` descriptor: how `dset-split-serve`
    /// hands over a pack whose tree image is damaged (FILE is then the pack it has open)
    #[arg(long, hide = true, value_name = "FD")]
    fuse_fd: Option<i32>,
    /// With `--fuse-fd`: the mount's device number, MAJOR:MINOR (what is unmounted on a signal)
    #[arg(long, hide = true, value_name = "DEVICE")]
    fuse_device: Option<String>,
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
    if let Some(fd) = args.fuse_fd {
        return take_over(args, fd);
    }
    check_mountpoint(&args.mountpoint)?;
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
    // Absolute: the background process, which leaves the working directory, names it in its log.
    let file = std::path::absolute(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?;
    match (sealed::check(&file), server()) {
        (Ok(pack), Ok(programs)) => return start_server(args, &programs, pack, &file, &mountpoint, log_file),
        (Ok(_), Err(why)) => log(&format!("{why}; reading the pack through HDF5")),
        (Err(Some(why)), _) if debug => log(&format!("the tree image is not used: {why}")),
        (Err(_), _) => {}
    }
    packfs::file::raise_open_files_limit();
    // Large buffers (the tree's arrays, HDF5's while the tree is read) are mapped on their own
    // and given back whole when freed, instead of leaving holes in the heap that the background
    // process would inherit.
    // SAFETY: a plain libc setting, before any thread starts.
    unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 64 << 10) };
    if debug {
        log(&format!("memory before the tree: {}", memory()));
    }
    let tree = read_tree(&file, debug)?;
    for note in &tree.notes {
        log(note);
        if let Some(mut f) = log_file.as_ref() {
            use std::io::Write;
            let _ = writeln!(f, "dset-split mount: {note}");
        }
    }
    // From the mount on, a signal waits for the signal thread, which unmounts.
    packfs::exec::block_signals();
    let fuse = mount_fuse(args, &file, &mountpoint)?;
    let daemon = if args.foreground { None } else { Some(log_file) };
    serve(fs::MountFs::new(tree), fuse, &mountpoint, args.allow_other, daemon)
}

/// Mounts an empty FUSE file system at `mountpoint` for `file` (absolute: the mount table
/// shows it).
fn mount_fuse(args: &Args, file: &Path, mountpoint: &Path) -> Result<packfs::kernel::Mounted, String> {
    packfs::kernel::mount(mountpoint, file.as_os_str(), args.allow_other).map_err(|e| {
        // SAFETY: a plain system call.
        let user = unsafe { libc::geteuid() } != 0;
        let hint = if user && e.kind() == std::io::ErrorKind::PermissionDenied {
            " (as a user, FUSE needs /dev/fuse open to users, mode 0666 as distributions ship it, and fusermount3 from the fuse3 package)"
        } else {
            ""
        };
        format!("cannot mount {} at {}: {e}{hint}", args.file.display(), args.mountpoint.display())
    })
}

/// Serves `filesystem` on the mount at `mountpoint` (its `/dev/fuse` descriptor `fuse`): the
/// kernel's handshake, then, with `daemon` (the log file, if any), in a background process,
/// until unmounted. Unmounts when it cannot.
fn serve(
    filesystem: fs::MountFs,
    fuse: packfs::kernel::Mounted,
    mountpoint: &Path,
    allow_other: bool,
    daemon: Option<Option<std::fs::File>>,
) -> Result<(), String> {
    let t = std::time::Instant::now();
    let mut config = fuser::Config::default();
    let acl = if allow_other { fuser::SessionACL::All } else { fuser::SessionACL::Owner };
    config.n_threads = Some(std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 8));
    config.clone_fd = true;
    // Signals are taken by one thread (below), not by the threads serving requests.
    let signals = packfs::exec::block_signals();
    let device = fuse.device;
    let undo = |why: String| {
        let _ = packfs::kernel::unmount(mountpoint, device, true);
        why
    };
    let session = fuser::Session::from_fd(filesystem, fuse.fd, acl, config)
        .map_err(|e| undo(format!("the mount at {} failed: {e}", mountpoint.display())))?;
    if std::env::var_os("DSET_SPLIT_MOUNT_DEBUG").is_some() {
        log(&format!("mounted after {:?}", t.elapsed()));
    }
    if let Some(log_file) = daemon {
        daemonize(log_file).map_err(undo)?;
    }
    let dir = mountpoint.to_path_buf();
    std::thread::spawn(move || {
        if !packfs::kernel::unmount_on_signal(&dir, device, &signals, &log) {
            // Told twice: stop now, without HDF5's exit handlers (the session's threads may be
            // in HDF5 calls).
            // SAFETY: ends the process; the files it reads were opened read-only.
            unsafe { libc::_exit(0) };
        }
        // Unmounted: the session sees its end, and `run` returns.
    });
    session.run().map_err(|e| format!("the mount at {} ended: {e}", mountpoint.display()))
}

/// This program and the server of sealed packs, `dset-split-serve`, next to it (installed
/// with it).
#[derive(Debug)]
struct Programs {
    command: PathBuf,
    server: PathBuf,
}

fn server() -> Result<Programs, String> {
    let command = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let server = command.with_file_name("dset-split-serve");
    let c = crate::h5::c_path(&server)?;
    // SAFETY: a NUL-terminated path; a plain system call.
    if !server.is_file() || unsafe { libc::access(c.as_ptr(), libc::X_OK) } != 0 {
        return Err(format!("{} is missing (it is installed with dset-split)", server.display()));
    }
    Ok(Programs { command, server })
}

/// Mounts the sealed `pack` (at `file`) and starts the server on it: in a background process,
/// or in place of this one with `--foreground`.
fn start_server(
    args: &Args,
    programs: &Programs,
    pack: sealed::Sealed,
    file: &Path,
    mountpoint: &Path,
    log_file: Option<std::fs::File>,
) -> Result<(), String> {
    use std::ffi::OsStr;
    let Programs { command, server } = programs;
    // From the mount on, a signal waits for the server's signal thread, which unmounts.
    packfs::exec::block_signals();
    let fuse = mount_fuse(args, file, mountpoint)?;
    let undo = |why: String| {
        let _ = packfs::kernel::unmount(mountpoint, fuse.device, true);
        why
    };
    // The server inherits these two and nothing else of whoever ran `mount` (a descriptor
    // passed on without close-on-exec would stay open as long as the mount).
    // SAFETY: plain system calls; the first marks descriptors, closing none.
    unsafe { libc::close_range(3, u32::MAX, libc::CLOSE_RANGE_CLOEXEC as libc::c_int) };
    for fd in [fuse.fd.as_raw_fd(), pack.fd.as_raw_fd()] {
        // SAFETY: a plain system call on a descriptor we own.
        unsafe { libc::fcntl(fd, libc::F_SETFD, 0) };
    }
    let (fuse_fd, pack_fd) = (fuse.fd.as_raw_fd().to_string(), pack.fd.as_raw_fd().to_string());
    let device = fuse.device.map(packfs::kernel::device_arg);
    let mut argv = vec![server.as_os_str(), OsStr::new("--fuse-fd"), OsStr::new(&fuse_fd)];
    if let Some(d) = &device {
        argv.extend([OsStr::new("--device"), OsStr::new(d)]);
    }
    argv.extend([OsStr::new("--pack-fd"), OsStr::new(&pack_fd), OsStr::new("--command"), command.as_os_str()]);
    if args.allow_other {
        argv.push(OsStr::new("--allow-other"));
    }
    // The mount point last: `pgrep -f " MOUNTPOINT$"` finds the server.
    argv.extend([file.as_os_str(), mountpoint.as_os_str()]);
    // In the background (unless `--foreground`), this process becomes the server: the command
    // returns without waiting for it to start (the first request waits instead).
    if !args.foreground {
        daemonize(log_file).map_err(undo)?;
    }
    Err(undo(format!("cannot start {}: {}", server.display(), packfs::exec::exec(server.as_os_str(), &argv))))
}

/// Serves the mount `dset-split-serve` hands over (its `/dev/fuse` descriptor `fd`) from the
/// pack read through HDF5 (its image was damaged, or a folder's pack it names is missing or
/// changed). This process is
/// already where it should be (in the background or not).
fn take_over(args: &Args, fd: i32) -> Result<(), String> {
    if fd <= 2 {
        return Err("--fuse-fd: not a FUSE descriptor".into());
    }
    // SAFETY: `dset-split-serve` passes the mount's descriptor open, for this process to own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let device = args.fuse_device.as_deref().and_then(packfs::kernel::parse_device);
    let fuse = packfs::kernel::Mounted { fd, device };
    // SAFETY: a plain system call on a descriptor we own.
    unsafe { libc::fcntl(fuse.fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    packfs::file::raise_open_files_limit();
    let debug = std::env::var_os("DSET_SPLIT_MOUNT_DEBUG").is_some();
    // Read before the kernel's handshake is answered (the mount waits for it): whether a file
    // is missing decides how files are opened. A tree that cannot be read is an empty one,
    // which answers EIO.
    let tree = read_tree(&args.file, debug).unwrap_or_else(|e| {
        log(&e);
        tree::Tree::default()
    });
    tree.notes.iter().for_each(|n| log(n));
    serve(fs::MountFs::new(tree), fuse, &args.mountpoint, args.allow_other, None)
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
