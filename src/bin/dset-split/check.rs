//! `dset-split check FILE`: whether a main file and its split folder agree with the split layout.
//! It reports split files that are missing (not materialised, or gone for good), split files that
//! are not readable HDF5 files with a dataset at `/data`, orphan split files, links into the split
//! folder whose target is not the portable relative form, and split files that are not where
//! their link's HDF5 path puts them (drift), and split links whose file lies outside the split
//! folder through a symbolic link (escapes). Link targets are resolved as HDF5 does, in every
//! form they may be written (`crate::links`). `--fix` rewrites such links and moves drifted files
//! to their place, only in a split folder that is provably the main file's and never through a
//! symbolic link; it never deletes a file (`dset-split gc` does that). Reads and writes with
//! plain HDF5 (the native connector), so it works without the plugin.

mod fix;

use std::collections::HashMap;
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dset_split::confine::{self, Owner};
use dset_split::ffi::sys::h5i::hid_t;
use dset_split::ffi::sys::h5l::{H5L_info2_t, H5L_type_t, H5Lget_info2};
use dset_split::ffi::sys::h5o::{H5O_INFO_BASIC, H5O_info2_t, H5O_type_t, H5Oget_info_by_name3};
use dset_split::ffi::sys::h5p::H5P_DEFAULT;
use dset_split::layout::{self, DATASET_PATH, DATASET_PATH_C, OWNER_FILE};
use dset_split::target;
use serde::Serialize;

use crate::links::Main;
use crate::status::{self, Dataset, Place, State};
use crate::{dvc, gc, h5, work};

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
    /// A split link whose file lies outside the split folder, through a symbolic link inside it
    /// (or the folder itself being one).
    Escapes,
    /// A work directory that a killed `split` or `merge` left next to the main file.
    Leftover,
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
            Kind::Escapes => "escapes",
            Kind::Leftover => "leftover",
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

/// A link into one of the main file's split folders, and where its file is.
#[derive(Debug, Clone)]
struct Reached {
    /// The file, absolute and lexically normal (as HDF5 resolves the target).
    file: PathBuf,
    /// The split folder's name.
    folder: String,
    /// The file below the split folder, `/`-separated.
    rel: String,
    /// Whether the folder is provably the main file's (`confine::owner`): only then are files
    /// moved in it.
    owned: bool,
}

impl Reached {
    /// The link target the connector writes for this file.
    fn canonical(&self) -> String {
        target::canonical(&self.folder, &self.rel)
    }
}

/// What a link of the main file is, for `check`.
enum Link {
    /// Not a link to `/data` in one of the main file's split folders.
    Other,
    /// A split link whose file lies outside its split folder, through a symbolic link: why.
    Escapes(String),
    Split(Reached),
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
    let width = crate::column_width(o.findings.iter().map(|f| f.path.as_deref().unwrap_or("-").len()));
    let file_width = crate::column_width(o.findings.iter().map(|f| f.file.len()));
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
    let main = Main::new(&args.file);
    let me = args.file.display().to_string();
    let leftovers: Vec<Finding> = work::leftovers(&args.file).into_iter().map(|l| leftover(l, &me)).collect();
    let report = status::report(&args.file).map_err(|e| match &leftovers[..] {
        [] => e,
        some => {
            let names: Vec<&str> = some.iter().map(|f| f.file.as_str()).collect();
            format!(
                "{e}; beside it: {} (left by a killed split or merge: `dset-split gc {me}` removes it)",
                names.join(", ")
            )
        }
    })?;
    // gc refuses folders it cannot confirm as the main file's (e.g. the owner file was not
    // pulled): then orphans are not looked for, and the rest is still checked.
    let mut warnings = Vec::new();
    let orphans = gc::collect(&args.file).map(|o| o.orphans).unwrap_or_else(|e| {
        let why = e.trim_end_matches("; nothing removed").trim_end_matches(": nothing removed");
        warnings.push(format!("orphan split files were not looked for: {why}"));
        Vec::new()
    });
    let main_name = &main.name;
    let links: Vec<&Dataset> = report.datasets.iter().filter(|d| d.place != Place::Inline).collect();
    // Where each link into a split folder of the main file leads, and how many links lead there.
    let mut owners = HashMap::new();
    let kinds: Vec<Link> = links.iter().map(|d| link(&main, d, &mut owners, &mut warnings)).collect();
    let mut sharing: HashMap<&Path, usize> = HashMap::new();
    for k in &kinds {
        if let Link::Split(r) = k {
            *sharing.entry(r.file.as_path()).or_default() += 1;
        }
    }
    let records = dvc::records(&args.file);
    let mut unusable: HashMap<PathBuf, Option<String>> = HashMap::new();
    let mut findings = Vec::new();
    let mut fixes = Vec::new();
    let mut maybe_drift = Vec::new();
    let mut refusals = Vec::new();
    for (i, (d, k)) in links.iter().zip(&kinds).enumerate() {
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
        let r = match k {
            Link::Other => {
                // Another external link, not to a split file; a folder's pack (`pack
                // --split-dirs`) that is not there is said to be fetched.
                if d.state == Some(State::Missing) {
                    let on_disk = main.shown(&file);
                    findings.push(finding(
                        Kind::NotMaterialised,
                        false,
                        format!("a folder's pack, not materialised: fetch it with `dvc pull {on_disk}` or `git annex get {on_disk}`"),
                    ));
                }
                continue;
            }
            Link::Escapes(why) => {
                findings.push(finding(
                    Kind::Escapes,
                    true,
                    format!(
                        "{why}: HDF5 reads the file there, and dset-split never writes, moves or removes through a \
                         symbolic link; replace the link by a real directory holding the files, or move them into \
                         the split folder"
                    ),
                ));
                continue;
            }
            Link::Split(r) => r,
        };
        // A virtual dataset's mapping names its file for good: nothing to rewrite, and after a
        // move its file keeps its name (not drift).
        let fixed_for_good = d.form == Some("virtual");
        let canonical = r.canonical();
        let not_relative = || Finding {
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
                        "tools that compare link targets miss this form, and it is not how the connector writes it"
                    }
                ),
            )
        };
        if d.state == Some(State::Missing) {
            let on_disk = main.shown(&canonical);
            let annexed = std::fs::read_link(&r.file).is_ok_and(|t| t.to_string_lossy().contains("annex/objects"));
            findings.push(if annexed {
                finding(
                    Kind::NotMaterialised,
                    false,
                    format!("not materialised: fetch it with `git annex get {on_disk}`"),
                )
            } else if records.as_ref().is_some_and(|rec| rec.knows(&r.file)) {
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
            if file != canonical && !fixed_for_good {
                findings.push(not_relative());
                fixes.push(Fix { link: i, moves: None, target: canonical });
            }
            continue;
        }
        // A split file on disk: it must be an HDF5 file with a dataset at /data.
        let shown = main.shown(&canonical);
        let broken = unusable.entry(r.file.clone()).or_insert_with(|| unusable_reason(&r.file, &shown)).clone();
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
        if fixed_for_good {
            continue;
        }
        if file != canonical {
            findings.push(not_relative());
        }
        let Some(wanted) = layout::relative_file(&d.raw_path) else { continue };
        if wanted != r.rel && sharing.get(r.file.as_path()) == Some(&1) {
            maybe_drift.push((i, wanted));
        } else if file != canonical {
            fixes.push(Fix { link: i, moves: None, target: canonical });
        }
    }
    // Drift: unless the file's own layout path names this same link (reached through another
    // group path: a soft link, or a group with several hard links).
    if !maybe_drift.is_empty() {
        let f = h5::open(&args.file, false)?;
        for (i, wanted) in maybe_drift {
            let d = links[i];
            let Link::Split(r) = &kinds[i] else { unreachable!("only split links drift") };
            let file = d.file.clone().unwrap_or_default();
            let aliased = layout::hdf5_path_of(&r.rel).is_some_and(|q| leads_to(f.0, &q, &r.file, &main));
            if aliased {
                if file != r.canonical() {
                    fixes.push(Fix { link: i, moves: None, target: r.canonical() });
                }
                continue;
            }
            let target = target::canonical(&r.folder, &wanted);
            let root = main.place(&r.folder);
            let moves = match (confine::below(&root, &r.rel), confine::below(&root, &wanted)) {
                (Ok(from), Ok(to)) if r.owned => Ok((from, to, root)),
                (Err(why), _) | (_, Err(why)) => Err(why),
                _ => Err(format!(
                    "{} has no {OWNER_FILE} file naming {main_name} (not pulled?), so it is not confirmed as {me}'s \
                     split folder and no file in it is moved",
                    r.folder
                )),
            };
            let advice = match &moves {
                Ok(_) => format!(
                    "the file belongs at {target} (the layout path of {}): run `dset-split check --fix {me}` to move \
                     it there and rewrite the link",
                    d.path
                ),
                Err(why) if r.owned => {
                    format!("the file belongs at {target} (the layout path of {}), but {why}", d.path)
                }
                Err(why) => format!(
                    "the file belongs at {target} (the layout path of {}), but {why}: fetch or recreate \
                     {}/{OWNER_FILE} (one line: {main_name}), then run `dset-split check --fix {me}`",
                    d.path, r.folder
                ),
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
            match moves {
                Ok(moves) => fixes.push(Fix { link: i, moves: Some(moves), target }),
                Err(why) => {
                    refusals.push(format!("{} was not moved to {target}: {why}", d.path));
                    if file != r.canonical() {
                        fixes.push(Fix { link: i, moves: None, target: r.canonical() });
                    }
                }
            }
        }
    }

    // By HDF5 path (the drifted ones were found last), each link's findings in the order found;
    // then the leftovers.
    findings.sort_by(|a, b| a.path.cmp(&b.path));
    findings.extend(leftovers);
    let mut fix_failed = false;
    if args.fix && !refusals.is_empty() {
        fix_failed = true;
        for r in &refusals {
            eprintln!("dset-split check: {r}");
        }
    }
    if args.fix && !fixes.is_empty() {
        let done = fix::apply(&args.file, &links, fixes, &me);
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

/// The finding for a leftover work directory of a killed `split` or `merge`.
fn leftover(l: work::Leftover, me: &str) -> Finding {
    Finding {
        kind: Kind::Leftover,
        path: None,
        file: l.path.display().to_string(),
        expected: None,
        problem: true,
        fixed: false,
        advice: format!(
            "left by a `dset-split split` or `merge` that was killed ({} bytes): when none is running, \
             `dset-split gc {me}` removes it",
            l.bytes
        ),
        link: None,
    }
}

/// What the link `d` is: a split link of the main file (to `/data` in one of its split folders,
/// however its target is written), one whose file lies outside that folder through a symbolic
/// link, or another link. A folder's owner is looked up once (in `owners`); a folder that is
/// not a place dset-split may touch adds a warning.
fn link(main: &Main, d: &Dataset, owners: &mut HashMap<String, Owner>, warnings: &mut Vec<String>) -> Link {
    let (Some(t), Some(DATASET_PATH)) = (d.target.as_ref(), d.object.as_deref()) else { return Link::Other };
    let Some((folder, rel)) = &t.split else { return Link::Other };
    let owner = owners.entry(folder.clone()).or_insert_with(|| {
        let owner = confine::owner(&main.place(folder), &main.name);
        if let Owner::Unsafe(why) = &owner {
            warnings.push(format!("{why}: no file in it is moved"));
        }
        owner
    });
    let owned = match owner {
        Owner::Ours => true,
        Owner::Other(_) => return Link::Other, // another main file's split folder
        Owner::Missing | Owner::Unclaimed | Owner::Unsafe(_) => false,
    };
    if let Some(why) = escapes(main, folder, rel) {
        return Link::Escapes(why);
    }
    Link::Split(Reached { file: t.file.clone(), folder: folder.clone(), rel: rel.clone(), owned })
}

/// Why the file `rel` of the split folder `folder` really lies outside the folder, if it does: a
/// directory on the way to it (the folder itself included) is a symbolic link that leads out.
fn escapes(main: &Main, folder: &str, rel: &str) -> Option<String> {
    let home = main.folder(folder); // the main file's directory is a real path already
    let mut dir = home.clone();
    let mut on_the_way = vec![dir.clone()];
    let parts: Vec<&str> = rel.split('/').collect();
    for part in &parts[..parts.len() - 1] {
        dir.push(part);
        on_the_way.push(dir.clone());
    }
    for dir in on_the_way {
        let Ok(to) = std::fs::read_link(&dir) else { continue };
        // A link that leads nowhere leads out of the folder too: no real directory of it is there.
        if !std::fs::canonicalize(&dir).is_ok_and(|real| real.starts_with(&home)) {
            let shown = main.shown(dir.strip_prefix(&main.dir).ok()?.to_str()?);
            return Some(format!("{shown} is a symbolic link to {}, outside the split folder", to.display()));
        }
    }
    None
}

/// Whether the HDF5 path `q` of the main file `f` is an external link to the split file `file`.
fn leads_to(f: hid_t, q: &[u8], file: &Path, main: &Main) -> bool {
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
    h5::external_target(f, &name, size)
        .is_some_and(|(stored, object)| object == DATASET_PATH && main.target(stored.as_bytes()).file == file)
}

/// Why the split file `path` (`shown` in messages) is not usable, or None when it opens as HDF5
/// and holds a dataset at `/data`.
fn unusable_reason(path: &Path, shown: &str) -> Option<String> {
    let f = match h5::open(path, false) {
        Ok(f) => f,
        Err(e) => return Some(e.replace(&path.display().to_string(), shown)),
    };
    // SAFETY: zeroed is a valid bit pattern for this plain C struct, filled in by HDF5.
    let mut oinfo: H5O_info2_t = unsafe { std::mem::zeroed() };
    // SAFETY: a valid file id, a NUL-terminated path and an output struct.
    let rc = unsafe { H5Oget_info_by_name3(f.0, DATASET_PATH_C.as_ptr(), &mut oinfo, H5O_INFO_BASIC, H5P_DEFAULT) };
    if rc < 0 || oinfo.type_ != H5O_type_t::H5O_TYPE_DATASET {
        return Some(format!("{shown} holds no dataset at {DATASET_PATH}"));
    }
    None
}
