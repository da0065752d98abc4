//! `dset-split split IN.h5 [OUT.h5]`: converts a single HDF5 file into the split layout, as if the
//! program that wrote it had run through the connector: every dataset the connector would split
//! gets its own file `<stem>-split/<path>.h5` (object `/data`) and an external link in its
//! place; the rest stays in the main file. Plain HDF5 throughout (no plugin needed).
//!
//! How, so that everything survives and nothing half-made is left:
//! 1. plan: which datasets split and, for the others, why not (the connector's rules, plus: a
//!    dataset that has attributes holding references, or that a reference points at, such as a
//!    dimension scale, stays);
//! 2. work on a byte copy of IN (IN is only read): HDF5's object copy puts each dataset into its
//!    split file (chunk by chunk, with its attributes, filters, fill value, creation properties),
//!    and an external link replaces it, in the same place of its group's creation order;
//! 3. copy the whole hierarchy of the work file, in one object copy (so hard links, committed
//!    datatypes and references keep pointing at the same objects), into a new main file made with
//!    IN's creation properties, and move it up to the root: the space of the split datasets is
//!    not carried along;
//! 4. rename the new main file over OUT (a symbolic link there is replaced, never written
//!    through). The work files live in a private directory beside OUT (`crate::work`). On any
//!    failure the work files and every split file and directory made are removed, and OUT is
//!    untouched.

use std::collections::{HashMap, HashSet};
use std::ffi::{CStr, CString, c_char, c_void};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dset_split::confine::{self, Owner};
use dset_split::ffi::sys::h5::{H5_index_t, H5_iter_order_t, herr_t, hsize_t};
use dset_split::ffi::sys::h5d::{H5Dget_create_plist, H5Dget_space, H5Dget_storage_size, H5Dget_type, H5Dopen2};
use dset_split::ffi::sys::h5f::{
    H5F_ACC_EXCL, H5F_LIBVER_LATEST, H5F_info2_t, H5F_libver_t, H5Fcreate, H5Fget_create_plist, H5Fget_info2,
};
use dset_split::ffi::sys::h5g::H5Gopen2;
use dset_split::ffi::sys::h5i::hid_t;
use dset_split::ffi::sys::h5l::{H5L_info2_t, H5L_type_t, H5Lcreate_external, H5Ldelete, H5Lmove, H5Lvisit2};
use dset_split::ffi::sys::h5o::{H5O_INFO_BASIC, H5O_info2_t, H5O_type_t, H5Ocopy, H5Oget_info_by_name3, H5Oget_info3};
use dset_split::ffi::sys::h5p::{
    H5P_CLS_FILE_CREATE, H5P_CLS_OBJECT_COPY, H5P_DEFAULT, H5Pcreate, H5Pget_userblock, H5Pset_copy_object,
    H5Pset_libver_bounds, H5Pset_obj_track_times,
};
use dset_split::ffi::sys::h5s::H5Sget_simple_extent_npoints;
use dset_split::ffi::sys::h5t::{H5T_cset_t, H5Tget_size};
use dset_split::layout::{self, OWNER_FILE};
use dset_split::policy::{Form, Policy};
use dset_split::split::{IdGuard, mapping_of, structural_reason, virtual_dcpl};
use dset_split::target;
use serde::Serialize;

use crate::made::Made;
use crate::work::{self, WorkDir};
use crate::{h5, refs, status};

/// `H5O_COPY_EXPAND_REFERENCE_FLAG`: references are pointed at the copies of their objects.
const COPY_EXPAND_REFERENCE: u32 = 0x0008;
/// The group the hierarchy is copied into before it moves up to the root.
const STAGING: &CStr = c".dset-split-staging";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The HDF5 file to convert (only read)
    input: PathBuf,
    /// The main file to write (its split files go to `<stem>-split/` beside it); default: IN
    /// itself, converted in place (replaced when everything is done)
    output: Option<PathBuf>,
    /// Keep datasets smaller than this in the main file (bytes; 64k, 1M, 2GiB), as `min_size=`
    #[arg(long, value_name = "SIZE")]
    min_size: Option<String>,
    /// Split only datasets matching these comma-separated patterns (`/fields/**,*_raw`), as `include=`
    #[arg(long, value_name = "PATTERNS")]
    include: Option<String>,
    /// Keep datasets matching these patterns in the main file, as `exclude=`
    #[arg(long, value_name = "PATTERNS")]
    exclude: Option<String>,
    /// The split folder's suffix, as `suffix=` (open the result with the same suffix)
    #[arg(long, value_name = "SUFFIX")]
    suffix: Option<String>,
    /// The form of the split datasets, as `layout=`: `link` (external links) or `virtual`
    /// (virtual datasets in the main file: references and dimension scales keep working)
    #[arg(long, value_name = "FORM")]
    layout: Option<String>,
    /// Replace OUT if it exists
    #[arg(long)]
    force: bool,
    /// Only show what would be split and what would stay, and why
    #[arg(long)]
    dry_run: bool,
    /// Print one JSON object instead of lines (for scripts); no progress bar
    #[arg(long)]
    json: bool,
}

/// What happens to one dataset.
#[derive(Debug, Serialize, Clone)]
#[serde(rename_all = "lowercase", tag = "fate")]
enum Fate {
    /// Into its own split file (relative to OUT's directory).
    Split { file: String },
    /// Another name (hard link) of a dataset split under another path: an external link to the
    /// same file.
    Shared { file: String },
    /// Stays in the main file, for this reason.
    #[serde(rename = "inline")]
    Stays { reason: String },
}

#[derive(Debug, Serialize)]
struct Dataset {
    path: String,
    bytes: u64,
    #[serde(flatten)]
    fate: Fate,
    #[serde(skip)]
    c_path: CString,
    #[serde(skip)]
    cset: H5T_cset_t,
    /// For split and shared datasets: the split file below the split folder.
    #[serde(skip)]
    rel: String,
    /// For split and shared datasets: `link` or `virtual`.
    #[serde(skip_serializing_if = "Option::is_none")]
    form: Option<&'static str>,
}

#[derive(Debug, Serialize)]
struct Outcome {
    input: String,
    output: String,
    datasets: Vec<Dataset>,
    split: usize,
    stays: usize,
    /// Bytes of data moved into split files.
    split_bytes: u64,
    done: bool,
}

/// Exit codes: 0 converted (or planned, with --dry-run); 2 nothing was changed (bad input,
/// OUT exists, a failure; the message says why).
pub fn run(args: &Args) -> ExitCode {
    h5::quiet();
    crate::catch_interrupts();
    match convert(args) {
        Ok(outcome) => {
            if args.json {
                println!("{}", serde_json::to_string_pretty(&outcome).expect("an outcome serialises"));
            } else {
                for d in &outcome.datasets {
                    match &d.fate {
                        Fate::Split { file } if d.form == Some("virtual") => {
                            println!("split   {}  -> {file} (virtual)", d.path)
                        }
                        Fate::Split { file } => println!("split   {}  -> {file}", d.path),
                        Fate::Shared { file } => {
                            println!("shared  {}  -> {file} (another name of a split dataset)", d.path)
                        }
                        Fate::Stays { reason } => println!("inline  {}  ({reason})", d.path),
                    }
                }
                let verb = if outcome.done { "split" } else { "would split" };
                println!(
                    "{}: {verb} {} dataset(s) ({} bytes) into {}, {} stay in the main file",
                    outcome.output,
                    outcome.split,
                    outcome.split_bytes,
                    split_folder_name(
                        Path::new(&outcome.output),
                        &policy_of(args).map(|p| p.suffix).unwrap_or_default()
                    ),
                    outcome.stays
                );
            }
            ExitCode::SUCCESS
        }
        Err(msg) => {
            eprintln!("dset-split split: {msg}");
            crate::failure_code()
        }
    }
}

fn split_folder_name(out: &Path, suffix: &str) -> String {
    layout::split_dir(out, suffix).file_name().map(|n| format!("{}/", n.to_string_lossy())).unwrap_or_default()
}

fn policy_of(args: &Args) -> Result<Policy, String> {
    let mut p = Policy::default();
    for (key, value) in [
        ("min_size", &args.min_size),
        ("include", &args.include),
        ("exclude", &args.exclude),
        ("suffix", &args.suffix),
        ("layout", &args.layout),
    ] {
        if let Some(v) = value {
            p.set(key, v).map_err(|e| format!("--{}: {e}", key.replace('_', "-")))?;
        }
    }
    Ok(p)
}

fn convert(args: &Args) -> Result<Outcome, String> {
    let policy = policy_of(args)?;
    let input = &args.input;
    let output = args.output.clone().unwrap_or_else(|| input.clone());
    let in_place = work::same_file(input, &output);
    if !in_place && work::taken(&output) && !args.force {
        return Err(format!("{} exists; choose another OUT or pass --force to replace it", output.display()));
    }
    let src = h5::open(input, false)?;
    let existing = status::report(input)?;
    if !in_place && existing.datasets.iter().any(|d| d.place == status::Place::Split) {
        return Err(format!(
            "{} already keeps datasets in split files; convert it in place (dset-split split {}) or merge it first",
            input.display(),
            input.display()
        ));
    }
    let split_dir = layout::split_dir(&output, &policy.suffix);
    let out_name = output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    check_split_dir(&split_dir, &out_name, in_place)?;

    let (mut datasets, holders, refusal) = plan(src.0, &policy)?;
    let folder = split_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    for d in &mut datasets {
        match &mut d.fate {
            Fate::Split { file } | Fate::Shared { file } => *file = target::canonical(&folder, file),
            Fate::Stays { .. } => {}
        }
    }
    let split = datasets.iter().filter(|d| matches!(d.fate, Fate::Split { .. })).count();
    let split_bytes = datasets.iter().filter(|d| matches!(d.fate, Fate::Split { .. })).map(|d| d.bytes).sum();
    let stays = datasets.iter().filter(|d| matches!(d.fate, Fate::Stays { .. })).count();
    let mut outcome = Outcome {
        input: input.display().to_string(),
        output: output.display().to_string(),
        datasets,
        split,
        stays,
        split_bytes,
        done: false,
    };
    if args.dry_run {
        return Ok(outcome);
    }
    if let Some(refusal) = refusal {
        return Err(refusal);
    }
    let bounds = libver_low(src.0);
    let fcpl = root_fcpl(src.0)?;
    let mut userblock: hsize_t = 0;
    // SAFETY: our list and an output slot.
    unsafe { H5Pget_userblock(fcpl.0, &mut userblock) };
    drop(src);

    let mut work = Work::new(&output, &split_dir, &out_name)?;
    let result = work.run(
        input,
        &output,
        &outcome.datasets,
        &holders,
        fcpl.0,
        bounds,
        userblock,
        policy.track_times,
        !args.json,
    );
    match result {
        Ok(()) => {
            work.commit();
            outcome.done = true;
            Ok(outcome)
        }
        Err(e) => Err(format!("{e}; nothing was changed")),
    }
}

/// OUT's split folder must be new, empty, or (converting in place) IN's own; and a real
/// directory (`confine::owner`).
fn check_split_dir(dir: &Path, out_name: &str, in_place: bool) -> Result<(), String> {
    let owner = confine::owner(dir, out_name);
    match &owner {
        Owner::Missing => return Ok(()),
        Owner::Ours | Owner::Unclaimed => {}
        Owner::Other(_) | Owner::Unsafe(_) => {
            let why = owner.refusal(dir).unwrap_or_default();
            return Err(format!("{why}; choose another OUT or --suffix"));
        }
    }
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let has_files = entries.flatten().any(|e| e.file_name() != OWNER_FILE);
    if has_files && !(in_place && owner == Owner::Ours) {
        return Err(format!("{} exists and is not empty; remove it or choose another OUT or --suffix", dir.display()));
    }
    Ok(())
}

/// The lowest library version bound that keeps IN's format (its superblock version): the new
/// main file and the split files are made with it, so HDF5 copies every object as it is.
fn libver_low(file: hid_t) -> H5F_libver_t {
    // SAFETY: zeroed is valid for this plain C struct, filled in by HDF5.
    let mut info: H5F_info2_t = unsafe { std::mem::zeroed() };
    // SAFETY: a valid file and an output struct.
    if unsafe { H5Fget_info2(file, &mut info) } < 0 {
        return H5F_libver_t::H5F_LIBVER_EARLIEST;
    }
    match info.super_.version {
        0 | 1 => H5F_libver_t::H5F_LIBVER_EARLIEST,
        2 => H5F_libver_t::H5F_LIBVER_V18,
        _ => H5F_libver_t::H5F_LIBVER_V110,
    }
}

/// IN's file creation properties, with those of its root group (link and attribute creation
/// order, storage thresholds, object times), which HDF5 keeps with the root group, not the file.
fn root_fcpl(file: hid_t) -> Result<IdGuard, String> {
    use dset_split::ffi::sys::h5p::{
        H5Pget_attr_creation_order, H5Pget_attr_phase_change, H5Pget_est_link_info, H5Pget_link_creation_order,
        H5Pget_link_phase_change, H5Pget_obj_track_times, H5Pset_attr_creation_order, H5Pset_attr_phase_change,
        H5Pset_est_link_info, H5Pset_link_creation_order, H5Pset_link_phase_change,
    };
    // SAFETY: valid ids, each checked and released by `IdGuard`; the getters fill plain output
    // slots and the setters get the values HDF5 gave.
    unsafe {
        let fcpl = IdGuard(H5Fget_create_plist(file));
        let root = IdGuard(dset_split::ffi::sys::h5g::H5Gopen2(file, c"/".as_ptr(), H5P_DEFAULT));
        let gcpl = IdGuard(dset_split::ffi::sys::h5g::H5Gget_create_plist(root.0));
        if fcpl.0 < 0 || gcpl.0 < 0 {
            return Err(h5::failed("cannot read the file's creation properties"));
        }
        let (mut link_order, mut attr_order, mut times) = (0u32, 0u32, false);
        let (mut max_compact, mut min_dense, mut amax, mut amin, mut entries, mut name_len) =
            (0u32, 0u32, 0u32, 0u32, 0u32, 0u32);
        let ok = H5Pget_link_creation_order(gcpl.0, &mut link_order) >= 0
            && H5Pget_attr_creation_order(gcpl.0, &mut attr_order) >= 0
            && H5Pget_obj_track_times(gcpl.0, (&mut times as *mut bool).cast()) >= 0
            && H5Pget_link_phase_change(gcpl.0, &mut max_compact, &mut min_dense) >= 0
            && H5Pget_attr_phase_change(gcpl.0, &mut amax, &mut amin) >= 0
            && H5Pget_est_link_info(gcpl.0, &mut entries, &mut name_len) >= 0
            && H5Pset_link_creation_order(fcpl.0, link_order) >= 0
            && H5Pset_attr_creation_order(fcpl.0, attr_order) >= 0
            && H5Pset_obj_track_times(fcpl.0, times.into()) >= 0
            && H5Pset_link_phase_change(fcpl.0, max_compact, min_dense) >= 0
            && H5Pset_attr_phase_change(fcpl.0, amax, amin) >= 0
            && H5Pset_est_link_info(fcpl.0, entries, name_len) >= 0;
        if !ok {
            return Err(h5::failed("cannot read the root group's creation properties"));
        }
        Ok(fcpl)
    }
}

fn fapl_with(low: H5F_libver_t) -> Result<IdGuard, String> {
    let fapl = h5::native_fapl()?;
    // SAFETY: our fapl and valid bounds.
    if unsafe { H5Pset_libver_bounds(fapl.0, low, H5F_LIBVER_LATEST) } < 0 {
        return Err(h5::failed("cannot set the library version bounds"));
    }
    Ok(fapl)
}

struct Found {
    links: Vec<(CString, H5T_cset_t, H5O_info2_t)>,
    root: u64,
    /// A hard link that leads back to the root group (the conversion cannot keep it).
    root_link: Option<CString>,
}

/// Every dataset of `file` (each hard link to one) and what happens to it; the datasets and
/// attributes that hold references; and why the file cannot be converted, if its references
/// forbid it.
type Plan = (Vec<Dataset>, Vec<refs::Holder>, Option<String>);

fn plan(file: hid_t, policy: &Policy) -> Result<Plan, String> {
    unsafe extern "C" fn visit(g: hid_t, name: *const c_char, info: *const H5L_info2_t, data: *mut c_void) -> herr_t {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // SAFETY: HDF5 passes a valid group, NUL-terminated name and link info; `data` is
            // the `Found` below.
            let (name, info, found) = unsafe { (CStr::from_ptr(name), &*info, &mut *data.cast::<Found>()) };
            if info.type_ != H5L_type_t::H5L_TYPE_HARD {
                return;
            }
            // SAFETY: zeroed is valid for this plain struct; a valid location and name.
            let mut oinfo: H5O_info2_t = unsafe { std::mem::zeroed() };
            // SAFETY: as above.
            if unsafe { H5Oget_info_by_name3(g, name.as_ptr(), &mut oinfo, H5O_INFO_BASIC, H5P_DEFAULT) } < 0 {
                return;
            }
            let mut path = b"/".to_vec();
            path.extend_from_slice(name.to_bytes());
            let path = CString::new(path).expect("from a C string");
            if refs::token_addr(&oinfo) == found.root {
                found.root_link = Some(path);
            } else if oinfo.type_ == H5O_type_t::H5O_TYPE_DATASET {
                found.links.push((path, info.cset, oinfo));
            }
        }));
        if outcome.is_ok() { 0 } else { -1 }
    }
    // SAFETY: zeroed is valid for this plain struct; a valid file.
    let mut root: H5O_info2_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { H5Oget_info3(file, &mut root, H5O_INFO_BASIC) };
    let mut found = Found { links: Vec::new(), root: refs::token_addr(&root), root_link: None };
    // SAFETY: a valid file; `visit` only uses `found` during this call.
    let rc = unsafe {
        H5Lvisit2(
            file,
            H5_index_t::H5_INDEX_NAME,
            H5_iter_order_t::H5_ITER_INC,
            Some(visit),
            (&mut found as *mut Found).cast(),
        )
    };
    if rc < 0 {
        return Err(h5::failed("cannot list the links of the file"));
    }
    if let Some(link) = found.root_link {
        return Err(format!(
            "the hard link {} leads back to the root group; such a file cannot be converted",
            link.to_string_lossy()
        ));
    }
    let holders = refs::holders(file)?;
    let with_ref_attrs: HashSet<&[u8]> =
        holders.iter().filter(|h| h.attr.is_some()).map(|h| h.path.to_bytes()).collect();
    let (targets, refusal) = refs::targets(file, root.fileno, &holders)?;
    // Datasets that region or 1.12-style references point at keep the link form's rules (such a
    // reference cannot follow the new object the virtual form makes).
    let pinned = if policy.layout == Form::Virtual {
        refs::region_targets(file, root.fileno, &holders)?
    } else {
        HashSet::new()
    };
    if targets.contains(&refs::token_addr(&root)) {
        return Err("a reference points at the root group; such a file cannot be converted".into());
    }
    let mut fates: HashMap<u64, (Fate, Form)> = HashMap::new();
    let mut out = Vec::new();
    for (path, cset, info) in found.links {
        let addr = refs::token_addr(&info);
        // SAFETY: opens a dataset HDF5 just listed; ids released by `IdGuard`.
        let d = IdGuard(unsafe { H5Dopen2(file, path.as_ptr(), H5P_DEFAULT) });
        if d.0 < 0 {
            return Err(h5::failed(format!("cannot open the dataset {}", path.to_string_lossy())));
        }
        // SAFETY: a valid dataset.
        let bytes = unsafe { H5Dget_storage_size(d.0) };
        let (fate, form) = match fates.get(&addr) {
            Some((Fate::Split { file }, form)) => (Fate::Shared { file: file.clone() }, *form),
            Some((f, form)) => (f.clone(), *form),
            None => {
                let (f, form) = decide(d.0, &path, addr, &with_ref_attrs, &targets, &pinned, policy);
                fates.insert(addr, (f.clone(), form));
                (f, form)
            }
        };
        let rel = match &fate {
            Fate::Split { file } | Fate::Shared { file } => file.clone(),
            Fate::Stays { .. } => String::new(),
        };
        let form = (!rel.is_empty()).then_some(form.name());
        out.push(Dataset { path: path.to_string_lossy().into_owned(), bytes, fate, c_path: path, cset, rel, form });
    }
    // Datasets taking the virtual form get new objects: only object references can follow them.
    let replaced: HashSet<u64> = fates
        .iter()
        .filter(|(_, (f, form))| *form == Form::Virtual && !matches!(f, Fate::Stays { .. }))
        .map(|(a, _)| *a)
        .collect();
    let refusal = match (refusal, replaced.is_empty()) {
        (None, false) => refs::refusal_for_replaced(file, root.fileno, &holders, &replaced)?,
        (refusal, _) => refusal,
    };
    Ok((out, holders, refusal))
}

/// What happens to the dataset `d` at `path` (address `addr`), and in which form it splits.
fn decide(
    d: hid_t,
    path: &CStr,
    addr: u64,
    with_ref_attrs: &HashSet<&[u8]>,
    targets: &HashSet<u64>,
    pinned: &HashSet<u64>,
    policy: &Policy,
) -> (Fate, Form) {
    let stays = |reason: &str| (Fate::Stays { reason: reason.to_string() }, Form::Link);
    // SAFETY: queries on a valid dataset; ids released by `IdGuard`.
    let (t, dcpl, space) =
        unsafe { (IdGuard(H5Dget_type(d)), IdGuard(H5Dget_create_plist(d)), IdGuard(H5Dget_space(d))) };
    // SAFETY: the dataset's own type and creation property list.
    if let Some(reason) = unsafe { structural_reason(t.0, dcpl.0) } {
        return stays(reason);
    }
    // The virtual form keeps the dataset's object in the main file: references to and from it
    // stay valid. Where its mapping cannot hold the dataset, the link form's rules apply.
    // SAFETY: the dataset's own dataspace.
    let form = match (policy.layout, unsafe { mapping_of(space.0) }) {
        (Form::Virtual, Ok(_)) if !pinned.contains(&addr) => Form::Virtual,
        _ => Form::Link,
    };
    if form == Form::Link && with_ref_attrs.contains(path.to_bytes()) {
        return stays("it has attributes that hold references (e.g. dimension scales attached to it)");
    }
    if form == Form::Link && targets.contains(&addr) {
        return stays("a reference points at it (an object or region reference, or it is a dimension scale)");
    }
    // SAFETY: plain queries on valid ids.
    let planned =
        unsafe { (H5Sget_simple_extent_npoints(space.0).max(0) as u64).saturating_mul(H5Tget_size(t.0) as u64) };
    if let Err(reason) = policy.decide(path.to_bytes(), planned) {
        return stays(&reason);
    }
    match layout::relative_file(path.to_bytes()) {
        Some(file) => (Fate::Split { file }, form),
        None => stays("it has no name to map"),
    }
}

/// The files and directories a conversion makes, removed again unless it completes.
struct Work {
    /// The private directory beside OUT holding the work files (removed with them when the
    /// conversion ends, whichever way).
    _dir: WorkDir,
    /// The byte copy of IN that datasets are moved out of.
    scratch: PathBuf,
    /// The new main file, renamed over OUT at the end.
    fresh: PathBuf,
    /// The split folder and what this conversion made in it.
    made: Made,
}

impl Work {
    fn new(output: &Path, split_dir: &Path, out_name: &str) -> Result<Work, String> {
        let dir = WorkDir::beside(output)?;
        Ok(Work {
            scratch: dir.file("work.h5"),
            fresh: dir.file("new.h5"),
            _dir: dir,
            made: Made::new(split_dir, out_name),
        })
    }

    fn claim(&mut self) -> Result<(), String> {
        self.made.claim("choose another OUT or --suffix")
    }

    #[allow(clippy::too_many_arguments)]
    fn run(
        &mut self,
        input: &Path,
        output: &Path,
        datasets: &[Dataset],
        holders: &[refs::Holder],
        fcpl: hid_t,
        low: H5F_libver_t,
        userblock: hsize_t,
        track_times: bool,
        progress: bool,
    ) -> Result<(), String> {
        // 1. the work copy
        work::copy_file(input, &self.scratch, "work copy of the input", progress)?;
        h5::make_writable(&self.scratch)?;

        // 2. datasets into split files, external links in their place
        let to_move: Vec<&Dataset> = datasets.iter().filter(|d| !matches!(d.fate, Fate::Stays { .. })).collect();
        if !to_move.is_empty() {
            self.claim()?;
        }
        let total: u64 = to_move.iter().filter(|d| matches!(d.fate, Fate::Split { .. })).map(|d| d.bytes).sum();
        let bar = crate::progress_bar(total, progress);
        let work = h5::open(&self.scratch, true)?;
        let split_fapl = fapl_with(low)?;
        // SAFETY: a fresh list, checked; split files record no times, as the connector makes them.
        let split_fcpl = IdGuard(unsafe { H5Pcreate(*H5P_CLS_FILE_CREATE) });
        // SAFETY: as above.
        if split_fcpl.0 < 0 || unsafe { H5Pset_obj_track_times(split_fcpl.0, 0) } < 0 {
            return Err(h5::failed("cannot make a file creation property list"));
        }
        let without_attrs = h5::copy_without_attributes()?;
        h5::edit_by_parent(
            work.0,
            &to_move,
            |d| &d.c_path,
            |group, d, name| {
                crate::interrupted()?;
                bar.set_message(d.path.clone());
                let file = match &d.fate {
                    Fate::Split { file } => {
                        let ocpypl = if d.form == Some("virtual") { without_attrs.0 } else { H5P_DEFAULT };
                        self.copy_into_split_file(group, name, &d.rel, split_fcpl.0, split_fapl.0, ocpypl)?;
                        bar.inc(d.bytes);
                        file
                    }
                    Fate::Shared { file } => file,
                    Fate::Stays { .. } => unreachable!("filtered out"),
                };
                if d.form == Some("virtual") {
                    return Ok(()); // its object is made over the split file below
                }
                let target = CString::new(file.as_str()).map_err(|_| "a file name holds a NUL byte".to_string())?;
                let lcpl = h5::lcpl(d.cset)?;
                // SAFETY: a valid group, NUL-terminated names and our lcpl.
                unsafe {
                    if H5Ldelete(group, name.as_ptr(), H5P_DEFAULT) < 0
                        || H5Lcreate_external(
                            target.as_ptr(),
                            layout::DATASET_PATH_C.as_ptr(),
                            group,
                            name.as_ptr(),
                            lcpl.0,
                            H5P_DEFAULT,
                        ) < 0
                    {
                        return Err(h5::failed(format!("cannot link {} to {file}", d.path)));
                    }
                }
                Ok(())
            },
        )?;
        bar.finish_and_clear();
        // 2b. the virtual form: each such dataset's object is replaced by a virtual dataset over
        // its split file, with its attributes, under each of its names; every object reference
        // to it is pointed at the new object.
        let virtual_items: Vec<&Dataset> = to_move.iter().copied().filter(|d| d.form == Some("virtual")).collect();
        if !virtual_items.is_empty() {
            let moved = make_virtual(work.0, &virtual_items, track_times)?;
            refs::remap_objects(work.0, &moved, &refs::holders(work.0)?)?;
        }
        // Where each object was, to find its copy for the nested references (if there are any).
        let old_paths = if holders.iter().any(|h| h.nested) { refs::paths(work.0)? } else { HashMap::new() };
        drop(work);

        // 3. the new main file: the work file's hierarchy, in one copy
        let fresh_name = h5::c_path(&self.fresh)?;
        let fapl = fapl_with(low)?;
        // SAFETY: a NUL-terminated name and valid lists.
        let fresh = IdGuard(unsafe { H5Fcreate(fresh_name.as_ptr(), H5F_ACC_EXCL, fcpl, fapl.0) });
        if fresh.0 < 0 {
            return Err(h5::failed(format!("cannot create {}", self.fresh.display())));
        }
        let work = h5::open(&self.scratch, false)?;
        // SAFETY: a fresh list, checked.
        let ocpypl = IdGuard(unsafe { H5Pcreate(*H5P_CLS_OBJECT_COPY) });
        // SAFETY: as above.
        if ocpypl.0 < 0 || unsafe { H5Pset_copy_object(ocpypl.0, COPY_EXPAND_REFERENCE) } < 0 {
            return Err(h5::failed("cannot make an object copy property list"));
        }
        // SAFETY: valid files, names and lists.
        if unsafe { H5Ocopy(work.0, c"/".as_ptr(), fresh.0, STAGING.as_ptr(), ocpypl.0, H5P_DEFAULT) } < 0 {
            return Err(h5::failed("cannot copy the file's objects into the new main file"));
        }
        // An object that a reference led the copy to first is also linked at the root under a
        // name HDF5 makes up (`~obj_pointed_by_<address>`); where the object has its own names
        // (it was reached again through them) that extra link goes.
        for link in h5::links(fresh.0)? {
            if link.name.as_c_str() == STAGING || link.kind != H5L_type_t::H5L_TYPE_HARD {
                continue;
            }
            // SAFETY: zeroed is valid for this plain struct; a valid file and name.
            let mut info: H5O_info2_t = unsafe { std::mem::zeroed() };
            // SAFETY: as above.
            let found =
                unsafe { H5Oget_info_by_name3(fresh.0, link.name.as_ptr(), &mut info, H5O_INFO_BASIC, H5P_DEFAULT) };
            let named_elsewhere = found >= 0 && info.rc > 1;
            // SAFETY: as above.
            if named_elsewhere && unsafe { H5Ldelete(fresh.0, link.name.as_ptr(), H5P_DEFAULT) } < 0 {
                return Err(h5::failed(format!("cannot remove the link {}", link.name.to_string_lossy())));
            }
        }
        // SAFETY: a valid file and name; released by `IdGuard`.
        let staging = IdGuard(unsafe { H5Gopen2(fresh.0, STAGING.as_ptr(), H5P_DEFAULT) });
        if staging.0 < 0 {
            return Err(h5::failed("cannot open the copied hierarchy"));
        }
        for link in h5::links(staging.0)? {
            let lcpl = h5::lcpl(link.cset)?;
            // SAFETY: valid locations, NUL-terminated names and our lcpl.
            if unsafe { H5Lmove(staging.0, link.name.as_ptr(), fresh.0, link.name.as_ptr(), lcpl.0, H5P_DEFAULT) } < 0 {
                return Err(h5::failed(format!("cannot move {} to the root", link.name.to_string_lossy())));
            }
        }
        h5::copy_attributes(staging.0, fresh.0)?;
        drop(staging);
        // SAFETY: a valid file and name.
        if unsafe { H5Ldelete(fresh.0, STAGING.as_ptr(), H5P_DEFAULT) } < 0 {
            return Err(h5::failed("cannot remove the staging group"));
        }
        refs::remap_nested(fresh.0, &old_paths, holders)?;
        drop(work);
        drop(fresh);
        if userblock > 0 {
            copy_userblock(input, &self.fresh, userblock)?;
        }
        // 4. in place; the split folder still ours (put the owner file back if a run that lost a
        // race for the folder took it away)
        crate::interrupted()?;
        if !to_move.is_empty() {
            self.claim()?;
        }
        std::fs::rename(&self.fresh, output)
            .map_err(|e| format!("cannot rename {} to {}: {e}", self.fresh.display(), output.display()))?;
        Ok(())
    }

    /// Copies the dataset `name` of `group` into a new split file `rel` (below the split folder),
    /// as `/data`; `ocpypl`: without its attributes for the virtual form (they stay with the
    /// object in the main file).
    #[allow(clippy::too_many_arguments)]
    fn copy_into_split_file(
        &mut self,
        group: hid_t,
        name: &CStr,
        rel: &str,
        fcpl: hid_t,
        fapl: hid_t,
        ocpypl: hid_t,
    ) -> Result<(), String> {
        let path = &self.made.split_file(rel)?;
        let c = h5::c_path(path)?;
        // SAFETY: a NUL-terminated name and valid lists; EXCL never replaces an existing file.
        let f = IdGuard(unsafe { H5Fcreate(c.as_ptr(), H5F_ACC_EXCL, fcpl, fapl) });
        if f.0 < 0 {
            let why = if path.exists() { " (a file is already there: an orphan? see dset-split gc)" } else { "" };
            return Err(h5::failed(format!("cannot create {}{why}", path.display())));
        }
        self.made.made_file(path);
        // SAFETY: valid locations and names.
        if unsafe { H5Ocopy(group, name.as_ptr(), f.0, layout::DATASET_PATH_C.as_ptr(), ocpypl, H5P_DEFAULT) } < 0 {
            return Err(h5::failed(format!("cannot copy {} into {}", name.to_string_lossy(), path.display())));
        }
        Ok(())
    }

    fn commit(&mut self) {
        self.made.commit();
    }
}

/// In the work file `file`: each of `items` (datasets already copied into their split files;
/// every name of one object shares its split file) gets, under each of its names, a new virtual
/// dataset over its split file with the old dataset's attributes. Returns old address -> new.
fn make_virtual(file: hid_t, items: &[&Dataset], track_times: bool) -> Result<HashMap<u64, u64>, String> {
    use dset_split::ffi::sys::h5d::H5Dcreate_anon;
    use dset_split::ffi::sys::h5o::H5Olink;
    let mut made: HashMap<&str, IdGuard> = HashMap::new();
    let mut moved = HashMap::new();
    h5::edit_by_parent(
        file,
        items,
        |d| &d.c_path,
        |group, d, name| {
            let show = &d.path;
            let lcpl = h5::lcpl(d.cset)?;
            if !made.contains_key(d.rel.as_str()) {
                let target = match &d.fate {
                    Fate::Split { file } | Fate::Shared { file } => file.as_str(),
                    Fate::Stays { .. } => unreachable!("filtered out"),
                };
                // SAFETY: valid ids and names; every id is released by its guard.
                unsafe {
                    let old = IdGuard(H5Dopen2(group, name.as_ptr(), H5P_DEFAULT));
                    let (t, space, dcpl) = (
                        IdGuard(H5Dget_type(old.0)),
                        IdGuard(H5Dget_space(old.0)),
                        IdGuard(H5Dget_create_plist(old.0)),
                    );
                    if old.0 < 0 || t.0 < 0 || space.0 < 0 || dcpl.0 < 0 {
                        return Err(h5::failed(format!("cannot open {show}")));
                    }
                    let vdcpl =
                        virtual_dcpl(track_times, dcpl.0, space.0, target).map_err(|e| format!("{show}: {}", e.msg))?;
                    let new = IdGuard(H5Dcreate_anon(group, t.0, space.0, vdcpl.0, H5P_DEFAULT));
                    if new.0 < 0 {
                        return Err(h5::failed(format!("cannot make the virtual dataset of {show}")));
                    }
                    h5::copy_attributes(old.0, new.0).map_err(|e| format!("{show}: {e}"))?;
                    let mut info: H5O_info2_t = std::mem::zeroed();
                    let mut new_info: H5O_info2_t = std::mem::zeroed();
                    if H5Oget_info3(old.0, &mut info, H5O_INFO_BASIC) < 0
                        || H5Oget_info3(new.0, &mut new_info, H5O_INFO_BASIC) < 0
                    {
                        return Err(h5::failed(format!("cannot look up {show}")));
                    }
                    moved.insert(refs::token_addr(&info), refs::token_addr(&new_info));
                    made.insert(d.rel.as_str(), new);
                }
            }
            let new = &made[d.rel.as_str()];
            // SAFETY: a valid group, NUL-terminated name, object and our lcpl.
            unsafe {
                if H5Ldelete(group, name.as_ptr(), H5P_DEFAULT) < 0
                    || H5Olink(new.0, group, name.as_ptr(), lcpl.0, H5P_DEFAULT) < 0
                {
                    return Err(h5::failed(format!("cannot put the virtual dataset of {show} in its place")));
                }
            }
            Ok(())
        },
    )?;
    Ok(moved)
}

/// Copies the user block (bytes HDF5 leaves to the application before the file's own data).
fn copy_userblock(from: &Path, to: &Path, size: hsize_t) -> Result<(), String> {
    use std::io::{Read, Seek, Write};
    let mut buf = vec![0u8; size as usize];
    std::fs::File::open(from)
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| format!("cannot read the user block of {}: {e}", from.display()))?;
    std::fs::OpenOptions::new()
        .write(true)
        .open(to)
        .and_then(|mut f| f.seek(std::io::SeekFrom::Start(0)).and_then(|_| f.write_all(&buf)))
        .map_err(|e| format!("cannot write the user block of {}: {e}", to.display()))
}
