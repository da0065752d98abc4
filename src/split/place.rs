//! Where a new split file goes: its name (never an existing file's), the directories made for
//! it, and undoing both when creation fails.

use std::path::{Path, PathBuf};

use super::*;
use crate::error::{Error, Kind, Result};
use crate::layout::{self};

/// Directories made for a new split file, removed again (innermost first) if creation fails.
pub(super) struct MadeDirs(Vec<PathBuf>);

impl MadeDirs {
    fn create(dir: &Path) -> std::io::Result<MadeDirs> {
        let mut missing = Vec::new();
        let mut d = dir;
        while !d.exists() {
            missing.push(d.to_path_buf());
            match d.parent() {
                Some(p) => d = p,
                None => break,
            }
        }
        let mut made = MadeDirs(Vec::new());
        for d in missing.into_iter().rev() {
            if let Err(e) = std::fs::create_dir(&d) {
                made.remove();
                return Err(e);
            }
            made.0.push(d);
        }
        if !dir.is_dir() {
            return Err(std::io::Error::other(format!("{} is in the way and is not a directory", dir.display())));
        }
        Ok(made)
    }

    pub(super) fn remove(self) {
        for d in self.0.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// Where a new split file goes: its path relative to the main file's directory and on disk, and
/// the directories made for it (removed again on failure).
pub(super) struct Place {
    pub(super) relative: String,
    pub(super) file_path: PathBuf,
    pub(super) made: MadeDirs,
    /// The split folder's owner file, if this creation wrote it.
    pub(super) claimed: Option<PathBuf>,
}

impl Place {
    /// Makes the directories for the split file of the dataset at `path`, refusing to leave the
    /// split folder.
    pub(super) fn prepare(ctx: &FileCtx, path: &[u8]) -> Result<Place> {
        let show = String::from_utf8_lossy(path);
        let relative = layout::relative_file(path).ok_or_else(|| Error::arg("a dataset needs a name"))?;
        let file_path = ctx.split_dir.join(&relative);
        let dir = file_path.parent().unwrap_or(&ctx.split_dir).to_path_buf();
        let made = MadeDirs::create(&dir).map_err(|e| {
            Error::new(
                Kind::Library,
                format!("cannot create the split folder {} for dataset {show}: {e}", dir.display()),
            )
        })?;
        let inside = match (dir.canonicalize(), ctx.split_dir.canonicalize()) {
            (Ok(d), Ok(root)) => d.starts_with(root),
            _ => false,
        };
        if !inside {
            made.remove();
            return Err(Error::arg(format!(
                "refusing to write dataset {show} to {}: a link in the split folder points outside it",
                dir.display()
            )));
        }
        let claimed = match ctx.claim() {
            Ok(true) => Some(ctx.split_dir.join(layout::OWNER_FILE)),
            Ok(false) => None,
            Err(e) => {
                made.remove();
                return Err(e);
            }
        };
        Ok(Place { relative, file_path, made, claimed })
    }

    /// Undoes `prepare` and whatever file was made there.
    pub(super) fn remove(self) {
        let _ = std::fs::remove_file(&self.file_path);
        if let Some(owner) = &self.claimed {
            let _ = std::fs::remove_file(owner);
        }
        self.made.remove();
    }
}
