//! Keeping the split folder in step with the main file after creation: deleting a link removes
//! split files nothing references any more; moving or renaming moves split files so the layout
//! keeps mirroring the HDF5 paths.

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
use crate::split::{FileCtx, split_link_target};
use crate::trace;

/// One of our external links: its path relative to where the listing started, and its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitLink {
    pub name: Vec<u8>,
    pub target: Arc<str>,
}

struct Listing<'a> {
    ctx: &'a FileCtx,
    found: Vec<SplitLink>,
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
        if rc >= 0 {
            if let Some(target) =
                below::unpack_external_link(&value).and_then(|(file, object)| state.ctx.split_file_of(&file, &object))
            {
                state.found.push(SplitLink { name: name.to_bytes().to_vec(), target });
            }
        }
    }
    0
}

/// Every link to one of our split files at or below `name` (relative to `at`; "/" for the whole
/// file), with names relative to `name`.
pub fn split_links_under(ctx: &FileCtx, at: &Below, name: &CStr, dxpl: hid_t) -> Result<Vec<SplitLink>> {
    let loc = at.loc_by_name(name);
    let mut listing = Listing { ctx, found: Vec::new() };
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
    Ok(listing.found)
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
            H5L_TYPE_HARD if at.object_type(name, dxpl).ok() == Some(0) => Doomed {
                targets: split_links_under(ctx, at, name, dxpl)
                    .map(|v| v.into_iter().map(|l| l.target).collect())
                    .unwrap_or_default(),
                one_link: false,
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

/// Removes the split files among `doomed.targets` that no link in the main file leads to any
/// more (the link was just deleted), and the directories that become empty. `at` is any object
/// of the main file.
pub fn remove_unreferenced(ctx: &FileCtx, at: &Below, doomed: &Doomed, dxpl: hid_t) {
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
    let mut flushed = false;
    for target in candidates {
        if still.get(target).is_some_and(|n| *n > 0) {
            continue; // another link still leads there
        }
        if !flushed {
            // The deleted link is gone on disk before its file is: a crash in between leaves an
            // orphan (`gc` removes it), never a link to nothing.
            at.flush(dxpl);
            flushed = true;
        }
        let file = match ctx.split_file_path(target) {
            Ok(file) => file,
            Err(e) => {
                trace!("{target} stays: {e}");
                continue;
            }
        };
        match std::fs::remove_file(&file) {
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
            .map(|target| vec![SplitLink { name: Vec::new(), target }])
            .unwrap_or_default(),
        Ok(info) if info.type_ == H5L_TYPE_HARD => {
            quietly(|| split_links_under(ctx, at, name, dxpl)).unwrap_or_default()
        }
        _ => Vec::new(),
    };
    let mut done = Vec::new();
    if moved.is_empty() {
        return done;
    }
    let Ok(all) = quietly(|| split_links_under(ctx, at, c"/", dxpl)) else { return done };
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
        match move_split_file(ctx, at, &path, &link.target, dxpl) {
            Ok(Some(new_target)) => done.push((link.target.clone(), new_target)),
            Ok(None) => {}
            Err(e) => trace!("{} stays where it is: {e}", link.target),
        }
    }
    done
}

/// Moves the split file `target` of the dataset whose link is at `path` (absolute) to the layout
/// name of that path (or a free alternate) and points the link there; None when it is there.
fn move_split_file(ctx: &FileCtx, at: &Below, path: &[u8], target: &Arc<str>, dxpl: hid_t) -> Result<Option<Arc<str>>> {
    let Some(relative) = layout::relative_file(path) else { return Ok(None) };
    let folder = ctx.link_target("");
    let current = target.strip_prefix(folder.as_str()).unwrap_or(target);
    if layout::primary(current) == relative {
        return Ok(None); // already at its layout name (or an alternate of it)
    }
    let from = ctx.split_file_path(target)?;
    let mut new_relative = relative.clone();
    let mut k = 0;
    let to = loop {
        let to = crate::confine::below(&ctx.split_dir, &new_relative).map_err(Error::arg)?;
        if std::fs::symlink_metadata(&to).is_err() {
            break to;
        }
        k += 1;
        new_relative = layout::alternate(&relative, k);
    };
    let new_target = ctx.link_target(&new_relative);
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(|e| {
            Error::library(format!("cannot create {} to move {}: {e}", parent.display(), from.display()))
        })?;
    }
    crate::confine::rename_noreplace(&from, &to)
        .map_err(|e| Error::library(format!("cannot move {} to {}: {e}", from.display(), to.display())))?;
    let link_name = CString::new(path.to_vec()).map_err(|_| Error::arg("a name holds a NUL byte"))?;
    if let Err(e) = replace_link(at, &link_name, &new_target, dxpl) {
        // Put the file back so the old link stays valid.
        let _ = crate::confine::rename_noreplace(&to, &from);
        return Err(e);
    }
    trace!("moved {} -> {}", from.display(), to.display());
    prune_empty_dirs(from.parent(), &ctx.split_dir);
    Ok(Some(Arc::from(new_target)))
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
