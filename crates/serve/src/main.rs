//! `dset-split-serve`: the server behind `dset-split mount` of a sealed pack. `mount` checks
//! the pack's seal, mounts the file system and starts this program with the mount's
//! `/dev/fuse` descriptor and the pack open (and locked); it checks every byte of the tree
//! image (and opens, locks and checks the packs of the folders packed on their own, which the
//! image names), then answers the kernel from the images and the packs, with nothing of the
//! tree in memory. A small program of its own (no HDF5, no command-line parser), so a mount costs
//! little memory. When the image turns out damaged, it hands the mount to `dset-split mount`,
//! which reads the pack through HDF5. SIGINT, SIGTERM, SIGHUP and SIGQUIT unmount; so do
//! `fusermount3 -u` and `umount`.
//!
//! Not for running by hand: `dset-split-serve --fuse-fd N --pack-fd M --command DSET_SPLIT
//! [--allow-other] PACK MOUNTPOINT` (the mount point last: `pgrep -f " MOUNTPOINT$"` finds it).

mod abi;
mod serve;
mod splice;

use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use packfs::image::{self, View};

/// Writes a line to the log: stderr (the `--log` file of `dset-split mount`, or nowhere in the
/// background). A closed stderr is no reason to stop serving.
pub fn log(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "dset-split mount: {msg}");
}

#[derive(Debug)]
struct Args {
    fuse: File,
    pack: File,
    command: PathBuf,
    allow_other: bool,
    /// The mount's device number: what is unmounted (not another mount at the same place).
    device: Option<packfs::kernel::Device>,
    path: PathBuf,
    mountpoint: PathBuf,
}

fn args() -> Result<Args, String> {
    let mut it = std::env::args_os().skip(1);
    let (mut fuse, mut pack, mut command, mut allow_other, mut rest) = (None, None, None, false, Vec::new());
    let mut device = None;
    let fd = |v: Option<std::ffi::OsString>| -> Result<i32, String> {
        v.and_then(|v| v.to_str()?.parse().ok()).filter(|&n| n > 2).ok_or_else(|| "a descriptor number".to_string())
    };
    while let Some(a) = it.next() {
        match a.to_str() {
            Some("--fuse-fd") => fuse = Some(fd(it.next())?),
            Some("--pack-fd") => pack = Some(fd(it.next())?),
            Some("--command") => command = it.next().map(PathBuf::from),
            Some("--allow-other") => allow_other = true,
            Some("--device") => device = it.next().and_then(|d| packfs::kernel::parse_device(d.to_str()?)),
            _ => rest.push(PathBuf::from(a)),
        }
    }
    let (Some(fuse), Some(pack), Some(command), [path, mountpoint]) = (fuse, pack, command, &rest[..]) else {
        return Err("this program is started by `dset-split mount`, not by hand".into());
    };
    // SAFETY: `dset-split mount` passes these descriptors open, for this program to own; it
    // keeps no copy. A wrong number fails the checks below (fstat of the pack, the handshake).
    let (fuse, pack) = unsafe { (File::from_raw_fd(fuse), File::from_raw_fd(pack)) };
    Ok(Args { fuse, pack, command, allow_other, device, path: path.clone(), mountpoint: mountpoint.clone() })
}

fn main() {
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            log(&e);
            std::process::exit(2);
        }
    };
    let debug = std::env::var_os("DSET_SPLIT_MOUNT_DEBUG").is_some();
    let t = std::time::Instant::now();
    // One descriptor per folder's pack (`pack --split-dirs`).
    packfs::file::raise_open_files_limit();
    let checked = checked(&args.pack).and_then(|layout| {
        let parts = if layout.parts > 0 { parts(&args, &layout)? } else { Vec::new() };
        Ok((layout, parts))
    });
    let (layout, parts) = match checked {
        Ok(found) => found,
        Err(why) => {
            log(&format!("{}: {why}; reading it through HDF5", args.path.display()));
            let e = hand_over(&args);
            log(&format!("cannot start {}: {e}", args.command.display()));
            unmount(&args);
            std::process::exit(1);
        }
    };
    if debug {
        let packs = if parts.is_empty() { String::new() } else { format!(", with {} folders' packs,", parts.len()) };
        log(&format!("tree image of {} nodes{packs} checked in {:?}", layout.head.nodes, t.elapsed()));
    }
    // (Blocked already by `dset-split mount`, across the exec.)
    let signals = packfs::exec::block_signals();
    let no_open = match serve::Server::handshake(&args.fuse) {
        Ok(n) => n,
        Err(e) => fail(&args, &format!("the kernel's handshake failed: {e}")),
    };
    let mut views = vec![View { layout, bytes: &args.pack }];
    views.extend(parts.iter().map(|p| View { layout: p.layout.clone(), bytes: &p.file }));
    let server = serve::Server {
        bases: serve::bases(&views),
        views,
        parts: parts.iter().map(|p| p.link).collect(),
        fuse: &args.fuse,
        no_open,
        changed: Default::default(),
    };
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 8);
    std::thread::scope(|s| {
        for _ in 0..threads {
            std::thread::Builder::new()
                .stack_size(64 << 10)
                .spawn_scoped(s, || match server.run() {
                    // Unmounted (by a signal below, fusermount3 -u or umount): done.
                    Ok(()) => std::process::exit(0),
                    Err(e) => fail(&args, &format!("reading the kernel's requests failed: {e}")),
                })
                .unwrap_or_else(|e| fail(&args, &format!("cannot start a thread: {e}")));
        }
        if !packfs::kernel::unmount_on_signal(&args.mountpoint, args.device, &signals, &log) {
            // Told twice: stop now, the serving threads still waiting for requests.
            // SAFETY: ends the process; nothing of it needs to run first.
            unsafe { libc::_exit(0) };
        }
        // Unmounted: the serving threads see the end of the session and end the process.
    });
}

/// The image's layout once every byte of it is checked, and the pack is still as sealed.
fn checked(pack: &File) -> Result<image::Layout, String> {
    let mut head = [0u8; image::HEAD_LEN];
    std::os::unix::fs::FileExt::read_exact_at(pack, &mut head, 0).map_err(|e| e.to_string())?;
    let head = image::head(&head).ok_or("the pack's tree image is damaged (head)")?;
    let holds = || pack.metadata().map_err(|e| e.to_string()).map(|m| head.seal.holds(&m));
    if !holds()? {
        return Err("the pack was changed while it was being mounted".into());
    }
    // The HDF5 part as sealed (the superblock holds the end-of-file address and where the root
    // group is: a pack rewritten to the same size and time has another).
    let mut superblock = [0u8; image::SUPERBLOCK_LEN];
    let n = packfs::file::read_at(pack, &mut superblock, head.seal.base).map_err(|e| e.to_string())?;
    let sealed = &head.seal.superblock;
    if head.len > head.seal.base
        || superblock[..n] != sealed[..n.min(sealed.len())]
        || !superblock.starts_with(image::SIGNATURE)
    {
        return Err("its superblock is not the one sealed".into());
    }
    let layout = image::check(head.len, pack)?;
    if layout.head != head || !holds()? {
        return Err("the pack was changed while it was being mounted".into());
    }
    Ok(layout)
}

/// The pack of a folder packed on its own, open, locked and checked.
struct Part {
    file: File,
    layout: image::Layout,
    link: serve::PartLink,
}

/// The packs of the folders the pack's image (of `layout`) names as packed on their own, in
/// node order, each checked as the pack is (`checked`). Their paths are relative to the pack's
/// folder, as its links name them; a path that climbs out (`..`) or a pack that itself names
/// folders' packs is refused.
fn parts(args: &Args, layout: &image::Layout) -> Result<Vec<Part>, String> {
    let view = View { layout: layout.clone(), bytes: &args.pack };
    let dir = args.path.parent().unwrap_or(std::path::Path::new("/"));
    let mut parts = Vec::new();
    for node in 1..=u64::from(layout.head.nodes) {
        let rec = view.node(node).map_err(|e| e.to_string())?.ok_or("the pack's tree image is damaged")?;
        let image::Kind::Part { start, len } = rec.kind else { continue };
        let name = view.target(start, len).map_err(|e| e.to_string())?;
        let path = part_path(dir, &name).ok_or_else(|| {
            format!("the pack names a folder's pack outside its folder: {}", String::from_utf8_lossy(&name))
        })?;
        let file = packfs::file::open_regular(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        // SAFETY: an open descriptor; a shared lock, as HDF5 takes to read, not waited for.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) } != 0 {
            return Err(format!("{}: an HDF5 program has it open for writing", path.display()));
        }
        let part = checked(&file).map_err(|why| format!("{}: {why}", path.display()))?;
        if part.parts > 0 {
            return Err(format!("{}: a folder's pack that names folders' packs itself", path.display()));
        }
        let link = serve::PartLink { node: node as u32, parent: rec.parent };
        parts.push(Part { file, layout: part, link });
    }
    Ok(parts)
}

/// Where the pack in the folder `dir` finds the folder's pack its image names `name`: below
/// `dir`, never above it or elsewhere (no `..`, no absolute path, no folder on the way that is
/// a symbolic link: as `unpack` finds it; the pack itself may be one, into a DVC or git-annex
/// cache).
fn part_path(dir: &std::path::Path, name: &[u8]) -> Option<PathBuf> {
    let name = std::path::Path::new(OsStr::from_bytes(name));
    let plain = name.components().all(|c| matches!(c, std::path::Component::Normal(_)));
    if !plain || name.as_os_str().is_empty() {
        return None;
    }
    let mut at = dir.to_path_buf();
    let mut steps = name.components().peekable();
    while let Some(step) = steps.next() {
        at.push(step);
        let real_dir = || std::fs::symlink_metadata(&at).is_ok_and(|m| m.is_dir());
        if steps.peek().is_some() && !real_dir() {
            return None;
        }
    }
    Some(at)
}

/// Becomes `dset-split mount --fuse-fd N`, which serves the mount from the pack read through
/// HDF5 (before the kernel's handshake, which it then makes). Returns only on failure.
fn hand_over(args: &Args) -> std::io::Error {
    let fuse = args.fuse.as_raw_fd().to_string();
    // By its name (HDF5 finds the packs its links name beside it), which `dset-split mount`
    // opens, locks and reads anew: whatever it leads to now is what is mounted.
    let pack = args.path.as_os_str();
    let device = args.device.map(packfs::kernel::device_arg);
    let mut argv = vec![args.command.as_os_str(), OsStr::new("mount"), OsStr::new("--fuse-fd"), OsStr::new(&fuse)];
    if let Some(d) = &device {
        argv.extend([OsStr::new("--fuse-device"), OsStr::new(d)]);
    }
    if args.allow_other {
        argv.push(OsStr::new("--allow-other"));
    }
    argv.extend([pack, args.mountpoint.as_os_str()]);
    packfs::exec::exec(args.command.as_os_str(), &argv)
}

/// Logs `why`, unmounts and leaves.
fn fail(args: &Args, why: &str) -> ! {
    log(why);
    unmount(args);
    std::process::exit(1)
}

fn unmount(args: &Args) {
    if let Err(e) = packfs::kernel::unmount(&args.mountpoint, args.device, true) {
        log(&format!("cannot unmount {}: {e}", args.mountpoint.display()));
    }
}

#[cfg(test)]
mod tests {
    use super::part_path;

    #[test]
    fn a_folders_pack_is_found_below_the_packs_folder_only() {
        let dir = std::env::temp_dir().join(format!("dset-split-serve-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("run-split/b%2E")).unwrap();
        let _ = std::os::unix::fs::symlink("run-split", dir.join("linked"));
        assert_eq!(part_path(&dir, b"run-split/a.h5").unwrap(), dir.join("run-split/a.h5"));
        assert_eq!(part_path(&dir, b"run-split/b%2E/c d.h5").unwrap(), dir.join("run-split/b%2E/c d.h5"));
        // No folder on the way may be a symbolic link, or missing; the pack itself may be one.
        for bad in [&b"../x.h5"[..], b"run-split/../../x.h5", b"/etc/x.h5", b"", b"./x", b"linked/a.h5", b"gone/a.h5"] {
            assert_eq!(part_path(&dir, bad), None, "{}", String::from_utf8_lossy(bad));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
