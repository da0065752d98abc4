//! `dset-split status FILE`: every dataset of a main file, where it lives (inline in the main file,
//! in a split file, or behind another external link), its size, and whether its split file is
//! there. Reads with plain HDF5 (the native connector), so it works without the plugin.

use std::ffi::{CStr, c_char, c_void};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::dvc::{self, Dvc};
use crate::h5;
use crate::links::{Main, Target};

use dset_split::ffi::sys::h5::{H5_index_t, H5_iter_order_t, herr_t};
use dset_split::ffi::sys::h5d::{H5Dget_storage_size, H5Dopen2};
use dset_split::ffi::sys::h5i::hid_t;
use dset_split::ffi::sys::h5l::{H5L_info2_t, H5L_type_t, H5Lvisit2};
use dset_split::ffi::sys::h5o::{H5O_INFO_BASIC, H5O_info2_t, H5O_type_t, H5Oget_info_by_name3};
use dset_split::ffi::sys::h5p::H5P_DEFAULT;
use dset_split::layout::DATASET_PATH;
use dset_split::split::IdGuard;
use serde::Serialize;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The main HDF5 file (e.g. run.h5)
    file: PathBuf,
    /// Print one JSON object instead of a table (for scripts)
    #[arg(long)]
    json: bool,
}

/// Where a dataset's data lives.
#[derive(Debug, Serialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum Place {
    /// A dataset in the main file.
    Inline,
    /// A split file of the main file's split folder.
    Split,
    /// An external link that is not ours.
    External,
}

/// Whether a split dataset's file is on disk.
#[derive(Debug, Serialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub(crate) enum State {
    Present,
    /// Not materialised (e.g. not pulled with DVC).
    Missing,
}

#[derive(Debug, Serialize)]
pub struct Dataset {
    /// Its HDF5 path in the main file.
    pub path: String,
    /// The same path as HDF5 gave it (`path` is its lossy UTF-8 form), to address the link.
    #[serde(skip)]
    pub(crate) raw_path: Vec<u8>,
    pub place: Place,
    /// For split and external datasets: the link's target file, as stored (relative to the main
    /// file's directory for split files).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// For split datasets: `link` (an external link to its split file) or `virtual` (a virtual
    /// dataset in the main file over its split file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) form: Option<&'static str>,
    /// For split and external datasets: the object the link names in its target file.
    #[serde(skip)]
    pub(crate) object: Option<String>,
    /// For split and external datasets: where the link's target leads.
    #[serde(skip)]
    pub(crate) target: Option<Target>,
    /// Inline: the dataset's allocated storage; split: the split file's size on disk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) state: Option<State>,
    /// For present split files, when DVC tracks the split folder: the file against DVC's record.
    #[serde(skip_serializing_if = "Option::is_none")]
    dvc: Option<Dvc>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    file: String,
    /// The main file against DVC's record, when DVC tracks it.
    #[serde(skip_serializing_if = "Option::is_none")]
    file_dvc: Option<Dvc>,
    pub datasets: Vec<Dataset>,
    inline: usize,
    split: usize,
    external: usize,
    missing: usize,
    /// Split files (and the main file) changed since DVC recorded them.
    modified: usize,
}

/// Exit codes: 0 every split file is present; 1 some are missing (not materialised); 2 the file
/// could not be read.
pub fn run(args: &Args) -> ExitCode {
    match report(&args.file) {
        Ok(report) => {
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report).expect("a report serialises"));
            } else {
                print_table(&report);
            }
            ExitCode::from(if report.missing > 0 { 1 } else { 0 })
        }
        Err(msg) => {
            eprintln!("dset-split status: {msg}");
            ExitCode::from(2)
        }
    }
}

fn print_table(r: &Report) {
    let missing = |place| r.datasets.iter().filter(|d| d.place == place && d.state == Some(State::Missing)).count();
    let width = crate::column_width(r.datasets.iter().map(|d| d.path.len()));
    for d in &r.datasets {
        let place = match d.place {
            Place::Inline => "inline",
            Place::Split if d.form == Some("virtual") => "virtual",
            Place::Split => "split",
            Place::External => "external",
        };
        let bytes = d.bytes.map(human).unwrap_or_else(|| "-".into());
        let state = match (d.state, d.dvc) {
            (Some(State::Present), Some(Dvc::Modified)) => "present, modified since dvc add",
            (Some(State::Present), Some(Dvc::New)) => "present, new since dvc add",
            (Some(State::Present), _) => "present",
            (Some(State::Missing), _) => "MISSING (not materialised)",
            (None, _) => "",
        };
        let file = d.file.as_deref().unwrap_or("");
        println!("{:width$}  {place:8}  {bytes:>9}  {state:8}  {file}", d.path);
    }
    println!(
        "{}: {} datasets: {} inline, {} in split files ({} missing), {} behind other external links{}",
        r.file,
        r.datasets.len(),
        r.inline,
        r.split,
        missing(Place::Split),
        r.external,
        match missing(Place::External) {
            0 => String::new(),
            n => format!(" ({n} missing)"),
        }
    );
    if r.file_dvc.is_some() || r.datasets.iter().any(|d| d.dvc.is_some()) {
        let main = if r.file_dvc == Some(Dvc::Modified) { "; the main file too" } else { "" };
        println!("DVC: {} file(s) changed since the last dvc add{main}", r.modified);
    }
}

fn human(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{n} B") } else { format!("{v:.1} {}", UNITS[u]) }
}

struct Walk {
    main: Main,
    datasets: Vec<Dataset>,
}

pub fn report(file: &Path) -> Result<Report, String> {
    h5::quiet();
    let f = h5::open(file, false)?;
    let mut walk = Walk { main: Main::new(file), datasets: Vec::new() };
    // SAFETY: `visit` only uses `walk` through the pointer passed here, during this call.
    let rc = unsafe {
        H5Lvisit2(
            f.0,
            H5_index_t::H5_INDEX_NAME,
            H5_iter_order_t::H5_ITER_INC,
            Some(visit),
            (&mut walk as *mut Walk).cast(),
        )
    };
    if rc < 0 {
        return Err(format!("cannot list the links of {}", file.display()));
    }
    let records = dvc::records(file);
    let compare = |path: &Path| records.as_ref().and_then(|r| r.compare(path));
    for d in walk.datasets.iter_mut().filter(|d| d.state == Some(State::Present)) {
        d.dvc = d.target.as_ref().and_then(|t| compare(&t.file));
    }
    let file_dvc = compare(file);
    if let Some(r) = &records {
        r.save();
    }
    let count = |p: Place| walk.datasets.iter().filter(|d| d.place == p).count();
    let modified = walk.datasets.iter().filter(|d| d.dvc == Some(Dvc::Modified)).count()
        + usize::from(file_dvc == Some(Dvc::Modified));
    Ok(Report {
        file: file.display().to_string(),
        file_dvc,
        modified,
        inline: count(Place::Inline),
        split: count(Place::Split),
        external: count(Place::External),
        missing: walk.datasets.iter().filter(|d| d.state == Some(State::Missing)).count(),
        datasets: std::mem::take(&mut walk.datasets),
    })
}

unsafe extern "C" fn visit(group: hid_t, name: *const c_char, info: *const H5L_info2_t, data: *mut c_void) -> herr_t {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: HDF5 passes a valid group, NUL-terminated name and link info; `data` is the
        // `Walk` that `report` passed.
        let (name, info, walk) = unsafe { (CStr::from_ptr(name), &*info, &mut *data.cast::<Walk>()) };
        let raw_path = [b"/", name.to_bytes()].concat();
        let path = String::from_utf8_lossy(&raw_path).into_owned();
        match info.type_ {
            H5L_type_t::H5L_TYPE_HARD => {
                // SAFETY: as above.
                match unsafe { inline_dataset(group, name) } {
                    Some(Stored::Inline(bytes)) => walk.datasets.push(Dataset {
                        path,
                        raw_path,
                        place: Place::Inline,
                        form: None,
                        object: None,
                        target: None,
                        file: None,
                        bytes: Some(bytes),
                        state: None,
                        dvc: None,
                    }),
                    Some(Stored::Virtual(file, object)) => {
                        let d = classify(&walk.main, path, raw_path, file, object);
                        // A virtual dataset over some other file is the application's own.
                        if d.place == Place::Split {
                            walk.datasets.push(Dataset { form: Some("virtual"), ..d });
                        }
                    }
                    None => {}
                }
            }
            H5L_type_t::H5L_TYPE_EXTERNAL => {
                // For external links the union holds the value size.
                let mut u = info.u;
                // SAFETY: as above.
                if let Some((file, object)) = h5::external_target(group, name, unsafe { *u.val_size() }) {
                    walk.datasets.push(classify(&walk.main, path, raw_path, file, object));
                }
            }
            _ => {}
        }
    }));
    if outcome.is_ok() { 0 } else { -1 }
}

/// Where a dataset of the main file keeps its data.
enum Stored {
    /// In the main file: its allocated storage.
    Inline(u64),
    /// A virtual dataset with one mapping: its source file (as written, `%%` undone) and dataset.
    Virtual(String, String),
}

/// Where the dataset `name` in `group` keeps its data, or None if it is not a dataset.
///
/// # Safety
/// `group` is a valid location id.
unsafe fn inline_dataset(group: hid_t, name: &CStr) -> Option<Stored> {
    // SAFETY: zeroed is a valid bit pattern for this plain C struct, filled in by HDF5.
    let mut oinfo: H5O_info2_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid location, name and output struct.
    if unsafe { H5Oget_info_by_name3(group, name.as_ptr(), &mut oinfo, H5O_INFO_BASIC, H5P_DEFAULT) } < 0
        || oinfo.type_ != H5O_type_t::H5O_TYPE_DATASET
    {
        return None;
    }
    // SAFETY: opens a dataset known to exist; released by `IdGuard`.
    let d = IdGuard(unsafe { H5Dopen2(group, name.as_ptr(), H5P_DEFAULT) });
    if d.0 < 0 {
        return None;
    }
    if let Some((file, object)) = h5::virtual_source(d.0) {
        return Some(Stored::Virtual(file, object));
    }
    // SAFETY: a valid dataset id.
    Some(Stored::Inline(unsafe { H5Dget_storage_size(d.0) }))
}

/// A split dataset's link: object `/data` in a file inside one of the main file's split folders
/// (`<stem><suffix>/`, next to the main file), however the target is written (see
/// [`Main::target`]). The folder itself may be missing: nothing of it was materialised yet.
fn classify(main: &Main, path: String, raw_path: Vec<u8>, file: String, object: String) -> Dataset {
    let target = main.target(file.as_bytes());
    let ours = object == DATASET_PATH && target.split.is_some();
    // A folder's own pack (`pack --split-dirs`): present or missing too.
    let pack = object == "/" && target.split.is_some();
    let on_disk = (ours || pack).then(|| std::fs::metadata(&target.file).ok().filter(|m| m.is_file())).flatten();
    Dataset {
        path,
        raw_path,
        place: if ours { Place::Split } else { Place::External },
        form: ours.then_some("link"),
        bytes: on_disk.as_ref().map(|m| m.len()),
        state: (ours || pack).then_some(if on_disk.is_some() { State::Present } else { State::Missing }),
        file: Some(file),
        object: Some(object),
        target: Some(target),
        dvc: None,
    }
}
