//! Reading a pack back into a folder (`dset-split unpack`): contents, modes, owners (as root),
//! times, symbolic and hard links, empty files and folders; with the packs of its folders when
//! it was made with `--split-dirs` (each external link that names exactly the pack the split
//! layout gives its folder, and nothing else).

use std::collections::HashMap;
use std::ffi::{CString, OsStr};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use dset_split::ffi::sys::h5g::H5Gopen2;
use dset_split::ffi::sys::h5i::hid_t;
use dset_split::ffi::sys::h5o::{H5O_INFO_BASIC, H5O_info2_t, H5O_type_t, H5Oget_info3, H5Oopen};
use dset_split::ffi::sys::h5p::H5P_DEFAULT;
use dset_split::split::IdGuard;

use super::format::{self, Stat};
use super::hdf::{self, Member, StatTypes, c_name};
use super::write::{Summary, dataset_len};
use crate::h5::failed;

/// Bytes copied at a time.
const PIECE: usize = 4 << 20;

/// Unpacks the pack `file` into the folder `dest`, which must not exist or be empty.
pub fn unpack(file: &Path, dest: &Path) -> Result<Summary, String> {
    let f = crate::h5::open(file, false)?;
    if !super::write::is_pack(f.0) {
        return Err(format!(
            "{} is not a pack made by `dset-split pack` (`dset-split mount` shows any HDF5 file as a folder)",
            file.display()
        ));
    }
    let made = match std::fs::read_dir(dest).map(|mut d| d.next().is_some()) {
        Ok(true) => return Err(format!("{} is not empty; unpack into a new folder", dest.display())),
        Ok(false) => false,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir(dest).map_err(|e| format!("cannot make {}: {e}", dest.display()))?;
            true
        }
        Err(e) => return Err(format!("{}: {e}", dest.display())),
    };
    let result = unpack_into(&f, file, dest);
    if result.is_err() {
        // Everything in the folder is this run's (it was empty or new): nothing half-unpacked
        // stays.
        remove_contents(dest);
        if made {
            let _ = std::fs::remove_dir(dest);
        }
    }
    result
}

/// Removes what the folder `dir` holds (never following a symbolic link), as far as it can.
fn remove_contents(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            // A folder unpacked with a read-only mode must be writable to be emptied.
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700));
            remove_contents(&path);
            let _ = std::fs::remove_dir(&path);
        } else {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Unpacks the open pack `f` (at `file`) into the empty folder `dest`.
fn unpack_into(f: &IdGuard, file: &Path, dest: &Path) -> Result<Summary, String> {
    // SAFETY: the open file's root group.
    let root = IdGuard(unsafe { H5Gopen2(f.0, c"/".as_ptr(), H5P_DEFAULT) });
    if root.0 < 0 {
        return Err(failed("cannot open the root group"));
    }
    let main_dir = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
    let mut u = Unpacker {
        types: StatTypes::new()?,
        first: HashMap::new(),
        groups: std::collections::HashSet::from([(0, hdf::token_of(root.0)?)]),
        summary: Summary::default(),
        buf: Vec::new(),
        main_dir,
        parts: 0,
    };
    u.group(root.0, dest, &[], 0)?;
    u.summary.dirs += 1;
    let stat = u.types.read(root.0);
    set_meta(dest, stat.as_ref(), false)?;
    Ok(u.summary)
}

struct Unpacker {
    types: StatTypes,
    /// Where each dataset was unpacked first (its other names become hard links to it), by
    /// (file, token): 0 is the main pack, others the packs of its folders.
    first: HashMap<(usize, [u8; 16]), PathBuf>,
    /// The groups unpacked, by (file, token).
    groups: std::collections::HashSet<(usize, [u8; 16])>,
    summary: Summary,
    buf: Vec<u8>,
    /// The main pack's folder (where its links' targets start).
    main_dir: PathBuf,
    /// The folders' packs opened so far.
    parts: usize,
}

impl Unpacker {
    /// Unpacks the group `g` (at `rel` in the main pack, of pack `file`) into the folder `dir`.
    fn group(&mut self, g: hid_t, dir: &Path, rel: &[u8], file: usize) -> Result<(), String> {
        let links: HashMap<Vec<u8>, Stat> =
            hdf::read_bytes_attr(g, &CString::new(format::SYMLINKS_ATTR).expect("no NUL"))
                .and_then(|b| format::decode_symlinks(&b))
                .unwrap_or_default()
                .into_iter()
                .map(|l| (l.name, l.stat))
                .collect();
        for (name, member) in hdf::members(g)? {
            if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') {
                return Err(format!(
                    "{}: the pack holds a name no folder can: {:?}",
                    dir.display(),
                    String::from_utf8_lossy(&name)
                ));
            }
            let path = dir.join(OsStr::from_bytes(&name));
            let cname = c_name(&name)?;
            let child_rel = if rel.is_empty() { name.clone() } else { [rel, b"/", &name].concat() };
            match member {
                Member::Hard(token) => {
                    let token = (file, token);
                    if let Some(first) = self.first.get(&token) {
                        std::fs::hard_link(first, &path).map_err(|e| format!("cannot link {}: {e}", path.display()))?;
                        self.summary.hard_links += 1;
                        continue;
                    }
                    // SAFETY: a valid group and a NUL-terminated name.
                    let o = IdGuard(unsafe { H5Oopen(g, cname.as_ptr(), H5P_DEFAULT) });
                    // SAFETY: zeroed is a valid `H5O_info2_t`.
                    let mut info: H5O_info2_t = unsafe { std::mem::zeroed() };
                    // SAFETY: an open object and an output slot.
                    if o.0 < 0 || unsafe { H5Oget_info3(o.0, &mut info, H5O_INFO_BASIC) } < 0 {
                        return Err(failed(format!("cannot open {}", path.display())));
                    }
                    let stat = self.types.read(o.0);
                    match info.type_ {
                        H5O_type_t::H5O_TYPE_GROUP => {
                            // A pack's folders each have one name; a group linked twice (or into
                            // itself) was made by another program.
                            if !self.groups.insert(token) {
                                return Err(format!(
                                    "{}: a group linked a second time (not a pack's folder)",
                                    path.display()
                                ));
                            }
                            std::fs::create_dir(&path).map_err(|e| format!("cannot make {}: {e}", path.display()))?;
                            self.group(o.0, &path, &child_rel, file)?;
                            set_meta(&path, stat.as_ref(), false)?;
                            self.summary.dirs += 1;
                        }
                        H5O_type_t::H5O_TYPE_DATASET => {
                            if !hdf::packed_bytes(o.0) {
                                return Err(format!(
                                    "{}: not a packed file (a 1-D uint8 dataset stored in the pack itself)",
                                    path.display()
                                ));
                            }
                            self.file(o.0, &path)?;
                            set_meta(&path, stat.as_ref(), false)?;
                            if info.rc > 1 {
                                self.first.insert(token, path);
                            }
                            self.summary.files += 1;
                        }
                        _ => self.summary.skipped.push(format!("{}: a named datatype", path.display())),
                    }
                }
                Member::Soft(target) => {
                    std::os::unix::fs::symlink(OsStr::from_bytes(&target), &path)
                        .map_err(|e| format!("cannot make the link {}: {e}", path.display()))?;
                    set_meta(&path, links.get(&name), true)?;
                    self.summary.symlinks += 1;
                }
                Member::External { file: target, object } if file == 0 => {
                    match super::partition::part_folder(&child_rel, &target, &object) {
                        Some(folder) => self.part(&child_rel, folder, &path)?,
                        None => self.summary.skipped.push(format!("{}: an external link", path.display())),
                    }
                }
                Member::External { .. } | Member::Other => {
                    self.summary.skipped.push(format!("{}: an external or user-defined link", path.display()))
                }
            }
        }
        Ok(())
    }

    /// Unpacks the pack of the folder at `rel`, in the folder `folder` beside the main pack
    /// (see `partition::part_folder`), into the new folder `path`.
    fn part(&mut self, rel: &[u8], folder: &OsStr, path: &Path) -> Result<(), String> {
        let file = dset_split::layout::relative_file(&[b"/", rel].concat()).unwrap_or_default();
        let pack = dset_split::confine::below(&self.main_dir.join(folder), &file)?;
        if !pack.exists() {
            return Err(format!(
                "{}: its pack {} is missing (not fetched? `dvc pull {}` or `git annex get {}`)",
                path.display(),
                pack.display(),
                pack.display(),
                pack.display()
            ));
        }
        let f = crate::h5::open(&pack, false)?;
        if !super::write::is_pack(f.0) {
            return Err(format!("{}: {} is not a pack made by `dset-split pack`", path.display(), pack.display()));
        }
        // SAFETY: the open file's root group.
        let root = IdGuard(unsafe { H5Gopen2(f.0, c"/".as_ptr(), H5P_DEFAULT) });
        if root.0 < 0 {
            return Err(failed(format!("cannot open the root group of {}", pack.display())));
        }
        self.parts += 1;
        let at = self.parts;
        self.groups.insert((at, hdf::token_of(root.0)?));
        std::fs::create_dir(path).map_err(|e| format!("cannot make {}: {e}", path.display()))?;
        self.group(root.0, path, rel, at)?;
        set_meta(path, self.types.read(root.0).as_ref(), false)?;
        self.summary.dirs += 1;
        self.summary.parts += 1;
        Ok(())
    }

    /// Writes the bytes of the dataset `d` to the new file `path`.
    fn file(&mut self, d: hid_t, path: &Path) -> Result<(), String> {
        let size = dataset_len(d)?;
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW)
            .mode(0o600)
            .open(path)
            .map_err(|e| format!("cannot make {}: {e}", path.display()))?;
        self.buf.resize(PIECE.min(size as usize), 0);
        let mut at = 0u64;
        while at < size {
            crate::interrupted()?;
            let n = (size - at).min(PIECE as u64) as usize;
            hdf::read_piece(d, at, &mut self.buf[..n])?;
            out.write_all(&self.buf[..n]).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            at += n as u64;
            self.summary.bytes_written += n as u64;
        }
        Ok(())
    }
}

/// Gives `path` the owner (when running as root), mode (not for links) and times of `stat`.
fn set_meta(path: &Path, stat: Option<&Stat>, link: bool) -> Result<(), String> {
    let Some(s) = stat else { return Ok(()) };
    let c = CString::new(path.as_os_str().as_bytes()).map_err(|_| format!("{}: NUL in name", path.display()))?;
    let err = |what: &str| format!("cannot set the {what} of {}: {}", path.display(), std::io::Error::last_os_error());
    // SAFETY: a NUL-terminated path; plain system calls that do not follow a final symbolic link
    // where `link` says the path is one.
    unsafe {
        if libc::geteuid() == 0 && libc::lchown(c.as_ptr(), s.uid, s.gid) != 0 {
            return Err(err("owner"));
        }
        if !link && libc::chmod(c.as_ptr(), s.mode & 0o7777) != 0 {
            return Err(err("mode"));
        }
        let t = libc::timespec { tv_sec: s.mtime_sec, tv_nsec: s.mtime_nsec as libc::c_long };
        let flags = if link { libc::AT_SYMLINK_NOFOLLOW } else { 0 };
        if libc::utimensat(libc::AT_FDCWD, c.as_ptr(), [t, t].as_ptr(), flags) != 0 {
            return Err(err("times"));
        }
    }
    Ok(())
}
