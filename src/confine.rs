//! What the connector and the command may touch on disk: only a main file's split folder when it
//! is provably that main file's, and only below it without passing through a symbolic link.
//! Temporary files are created exclusively, under unpredictable names, next to their target.
//! No FFI: plain file-system calls, shared by the connector and every `dset-split` subcommand.
//!
//! The rules (README, "Safety rules"):
//! - a split folder is ours when it is a real directory (not a symbolic link) holding a regular
//!   file `.dset-split` (not a symbolic link) that names the main file;
//! - nothing below it is written, moved or removed through a directory that is a symbolic link;
//! - a temporary file never reuses an existing name (exclusive create, no link followed).

use std::io;
use std::path::{Path, PathBuf};

use crate::layout::OWNER_FILE;

/// Whose a split folder is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// It does not exist.
    Missing,
    /// A real directory whose owner file names this main file.
    Ours,
    /// A real directory without an owner file: the connector never made it (or made nothing in
    /// it yet).
    Unclaimed,
    /// Claimed by another main file (the name in its owner file).
    Other(String),
    /// Not a place the connector may touch: why.
    Unsafe(String),
}

impl Owner {
    /// A sentence for error messages, for the states that forbid touching the folder.
    pub fn refusal(&self, folder: &Path) -> Option<String> {
        match self {
            Owner::Ours => None,
            Owner::Missing => Some(format!("{} does not exist", folder.display())),
            Owner::Unclaimed => Some(format!(
                "{} has no {OWNER_FILE} file naming its main file, so it was not made by dset-split",
                folder.display()
            )),
            Owner::Other(main) => {
                Some(format!("{} belongs to {main} (its {OWNER_FILE} file says so)", folder.display()))
            }
            Owner::Unsafe(why) => Some(why.clone()),
        }
    }
}

/// Whose the split folder `folder` is, for the main file named `main_name` (its file name).
pub fn owner(folder: &Path, main_name: &str) -> Owner {
    match std::fs::symlink_metadata(folder) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Owner::Missing,
        Err(e) => return Owner::Unsafe(format!("cannot inspect {}: {e}", folder.display())),
        Ok(m) if m.file_type().is_symlink() => {
            return Owner::Unsafe(format!(
                "{} is a symbolic link: dset-split never writes or removes through one",
                folder.display()
            ));
        }
        Ok(m) if !m.is_dir() => {
            return Owner::Unsafe(format!("{} is in the way and is not a directory", folder.display()));
        }
        Ok(_) => {}
    }
    let file = folder.join(OWNER_FILE);
    // It may be a symbolic link into a cache (DVC's symlink mode tracks it with the folder): it
    // is read through, never written through.
    match (std::fs::symlink_metadata(&file), std::fs::metadata(&file)) {
        (Err(e), _) if e.kind() == io::ErrorKind::NotFound => return Owner::Unclaimed,
        (Err(e), _) => return Owner::Unsafe(format!("cannot inspect {}: {e}", file.display())),
        (Ok(_), Err(e)) => {
            return Owner::Unsafe(format!(
                "{} is a symbolic link to nothing readable ({e}): pull it (e.g. dvc pull) or remove it",
                file.display()
            ));
        }
        (Ok(_), Ok(m)) if !m.is_file() => {
            return Owner::Unsafe(format!("{} is not a regular file", file.display()));
        }
        _ => {}
    }
    match std::fs::read_to_string(&file) {
        Ok(text) if text.strip_suffix('\n') == Some(main_name) => Owner::Ours,
        Ok(text) => Owner::Other(text.strip_suffix('\n').unwrap_or(&text).to_string()),
        Err(e) => Owner::Unsafe(format!("cannot read {}: {e}", file.display())),
    }
}

/// Writes the owner file of `folder` naming `main_name`, exclusively (an existing name, also a
/// dangling symbolic link, is never followed or replaced). `Ok(false)`: it already names it.
pub fn claim(folder: &Path, main_name: &str) -> io::Result<bool> {
    use std::io::Write;
    let file = folder.join(OWNER_FILE);
    match create_new(&file) {
        Ok(mut f) => {
            let written = f.write_all(format!("{main_name}\n").as_bytes()).and_then(|()| f.sync_all());
            if let Err(e) = written {
                let _ = std::fs::remove_file(&file);
                return Err(e);
            }
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && owner(folder, main_name) == Owner::Ours => Ok(false),
        Err(e) => Err(e),
    }
}

/// Opens a new file for writing, failing if anything (a file, a directory, a symbolic link,
/// dangling or not) has the name.
pub fn create_new(path: &Path) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create_new(true).custom_flags(libc::O_NOFOLLOW).mode(0o644).open(path)
}

/// Renames `from` to `to` only if nothing has the name `to` (no existing file is ever replaced):
/// `renameat2(RENAME_NOREPLACE)`, or where the file system lacks it, a hard link then unlink.
pub fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let (f, t) =
        (std::ffi::CString::new(from.as_os_str().as_bytes())?, std::ffi::CString::new(to.as_os_str().as_bytes())?);
    // SAFETY: two NUL-terminated paths, relative to the working directory.
    let rc = unsafe { libc::renameat2(libc::AT_FDCWD, f.as_ptr(), libc::AT_FDCWD, t.as_ptr(), libc::RENAME_NOREPLACE) };
    if rc == 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EINVAL) | Some(libc::ENOSYS) => {
            std::fs::hard_link(from, to).and_then(|()| std::fs::remove_file(from))
        }
        _ => Err(e),
    }
}

/// `root` joined with the `/`-separated `relative`, checked to pass through no symbolic link and
/// to stay below `root` (no `..`, no absolute part): the directories on the way are real
/// directories or do not exist yet. The last component itself may be anything (a split file may
/// be a symbolic link into a cache: removing or replacing it touches only the link).
pub fn below(root: &Path, relative: &str) -> Result<PathBuf, String> {
    let parts: Vec<&str> = relative.split('/').collect();
    if parts.iter().any(|p| p.is_empty() || *p == "." || *p == "..") {
        return Err(format!("{relative} is not a plain path below {}", root.display()));
    }
    let mut path = root.to_path_buf();
    let mut checked = vec![root.to_path_buf()];
    for p in &parts[..parts.len() - 1] {
        path.push(p);
        checked.push(path.clone());
    }
    for dir in checked {
        match std::fs::symlink_metadata(&dir) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(format!(
                    "{} is a symbolic link: dset-split never writes, moves or removes through one",
                    dir.display()
                ));
            }
            Ok(m) if !m.is_dir() => return Err(format!("{} is not a directory", dir.display())),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => break, // nothing below exists either
            Err(e) => return Err(format!("cannot inspect {}: {e}", dir.display())),
        }
    }
    path.push(parts[parts.len() - 1]);
    Ok(path)
}

/// A new temporary file next to `target` (same directory, so it can be renamed over it), created
/// exclusively under an unpredictable name starting with `.<target's name>.`.
pub fn temp_beside(target: &Path) -> io::Result<tempfile::NamedTempFile> {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    tempfile::Builder::new().prefix(&format!(".{name}.")).suffix(".dset-split-tmp").tempfile_in(dir)
}

/// How many random characters temporary names carry.
pub const RANDOM_LEN: usize = 6;

/// A new private directory next to `target` (mode 0700, exclusive, unpredictable name): a place
/// where a program that creates files by name (HDF5) can make a work file no one else can plant
/// anything at.
pub fn temp_dir_beside(target: &Path) -> io::Result<tempfile::TempDir> {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".dset-split-work")
        .rand_bytes(RANDOM_LEN)
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir_in(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_ours_only_when_provably_so() {
        let d = tempfile::tempdir().unwrap();
        let folder = d.path().join("run-split");
        assert_eq!(owner(&folder, "run.h5"), Owner::Missing);
        std::fs::create_dir(&folder).unwrap();
        assert_eq!(owner(&folder, "run.h5"), Owner::Unclaimed);
        assert!(claim(&folder, "run.h5").unwrap());
        assert!(!claim(&folder, "run.h5").unwrap());
        assert_eq!(owner(&folder, "run.h5"), Owner::Ours);
        assert_eq!(owner(&folder, "run.nc"), Owner::Other("run.h5".into()));
        assert!(claim(&folder, "run.nc").is_err());
        // A folder reached through a symbolic link is never ours.
        let link = d.path().join("link-split");
        std::os::unix::fs::symlink(&folder, &link).unwrap();
        assert!(matches!(owner(&link, "run.h5"), Owner::Unsafe(_)));
    }

    #[test]
    fn a_dangling_owner_link_is_not_followed() {
        let d = tempfile::tempdir().unwrap();
        let folder = d.path().join("run-split");
        std::fs::create_dir(&folder).unwrap();
        let victim = d.path().join("victim");
        std::os::unix::fs::symlink(&victim, folder.join(OWNER_FILE)).unwrap();
        assert!(matches!(owner(&folder, "run.h5"), Owner::Unsafe(_)));
        assert!(claim(&folder, "run.h5").is_err());
        assert!(!victim.exists());
        // A link to an owner file (DVC's symlink cache mode) is read through.
        std::fs::write(&victim, "run.h5\n").unwrap();
        assert_eq!(owner(&folder, "run.h5"), Owner::Ours);
        assert!(!claim(&folder, "run.h5").unwrap());
    }

    #[test]
    fn paths_below_pass_through_no_symbolic_link() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("run-split");
        std::fs::create_dir_all(root.join("g")).unwrap();
        let outside = d.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("evil")).unwrap();
        assert_eq!(below(&root, "g/x.h5").unwrap(), root.join("g/x.h5"));
        assert_eq!(below(&root, "new/deeper/x.h5").unwrap(), root.join("new/deeper/x.h5"));
        assert!(below(&root, "evil/x.h5").is_err());
        assert!(below(&root, "evil/deeper/x.h5").is_err());
        assert!(below(&root, "../x.h5").is_err());
        assert!(below(&root, "g//x.h5").is_err());
        // The last component may be a link (into a cache): only the link is touched.
        assert!(below(&root, "evil").is_ok());
        let linked_root = d.path().join("linked-split");
        std::os::unix::fs::symlink(&root, &linked_root).unwrap();
        assert!(below(&linked_root, "g/x.h5").is_err());
    }

    #[test]
    fn temporary_names_are_exclusive_and_unpredictable() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("run.h5");
        let a = temp_beside(&target).unwrap();
        let b = temp_beside(&target).unwrap();
        assert_ne!(a.path(), b.path());
        assert!(a.path().file_name().unwrap().to_string_lossy().starts_with(".run.h5."));
        let w = temp_dir_beside(&target).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(w.path()).unwrap().permissions().mode() & 0o777, 0o700);
        let victim = d.path().join("victim");
        std::os::unix::fs::symlink(&victim, d.path().join("planted")).unwrap();
        assert!(create_new(&d.path().join("planted")).is_err());
        assert!(!victim.exists());
        // Renaming never replaces.
        std::fs::write(d.path().join("a"), b"a").unwrap();
        std::fs::write(d.path().join("b"), b"b").unwrap();
        assert!(rename_noreplace(&d.path().join("a"), &d.path().join("b")).is_err());
        assert!(rename_noreplace(&d.path().join("a"), &d.path().join("planted")).is_err());
        rename_noreplace(&d.path().join("a"), &d.path().join("c")).unwrap();
        assert_eq!(std::fs::read(d.path().join("c")).unwrap(), b"a");
    }
}
