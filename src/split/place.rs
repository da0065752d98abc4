//! Where a new split file goes: its name (never an existing file's), the directories made for
//! it, and undoing both when creation fails.

use std::path::{Path, PathBuf};

use super::*;
use std::ffi::c_void;

use crate::trace;

use crate::error::{Error, Kind, Result};
use crate::ffi::hid_t;
use crate::layout::{self};

/// Directories made for a new split file, removed again (innermost first) if creation fails.
pub(super) struct MadeDirs(Vec<PathBuf>);

impl MadeDirs {
    fn create(dir: &Path) -> std::io::Result<MadeDirs> {
        let mut missing = Vec::new();
        let mut d = dir;
        while std::fs::symlink_metadata(d).is_err() {
            missing.push(d.to_path_buf());
            match d.parent() {
                Some(p) => d = p,
                None => break,
            }
        }
        let mut made = MadeDirs(Vec::new());
        for d in missing.into_iter().rev() {
            if let Err(e) = std::fs::create_dir(&d) {
                made.remove();
                return Err(e);
            }
            made.0.push(d);
        }
        if !dir.is_dir() {
            return Err(std::io::Error::other(format!("{} is in the way and is not a directory", dir.display())));
        }
        Ok(made)
    }

    pub(super) fn remove(self) {
        for d in self.0.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// Where a new split file goes: its path relative to the split folder and on disk, and the
/// directories made for it (removed again on failure).
pub(super) struct Place {
    /// Relative to the split folder (`g/x.h5`, or an alternate `g/x~n1.h5`).
    pub(super) relative: String,
    pub(super) file_path: PathBuf,
    made: MadeDirs,
    /// The split folder's owner file, if this creation wrote it.
    claimed: Option<PathBuf>,
    /// Whether the file at `file_path` was made by this creation (only then is it removed again).
    created: bool,
    /// Whether this process made the directories and the file (under MPI, only rank 0 does:
    /// the others' `remove` leaves the file system alone).
    leader: bool,
}

/// An object to copy: a location in the connector below and a name relative to it.
#[derive(Clone, Copy)]
pub(super) struct Source<'a> {
    pub(super) obj: *mut c_void,
    pub(super) loc: &'a crate::ffi::H5VL_loc_params_t,
    pub(super) name: &'a std::ffi::CStr,
}

/// How many alternate names are tried before giving up (each is a file some link still reaches).
const MAX_ALTERNATES: u32 = 100_000;

/// The first name no file (nor anything else) has among `layout_name` (below `split_dir`) and its
/// alternates `~n1`, `~n2` ... (see `layout::alternate`); None after [`MAX_ALTERNATES`]. A split
/// file is never overwritten: this is how new and moved split files are named.
pub(super) fn free_name(split_dir: &Path, layout_name: &str) -> Option<String> {
    let mut name = layout_name.to_string();
    for k in 1..=MAX_ALTERNATES {
        if std::fs::symlink_metadata(split_dir.join(&name)).is_err() {
            return Some(name);
        }
        name = layout::alternate(layout_name, k);
    }
    None
}

impl Place {
    /// Chooses the split file of the dataset at `path` and makes its directories: the layout's
    /// name, or when a file (or anything else) already has it, the first free alternate
    /// (`x~n1.h5`, `x~n2.h5` ...): a split file belongs to exactly one dataset and is never
    /// overwritten. Refuses a split folder that is not this main file's, and any way through a
    /// symbolic link, before anything is made.
    ///
    /// Under MPI (see `collective`) rank 0 chooses and makes, and every rank checks that it would
    /// have chosen the same layout name in the same folder: the ranks' settings agree (checked
    /// when the main file was opened), so ranks that disagree here were given different dataset
    /// names for one collective create, an error on every rank.
    pub(super) fn prepare(ctx: &FileCtx, path: &[u8]) -> Result<Place> {
        if ctx.comm.is_none() {
            return Place::prepare_here(ctx, path);
        }
        let show = String::from_utf8_lossy(path);
        let layout_name = layout::relative_file(path).ok_or_else(|| Error::arg("a dataset needs a name"))?;
        let here = ctx.split_dir.join(&layout_name);
        let mut made = None;
        let chosen = ctx.decided(&format!("choosing the split file of dataset {show}"), || {
            let place = Place::prepare_here(ctx, path)?;
            let out = [here.as_os_str().as_encoded_bytes(), b"\0", place.relative.as_bytes()].concat();
            made = Some(place);
            Ok(out)
        })?;
        let mut parts = chosen.splitn(2, |b| *b == 0);
        let (theirs, relative) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
        let same = theirs == here.as_os_str().as_encoded_bytes();
        if !ctx.all_ranks(same)? {
            if let Some(place) = made {
                place.remove();
            }
            return Err(Error::arg(if same {
                format!("another rank puts dataset {show} elsewhere (see its error): the ranks disagree")
            } else {
                format!(
                    "the ranks disagree on where dataset {show} goes: rank 0 puts it at {}, {} at {}: every \
                     rank must create the same dataset (H5Dcreate is a collective call)",
                    String::from_utf8_lossy(theirs),
                    ctx.rank_name(),
                    here.display()
                )
            }));
        }
        if let Some(place) = made {
            return Ok(place);
        }
        let relative =
            String::from_utf8(relative.to_vec()).map_err(|_| Error::library("rank 0 sent a name that is not UTF-8"))?;
        let file_path = ctx.split_dir.join(&relative);
        Ok(Place { relative, file_path, made: MadeDirs(Vec::new()), claimed: None, created: false, leader: false })
    }

    /// [`Place::prepare`] in this process alone.
    fn prepare_here(ctx: &FileCtx, path: &[u8]) -> Result<Place> {
        use crate::confine::Owner;
        let show = String::from_utf8_lossy(path);
        let layout_name = layout::relative_file(path).ok_or_else(|| Error::arg("a dataset needs a name"))?;
        match ctx.ownership() {
            Owner::Missing | Owner::Ours => {}
            // A folder the connector never made becomes ours only while it is empty: files in it
            // are someone else's, and truncating the main file later would remove them.
            Owner::Unclaimed if std::fs::read_dir(&ctx.split_dir).is_ok_and(|mut d| d.next().is_none()) => {}
            Owner::Unclaimed => {
                return Err(Error::arg(format!(
                    "refusing to write dataset {show}: {} exists, holds files and was not made by dset-split \
                     (it has no {} file): move it away, or choose another folder with suffix=",
                    ctx.split_dir.display(),
                    layout::OWNER_FILE
                )));
            }
            _ => {
                ctx.claim()?; // says why not
            }
        }
        let refuse = |why: String| Error::arg(format!("refusing to write dataset {show}: {why}"));
        let file_path = crate::confine::below(&ctx.split_dir, &layout_name).map_err(refuse)?;
        let dir = file_path.parent().unwrap_or(&ctx.split_dir).to_path_buf();
        let made = MadeDirs::create(&dir).map_err(|e| {
            Error::new(
                Kind::Library,
                format!("cannot create the split folder {} for dataset {show}: {e}", dir.display()),
            )
        })?;
        let claimed = match ctx.claim() {
            Ok(true) => Some(ctx.split_dir.join(layout::OWNER_FILE)),
            Ok(false) => None,
            Err(e) => {
                made.remove();
                return Err(e);
            }
        };
        let mut place = Place { relative: layout_name.clone(), file_path, made, claimed, created: false, leader: true };
        match free_name(&ctx.split_dir, &layout_name) {
            Some(name) => place.relative = name,
            None => {
                let taken = place.file_path.display().to_string();
                place.remove();
                return Err(Error::library(format!("cannot find a free name for dataset {show} next to {taken}")));
            }
        }
        if place.relative != layout_name {
            trace!("{layout_name} is taken: dataset {show} gets {}", place.relative);
            place.file_path = ctx.split_dir.join(&place.relative);
        }
        Ok(place)
    }

    /// Creates the (empty) split file exclusively, through the connector below: see
    /// `create_split_file`. From here on, [`Place::remove`] removes it again.
    ///
    /// # Safety
    /// `vol` is the connector below of the main file; `dxpl` a valid transfer property list.
    pub(super) unsafe fn create_file(&mut self, ctx: &FileCtx, vol: hid_t, dxpl: hid_t) -> Result<*mut c_void> {
        let c_path = std::ffi::CString::new(self.file_path.as_os_str().as_encoded_bytes())
            .map_err(|_| Error::arg("a path holds a NUL byte"))?;
        // SAFETY: by this function's contract.
        let file = unsafe { create_split_file(ctx, vol, &c_path, dxpl) }?;
        self.created = true;
        Ok(file)
    }

    /// Creates the split file and copies `src` into it as its `/data` (HDF5's object copy, with
    /// `ocpypl`: what an application has written and not flushed is copied too). With `open`, the
    /// copy is opened and returned (it keeps the split file open); otherwise NULL.
    ///
    /// # Safety
    /// `src` names an object of the connector `vol`; the ids are valid.
    pub(super) unsafe fn copy_into(
        &mut self,
        ctx: &FileCtx,
        vol: hid_t,
        src: Source,
        ocpypl: hid_t,
        open: bool,
        dxpl: hid_t,
    ) -> Result<*mut c_void> {
        // SAFETY: by this function's contract.
        let file = unsafe { self.create_file(ctx, vol, dxpl) }?;
        let root = crate::below::Below { obj: file, vol, obj_type: crate::ffi::H5I_FILE }.loc_self();
        // SAFETY: copies the source into the new file, with valid locations and names.
        let rc = unsafe {
            crate::ffi::H5VLobject_copy(
                src.obj,
                src.loc,
                src.name.as_ptr(),
                file,
                &root,
                layout::DATASET_PATH_C.as_ptr(),
                vol,
                ocpypl,
                crate::below::default_lcpl(),
                dxpl,
                std::ptr::null_mut(),
            )
        };
        let copy = if rc >= 0 && open {
            // SAFETY: opens the copy, which keeps the split file open.
            unsafe {
                crate::ffi::H5VLdataset_open(
                    file,
                    &root,
                    vol,
                    layout::DATASET_PATH_C.as_ptr(),
                    *crate::ffi::sys::h5p::H5P_LST_DATASET_ACCESS,
                    dxpl,
                    std::ptr::null_mut(),
                )
            }
        } else {
            std::ptr::null_mut()
        };
        // SAFETY: closes the file object made above (an open copy keeps the file open).
        crate::error::preserving_stack(|| unsafe { crate::ffi::H5VLfile_close(file, vol, dxpl, std::ptr::null_mut()) });
        if rc < 0 || (open && copy.is_null()) {
            return Err(Error::library(format!(
                "cannot copy {} into {}",
                src.name.to_string_lossy(),
                self.file_path.display()
            )));
        }
        Ok(copy)
    }

    /// The external link target of the file: relative to the main file's directory.
    pub(super) fn target(&self, ctx: &FileCtx) -> String {
        ctx.link_target(&self.relative)
    }

    /// Undoes `prepare` and the file `create_file` made.
    pub(super) fn remove(self) {
        if !self.leader {
            return;
        }
        if self.created {
            let _ = std::fs::remove_file(&self.file_path);
        }
        if let Some(owner) = &self.claimed {
            let _ = std::fs::remove_file(owner);
        }
        self.made.remove();
    }
}
