//! A main file's split folder as the file context sees it: which link targets are its split
//! files, where they are on disk (never through a symbolic link), whether the folder is provably
//! this main file's (and claiming it), clearing it on truncation, and the directories
//! `HDF5_EXT_PREFIX` makes HDF5 search first.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::*;
use crate::error::{Error, Result};
use crate::layout;
use crate::trace;

impl FileCtx {
    /// Whether HDF5 would open another file than the split file `target` (canonical) through its
    /// link: `HDF5_EXT_PREFIX` names directories HDF5 searches first, and one of them holds a file
    /// by that relative name. That file, when there is one.
    pub fn shadowing(&self, target: &str) -> Option<PathBuf> {
        if self.ext_prefixes.is_empty() {
            return None;
        }
        let ours = std::fs::metadata(self.main_dir().join(target)).ok();
        self.ext_prefixes.iter().map(|p| p.join(target)).find(|other| match std::fs::metadata(other) {
            Ok(m) => {
                use std::os::unix::fs::MetadataExt;
                ours.as_ref().is_none_or(|o| (o.dev(), o.ino()) != (m.dev(), m.ino()))
            }
            Err(_) => false,
        })
    }

    /// Whether opening a split dataset needs a look at its link even read-only (see
    /// [`FileCtx::shadowing`]).
    pub fn has_ext_prefixes(&self) -> bool {
        !self.ext_prefixes.is_empty()
    }

    /// The split file a link target (as stored in the link, naming `object` in its file) leads to,
    /// written the canonical way (`<folder>/<relative>`), when it is one of this main file's split
    /// files: the target resolves, as HDF5 resolves it, into the split folder. Every spelling of
    /// a target (`./run-split/a.h5`, an absolute path, `run-split//a.h5`) gives the same answer.
    pub fn split_file_of(&self, stored: &[u8], object: &[u8]) -> Option<Arc<str>> {
        // The object path is looked up from the target file's root: `data`, `/./data` are `/data`.
        if layout::components(object) != [&layout::DATASET_PATH.as_bytes()[1..]] {
            return None;
        }
        let relative = crate::target::reach(self.norm_main_dir(), &self.norm_split_dir, stored).relative?;
        Some(Arc::from(self.link_target(&relative)))
    }

    /// Where the split file `target` (canonical, as [`FileCtx::split_file_of`] gives it) is on
    /// disk, checked to be reached through no symbolic link inside the split folder: the only way
    /// the connector names a split file it writes, moves or removes.
    pub fn split_file_path(&self, target: &str) -> Result<PathBuf> {
        let folder = self.split_dir.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        let relative = target
            .strip_prefix(&folder)
            .and_then(|r| r.strip_prefix('/'))
            .ok_or_else(|| Error::arg(format!("{target} is not in the split folder {}", self.split_dir.display())))?;
        crate::confine::below(&self.split_dir, relative).map_err(Error::arg)
    }

    /// [`FileCtx::split_file_path`] for a file the connector may move, replace or remove: in a
    /// split folder provably this main file's, with a name the layout makes (never the owner
    /// file, nor a file someone else put there that a link happens to reach).
    pub fn own_split_file(&self, target: &str) -> Result<PathBuf> {
        if let Some(why) = self.ownership().refusal(&self.split_dir) {
            return Err(Error::arg(why));
        }
        self.layout_file(target)
    }

    /// [`FileCtx::own_split_file`] once the folder is known to be ours (many files at once).
    pub fn layout_file(&self, target: &str) -> Result<PathBuf> {
        let path = self.split_file_path(target)?;
        let relative = path.strip_prefix(&self.split_dir).ok().and_then(|r| r.to_str()).unwrap_or_default();
        if !layout::is_layout_name(relative) {
            return Err(Error::arg(format!("{target} is not a name dset-split makes: left as it is")));
        }
        Ok(path)
    }

    /// After the main file was truncated: removes the split files its old content linked to
    /// (`targets`, read before), then the owner file and the folder if nothing else is left. A
    /// file only another main file links to (one renamed away, say) stays.
    pub fn clear_old_split_files(&self, targets: &[Arc<str>]) {
        if !self.leads() || self.ownership() != crate::confine::Owner::Ours {
            return;
        }
        let files: Vec<PathBuf> = targets.iter().filter_map(|t| self.layout_file(t).ok()).collect();
        crate::lifecycle::remove_files(self, &files);
        if std::fs::read_dir(&self.split_dir).map(|d| d.count()).unwrap_or(0) == 1 {
            let _ = std::fs::remove_file(self.split_dir.join(layout::OWNER_FILE));
            let _ = std::fs::remove_dir(&self.split_dir);
        }
    }

    /// Removes the files of the split folder that belong to it (`*.h5` whose names are ours)
    /// and the directories that become empty; foreign files stay. Used when the main file is
    /// truncated or deleted. Only a folder provably this main file's is touched (see
    /// `crate::confine`), and nothing through a symbolic link.
    pub fn clear_split_folder(&self) {
        if !self.leads() {
            return; // rank 0 clears it
        }
        if let Some(why) = self.ownership().refusal(&self.split_dir) {
            if self.ownership() != crate::confine::Owner::Missing {
                trace!("split folder left as it is: {why}");
            }
            return;
        }
        clear_dir(&self.split_dir, &self.split_dir);
        // Last, so that an interrupted clear leaves a folder that is still provably ours.
        if std::fs::read_dir(&self.split_dir).map(|d| d.count()).unwrap_or(0) == 1 {
            let _ = std::fs::remove_file(self.split_dir.join(layout::OWNER_FILE));
            let _ = std::fs::remove_dir(&self.split_dir);
        }
    }

    /// The main file's own name, as written in its split folder's owner file.
    fn owner_name(&self) -> String {
        self.main_path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
    }

    /// Whose the split folder is.
    pub fn ownership(&self) -> crate::confine::Owner {
        crate::confine::owner(&self.split_dir, &self.owner_name())
    }

    /// Claims the split folder (which exists) for this main file; `Ok(true)` if the owner file
    /// was written now. Refuses a folder that is another main file's or not a place to write.
    pub(super) fn claim(&self) -> Result<bool> {
        use crate::confine::Owner;
        match self.ownership() {
            Owner::Ours => Ok(false),
            Owner::Unclaimed => crate::confine::claim(&self.split_dir, &self.owner_name()).map_err(|e| {
                Error::library(format!(
                    "cannot claim the split folder {} for {} (writing its {} file): {e}",
                    self.split_dir.display(),
                    self.owner_name(),
                    layout::OWNER_FILE
                ))
            }),
            Owner::Other(other) => Err(Error::config(format!(
                "the split folder {} belongs to {other} (see its {} file): two main files with the same stem \
                 in one directory need different suffixes, e.g. suffix=-{}-split",
                self.split_dir.display(),
                layout::OWNER_FILE,
                self.main_path.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_else(|| "main".into())
            ))),
            owner => Err(Error::arg(format!(
                "refusing to write split files: {}",
                owner.refusal(&self.split_dir).unwrap_or_default()
            ))),
        }
    }
}

/// The directories of `HDF5_EXT_PREFIX` (colon-separated; `${ORIGIN}` is the main file's
/// directory, which is where the connector's links lead anyway), absolute and normal.
pub(super) fn ext_prefixes(main_dir: &Path) -> Vec<PathBuf> {
    let Some(value) = std::env::var_os("HDF5_EXT_PREFIX") else { return Vec::new() };
    let value = value.to_string_lossy().into_owned();
    value
        .split(':')
        .filter(|p| !p.is_empty())
        .map(|p| PathBuf::from(p.replace("${ORIGIN}", &main_dir.to_string_lossy())))
        // Absolute and normal, once: compared with the files datasets are opened from.
        .map(|p| crate::target::normalize(&std::path::absolute(&p).unwrap_or(p)))
        .filter(|p| *p != crate::target::normalize(main_dir))
        .collect()
}

/// Removes the layout-named files below `dir` (never following a symbolic link: a link named like
/// a split file is removed itself, its target is not touched) and the directories left empty.
fn clear_dir(dir: &Path, root: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            // Another main file's split folder nested in this one is not ours to clear.
            if std::fs::symlink_metadata(path.join(layout::OWNER_FILE)).is_err() {
                clear_dir(&path, root);
            }
        } else {
            let rel = path.strip_prefix(root).ok().and_then(|r| r.to_str()).map(|r| r.replace('\\', "/"));
            if rel.as_deref().is_some_and(layout::is_layout_name) {
                if let Err(e) = std::fs::remove_file(&path) {
                    trace!("cannot remove {}: {e}", path.display());
                }
            }
        }
    }
    let _ = std::fs::remove_dir(dir);
}
