//! `dset-split check FILE`: whether a main file and its split folder agree with the split layout.
//! It reports split files that are missing (not materialised, or gone for good), split files that
//! are not readable HDF5 files with a dataset at `/data`, orphan split files, links into the split
//! folder whose target is not the portable relative form, and split files that are not where
//! their link's HDF5 path puts them (drift). `--fix` rewrites such links and moves drifted files
//! to their place; it never deletes a file (`dset-split gc` does that). Reads and writes with
//! plain HDF5 (the native connector), so it works without the plugin.

mod fix;

use std::collections::HashMap;
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dset_split::layout::{self, DATASET_PATH, DATASET_PATH_C, DEFAULT_SUFFIX, OWNER_FILE};
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5l::{H5L_info2_t, H5L_type_t, H5Lget_info2};
use hdf5_sys::h5o::{H5O_INFO_BASIC, H5O_info2_t, H5O_type_t, H5Oget_info_by_name3};
use hdf5_sys::h5p::H5P_DEFAULT;
use serde::Serialize;

use crate::status::{self, Dataset, Place, State};
use crate::{dvc, gc, h5};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The main HDF5 file (e.g. run.h5); do not run --fix while a program uses it
    file: PathBuf,
    /// Rewrite links that are not in the relative form and move drifted split files to their
    /// layout path (nothing is deleted; missing, corrupt and orphan files are left as they are)
    #[arg(long)]
    fix: bool,
    /// Print one JSON object instead of a table (for scripts)
    #[arg(long)]
    json: bool,
}

/// What a finding is about.
#[derive(Debug, Serialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Kind {
    /// A split link whose file is missing but recorded by DVC or git-annex: fetch it (not a
    /// problem).
    NotMaterialised,
    /// A split link whose file is missing and that nothing records.
    Dangling,
    /// A split file that is not an HDF5 file, or holds no dataset at `/data`.
    Corrupt,
    /// A split file no link leads to.
    Orphan,
    /// A link into the split folder whose stored target is not the canonical relative form.
    NotRelative,
    /// A split file that is not at the layout path of its link's HDF5 path.
    Drift,
}

impl Kind {
    /// Its name in the table (as in the JSON).
    fn name(self) -> &'static str {
        match self {
            Kind::NotMaterialised => "not-materialised",
            Kind::Dangling => "dangling",
            Kind::Corrupt => "corrupt",
            Kind::Orphan => "orphan",
            Kind::NotRelative => "not-relative",
            Kind::Drift => "drift",
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Finding {
    kind: Kind,
    /// The HDF5 path of the link; for an orphan, the path its file name was made from (no link
    /// there leads to it).
    path: Option<String>,
    /// The split file: for links, the link's target as stored; for orphans, relative to the main
    /// file's directory.
    file: String,
    /// For `not-relative` and `drift`: the link target the layout wants (relative to the main
    /// file's directory; for drift, also where the file belongs).
    #[serde(skip_serializing_if = "Option::is_none")]
    expected: Option<String>,
    /// Whether it needs attention (`not-materialised` is information).
    problem: bool,
    /// Whether `--fix` fixed it.
    fixed: bool,
    /// What to do (or, once fixed, what was done).
    advice: String,
    /// The link a fix rewrites (its index in the list of links).
    #[serde(skip)]
    link: Option<usize>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Outcome {
    file: String,
    findings: Vec<Finding>,
    /// Problems left (not fixed).
    problems: usize,
    fixed: usize,
    /// What could not be checked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

/// A split folder of the main file: its name next to the main file and its real path.
struct Folder {
    name: String,
    real: PathBuf,
    /// Whether its owner file names the main file (else it has none, e.g. not pulled): only then
    /// are files moved in it.
    owned: bool,
}

/// Where an existing link target really is, inside one of the main file's split folders.
#[derive(Debug, Clone)]
struct Resolved {
    /// The file's path with its directories resolved (the file itself may be a symbolic link
    /// into a cache: it is not followed).
    real: PathBuf,
    /// The split folder's name.
    folder: String,
    /// The real split folder.
    folder_real: PathBuf,
    /// Whether the folder's owner file names the main file.
    owned: bool,
    /// The file relative to the split folder, `/`-separated.
    rel: String,
}

impl Resolved {
    /// The link target the connector writes for this file.
    fn canonical(&self) -> String {
        format!("{}/{}", self.folder, self.rel)
    }
}

/// A link to rewrite, and for drift the move of its file that comes first.
#[derive(Debug)]
struct Fix {
    /// The link (its index in the list of links).
    link: usize,
    /// For drift: the file now and where it goes (in the same split folder).
    moves: Option<(PathBuf, PathBuf, PathBuf)>,
    /// The link's new target.
    target: String,
}

/// Exit codes: 0 no problems left (information such as not-materialised files is fine); 1
/// problems remain; 2 FILE cannot be read or a fix failed.
pub fn run(args: &Args) -> ExitCode {
    match check(args) {
        Ok((outcome, fix_failed)) => {
            if args.json {
                println!("{}", serde_json::to_string_pretty(&outcome).expect("an outcome serialises"));
            } else {
                print_table(&outcome);
            }
            ExitCode::from(if fix_failed {
                2
            } else if outcome.problems > 0 {
                1
            } else {
                0
            })
        }
        Err(msg) => {
            eprintln!("dset-split check: {msg}");
            ExitCode::from(2)
        }
    }
}

fn print_table(o: &Outcome) {
    let width = o.findings.iter().map(|f| f.path.as_deref().unwrap_or("-").len()).max().unwrap_or(0);
    let file_width = o.findings.iter().map(|f| f.file.len()).max().unwrap_or(0);
    for f in &o.findings {
        let state = if f.fixed {
            "fixed"
        } else if f.problem {
            "problem"
        } else {
            "info"
        };
        let path = f.path.as_deref().unwrap_or("-");
        println!("{:16}  {state:7}  {path:width$}  {:file_width$}  {}", f.kind.name(), f.file, f.advice);
    }
    println!("{}: {} problem(s), {} fixed", o.file, o.problems, o.fixed);
    for w in &o.warnings {
        eprintln!("dset-split check: {w}");
    }
}

/// The findings, fixed when `args.fix`; and whether a fix failed (its message is printed).
fn check(args: &Args) -> Result<(Outcome, bool), String> {
    let main = args.file.as_path();
    let report = status::report(main)?;
    // gc refuses folders it cannot confirm as the main file's (e.g. the owner file was not
    // pulled): then orphans are not looked for, and the rest is still checked.
    let mut warnings = Vec::new();
    let orphans = gc::collect(main).map(|o| o.orphans).unwrap_or_else(|e| {
        let why = e.trim_end_matches("; nothing removed").trim_end_matches(": nothing removed");
        warnings.push(format!("orphan split files were not looked for: {why}"));
        Vec::new()
    });
    let main_dir = match main.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let shown = |file: &str| main.parent().unwrap_or(Path::new("")).join(file).display().to_string();
    let me = main.display().to_string();
    let main_name = main.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let links: Vec<&Dataset> = report.datasets.iter().filter(|d| d.place != Place::Inline).collect();
    let folders = own_folders(main, main_dir, &links);
    // Where each link to an existing file of a split folder leads, and how many links lead there.
    let resolved: Vec<Option<Resolved>> = links
        .iter()
        .map(|d| match (d.file.as_deref(), d.object.as_deref()) {
            (Some(file), Some(DATASET_PATH)) => resolve(main_dir, file, &folders),
            _ => None,
        })
        .collect();
    let mut sharing: HashMap<&Path, usize> = HashMap::new();
    for r in resolved.iter().flatten() {
        *sharing.entry(r.real.as_path()).or_default() += 1;
    }
    let records = dvc::records(main);
    let mut unusable: HashMap<PathBuf, Option<String>> = HashMap::new();
    let mut findings = Vec::new();
    let mut fixes = Vec::new();
    let mut maybe_drift = Vec::new();
    let mut refusals = Vec::new();
    for (i, (d, r)) in links.iter().zip(&resolved).enumerate() {
        let Some(file) = d.file.clone() else { continue };
        let finding = |kind, problem, advice| Finding {
            kind,
            path: Some(d.path.clone()),
            file: file.clone(),
            expected: None,
            problem,
            fixed: false,
            advice,
            link: None,
        };
        if d.place == Place::Split && d.state == Some(State::Missing) {
            let on_disk = shown(&file);
            let annexed = std::fs::read_link(&on_disk).is_ok_and(|t| t.to_string_lossy().contains("annex/objects"));
            findings.push(if annexed {
                finding(
                    Kind::NotMaterialised,
                    false,
                    format!("not materialised: fetch it with `git annex get {on_disk}`"),
                )
            } else if records.as_ref().is_some_and(|rec| rec.knows(Path::new(&on_disk))) {
                finding(Kind::NotMaterialised, false, format!("not materialised: fetch it with `dvc pull {on_disk}`"))
            } else {
                finding(
                    Kind::Dangling,
                    true,
                    format!(
                        "the file is missing, and neither DVC nor git-annex records it: restore it from a backup \
                         or version control, or delete the link {}",
                        d.path
                    ),
                )
            });
            continue;
        }
        if d.place != Place::Split && r.is_none() {
            continue; // another external link, not into a split folder
        }
        // A split file on disk: it must be an HDF5 file with a dataset at /data.
        let key = r.as_ref().map(|r| r.real.clone()).unwrap_or_else(|| main_dir.join(&file));
        let broken = unusable.entry(key).or_insert_with(|| unusable_reason(&shown(&file))).clone();
        if let Some(why) = broken {
            findings.push(finding(
                Kind::Corrupt,
                true,
                format!(
                    "{why}: restore the file from a backup or version control (e.g. `dvc checkout`, \
                     `git annex get`), or delete the link {}",
                    d.path
                ),
            ));
            continue;
        }
        let Some(r) = r else { continue };
        let canonical = r.canonical();
        if file != canonical {
            findings.push(Finding {
                expected: Some(canonical.clone()),
                link: Some(i),
                ..finding(
                    Kind::NotRelative,
                    true,
                    format!(
                        "{}: run `dset-split check --fix {me}` to store the relative target {canonical}",
                        if Path::new(&file).is_absolute() {
                            "an absolute target breaks when the tree is moved or cloned"
                        } else {
                            "tools that compare link targets (the connector, `dset-split gc`) miss this form"
                        }
                    ),
                )
            });
        }
        let Some(wanted) = layout::relative_file(&d.raw_path) else { continue };
        if wanted != r.rel && sharing.get(r.real.as_path()) == Some(&1) {
            maybe_drift.push((i, wanted));
        } else if file != canonical {
            fixes.push(Fix { link: i, moves: None, target: canonical });
        }
    }
    // Drift: unless the file's own layout path names this same link (reached through another
    // group path: a soft link, or a group with several hard links).
    if !maybe_drift.is_empty() {
        let f = h5::open(main, false)?;
        for (i, wanted) in maybe_drift {
            let (d, r) = (links[i], resolved[i].as_ref().expect("resolved above"));
            let file = d.file.clone().unwrap_or_default();
            let aliased = layout::hdf5_path_of(&r.rel).is_some_and(|q| leads_to(f.0, &q, &r.real, main_dir, &folders));
            if aliased {
                if file != r.canonical() {
                    fixes.push(Fix { link: i, moves: None, target: r.canonical() });
                }
                continue;
            }
            let target = format!("{}/{wanted}", r.folder);
            let unconfirmed = format!(
                "{} has no {OWNER_FILE} file (not pulled?), so it is not confirmed as {me}'s split folder and no file \
                 in it is moved",
                r.folder
            );
            let advice = if r.owned {
                format!(
                    "the file belongs at {target} (the layout path of {}): run `dset-split check --fix {me}` to move \
                     it there and rewrite the link",
                    d.path
                )
            } else {
                format!(
                    "the file belongs at {target} (the layout path of {}), but {unconfirmed}: fetch or recreate \
                     {}/{OWNER_FILE} (one line: {main_name}), then run `dset-split check --fix {me}`",
                    d.path, r.folder
                )
            };
            findings.push(Finding {
                kind: Kind::Drift,
                path: Some(d.path.clone()),
                file: file.clone(),
                expected: Some(target.clone()),
                problem: true,
                fixed: false,
                advice,
                link: Some(i),
            });
            if r.owned {
                let to = r.folder_real.join(&wanted);
                fixes.push(Fix { link: i, moves: Some((r.real.clone(), to, r.folder_real.clone())), target });
            } else {
                refusals.push(format!("{} was not moved to {target}: {unconfirmed}", d.path));
                if file != r.canonical() {
                    fixes.push(Fix { link: i, moves: None, target: r.canonical() });
                }
            }
        }
    }

    // By HDF5 path (the drifted ones were found last), each link's findings in the order found.
    findings.sort_by(|a, b| a.path.cmp(&b.path));
    let mut fix_failed = false;
    if args.fix && !refusals.is_empty() {
        fix_failed = true;
        for r in &refusals {
            eprintln!("dset-split check: {r}");
        }
    }
    if args.fix && !fixes.is_empty() {
        let done = fix::apply(main, &links, fixes, &me);
        fix_failed |= done.is_err();
        let done = done.unwrap_or_else(|(done, errors)| {
            for e in errors {
                eprintln!("dset-split check: {e}");
            }
            done
        });
        for f in findings.iter_mut() {
            // A rewrite fixes the link's target; a move also the file's place.
            let covers = |&&(link, moved, _): &&(usize, bool, String)| {
                Some(link) == f.link && (moved || f.kind == Kind::NotRelative)
            };
            let Some((_, _, what)) = done.iter().find(covers) else { continue };
            f.fixed = true;
            f.advice = format!("fixed: {what}");
        }
    }

    // Orphans: gc's (it counts links in every form of their target, so none of these is reached).
    for orphan in orphans {
        let path = orphan.split_once('/').and_then(|(_, rel)| layout::hdf5_path_of(rel));
        let advice = format!("no link of {me} leads to this file: run `dset-split gc {me}` to remove it");
        findings.push(Finding {
            kind: Kind::Orphan,
            path: path.map(|p| String::from_utf8_lossy(&p).into_owned()),
            file: orphan,
            expected: None,
            problem: true,
            fixed: false,
            advice,
            link: None,
        });
    }
    let problems = findings.iter().filter(|f| f.problem && !f.fixed).count();
    let fixed = findings.iter().filter(|f| f.fixed).count();
    Ok((Outcome { file: me, findings, problems, fixed, warnings }, fix_failed))
}

/// The split folders next to the main file: those whose owner file names it (any suffix), and
/// those without an owner file that links lead into (or the default one).
fn own_folders(main: &Path, main_dir: &Path, links: &[&Dataset]) -> Vec<Folder> {
    let main_name = main.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = main.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let Ok(entries) = std::fs::read_dir(main_dir) else { return Vec::new() };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let (path, name) = (entry.path(), entry.file_name());
        // The connector names a split folder `<stem><suffix>`.
        let Some(name) = name.to_str().filter(|n| n.len() > stem.len() && n.starts_with(&stem)) else { continue };
        let owned = match std::fs::read_to_string(path.join(OWNER_FILE)) {
            Ok(owner) if owner.trim_end_matches('\n') == main_name => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            _ => continue, // another main file's, or unreadable
        };
        let linked = || {
            name == format!("{stem}{DEFAULT_SUFFIX}")
                || links.iter().any(|d| {
                    d.place == Place::Split && d.file.as_deref().and_then(|f| f.split('/').next()) == Some(name)
                })
        };
        if !path.is_dir() || !(owned || linked()) {
            continue;
        }
        if let Ok(real) = std::fs::canonicalize(&path) {
            found.push(Folder { name: name.to_string(), real, owned });
        }
    }
    found
}

/// Where the external link target `stored` leads when it is an existing file inside one of the
/// main file's split folders. Relative targets are looked up next to the main file, as HDF5 does.
fn resolve(main_dir: &Path, stored: &str, folders: &[Folder]) -> Option<Resolved> {
    let full = main_dir.join(stored); // an absolute target replaces main_dir
    if !std::fs::metadata(&full).is_ok_and(|m| m.is_file()) {
        return None;
    }
    let real = gc::real_path(&full)?;
    folders.iter().find_map(|folder| {
        let rest = real.strip_prefix(&folder.real).ok()?;
        let parts: Option<Vec<&str>> = rest.components().map(|c| c.as_os_str().to_str()).collect();
        let rel = parts.filter(|p| !p.is_empty())?.join("/");
        Some(Resolved {
            real: real.clone(),
            folder: folder.name.clone(),
            folder_real: folder.real.clone(),
            owned: folder.owned,
            rel,
        })
    })
}

/// Whether the HDF5 path `q` of the main file `f` is an external link to the split file `real`.
fn leads_to(f: hid_t, q: &[u8], real: &Path, main_dir: &Path, folders: &[Folder]) -> bool {
    let Ok(name) = CString::new(q) else { return false };
    // SAFETY: zeroed is a valid bit pattern for this plain C struct, filled in by HDF5.
    let mut info: H5L_info2_t = unsafe { std::mem::zeroed() };
    // SAFETY: a valid file id, a NUL-terminated path and an output struct.
    if unsafe { H5Lget_info2(f, name.as_ptr(), &mut info, H5P_DEFAULT) } < 0
        || info.type_ != H5L_type_t::H5L_TYPE_EXTERNAL
    {
        return false;
    }
    let mut u = info.u;
    // SAFETY: for external links the union holds the value size.
    let size = unsafe { *u.val_size() };
    h5::external_target(f, &name, size).is_some_and(|(file, object)| {
        object == DATASET_PATH && resolve(main_dir, &file, folders).is_some_and(|r| r.real == real)
    })
}

/// Why the split file `path` is not usable, or None when it opens as HDF5 and holds a dataset at
/// `/data`.
fn unusable_reason(path: &str) -> Option<String> {
    let f = match h5::open(Path::new(path), false) {
        Ok(f) => f,
        Err(e) => return Some(e),
    };
    // SAFETY: zeroed is a valid bit pattern for this plain C struct, filled in by HDF5.
    let mut oinfo: H5O_info2_t = unsafe { std::mem::zeroed() };
    // SAFETY: a valid file id, a NUL-terminated path and an output struct.
    let rc = unsafe { H5Oget_info_by_name3(f.0, DATASET_PATH_C.as_ptr(), &mut oinfo, H5O_INFO_BASIC, H5P_DEFAULT) };
    if rc < 0 || oinfo.type_ != H5O_type_t::H5O_TYPE_DATASET {
        return Some(format!("{path} holds no dataset at {DATASET_PATH}"));
    }
    None
}
