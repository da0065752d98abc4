//! `dset-split gc FILE`: removes the orphans of a main file's split folder: split files no link of
//! the main file leads to any more (left behind by a program that crashed, by hand edits, or by
//! tools that deleted links without the connector), and directories that become empty. Only
//! files whose names the split layout could have made are touched; anything else stays.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dset_split::layout::{self, OWNER_FILE};
use serde::Serialize;

use crate::status::{self, Place};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The main HDF5 file (e.g. run.h5); do not run while a program writes it
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
    bytes: u64,
    removed: bool,
}

/// Exit codes: 0 done (or nothing to do); 2 the main file could not be read, a split folder does
/// not name the main file as its owner, or a file could not be removed.
pub fn run(args: &Args) -> ExitCode {
    match collect(&args.file) {
        Ok(mut outcome) => {
            let main_dir = args.file.parent().unwrap_or(Path::new(""));
            let mut failed = false;
            if !args.dry_run {
                for orphan in &outcome.orphans {
                    let path = main_dir.join(orphan);
                    if let Err(e) = std::fs::remove_file(&path) {
                        eprintln!("dset-split gc: cannot remove {}: {e}", path.display());
                        failed = true;
                    }
                }
                for folder in &outcome.folders {
                    remove_empty_dirs(&main_dir.join(folder), true);
                }
                outcome.removed = !failed;
            }
            if args.json {
                println!("{}", serde_json::to_string_pretty(&outcome).expect("an outcome serialises"));
            } else {
                let verb = if args.dry_run { "would remove" } else { "removed" };
                for orphan in &outcome.orphans {
                    println!("{verb} {orphan}");
                }
                println!(
                    "{}: {} orphan split file(s), {} bytes",
                    args.file.display(),
                    outcome.orphans.len(),
                    outcome.bytes
                );
            }
            ExitCode::from(if failed { 2 } else { 0 })
        }
        Err(msg) => {
            eprintln!("dset-split gc: {msg}");
            ExitCode::from(2)
        }
    }
}

pub(crate) fn collect(file: &Path) -> Result<Outcome, String> {
    let report = status::report(file)?;
    let main_dir = file.parent().unwrap_or(Path::new(""));
    let main_name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let referenced: Vec<&str> =
        report.datasets.iter().filter(|d| d.place == Place::Split).filter_map(|d| d.file.as_deref()).collect();
    // Every file an external link reaches, in whatever form its target is written (absolute,
    // `./`, `..`, doubled slashes): none of them is an orphan.
    let lookup_dir = if main_dir.as_os_str().is_empty() { Path::new(".") } else { main_dir };
    let reached: Vec<PathBuf> = report
        .datasets
        .iter()
        .filter(|d| d.place != Place::Inline)
        .filter_map(|d| d.file.as_deref())
        .filter_map(|f| real_path(&lookup_dir.join(f)))
        .collect();
    // The split folders: those the links lead into, and the default one.
    let mut folders: Vec<String> = referenced.iter().filter_map(|f| f.split('/').next()).map(str::to_string).collect();
    folders.push(format!("{stem}-split"));
    folders.sort();
    folders.dedup();
    folders.retain(|f| main_dir.join(f).is_dir());
    for folder in &folders {
        let owner = main_dir.join(folder).join(OWNER_FILE);
        match std::fs::read_to_string(&owner) {
            Ok(text) if text.trim_end_matches('\n') == main_name => {}
            Ok(text) => {
                return Err(format!(
                    "{} belongs to {}, not {main_name} (its {OWNER_FILE} file says so): nothing removed",
                    main_dir.join(folder).display(),
                    text.trim_end()
                ));
            }
            Err(e) => {
                return Err(format!(
                    "cannot confirm that {} belongs to {main_name} ({}: {e}); nothing removed",
                    main_dir.join(folder).display(),
                    owner.display()
                ));
            }
        }
    }
    let mut orphans = Vec::new();
    let mut bytes = 0;
    for folder in &folders {
        let root = main_dir.join(folder);
        for (rel, size) in layout_files(&root) {
            let target = format!("{folder}/{rel}");
            let real = real_path(&lookup_dir.join(&target));
            if !referenced.contains(&target.as_str()) && !real.is_some_and(|r| reached.contains(&r)) {
                orphans.push(target);
                bytes += size;
            }
        }
    }
    orphans.sort();
    Ok(Outcome { folders, orphans, bytes, removed: false })
}

/// The regular files below `root` whose relative paths the split layout could have made, with
/// their sizes. Symbolic links are not followed (nothing outside the folder is looked at).
fn layout_files(root: &Path) -> Vec<(String, u64)> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else { continue };
            let path = entry.path();
            if kind.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(root).ok().and_then(|r| r.to_str());
            if let Some(rel) = rel.filter(|rel| kind.is_file() && layout::hdf5_path_of(rel).is_some()) {
                found.push((rel.to_string(), entry.metadata().map(|m| m.len()).unwrap_or(0)));
            }
        }
    }
    found
}

/// `path` with its directories resolved (`.`, `..`, doubled slashes, symbolic links), the last
/// component kept as it is (a split file may be a symbolic link into a cache). None if the
/// directory does not exist.
pub(crate) fn real_path(path: &Path) -> Option<PathBuf> {
    let name = match path.components().next_back()? {
        std::path::Component::Normal(name) => name,
        _ => return None,
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(parent).ok()?.join(name))
}

/// Removes the directories below `dir` that are empty (bottom up); `dir` itself stays when `keep`.
fn remove_empty_dirs(dir: &Path, keep: bool) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                remove_empty_dirs(&entry.path(), false);
            }
        }
    }
    if !keep {
        let _ = std::fs::remove_dir(dir); // fails, as wanted, unless empty
    }
}
