//! Writing a pack with `--split-dirs` (see `partition`): each folder at the chosen depth into a
//! pack of its own in the main pack's split folder, then the main pack linking to them.
//!
//! Every pack is written to a work file beside its place and renamed there only once all are
//! written, the folders' packs first, so an error or an interrupt leaves the old packs as they
//! were (and removes what this run made). An update rewrites only the packs whose folders
//! changed: the others stay byte for byte, which is what DVC or git-annex see. The split folder
//! must be provably the main pack's (its owner file), or new; nothing is written through a
//! symbolic link, and only names the split layout makes are ever removed (`gc::clean`).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use dset_split::confine::{self, Owner};
use dset_split::layout;

use super::partition::partition;
use super::walk::Walk;
use super::write::{self, Options, Summary, UserBlock};
use crate::made::Made;

/// Packs `walk` of the folder `root` into `out` and its split folder, the folders `depth` levels
/// down each on its own; `update` brings existing packs up to date.
pub fn pack_split(
    walk: &Walk,
    root: &Path,
    out: &Path,
    opts: &Options,
    update: bool,
    ub: UserBlock,
    depth: u32,
) -> Result<Summary, String> {
    let out_name = out
        .file_name()
        .and_then(OsStr::to_str)
        .ok_or_else(|| format!("{}: --split-dirs needs an output name in UTF-8 (link targets are)", out.display()))?;
    let split_dir = layout::split_dir(out, layout::DEFAULT_SUFFIX);
    let folder = split_dir.file_name().and_then(OsStr::to_str).unwrap_or_default().to_string();
    inside_check(root, &split_dir)?;
    match confine::owner(&split_dir, out_name) {
        Owner::Missing | Owner::Ours => {}
        // A folder dset-split did not make is claimed only while empty: what is in it is not
        // ours to replace (or to remove as no longer linked).
        Owner::Unclaimed if std::fs::read_dir(&split_dir).is_ok_and(|mut d| d.next().is_none()) => {}
        owner => {
            let why = owner.refusal(&split_dir).unwrap_or_default();
            let not_empty = if owner == Owner::Unclaimed { ", and it is not empty" } else { "" };
            return Err(format!("{why}{not_empty}; choose another OUTPUT"));
        }
    }
    // Every rename at the end must succeed once the first is made: nothing but a file or a
    // symbolic link may be where a pack goes (a folder's pack is checked below).
    if std::fs::symlink_metadata(out).is_ok_and(|m| m.is_dir()) {
        return Err(format!("{} is a folder", out.display()));
    }
    let plan = partition(walk, depth as usize, &folder);
    let mut made = Made::new(&split_dir, out_name);
    made.claim("choose another OUTPUT")?;
    // One progress bar for the whole run, moved on by each folder's pack.
    let total = plan.main.bytes() + plan.parts.iter().map(|p| p.walk.bytes()).sum::<u64>();
    let bar = crate::progress_bar(total, opts.progress);
    let part_opts = Options { split: None, progress: false, ..opts.clone() };
    let mut pending = Vec::with_capacity(plan.parts.len());
    for part in &plan.parts {
        crate::interrupted()?;
        bar.set_message(String::from_utf8_lossy(&part.rel).into_owned());
        let path = made.split_file(&part.file)?;
        let existed = match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => return Err(format!("{} is a folder, where a pack is to go", path.display())),
            found => found.is_ok(),
        };
        let dir = root.join(OsStr::from_bytes(&part.rel));
        // A dangling symbolic link (a DVC cache entry not fetched) is replaced by a new pack.
        let there = update && std::fs::metadata(&path).is_ok();
        let p = write::prepare(&part.walk, &dir, &path, &part_opts, there, ub)
            .map_err(|e| format!("{} (the pack of {}): {e}", path.display(), dir.display()))?;
        pending.push((p, path, existed));
        bar.inc(part.walk.bytes());
    }
    bar.finish_and_clear();
    // The main pack's tree image names each folder's pack, whose own image shows the folder.
    let main_opts = Options { split: Some(depth), progress: false, ..opts.clone() };
    let main = write::prepare(&plan.main, root, out, &main_opts, update, ub)?;
    let mut parts = Summary::default();
    for (p, path, existed) in pending {
        let unchanged = p.unchanged();
        let s = p.commit()?;
        if !existed {
            made.made_file(&path);
        }
        parts.parts_unchanged += u64::from(unchanged);
        parts.add(s);
    }
    let mut summary = main.commit()?;
    made.commit();
    summary.parts_unchanged = parts.parts_unchanged;
    summary.add(parts);
    summary.warnings.extend(plan.warnings);
    Ok(summary)
}

/// Refuses to pack the split folder itself, or a folder inside it, into packs written there.
fn inside_check(root: &Path, split_dir: &Path) -> Result<(), String> {
    let (Ok(root), Ok(split)) = (std::fs::canonicalize(root), std::fs::canonicalize(split_dir)) else { return Ok(()) };
    if root.starts_with(&split) {
        return Err(format!(
            "{} is inside the output's split folder {}, where --split-dirs writes",
            root.display(),
            split.display()
        ));
    }
    Ok(())
}
