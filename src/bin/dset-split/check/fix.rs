//! `dset-split check --fix`: rewriting links in place (keeping their creation order) and moving
//! drifted split files to their layout path.

use std::ffi::CString;
use std::path::{Path, PathBuf};

use dset_split::ffi::sys::h5f::{H5F_scope_t, H5Fflush};
use dset_split::ffi::sys::h5g::H5Gopen2;
use dset_split::ffi::sys::h5i::hid_t;
use dset_split::ffi::sys::h5l::{H5L_info2_t, H5L_type_t, H5Lcreate_external, H5Ldelete, H5Lget_info2};
use dset_split::ffi::sys::h5p::H5P_DEFAULT;
use dset_split::layout::DATASET_PATH_C;
use dset_split::split::IdGuard;

use super::Fix;
use crate::h5;
use crate::status::Dataset;

/// The links fixed, each with whether its file moved and a sentence saying what was done.
pub(super) type Done = Vec<(usize, bool, String)>;

/// Applies the fixes to the main file (opened read-write with plain HDF5); on a failure, the
/// fixes done and the message (the other fixes are still tried).
pub(super) fn apply(main: &Path, links: &[&Dataset], fixes: Vec<Fix>, me: &str) -> Result<Done, (Done, Vec<String>)> {
    match dset_split::cow::is_shared(main) {
        Ok(false) => {}
        Ok(true) => {
            return Err((
                Vec::new(),
                vec![format!(
                    "{me} is a link into a cache (a symbolic link, or a file with other hard links, as DVC's \
                     hardlink/symlink cache modes and git-annex make): nothing fixed, so the cache stays intact; run \
                     `dvc unprotect {me}` (or `git annex unlock {me}`) first, then `dset-split check --fix {me}`"
                )],
            ));
        }
        Err(e) => return Err((Vec::new(), vec![format!("cannot inspect {me}: {e}; nothing fixed")])),
    }
    let f = h5::open(main, true).map_err(|e| (Vec::new(), vec![format!("{e}; nothing fixed")]))?;
    let mut done = Vec::new();
    let mut errors = Vec::new();
    let mut pending = fixes;
    let mut parked = 0;
    // Moves whose place is taken wait: another move may free it (a chain of renames).
    loop {
        let before = pending.len();
        let mut blocked = Vec::new();
        for fix in pending {
            let d = links[fix.link];
            if fix.moves.as_ref().is_some_and(|(_, to, _)| std::fs::symlink_metadata(to).is_ok()) {
                blocked.push(fix);
                continue;
            }
            match apply_one(f.0, d, &fix) {
                Ok(what) => done.push((fix.link, fix.moves.is_some(), what)),
                Err(e) => errors.push(e),
            }
        }
        pending = blocked;
        if pending.is_empty() {
            break;
        }
        if pending.len() == before {
            // Every waiting move waits for a place that another waiting move would free (swapped
            // or circular names): park one of those files, with its link, under a temporary
            // name in its folder; it moves on to its own place once the circle is open.
            let wanted: Vec<PathBuf> = pending.iter().filter_map(|fx| fx.moves.as_ref().map(|m| m.1.clone())).collect();
            let in_the_way = pending.iter().position(|fx| fx.moves.as_ref().is_some_and(|m| wanted.contains(&m.0)));
            let Some(j) = in_the_way.filter(|_| parked < links.len()) else { break };
            let (from, to, folder) = pending[j].moves.clone().expect("a waiting fix moves a file");
            let name = (parked..)
                .map(|n| format!(".dset-split-check-{}-{n}.h5", std::process::id()))
                .find(|name| std::fs::symlink_metadata(folder.join(name)).is_err())
                .expect("a free name");
            let folder_name = pending[j].target.split('/').next().unwrap_or_default().to_string();
            let park = Fix {
                link: pending[j].link,
                moves: Some((from, folder.join(&name), folder.clone())),
                target: format!("{folder_name}/{name}"),
            };
            parked += 1;
            match apply_one(f.0, links[park.link], &park) {
                Ok(_) => pending[j].moves = Some((folder.join(&name), to, folder)),
                Err(e) => {
                    errors.push(e);
                    pending.remove(j);
                }
            }
        }
    }
    for fix in &pending {
        let to = fix.moves.as_ref().map(|(_, to, _)| to.display().to_string()).unwrap_or_default();
        errors.push(format!(
            "cannot move the file of {} to {to}: something is already there; move it away (or, if it is an orphan, \
             run `dset-split gc {me}`) and run `dset-split check --fix {me}` again",
            links[fix.link].path
        ));
    }
    // SAFETY: a valid file id.
    if unsafe { H5Fflush(f.0, H5F_scope_t::H5F_SCOPE_LOCAL) } < 0 {
        errors.push(h5::failed(format!("cannot flush {me}")));
    }
    if errors.is_empty() { Ok(done) } else { Err((done, errors)) }
}

/// One fix: the file's move (for drift), then the link's new target. A failed link rewrite moves
/// the file back.
fn apply_one(f: hid_t, d: &Dataset, fix: &Fix) -> Result<String, String> {
    let Some((from, to, folder)) = &fix.moves else {
        rewrite_link(f, &d.raw_path, &fix.target)?;
        return Ok(format!("the link now stores {}", fix.target));
    };
    let relative_symlink = std::fs::read_link(from).is_ok_and(|t| t.is_relative());
    if relative_symlink {
        return Err(format!(
            "cannot move {} for {}: it is a relative symbolic link (into a cache, e.g. git-annex), which a move would \
             break; run `git annex unlock` (or `dvc unprotect`) on it first",
            from.display(),
            d.path
        ));
    }
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    if let Err(e) = rename_new(from, to) {
        remove_empty_parents(to, folder);
        return Err(format!("cannot move {} to {}: {e}", from.display(), to.display()));
    }
    if let Err(e) = rewrite_link(f, &d.raw_path, &fix.target) {
        let back = rename_new(to, from);
        remove_empty_parents(to, folder);
        return Err(match back {
            Ok(()) => format!("{e} (the file stays at {})", from.display()),
            Err(b) => format!("{e}; the file is now {} and could not be moved back: {b}", to.display()),
        });
    }
    remove_empty_parents(from, folder);
    Ok(format!("moved to {} and the link now stores it", fix.target))
}

/// Renames `from` to `to`, which must not exist: whatever appears at `to` meanwhile (a file, a
/// symbolic link) is never replaced.
fn rename_new(from: &Path, to: &Path) -> std::io::Result<()> {
    let (from_c, to_c) =
        (h5::c_path(from).map_err(std::io::Error::other)?, h5::c_path(to).map_err(std::io::Error::other)?);
    // SAFETY: two NUL-terminated paths, relative to the working directory.
    let rc = unsafe {
        libc::renameat2(libc::AT_FDCWD, from_c.as_ptr(), libc::AT_FDCWD, to_c.as_ptr(), libc::RENAME_NOREPLACE)
    };
    if rc == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    if !matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) {
        return Err(e);
    }
    // A file system without RENAME_NOREPLACE: a hard link cannot replace anything either.
    std::fs::hard_link(from, to).and_then(|()| std::fs::remove_file(from))
}

/// Removes the directories above `file` that are empty, up to (not including) `root`.
fn remove_empty_parents(file: &Path, root: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) || std::fs::remove_dir(d).is_err() {
            break; // remove_dir fails, as wanted, unless the directory is empty
        }
        dir = d.parent();
    }
}

/// Points the external link at `raw_path` (an HDF5 path) at `target`, object `/data`, keeping the
/// link's name, its character set and, in groups that track it, its place in the creation order.
fn rewrite_link(f: hid_t, raw_path: &[u8], target: &str) -> Result<(), String> {
    let shown = String::from_utf8_lossy(raw_path).into_owned();
    let nul = |_| format!("{shown}: a name holds a NUL byte");
    let cut = raw_path.iter().rposition(|b| *b == b'/').unwrap_or(0);
    let parent = CString::new(if cut == 0 { &b"/"[..] } else { &raw_path[..cut] }).map_err(nul)?;
    let name = CString::new(&raw_path[cut + 1..]).map_err(nul)?;
    let new_target = CString::new(target).map_err(nul)?;
    // SAFETY: a valid file id and a NUL-terminated path; released by `IdGuard`.
    let group = IdGuard(unsafe { H5Gopen2(f, parent.as_ptr(), H5P_DEFAULT) });
    if group.0 < 0 {
        return Err(h5::failed(format!("cannot open the group holding {shown}")));
    }
    // SAFETY: zeroed is a valid bit pattern for this plain C struct, filled in by HDF5.
    let mut info: H5L_info2_t = unsafe { std::mem::zeroed() };
    // SAFETY: a valid group, a NUL-terminated name and an output struct.
    if unsafe { H5Lget_info2(group.0, name.as_ptr(), &mut info, H5P_DEFAULT) } < 0
        || info.type_ != H5L_type_t::H5L_TYPE_EXTERNAL
    {
        return Err(h5::failed(format!("{shown} is no longer an external link")));
    }
    let mut u = info.u;
    // SAFETY: for external links the union holds the value size.
    let old = h5::external_target(group.0, &name, unsafe { *u.val_size() });
    let lcpl = h5::lcpl(info.cset)?;
    h5::keep_order(group.0, || {
        // SAFETY: a valid group and a NUL-terminated name.
        if unsafe { H5Ldelete(group.0, name.as_ptr(), H5P_DEFAULT) } < 0 {
            return Err(h5::failed(format!("cannot rewrite the link {shown}")));
        }
        // SAFETY: NUL-terminated target, object and name; a valid group and our lcpl.
        let rc = unsafe {
            H5Lcreate_external(
                new_target.as_ptr(),
                DATASET_PATH_C.as_ptr(),
                group.0,
                name.as_ptr(),
                lcpl.0,
                H5P_DEFAULT,
            )
        };
        if rc >= 0 {
            return Ok(());
        }
        let err = h5::failed(format!("cannot rewrite the link {shown} to {target}"));
        // Put the old link back.
        let restored = old
            .as_ref()
            .and_then(|(file, object)| Some((CString::new(file.as_str()).ok()?, CString::new(object.as_str()).ok()?)));
        // SAFETY: as above.
        let back = restored.is_some_and(|(file, object)| unsafe {
            H5Lcreate_external(file.as_ptr(), object.as_ptr(), group.0, name.as_ptr(), lcpl.0, H5P_DEFAULT) >= 0
        });
        let (file, object) = old.clone().unwrap_or_default();
        Err(if back { err } else { format!("{err}; the link is gone: it led to {file} (object {object})") })
    })
}
