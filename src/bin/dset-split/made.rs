//! What a command makes in a main file's split folder, undone unless it commits: the folder
//! itself and its owner file (claimed exclusively for the main file), directories, and split
//! files. Used by `split` (datasets into split files) and `pack --split-dirs` (folders into
//! packs of their own). Nothing is made or removed through a symbolic link.

use std::path::{Path, PathBuf};

use dset_split::confine;
use dset_split::layout::OWNER_FILE;

/// The split folder being written, and what this run made in it.
#[derive(Debug)]
pub struct Made {
    pub split_dir: PathBuf,
    /// The main file's name (what the owner file holds).
    out_name: String,
    /// Split files and directories this run made (each created exclusively).
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
    /// Whether this run wrote the split folder's owner file (else another run or an earlier one
    /// did: it is never removed then).
    owner: bool,
    committed: bool,
}

impl Made {
    pub fn new(split_dir: &Path, out_name: &str) -> Made {
        Made {
            split_dir: split_dir.to_path_buf(),
            out_name: out_name.to_string(),
            files: Vec::new(),
            dirs: Vec::new(),
            owner: false,
            committed: false,
        }
    }

    /// Makes the directory `dir` unless it is there as a real directory (not a symbolic link),
    /// remembering that it made it.
    fn make_dir(&mut self, dir: &Path) -> Result<(), String> {
        match std::fs::create_dir(dir) {
            Ok(()) => {
                self.dirs.push(dir.to_path_buf());
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => match std::fs::symlink_metadata(dir) {
                Ok(m) if m.is_dir() => Ok(()),
                _ => Err(format!("cannot create {}: something else is there (a symbolic link?)", dir.display())),
            },
            Err(e) => Err(format!("cannot create {}: {e}", dir.display())),
        }
    }

    /// The split folder, made if needed, and claimed for the main file: its owner file is
    /// created exclusively, so of two runs only one makes it, and neither writes through a
    /// planted link; another main file may have claimed the folder since it was first checked.
    /// `hint` ends the message when the folder is not one to write to.
    pub fn claim(&mut self, hint: &str) -> Result<(), String> {
        self.make_dir(&self.split_dir.clone())?;
        match confine::claim(&self.split_dir, &self.out_name) {
            Ok(made) => {
                self.owner |= made;
                Ok(())
            }
            Err(e) => Err(match confine::owner(&self.split_dir, &self.out_name).refusal(&self.split_dir) {
                Some(why) => format!("{why}; {hint}"),
                None => format!("cannot write {}: {e}", self.split_dir.join(OWNER_FILE).display()),
            }),
        }
    }

    /// The path of the split file `rel` (below the split folder), with the directories on the
    /// way made: through no symbolic link.
    pub fn split_file(&mut self, rel: &str) -> Result<PathBuf, String> {
        let path = confine::below(&self.split_dir, rel)?;
        let mut dir = self.split_dir.clone();
        let parts: Vec<&str> = rel.split('/').collect();
        for part in &parts[..parts.len() - 1] {
            dir.push(part);
            self.make_dir(&dir)?;
        }
        Ok(path)
    }

    /// Notes a split file this run made (removed unless the run commits).
    pub fn made_file(&mut self, path: &Path) {
        self.files.push(path.to_path_buf());
    }

    pub fn commit(&mut self) {
        self.committed = true;
    }
}

impl Drop for Made {
    /// Unless committed, removes the split files and directories this run made, and the owner
    /// file if it made that and nothing else is left in the folder (another run may be filling
    /// it).
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        for f in self.files.iter().rev() {
            let _ = std::fs::remove_file(f);
        }
        for d in self.dirs.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
        let only_owner = std::fs::read_dir(&self.split_dir)
            .is_ok_and(|entries| entries.flatten().all(|e| e.file_name() == OWNER_FILE));
        if self.owner && only_owner {
            let _ = std::fs::remove_file(self.split_dir.join(OWNER_FILE));
            if self.dirs.contains(&self.split_dir) {
                let _ = std::fs::remove_dir(&self.split_dir);
            }
        }
    }
}
