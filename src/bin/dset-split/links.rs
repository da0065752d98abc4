//! Where the external links of a main file lead, for every subcommand: each target resolved with
//! `dset_split::target` (as HDF5 resolves it: relative to the main file's directory), and the
//! split folder next to the main file, if any, that it leads into. `status`, `check`, `gc`,
//! `split` and `merge` ask only this module, so they cannot disagree about which file a link
//! reaches, however its target is written (`run-split/a.h5`, `./run-split/a.h5`,
//! `run-split//a.h5`, an absolute path).

use std::path::{Path, PathBuf};

use dset_split::target;

/// A main file as the subcommands see it.
#[derive(Debug, Clone)]
pub struct Main {
    /// As the user named it (messages show paths next to it the same way).
    pub path: PathBuf,
    /// Its directory, absolute and lexically normal, as the file system finds it when the main
    /// file is opened (symbolic links in the path resolved): where HDF5 looks relative targets up.
    pub dir: PathBuf,
    /// Its file name (what the owner file of its split folder holds).
    pub name: String,
    /// Its stem: its split folders are named `<stem><suffix>`.
    stem: String,
}

/// Where one link target leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The file, absolute and lexically normal.
    pub file: PathBuf,
    /// When the file lies in a folder next to the main file named `<stem><suffix>`: the folder's
    /// name and the file's path below it (`/`-separated).
    pub split: Option<(String, String)>,
    /// Whether the target is written the way the connector writes it (`<folder>/<path>`).
    pub canonical: bool,
}

impl Main {
    pub fn new(path: &Path) -> Main {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let dir = std::fs::canonicalize(parent).unwrap_or_else(|_| {
            target::normalize(&std::path::absolute(parent).unwrap_or_else(|_| parent.to_path_buf()))
        });
        let text = |s: Option<&std::ffi::OsStr>| s.map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        Main { path: path.to_path_buf(), dir, name: text(path.file_name()), stem: text(path.file_stem()) }
    }

    /// Where the link target `stored` (as written in the link) leads.
    pub fn target(&self, stored: &[u8]) -> Target {
        let file = target::resolve(&self.dir, stored);
        let folder = target::in_folder(&self.dir, &file).and_then(|below| {
            let (folder, _) = below.split_once('/')?;
            self.names_split_folder(folder).then(|| folder.to_string())
        });
        let Some(folder) = folder else { return Target { file, split: None, canonical: false } };
        let reach = target::reach(&self.dir, &self.folder(&folder), stored);
        Target { file: reach.file, split: reach.relative.map(|rel| (folder, rel)), canonical: reach.canonical }
    }

    /// Whether `name` (an entry of the main file's directory) has the form of one of its split
    /// folders: `<stem>` and a suffix.
    pub fn names_split_folder(&self, name: &str) -> bool {
        name.len() > self.stem.len() && name.starts_with(&self.stem)
    }

    /// The split folder `name` (absolute, lexically normal), for comparing paths.
    pub fn folder(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The same folder named beside the main file as the user named it, for file-system calls
    /// whose messages the user reads (`run-split` for `run.h5`).
    pub fn place(&self, name: &str) -> PathBuf {
        self.path.parent().unwrap_or(Path::new("")).join(name)
    }

    /// The default split folder's name, `<stem>-split`.
    pub fn default_folder(&self) -> String {
        format!("{}{}", self.stem, dset_split::layout::DEFAULT_SUFFIX)
    }

    /// `path` (next to the main file, e.g. `run-split/a.h5`) as messages show it: beside the main
    /// file as the user named it.
    pub fn shown(&self, path: &str) -> String {
        self.path.parent().unwrap_or(Path::new("")).join(path).display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_a_split_target_is_in_the_folder() {
        let main = Main::new(Path::new("/data/exp/run.h5"));
        for stored in ["run-split/g/a.h5", "./run-split/g/a.h5", "run-split//g/a.h5", "/data/exp/run-split/g/a.h5"] {
            let t = main.target(stored.as_bytes());
            assert_eq!(t.split, Some(("run-split".into(), "g/a.h5".into())), "{stored}");
            assert_eq!(t.file, Path::new("/data/exp/run-split/g/a.h5"));
            assert_eq!(t.canonical, stored == "run-split/g/a.h5", "{stored}");
        }
        let custom = main.target(b"run.parts/a.h5");
        assert_eq!(custom.split, Some(("run.parts".into(), "a.h5".into())));
        for other in ["run.h5.ext.h5", "elsewhere/a.h5", "run-split", "/data/run-split/a.h5", "ru/a.h5"] {
            assert_eq!(main.target(other.as_bytes()).split, None, "{other}");
        }
    }

    #[test]
    fn a_relative_main_file_is_resolved_from_the_working_directory() {
        let main = Main::new(Path::new("run.h5"));
        assert!(main.dir.is_absolute());
        assert_eq!(main.dir, std::env::current_dir().unwrap());
        assert_eq!(main.shown("run-split/a.h5"), "run-split/a.h5");
        assert_eq!(main.place("run-split"), Path::new("run-split"));
        assert_eq!(Main::new(Path::new("sub/../x/run.h5")).shown("run-split/a.h5"), "sub/../x/run-split/a.h5");
    }

    #[test]
    fn a_main_file_named_through_a_symbolic_link_is_where_the_file_system_finds_it() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().canonicalize().unwrap().join("real");
        std::fs::create_dir(&real).unwrap();
        std::os::unix::fs::symlink(&real, d.path().join("alias")).unwrap();
        let main = Main::new(&d.path().join("alias/run.h5"));
        assert_eq!(main.dir, real);
        let absolute = real.join("run-split/a.h5");
        assert_eq!(
            main.target(absolute.as_os_str().as_encoded_bytes()).split,
            Some(("run-split".into(), "a.h5".into()))
        );
        assert_eq!(main.place("run-split"), d.path().join("alias/run-split"));
    }
}
