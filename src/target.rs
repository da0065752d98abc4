//! External link targets, resolved the way HDF5 resolves them: the one place that says which file
//! a link of a main file leads to. Pure logic (no file-system access, no FFI), shared by the
//! connector and every `dset-split` subcommand, so that none of them can disagree about whether
//! two links reach the same split file.
//!
//! HDF5 looks a relative target up next to the file that holds the link (then, if that fails,
//! relative to the working directory: a fallback this project never relies on); an absolute
//! target is used as it is. `.` components, doubled slashes and `..` are taken lexically here:
//! inside a split folder no symbolic link is ever followed (see `crate::confine`), so lexical and
//! real paths agree there.

use std::path::{Component, Path, PathBuf};

/// The file the target `stored` (as written in the link) leads to, for a link held by a file in
/// the directory `main_dir` (absolute). The result is absolute and lexically normal (no `.`,
/// `..` or empty components) when `main_dir` is absolute.
pub fn resolve(main_dir: &Path, stored: &[u8]) -> PathBuf {
    let stored = Path::new(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(stored));
    normalize(&main_dir.join(stored)) // joining an absolute path replaces main_dir
}

/// `path` with `.` and empty components dropped and each `..` taking away the component before
/// it (never above the root).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() && !path.is_absolute() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The relative path that leads from the directory `dir` to `file` (both absolute and normal),
/// e.g. for a symbolic link placed in `dir`.
pub fn relative_from(dir: &Path, file: &Path) -> PathBuf {
    let (a, b): (Vec<_>, Vec<_>) = (dir.components().collect(), file.components().collect());
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..a.len() {
        out.push("..");
    }
    for c in &b[common..] {
        out.push(c.as_os_str());
    }
    out
}

/// The path below `split_dir` (with `/` separators, never empty) of the resolved target `file`,
/// when it lies inside that folder. Both are compared lexically; `split_dir` should be normal.
pub fn in_folder(split_dir: &Path, file: &Path) -> Option<String> {
    let rest = file.strip_prefix(split_dir).ok()?;
    let parts: Option<Vec<&str>> = rest.components().map(|c| c.as_os_str().to_str()).collect();
    parts.filter(|p| !p.is_empty()).map(|p| p.join("/"))
}

/// The canonical way to write a link to `relative` (a path below the split folder named
/// `folder`): relative to the main file's directory, with `/` separators, so the tree can move.
pub fn canonical(folder: &str, relative: &str) -> String {
    format!("{folder}/{relative}")
}

/// Where a link target leads, seen from one main file and its split folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    /// The file, absolute and lexically normal.
    pub file: PathBuf,
    /// Its path below the split folder, when it is inside it.
    pub relative: Option<String>,
    /// Whether the target is written the canonical way (`<folder>/<relative>`).
    pub canonical: bool,
}

/// Resolves `stored` for the main file in `main_dir` whose split folder is `split_dir` (both
/// absolute and normal).
pub fn reach(main_dir: &Path, split_dir: &Path, stored: &[u8]) -> Reach {
    let file = resolve(main_dir, stored);
    let relative = in_folder(split_dir, &file);
    let folder = split_dir.file_name().and_then(|f| f.to_str()).unwrap_or_default();
    let canonical = relative.as_deref().is_some_and(|r| canonical(folder, r).as_bytes() == stored);
    Reach { file, relative, canonical }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIN: &str = "/data/exp";
    const SPLIT: &str = "/data/exp/run-split";

    fn rel(stored: &str) -> Option<String> {
        reach(Path::new(MAIN), Path::new(SPLIT), stored.as_bytes()).relative
    }

    #[test]
    fn every_spelling_of_a_target_reaches_the_same_file() {
        for s in [
            "run-split/a.h5",
            "./run-split/a.h5",
            "run-split//a.h5",
            "run-split/./a.h5",
            "run-split/g/../a.h5",
            "/data/exp/run-split/a.h5",
            "//data/exp/run-split/a.h5",
            "/data/exp/../exp/run-split/a.h5",
            "../exp/run-split/a.h5",
        ] {
            assert_eq!(rel(s).as_deref(), Some("a.h5"), "{s}");
        }
        assert!(reach(Path::new(MAIN), Path::new(SPLIT), b"run-split/a.h5").canonical);
        assert!(!reach(Path::new(MAIN), Path::new(SPLIT), b"./run-split/a.h5").canonical);
        assert!(!reach(Path::new(MAIN), Path::new(SPLIT), b"/data/exp/run-split/a.h5").canonical);
    }

    #[test]
    fn targets_outside_the_folder_are_not_in_it() {
        for s in [
            "run-split",
            "run-split/",
            "run-split/../a.h5",
            "other-split/a.h5",
            "run-split-x/a.h5",
            "/elsewhere/run-split/a.h5",
            "../../../../../run-split/a.h5",
        ] {
            assert_eq!(rel(s), None, "{s}");
        }
    }

    #[test]
    fn relative_paths_between_directories() {
        let r = relative_from(Path::new("/r/run-split"), Path::new("/r/.git/annex/objects/ab/x"));
        assert_eq!(r, Path::new("../.git/annex/objects/ab/x"));
        assert_eq!(Path::new("/r/run-split").join(&r).as_path(), Path::new("/r/run-split/../.git/annex/objects/ab/x"));
        assert_eq!(
            normalize(&Path::new("/r/run-split/g").join(relative_from(Path::new("/r/run-split/g"), Path::new("/r/o")))),
            Path::new("/r/o")
        );
        assert_eq!(relative_from(Path::new("/a/b"), Path::new("/a/b/c")), Path::new("c"));
    }

    #[test]
    fn normalize_keeps_leading_parents_of_relative_paths() {
        assert_eq!(normalize(Path::new("../a/./b/../c")), Path::new("../a/c"));
        assert_eq!(normalize(Path::new("/../a")), Path::new("/a"));
        assert_eq!(normalize(Path::new("a//b/")), Path::new("a/b"));
    }
}
