//! `dset-split gc FILE`: removes the orphans of a main file's split folder: split files no link of
//! the main file leads to any more (left behind by a program that crashed, by hand edits, or by
//! tools that deleted links without the connector), and directories that become empty. Only
//! files whose names the split layout could have made are touched, only in split folders that
//! are provably the main file's (`dset_split::confine`), never through a symbolic link and never
//! inside another main file's split folder nested in one; anything else stays. It also removes
//! the work directories that killed `split`/`merge` runs left beside the main file
//! (`crate::work`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dset_split::confine::{self, Owner};
use dset_split::layout::{self, OWNER_FILE};
use serde::Serialize;

use crate::links::{Main, Target};
use crate::status::{self, Place};
use crate::work;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The main HDF5 file (e.g. run.h5); do not run while a program writes it, nor while a
    /// `dset-split split` or `merge` writes it
    file: PathBuf,
    /// Only list what would be removed
    #[arg(long)]
    dry_run: bool,
    /// Print one JSON object instead of lines (for scripts)
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct Outcome {
    /// The split folders looked at.
    folders: Vec<String>,
    /// Orphan split files (relative to the main file's directory): removed, or with --dry-run
    /// to be removed.
    pub(crate) orphans: Vec<String>,
    /// Work directories of killed `split`/`merge` runs beside the main file: removed, or with
    /// --dry-run to be removed.
    leftovers: Vec<String>,
    /// The bytes of both.
    bytes: u64,
    removed: bool,
}

/// Exit codes: 0 done (or nothing to do); 2 the main file could not be read, a split folder does
/// not name the main file as its owner, or a file could not be removed. Leftover work
/// directories of killed `split`/`merge` runs beside FILE are removed even when FILE cannot be
/// read (a run that was making FILE may have been killed before FILE existed).
pub fn run(args: &Args) -> ExitCode {
    let leftovers = work::leftovers(&args.file);
    let mut failed = false;
    let mut removed = Vec::new();
    for l in &leftovers {
        if args.dry_run {
            removed.push(l.path.display().to_string());
        } else {
            match work::remove(l) {
                Ok(()) => removed.push(l.path.display().to_string()),
                Err(e) => {
                    eprintln!("dset-split gc: {e}");
                    failed = true;
                }
            }
        }
    }
    let verb = if args.dry_run { "would remove" } else { "removed" };
    let mut outcome = match collect(&args.file) {
        Ok(outcome) => outcome,
        Err(msg) => {
            for l in &removed {
                println!("{verb} {l} (a work directory left by a killed split or merge)");
            }
            eprintln!("dset-split gc: {msg}");
            return ExitCode::from(2);
        }
    };
    outcome.leftovers = removed;
    outcome.bytes += leftovers.iter().map(|l| l.bytes).sum::<u64>();
    let main = Main::new(&args.file);
    if !args.dry_run {
        for orphan in &outcome.orphans {
            if let Err(e) = remove_orphan(&main, orphan) {
                eprintln!("dset-split gc: {e}");
                failed = true;
            }
        }
        for folder in &outcome.folders {
            remove_empty_dirs(&main.place(folder), true);
        }
        outcome.removed = !failed;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome).expect("an outcome serialises"));
    } else {
        for l in &outcome.leftovers {
            println!("{verb} {l} (a work directory left by a killed split or merge)");
        }
        for orphan in &outcome.orphans {
            println!("{verb} {orphan}");
        }
        println!(
            "{}: {} orphan split file(s), {} leftover work director{}, {} bytes",
            args.file.display(),
            outcome.orphans.len(),
            outcome.leftovers.len(),
            if outcome.leftovers.len() == 1 { "y" } else { "ies" },
            outcome.bytes
        );
    }
    ExitCode::from(if failed { 2 } else { 0 })
}

pub(crate) fn collect(file: &Path) -> Result<Outcome, String> {
    let report = status::report(file)?;
    let main = Main::new(file);
    // Every file an external link reaches, in whatever form its target is written (absolute,
    // `./`, `..`, doubled slashes: resolved as HDF5 does), and the same files as the file system
    // finds them (a main file named through a symbolic link, an absolute target written with
    // another path to the same directory): none of them is an orphan.
    let targets: Vec<&Target> =
        report.datasets.iter().filter(|d| d.place != Place::Inline).filter_map(|d| d.target.as_ref()).collect();
    let reached: HashSet<&Path> = targets.iter().map(|t| t.file.as_path()).collect();
    let identities: HashSet<(u64, u64)> = targets.iter().filter_map(|t| identity(&t.file)).collect();
    // The split folders: those the links lead into, and the default one; each must be provably
    // the main file's (a real directory whose owner file names it).
    let mut folders: Vec<String> = report
        .datasets
        .iter()
        .filter(|d| d.place == Place::Split)
        .filter_map(|d| d.target.as_ref()?.split.as_ref().map(|(folder, _)| folder.clone()))
        .collect();
    folders.push(main.default_folder());
    folders.sort();
    folders.dedup();
    let mut kept = Vec::new();
    for folder in folders {
        match confine::owner(&main.place(&folder), &main.name) {
            Owner::Missing => {}
            Owner::Ours => kept.push(folder),
            other => {
                let why = other.refusal(&main.place(&folder)).unwrap_or_default();
                return Err(format!("{why}; it is not confirmed as {}'s split folder: nothing removed", main.name));
            }
        }
    }
    let mut orphans = Vec::new();
    let mut bytes = 0;
    for folder in &kept {
        let root = main.folder(folder);
        for found in layout_files(&root) {
            let file = root.join(&found.rel);
            if !reached.contains(file.as_path()) && !identities.contains(&found.identity) {
                orphans.push(format!("{folder}/{}", found.rel));
                bytes += found.size;
            }
        }
    }
    orphans.sort();
    Ok(Outcome { folders: kept, orphans, leftovers: Vec::new(), bytes, removed: false })
}

/// After `pack` wrote the main file `file`: removes what its split folder holds that no link of
/// the file leads to (the packs of folders an earlier pack had and this one has not), when the
/// folder is provably the file's; the folder too once only its owner file is left. Returns the
/// paths removed (relative to the main file's directory).
pub(crate) fn clean(file: &Path) -> Result<Vec<String>, String> {
    let main = Main::new(file);
    let folder = main.place(&main.default_folder());
    if confine::owner(&folder, &main.name) != Owner::Ours {
        return Ok(Vec::new());
    }
    let outcome = collect(file)?;
    for orphan in &outcome.orphans {
        remove_orphan(&main, orphan)?;
    }
    for f in &outcome.folders {
        remove_empty_dirs(&main.place(f), true);
    }
    let only_owner = std::fs::read_dir(&folder).is_ok_and(|d| d.flatten().all(|e| e.file_name() == OWNER_FILE));
    if only_owner {
        let _ = std::fs::remove_file(folder.join(OWNER_FILE));
        let _ = std::fs::remove_dir(&folder);
    }
    Ok(outcome.orphans)
}

/// Removes the orphan `orphan` (`<folder>/<path>`, as [`collect`] lists it) of `main`: only
/// through real directories of the split folder (never through a symbolic link); a file that is
/// itself a symbolic link (into a cache) loses only the link.
fn remove_orphan(main: &Main, orphan: &str) -> Result<(), String> {
    let (folder, rel) = orphan.split_once('/').ok_or_else(|| format!("{orphan} is not inside a split folder"))?;
    let path = confine::below(&main.place(folder), rel)?;
    std::fs::remove_file(&path).map_err(|e| format!("cannot remove {}: {e}", path.display()))
}

/// The device and inode of `path` itself (a symbolic link is not followed), if it exists.
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// A file of a split folder whose name the layout could have made.
struct Found {
    /// Below the split folder, `/`-separated.
    rel: String,
    size: u64,
    identity: (u64, u64),
}

/// Whether `dir`, a directory below a split folder, is another main file's split folder (it
/// holds an owner file of its own): nothing in it is ours.
fn nested_folder(dir: &Path) -> bool {
    std::fs::symlink_metadata(dir.join(OWNER_FILE)).is_ok()
}

/// The regular files below `root` whose relative paths the split layout could have made, and
/// the work files killed `pack` runs left.
/// Symbolic links are not followed (nothing outside the folder is looked at), and directories
/// that are another main file's split folder are not entered.
fn layout_files(root: &Path) -> Vec<Found> {
    use std::os::unix::fs::MetadataExt;
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else { continue };
            let path = entry.path();
            if kind.is_dir() {
                if !nested_folder(&path) {
                    stack.push(path);
                }
                continue;
            }
            let rel = path.strip_prefix(root).ok().and_then(|r| r.to_str());
            // The work file of a `pack --split-dirs` run killed outright (its process is gone).
            let stale = || work::pack_work_pid(entry.file_name().as_encoded_bytes()).is_some_and(|p| !work::running(p));
            let Some(rel) = rel.filter(|rel| kind.is_file() && (layout::is_layout_name(rel) || stale())) else {
                continue;
            };
            if let Ok(m) = entry.metadata() {
                found.push(Found { rel: rel.to_string(), size: m.len(), identity: (m.dev(), m.ino()) });
            }
        }
    }
    found
}

/// Removes the directories below `dir` that are empty (bottom up); `dir` itself stays when
/// `keep`. Symbolic links and other main files' split folders are not entered.
fn remove_empty_dirs(dir: &Path, keep: bool) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) && !nested_folder(&entry.path()) {
                remove_empty_dirs(&entry.path(), false);
            }
        }
    }
    if !keep {
        let _ = std::fs::remove_dir(dir); // fails, as wanted, unless empty
    }
}
