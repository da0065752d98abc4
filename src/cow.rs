//! Copy-on-write for files that are links into a cache (DVC's `hardlink`/`symlink` cache modes,
//! git-annex, any hard-linked file): before HDF5 opens such a file for writing, the link is
//! replaced by a private copy of its content, as `dvc unprotect` does, so that writing can never
//! modify the cache (as root, read-only permissions would not stop it).

use std::path::Path;

use crate::error::{Error, Result};
use crate::trace;

/// Whether `path` is a symbolic link or a regular file with other hard links.
pub fn is_shared(path: &Path) -> std::io::Result<bool> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() {
        return Ok(true);
    }
    use std::os::unix::fs::MetadataExt;
    Ok(meta.is_file() && meta.nlink() > 1)
}

/// Before `path` is opened for writing: if it is a link (symbolic, or a hard link shared with
/// another name), replaces it with a private, writable copy of its content. Missing files and
/// ordinary files are left alone. The copy is made under a new, unpredictable name next to it,
/// created exclusively (nothing planted there is ever followed), and renamed over the link.
pub fn own_copy(path: &Path) -> Result<()> {
    match is_shared(path) {
        Ok(true) => {}
        Ok(false) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::library(format!("cannot inspect {}: {e}", path.display()))),
    }
    let fail = |e: std::io::Error| {
        Error::library(format!(
            "{} is a link into a cache (e.g. DVC's hardlink/symlink mode) and could not be replaced by a \
             private copy before writing: {e}; run `dvc unprotect {}` and retry",
            path.display(),
            path.display()
        ))
    };
    let mut tmp = crate::confine::temp_beside(path).map_err(fail)?;
    let mut source = std::fs::File::open(path).map_err(fail)?;
    std::io::copy(&mut source, tmp.as_file_mut()).map_err(fail)?;
    let mode = source.metadata().map_err(fail)?.permissions().mode();
    use std::os::unix::fs::PermissionsExt;
    tmp.as_file().set_permissions(std::fs::Permissions::from_mode((mode | 0o200) & 0o7777)).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    trace!("{} was a link into a cache: replaced by a private copy before writing", path.display());
    Ok(())
}

/// Before `path` is created or truncated: if it is a link, removes the link (the content is about
/// to be replaced anyway; truncating through the link would empty the cache's file).
pub fn unlink_shared(path: &Path) -> Result<()> {
    match is_shared(path) {
        Ok(true) => std::fs::remove_file(path)
            .map_err(|e| Error::library(format!("cannot remove the link {} before writing: {e}", path.display()))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_become_private_copies_and_the_cache_is_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        std::fs::write(&cache, b"cached content").unwrap();
        let mut perms = std::fs::metadata(&cache).unwrap().permissions();
        perms.set_readonly(true);
        std::fs::set_permissions(&cache, perms).unwrap();
        let (hard, soft) = (dir.path().join("hard"), dir.path().join("soft"));
        std::fs::hard_link(&cache, &hard).unwrap();
        std::os::unix::fs::symlink(&cache, &soft).unwrap();
        for link in [&hard, &soft] {
            own_copy(link).unwrap();
            assert!(!is_shared(link).unwrap(), "{} is still a link", link.display());
            std::fs::write(link, b"changed").unwrap(); // writable now
            assert_eq!(std::fs::read(&cache).unwrap(), b"cached content");
        }
        own_copy(&dir.path().join("missing")).unwrap();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, b"x").unwrap();
        own_copy(&plain).unwrap();
        assert_eq!(std::fs::read(&plain).unwrap(), b"x");
        std::fs::hard_link(&cache, hard.with_extension("2")).unwrap();
        unlink_shared(&hard.with_extension("2")).unwrap();
        assert!(!hard.with_extension("2").exists());
        assert_eq!(std::fs::read(&cache).unwrap(), b"cached content");
    }
}
