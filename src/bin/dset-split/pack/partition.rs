//! `pack --split-dirs`: which folders of a walk become packs of their own, as pure logic.
//!
//! Every folder `depth` levels below the packed folder (1: its top-level folders) is packed on
//! its own into `<stem>-split/<path>.h5` (the connector's split layout names it:
//! `dset_split::layout`), and the main pack holds an external link in its place. Everything
//! above that depth (folders, and files beside them) stays in the main pack. A changed file then
//! changes one small pack, which is all DVC or git-annex moves.
//!
//! HDF5 hard links cannot cross files: a file with names in two packs is stored once in each
//! (a warning says which), and unpacks as two files.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use super::walk::{Entry, Kind, Walk};

/// A folder packed on its own.
#[derive(Debug)]
pub struct Part {
    /// The folder's path below the packed folder.
    pub rel: Vec<u8>,
    /// Its pack, relative to the split folder (`a/b.h5`).
    pub file: String,
    /// The folder's own walk (paths below it; its root entry the folder itself).
    pub walk: Walk,
}

/// A walk split into the main pack's and the parts'.
#[derive(Debug)]
pub struct Plan {
    /// The main pack's walk: each part a [`Kind::Part`] entry.
    pub main: Walk,
    pub parts: Vec<Part>,
    /// Hard links stored as copies.
    pub warnings: Vec<String>,
}

/// Splits `walk` at `depth` (at least 1); `folder` is the split folder's name (`run-split`),
/// which begins each part's link target.
pub fn partition(walk: &Walk, depth: usize, folder: &str) -> Plan {
    let depth = depth.max(1);
    let mut main = Walk { entries: Vec::new(), skipped: walk.skipped.clone() };
    let mut parts: Vec<Part> = Vec::new();
    let mut warnings = Vec::new();
    // Where each entry went: its walk (0: main, k: part k - 1) and its index there.
    let mut placed: Vec<(usize, usize)> = Vec::with_capacity(walk.entries.len());
    // A hard-linked file stored again in another walk: (walk, first's index) -> index there.
    let mut copies: HashMap<(usize, usize), usize> = HashMap::new();
    for e in &walk.entries {
        let level = if e.rel.is_empty() { 0 } else { e.rel.iter().filter(|&&b| b == b'/').count() + 1 };
        let (at, rel) = if level > depth {
            let part = parts.len().checked_sub(1).filter(|&p| e.rel.starts_with(&parts[p].rel));
            let p = part.expect("a walk lists a folder before what it holds");
            (p + 1, e.rel[parts[p].rel.len() + 1..].to_vec())
        } else if level == depth && e.kind == Kind::Dir {
            let file = dset_split::layout::relative_file(&[b"/", &e.rel[..]].concat()).expect("a named folder");
            let root = Entry { rel: Vec::new(), kind: Kind::Dir, stat: e.stat };
            parts.push(Part {
                rel: e.rel.clone(),
                file: file.clone(),
                walk: Walk { entries: vec![root], skipped: Vec::new() },
            });
            placed.push((parts.len(), 0));
            let link =
                Entry { rel: e.rel.clone(), kind: Kind::Part { file: format!("{folder}/{file}") }, stat: e.stat };
            main.entries.push(link);
            continue;
        } else {
            (0, e.rel.clone())
        };
        let target = if at == 0 { &mut main } else { &mut parts[at - 1].walk };
        let kind = match &e.kind {
            Kind::HardLink { first } => match placed[*first] {
                (w, i) if w == at => Kind::HardLink { first: i },
                _ => match copies.get(&(at, *first)) {
                    Some(&i) => Kind::HardLink { first: i },
                    None => {
                        copies.insert((at, *first), target.entries.len());
                        warnings.push(format!(
                            "{} and {} are one file (hard links) in two packs: each holds a copy, and unpack makes \
                             two files",
                            String::from_utf8_lossy(&walk.entries[*first].rel),
                            String::from_utf8_lossy(&e.rel)
                        ));
                        let size = match walk.entries[*first].kind {
                            Kind::File { size, .. } => size,
                            _ => 0,
                        };
                        Kind::File { size, linked: true }
                    }
                },
            },
            other => other.clone(),
        };
        placed.push((at, target.entries.len()));
        target.entries.push(Entry { rel, kind, stat: e.stat });
    }
    Plan { main, parts, warnings }
}

/// The folder (beside the main pack) holding the pack of the folder at `rel`, when an external
/// link at `rel` to `object` of the file `target` is one `pack --split-dirs` makes: to the root
/// of `<folder>/<the split layout's name for rel>`. The folder is the main pack's split folder,
/// or another one once the pack was renamed or copied (`run.h5` renamed `new.h5` keeps linking
/// to `run-split/`); a target naming anything else (another path, `..`) is not followed.
pub fn part_folder<'a>(rel: &[u8], target: &'a [u8], object: &[u8]) -> Option<&'a OsStr> {
    let file = dset_split::layout::relative_file(&[b"/", rel].concat())?;
    let (folder, rest) = target.split_at(target.iter().position(|&b| b == b'/')?);
    let ok = object == b"/" && !folder.is_empty() && folder != b"." && folder != b".." && &rest[1..] == file.as_bytes();
    ok.then(|| OsStr::from_bytes(folder))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::format::Stat;

    fn entry(rel: &str, kind: Kind) -> Entry {
        Entry { rel: rel.as_bytes().to_vec(), kind, stat: Stat { mode: rel.len() as u32, ..Stat::default() } }
    }

    fn file(size: u64) -> Kind {
        Kind::File { size, linked: false }
    }

    fn sample() -> Walk {
        let entries = vec![
            entry("", Kind::Dir),
            entry("README", file(5)),
            entry("train", Kind::Dir),
            entry("train/cats", Kind::Dir),
            entry("train/cats/1.png", Kind::File { size: 3, linked: true }),
            entry("train/dogs", Kind::Dir),
            entry("train/dogs/1.png", Kind::HardLink { first: 4 }),
            entry("train/dogs/again.png", Kind::HardLink { first: 4 }),
            entry("train/list", Kind::Symlink { target: b"cats".to_vec() }),
            entry("val", Kind::Dir),
            entry("val/x", file(7)),
            entry("val/x2", Kind::HardLink { first: 10 }),
        ];
        Walk { entries, skipped: vec!["a pipe".into()] }
    }

    fn rels(w: &Walk) -> Vec<String> {
        w.entries.iter().map(|e| String::from_utf8_lossy(&e.rel).into_owned()).collect()
    }

    #[test]
    fn top_level_folders_become_parts() {
        let plan = partition(&sample(), 1, "run-split");
        assert_eq!(rels(&plan.main), ["", "README", "train", "val"]);
        assert_eq!(plan.main.entries[2].kind, Kind::Part { file: "run-split/train.h5".into() });
        assert_eq!(plan.main.entries[2].stat, sample().entries[2].stat);
        assert_eq!(plan.main.skipped, ["a pipe"]);
        assert_eq!(plan.parts.iter().map(|p| p.file.as_str()).collect::<Vec<_>>(), ["train.h5", "val.h5"]);
        let train = &plan.parts[0].walk;
        assert_eq!(rels(train), ["", "cats", "cats/1.png", "dogs", "dogs/1.png", "dogs/again.png", "list"]);
        // The folder's own stat is its pack's root's.
        assert_eq!(train.entries[0].stat, sample().entries[2].stat);
        // Hard links within one pack stay hard links, renumbered.
        assert_eq!(train.entries[4].kind, Kind::HardLink { first: 2 });
        assert_eq!(plan.parts[1].walk.entries[2].kind, Kind::HardLink { first: 1 });
        assert!(plan.warnings.is_empty());
    }

    #[test]
    fn hard_links_across_packs_become_copies_linked_within_each() {
        let plan = partition(&sample(), 2, "run-split");
        assert_eq!(
            rels(&plan.main),
            ["", "README", "train", "train/cats", "train/dogs", "train/list", "val", "val/x", "val/x2"]
        );
        assert_eq!(plan.parts.iter().map(|p| p.file.as_str()).collect::<Vec<_>>(), ["train/cats.h5", "train/dogs.h5"]);
        // Files two levels down stay in the main pack, hard links between them too.
        assert_eq!(plan.main.entries[8].kind, Kind::HardLink { first: 7 });
        let dogs = &plan.parts[1].walk;
        assert_eq!(rels(dogs), ["", "1.png", "again.png"]);
        assert_eq!(dogs.entries[1].kind, Kind::File { size: 3, linked: true });
        assert_eq!(dogs.entries[2].kind, Kind::HardLink { first: 1 });
        assert_eq!(plan.warnings.len(), 1, "{:?}", plan.warnings);
        assert!(plan.warnings[0].contains("train/cats/1.png and train/dogs/1.png"), "{}", plan.warnings[0]);
    }

    #[test]
    fn part_names_follow_the_split_layout() {
        let w = Walk {
            entries: vec![entry("", Kind::Dir), entry("Big Data", Kind::Dir), entry(".hidden", Kind::Dir)],
            skipped: Vec::new(),
        };
        let plan = partition(&w, 1, "x-split");
        let files: Vec<&str> = plan.parts.iter().map(|p| p.file.as_str()).collect();
        assert_eq!(files, ["Big Data~11.h5", "%2Ehidden.h5"]);
        assert!(files.iter().all(|f| dset_split::layout::is_layout_name(f)));
    }
}
