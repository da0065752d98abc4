//! Keeping the split folder in step with the main file after creation: deleting a link removes
//! split files nothing references any more; moving or renaming moves split files so the layout
//! keeps mirroring the HDF5 paths (in the link form: a virtual dataset's mapping cannot change,
//! so its file keeps its name).

use std::collections::HashMap;
use std::ffi::{CStr, CString, c_char, c_void};
use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex};

use crate::below::{self, Below};
use crate::error::{Error, Result, quietly};
use crate::ffi::{
    self, H5L_TYPE_EXTERNAL, H5L_TYPE_HARD, H5L_info2_t, H5VL_LINK_ITER, H5VL_link_specific_args_t, herr_t, hid_t,
};
use crate::layout::{self};
use crate::policy::Form;
use crate::split::{FileCtx, split_link_target};
use crate::trace;

/// A link that reaches one of our split files: one of our external links, or a hard link to a
/// virtual split dataset. Its path relative to where the listing started, its target, and which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitLink {
    pub name: Vec<u8>,
    pub target: Arc<str>,
    pub form: Form,
}

struct Listing<'a> {
    ctx: &'a FileCtx,
    found: Vec<SplitLink>,
    /// The stored targets of the other external links (kept only when asked for).
    foreign: Option<Vec<Vec<u8>>>,
    /// Hard links, to be looked at once the iteration is over (None: looked at in the callback,
    /// whose ids are then plain HDF5 ones; through the connector they are its own, and opening a
    /// dataset through it shows its source's properties, not its mapping).
    hard: Option<Vec<Vec<u8>>>,
}

unsafe extern "C" fn list_cb(group: hid_t, name: *const c_char, info: *const H5L_info2_t, data: *mut c_void) -> herr_t {
    // SAFETY: HDF5 passes a valid name and info; `data` is the `Listing` of `split_links_under`.
    let (state, name, info) = unsafe { (&mut *data.cast::<Listing>(), CStr::from_ptr(name), &*info) };
    if info.type_ == H5L_TYPE_EXTERNAL {
        // SAFETY: for external links the union holds the value size.
        let size = unsafe { info.u.val_size };
        let mut value = vec![0u8; size];
        // SAFETY: reads the link value into a buffer of its size.
        let rc =
            unsafe { ffi::H5Lget_val(group, name.as_ptr(), value.as_mut_ptr().cast(), size, below::default_lapl()) };
        if let Some((file, object)) = below::unpack_external_link(&value).filter(|_| rc >= 0) {
            match state.ctx.split_file_of(&file, &object) {
                Some(target) => {
                    state.found.push(SplitLink { name: name.to_bytes().to_vec(), target, form: Form::Link })
                }
                None => {
                    if let Some(foreign) = state.foreign.as_mut() {
                        foreign.push(file);
                    }
                }
            }
        }
    } else if info.type_ == H5L_TYPE_HARD {
        match state.hard.as_mut() {
            Some(hard) => hard.push(name.to_bytes().to_vec()),
            None => {
                // SAFETY: `group` and `name` are HDF5's valid arguments.
                if let Some(target) = unsafe { crate::split::virtual_source_at(state.ctx, group, name) } {
                    state.found.push(SplitLink { name: name.to_bytes().to_vec(), target, form: Form::Virtual });
                }
            }
        }
    }
    0
}

/// Every link to one of our split files at or below `name` (relative to `at`; "/" for the whole
/// file), with names relative to `name`.
pub fn split_links_under(ctx: &FileCtx, at: &Below, name: &CStr, dxpl: hid_t) -> Result<Vec<SplitLink>> {
    list(ctx, at, name, false, dxpl).map(|l| l.found)
}

/// The links under `name` (see [`split_links_under`]), and with `foreign`, the stored targets of
/// every other external link too.
fn list<'a>(ctx: &'a FileCtx, at: &Below, name: &CStr, foreign: bool, dxpl: hid_t) -> Result<Listing<'a>> {
    let loc = at.loc_by_name(name);
    let mut listing = Listing { ctx, found: Vec::new(), foreign: foreign.then(Vec::new), hard: Some(Vec::new()) };
    let mut args = H5VL_link_specific_args_t {
        op_type: H5VL_LINK_ITER,
        args: ffi::H5VL_link_specific_args_u {
            iterate: ffi::H5VL_link_iterate_args_t {
                recursive: true,
                idx_type: 0, // by name
                order: 0,    // increasing
                idx_p: std::ptr::null_mut(),
                op: Some(list_cb),
                op_data: (&mut listing as *mut Listing).cast(),
            },
        },
    };
    // SAFETY: our own argument struct and callback.
    let rc = unsafe { ffi::H5VLlink_specific(at.obj, &loc, at.vol, &mut args, dxpl, std::ptr::null_mut()) };
    if rc < 0 {
        return Err(Error::library(format!("cannot list the links under {}", name.to_string_lossy())));
    }
    // Hard links to virtual split datasets (through the connector below).
    for rel in listing.hard.take().unwrap_or_default() {
        let full = crate::split::order::join(name.to_bytes(), &rel)?;
        if at.object_type(&full, dxpl).ok() == Some(1) {
            if let Some(target) = crate::split::virtual_source_by_name(ctx, at, &full, dxpl) {
                listing.found.push(SplitLink { name: rel, target, form: Form::Virtual });
            }
        }
    }
    Ok(listing)
}

/// The split files a link about to be deleted leads to.
#[derive(Debug, Default)]
pub struct Doomed {
    pub targets: Vec<Arc<str>>,
    /// Whether the link is one of our external links itself (one target, one link fewer), rather
    /// than a hard link to a group (which may live on under another name).
    pub one_link: bool,
}

/// The split files a link `name` at `at` leads to: its own if it is one of our external links,
/// those of everything below it if it is a hard link to a group.
pub fn targets_of(ctx: &FileCtx, at: &Below, name: &CStr, dxpl: hid_t) -> Doomed {
    quietly(|| {
        let Ok(info) = at.link_info(name, dxpl) else { return Doomed::default() };
        match info.type_ {
            H5L_TYPE_EXTERNAL => {
                let targets: Vec<Arc<str>> = split_link_target(ctx, at, name, dxpl).into_iter().collect();
                Doomed { one_link: !targets.is_empty(), targets }
            }
            H5L_TYPE_HARD => match at.object_type(name, dxpl).ok() {
                Some(0) => Doomed {
                    targets: split_links_under(ctx, at, name, dxpl)
                        .map(|v| v.into_iter().map(|l| l.target).collect())
                        .unwrap_or_default(),
                    one_link: false,
                },
                // A virtual split dataset: one of the hard links that reach its split file.
                Some(1) => {
                    let targets: Vec<Arc<str>> =
                        crate::split::virtual_source_by_name(ctx, at, name, dxpl).into_iter().collect();
                    Doomed { one_link: !targets.is_empty(), targets }
                }
                _ => Doomed::default(),
            },
            _ => Doomed::default(),
        }
    })
}

/// How many links of a main file lead to each of its split files, once counted: deleting a
/// dataset then costs one look-up instead of listing every link of the file (which made deleting
/// N datasets take N^2 steps). Kept per main file (absolute path), so every handle of one file
/// shares it, for as long as only the connector changes the file's split links: opening or
/// creating the file, and every link operation whose effect on the counts is not tracked here
/// (link create, copy, move, object copy), forgets it; the next delete counts again. Files are
/// told apart by device and inode, so every spelling of a file's name and every hard link to it
/// meet the same counts.
type Counts = HashMap<Arc<str>, usize>;

static COUNTS: LazyLock<Mutex<HashMap<(u64, u64), Counts>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

fn counts() -> std::sync::MutexGuard<'static, HashMap<(u64, u64), Counts>> {
    COUNTS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The main file's identity (device, inode), None if it cannot be read (then nothing is kept).
fn identity(ctx: &FileCtx) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(&ctx.main_path).ok().map(|m| (m.dev(), m.ino()))
}

/// Forgets the link counts of `ctx`'s main file (its links changed in an untracked way).
pub fn forget_counts(ctx: &FileCtx) {
    if let Some(id) = identity(ctx) {
        counts().remove(&id);
    }
}

/// Forgets every file's link counts and frees their memory (the connector is unloaded: HDF5
/// closes the plugin at exit, and what it allocated would count as leaked).
pub fn forget_all_counts() {
    *counts() = HashMap::new();
}

/// A new link of `ctx`'s main file leads to the split file `target`.
pub fn count_new_link(ctx: &FileCtx, target: &Arc<str>) {
    let Some(id) = identity(ctx) else { return };
    if let Some(c) = counts().get_mut(&id) {
        *c.entry(target.clone()).or_default() += 1;
    }
}

/// After a link was deleted: the split files among `doomed.targets` that no link in the main file
/// leads to any more are set aside for removal when the main file is closed ([`remove_pending`]),
/// not removed now. Until then the application may link the object again (HDF5 keeps an unlinked
/// object while it is open, and `H5Olink` can give it a name again), and a crash before the close
/// leaves the file on disk next to a main file that may still link it. `at` is any object of the
/// main file.
pub fn note_unreferenced(ctx: &FileCtx, at: &Below, doomed: &Doomed, dxpl: hid_t) {
    let candidates = &doomed.targets;
    if candidates.is_empty() {
        return;
    }
    let id = identity(ctx);
    // One of our links fewer, with the counts known: count down (None: not counted yet).
    let counted = match (doomed.one_link, id) {
        (true, Some(id)) => counts().get_mut(&id).and_then(|c| {
            let n = c.get_mut(&candidates[0])?;
            *n = n.saturating_sub(1);
            Some(Counts::from([(candidates[0].clone(), *n)]))
        }),
        _ => None,
    };
    // Every rank counts, or every rank lists (a collective call under MPI, with all metadata
    // operations collective): a rank whose counts are unknown makes all list.
    let counted = match ctx.all_ranks(counted.is_some()) {
        Ok(true) => counted,
        _ => None,
    };
    let still: Counts = match counted {
        Some(still) => still,
        None => {
            // Count every link of the file (after the delete), and keep the counts.
            let Ok(links) = quietly(|| split_links_under(ctx, at, c"/", dxpl)) else {
                trace!("cannot list the main file's links: keeping {} split file(s)", candidates.len());
                forget_counts(ctx);
                return;
            };
            let mut c = Counts::new();
            for l in links {
                *c.entry(l.target).or_default() += 1;
            }
            if let Some(id) = id {
                counts().insert(id, c.clone());
            }
            c
        }
    };
    for target in candidates {
        if still.get(target).is_none_or(|n| *n == 0) {
            ctx.defer_removal(target.clone());
        }
    }
}

/// Before a dataset is made at `path` (absolute): when its layout name is a split file set aside
/// for removal ([`note_unreferenced`]) that no link reaches (the link counts are known and say
/// none) and no open dataset uses, the file goes now instead of when the main file closes, so the
/// new dataset gets the name rather than an alternate (netCDF writers delete a dimension's
/// placeholder and make the variable of the same name). The main file is flushed first: on disk
/// no link leads to the file when it goes.
pub fn reclaim_name(ctx: &FileCtx, at: &Below, path: &[u8], dxpl: hid_t) {
    let Some(relative) = layout::relative_file(path) else { return };
    let target: Arc<str> = Arc::from(ctx.link_target(&relative));
    // Not counted (an untracked link operation since): removed at close, if still unused. Every
    // rank must agree before the collective calls below.
    let unused = ctx.is_pending(&target)
        && !ctx.is_open(&target)
        && identity(ctx).is_some_and(|id| counts().get(&id).map(|c| c.get(&target).copied().unwrap_or(0)) == Some(0));
    if !ctx.all_ranks(unused).unwrap_or(false) {
        return;
    }
    let refused = ctx.decided_bool("looking at the split folder", || {
        Ok(ctx.ownership().refusal(&ctx.split_dir).is_some() || ctx.layout_file(&target).is_err())
    });
    if refused.unwrap_or(true) {
        return;
    }
    // Every rank goes on to the flush (a collective call); only the leading rank removes files,
    // so another rank's own view of the path does not matter here.
    let file = ctx.layout_file(&target).ok();
    ctx.forget_pending(&target);
    at.flush(dxpl);
    trace!("{target} is reused by a new dataset: its old file goes now");
    if let Some(file) = file {
        remove_files(ctx, &[file]);
    }
}

/// The split files set aside by [`note_unreferenced`] that are still unreferenced now: no link of
/// the main file reaches them, in any spelling (also through symbolic links: every other external
/// link's target is resolved by the file system too), and no open split dataset uses them. Call
/// before the main file closes (`at`: the main file); remove what it returns with
/// [`remove_files`] once the close succeeded. Files still in use stay set aside.
pub fn remove_pending(ctx: &FileCtx, at: &Below, dxpl: hid_t) -> Vec<std::path::PathBuf> {
    let pending = ctx.take_pending();
    if pending.is_empty() {
        return Vec::new();
    }
    if let Some(why) = ctx.ownership().refusal(&ctx.split_dir) {
        trace!("{} split file(s) stay: {why}", pending.len());
        return Vec::new();
    }
    let Ok(listing) = quietly(|| list(ctx, at, c"/", true, dxpl)) else {
        trace!("cannot list the main file's links: keeping {} split file(s)", pending.len());
        return Vec::new();
    };
    let reached: std::collections::HashSet<Arc<str>> = listing.found.into_iter().map(|l| l.target).collect();
    let real = |p: &Path| std::fs::canonicalize(p).ok();
    let foreign: std::collections::HashSet<std::path::PathBuf> = listing
        .foreign
        .unwrap_or_default()
        .iter()
        .filter_map(|stored| real(&crate::target::resolve(ctx.main_dir(), stored)))
        .collect();
    let mut doomed = Vec::new();
    for target in pending {
        if reached.contains(&target) {
            continue;
        }
        if ctx.is_open(&target) {
            ctx.defer_removal(target); // its dataset is open: HDF5 keeps it too
            continue;
        }
        match ctx.layout_file(&target) {
            Ok(file) if !foreign.is_empty() && real(&file).is_some_and(|r| foreign.contains(&r)) => {
                trace!("{target} stays: another external link reaches it");
            }
            Ok(file) => doomed.push(file),
            Err(e) => trace!("{target} stays: {e}"),
        }
    }
    doomed
}

/// The split files the existing main file `name` links to, read before it is truncated (opened
/// read-only through the connector below with `fapl`). None when it cannot be read: then nothing
/// is known to be its, and nothing is removed.
pub fn targets_of_old_file(ctx: &FileCtx, name: &CStr, fapl: hid_t) -> Option<Vec<Arc<str>>> {
    quietly(|| {
        // SAFETY: opens the file read-only with the fapl naming the connector below (so not
        // through this connector again); closed below.
        let id = unsafe { crate::ffi::sys::h5f::H5Fopen(name.as_ptr(), crate::ffi::sys::h5f::H5F_ACC_RDONLY, fapl) };
        if id < 0 {
            crate::trace!("cannot open {} before truncating it: its split files stay", name.to_string_lossy());
            return None;
        }
        let mut listing = Listing { ctx, found: Vec::new(), foreign: None, hard: None };
        // SAFETY: visits the links of a valid file id with our callback and its state.
        let rc = unsafe { ffi::H5Lvisit2(id, 0, 0, Some(list_cb), (&mut listing as *mut Listing).cast()) };
        let found = (rc >= 0).then(|| listing.found.into_iter().map(|l| l.target).collect());
        // SAFETY: closes the file opened above.
        unsafe { crate::ffi::sys::h5f::H5Fclose(id) };
        found
    })
}

/// Removes split files (from [`remove_pending`]) and the directories left empty.
pub fn remove_files(ctx: &FileCtx, files: &[std::path::PathBuf]) {
    if !ctx.leads() {
        return; // rank 0 removes them (every rank has the same list)
    }
    for file in files {
        match std::fs::remove_file(file) {
            Ok(()) => {
                trace!("removed {}", file.display());
                prune_empty_dirs(file.parent(), &ctx.split_dir);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => trace!("cannot remove {}: {e}", file.display()),
        }
    }
}

/// Removes empty directories from `dir` upwards, up to and including `root`.
fn prune_empty_dirs(dir: Option<&Path>, root: &Path) {
    let mut d = dir;
    while let Some(p) = d {
        if !p.starts_with(root) || std::fs::remove_dir(p).is_err() {
            break;
        }
        if p == root {
            break;
        }
        d = p.parent();
    }
}

/// After `name` (at `at`) was moved or renamed: moves the split files of the split datasets at or
/// below it to the paths that mirror their new HDF5 paths (or a free alternate of it, see
/// `layout::alternate`), and points their links there. A split file another link also leads to
/// stays where it is (its links stay valid). The link move itself has succeeded when this runs,
/// as natively: a split file that cannot move (a symbolic link on the way, a full disk) stays
/// where it is, its link still valid, and `dset-split check` reports the drift. Returns the files
/// moved: (old link target, new link target).
pub fn relocate(ctx: &FileCtx, at: &Below, name: &CStr, dxpl: hid_t) -> Vec<(Arc<str>, Arc<str>)> {
    let base = quietly(|| crate::split::absolute_path(at, name.to_bytes(), dxpl)).ok().flatten().unwrap_or_default();
    let moved: Vec<SplitLink> = match quietly(|| at.link_info(name, dxpl)) {
        Ok(info) if info.type_ == H5L_TYPE_EXTERNAL => split_link_target(ctx, at, name, dxpl)
            .map(|target| vec![SplitLink { name: Vec::new(), target, form: Form::Link }])
            .unwrap_or_default(),
        Ok(info) if info.type_ == H5L_TYPE_HARD => {
            quietly(|| split_links_under(ctx, at, name, dxpl)).unwrap_or_default()
        }
        _ => Vec::new(),
    };
    // A virtual split dataset's mapping names its file for good: the file keeps its name.
    let moved: Vec<SplitLink> = moved.into_iter().filter(|l| l.form == Form::Link).collect();
    let mut done = Vec::new();
    if moved.is_empty() {
        return done;
    }
    let Ok(all) = quietly(|| split_links_under(ctx, at, c"/", dxpl)) else { return done };
    // By group, each group's links rewritten inside `keep_order` (a rewritten link would go last).
    let mut by_group: std::collections::BTreeMap<Vec<u8>, Vec<Moving>> = Default::default();
    for link in moved {
        let mut path = base.clone();
        if !link.name.is_empty() {
            path.push(b'/');
            path.extend_from_slice(&link.name);
        }
        if all.iter().filter(|l| l.target == link.target).count() > 1 {
            trace!("{} is shared by several links: it stays, and so do its links", link.target);
            continue;
        }
        if ctx.is_open(&link.target) && !ctx.is_open_here(&link.target) {
            trace!("{} is open through another handle of the file: it stays", link.target);
            continue;
        }
        let cut = path.iter().rposition(|b| *b == b'/').unwrap_or(0);
        let group = if cut == 0 { b"/".to_vec() } else { path[..cut].to_vec() };
        by_group.entry(group).or_default().push((path, link.target));
    }
    for (group, links) in by_group {
        let Ok(group) = CString::new(group) else { continue };
        let _ = crate::split::order::keep_order(at, &group, dxpl, || {
            for (path, target) in &links {
                match move_split_file(ctx, at, path, target, dxpl) {
                    Ok(Some(new_target)) => done.push((target.clone(), new_target)),
                    Ok(None) => {}
                    Err(e) => trace!("{target} stays where it is: {e}"),
                }
            }
            Ok(())
        });
    }
    done
}

/// A split link to move: its absolute path and its target.
type Moving = (Vec<u8>, Arc<str>);

/// Moves the split file `target` of the dataset whose link is at `path` (absolute) to the layout
/// name of that path (or a free alternate) and points the link there; None when it is there.
/// Under MPI rank 0 moves the file and every rank points its link at the name rank 0 chose
/// (`collective`).
fn move_split_file(ctx: &FileCtx, at: &Below, path: &[u8], target: &Arc<str>, dxpl: hid_t) -> Result<Option<Arc<str>>> {
    let Some(relative) = layout::relative_file(path) else { return Ok(None) };
    let folder = ctx.link_target("");
    let current = target.strip_prefix(folder.as_str()).unwrap_or(target);
    if layout::primary(current) == relative {
        return Ok(None); // already at its layout name (or an alternate of it)
    }
    // The new name first (never replacing anything), then the link, flushed, then the old name
    // goes: a crash at any point leaves a link to a file that exists (and maybe an orphan).
    let mut from = std::path::PathBuf::new();
    let placed = ctx.decided(&format!("moving the split file {target}"), || {
        from = ctx.own_split_file(target)?;
        // Alternates share the layout name's directory: checked once, through no symbolic link.
        crate::confine::below(&ctx.split_dir, &relative).map_err(Error::arg)?;
        let new_relative = super::place::free_name(&ctx.split_dir, &relative)
            .ok_or_else(|| Error::library(format!("cannot find a free name for {relative}")))?;
        let to = ctx.split_dir.join(&new_relative);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                Error::library(format!("cannot create {} to move {}: {e}", parent.display(), from.display()))
            })?;
        }
        let moved_now = place_beside(&from, &to)
            .map_err(|e| Error::library(format!("cannot move {} to {}: {e}", from.display(), to.display())))?;
        Ok([&[u8::from(moved_now)], new_relative.as_bytes()].concat())
    })?;
    let Some((&moved_now, new_relative)) = placed.split_first() else {
        return Err(Error::library("rank 0 sent no name for a moved split file"));
    };
    let (moved_now, new_relative) = (moved_now != 0, String::from_utf8_lossy(new_relative).into_owned());
    let to = ctx.split_dir.join(&new_relative);
    let new_target = ctx.link_target(&new_relative);
    let link_name = CString::new(path.to_vec()).map_err(|_| Error::arg("a name holds a NUL byte"))?;
    if let Err(e) = replace_link(at, &link_name, &new_target, dxpl) {
        // Take the new name back so the old link stays valid.
        if ctx.leads() {
            match moved_now {
                true => drop(crate::confine::rename_noreplace(&to, &from)),
                false => drop(std::fs::remove_file(&to)),
            }
        }
        return Err(e);
    }
    at.flush(dxpl);
    if ctx.leads() {
        if !moved_now {
            if let Err(e) = std::fs::remove_file(&from) {
                trace!("cannot remove {} after moving it: {e}", from.display());
            }
        }
        trace!("moved {} -> {}", from.display(), to.display());
        prune_empty_dirs(from.parent(), &ctx.split_dir);
    }
    Ok(Some(Arc::from(new_target)))
}

/// Gives the split file `from` the new name `to` (which must be free) without removing `from`:
/// a hard link, or for a symbolic link (git-annex's locked files, DVC's symlink mode) a new link
/// to the same target, rewritten if it is relative. `Ok(true)` when the file system could do
/// neither and the file was renamed instead.
fn place_beside(from: &Path, to: &Path) -> std::io::Result<bool> {
    let meta = std::fs::symlink_metadata(from)?;
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(from)?;
        let target = if target.is_absolute() {
            target
        } else {
            let (Some(old_dir), Some(new_dir)) = (from.parent(), to.parent()) else {
                return Err(std::io::Error::other("a split file without a directory"));
            };
            let real = crate::target::normalize(&old_dir.join(&target));
            crate::target::relative_from(&crate::target::normalize(new_dir), &real)
        };
        std::os::unix::fs::symlink(target, to)?;
        return Ok(false);
    }
    match std::fs::hard_link(from, to) {
        Ok(()) => Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(e),
        Err(_) => crate::confine::rename_noreplace(from, to).map(|()| true),
    }
}

/// Points the external link `name` at `target` (delete and create again, with the name's
/// character set).
pub(crate) fn replace_link(at: &Below, name: &CStr, target: &str, dxpl: hid_t) -> Result<()> {
    let cset = quietly(|| at.link_info(name, dxpl)).map(|i| i.cset).unwrap_or(0);
    let lcpl = crate::split::lcpl_for(cset)?;
    at.delete_link(name, dxpl)
        .map_err(|_| Error::library(format!("cannot update the link {}", name.to_string_lossy())))?;
    at.create_external_link(name, target, lcpl.0, dxpl)
}
