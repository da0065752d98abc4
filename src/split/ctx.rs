//! What the connector knows of one main file (`FileCtx`) and of each open split dataset
//! (`SplitInfo`): paths, policy, the access properties and HDF5 library state for split files,
//! the open split datasets, and the split folder's ownership.

use std::ffi::{CStr, c_void};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::ffi::sys::h5p::H5Pcopy;

use super::Obj;
use crate::below::Below;
use crate::conn_info::Plist;
use crate::error::{Error, Result, preserving_stack};
use crate::ffi::{self, H5F_CLOSE_WEAK, hid_t};
use crate::layout::{self};
use crate::policy::{Form, Policy};
use crate::trace;

/// What a split dataset's wrapper knows of it. Both change while it is open: `H5Lmove` renames
/// it (and may move its file), `H5Ldelete` unnames it.
#[derive(Debug)]
pub struct SplitInfo {
    /// Its file, as the external link names it (`run-split/g/x.h5`, relative to the main file).
    file: std::sync::RwLock<Arc<str>>,
    /// Its absolute path in the main file (what `H5Iget_name` reports; empty once deleted).
    path: std::sync::RwLock<Vec<u8>>,
    /// Its form: the link form's object is in its split file; the virtual form's in the main file.
    pub form: Form,
}

impl SplitInfo {
    pub fn new(file: Arc<str>, path: Vec<u8>) -> SplitInfo {
        SplitInfo { file: std::sync::RwLock::new(file), path: std::sync::RwLock::new(path), form: Form::Link }
    }

    pub fn with_form(self, form: Form) -> SplitInfo {
        SplitInfo { form, ..self }
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
    /// The main file (and so its directory) and the split folder, lexically normal: what link
    /// targets are compared with (`crate::target`), computed once.
    pub(super) norm_main_path: PathBuf,
    pub(super) norm_split_dir: PathBuf,
    pub policy: Policy,
    pub read_only: bool,
    /// File access properties for split files: the main file's, with the connector below and a
    /// weak close degree (a split file stays open while its dataset is).
    pub(super) split_fapl: Plist,
    /// HDF5's API context as it was when the main file was opened (it names the connector stack
    /// files are opened with, and holds the main file's wrap context), captured when HDF5 makes
    /// the file's 'post open' call; restored around split-file creation.
    pub(super) lib_state: std::sync::OnceLock<LibState>,
    /// The number HDF5 gives the main file (captured with the library state): an object whose
    /// file has another number is in a file mounted below the main file (`H5Fmount`).
    pub(super) fileno: std::sync::OnceLock<std::ffi::c_ulong>,
    /// The main file's device and inode, once asked (see `xref::FileKey`).
    pub(super) file_id: std::sync::OnceLock<Option<(u64, u64)>>,
    /// The connector-terminal objects of this file's open split datasets (see
    /// [`open_split_dataset_ids`]).
    pub(super) open_split: std::sync::Mutex<Vec<OpenSplit>>,
    /// Copies of HDF5's default creation property lists without object times, made once per file:
    /// most objects are created with the defaults, and copying a list for each one cost more than
    /// the rest of the passthrough (BENCHMARKS.md). Keyed by the default list's id.
    pub(super) timeless_defaults: std::sync::Mutex<Vec<(hid_t, Arc<Plist>)>>,
    /// Split files no link leads to any more, removed when the main file closes (see
    /// `lifecycle::note_unreferenced`).
    pending: std::sync::Mutex<Vec<Arc<str>>>,
    /// The directories of `HDF5_EXT_PREFIX`, where HDF5 looks a relative external link target up
    /// before the main file's directory.
    pub(super) ext_prefixes: Vec<PathBuf>,
    /// The main file's MPI communicator when it is opened with the MPI-IO driver (see
    /// `collective`): rank 0 does the file-system work.
    pub comm: Option<crate::ffi::mpi::Comm>,
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
pub(super) struct OpenSplit {
    pub(super) terminal: usize,
    under: usize,
    vol: hid_t,
    pub(super) info: Arc<SplitInfo>,
}

/// Every open split dataset of the process, whichever handle of whichever main file opened it:
/// (its main file's directory, normal; its object below; what its wrapper knows). Files one of
/// them lives in are neither moved nor removed (another handle of the same file may link it again).
type OpenEverywhere = Vec<(PathBuf, usize, Arc<SplitInfo>)>;

/// One list per libhdf5 copy (`ffi::bind`): an object of one copy means nothing to another.
static OPEN_EVERYWHERE: [std::sync::Mutex<OpenEverywhere>; crate::ffi::bind::MAX_COPIES] =
    [const { std::sync::Mutex::new(Vec::new()) }; crate::ffi::bind::MAX_COPIES];

fn open_everywhere() -> std::sync::MutexGuard<'static, OpenEverywhere> {
    OPEN_EVERYWHERE[crate::ffi::bind::index()].lock().unwrap_or_else(|e| e.into_inner())
}

/// Frees the process-wide lists of open split datasets and referenced objects (the connector is
/// unloaded).
pub fn forget_open_everywhere() {
    *open_everywhere() = Vec::new();
    super::xref::forget_all();
}

/// A library state captured with `H5VLretrieve_lib_state`.
#[derive(Debug)]
pub(super) struct LibState(*mut c_void);

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
    pub(super) fn run<R>(&self, f: impl FnOnce() -> Result<R>) -> Result<R> {
        let cx = ffi::bind::LibContext::open().ok_or_else(|| Error::library("cannot open an HDF5 library context"))?;
        // SAFETY: restores a state captured by `capture` into the new context.
        let restored = unsafe { ffi::H5VLrestore_lib_state(self.0) } >= 0;
        let out = if restored { f() } else { Err(Error::library("cannot restore HDF5's library state")) };
        // Ends the context opened above.
        preserving_stack(|| drop(cx));
        out
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
    /// names the connector below; `comm`: its MPI communicator, for the MPI-IO driver).
    pub fn new(
        name: &CStr,
        under_fapl: hid_t,
        comm: Option<crate::ffi::mpi::Comm>,
        policy: Policy,
        read_only: bool,
    ) -> Result<Arc<FileCtx>> {
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
        let main_path_dir = main_path.parent().unwrap_or(Path::new("/"));
        let (norm_main_path, norm_split_dir) =
            (crate::target::normalize(&main_path), crate::target::normalize(&split_dir));
        Ok(Arc::new(FileCtx {
            norm_main_path,
            norm_split_dir,
            main_path: main_path.clone(),
            main_name,
            split_dir,
            policy,
            read_only,
            split_fapl,
            lib_state: Default::default(),
            fileno: Default::default(),
            file_id: Default::default(),
            open_split: Default::default(),
            timeless_defaults: Default::default(),
            pending: Default::default(),
            ext_prefixes: super::folder::ext_prefixes(main_path_dir),
            comm,
        }))
    }

    /// Captures HDF5's API context and the main file's number, once: call from the main file's
    /// 'post open' callback with its file object.
    pub fn capture_lib_state(&self, file: &Below, dxpl: hid_t) -> Result<()> {
        if self.lib_state.get().is_none() {
            let _ = self.lib_state.set(LibState::capture()?);
        }
        if self.fileno.get().is_none() {
            if let Ok(n) = crate::error::quietly(|| file.fileno(None, dxpl)) {
                let _ = self.fileno.set(n);
            }
        }
        Ok(())
    }

    /// Whether `other` is the context of the same main file (another open of it: HDF5 shares one
    /// file between them, so hard links between them are allowed).
    pub fn same_file(&self, other: &FileCtx) -> bool {
        // The same name is the same file too: one closed and opened again (an object held across
        // that may be linked again, as natively).
        self.main_path == other.main_path
            || matches!((self.fileno.get(), other.fileno.get()), (Some(a), Some(b)) if a == b)
    }

    /// Whether a link `name` made at `at` goes into the main file itself, not into a file mounted
    /// below it (`H5Fmount`): the deepest existing group on its way decides. A split file belongs
    /// to the file that holds its link; a dataset created in a mounted file stays in that file
    /// (see the README).
    pub fn holds(&self, at: &Below, name: &[u8], dxpl: hid_t) -> bool {
        let Some(main) = self.fileno.get() else { return true };
        let parts = layout::components(name);
        let groups = parts.len().saturating_sub(1);
        let absolute = name.first() == Some(&b'/');
        crate::error::quietly(|| {
            for n in (1..=groups).rev() {
                let mut prefix: Vec<u8> = if absolute { b"/".to_vec() } else { Vec::new() };
                prefix.extend(parts[..n].join(&b'/'));
                let Ok(c) = std::ffi::CString::new(prefix) else { return false };
                if at.link_exists(&c, dxpl).unwrap_or(false) {
                    return at.fileno(Some(&c), dxpl).is_ok_and(|f| f == *main);
                }
            }
            let root = absolute.then_some(c"/");
            at.fileno(root, dxpl).is_ok_and(|f| f == *main)
        })
    }

    /// Records an open split dataset wrapper `o` (marks it split with `file`).
    ///
    /// # Safety
    /// `made` must be our fresh wrapper, not borrowed elsewhere.
    pub(super) unsafe fn track(&self, made: *mut c_void, info: SplitInfo) {
        let info = Arc::new(info);
        // SAFETY: by the contract above.
        unsafe { Obj::set_split(made, info.clone()) };
        // SAFETY: as above.
        unsafe { self.track_open(made, info) };
    }

    /// Records an open virtual split dataset wrapper (its source attached already): its file is in
    /// use, and flushed with the main file. Its wrapper is not marked split: its object is one of
    /// the main file's.
    ///
    /// # Safety
    /// As for [`FileCtx::track`].
    pub(super) unsafe fn track_virtual(&self, made: *mut c_void, info: SplitInfo) {
        // SAFETY: by the contract above.
        unsafe { self.track_open(made, Arc::new(info)) };
    }

    /// # Safety
    /// As for [`FileCtx::track`].
    unsafe fn track_open(&self, made: *mut c_void, info: Arc<SplitInfo>) {
        // SAFETY: as above.
        if let Ok(o) = unsafe { Obj::from_ptr(made) } {
            // SAFETY: asks the connector below for its terminal object.
            let terminal = unsafe { ffi::H5VLget_object(o.under_object, o.under_vol_id) } as usize;
            let dir = self.norm_main_dir().to_path_buf();
            let under = o.raw() as usize;
            // Once per object, however many ways it was recognised.
            let mut everywhere = open_everywhere();
            everywhere.retain(|(_, u, _)| *u != under);
            everywhere.push((dir, under, info.clone()));
            let entry = OpenSplit { terminal, under, vol: o.under_vol_id, info };
            let mut open = self.open_split.lock().unwrap_or_else(|e| e.into_inner());
            open.retain(|e| e.under != under);
            open.push(entry);
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

    /// An open object (below) of the split file `target` of this main file, if one is open, in
    /// any handle of the main file in the process.
    pub(super) fn open_object_in(&self, target: &str) -> Option<*mut c_void> {
        let dir = self.norm_main_dir();
        let everywhere = open_everywhere();
        everywhere
            .iter()
            .find(|(d, _, info)| d == dir && *info.file() == *target)
            .map(|(_, under, _)| *under as *mut c_void)
    }

    /// Forgets a split dataset wrapper that is being closed.
    pub fn untrack(&self, o: &Obj) {
        let mut open = self.open_split.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = open.iter().position(|e| e.under == o.raw() as usize) {
            open.swap_remove(i);
        }
        let mut everywhere = open_everywhere();
        if let Some(i) = everywhere.iter().position(|(_, under, _)| *under == o.raw() as usize) {
            everywhere.swap_remove(i);
        }
    }

    /// `H5Fflush` of the main file: flushes the files of its open split datasets too.
    pub fn flush_split_files(&self, dxpl: hid_t) -> Result<()> {
        let open = self.open_split.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for e in open {
            // (Parallel HDF5 has no dataset flush, and caches no raw data it writes.)
            if e.info.form == Form::Virtual && self.comm.is_none() {
                // A virtual split dataset's source has no id of the application's: a file flush
                // would not reach its cached data, so the dataset is flushed first.
                let mut args = ffi::H5VL_dataset_specific_args_t {
                    op_type: ffi::H5VL_DATASET_FLUSH,
                    args: ffi::H5VL_dataset_specific_args_u { dset_id: -1 },
                };
                // SAFETY: flushes an open dataset of the connector below.
                let rc = unsafe {
                    ffi::H5VLdataset_specific(e.under as *mut c_void, e.vol, &mut args, dxpl, std::ptr::null_mut())
                };
                if rc < 0 {
                    return Err(Error::library("cannot flush the data of a virtual split dataset"));
                }
            }
            Below::flush_split_file(e.under as *mut c_void, e.vol, dxpl)?;
        }
        Ok(())
    }

    /// Sets the split file `target` aside for removal when the main file closes.
    pub fn defer_removal(&self, target: Arc<str>) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if !pending.contains(&target) {
            pending.push(target);
        }
    }

    /// Whether `target` is set aside for removal.
    pub fn is_pending(&self, target: &str) -> bool {
        self.pending.lock().unwrap_or_else(|e| e.into_inner()).iter().any(|t| **t == *target)
    }

    /// No longer sets `target` aside for removal.
    pub fn forget_pending(&self, target: &str) {
        self.pending.lock().unwrap_or_else(|e| e.into_inner()).retain(|t| **t != *target);
    }

    /// The split files set aside for removal (the list is emptied).
    pub fn take_pending(&self) -> Vec<Arc<str>> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Whether an open split dataset of this main file lives in `target`.
    pub fn is_open(&self, target: &str) -> bool {
        let dir = self.norm_main_dir();
        open_everywhere().iter().any(|(d, _, info)| d == dir && *info.file() == *target)
    }

    /// Whether an open split dataset of this handle of the main file lives in `target`.
    pub fn is_open_here(&self, target: &str) -> bool {
        self.open_split.lock().unwrap_or_else(|e| e.into_inner()).iter().any(|e| *e.info.file() == *target)
    }

    /// The main file's directory, lexically normal.
    pub(super) fn norm_main_dir(&self) -> &Path {
        self.norm_main_path.parent().unwrap_or(Path::new("/"))
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
}
