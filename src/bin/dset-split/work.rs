//! Where `split` and `merge` make their work files, and what a killed run leaves behind.
//!
//! Each run works in a private directory beside its output, `.<OUT's name>.<random>.dset-split-work`
//! (mode 0700, created exclusively by `dset_split::confine`): HDF5 creates files by name, and in
//! there no one can have planted a file or a symbolic link under that name. The result is renamed
//! over OUT at the end, so a symbolic link at OUT is replaced, never written through, and OUT ends
//! as a regular file. The directory goes with everything in it when the run ends, also on a
//! failure or an interrupt; only a run killed outright (SIGKILL, a crash, a power cut) leaves it,
//! and `check` reports such leftovers next to the main file, `gc` removes them.
//!
//! `pack` writes each pack into a work file beside it instead (`.<name>.packing-<pid>-<ns>`,
//! named here), renamed over it at the end.

use std::path::{Path, PathBuf};

/// The end of a work directory's name.
pub const SUFFIX: &str = ".dset-split-work";

/// A private work directory beside an output file; removed with its content when dropped.
#[derive(Debug)]
pub struct WorkDir(tempfile::TempDir);

impl WorkDir {
    /// A new work directory beside `out`.
    pub fn beside(out: &Path) -> Result<WorkDir, String> {
        dset_split::confine::temp_dir_beside(out)
            .map(WorkDir)
            .map_err(|e| format!("cannot create a work directory beside {}: {e}", out.display()))
    }

    /// The path of the work file `name` in it.
    pub fn file(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

/// A work directory (or file) left next to a main file by a run that was killed.
#[derive(Debug, Clone)]
pub struct Leftover {
    /// Its path, beside the main file as the user named it.
    pub path: PathBuf,
    /// The bytes in it.
    pub bytes: u64,
}

/// The leftover work directories and files of `split` or `merge` runs for `main` (their output):
/// `.<name>.<random>.dset-split-work` next to it. Symbolic links with such names are not ours.
pub fn leftovers(main: &Path) -> Vec<Leftover> {
    let name = main.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let prefix = format!(".{name}.");
    let dir = match main.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut found: Vec<Leftover> = entries
        .flatten()
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            // Exactly the random part `confine::temp_dir_beside` makes: a name such as
            // `.run.h5.bak.<random>.dset-split-work` (another output's) is not this one's.
            let middle = n.strip_prefix(&prefix).and_then(|m| m.strip_suffix(SUFFIX));
            middle.is_some_and(|m| {
                m.len() == dset_split::confine::RANDOM_LEN && m.bytes().all(|b| b.is_ascii_alphanumeric())
            })
        })
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir() || t.is_file()))
        .map(|e| {
            let path = main.with_file_name(e.file_name());
            Leftover { bytes: bytes_in(&path), path }
        })
        .collect();
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

/// Removes a leftover (a directory with everything in it; symbolic links in it are removed, not
/// followed).
pub fn remove(leftover: &Leftover) -> Result<(), String> {
    let p = &leftover.path;
    let meta = std::fs::symlink_metadata(p).map_err(|e| format!("cannot remove {}: {e}", p.display()))?;
    let done = if meta.is_dir() { std::fs::remove_dir_all(p) } else { std::fs::remove_file(p) };
    done.map_err(|e| format!("cannot remove {}: {e}", p.display()))
}

/// The bytes of the regular files in `path` (a file, or a directory and what is below it;
/// symbolic links are not followed).
fn bytes_in(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else { return 0 };
    if !meta.is_dir() {
        return if meta.is_file() { meta.len() } else { 0 };
    }
    let Ok(entries) = std::fs::read_dir(path) else { return 0 };
    entries.flatten().map(|e| bytes_in(&e.path())).sum()
}

/// Whether anything (also a symbolic link, dangling or not) has the name `path`.
pub fn taken(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// Whether `a` and `b` name the same existing file (however spelled).
pub fn same_file(a: &Path, b: &Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

/// Whether the file `path` would be created inside the directory `folder`, both resolved through
/// symbolic links (`path` itself need not exist, its directory must).
pub fn inside(path: &Path, folder: &Path) -> bool {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    matches!((dir.canonicalize(), folder.canonicalize()), (Ok(d), Ok(f)) if d.starts_with(&f))
}

/// Copies the file `from` to the new file `to` (created exclusively, with `from`'s permissions),
/// showing `what` and the bytes copied on a progress bar when `show`: the kernel copies the data
/// (`copy_file_range`, which shares the blocks on file systems that can), in pieces so that the
/// bar moves and an interrupt stops the copy.
pub fn copy_file(from: &Path, to: &Path, what: &str, show: bool) -> Result<(), String> {
    use std::os::fd::AsRawFd;
    let fail = |e: std::io::Error| format!("cannot copy {} to {}: {e}", from.display(), to.display());
    let mut src = std::fs::File::open(from).map_err(fail)?;
    let meta = src.metadata().map_err(fail)?;
    let mut dst = dset_split::confine::create_new(to).map_err(fail)?;
    dst.set_permissions(meta.permissions()).map_err(fail)?;
    let bar = crate::progress_bar(meta.len(), show);
    bar.set_message(what.to_string());
    let mut done = 0u64;
    while done < meta.len() {
        crate::interrupted()?;
        let piece = (meta.len() - done).min(256 << 20) as usize;
        // SAFETY: two open file descriptors and NULL offsets (the files' own positions advance).
        let n = unsafe {
            libc::copy_file_range(
                src.as_raw_fd(),
                std::ptr::null_mut(),
                dst.as_raw_fd(),
                std::ptr::null_mut(),
                piece,
                0,
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if done == 0
                && matches!(e.raw_os_error(), Some(libc::EXDEV | libc::ENOSYS | libc::EINVAL | libc::EOPNOTSUPP))
            {
                // Not between these file systems: the ordinary copy, from the start of both.
                bar.finish_and_clear();
                return std::io::copy(&mut src, &mut dst).map(|_| ()).map_err(fail);
            }
            return Err(fail(e));
        }
        if n == 0 {
            break; // the file shrank while being copied
        }
        done += n as u64;
        bar.set_position(done);
    }
    bar.finish_and_clear();
    Ok(())
}

/// The start of the names of the work files `pack` writes beside an output named `name` (`walk` leaves them out): the
/// name itself, or for a long one (a folder's pack can have 240 bytes) a hash of it, so that
/// the work file's name stays within the 255 bytes file systems allow.
pub fn pack_prefix(name: &std::ffi::OsStr) -> String {
    use std::os::unix::ffi::OsStrExt;
    if name.len() <= 200 {
        format!(".{}.packing-", name.to_string_lossy())
    } else {
        format!(".{:016x}.packing-", dset_split::layout::fnv1a(name.as_bytes()))
    }
}

/// The process that made the `pack` work file named `name` (`.NAME.packing-PID-NANOS`), if that is
/// one's name.
pub fn pack_work_pid(name: &[u8]) -> Option<u32> {
    let name = std::str::from_utf8(name).ok()?.strip_prefix('.')?;
    let (_, tail) = name.rsplit_once(".packing-")?;
    let (pid, nanos) = tail.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(pid) && digits(nanos)).then(|| pid.parse().ok()).flatten()
}

/// Whether the process `pid` is running (its work files are in use).
pub fn running(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let rc = unsafe { libc::kill(pid as libc::pid_t, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(test)]
mod tests {
    #[test]
    fn pack_work_files_are_named_and_recognised() {
        use std::ffi::OsStr;
        let short = super::pack_prefix(OsStr::new("p.h5"));
        assert_eq!(short, ".p.h5.packing-");
        assert_eq!(super::pack_work_pid(format!("{short}123-456").as_bytes()), Some(123));
        let long = "x".repeat(240);
        let prefix = super::pack_prefix(OsStr::new(&long));
        assert!(prefix.len() < 40, "{prefix}");
        assert_eq!(super::pack_work_pid(format!("{prefix}7-8").as_bytes()), Some(7));
        for other in [".p.h5.packing-", ".p.h5.packing-1-", "p.h5.packing-1-2", ".p.h5.packing-x-2", "imgs.h5"] {
            assert_eq!(super::pack_work_pid(other.as_bytes()), None, "{other}");
        }
    }

    use super::*;

    #[test]
    fn leftovers_are_the_work_directories_of_this_main_file_only() {
        let d = tempfile::tempdir().unwrap();
        let main = d.path().join("run.h5");
        let work = WorkDir::beside(&main).unwrap();
        std::fs::write(work.file("work.h5"), vec![0u8; 1000]).unwrap();
        let other = WorkDir::beside(&d.path().join("run.h5x")).unwrap();
        std::os::unix::fs::symlink(d.path(), d.path().join(".run.h5.planted.dset-split-work")).unwrap();
        std::fs::write(d.path().join(".run.h5.dset-split-work"), b"no random part").unwrap();
        std::fs::create_dir(d.path().join(".run.h5.bak.abc123.dset-split-work")).unwrap(); // another output's
        let found = leftovers(&main);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path, work.0.path());
        assert_eq!(found[0].bytes, 1000);
        remove(&found[0]).unwrap();
        assert!(!taken(work.0.path()) && taken(other.0.path()));
    }

    #[test]
    fn inside_resolves_symbolic_links() {
        let d = tempfile::tempdir().unwrap();
        let folder = d.path().join("run-split");
        std::fs::create_dir_all(folder.join("g")).unwrap();
        std::os::unix::fs::symlink(folder.join("g"), d.path().join("alias")).unwrap();
        assert!(inside(&folder.join("g/x.h5"), &folder));
        assert!(inside(&d.path().join("alias/x.h5"), &folder));
        assert!(!inside(&d.path().join("x.h5"), &folder));
    }
}
