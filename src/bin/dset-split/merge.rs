//! `dset-split merge FILE OUT.h5`: the inverse of `split`: one self-contained HDF5 file (e.g. to
//! send to someone), with every split dataset back in its place. Plain HDF5 throughout.
//!
//! OUT starts as a byte copy of the main file (so everything of it stays as it is: creation
//! properties, user block, attributes, committed datatypes, references, links); then each split
//! dataset's external link is replaced by a copy of its dataset (HDF5's object copy: chunk by
//! chunk, with its attributes, filters, fill value and creation properties), in the same place of
//! its group's creation order. A split file that several links share is copied once and the other
//! names become hard links to it. A virtual split dataset (`layout=virtual`) becomes an ordinary
//! dataset the same way, with the virtual dataset's attributes, and every object reference to it
//! (dimension scales included) is pointed at the new object (`crate::devirtual`). The result is
//! written in a private work directory beside OUT
//! (`crate::work`) and renamed over OUT at the end; on failure it is removed. OUT may not lie in
//! one of FILE's split folders.

use std::collections::HashMap;
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dset_split::ffi::sys::h5l::{H5L_info2_t, H5Lcreate_hard, H5Ldelete, H5Lget_info2};
use dset_split::ffi::sys::h5o::H5Ocopy;
use dset_split::ffi::sys::h5p::H5P_DEFAULT;
use dset_split::layout;
use serde::Serialize;

use crate::links::Main;
use crate::work::{self, WorkDir};
use crate::{devirtual, h5, status};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The main HDF5 file (e.g. run.h5); only read
    file: PathBuf,
    /// The self-contained file to write
    out: PathBuf,
    /// Replace OUT if it exists
    #[arg(long)]
    force: bool,
    /// Print one JSON object instead of a line (for scripts); no progress bar
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Outcome {
    file: String,
    out: String,
    /// Split datasets copied back (names of one shared split file count once each).
    merged: usize,
    /// Bytes of the split files read.
    bytes: u64,
}

/// Exit codes: 0 written; 2 nothing written (FILE unreadable, a split file missing, OUT exists,
/// a failure; the message says why and what to do).
pub fn run(args: &Args) -> ExitCode {
    h5::quiet();
    crate::catch_interrupts();
    match merge(args) {
        Ok(outcome) => {
            if args.json {
                println!("{}", serde_json::to_string_pretty(&outcome).expect("an outcome serialises"));
            } else {
                println!(
                    "{}: {} split dataset(s) ({} bytes) merged from {} into one file",
                    outcome.out, outcome.merged, outcome.bytes, outcome.file
                );
            }
            ExitCode::SUCCESS
        }
        Err(msg) => {
            eprintln!("dset-split merge: {msg}");
            crate::failure_code()
        }
    }
}

struct Item {
    path: CString,
    /// The link's target, as stored.
    file: String,
    /// The split file, as HDF5 resolves the target.
    at: PathBuf,
    /// A virtual split dataset (its object, attributes and references are in the main file).
    virtual_form: bool,
}

fn merge(args: &Args) -> Result<Outcome, String> {
    let (file, out) = (&args.file, &args.out);
    if work::same_file(file, out) {
        return Err("OUT must be another file than FILE".into());
    }
    if work::taken(out) && !args.force {
        return Err(format!("{} exists; choose another OUT or pass --force to replace it", out.display()));
    }
    let report = status::report(file)?;
    let main = Main::new(file);
    // OUT must not replace (or be written among) FILE's own split files.
    let folders = report.datasets.iter().filter_map(|d| d.target.as_ref()?.split.as_ref().map(|(f, _)| f.clone()));
    for folder in folders.chain([main.default_folder()]) {
        if work::inside(out, &main.folder(&folder)) {
            return Err(format!(
                "{} is inside {}, a split folder of {}; choose an OUT outside it",
                out.display(),
                main.shown(&folder),
                file.display()
            ));
        }
    }
    let mut items = Vec::new();
    let mut missing = Vec::new();
    // Each split file's size (status looked at every one), counted once however many links share it.
    let mut sizes = HashMap::new();
    let mut bytes = 0;
    for d in report.datasets.iter().filter(|d| d.place == status::Place::Split) {
        let target = d.file.clone().unwrap_or_default();
        if d.state != Some(status::State::Present) {
            missing.push(target);
            continue;
        }
        let at = d.target.as_ref().map(|t| t.file.clone()).unwrap_or_default();
        if sizes.insert(at.clone(), d.bytes.unwrap_or(0)).is_none() {
            bytes += d.bytes.unwrap_or(0);
        }
        let virtual_form = d.form == Some("virtual");
        items.push(Item { path: CString::new(d.raw_path.clone()).expect("from HDF5"), file: target, at, virtual_form });
    }
    if !missing.is_empty() {
        return Err(format!(
            "{} split file(s) are missing (not materialised), e.g. {}; fetch them first (dvc pull {} or git annex get), nothing written",
            missing.len(),
            missing[0],
            missing.iter().take(5).cloned().collect::<Vec<_>>().join(" ")
        ));
    }
    let work = WorkDir::beside(out)?;
    let fresh = work.file("merged.h5");
    work::copy_file(file, &fresh, "copy of the main file", !args.json)?;
    h5::make_writable(&fresh)?;

    let bar = crate::progress_bar(bytes, !args.json);
    let f = h5::open(&fresh, true)?;
    // Virtual split datasets become ordinary datasets: new objects, so the references to them
    // (dimension scales, object references) are pointed at the new objects afterwards.
    let virtual_objects = devirtual::Objects::find(f.0, items.iter().filter(|i| i.virtual_form).map(|i| &*i.path))?;
    // The first path each split file was copied to: its other names (in whatever form their
    // targets are written) become hard links to it.
    let mut copied: HashMap<&Path, &CString> = HashMap::new();
    h5::edit_by_parent(
        f.0,
        &items,
        |item| &item.path,
        |_, item, _| {
            crate::interrupted()?;
            let show = item.path.to_string_lossy();
            bar.set_message(show.to_string());
            // SAFETY: zeroed is valid for this plain struct; a valid file and path.
            let mut info: H5L_info2_t = unsafe { std::mem::zeroed() };
            // SAFETY: as above.
            if unsafe { H5Lget_info2(f.0, item.path.as_ptr(), &mut info, H5P_DEFAULT) } < 0 {
                return Err(h5::failed(format!("cannot read the link {show}")));
            }
            let lcpl = h5::lcpl(info.cset)?;
            if item.virtual_form && !copied.contains_key(item.at.as_path()) {
                let split = h5::open(&item.at, false)?;
                virtual_objects.replace(f.0, &item.path, split.0, lcpl.0)?;
                copied.insert(&item.at, &item.path);
                bar.inc(sizes.get(&item.at).copied().unwrap_or(0));
                return Ok(());
            }
            // SAFETY: a valid file and path.
            if unsafe { H5Ldelete(f.0, item.path.as_ptr(), H5P_DEFAULT) } < 0 {
                return Err(h5::failed(format!("cannot replace the link {show}")));
            }
            if let Some(first) = copied.get(item.at.as_path()) {
                // SAFETY: valid locations, NUL-terminated paths and our lcpl.
                if unsafe { H5Lcreate_hard(f.0, first.as_ptr(), f.0, item.path.as_ptr(), lcpl.0, H5P_DEFAULT) } < 0 {
                    return Err(h5::failed(format!("cannot link {show} to {}", first.to_string_lossy())));
                }
                return Ok(());
            }
            let split = h5::open(&item.at, false)?;
            // SAFETY: valid files, NUL-terminated names and our lcpl.
            if unsafe {
                H5Ocopy(split.0, layout::DATASET_PATH_C.as_ptr(), f.0, item.path.as_ptr(), H5P_DEFAULT, lcpl.0)
            } < 0
            {
                return Err(h5::failed(format!("cannot copy {show} from {}", item.file)));
            }
            copied.insert(&item.at, &item.path);
            bar.inc(sizes.get(&item.at).copied().unwrap_or(0));
            Ok(())
        },
    )?;
    virtual_objects.remap_references(f.0)?;
    drop(f);
    bar.finish_and_clear();
    crate::interrupted()?;
    std::fs::rename(&fresh, out).map_err(|e| format!("cannot rename {} to {}: {e}", fresh.display(), out.display()))?;
    Ok(Outcome { file: file.display().to_string(), out: out.display().to_string(), merged: items.len(), bytes })
}
