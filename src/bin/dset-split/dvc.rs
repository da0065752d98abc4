//! What DVC recorded about the files next to a main file: the `.dvc` files of its directory and,
//! for tracked folders, the folder's file list (the `.dir` object in the local DVC cache). Files
//! are compared by MD5 of their content, as DVC 3 hashes them.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

/// A file compared with what DVC recorded at the last `dvc add` / `dvc commit`.
#[derive(Debug, Serialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum Dvc {
    /// The same content as recorded.
    Unchanged,
    /// Changed since it was recorded.
    Modified,
    /// In a tracked folder, but not recorded (created since).
    New,
    /// Tracked, but the record of the folder's files is not in the local DVC cache (pulled
    /// from elsewhere without it), so it cannot be compared.
    Unknown,
}

/// DVC's records for the files of one directory.
#[derive(Debug, Default)]
pub struct Records {
    /// Tracked files (absolute) and their MD5.
    files: HashMap<PathBuf, String>,
    /// Tracked folders (absolute), and whether their file list is in the local cache.
    folders: Vec<(PathBuf, bool)>,
    /// MD5s computed before, by file (see [`Hashes`]).
    hashes: RefCell<Hashes>,
}

/// The MD5 of files as this tool computed them, kept with what identifies a file's version
/// (size, modification time, inode), as DVC's own state database does, so that `status` hashes
/// only files that changed since the last run. Kept in `.dvc/tmp/` (which DVC keeps out of git).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Hashes {
    #[serde(skip)]
    at: Option<PathBuf>,
    #[serde(skip)]
    changed: bool,
    files: HashMap<String, Hashed>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq, Clone)]
struct Hashed {
    size: u64,
    mtime_ns: i128,
    inode: u64,
    md5: String,
}

/// The file name of the MD5 cache in `.dvc/tmp/`.
const HASHES: &str = "dset-split-md5.json";

impl Hashes {
    fn load(root: &Path) -> Hashes {
        let at = root.join(".dvc").join("tmp").join(HASHES);
        let mut h: Hashes = std::fs::read(&at).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
        h.at = Some(at);
        h
    }

    /// The MD5 of `path`: remembered when the file's size, modification time and inode are
    /// those it had when it was hashed, else computed (and remembered, unless the file changed
    /// in the last two seconds: a change within the clock's resolution would not show).
    fn md5(&mut self, path: &Path) -> Option<String> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path).ok()?;
        let now = Hashed {
            size: meta.len(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            inode: meta.ino(),
            md5: String::new(),
        };
        let key = path.to_string_lossy().into_owned();
        if let Some(known) = self.files.get(&key) {
            if (known.size, known.mtime_ns, known.inode) == (now.size, now.mtime_ns, now.inode) {
                return Some(known.md5.clone());
            }
        }
        let md5 = file_md5(path)?;
        let settled = meta.modified().ok().and_then(|m| m.elapsed().ok()).is_some_and(|age| age.as_secs() >= 2);
        if settled {
            self.files.insert(key, Hashed { md5: md5.clone(), ..now });
            self.changed = true;
        }
        Some(md5)
    }

    /// Writes the cache back if it changed (best effort: without it, files are hashed again).
    fn save(&mut self) {
        let Some(at) = self.at.as_ref().filter(|_| self.changed) else { return };
        self.files.retain(|k, _| Path::new(k).exists());
        // Written under a new, unpredictable name beside it (never through a planted link), then
        // renamed over it.
        if let (Some(dir), Ok(text)) = (at.parent(), serde_json::to_vec(&*self)) {
            use std::io::Write;
            if std::fs::create_dir_all(dir).is_ok() {
                if let Ok(mut tmp) = dset_split::confine::temp_beside(at) {
                    if tmp.write_all(&text).is_ok() {
                        let _ = tmp.persist(at);
                    }
                }
            }
        }
        self.changed = false;
    }
}

impl Records {
    /// `path` (in the main file's directory tree) against the records; None when DVC does not
    /// track it.
    pub fn compare(&self, path: &Path) -> Option<Dvc> {
        let path = absolute(path);
        if let Some(md5) = self.files.get(&path) {
            return Some(match self.hashes.borrow_mut().md5(&path) {
                Some(now) if &now == md5 => Dvc::Unchanged,
                _ => Dvc::Modified,
            });
        }
        let (_, listed) = self.folders.iter().find(|(dir, _)| path.starts_with(dir))?;
        Some(if *listed { Dvc::New } else { Dvc::Unknown })
    }

    /// Whether DVC records `path` (so `dvc pull` can bring it back): a tracked file, a file in a
    /// tracked folder's file list, or any file inside a tracked folder whose list is not in the
    /// local cache (a fresh clone before `dvc pull`: DVC knows, this tool cannot tell).
    pub(crate) fn knows(&self, path: &Path) -> bool {
        let path = absolute(path);
        self.files.contains_key(&path) || self.folders.iter().any(|(dir, listed)| !listed && path.starts_with(dir))
    }

    /// Keeps the MD5s computed for the next run.
    pub fn save(&self) {
        self.hashes.borrow_mut().save();
    }
}

/// The records of the DVC repository holding `main`'s directory, if there is one.
pub fn records(main: &Path) -> Option<Records> {
    let dir = absolute(main.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")));
    let root = dir.ancestors().find(|a| a.join(".dvc").is_dir())?.to_path_buf();
    let cache = cache_dir(&root);
    let mut records = Records { hashes: RefCell::new(Hashes::load(&root)), ..Records::default() };
    for entry in std::fs::read_dir(&dir).ok()?.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().ends_with(".dvc") || !entry.path().is_file() {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else { continue };
        for (md5, path) in outs(&text) {
            let out = dir.join(&path);
            match md5.strip_suffix(".dir") {
                None => {
                    records.files.insert(out, md5);
                }
                Some(hash) => {
                    let listing = listing(&cache, hash);
                    records.folders.push((out.clone(), listing.is_some()));
                    for entry in listing.unwrap_or_default() {
                        records.files.insert(out.join(&entry.relpath), entry.md5);
                    }
                }
            }
        }
    }
    Some(records)
}

/// The `(md5, path)` of each output of a `.dvc` file. DVC writes these files itself in a fixed,
/// simple shape (`outs:` then `- md5: ...` / `  path: ...` items), which is all that is read.
fn outs(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut in_outs = false;
    let (mut md5, mut path): (Option<String>, Option<String>) = (None, None);
    let mut flush = |md5: &mut Option<String>, path: &mut Option<String>| {
        if let (Some(m), Some(p)) = (md5.take(), path.take()) {
            found.push((m, p));
        }
    };
    for line in text.lines() {
        if !line.starts_with([' ', '-']) {
            flush(&mut md5, &mut path);
            in_outs = line.trim_end() == "outs:";
            continue;
        }
        if !in_outs {
            continue;
        }
        if line.starts_with("- ") {
            flush(&mut md5, &mut path);
        }
        let item = line.trim_start_matches(['-', ' ']);
        let value = |key: &str| item.strip_prefix(key).map(|v| v.trim().trim_matches(['\'', '"']).to_string());
        if let Some(v) = value("md5:") {
            md5 = Some(v);
        } else if let Some(v) = value("path:") {
            path = Some(v);
        }
    }
    flush(&mut md5, &mut path);
    found
}

#[derive(Debug, Deserialize)]
struct Entry {
    md5: String,
    relpath: String,
}

/// A tracked folder's file list, from the local cache.
fn listing(cache: &Path, hash: &str) -> Option<Vec<Entry>> {
    if hash.len() < 3 {
        return None;
    }
    let object = cache.join("files").join("md5").join(&hash[..2]).join(format!("{}.dir", &hash[2..]));
    serde_json::from_slice(&std::fs::read(object).ok()?).ok()
}

/// The repository's cache directory: `cache.dir` from `.dvc/config` (relative to `.dvc/`), else
/// `.dvc/cache`.
fn cache_dir(root: &Path) -> PathBuf {
    let dvc = root.join(".dvc");
    let configured = std::fs::read_to_string(dvc.join("config")).ok().and_then(|text| {
        let mut in_cache = false;
        text.lines().find_map(|line| {
            let line = line.trim();
            if line.starts_with('[') {
                in_cache = line == "[cache]";
                return None;
            }
            let (key, value) = line.split_once('=')?;
            (in_cache && key.trim() == "dir").then(|| value.trim().to_string())
        })
    });
    match configured {
        Some(dir) => dvc.join(dir),
        None => dvc.join("cache"),
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// MD5 of a file's content, read in blocks (bounded memory for any size).
fn file_md5(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Some(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::outs;

    #[test]
    fn reads_the_outputs_dvc_writes() {
        let text = "outs:\n- md5: 8dff2946.dir\n  size: 137340\n  nfiles: 40\n  hash: md5\n  path: run-split\n";
        assert_eq!(outs(text), [("8dff2946.dir".to_string(), "run-split".to_string())]);
        let two = "outs:\n- md5: aa\n  path: 'a b.h5'\n- path: c.h5\n  md5: bb\nmeta: 1\n";
        assert_eq!(outs(two), [("aa".into(), "a b.h5".into()), ("bb".into(), "c.h5".into())]);
        assert!(outs("deps:\n- md5: cc\n  path: x\n").is_empty());
    }
}
