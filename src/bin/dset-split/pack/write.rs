//! Writing a pack: a new one (into a work file renamed into place at the end, so an error or an
//! interrupt leaves nothing), or `--update` of an existing one (only what changed is
//! rewritten). See `format` for what a pack holds.

use std::collections::{HashMap, HashSet};
use std::ffi::{CStr, CString};
use std::io::Read;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use dset_split::ffi::sys::h5::{hsize_t, htri_t};
use dset_split::ffi::sys::h5d::{
    H5D_alloc_time_t, H5D_fill_time_t, H5D_layout_t, H5Dcreate2, H5Dget_offset, H5Dget_space,
};
use dset_split::ffi::sys::h5f::{H5F_ACC_EXCL, H5F_libver_t, H5F_scope_t, H5Fcreate, H5Fflush};
use dset_split::ffi::sys::h5g::{H5Gcreate2, H5Gopen2};
use dset_split::ffi::sys::h5i::hid_t;
use dset_split::ffi::sys::h5l::{H5Lcreate_external, H5Lcreate_hard, H5Lcreate_soft, H5Ldelete, H5Lexists};
use dset_split::ffi::sys::h5o::{H5O_INFO_BASIC, H5O_info2_t, H5O_type_t, H5Oget_info3, H5Oopen};
use dset_split::ffi::sys::h5p::{
    H5P_CLS_FILE_CREATE, H5P_CLS_GROUP_CREATE, H5P_DEFAULT, H5P_LST_DATASET_CREATE, H5Pcopy, H5Pcreate,
    H5Pset_alloc_time, H5Pset_chunk, H5Pset_deflate, H5Pset_fill_time, H5Pset_layout, H5Pset_libver_bounds,
    H5Pset_meta_block_size, H5Pset_obj_track_times, H5Pset_userblock,
};
use dset_split::ffi::sys::h5s::{H5Screate_simple, H5Sget_simple_extent_npoints};
use dset_split::ffi::sys::h5t::{H5T_STD_U8LE, H5T_cset_t};
use dset_split::split::IdGuard;

use super::copy::{Copier, copy_range, open_source};
use super::format::{self, Index, Record, Stat, SymlinkStat};
use super::hdf::{self, Member, StatTypes, c_name};
use super::walk::{Entry, Kind, Walk};
use crate::h5::failed;

/// How files are stored and what is reported.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Deflate level for compressed (chunked) datasets; None: contiguous, uncompressed.
    pub compress: Option<u32>,
    /// `--update`: a file is unchanged when its bytes are (not its size and time).
    pub checksum: bool,
    pub progress: bool,
    /// `--split-dirs`: the depth of the folders packed on their own (recorded in the main pack).
    pub split: Option<u32>,
}

/// What a pack or an update did.
#[derive(Debug, Default, serde::Serialize)]
pub struct Summary {
    pub dirs: u64,
    pub files: u64,
    pub symlinks: u64,
    pub hard_links: u64,
    /// Bytes of file contents written.
    pub bytes_written: u64,
    /// `--update`: files left as they were.
    pub unchanged: u64,
    /// `--update`: entries of the pack no longer in the folder, removed.
    pub removed: u64,
    /// `--split-dirs`: folders packed on their own ...
    pub parts: u64,
    /// ... of which packs left as they were (nothing in the folder changed) ...
    pub parts_unchanged: u64,
    /// ... and packs of folders no longer packed on their own, removed.
    pub parts_removed: u64,
    pub skipped: Vec<String>,
    /// What may not be as it was (a file that changed while it was packed).
    pub warnings: Vec<String>,
}

impl Summary {
    /// The summary of an update that found `walk` packed already.
    fn unchanged(walk: &Walk) -> Summary {
        let mut s = Summary { skipped: walk.skipped.clone(), ..Summary::default() };
        for e in &walk.entries {
            match e.kind {
                Kind::Dir => s.dirs += 1,
                Kind::File { .. } => s.files += 1,
                Kind::Symlink { .. } => s.symlinks += 1,
                Kind::HardLink { .. } => s.hard_links += 1,
                Kind::Part { .. } => s.parts += 1,
            }
        }
        s.unchanged = s.files;
        s
    }

    /// Adds a part's summary to the main pack's.
    pub fn add(&mut self, part: Summary) {
        self.dirs += part.dirs;
        self.files += part.files;
        self.symlinks += part.symlinks;
        self.hard_links += part.hard_links;
        self.bytes_written += part.bytes_written;
        self.unchanged += part.unchanged;
        self.removed += part.removed;
        self.skipped.extend(part.skipped);
        self.warnings.extend(part.warnings);
    }
}

/// Bytes read from a file and written to HDF5 at a time: memory stays bounded whatever the size.
pub(super) const PIECE: usize = 4 << 20;
/// The largest blocks HDF5 takes metadata from (see `pack_into`).
const META_BLOCK: u64 = 1 << 20;

/// The size of the blocks HDF5 takes a pack's metadata from: about a kibibyte per entry, from
/// HDF5's own 2 KiB up to [`META_BLOCK`] (the unused end of the last block stays in the file, and
/// a small pack, such as a folder's own, should not carry a mebibyte of it).
fn meta_block(walk: &Walk) -> u64 {
    (walk.entries.len() as u64).saturating_mul(1024).next_power_of_two().clamp(2048, META_BLOCK)
}
/// The chunk size of compressed datasets.
const CHUNK: u64 = 1 << 20;

/// The work file a pack is written to beside `out` before it is renamed to `out`.
pub fn work_path(out: &Path) -> Result<PathBuf, String> {
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = out.file_name().ok_or_else(|| format!("{}: not a file name", out.display()))?;
    if !dir.is_dir() {
        return Err(format!("{}: no such folder", dir.display()));
    }
    // The process and the time: a work file a killed run left under this process number (it
    // comes back) is not in the way.
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    Ok(dir.join(format!("{}{}-{nanos}", crate::work::pack_prefix(name), std::process::id())))
}

/// Packs `walk` (of the folder `root`) into `out`: a new file, or with `update` a copy of the
/// pack `out` brought up to date. Either is written to a work file beside `out` and renamed to
/// it at the end, so an error or an interrupt leaves `out` as it was (HDF5 files have no crash
/// consistency: an update killed while writing in place could damage the whole pack), and a
/// symbolic link or a hard link at `out` (a DVC or git-annex cache copy) is replaced, never
/// written through.
pub fn pack(
    walk: &Walk,
    root: &Path,
    out: &Path,
    opts: &Options,
    update: bool,
    ub: UserBlock,
) -> Result<Summary, String> {
    prepare(walk, root, out, opts, update, ub)?.commit()
}

/// A pack written and sealed in its work file, to be renamed over its place by
/// [`Pending::commit`] (the work file is removed if it never is); or an update that found the
/// pack up to date, which leaves it as it is.
#[derive(Debug)]
pub struct Pending {
    work: Option<PathBuf>,
    out: PathBuf,
    summary: Summary,
}

impl Pending {
    /// Whether the pack is left as it was, byte for byte (nothing to commit).
    pub fn unchanged(&self) -> bool {
        self.work.is_none()
    }

    /// Puts the new pack in its place.
    pub fn commit(mut self) -> Result<Summary, String> {
        if let Some(work) = self.work.take() {
            if let Err(e) = std::fs::rename(&work, &self.out) {
                let _ = std::fs::remove_file(&work);
                return Err(format!("cannot move the pack to {}: {e}", self.out.display()));
            }
        }
        Ok(std::mem::take(&mut self.summary))
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(work) = self.work.take() {
            let _ = std::fs::remove_file(work);
        }
    }
}

/// [`pack`] up to the rename: the new pack in its work file, sealed.
pub fn prepare(
    walk: &Walk,
    root: &Path,
    out: &Path,
    opts: &Options,
    update: bool,
    ub: UserBlock,
) -> Result<Pending, String> {
    // The pack holds the folder as it is (size and time say no file's bytes changed): it stays
    // as it is, byte for byte, so DVC or rsync see no change.
    let same_walk = update && super::scan::walk_of(out).is_some_and(|old| super::scan::same(&old, walk));
    if same_walk && !opts.checksum {
        return Ok(Pending { work: None, out: out.to_path_buf(), summary: Summary::unchanged(walk) });
    }
    let work = work_path(out)?;
    let mut pending = Pending { work: Some(work.clone()), out: out.to_path_buf(), summary: Summary::default() };
    let mut s =
        if update { update_into(walk, root, out, &work, opts)? } else { pack_into(walk, root, &work, opts, ub)? };
    crate::interrupted()?;
    if same_walk && s.bytes_written == 0 && s.removed == 0 {
        // `--checksum` found every file's bytes the same too.
        drop(pending);
        return Ok(Pending { work: None, out: out.to_path_buf(), summary: Summary::unchanged(walk) });
    }
    s.warnings.extend((ub.write)(&work, out)?);
    if update {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        // The old pack's mode, once the user block is written (a read-only mode would refuse
        // that write).
        let mode = std::fs::metadata(out).map_err(|e| format!("cannot read {}: {e}", out.display()))?.mode();
        std::fs::set_permissions(&work, std::fs::Permissions::from_mode(mode & 0o7777))
            .map_err(|e| format!("cannot set the mode of {}: {e}", work.display()))?;
    }
    pending.summary = s;
    Ok(pending)
}

/// The depth of folders packed on their own that the pack at `out` records (`--split-dirs`).
pub fn recorded_split(out: &Path) -> Option<u32> {
    Some(u32::from_le_bytes(root_attr(out, format::SPLIT_ATTR)?.try_into().ok()?))
}

/// The root attribute `name` of the pack at `out` (a regular file), as bytes.
fn root_attr(out: &Path, name: &str) -> Option<Vec<u8>> {
    let (_file, root) = open_pack(out)?;
    hdf::read_bytes_attr(root.0, &attr_name(name))
}

/// The pack at `path` (a regular file), open read-only, and its root group; None when it is not
/// a pack or cannot be read.
pub fn open_pack(path: &Path) -> Option<(IdGuard, IdGuard)> {
    if !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    let file = crate::h5::open(path, false).ok()?;
    // SAFETY: the open file's root group.
    let root = IdGuard(unsafe { H5Gopen2(file.0, c"/".as_ptr(), H5P_DEFAULT) });
    (root.0 >= 0 && is_pack(file.0)).then_some((file, root))
}

/// The pack's user block: the room a new pack of a walk leaves there, and what is written
/// there once HDF5 has closed the pack (a warning when it could not be). `main` passes the
/// mount's tree image (`mount::sealed`), which pack does not know of.
#[derive(Debug, Clone, Copy)]
pub struct UserBlock {
    pub room: fn(&Walk) -> u64,
    /// Given the work file and the file it is to replace.
    pub write: fn(&Path, &Path) -> Result<Option<String>, String>,
}

fn pack_into(walk: &Walk, root: &Path, work: &Path, opts: &Options, ub: UserBlock) -> Result<Summary, String> {
    // SAFETY: plain HDF5 calls with valid arguments; ids are checked and released by `IdGuard`.
    let fcpl = IdGuard(unsafe { H5Pcreate(*H5P_CLS_FILE_CREATE) });
    // No times in object headers (the root group's too): the same tree gives the same bytes.
    // SAFETY: our list, checked first.
    if fcpl.0 < 0 || unsafe { H5Pset_obj_track_times(fcpl.0, 0) } < 0 {
        return Err(failed("cannot set up the pack's properties"));
    }
    // Room for the tree image before the HDF5 data (a compressed pack is read through HDF5
    // anyway).
    // SAFETY: our list; HDF5 checks the size (a power of two of at least 512).
    if opts.compress.is_none() && unsafe { H5Pset_userblock(fcpl.0, (ub.room)(walk)) } < 0 {
        return Err(failed("cannot set up the pack's user block"));
    }
    let fapl = crate::h5::native_fapl()?;
    // Version-2 object headers (with checksums, which the index relies on) and large
    // attributes; readable by HDF5 1.8 and newer.
    // SAFETY: our list and valid bounds.
    if unsafe { H5Pset_libver_bounds(fapl.0, H5F_libver_t::H5F_LIBVER_V18, H5F_libver_t::H5F_LIBVER_V18) } < 0 {
        return Err(failed("cannot set up the pack's properties"));
    }
    // Object headers and link storage come from blocks of up to 1 MiB instead of 2 KiB, so they lie
    // together rather than between the files' bytes: listing the tree (mount, h5ls) reads a few
    // blocks, not a page per file, from a cold cache.
    // SAFETY: our list.
    if unsafe { H5Pset_meta_block_size(fapl.0, meta_block(walk)) } < 0 {
        return Err(failed("cannot set up the pack's properties"));
    }
    let name = crate::h5::c_path(work)?;
    // SAFETY: a NUL-terminated name and our lists.
    let file = IdGuard(unsafe { H5Fcreate(name.as_ptr(), H5F_ACC_EXCL, fcpl.0, fapl.0) });
    if file.0 < 0 {
        return Err(failed(format!("cannot create {}", work.display())));
    }
    let mut w = Writer::new(file.0, work, opts, false)?;
    w.run(walk, root)?;
    w.finish(work)
}

/// Copies the pack `out` to `work` and brings the copy up to date with `walk`.
fn update_into(walk: &Walk, root: &Path, out: &Path, work: &Path, opts: &Options) -> Result<Summary, String> {
    use std::os::unix::fs::MetadataExt;
    // Not opened unless a regular file (opening a named pipe would wait), and not when
    // protected: a read-only pack (a DVC-protected copy?) is not replaced behind its back.
    let meta = std::fs::metadata(out).map_err(|e| format!("cannot open {}: {e}", out.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a file", out.display()));
    }
    let c = crate::h5::c_path(out)?;
    // SAFETY: a NUL-terminated path; a plain system call.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK) } != 0 {
        return Err(format!("{} is not writable (a DVC-protected copy? `dvc unprotect` it first)", out.display()));
    }
    let src = std::fs::File::open(out).map_err(|e| format!("cannot open {}: {e}", out.display()))?;
    // Held while copying: refused while an HDF5 program writes the pack.
    crate::h5::lock_shared(&src, out)?;
    let dst = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o600)
        .open(work)
        .map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    copy_range(&src, &dst, 0, meta.len(), &mut Vec::new())
        .map_err(|e| format!("cannot copy {}: {e}", out.display()))?;
    // The new pack gets the old one's owner (when allowed) and, at the end, its mode.
    // SAFETY: an open descriptor; a failure (not root) leaves this user's ownership.
    unsafe { libc::fchown(std::os::fd::AsRawFd::as_raw_fd(&dst), meta.uid(), meta.gid()) };
    drop(dst);
    update_work(walk, root, out, work, opts)
}

/// Brings the copy `work` of the pack `out` up to date with `walk`.
fn update_work(walk: &Walk, root: &Path, out: &Path, work: &Path, opts: &Options) -> Result<Summary, String> {
    let file = crate::h5::open(work, true)?;
    if !is_pack(file.0) {
        return Err(format!("{} is not a pack made by `dset-split pack`; --update only adds to one", out.display()));
    }
    let mut w = Writer::new(file.0, work, opts, true)?;
    // SAFETY: the open file's root group.
    let rootg = IdGuard(unsafe { H5Gopen2(file.0, c"/".as_ptr(), H5P_DEFAULT) });
    hdf::delete_attr(rootg.0, &attr_name(format::INDEX_ATTR));
    drop(rootg);
    w.run(walk, root)?;
    w.finish(work)
}

/// Whether the open file `file` is a pack.
pub fn is_pack(file: hid_t) -> bool {
    // SAFETY: a valid file and a NUL-terminated name.
    let found: htri_t = unsafe { dset_split::ffi::sys::h5a::H5Aexists(file, attr_name(format::PACK_ATTR).as_ptr()) };
    found > 0
}

fn attr_name(name: &str) -> CString {
    CString::new(name).expect("no NUL")
}

/// A group being filled: its path, id, the names the folder has in it, and its symbolic links.
struct Open {
    rel: Vec<u8>,
    id: IdGuard,
    names: HashSet<Vec<u8>>,
    symlinks: Vec<SymlinkStat>,
}

struct Writer<'a> {
    file: hid_t,
    /// Copies file contents into the pack alongside (None once it stopped at an error).
    copier: Option<Copier>,
    /// The copier's error, once it stopped at one.
    failed: Option<String>,
    opts: &'a Options,
    /// Updating an existing pack (look before making anything).
    existing: bool,
    types: StatTypes,
    gcpl: IdGuard,
    lcpl_utf8: IdGuard,
    lcpl_ascii: IdGuard,
    buf: Vec<u8>,
    stack: Vec<Open>,
    index: Index,
    /// `--update`: datasets that had other names when a name of theirs was removed.
    was_shared: HashSet<[u8; 16]>,
    /// `--update`: the groups kept so far.
    groups: HashSet<[u8; 16]>,
    /// The other names (hard links) of each file with several, by its first name.
    names_of: HashMap<Vec<u8>, Vec<Vec<u8>>>,
    summary: Summary,
    bar: indicatif::ProgressBar,
}

impl<'a> Writer<'a> {
    fn new(file: hid_t, path: &Path, opts: &'a Options, existing: bool) -> Result<Writer<'a>, String> {
        // SAFETY: a fresh list, checked.
        let gcpl = IdGuard(unsafe { H5Pcreate(*H5P_CLS_GROUP_CREATE) });
        // SAFETY: our list, checked first.
        if gcpl.0 < 0 || unsafe { H5Pset_obj_track_times(gcpl.0, 0) } < 0 {
            return Err(failed("cannot set up the pack's properties"));
        }
        let raw = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        // The same file, to copy file contents straight into contiguous datasets' space.
        let copier = Some(Copier::start(raw));
        Ok(Writer {
            file,
            copier,
            failed: None,
            opts,
            existing,
            types: StatTypes::new()?,
            gcpl,
            lcpl_utf8: crate::h5::lcpl(H5T_cset_t::H5T_CSET_UTF8)?,
            lcpl_ascii: crate::h5::lcpl(H5T_cset_t::H5T_CSET_ASCII)?,
            buf: Vec::new(),
            stack: Vec::new(),
            index: Index::default(),
            was_shared: HashSet::new(),
            groups: HashSet::new(),
            names_of: HashMap::new(),
            summary: Summary::default(),
            bar: indicatif::ProgressBar::hidden(),
        })
    }

    fn run(&mut self, walk: &Walk, root: &Path) -> Result<(), String> {
        self.bar = crate::progress_bar(walk.bytes(), self.opts.progress);
        self.summary.skipped = walk.skipped.clone();
        for e in &walk.entries {
            if let Kind::HardLink { first } = e.kind {
                self.names_of.entry(walk.entries[first].rel.clone()).or_default().push(e.rel.clone());
            }
        }
        for entry in &walk.entries {
            crate::interrupted()?;
            self.entry(walk, root, entry).map_err(|e| match self.failed.take() {
                Some(copy_error) => copy_error,
                None => format!("{}: {e}", entry.path(root).display()),
            })?;
        }
        while !self.stack.is_empty() {
            self.close_group()?;
        }
        self.bar.finish_and_clear();
        Ok(())
    }

    fn lcpl(&self, name: &[u8]) -> hid_t {
        if std::str::from_utf8(name).is_ok() { self.lcpl_utf8.0 } else { self.lcpl_ascii.0 }
    }

    fn entry(&mut self, walk: &Walk, root: &Path, e: &Entry) -> Result<(), String> {
        if e.rel.is_empty() {
            // SAFETY: the open file's root group.
            let g = IdGuard(unsafe { H5Gopen2(self.file, c"/".as_ptr(), H5P_DEFAULT) });
            if g.0 < 0 {
                return Err(failed("cannot open the root group"));
            }
            self.types.write(g.0, &e.stat)?;
            self.groups.insert(hdf::token_of(g.0)?);
            let version = format::VERSION.to_le_bytes();
            hdf::write_bytes_attr(g.0, &attr_name(format::PACK_ATTR), &version)?;
            self.summary.dirs += 1;
            self.stack.push(Open { rel: Vec::new(), id: g, names: HashSet::new(), symlinks: Vec::new() });
            return Ok(());
        }
        let parent_rel = e.rel.len().checked_sub(e.name().len() + 1).map_or(&[][..], |n| &e.rel[..n]);
        while self.stack.last().is_some_and(|o| o.rel != parent_rel) {
            self.close_group()?;
        }
        let name = c_name(e.name())?;
        let lcpl = self.lcpl(e.name());
        let parent = self.stack.last_mut().ok_or("the folder's entries are out of order")?;
        parent.names.insert(e.name().to_vec());
        let parent = parent.id.0;
        let existing = if self.existing { self.look(parent, &name)? } else { None };
        match &e.kind {
            Kind::Dir => {
                // A group kept is one this run has not kept already (a group linked twice, by
                // another program, would hold two folders' entries).
                let g = match existing {
                    Some((Found::Group(token), _)) if self.groups.insert(token) => open(parent, &name)?,
                    other => {
                        self.drop_link(parent, &name, &other)?;
                        // SAFETY: a valid parent, a NUL-terminated name and our lists.
                        IdGuard(unsafe { H5Gcreate2(parent, name.as_ptr(), lcpl, self.gcpl.0, H5P_DEFAULT) })
                    }
                };
                if g.0 < 0 {
                    return Err(failed("cannot make the group"));
                }
                self.types.write(g.0, &e.stat)?;
                self.summary.dirs += 1;
                self.stack.push(Open { rel: e.rel.clone(), id: g, names: HashSet::new(), symlinks: Vec::new() });
            }
            Kind::File { size, linked } => {
                self.file_entry(parent, &name, lcpl, (&e.path(root), &e.rel), (*size, *linked), &e.stat, existing)?;
                self.summary.files += 1;
            }
            Kind::Symlink { target } => {
                let keep = matches!(&existing, Some((Found::Soft(v), _)) if v == target);
                if !keep {
                    self.drop_link(parent, &name, &existing)?;
                    let target = c_name(target)?;
                    // SAFETY: NUL-terminated strings, a valid parent and our list.
                    if unsafe { H5Lcreate_soft(target.as_ptr(), parent, name.as_ptr(), lcpl, H5P_DEFAULT) } < 0 {
                        return Err(failed("cannot make the soft link"));
                    }
                }
                let open = self.stack.last_mut().expect("the parent is open");
                open.symlinks.push(SymlinkStat { name: e.name().to_vec(), stat: e.stat });
                self.summary.symlinks += 1;
            }
            Kind::Part { file } => {
                let keep = matches!(&existing, Some((Found::External(f, o), _)) if f == file.as_bytes() && o == b"/");
                if !keep {
                    self.drop_link(parent, &name, &existing)?;
                    let target = c_name(file.as_bytes())?;
                    // SAFETY: NUL-terminated strings, a valid parent and our list.
                    let made = unsafe {
                        H5Lcreate_external(target.as_ptr(), c"/".as_ptr(), parent, name.as_ptr(), lcpl, H5P_DEFAULT)
                    };
                    if made < 0 {
                        return Err(failed("cannot make the external link to the folder's pack"));
                    }
                }
                self.summary.parts += 1;
            }
            Kind::HardLink { first } => {
                self.drop_link(parent, &name, &existing)?;
                let to = c_name(&[b"/", &walk.entries[*first].rel[..]].concat())?;
                // SAFETY: NUL-terminated names, valid locations and our list.
                if unsafe { H5Lcreate_hard(self.file, to.as_ptr(), parent, name.as_ptr(), lcpl, H5P_DEFAULT) } < 0 {
                    return Err(failed("cannot make the hard link"));
                }
                self.summary.hard_links += 1;
            }
        }
        Ok(())
    }

    /// What the link `name` of `parent` is now, with the object's reference count.
    fn look(&self, parent: hid_t, name: &CStr) -> Result<Option<(Found, u32)>, String> {
        // SAFETY: a valid group and a NUL-terminated name.
        if unsafe { H5Lexists(parent, name.as_ptr(), H5P_DEFAULT) } <= 0 {
            return Ok(None);
        }
        let members = hdf::member(parent, name)?;
        Ok(Some(match members {
            Member::Soft(v) => (Found::Soft(v), 0),
            Member::External { file, object } => (Found::External(file, object), 0),
            Member::Hard(token) => {
                let o = open(parent, name)?;
                // SAFETY: zeroed is a valid `H5O_info2_t`.
                let mut info: H5O_info2_t = unsafe { std::mem::zeroed() };
                // SAFETY: an open object and an output slot.
                if unsafe { H5Oget_info3(o.0, &mut info, H5O_INFO_BASIC) } < 0 {
                    return Err(failed("cannot inspect the object"));
                }
                let kind = match info.type_ {
                    H5O_type_t::H5O_TYPE_GROUP => Found::Group(token),
                    // Only a packed file's dataset is kept or rewritten; anything else (data
                    // stored outside the pack, another type or shape) is replaced, never read.
                    H5O_type_t::H5O_TYPE_DATASET if hdf::packed_bytes(o.0) => Found::Dataset(token),
                    _ => Found::Other,
                };
                (kind, info.rc)
            }
            _ => (Found::Other, 0),
        }))
    }

    /// Removes the link `name` of `parent` (when `existing` says there is one) to make room.
    /// A dataset that had other names is remembered: its other names, if the folder still has
    /// them, are compared by content (see `file_entry`).
    fn drop_link(&mut self, parent: hid_t, name: &CStr, existing: &Option<(Found, u32)>) -> Result<(), String> {
        let Some((found, rc)) = existing else { return Ok(()) };
        match (found, rc) {
            (Found::Dataset(token), 2..) => {
                self.was_shared.insert(*token);
            }
            (Found::Group(_), _) => self.remember_tree(parent, name)?,
            _ => {}
        }
        // SAFETY: a valid group and a NUL-terminated name.
        if unsafe { H5Ldelete(parent, name.as_ptr(), H5P_DEFAULT) } < 0 {
            return Err(failed("cannot remove the old entry"));
        }
        Ok(())
    }

    /// Whether the dataset `token` (with `rc` names) has exactly the names the file at `rel` has
    /// in the folder (`rel` and its hard links, which come after it in the walk, so the pack's
    /// links at those names are still the old ones).
    fn same_names(&self, rel: &[u8], token: &[u8; 16], rc: u32) -> bool {
        let others = self.names_of.get(rel).map_or(&[][..], Vec::as_slice);
        rc as usize == others.len() + 1
            && others.iter().all(|other| {
                c_name(&[b"/", &other[..]].concat())
                    .ok()
                    .and_then(|path| hdf::member(self.file, &path).ok())
                    .is_some_and(|m| matches!(m, Member::Hard(t) if &t == token))
            })
    }

    /// Before the link `name` of `parent` is removed: when it is a group, every dataset below
    /// it may have other names the folder still has, so they are remembered in `was_shared`.
    fn remember_tree(&mut self, parent: hid_t, name: &CStr) -> Result<(), String> {
        let mut seen = HashSet::new();
        let mut todo = vec![open(parent, name)?];
        while let Some(g) = todo.pop() {
            if !matches!(hdf::token_of(g.0), Ok(t) if seen.insert(t)) {
                continue;
            }
            // SAFETY: zeroed is a valid `H5O_info2_t`.
            let mut info: H5O_info2_t = unsafe { std::mem::zeroed() };
            // SAFETY: an open object and an output slot.
            if unsafe { H5Oget_info3(g.0, &mut info, H5O_INFO_BASIC) } < 0 || info.type_ != H5O_type_t::H5O_TYPE_GROUP {
                continue;
            }
            for (child, member) in hdf::members(g.0)? {
                if let Member::Hard(token) = member {
                    self.was_shared.insert(token);
                    todo.push(open(g.0, &c_name(&child)?)?);
                }
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn file_entry(
        &mut self,
        parent: hid_t,
        name: &CStr,
        lcpl: hid_t,
        (path, rel): (&Path, &[u8]),
        (size, linked): (u64, bool),
        stat: &Stat,
        existing: Option<(Found, u32)>,
    ) -> Result<(), String> {
        let mut d = None;
        // A dataset with other names is replaced, never kept or rewritten in place (that would
        // change its other names too), unless its names are exactly this file's in the folder:
        // then it is this file. Where hard links are or were involved, size and time say
        // nothing (a name may now lead to another file of the same size and time): the
        // contents are compared.
        let keep = match &existing {
            Some((Found::Dataset(_), 1)) => true,
            Some((Found::Dataset(token), rc)) if linked => self.same_names(rel, token, *rc),
            _ => false,
        };
        if let (true, Some((Found::Dataset(token), _))) = (keep, &existing) {
            let by_content = self.opts.checksum || linked || self.was_shared.contains(token);
            let old = open(parent, name)?;
            if dataset_len(old.0)? == size {
                let old_stat = self.types.read(old.0);
                let same = if by_content {
                    same_bytes(old.0, &open_source(path)?, size, &mut self.buf)?
                } else {
                    old_stat.is_some_and(|s| (s.mtime_sec, s.mtime_nsec) == (stat.mtime_sec, stat.mtime_nsec))
                };
                if same {
                    if old_stat != Some(*stat) {
                        self.types.write(old.0, stat)?;
                    }
                    self.summary.unchanged += 1;
                    self.bar.inc(size);
                    return self.record(old.0, stat, size, false);
                }
                d = Some(old);
            }
        }
        let d = match d {
            Some(d) => d,
            None => {
                self.drop_link(parent, name, &existing)?;
                self.create_dataset(parent, name, lcpl, size)?
            }
        };
        self.copy_in(d.0, path, size)?;
        self.types.write(d.0, stat)?;
        self.record(d.0, stat, size, false)
    }

    fn create_dataset(&self, parent: hid_t, name: &CStr, lcpl: hid_t, size: u64) -> Result<IdGuard, String> {
        let dims = [size as hsize_t];
        // SAFETY: plain HDF5 calls with valid arguments; ids are checked and released by `IdGuard`.
        unsafe {
            let space = IdGuard(H5Screate_simple(1, dims.as_ptr(), std::ptr::null()));
            let dcpl = IdGuard(H5Pcopy(*H5P_LST_DATASET_CREATE));
            let mut ok = space.0 >= 0
                && dcpl.0 >= 0
                && H5Pset_obj_track_times(dcpl.0, 0) >= 0
                && H5Pset_fill_time(dcpl.0, H5D_fill_time_t::H5D_FILL_TIME_NEVER) >= 0;
            match self.opts.compress {
                Some(level) if size > 0 => {
                    let chunk = [size.min(CHUNK) as hsize_t];
                    ok = ok && H5Pset_chunk(dcpl.0, 1, chunk.as_ptr()) >= 0 && H5Pset_deflate(dcpl.0, level) >= 0;
                }
                // Space allocated at once, so the bytes can be copied straight to its offset.
                _ => {
                    ok = ok
                        && H5Pset_layout(dcpl.0, H5D_layout_t::H5D_CONTIGUOUS) >= 0
                        && H5Pset_alloc_time(dcpl.0, H5D_alloc_time_t::H5D_ALLOC_TIME_EARLY) >= 0
                }
            }
            let d = IdGuard(if ok {
                H5Dcreate2(parent, name.as_ptr(), *H5T_STD_U8LE, space.0, lcpl, dcpl.0, H5P_DEFAULT)
            } else {
                -1
            });
            if d.0 < 0 {
                return Err(failed("cannot make the dataset"));
            }
            Ok(d)
        }
    }

    /// Copies the `size` bytes of the file at `path` into the dataset `d`: for contiguous data
    /// straight into its space in the file (HDF5 never caches or fills it: the fill time is
    /// "never"), by the copier thread (while this thread goes on with HDF5), else through HDF5
    /// a piece at a time.
    fn copy_in(&mut self, d: hid_t, path: &Path, size: u64) -> Result<(), String> {
        // SAFETY: a valid dataset; "undefined" for chunked or unallocated data.
        let offset = unsafe { H5Dget_offset(d) };
        self.summary.bytes_written += size;
        self.bar.inc(size);
        if size > 0 && offset != u64::MAX {
            if let Some(copier) = &self.copier {
                if copier.send(path, offset, size) {
                    return Ok(());
                }
                // The copier stopped at an error (about another file): that is the error.
                let copier = self.copier.take().expect("a copier");
                self.failed = Some(copier.finish().err().unwrap_or_else(|| "copying stopped".into()));
                return Err(String::new());
            }
            return Err("copying stopped".into());
        }
        let mut src = open_source(path)?;
        self.buf.resize(PIECE.min(size as usize), 0);
        let mut at = 0u64;
        while at < size {
            let n = (size - at).min(PIECE as u64) as usize;
            src.read_exact(&mut self.buf[..n]).map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof => "the file got shorter while it was packed".to_string(),
                _ => format!("cannot read it: {e}"),
            })?;
            hdf::write_piece(d, at, &self.buf[..n], n as u64 == size)?;
            at += n as u64;
        }
        Ok(())
    }

    /// Notes the dataset or group `obj` for the index.
    fn record(&mut self, obj: hid_t, stat: &Stat, size: u64, dir: bool) -> Result<(), String> {
        let token = hdf::token_of(obj)?;
        // SAFETY: a valid dataset (HDF5 answers "undefined" for unallocated or chunked data).
        let offset = (size > 0).then(|| unsafe { H5Dget_offset(obj) }).filter(|&o| o != u64::MAX);
        self.index.insert(token, Record { dir, checksum: 0, stat: *stat, size, offset });
        Ok(())
    }

    /// Finishes the group on top of the stack: its symbolic links' metadata, the members the
    /// folder no longer has (when updating), and its record.
    fn close_group(&mut self) -> Result<(), String> {
        let open = self.stack.pop().expect("a group is open");
        let g = open.id.0;
        if self.existing {
            for (name, member) in hdf::members(g)? {
                if !open.names.contains(&name) {
                    let name = c_name(&name)?;
                    if let Member::Hard(token) = member {
                        self.was_shared.insert(token);
                        self.remember_tree(g, &name)?;
                    }
                    // SAFETY: a valid group and a NUL-terminated name.
                    if unsafe { H5Ldelete(g, name.as_ptr(), H5P_DEFAULT) } < 0 {
                        return Err(failed("cannot remove an entry no longer in the folder"));
                    }
                    self.summary.removed += 1;
                }
            }
        }
        let attr = attr_name(format::SYMLINKS_ATTR);
        if open.symlinks.is_empty() {
            hdf::delete_attr(g, &attr);
        } else {
            hdf::write_bytes_attr(g, &attr, &format::encode_symlinks(&open.symlinks))?;
        }
        if !open.rel.is_empty() {
            let stat = self.types.read(g).unwrap_or_default();
            self.record(g, &stat, 0, true)?;
        }
        Ok(())
    }

    /// Writes the index: every record with its object header's checksum, read back from the
    /// file once HDF5 has written everything.
    fn finish(mut self, path: &Path) -> Result<Summary, String> {
        if let Some(copier) = self.copier.take() {
            self.summary.warnings = copier.finish()?;
        }
        // SAFETY: a valid file id.
        if unsafe { H5Fflush(self.file, H5F_scope_t::H5F_SCOPE_GLOBAL) } < 0 {
            return Err(failed("cannot flush the pack"));
        }
        let f = std::fs::File::open(path).map_err(|e| format!("cannot read {} back: {e}", path.display()))?;
        let mut headers = super::headers::Headers::new(f, hdf::userblock(self.file));
        // In file order: the headers lie together, and one read of the window serves many.
        let mut tokens: Vec<[u8; 16]> = self.index.keys().copied().collect();
        tokens.sort_by_key(hdf::token_addr);
        for token in tokens {
            match headers.checksum(hdf::token_addr(&token)) {
                Some(sum) => self.index.get_mut(&token).expect("a key").checksum = sum,
                None => drop(self.index.remove(&token)),
            }
        }
        // SAFETY: the open file's root group.
        let root = IdGuard(unsafe { H5Gopen2(self.file, c"/".as_ptr(), H5P_DEFAULT) });
        hdf::write_bytes_attr(root.0, &attr_name(format::INDEX_ATTR), &format::encode_index(&self.index))?;
        match self.opts.split {
            Some(depth) => hdf::write_bytes_attr(root.0, &attr_name(format::SPLIT_ATTR), &depth.to_le_bytes())?,
            None => hdf::delete_attr(root.0, &attr_name(format::SPLIT_ATTR)),
        }
        Ok(std::mem::take(&mut self.summary))
    }
}

/// What a link of the pack leads to, when updating.
#[derive(Debug)]
enum Found {
    /// A group, with its token.
    Group([u8; 16]),
    /// A packed file's dataset, with its token.
    Dataset([u8; 16]),
    Soft(Vec<u8>),
    /// An external link: its file and object.
    External(Vec<u8>, Vec<u8>),
    Other,
}

fn open(parent: hid_t, name: &CStr) -> Result<IdGuard, String> {
    // SAFETY: a valid group and a NUL-terminated name.
    let o = IdGuard(unsafe { H5Oopen(parent, name.as_ptr(), H5P_DEFAULT) });
    if o.0 < 0 {
        return Err(failed("cannot open the old entry"));
    }
    Ok(o)
}

/// The number of bytes of the 1-D byte dataset `d`.
pub fn dataset_len(d: hid_t) -> Result<u64, String> {
    // SAFETY: a valid dataset; the space is released by `IdGuard`.
    let space = IdGuard(unsafe { H5Dget_space(d) });
    // SAFETY: a valid space.
    let n = unsafe { H5Sget_simple_extent_npoints(space.0) };
    u64::try_from(n).map_err(|_| failed("cannot read the dataset's size"))
}

/// Whether the dataset `d` holds the first `size` bytes of `src`.
fn same_bytes(d: hid_t, src: &std::fs::File, size: u64, buf: &mut Vec<u8>) -> Result<bool, String> {
    let mut theirs = vec![0u8; PIECE.min(size as usize)];
    buf.resize(PIECE.min(size as usize), 0);
    let mut at = 0u64;
    while at < size {
        let n = (size - at).min(PIECE as u64) as usize;
        src.read_exact_at(&mut theirs[..n], at).map_err(|e| format!("cannot read it: {e}"))?;
        hdf::read_piece(d, at, &mut buf[..n])?;
        if theirs[..n] != buf[..n] {
            return Ok(false);
        }
        at += n as u64;
    }
    Ok(true)
}
