//! Splitting: each dataset created through the connector gets its own HDF5 file in the main
//! file's split folder, reached by an external link stored relative to the main file's directory.
//! See `crate::layout` for the names and the README for the whole specification.

use std::ffi::{CStr, CString, c_char, c_uint, c_void};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hdf5_sys::h5p::{
    H5P_CLS_FILE_CREATE, H5Pcopy, H5Pcreate, H5Pget_create_intermediate_group, H5Pget_external_count,
    H5Pset_obj_track_times,
};
use hdf5_sys::h5s::H5Sget_simple_extent_npoints;
use hdf5_sys::h5t::{H5Tcommitted, H5Tget_size};

use crate::below::{self, Below};
use crate::conn_info::Plist;
use crate::error::{Error, Kind, Result, preserving_stack, quietly};
use crate::ffi::{
    self, H5D_VIRTUAL, H5F_ACC_TRUNC, H5F_CLOSE_WEAK, H5I_FILE, H5L_TYPE_EXTERNAL, H5T_REFERENCE, H5VL_OBJECT_BY_SELF,
    H5VL_loc_params_t, hid_t,
};
use crate::layout::{self, DATASET_PATH, DATASET_PATH_C};
use crate::object::Obj;
use crate::policy::Policy;
use crate::trace;

/// What a split dataset's wrapper knows of it. Both change while it is open: `H5Lmove` renames
/// it (and may move its file), `H5Ldelete` unnames it.
#[derive(Debug)]
pub struct SplitInfo {
    /// Its file, as the external link names it (`run-split/g/x.h5`, relative to the main file).
    file: std::sync::RwLock<Arc<str>>,
    /// Its absolute path in the main file (what `H5Iget_name` reports; empty once deleted).
    path: std::sync::RwLock<Vec<u8>>,
}

impl SplitInfo {
    pub fn new(file: Arc<str>, path: Vec<u8>) -> SplitInfo {
        SplitInfo { file: std::sync::RwLock::new(file), path: std::sync::RwLock::new(path) }
    }

    /// Its file, relative to the main file's directory.
    pub fn file(&self) -> Arc<str> {
        self.file.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Its absolute path in the main file; empty once its link was deleted.
    pub fn path(&self) -> Vec<u8> {
        self.path.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// After the link at `old` was moved to `new` (None: deleted), and split files moved as
    /// `moved` says (old target, new target): its path as HDF5 would now report it, and its file.
    /// HDF5 renames an open object when its own link is moved or deleted (a deleted one has no
    /// name), not when a group above it is (tested against native HDF5 in c-tests/split_layout.c).
    fn renamed(&self, old: &[u8], new: Option<&[u8]>, moved: &[(Arc<str>, Arc<str>)]) {
        let mut path = self.path.write().unwrap_or_else(|e| e.into_inner());
        if *path == old {
            *path = new.map(<[u8]>::to_vec).unwrap_or_default();
        }
        let mut file = self.file.write().unwrap_or_else(|e| e.into_inner());
        if let Some((_, to)) = moved.iter().find(|(from, _)| *from == *file) {
            *file = to.clone();
        }
    }
}

/// What the connector knows about one main file, shared by every object reached from it.
#[derive(Debug)]
pub struct FileCtx {
    /// The main file, absolute (made absolute when the file was created or opened).
    pub main_path: PathBuf,
    /// The main file's name as the application gave it (what `H5Fget_name` reports).
    pub main_name: Vec<u8>,
    /// Its split folder, absolute.
    pub split_dir: PathBuf,
    pub policy: Policy,
    pub read_only: bool,
    /// File access properties for split files: the main file's, with the connector below and a
    /// weak close degree (a split file stays open while its dataset is).
    split_fapl: Plist,
    /// HDF5's API context as it was when the main file was opened (it names the connector stack
    /// files are opened with, and holds the main file's wrap context), captured when HDF5 makes
    /// the file's 'post open' call; restored around split-file creation.
    lib_state: std::sync::OnceLock<LibState>,
    /// The connector-terminal objects of this file's open split datasets (see
    /// [`open_split_dataset_ids`]).
    open_split: std::sync::Mutex<Vec<OpenSplit>>,
    /// Copies of HDF5's default creation property lists without object times, made once per file:
    /// most objects are created with the defaults, and copying a list for each one cost more than
    /// the rest of the passthrough (BENCHMARKS.md). Keyed by the default list's id.
    timeless_defaults: std::sync::Mutex<Vec<(hid_t, Arc<Plist>)>>,
}

impl Drop for FileCtx {
    fn drop(&mut self) {
        crate::lifecycle::forget_counts(self);
        trace!("released the context of {}", self.main_path.display());
    }
}

/// An open split dataset: its connector-terminal object (to recognise its ids), its object in
/// the connector below (to flush its file) and what its wrapper knows of it (to rename it).
#[derive(Debug, Clone)]
struct OpenSplit {
    terminal: usize,
    under: usize,
    vol: hid_t,
    info: Arc<SplitInfo>,
}

/// A library state captured with `H5VLretrieve_lib_state`.
#[derive(Debug)]
struct LibState(*mut c_void);

// SAFETY: the state is an opaque HDF5 allocation used only inside HDF5 calls, which HDF5's
// global lock serializes (the connector does not declare itself thread-safe).
unsafe impl Send for LibState {}
// SAFETY: as above.
unsafe impl Sync for LibState {}

impl LibState {
    /// Captures the current API context. Call from a callback of the main file's create/open.
    fn capture() -> Result<LibState> {
        let mut state = std::ptr::null_mut();
        // SAFETY: writes an opaque state pointer, freed in Drop.
        if unsafe { ffi::H5VLretrieve_lib_state(&mut state) } < 0 || state.is_null() {
            return Err(Error::library("cannot capture HDF5's library state for the split files"));
        }
        Ok(LibState(state))
    }

    /// Runs `f` in a fresh API context holding the captured state.
    fn run<R>(&self, f: impl FnOnce() -> Result<R>) -> Result<R> {
        #[cfg(not(hdf5_2))]
        {
            // SAFETY: pushes a new API context, popped below.
            if unsafe { ffi::H5VLstart_lib_state() } < 0 {
                return Err(Error::library("cannot start an HDF5 library context"));
            }
            // SAFETY: restores a state captured by `capture` into the new context.
            let restored = unsafe { ffi::H5VLrestore_lib_state(self.0) } >= 0;
            let out = if restored { f() } else { Err(Error::library("cannot restore HDF5's library state")) };
            // SAFETY: pops the context pushed above.
            preserving_stack(|| unsafe { ffi::H5VLfinish_lib_state() });
            out
        }
        #[cfg(hdf5_2)]
        {
            let mut cx = std::ptr::null_mut();
            // SAFETY: opens a new API context, closed below.
            if unsafe { ffi::H5VLopen_lib_context(&mut cx) } < 0 {
                return Err(Error::library("cannot open an HDF5 library context"));
            }
            // SAFETY: restores a state captured by `capture` into the new context.
            let restored = unsafe { ffi::H5VLrestore_lib_state(self.0) } >= 0;
            let out = if restored { f() } else { Err(Error::library("cannot restore HDF5's library state")) };
            // SAFETY: closes the context opened above.
            preserving_stack(|| unsafe { ffi::H5VLclose_lib_context(cx) });
            out
        }
    }
}

impl Drop for LibState {
    fn drop(&mut self) {
        // SAFETY: frees the state captured in `capture`, once.
        preserving_stack(|| unsafe { ffi::H5VLfree_lib_state(self.0) });
    }
}

impl FileCtx {
    /// The context of the main file `name`, opened or created with `under_fapl` (which already
    /// names the connector below).
    pub fn new(name: &CStr, under_fapl: hid_t, policy: Policy, read_only: bool) -> Result<Arc<FileCtx>> {
        let main_name = name.to_bytes().to_vec();
        let name = Path::new(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(name.to_bytes()));
        let main_path = std::path::absolute(name)
            .map_err(|e| Error::arg(format!("cannot make {} absolute: {e}", name.display())))?;
        let split_dir = layout::split_dir(&main_path, &policy.suffix);
        if split_dir == main_path {
            return Err(Error::config(format!(
                "suffix={} makes the split folder of {} the file itself; choose another suffix",
                policy.suffix,
                main_path.display()
            )));
        }
        // SAFETY: copies a valid property list; checked below.
        let split_fapl = Plist(unsafe { H5Pcopy(under_fapl) });
        if split_fapl.0 < 0 {
            return Err(Error::library("cannot copy the file access property list"));
        }
        // SAFETY: our own copy of a file access property list.
        if unsafe { ffi::H5Pset_fclose_degree(split_fapl.0, H5F_CLOSE_WEAK) } < 0 {
            return Err(Error::library("cannot set the close degree of split files"));
        }
        Ok(Arc::new(FileCtx {
            main_path,
            main_name,
            split_dir,
            policy,
            read_only,
            split_fapl,
            lib_state: Default::default(),
            open_split: Default::default(),
            timeless_defaults: Default::default(),
        }))
    }

    /// Captures HDF5's API context, once: call from the main file's 'post open' callback.
    pub fn capture_lib_state(&self) -> Result<()> {
        if self.lib_state.get().is_none() {
            let _ = self.lib_state.set(LibState::capture()?);
        }
        Ok(())
    }

    /// Records an open split dataset wrapper `o` (marks it split with `file`).
    ///
    /// # Safety
    /// `made` must be our fresh wrapper, not borrowed elsewhere.
    unsafe fn track(&self, made: *mut c_void, info: SplitInfo) {
        let info = Arc::new(info);
        // SAFETY: by the contract above.
        unsafe { Obj::set_split(made, info.clone()) };
        // SAFETY: as above.
        if let Ok(o) = unsafe { Obj::from_ptr(made) } {
            // SAFETY: asks the connector below for its terminal object.
            let terminal = unsafe { ffi::H5VLget_object(o.under_object, o.under_vol_id) } as usize;
            let entry = OpenSplit { terminal, under: o.under_object as usize, vol: o.under_vol_id, info };
            self.open_split.lock().unwrap_or_else(|e| e.into_inner()).push(entry);
        }
    }

    /// After the link at the absolute path `old` was moved to `new` (None: deleted) and split files
    /// moved as `moved` says: the open split datasets' names follow as HDF5 renames open objects
    /// natively (`H5Iget_name`), and their files as they moved.
    pub fn renamed(&self, old: &[u8], new: Option<&[u8]>, moved: &[(Arc<str>, Arc<str>)]) {
        let open = self.open_split.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for e in open {
            e.info.renamed(old, new, moved);
        }
    }

    /// Forgets a split dataset wrapper that is being closed.
    pub fn untrack(&self, o: &Obj) {
        let mut open = self.open_split.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = open.iter().position(|e| e.under == o.under_object as usize) {
            open.swap_remove(i);
        }
    }

    /// `H5Fflush` of the main file: flushes the files of its open split datasets too.
    pub fn flush_split_files(&self, dxpl: hid_t) -> Result<()> {
        let open = self.open_split.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for e in open {
            let mut args = ffi::H5VL_file_specific_args_t {
                op_type: ffi::H5VL_FILE_FLUSH,
                args: ffi::H5VL_file_specific_args_u {
                    flush: ffi::H5VL_file_specific_flush_t { obj_type: ffi::H5I_DATASET, scope: 0 },
                },
            };
            // SAFETY: flushes the file of an open dataset of the connector below (scope: local).
            let rc =
                unsafe { ffi::H5VLfile_specific(e.under as *mut c_void, e.vol, &mut args, dxpl, std::ptr::null_mut()) };
            if rc < 0 {
                return Err(Error::library("cannot flush a split file"));
            }
        }
        Ok(())
    }

    /// The main file's directory.
    pub fn main_dir(&self) -> &Path {
        self.main_path.parent().unwrap_or(Path::new("/"))
    }

    /// The external link target for a split file: relative to the main file's directory.
    pub fn link_target(&self, relative: &str) -> String {
        let folder = self.split_dir.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        format!("{folder}/{relative}")
    }

    /// Removes the files of the split folder that belong to it (`*.h5` whose names are ours)
    /// and the directories that become empty; foreign files stay. Used when the main file is
    /// truncated or deleted.
    pub fn clear_split_folder(&self) {
        match self.owner() {
            Ok(false) => {}
            _ => {
                trace!("{} belongs to another main file: left as it is", self.split_dir.display());
                return;
            }
        }
        let _ = std::fs::remove_file(self.split_dir.join(layout::OWNER_FILE));
        clear_dir(&self.split_dir, &self.split_dir);
    }

    /// The main file's own name, as written in its split folder's owner file.
    fn owner_name(&self) -> String {
        self.main_path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
    }

    /// Whether the split folder is claimed by *another* main file (`Ok(false)`: unclaimed or ours).
    fn owner(&self) -> std::io::Result<bool> {
        match std::fs::read_to_string(self.split_dir.join(layout::OWNER_FILE)) {
            Ok(text) => Ok(text.trim_end_matches('\n') != self.owner_name()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Claims the split folder for this main file; `Ok(true)` if the owner file was written now.
    fn claim(&self) -> Result<bool> {
        let owner = self.split_dir.join(layout::OWNER_FILE);
        match self.owner() {
            Ok(false) if owner.exists() => Ok(false),
            Ok(false) => {
                std::fs::write(&owner, format!("{}\n", self.owner_name()))
                    .map_err(|e| Error::library(format!("cannot write {}: {e}", owner.display())))?;
                Ok(true)
            }
            Ok(true) => {
                let other = std::fs::read_to_string(&owner).unwrap_or_default();
                Err(Error::config(format!(
                    "the split folder {} belongs to {} (see its {} file): two main files with the same stem \
                     in one directory need different suffixes, e.g. suffix=-{}-split",
                    self.split_dir.display(),
                    other.trim_end(),
                    layout::OWNER_FILE,
                    self.main_path
                        .extension()
                        .map(|e| e.to_string_lossy().into_owned())
                        .unwrap_or_else(|| "main".into())
                )))
            }
            Err(e) => Err(Error::library(format!("cannot read {}: {e}", owner.display()))),
        }
    }
}

fn clear_dir(dir: &Path, root: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            clear_dir(&path, root);
        } else {
            let rel = path.strip_prefix(root).ok().and_then(|r| r.to_str()).map(|r| r.replace('\\', "/"));
            if rel.as_deref().and_then(layout::hdf5_path_of).is_some() {
                if let Err(e) = std::fs::remove_file(&path) {
                    trace!("cannot remove {}: {e}", path.display());
                }
            }
        }
    }
    let _ = std::fs::remove_dir(dir);
}

/// Directories made for a new split file, removed again (innermost first) if creation fails.
struct MadeDirs(Vec<PathBuf>);

impl MadeDirs {
    fn create(dir: &Path) -> std::io::Result<MadeDirs> {
        let mut missing = Vec::new();
        let mut d = dir;
        while !d.exists() {
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

    fn remove(self) {
        for d in self.0.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// Where a new split file goes: its path relative to the main file's directory and on disk, and
/// the directories made for it (removed again on failure).
struct Place {
    relative: String,
    file_path: PathBuf,
    made: MadeDirs,
    /// The split folder's owner file, if this creation wrote it.
    claimed: Option<PathBuf>,
}

impl Place {
    /// Makes the directories for the split file of the dataset at `path`, refusing to leave the
    /// split folder.
    fn prepare(ctx: &FileCtx, path: &[u8]) -> Result<Place> {
        let show = String::from_utf8_lossy(path);
        let relative = layout::relative_file(path).ok_or_else(|| Error::arg("a dataset needs a name"))?;
        let file_path = ctx.split_dir.join(&relative);
        let dir = file_path.parent().unwrap_or(&ctx.split_dir).to_path_buf();
        let made = MadeDirs::create(&dir).map_err(|e| {
            Error::new(
                Kind::Library,
                format!("cannot create the split folder {} for dataset {show}: {e}", dir.display()),
            )
        })?;
        let inside = match (dir.canonicalize(), ctx.split_dir.canonicalize()) {
            (Ok(d), Ok(root)) => d.starts_with(root),
            _ => false,
        };
        if !inside {
            made.remove();
            return Err(Error::arg(format!(
                "refusing to write dataset {show} to {}: a link in the split folder points outside it",
                dir.display()
            )));
        }
        let claimed = match ctx.claim() {
            Ok(true) => Some(ctx.split_dir.join(layout::OWNER_FILE)),
            Ok(false) => None,
            Err(e) => {
                made.remove();
                return Err(e);
            }
        };
        Ok(Place { relative, file_path, made, claimed })
    }

    /// Undoes `prepare` and whatever file was made there.
    fn remove(self) {
        let _ = std::fs::remove_file(&self.file_path);
        if let Some(owner) = &self.claimed {
            let _ = std::fs::remove_file(owner);
        }
        self.made.remove();
    }
}

/// Why a dataset stays in the main file although splitting is on (None: it may split).
///
/// # Safety
/// The ids are HDF5's own arguments of `dataset_cls.create`.
pub unsafe fn structural_reason(type_id: hid_t, dcpl_id: hid_t) -> Option<&'static str> {
    // SAFETY: plain queries on HDF5's own ids.
    unsafe {
        if H5Tcommitted(type_id) > 0 {
            return Some(
                "its datatype is committed in the main file (a dataset can use only a committed datatype of its own file)",
            );
        }
        if ffi::H5Tdetect_class(type_id, H5T_REFERENCE) > 0 {
            return Some("it holds references (a reference stored in another file would point at the wrong object)");
        }
        if ffi::H5Pget_layout(dcpl_id) == H5D_VIRTUAL {
            return Some("it is a virtual dataset (its source paths are relative to the main file)");
        }
        if H5Pget_external_count(dcpl_id) > 0 {
            return Some("its raw data is in external files (their paths are relative to the main file)");
        }
    }
    None
}

/// The absolute HDF5 path of `name` created at `parent`.
pub fn absolute_path(parent: &Below, name: &[u8], dxpl: hid_t) -> Result<Option<Vec<u8>>> {
    let mut path = if name.first() == Some(&b'/') {
        Vec::new()
    } else {
        match parent.path(dxpl)? {
            Some(p) => p,
            None => return Ok(None),
        }
    };
    path.push(b'/');
    path.extend_from_slice(name);
    let parts = layout::components(&path);
    if parts.is_empty() {
        return Ok(None);
    }
    Ok(Some(parts.iter().flat_map(|c| std::iter::once(b'/').chain(c.iter().copied())).collect()))
}

/// Checks, before anything touches the disk, that `name` can be created at `parent`: every
/// parent group exists (or will be created per the lcpl) and the name is free.
fn check_name_is_free(parent: &Below, name: &[u8], lcpl_id: hid_t, dxpl: hid_t) -> Result<()> {
    let mut intermediate: c_uint = 0;
    // SAFETY: queries HDF5's own link creation property list.
    unsafe { H5Pget_create_intermediate_group(lcpl_id, &mut intermediate) };
    let absolute = name.first() == Some(&b'/');
    let parts = layout::components(name);
    let Some((_, groups)) = parts.split_last() else {
        return Ok(());
    };
    let mut prefix: Vec<u8> = if absolute { b"/".to_vec() } else { Vec::new() };
    for g in groups {
        if !prefix.is_empty() && prefix.last() != Some(&b'/') {
            prefix.push(b'/');
        }
        prefix.extend_from_slice(g);
        let c = CString::new(prefix.clone()).map_err(|_| Error::arg("a name holds a NUL byte"))?;
        if !parent.link_exists(&c, dxpl)? {
            if intermediate != 0 {
                return Ok(()); // the rest is created with the link; the name is free
            }
            return Err(Error::arg(format!(
                "cannot create dataset {}: the group {} does not exist (set create-intermediate-group on the link creation property list to create it)",
                String::from_utf8_lossy(name),
                String::from_utf8_lossy(&prefix)
            )));
        }
        if parent.object_type(&c, dxpl)? != 0 {
            return Err(Error::arg(format!(
                "cannot create dataset {}: {} is not a group",
                String::from_utf8_lossy(name),
                String::from_utf8_lossy(&prefix)
            )));
        }
    }
    let c = CString::new(name.to_vec()).map_err(|_| Error::arg("a name holds a NUL byte"))?;
    if parent.link_exists(&c, dxpl)? {
        return Err(Error::arg(format!(
            "cannot create dataset {}: the name is already taken",
            String::from_utf8_lossy(name)
        )));
    }
    Ok(())
}

/// The arguments of `dataset_cls.create`.
#[derive(Debug, Clone, Copy)]
pub struct CreateArgs {
    pub loc_params: *const H5VL_loc_params_t,
    pub name: *const c_char,
    pub lcpl_id: hid_t,
    pub type_id: hid_t,
    pub space_id: hid_t,
    pub dcpl_id: hid_t,
    pub dapl_id: hid_t,
    pub dxpl_id: hid_t,
}

/// Creates the dataset in its own split file and links it, or returns `Ok(None)` when it stays
/// in the main file (the caller then forwards the create unchanged).
///
/// All or nothing: the name and its parents are checked first; a failure after the split file
/// was made removes the file and the directories made for it.
///
/// # Safety
/// `parent` is the wrapper HDF5 passed; the arguments are HDF5's own.
pub unsafe fn create_dataset(parent: &Obj, a: &CreateArgs) -> Result<Option<*mut c_void>> {
    let Some(ctx) = parent.ctx.as_ref() else {
        return Ok(None);
    };
    if a.name.is_null() || a.loc_params.is_null() {
        return Ok(None); // H5Dcreate_anon: stays in the main file
    }
    // SAFETY: HDF5 passes valid location parameters and a NUL-terminated name.
    let (loc, name) = unsafe { (&*a.loc_params, CStr::from_ptr(a.name)) };
    if loc.type_ != H5VL_OBJECT_BY_SELF || ctx.read_only {
        return Ok(None); // HDF5 itself refuses to write into a read-only file
    }
    let at = Below { obj: parent.under_object, vol: parent.under_vol_id, obj_type: loc.obj_type };
    let Some(path) = absolute_path(&at, name.to_bytes(), a.dxpl_id)? else {
        return Ok(None);
    };
    let show = String::from_utf8_lossy(&path).into_owned();
    // SAFETY: HDF5's own type and dcpl ids.
    if let Some(reason) = unsafe { structural_reason(a.type_id, a.dcpl_id) } {
        trace!("dataset {show} stays in the main file: {reason}");
        return Ok(None);
    }
    // SAFETY: plain queries on HDF5's own ids.
    let planned = unsafe {
        (H5Sget_simple_extent_npoints(a.space_id).max(0) as u64).saturating_mul(H5Tget_size(a.type_id) as u64)
    };
    if let Err(reason) = ctx.policy.decide(&path, planned) {
        trace!("dataset {show} stays in the main file: {reason}");
        return Ok(None);
    }
    check_name_is_free(&at, name.to_bytes(), a.lcpl_id, a.dxpl_id)?;

    let Place { relative, file_path, made, claimed } = Place::prepare(ctx, &path)?;
    trace!("dataset {show} -> {}", file_path.display());
    // SAFETY: every call gets valid ids and pointers; failures roll back what was made.
    match unsafe { make_split_dataset(parent, ctx, a, &file_path, loc, name, &relative) } {
        Ok(dset) => {
            let wrapper = Obj::wrap_in(dset, parent.under_vol_id, Some(ctx.clone()));
            let target: Arc<str> = Arc::from(ctx.link_target(&relative));
            crate::lifecycle::count_new_link(ctx, &target);
            // SAFETY: `wrapper` is our fresh wrapper.
            unsafe { ctx.track(wrapper, SplitInfo::new(target, path)) };
            Ok(Some(wrapper))
        }
        Err(e) => {
            Place { relative, file_path, made, claimed }.remove();
            Err(e)
        }
    }
}

/// Creates an empty split file through the connector below, as HDF5 would open any file: inside
/// HDF5's API context of a file operation (the native layer records the connector stack of every
/// file from there; restored from the main file's open) and followed by the 'post open' step
/// (which gives the file its own connector-level object, used for variable-length data).
///
/// # Safety
/// `vol` is the connector below of the main file; `dxpl` a valid transfer property list.
unsafe fn create_split_file(ctx: &FileCtx, vol: hid_t, c_path: &CStr, dxpl: hid_t) -> Result<*mut c_void> {
    let show = c_path.to_string_lossy();
    // Deterministic bytes: no object times in split files (the root group's included).
    // SAFETY: creates and sets our own property list; checked.
    let fcpl = Plist(unsafe { H5Pcreate(*H5P_CLS_FILE_CREATE) });
    // SAFETY: as above.
    if fcpl.0 < 0 || unsafe { H5Pset_obj_track_times(fcpl.0, 0) } < 0 {
        return Err(Error::library("cannot prepare the creation properties of a split file"));
    }
    let state = ctx.lib_state.get().ok_or_else(|| {
        Error::library("the main file was opened without HDF5's 'post open' step; cannot create split files")
    })?;
    state.run(|| {
        // SAFETY: creates the split file through the connector below (named by split_fapl).
        let file = unsafe {
            ffi::H5VLfile_create(c_path.as_ptr(), H5F_ACC_TRUNC, fcpl.0, ctx.split_fapl.0, dxpl, std::ptr::null_mut())
        };
        if file.is_null() {
            return Err(Error::library(format!("cannot create the split file {show}")));
        }
        let mut supported = 0u64;
        // SAFETY: queries the connector below about its own file object.
        unsafe {
            ffi::H5VLintrospect_opt_query(
                file,
                vol,
                ffi::H5VL_SUBCLS_FILE,
                ffi::H5VL_NATIVE_FILE_POST_OPEN,
                &mut supported,
            )
        };
        if supported & ffi::H5VL_OPT_QUERY_SUPPORTED != 0 {
            let mut opt =
                ffi::H5VL_optional_args_t { op_type: ffi::H5VL_NATIVE_FILE_POST_OPEN, args: std::ptr::null_mut() };
            // SAFETY: the 'post open' operation takes no arguments.
            if unsafe { ffi::H5VLfile_optional(file, vol, &mut opt, dxpl, std::ptr::null_mut()) } < 0 {
                // SAFETY: closes the file made above.
                preserving_stack(|| unsafe { ffi::H5VLfile_close(file, vol, dxpl, std::ptr::null_mut()) });
                return Err(Error::library(format!("cannot finish opening the split file {show}")));
            }
        }
        Ok(file)
    })
}

/// Creates the split file, its dataset and the link; on failure closes what it opened (the
/// caller removes the file and directories).
///
/// # Safety
/// As for [`create_dataset`].
#[allow(clippy::too_many_arguments)]
unsafe fn make_split_dataset(
    parent: &Obj,
    ctx: &FileCtx,
    a: &CreateArgs,
    file_path: &Path,
    loc: &H5VL_loc_params_t,
    name: &CStr,
    relative: &str,
) -> Result<*mut c_void> {
    let vol = parent.under_vol_id;
    let show = file_path.display().to_string();
    let c_path =
        CString::new(file_path.as_os_str().as_encoded_bytes()).map_err(|_| Error::arg("a path holds a NUL byte"))?;
    // Deterministic bytes: no object times in split files.
    // SAFETY: copies HDF5's own dcpl; checked.
    let dcpl = Plist(unsafe { H5Pcopy(a.dcpl_id) });
    // SAFETY: sets a property on our own list, checked to be valid first.
    if dcpl.0 < 0 || unsafe { H5Pset_obj_track_times(dcpl.0, 0) } < 0 {
        return Err(Error::library("cannot prepare the creation properties of a split dataset"));
    }
    crate::cow::unlink_shared(file_path)?;
    // SAFETY: HDF5's own transfer property list.
    let file = unsafe { create_split_file(ctx, vol, &c_path, a.dxpl_id) }?;
    // The dataset is made in the application's own API context (H5Dcreate's): it carries the
    // access properties (external file and VDS prefixes, chunk cache) HDF5 reads from there.
    let dset = {
        let loc_root = Below { obj: file, vol, obj_type: H5I_FILE }.loc_self();
        // SAFETY: creates the dataset in the new file with the application's type, space, properties.
        let dset = unsafe {
            ffi::H5VLdataset_create(
                file,
                &loc_root,
                vol,
                DATASET_PATH_C.as_ptr(),
                below::default_lcpl(),
                a.type_id,
                a.space_id,
                dcpl.0,
                a.dapl_id,
                a.dxpl_id,
                std::ptr::null_mut(),
            )
        };
        // The file stays open as long as the dataset is (weak close degree).
        // SAFETY: closes the file object made above.
        preserving_stack(|| unsafe { ffi::H5VLfile_close(file, vol, a.dxpl_id, std::ptr::null_mut()) });
        if dset.is_null() {
            return Err(Error::library(format!("cannot create the dataset {DATASET_PATH} in the split file {show}")));
        }
        dset
    };
    let at = Below { obj: parent.under_object, vol, obj_type: loc.obj_type };
    let linked = make_parents_without_times(Some(ctx), &at, name, a.lcpl_id, a.dxpl_id)
        .and_then(|()| at.create_external_link(name, &ctx.link_target(relative), a.lcpl_id, a.dxpl_id));
    if let Err(e) = linked {
        // SAFETY: closes the dataset made above (and with it the split file).
        preserving_stack(|| unsafe { ffi::H5VLdataset_close(dset, vol, a.dxpl_id, std::ptr::null_mut()) });
        return Err(e);
    }
    Ok(dset)
}

/// The split file an external link `name` at `at` leads to (its value, as stored), if it is one
/// of this main file's split files.
pub fn split_link_target(ctx: &FileCtx, at: &Below, name: &CStr, dxpl: hid_t) -> Option<Arc<str>> {
    if layout::components(name.to_bytes()).is_empty() {
        return None; // the location itself ("." or "/"): no link to look at
    }
    // Callers ask about names that exist (just opened, or the target of a new hard link), so
    // the calls below do not fail and print nothing: keeping errors quiet would cost four more
    // library calls on every dataset open.
    preserving_stack(|| {
        let info = at.link_info(name, dxpl).ok()?;
        if info.type_ != H5L_TYPE_EXTERNAL {
            return None;
        }
        // SAFETY: for external links the union holds the value size.
        let value = at.link_value(name, unsafe { info.u.val_size }, dxpl).ok()?;
        let (file, object) = below::unpack_external_link(&value)?;
        let folder = ctx.split_dir.file_name()?.to_str()?;
        let file = String::from_utf8(file).ok()?;
        (object == DATASET_PATH.as_bytes() && file.starts_with(&format!("{folder}/"))).then(|| Arc::from(file))
    })
}

/// The open dataset ids of split datasets of the main file `ctx` (HDF5 counts a file's open
/// objects by the file they live in; split datasets live in their own).
pub fn open_split_dataset_ids(ctx: &Arc<FileCtx>) -> Vec<hid_t> {
    struct State {
        open: Vec<usize>,
        ids: Vec<hid_t>,
    }
    unsafe extern "C" fn visit(id: hid_t, data: *mut c_void) -> ffi::herr_t {
        // SAFETY: `data` is the `State` below.
        let state = unsafe { &mut *data.cast::<State>() };
        let mut name = [0 as c_char; 32];
        // SAFETY: a valid id and a buffer of the given size.
        let n = unsafe { ffi::H5VLget_connector_name(id, name.as_mut_ptr(), name.len()) };
        // SAFETY: HDF5 wrote a NUL-terminated name.
        if n <= 0 || unsafe { CStr::from_ptr(name.as_ptr()) }.to_bytes() != crate::CONNECTOR_NAME.as_bytes() {
            return 0;
        }
        // SAFETY: H5VLobject returns the terminal (connector-below) object of a valid id.
        let terminal = unsafe { ffi::H5VLobject(id) } as usize;
        if state.open.contains(&terminal) {
            state.ids.push(id);
        }
        0
    }
    let open: Vec<usize> =
        ctx.open_split.lock().unwrap_or_else(|e| e.into_inner()).iter().map(|e| e.terminal).collect();
    if open.is_empty() {
        return Vec::new();
    }
    let mut state = State { open, ids: Vec::new() };
    // SAFETY: iterates dataset ids with a callback that only reads them.
    quietly(|| unsafe {
        hdf5_sys::h5i::H5Iiterate(
            hdf5_sys::h5i::H5I_type_t::H5I_DATASET,
            Some(visit),
            (&mut state as *mut State).cast(),
        )
    });
    state.ids
}

/// Before something at `name` (relative to `parent`, by `loc`) is opened in a main file open for
/// writing: if it is a split dataset whose file is a link into a cache (DVC's hardlink/symlink
/// modes), gives it a private copy first, so that writing can never modify the cache.
///
/// # Safety
/// `loc` and `name` are NULL or HDF5's valid arguments; with `name` NULL, a BY_NAME `loc` names.
pub unsafe fn make_writable(
    parent: &Obj,
    loc: *const H5VL_loc_params_t,
    name: *const c_char,
    dxpl: hid_t,
) -> Result<()> {
    let Some(ctx) = parent.ctx.as_ref() else { return Ok(()) };
    if ctx.read_only || loc.is_null() {
        return Ok(());
    }
    // SAFETY: by the contract above.
    let loc = unsafe { &*loc };
    let name = match (loc.type_, name.is_null()) {
        // SAFETY: as above.
        (H5VL_OBJECT_BY_SELF, false) => unsafe { CStr::from_ptr(name) },
        // SAFETY: for BY_NAME the union holds `loc_by_name`, with a NUL-terminated name.
        (ffi::H5VL_OBJECT_BY_NAME, true) => unsafe { CStr::from_ptr(loc.loc_data.loc_by_name.name) },
        _ => return Ok(()),
    };
    let at = Below { obj: parent.under_object, vol: parent.under_vol_id, obj_type: loc.obj_type };
    if let Some(target) = quietly(|| split_link_target(ctx, &at, name, dxpl)) {
        crate::cow::own_copy(&ctx.main_dir().join(target.as_ref()))?;
    }
    Ok(())
}

/// After `name` was opened at `parent` as `made`: marks it as a split dataset if its link is
/// one of ours.
///
/// # Safety
/// `made` is the wrapper just made for the opened object; the rest are HDF5's arguments.
pub unsafe fn note_opened(
    parent: &Obj,
    loc: *const H5VL_loc_params_t,
    name: *const c_char,
    made: *mut c_void,
    dxpl: hid_t,
) {
    let Some(ctx) = parent.ctx.as_ref() else { return };
    if made.is_null() || name.is_null() || loc.is_null() {
        return;
    }
    // SAFETY: HDF5's valid location parameters and NUL-terminated name.
    let (loc, name) = unsafe { (&*loc, CStr::from_ptr(name)) };
    let at = Below { obj: parent.under_object, vol: parent.under_vol_id, obj_type: loc.obj_type };
    if let Some(file) = split_link_target(ctx, &at, name, dxpl) {
        let path = preserving_stack(|| absolute_path(&at, name.to_bytes(), dxpl).ok().flatten())
            .unwrap_or_else(|| name.to_bytes().to_vec());
        // SAFETY: `made` is our fresh wrapper, not borrowed elsewhere.
        unsafe { ctx.track(made, SplitInfo::new(file, path)) };
    }
}

/// For a hard link to `target` (+ `curr_loc`): the split file to link to instead, when the
/// target is a split dataset (a hard link cannot cross files; an external link to the same split
/// file shares the dataset the same way).
///
/// # Safety
/// `curr_loc` is HDF5's valid location parameters for `target`.
pub unsafe fn hard_link_replacement(target: &Obj, curr_loc: &H5VL_loc_params_t, dxpl: hid_t) -> Option<Arc<str>> {
    let ctx = target.ctx.as_ref()?;
    match curr_loc.type_ {
        H5VL_OBJECT_BY_SELF => target.split.as_ref().map(|s| s.file()),
        ffi::H5VL_OBJECT_BY_NAME => {
            // SAFETY: for BY_NAME the union holds `loc_by_name`, with a NUL-terminated name.
            let name = unsafe { CStr::from_ptr(curr_loc.loc_data.loc_by_name.name) };
            let at = Below { obj: target.under_object, vol: target.under_vol_id, obj_type: curr_loc.obj_type };
            split_link_target(ctx, &at, name, dxpl)
        }
        _ => None,
    }
}

/// References (`H5Rcreate_object`, `H5Rcreate_region`, `H5Rcreate_attr`, the old `H5Rcreate`,
/// and so `H5DSattach_scale`) look their object up to store its address. The address of a split
/// dataset is one in its own file: stored in the main file (or anywhere else) and dereferenced
/// there, it would open whatever sits at that address, silently. Refuse instead.
///
/// # Safety
/// `loc` is HDF5's valid location parameters for `at_obj`.
pub unsafe fn refuse_reference(at_obj: &Obj, loc: &H5VL_loc_params_t, dxpl: hid_t) -> Option<Error> {
    let ctx = at_obj.ctx.as_ref()?;
    let (path, file) = match loc.type_ {
        H5VL_OBJECT_BY_SELF => {
            let s = at_obj.split.as_ref()?;
            (String::from_utf8_lossy(&s.path()).into_owned(), s.file().to_string())
        }
        ffi::H5VL_OBJECT_BY_NAME => {
            // SAFETY: for BY_NAME the union holds `loc_by_name`, with a NUL-terminated name.
            let name = unsafe { CStr::from_ptr(loc.loc_data.loc_by_name.name) };
            if layout::components(name.to_bytes()).is_empty() {
                // "." relative to the location: the location itself.
                let s = at_obj.split.as_ref()?;
                (String::from_utf8_lossy(&s.path()).into_owned(), s.file().to_string())
            } else {
                let at = Below { obj: at_obj.under_object, vol: at_obj.under_vol_id, obj_type: loc.obj_type };
                let file = quietly(|| split_link_target(ctx, &at, name, dxpl))?;
                let path = quietly(|| absolute_path(&at, name.to_bytes(), dxpl).ok().flatten())
                    .unwrap_or_else(|| name.to_bytes().to_vec());
                (String::from_utf8_lossy(&path).into_owned(), file.to_string())
            }
        }
        _ => return None,
    };
    Some(Error::arg(format!(
        "cannot reference dataset {path}: it is stored in its own split file {file}, and an HDF5 reference \
         (also a dimension scale attachment) holds an address inside one file, which would point at a wrong \
         object elsewhere; keep datasets that are referenced or are dimension scales in the main file \
         (e.g. exclude={path})"
    )))
}

/// `H5Ocopy` of a split dataset into a main file of ours: the copy gets a split file of its own
/// (an independent copy, as natively), instead of landing in the main file. `Ok(false)`: not such
/// a copy; the caller forwards it.
///
/// # Safety
/// HDF5's own arguments of `object_cls.copy`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn copy_split(
    src: &Obj,
    src_loc: &H5VL_loc_params_t,
    src_name: &CStr,
    dst: &Obj,
    dst_loc: &H5VL_loc_params_t,
    dst_name: &CStr,
    ocpypl: hid_t,
    lcpl: hid_t,
    dxpl: hid_t,
) -> Result<bool> {
    let (Some(sctx), Some(dctx)) = (src.ctx.as_ref(), dst.ctx.as_ref()) else { return Ok(false) };
    if src_loc.type_ != H5VL_OBJECT_BY_SELF || dst_loc.type_ != H5VL_OBJECT_BY_SELF || dctx.read_only {
        return Ok(false);
    }
    let src_at = Below { obj: src.under_object, vol: src.under_vol_id, obj_type: src_loc.obj_type };
    if split_link_target(sctx, &src_at, src_name, dxpl).is_none() {
        return Ok(false);
    }
    let dst_at = Below { obj: dst.under_object, vol: dst.under_vol_id, obj_type: dst_loc.obj_type };
    let Some(path) = absolute_path(&dst_at, dst_name.to_bytes(), dxpl)? else { return Ok(false) };
    if dctx.policy.decide(&path, u64::MAX).is_err() {
        return Ok(false);
    }
    check_name_is_free(&dst_at, dst_name.to_bytes(), lcpl, dxpl)?;
    let place = Place::prepare(dctx, &path)?;
    let vol = dst.under_vol_id;
    let result = (|| {
        let c_path = CString::new(place.file_path.as_os_str().as_encoded_bytes())
            .map_err(|_| Error::arg("a path holds a NUL byte"))?;
        // SAFETY: HDF5's own transfer property list.
        let file = unsafe { create_split_file(dctx, vol, &c_path, dxpl) }?;
        let root = Below { obj: file, vol, obj_type: H5I_FILE }.loc_self();
        // SAFETY: copies the source (through its link) into the new file, with HDF5's own
        // object copy properties.
        let rc = unsafe {
            ffi::H5VLobject_copy(
                src.under_object,
                src_loc,
                src_name.as_ptr(),
                file,
                &root,
                DATASET_PATH_C.as_ptr(),
                vol,
                ocpypl,
                below::default_lcpl(),
                dxpl,
                std::ptr::null_mut(),
            )
        };
        // SAFETY: closes the file made above.
        preserving_stack(|| unsafe { ffi::H5VLfile_close(file, vol, dxpl, std::ptr::null_mut()) });
        if rc < 0 {
            return Err(Error::library(format!(
                "cannot copy {} into {}",
                src_name.to_string_lossy(),
                c_path.to_string_lossy()
            )));
        }
        make_parents_without_times(Some(dctx), &dst_at, dst_name, lcpl, dxpl)?;
        dst_at.create_external_link(dst_name, &dctx.link_target(&place.relative), lcpl, dxpl)
    })();
    match result {
        Ok(()) => Ok(true),
        Err(e) => {
            place.remove();
            Err(e)
        }
    }
}

/// Creation properties to use instead of the application's: `.0` is the list's id; the list is
/// ours (closed when this is dropped) or a per-file cached copy of a default list.
#[derive(Debug)]
pub struct Timeless(pub hid_t, #[allow(dead_code)] Arc<Plist>);

/// The object creation property list `plist_id` (gcpl, dcpl, tcpl, fcpl) without object times,
/// when the main file's policy says so (`track_times=off`, the default); None keeps the
/// application's list.
pub fn without_times(ctx: Option<&Arc<FileCtx>>, plist_id: hid_t) -> Result<Option<Timeless>> {
    match ctx {
        Some(ctx) if !ctx.policy.track_times => timeless(ctx, plist_id).map(Some),
        _ => Ok(None),
    }
}

/// `plist_id` without object times: a copy made now, or for one of HDF5's default lists (what
/// `H5P_DEFAULT` stands for by the time the connector sees it) a copy made once per file.
fn timeless(ctx: &FileCtx, plist_id: hid_t) -> Result<Timeless> {
    use hdf5_sys::h5p::{H5P_LST_DATASET_CREATE, H5P_LST_DATATYPE_CREATE, H5P_LST_GROUP_CREATE};
    let copy = || {
        // SAFETY: copies HDF5's own property list; checked.
        let copy = Plist(unsafe { H5Pcopy(plist_id) });
        // SAFETY: sets a property on our own list, checked to be valid first.
        if copy.0 < 0 || unsafe { H5Pset_obj_track_times(copy.0, 0) } < 0 {
            return Err(Error::library("cannot prepare creation properties without object times"));
        }
        Ok(Arc::new(copy))
    };
    // HDF5's global default list ids (the library is initialised: we are in a callback).
    let is_default = plist_id == *H5P_LST_DATASET_CREATE
        || plist_id == *H5P_LST_GROUP_CREATE
        || plist_id == *H5P_LST_DATATYPE_CREATE;
    if !is_default {
        let list = copy()?;
        return Ok(Timeless(list.0, list));
    }
    let mut cache = ctx.timeless_defaults.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, list)) = cache.iter().find(|(id, _)| *id == plist_id) {
        return Ok(Timeless(list.0, list.clone()));
    }
    let list = copy()?;
    cache.push((plist_id, list.clone()));
    Ok(Timeless(list.0, list))
}

/// When the link creation properties ask HDF5 to create missing parent groups and the main file
/// records no times: creates those groups first, without times (HDF5 would create them with its
/// default properties, which record times in newer file formats).
pub fn make_parents_without_times(
    ctx: Option<&FileCtx>,
    at: &Below,
    name: &CStr,
    lcpl_id: hid_t,
    dxpl: hid_t,
) -> Result<()> {
    match ctx {
        Some(ctx) if !ctx.policy.track_times && !ctx.read_only => {}
        _ => return Ok(()),
    }
    let mut intermediate: c_uint = 0;
    // SAFETY: queries HDF5's own link creation property list.
    if unsafe { H5Pget_create_intermediate_group(lcpl_id, &mut intermediate) } < 0 || intermediate == 0 {
        return Ok(());
    }
    let parts = layout::components(name.to_bytes());
    let Some((_, groups)) = parts.split_last() else { return Ok(()) };
    if groups.is_empty() {
        return Ok(());
    }
    // SAFETY: creates our own property list; checked.
    let gcpl = Plist(unsafe { H5Pcreate(*hdf5_sys::h5p::H5P_CLS_GROUP_CREATE) });
    // SAFETY: sets a property on our own list, checked to be valid first.
    if gcpl.0 < 0 || unsafe { H5Pset_obj_track_times(gcpl.0, 0) } < 0 {
        return Err(Error::library("cannot prepare group creation properties"));
    }
    let mut prefix: Vec<u8> = if name.to_bytes().first() == Some(&b'/') { b"/".to_vec() } else { Vec::new() };
    for g in groups {
        if !prefix.is_empty() && prefix.last() != Some(&b'/') {
            prefix.push(b'/');
        }
        prefix.extend_from_slice(g);
        let c = CString::new(prefix.clone()).map_err(|_| Error::arg("a name holds a NUL byte"))?;
        if quietly(|| at.link_exists(&c, dxpl)).unwrap_or(true) {
            continue;
        }
        let loc = at.loc_self();
        // SAFETY: creates one missing group (its parent exists now) with our properties.
        let group = unsafe {
            ffi::H5VLgroup_create(
                at.obj,
                &loc,
                at.vol,
                c.as_ptr(),
                below::default_lcpl(),
                gcpl.0,
                *hdf5_sys::h5p::H5P_LST_GROUP_ACCESS,
                dxpl,
                std::ptr::null_mut(),
            )
        };
        if group.is_null() {
            return Err(Error::library(format!("cannot create the group {}", c.to_string_lossy())));
        }
        // SAFETY: closes the group just made.
        preserving_stack(|| unsafe { ffi::H5VLgroup_close(group, at.vol, dxpl, std::ptr::null_mut()) });
    }
    Ok(())
}

/// [`make_parents_without_times`] for a callback's `(obj, loc_params, name)` about to create
/// `name` with `lcpl_id` (BY_SELF locations only; anything else is left to HDF5).
///
/// # Safety
/// `loc` and `name` are NULL or HDF5's valid arguments.
pub unsafe fn parents_for(
    obj: &Obj,
    loc: *const H5VL_loc_params_t,
    name: *const c_char,
    lcpl_id: hid_t,
    dxpl: hid_t,
) -> Result<()> {
    if loc.is_null() || name.is_null() || obj.ctx.is_none() {
        return Ok(());
    }
    // SAFETY: by the contract above.
    let (loc, name) = unsafe { (&*loc, CStr::from_ptr(name)) };
    if loc.type_ != H5VL_OBJECT_BY_SELF {
        return Ok(());
    }
    let at = Below { obj: obj.under_object, vol: obj.under_vol_id, obj_type: loc.obj_type };
    make_parents_without_times(obj.ctx.as_deref(), &at, name, lcpl_id, dxpl)
}

/// [`parents_for`] for a link callback whose location names the new link (BY_NAME).
///
/// # Safety
/// `loc` is NULL or HDF5's valid location parameters.
pub unsafe fn parents_for_link(obj: &Obj, loc: *const H5VL_loc_params_t, lcpl_id: hid_t, dxpl: hid_t) -> Result<()> {
    if loc.is_null() || obj.ctx.is_none() {
        return Ok(());
    }
    // SAFETY: by the contract above.
    let loc = unsafe { &*loc };
    if loc.type_ != ffi::H5VL_OBJECT_BY_NAME {
        return Ok(());
    }
    // SAFETY: for BY_NAME the union holds `loc_by_name`, with a NUL-terminated name.
    let name = unsafe { CStr::from_ptr(loc.loc_data.loc_by_name.name) };
    let at = Below { obj: obj.under_object, vol: obj.under_vol_id, obj_type: loc.obj_type };
    make_parents_without_times(obj.ctx.as_deref(), &at, name, lcpl_id, dxpl)
}

/// The creation properties for an anonymous dataset (`H5Dcreate_anon`) made while splitting is on:
/// the application's, without object times, because the dataset may move into a split file when
/// it is linked (and split files record no times). None: use the application's as they are.
pub fn anonymous_dcpl(parent: &Obj, dcpl_id: hid_t) -> Result<Option<Timeless>> {
    match parent.ctx.as_ref() {
        Some(ctx) if ctx.policy.split && !ctx.read_only => timeless(ctx, dcpl_id).map(Some),
        _ => Ok(None),
    }
}

/// `H5Olink` of an anonymous dataset (h5py's `group[name] = data` makes datasets this way): if the
/// policy splits its path, the dataset moves into a split file of its own and the name becomes an
/// external link, as for `H5Dcreate2`. The application's dataset id is switched to the split
/// dataset, so what it writes afterwards lands there; the anonymous original is released (HDF5
/// deletes an object nothing links to when it closes). `Ok(false)`: link it as usual.
///
/// # Safety
/// `target_ptr`/`target` is the dataset wrapper HDF5 passed (nothing else borrows it during the
/// call); `link_at`/`loc` the link location; the ids are HDF5's own.
pub unsafe fn link_anonymous(
    target_ptr: *mut c_void,
    target: &Obj,
    link_at: &Obj,
    loc: &H5VL_loc_params_t,
    lcpl: hid_t,
    dxpl: hid_t,
) -> Result<bool> {
    let Some(ctx) = link_at.ctx.as_ref() else { return Ok(false) };
    if target.split.is_some() || ctx.read_only || loc.type_ != ffi::H5VL_OBJECT_BY_NAME {
        return Ok(false);
    }
    let vol = target.under_vol_id;
    let dset = Below { obj: target.under_object, vol, obj_type: ffi::H5I_DATASET };
    if quietly(|| dset.path(dxpl)).ok().flatten().is_some() {
        return Ok(false); // not anonymous: an ordinary hard link
    }
    // SAFETY: for BY_NAME the union holds `loc_by_name`, with a NUL-terminated name.
    let name = unsafe { CStr::from_ptr(loc.loc_data.loc_by_name.name) };
    let at = Below { obj: link_at.under_object, vol: link_at.under_vol_id, obj_type: loc.obj_type };
    let Some(path) = absolute_path(&at, name.to_bytes(), dxpl)? else { return Ok(false) };
    // What would keep it in the main file, as for H5Dcreate2.
    let query = |op| quietly(|| dset.dataset_get_id(op, dxpl));
    let (Ok(type_id), Ok(space_id), Ok(dcpl)) = (
        query(ffi::H5VL_DATASET_GET_TYPE).map(IdGuard),
        query(ffi::H5VL_DATASET_GET_SPACE).map(IdGuard),
        query(ffi::H5VL_DATASET_GET_DCPL).map(Plist),
    ) else {
        return Ok(false);
    };
    // SAFETY: HDF5's own ids, just obtained.
    if let Some(reason) = unsafe { structural_reason(type_id.0, dcpl.0) } {
        trace!("dataset {} stays in the main file: {reason}", String::from_utf8_lossy(&path));
        return Ok(false);
    }
    // SAFETY: plain queries on valid ids.
    let planned = unsafe {
        (H5Sget_simple_extent_npoints(space_id.0).max(0) as u64).saturating_mul(H5Tget_size(type_id.0) as u64)
    };
    if let Err(reason) = ctx.policy.decide(&path, planned) {
        trace!("dataset {} stays in the main file: {reason}", String::from_utf8_lossy(&path));
        return Ok(false);
    }
    check_name_is_free(&at, name.to_bytes(), lcpl, dxpl)?;
    let place = Place::prepare(ctx, &path)?;
    let result = (|| -> Result<*mut c_void> {
        let c_path = CString::new(place.file_path.as_os_str().as_encoded_bytes())
            .map_err(|_| Error::arg("a path holds a NUL byte"))?;
        // SAFETY: HDF5's own transfer property list.
        let file = unsafe { create_split_file(ctx, vol, &c_path, dxpl) }?;
        let root = Below { obj: file, vol, obj_type: H5I_FILE }.loc_self();
        let self_loc = dset.loc_self();
        // SAFETY: copies the anonymous dataset (as it is now) into the new file.
        let rc = unsafe {
            ffi::H5VLobject_copy(
                target.under_object,
                &self_loc,
                c".".as_ptr(),
                file,
                &root,
                DATASET_PATH_C.as_ptr(),
                vol,
                *hdf5_sys::h5p::H5P_LST_OBJECT_COPY,
                below::default_lcpl(),
                dxpl,
                std::ptr::null_mut(),
            )
        };
        let copy = if rc >= 0 {
            // SAFETY: opens the copy, which keeps the split file open.
            unsafe {
                ffi::H5VLdataset_open(
                    file,
                    &root,
                    vol,
                    DATASET_PATH_C.as_ptr(),
                    *hdf5_sys::h5p::H5P_LST_DATASET_ACCESS,
                    dxpl,
                    std::ptr::null_mut(),
                )
            }
        } else {
            std::ptr::null_mut()
        };
        // SAFETY: closes the file object made above (the open copy keeps it open).
        preserving_stack(|| unsafe { ffi::H5VLfile_close(file, vol, dxpl, std::ptr::null_mut()) });
        if copy.is_null() {
            return Err(Error::library(format!(
                "cannot move dataset {} into {}",
                String::from_utf8_lossy(&path),
                c_path.to_string_lossy()
            )));
        }
        let linked = make_parents_without_times(Some(ctx), &at, name, lcpl, dxpl)
            .and_then(|()| at.create_external_link(name, &ctx.link_target(&place.relative), lcpl, dxpl));
        if let Err(e) = linked {
            // SAFETY: closes the copy made above.
            preserving_stack(|| unsafe { ffi::H5VLdataset_close(copy, vol, dxpl, std::ptr::null_mut()) });
            return Err(e);
        }
        Ok(copy)
    })();
    let copy = match result {
        Ok(c) => c,
        Err(e) => {
            place.remove();
            return Err(e);
        }
    };
    // Switch the application's dataset to the split copy, and release the anonymous original.
    let original = target.under_object;
    // SAFETY: by the contract above nothing else borrows the wrapper now; `target` is not used
    // after this write.
    unsafe { (*target_ptr.cast::<Obj>()).under_object = copy };
    // SAFETY: closes the anonymous original (HDF5 deletes it: nothing links to it).
    preserving_stack(|| unsafe { ffi::H5VLdataset_close(original, vol, dxpl, std::ptr::null_mut()) });
    let file: Arc<str> = Arc::from(ctx.link_target(&place.relative));
    crate::lifecycle::count_new_link(ctx, &file);
    // SAFETY: the wrapper now holds the split dataset.
    unsafe { ctx.track(target_ptr, SplitInfo::new(file, path)) };
    trace!("anonymous dataset linked as {} moved to {}", name.to_string_lossy(), place.file_path.display());
    Ok(true)
}

/// An id released with `H5Idec_ref` on drop (types, dataspaces; any id whose only reference is
/// ours: HDF5 then closes it as its own close function would).
#[derive(Debug)]
pub struct IdGuard(pub hid_t);

impl Drop for IdGuard {
    fn drop(&mut self) {
        if self.0 >= 0 {
            // SAFETY: an id we own.
            preserving_stack(|| unsafe { hdf5_sys::h5i::H5Idec_ref(self.0) });
        }
    }
}

/// After a failed open of `name` at `parent`: if it is an external link into a missing or
/// unreadable split file, an error that names the dataset, the file and how to get it.
///
/// # Safety
/// As for [`create_dataset`].
pub unsafe fn explain_open_failure(
    parent: &Obj,
    loc: *const H5VL_loc_params_t,
    name: *const c_char,
    dxpl: hid_t,
) -> Option<Error> {
    let ctx = parent.ctx.as_ref()?;
    if name.is_null() || loc.is_null() {
        return None;
    }
    // SAFETY: HDF5's valid location parameters and NUL-terminated name.
    let (loc, name) = unsafe { (&*loc, CStr::from_ptr(name)) };
    if loc.type_ != H5VL_OBJECT_BY_SELF {
        return None;
    }
    let at = Below { obj: parent.under_object, vol: parent.under_vol_id, obj_type: loc.obj_type };
    quietly(|| {
        let info = at.link_info(name, dxpl).ok()?;
        if info.type_ != H5L_TYPE_EXTERNAL {
            return None;
        }
        // SAFETY: for external links the union holds the value size.
        let size = unsafe { info.u.val_size };
        let value = at.link_value(name, size, dxpl).ok()?;
        let (file, _) = below::unpack_external_link(&value)?;
        let file = String::from_utf8_lossy(&file).into_owned();
        let target = ctx.main_dir().join(&file);
        let path = absolute_path(&at, name.to_bytes(), dxpl).ok().flatten().unwrap_or_else(|| name.to_bytes().to_vec());
        let path = String::from_utf8_lossy(&path);
        if !target.exists() {
            Some(Error::new(
                Kind::MissingFile,
                format!(
                    "dataset {path} is stored in {file} (next to {}), which is missing: it was not materialised; \
                     fetch it, e.g. `dvc pull {file}` or `git annex get {file}`",
                    ctx.main_path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
                ),
            ))
        } else {
            Some(Error::new(
                Kind::MissingFile,
                format!(
                    "dataset {path} is stored in {file}, which exists but cannot be opened as a split file (damaged, or not HDF5?)"
                ),
            ))
        }
    })
}
