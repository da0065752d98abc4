//! The folder to pack, as a list of entries in a fixed order: every directory before what it
//! holds, names sorted by their bytes, so the same tree gives the same list (and the same file).
//! Reads the file system only (no HDF5).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::format::Stat;

/// What a directory entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Dir,
    /// A regular file of this many bytes; `linked`: it has other names (hard links).
    File {
        size: u64,
        linked: bool,
    },
    /// A symbolic link to this target (as stored, not resolved).
    Symlink {
        target: Vec<u8>,
    },
    /// Another name of the regular file at this index of the list (a hard link).
    HardLink {
        first: usize,
    },
    /// A folder packed into a pack of its own (`pack --split-dirs`): the external link's
    /// target, its file relative to the main pack's directory (never made by `walk`: see
    /// `partition`).
    Part {
        file: String,
    },
}

/// One entry of the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The path below the folder, components joined by `/` ("" for the folder itself).
    pub rel: Vec<u8>,
    pub kind: Kind,
    pub stat: Stat,
}

impl Entry {
    /// The last component of the path (the link name in its group).
    pub fn name(&self) -> &[u8] {
        self.rel.rsplit(|&b| b == b'/').next().unwrap_or(&self.rel)
    }
    /// The path on disk under `root`.
    pub fn path(&self, root: &Path) -> PathBuf {
        if self.rel.is_empty() { root.to_path_buf() } else { root.join(OsStr::from_bytes(&self.rel)) }
    }
}

/// Which entries to keep: `--include` and `--exclude` glob patterns (the connector's pattern
/// syntax: a pattern without `/` matches the name, one with `/` the path from the folder, `**`
/// any number of directories).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

impl Filter {
    fn excluded(&self, rel: &[u8]) -> bool {
        let path = format!("/{}", String::from_utf8_lossy(rel));
        self.exclude.iter().any(|p| dset_split::policy::matches(p, &path))
    }
    fn included(&self, rel: &[u8]) -> bool {
        let path = format!("/{}", String::from_utf8_lossy(rel));
        self.include.is_empty() || self.include.iter().any(|p| dset_split::policy::matches(p, &path))
    }
}

/// The result of a walk: the entries, and what was left out and why (sockets, devices, named
/// pipes: a pack holds files, directories and links).
#[derive(Debug, Default)]
pub struct Walk {
    pub entries: Vec<Entry>,
    pub skipped: Vec<String>,
}

impl Walk {
    /// The bytes of regular files to copy (each hard-linked file once).
    pub fn bytes(&self) -> u64 {
        self.entries.iter().map(|e| if let Kind::File { size, .. } = e.kind { size } else { 0 }).sum()
    }
}

/// What never to pack: the output (when it is inside the folder), its work files and its split
/// folder (where `--split-dirs` puts folders' own packs).
#[derive(Debug, Default)]
struct Avoid {
    /// The output's split folder's (device, inode).
    split: Option<(u64, u64)>,
    /// The output file's (device, inode), and its target's.
    file: Option<(u64, u64)>,
    target: Option<(u64, u64)>,
    /// The output's folder's (device, inode), and the start of its work files' names there.
    work: Option<((u64, u64), Vec<u8>)>,
}

/// Walks the folder `root` (a directory, or a symbolic link to one), not following symbolic
/// links below it. `out` is the pack being written: never packed, nor its work files (`.OUT.packing-*`
/// beside it, also one a killed run left), nor its split folder (`<stem>-split`).
pub fn walk(root: &Path, filter: &Filter, out: Option<&Path>) -> Result<Walk, String> {
    let meta = std::fs::metadata(root).map_err(|e| format!("{}: {e}", root.display()))?;
    if !meta.is_dir() {
        return Err(format!("{} is not a directory", root.display()));
    }
    let mut avoid = Avoid::default();
    if let Some(out) = out {
        // The output, and what it leads to when it is a symbolic link (`--update` replaces it).
        avoid.file = std::fs::symlink_metadata(out).ok().map(|m| (m.dev(), m.ino()));
        avoid.target = std::fs::metadata(out).ok().map(|m| (m.dev(), m.ino()));
        let split = dset_split::layout::split_dir(out, dset_split::layout::DEFAULT_SUFFIX);
        avoid.split = std::fs::symlink_metadata(split).ok().filter(|m| m.is_dir()).map(|m| (m.dev(), m.ino()));
        let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if let (Ok(m), Some(name)) = (std::fs::metadata(parent), out.file_name()) {
            avoid.work = Some(((m.dev(), m.ino()), crate::work::pack_prefix(name).into_bytes()));
        }
    }
    let mut walk = Walk::default();
    walk.entries.push(Entry { rel: Vec::new(), kind: Kind::Dir, stat: stat_of(&meta) });
    let mut seen = std::collections::HashMap::new();
    dir(root, Vec::new(), (meta.dev(), meta.ino()), filter, &avoid, &mut seen, &mut walk)?;
    Ok(walk)
}

/// Adds what directory `rel` holds; returns whether it added anything.
#[allow(clippy::too_many_arguments)]
fn dir(
    root: &Path,
    rel: Vec<u8>,
    here: (u64, u64),
    filter: &Filter,
    avoid: &Avoid,
    seen: &mut std::collections::HashMap<(u64, u64), usize>,
    walk: &mut Walk,
) -> Result<bool, String> {
    let path = if rel.is_empty() { root.to_path_buf() } else { root.join(OsStr::from_bytes(&rel)) };
    let mut names: Vec<Vec<u8>> = std::fs::read_dir(&path)
        .map_err(|e| format!("cannot list {}: {e}", path.display()))?
        .map(|e| e.map(|e| e.file_name().as_bytes().to_vec()))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot list {}: {e}", path.display()))?;
    names.sort();
    let before = walk.entries.len();
    for name in names {
        let child = if rel.is_empty() { name } else { [&rel[..], b"/", &name].concat() };
        if filter.excluded(&child) {
            continue;
        }
        let full = root.join(OsStr::from_bytes(&child));
        let meta = std::fs::symlink_metadata(&full).map_err(|e| format!("{}: {e}", full.display()))?;
        let ft = meta.file_type();
        let stat = stat_of(&meta);
        let name = &child[child.len() - child.rsplit(|&b| b == b'/').next().map_or(0, <[u8]>::len)..];
        let work_file = avoid.work.as_ref().is_some_and(|(dir, prefix)| *dir == here && name.starts_with(prefix));
        let id = Some((meta.dev(), meta.ino()));
        if avoid.file == id || avoid.target == id || (avoid.split == id && ft.is_dir()) || work_file {
            continue;
        }
        if ft.is_dir() {
            let at = walk.entries.len();
            walk.entries.push(Entry { rel: child.clone(), kind: Kind::Dir, stat });
            let kept = dir(root, child.clone(), (meta.dev(), meta.ino()), filter, avoid, seen, walk)?;
            if !kept && !filter.included(&child) {
                walk.entries.truncate(at);
            }
        } else if !filter.included(&child) {
            continue;
        } else if ft.is_symlink() {
            let target = std::fs::read_link(&full).map_err(|e| format!("{}: {e}", full.display()))?;
            let target = target.as_os_str().as_bytes().to_vec();
            walk.entries.push(Entry { rel: child, kind: Kind::Symlink { target }, stat });
        } else if ft.is_file() {
            let kind = match (meta.nlink() > 1).then(|| seen.get(&(meta.dev(), meta.ino()))).flatten() {
                Some(&first) => Kind::HardLink { first },
                None => {
                    if meta.nlink() > 1 {
                        seen.insert((meta.dev(), meta.ino()), walk.entries.len());
                    }
                    Kind::File { size: meta.len(), linked: meta.nlink() > 1 }
                }
            };
            walk.entries.push(Entry { rel: child, kind, stat });
        } else {
            walk.skipped.push(format!("{}: not a file, directory or symbolic link", full.display()));
        }
    }
    Ok(walk.entries.len() > before)
}

/// The stat of an entry as a pack keeps it.
pub fn stat_of(meta: &std::fs::Metadata) -> Stat {
    Stat {
        mode: meta.mode(),
        uid: meta.uid(),
        gid: meta.gid(),
        mtime_sec: meta.mtime(),
        mtime_nsec: meta.mtime_nsec() as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        std::fs::create_dir_all(r.join("b/deep/er")).unwrap();
        std::fs::create_dir_all(r.join("a/empty")).unwrap();
        std::fs::write(r.join("b/z.txt"), b"zz").unwrap();
        std::fs::write(r.join("b/a.bin"), b"").unwrap();
        std::fs::write(r.join("b/deep/er/x.png"), b"png").unwrap();
        std::fs::hard_link(r.join("b/z.txt"), r.join("a/z-again")).unwrap();
        symlink("../b/z.txt", r.join("a/link")).unwrap();
        std::fs::write(r.join(OsStr::from_bytes(b"a/\xff\xfename")), b"odd").unwrap();
        t
    }

    fn rels(w: &Walk) -> Vec<String> {
        w.entries.iter().map(|e| String::from_utf8_lossy(&e.rel).into_owned()).collect()
    }

    #[test]
    fn parents_come_first_names_sorted_by_bytes_and_kinds_are_kept() {
        let t = tree();
        let w = walk(t.path(), &Filter::default(), None).unwrap();
        assert_eq!(
            rels(&w),
            [
                "",
                "a",
                "a/empty",
                "a/link",
                "a/z-again",
                "a/\u{fffd}\u{fffd}name",
                "b",
                "b/a.bin",
                "b/deep",
                "b/deep/er",
                "b/deep/er/x.png",
                "b/z.txt"
            ]
        );
        let by = |r: &str| w.entries.iter().find(|e| String::from_utf8_lossy(&e.rel) == r).unwrap();
        assert_eq!(by("a/link").kind, Kind::Symlink { target: b"../b/z.txt".to_vec() });
        assert_eq!(by("a/z-again").kind, Kind::File { size: 2, linked: true });
        // The second name of the file is the hard link, pointing at the first in walk order.
        let first = w.entries.iter().position(|e| e.rel == b"a/z-again").unwrap();
        assert_eq!(by("b/z.txt").kind, Kind::HardLink { first });
        assert_eq!(by("a/empty").kind, Kind::Dir);
        assert_eq!(w.bytes(), 2 + 3 + 3);
        assert_eq!(by("b/deep/er/x.png").name(), b"x.png");
    }

    #[test]
    fn the_same_tree_walks_the_same() {
        let t = tree();
        let a = walk(t.path(), &Filter::default(), None).unwrap();
        let b = walk(t.path(), &Filter::default(), None).unwrap();
        assert_eq!(a.entries, b.entries);
    }

    #[test]
    fn include_keeps_matching_files_and_the_directories_leading_to_them() {
        let t = tree();
        let f = Filter { include: vec!["*.png".into()], exclude: vec![] };
        assert_eq!(rels(&walk(t.path(), &f, None).unwrap()), ["", "b", "b/deep", "b/deep/er", "b/deep/er/x.png"]);
    }

    #[test]
    fn exclude_drops_entries_and_whole_directories() {
        let t = tree();
        let f = Filter { include: vec![], exclude: vec!["deep".into(), "a/*".into()] };
        assert_eq!(rels(&walk(t.path(), &f, None).unwrap()), ["", "a", "b", "b/a.bin", "b/z.txt"]);
    }

    #[test]
    fn the_output_file_is_never_packed_into_itself() {
        let t = tree();
        let out = t.path().join("b/out.h5");
        std::fs::write(&out, b"x").unwrap();
        std::fs::write(t.path().join("b/.out.h5.packing-123"), b"left by a killed run").unwrap();
        std::fs::write(t.path().join("a/.out.h5.packing-123"), b"elsewhere: a file like any").unwrap();
        let got = rels(&walk(t.path(), &Filter::default(), Some(&out)).unwrap());
        assert!(!got.contains(&"b/out.h5".to_string()) && !got.contains(&"b/.out.h5.packing-123".to_string()));
        assert!(got.contains(&"a/.out.h5.packing-123".to_string()));
        // Nor its split folder, which `--split-dirs` fills.
        std::fs::create_dir(t.path().join("b/out-split")).unwrap();
        std::fs::write(t.path().join("b/out-split/x.h5"), b"a part").unwrap();
        let got = rels(&walk(t.path(), &Filter::default(), Some(&out)).unwrap());
        assert!(!got.iter().any(|r| r.starts_with("b/out-split")), "{got:?}");
        assert!(got.contains(&"b/z.txt".to_string()));
    }

    #[test]
    fn special_files_are_skipped_with_a_reason() {
        let t = tree();
        let fifo = std::ffi::CString::new(t.path().join("b/pipe").as_os_str().as_bytes()).unwrap();
        // SAFETY: a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
        let w = walk(t.path(), &Filter::default(), None).unwrap();
        assert!(!rels(&w).contains(&"b/pipe".to_string()));
        assert!(w.skipped[0].contains("b/pipe: not a file"), "{:?}", w.skipped);
    }

    #[test]
    fn a_file_is_not_a_folder_to_pack() {
        let t = tree();
        assert!(walk(&t.path().join("b/z.txt"), &Filter::default(), None).unwrap_err().contains("is not a directory"));
    }
}
