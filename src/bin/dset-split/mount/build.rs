//! Reads the mounted tree (`tree`) from an HDF5 file, once at mount.
//!
//! A pack shows the packed folder (its index spares opening each dataset). Any other HDF5 file
//! shows groups as folders and each dataset as a file of its raw bytes in C order, plus a
//! `NAME.npy` view, with attributes as `user.*` extended attributes; external links and
//! single-source virtual datasets are followed into the files they name (the split layout), and
//! a missing split file becomes an entry whose reads fail with EIO.

use std::collections::{HashMap, HashSet};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use dset_split::ffi::sys::h5::hsize_t;
use dset_split::ffi::sys::h5d::{H5D_layout_t, H5Dget_create_plist, H5Dget_offset, H5Dget_space, H5Dget_type};
use dset_split::ffi::sys::h5g::H5Gopen2;
use dset_split::ffi::sys::h5i::hid_t;
use dset_split::ffi::sys::h5o::{H5O_INFO_BASIC, H5O_info2_t, H5O_type_t, H5Oget_info3, H5Oopen};
use dset_split::ffi::sys::h5p::{H5P_DEFAULT, H5Pget_external_count, H5Pget_layout};
use dset_split::ffi::sys::h5s::{
    H5S_class_t, H5Sget_simple_extent_dims, H5Sget_simple_extent_ndims, H5Sget_simple_extent_type,
};
use dset_split::ffi::sys::h5t::{H5T_class_t, H5Tdetect_class, H5Tget_class, H5Tget_size, H5Tis_variable_str};
use dset_split::split::IdGuard;

use super::npy;
use super::tree::{Backing, Child, Data, Hdf5Source, Ino, Kind, Meta, Node, Source, Tree};
use super::types::{elem, virtual_sources, whole_source};
use crate::pack::format::{self, IndexView, Stat};
use crate::pack::hdf::{self, Member, StatTypes, c_name};
use crate::pack::headers::Headers;
use crate::pack::partition::part_folder;

/// A dataset's contents and the header of its `.npy` view (None: NumPy has no such type).
type Shown = (Data, Option<Box<[u8]>>);

/// Builds the tree of the HDF5 file at `path`.
pub fn build(path: &Path) -> Result<Tree, String> {
    build_as(path, false)
}

/// The tree of the pack at `path` as its tree image holds it: a folder packed on its own
/// (`pack --split-dirs`) is a [`Kind::Part`] node naming its pack, not followed.
pub fn image_tree(path: &Path) -> Result<Tree, String> {
    build_as(path, true)
}

fn build_as(path: &Path, parts: bool) -> Result<Tree, String> {
    let file = crate::h5::open(path, false)?;
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let fd = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    crate::h5::lock_shared(&fd, path)?;
    let pack = crate::pack::write::is_pack(file.0);
    // SAFETY: the open file's root group.
    let root = IdGuard(unsafe { H5Gopen2(file.0, c"/".as_ptr(), H5P_DEFAULT) });
    if root.0 < 0 {
        return Err(crate::h5::failed(format!("cannot open the root group of {}", path.display())));
    }
    let base = Meta {
        perm: 0o555,
        uid: meta.uid(),
        gid: meta.gid(),
        mtime: UNIX_EPOCH + Duration::new(meta.mtime().max(0) as u64, meta.mtime_nsec() as u32),
        nlink: 1,
    };
    let mut b = Builder {
        tree: Tree {
            nodes: Vec::new(),
            names: Vec::new(),
            files: Vec::new(),
            xattrs: HashMap::new(),
            notes: Vec::new(),
            from_index: 0,
        },
        pack,
        parts,
        indexes: Vec::new(),
        types: StatTypes::new()?,
        base,
        datasets: HashMap::default(),
        groups: HashSet::new(),
        opened: HashMap::new(),
    };
    b.tree.files.push(Backing { path: path.to_path_buf(), fd, h5: Some(file) });
    b.load_index(0);
    if let Ok(main) = std::fs::canonicalize(path) {
        b.opened.insert(main, 0);
    }
    let root_meta = if pack { b.types.read(root.0).map_or(base, |s| meta_of(&s, 1)) } else { base };
    b.tree.nodes.push(Node { parent: 1, meta: root_meta, kind: Kind::Dir(Vec::new()) });
    let token = hdf::token_of(root.0)?;
    b.groups.insert((0, token));
    b.group(0, root.0, 1, b"/", b"/")?;
    if !b.pack {
        b.xattrs(root.0, 1);
    }
    let mut tree = b.tree;
    // A folder's link count is 2 plus its subfolders (their `..`), as on disk.
    let subdirs: Vec<u32> = tree
        .nodes
        .iter()
        .map(|n| match &n.kind {
            Kind::Dir(c) => {
                c.iter().filter(|c| matches!(tree.nodes[c.ino as usize - 1].kind, Kind::Dir(_) | Kind::Part(_))).count()
                    as u32
            }
            _ => 0,
        })
        .collect();
    for (node, subdirs) in tree.nodes.iter_mut().zip(subdirs) {
        if let Kind::Dir(children) = &mut node.kind {
            let names = &tree.names;
            let name = |c: &Child| &names[c.start as usize..(c.start + c.len) as usize];
            children.sort_by(|a, b| name(a).cmp(name(b)));
            node.meta.nlink = 2 + subdirs;
        }
    }
    if !tree.needs_hdf5() {
        for f in &mut tree.files {
            f.h5 = None;
        }
    }
    // What HDF5 and the build no longer need goes back to the system before the background
    // process starts from a copy of this one.
    tree.nodes.shrink_to_fit();
    tree.names.shrink_to_fit();
    for node in &mut tree.nodes {
        if let Kind::Dir(children) = &mut node.kind {
            children.shrink_to_fit();
        }
    }
    // SAFETY: plain library calls.
    unsafe {
        dset_split::ffi::sys::h5::H5garbage_collect();
        libc::malloc_trim(0);
    }
    Ok(tree)
}

struct Builder {
    tree: Tree,
    pack: bool,
    /// Folders packed on their own are [`Kind::Part`] nodes (see [`image_tree`]).
    parts: bool,
    /// Each backing file's pack index and header reader (None: not a pack, or no index).
    indexes: Vec<Option<(IndexView, Headers)>>,
    types: StatTypes,
    /// Owner, time and mode of everything a general file shows.
    base: Meta,
    /// Datasets already shown, by (backing file, token): their other names are hard links.
    datasets: HashMap<(usize, [u8; 16]), Ino, format::TokenHash>,
    /// Groups already shown (a group linked twice, or into itself, is shown once).
    groups: HashSet<(usize, [u8; 16])>,
    /// Backing files by canonical path.
    opened: HashMap<PathBuf, usize>,
}

fn meta_of(s: &Stat, nlink: u32) -> Meta {
    let mtime = super::image::time_of(s.mtime_sec, s.mtime_nsec.min(999_999_999));
    Meta { perm: (s.mode & 0o7777) as u16, uid: s.uid, gid: s.gid, mtime, nlink }
}

impl Builder {
    fn add(&mut self, parent: Ino, name: Vec<u8>, meta: Meta, kind: Kind) -> Ino {
        self.tree.nodes.push(Node { parent, meta, kind });
        let ino = self.tree.nodes.len() as Ino;
        self.link(parent, name, ino);
        ino
    }

    fn link(&mut self, parent: Ino, name: Vec<u8>, ino: Ino) {
        let (Ok(start), Ok(len)) = (u32::try_from(self.tree.names.len()), u32::try_from(name.len())) else {
            self.tree.notes.push("more names than a mount holds (4 GiB of names): the rest is not shown".into());
            return;
        };
        if let Kind::Dir(children) = &mut self.tree.nodes[parent as usize - 1].kind {
            self.tree.names.extend_from_slice(&name);
            children.push(Child { start, len, ino });
        }
    }

    /// Adds the members of group `g` (at `own` in backing file `file`), shown at `hpath`.
    fn group(&mut self, file: usize, g: hid_t, ino: Ino, hpath: &[u8], own: &[u8]) -> Result<(), String> {
        let symlinks: HashMap<Vec<u8>, Stat> = if self.pack {
            hdf::read_bytes_attr(g, &CString::new(format::SYMLINKS_ATTR).expect("no NUL"))
                .and_then(|b| format::decode_symlinks(&b))
                .unwrap_or_default()
                .into_iter()
                .map(|l| (l.name, l.stat))
                .collect()
        } else {
            HashMap::new()
        };
        let members = hdf::members(g)?;
        // A dataset's `.npy` view, unless a member already has that name (a pack has no views).
        let npy_free: Vec<bool> = if self.pack {
            vec![false; members.len()]
        } else {
            let names: HashSet<&[u8]> = members.iter().map(|(n, _)| &n[..]).collect();
            members.iter().map(|(n, _)| !names.contains(&[&n[..], b".npy"].concat()[..])).collect()
        };
        for ((name, member), npy_free) in members.iter().zip(npy_free) {
            if name.is_empty() || name == b"." || name == b".." {
                self.tree.notes.push(format!("{}: a name no folder can hold is not shown", show(hpath, name)));
                continue;
            }
            let child_path = [hpath, if hpath.ends_with(b"/") { b"" } else { b"/" }, name].concat();
            let child_own = [own, if own.ends_with(b"/") { b"" } else { b"/" }, name].concat();
            let cname = c_name(name)?;
            match member {
                Member::Hard(token) => {
                    if self.pack && self.indexed(file, ino, name, token)? {
                        continue;
                    }
                    // SAFETY: a valid group and a NUL-terminated name.
                    let o = IdGuard(unsafe { H5Oopen(g, cname.as_ptr(), H5P_DEFAULT) });
                    self.object(file, o, ino, name.clone(), &child_path, &child_own, npy_free)?;
                }
                Member::Soft(value) => {
                    let meta = match symlinks.get(name) {
                        Some(s) => meta_of(s, 1),
                        None => Meta { perm: 0o777, ..self.base },
                    };
                    let target = if self.pack { value.clone() } else { relative_target(&child_path, value) };
                    self.add(ino, name.clone(), Meta { perm: 0o777, ..meta }, Kind::Symlink(target));
                }
                Member::External { file: target, object } => {
                    let rel = child_path.strip_prefix(b"/").unwrap_or(&child_path);
                    let part = (self.pack && file == 0).then(|| part_folder(rel, target, object)).flatten();
                    // A folder's pack is found as `unpack` finds it: through no symbolic link to
                    // a folder (the pack itself may be one).
                    if let (Some(folder), false) = (part, self.parts) {
                        let main_dir = self.tree.files[0].path.parent().map(Path::to_path_buf).unwrap_or_default();
                        let file = dset_split::layout::relative_file(&child_path).unwrap_or_default();
                        if let Err(why) = dset_split::confine::below(&main_dir.join(folder), &file) {
                            let data = self.unreadable(&child_path, &Unreadable::Other(why));
                            self.add(ino, name.clone(), Meta { perm: 0o444, ..self.base }, Kind::File(data));
                            continue;
                        }
                    }
                    if self.parts && part.is_some() {
                        // What it shows is its pack's root's; a fixed record here keeps the image
                        // (and its seal's time) the same for the same tree.
                        let meta = Meta { perm: 0o555, uid: 0, gid: 0, mtime: UNIX_EPOCH, nlink: 2 };
                        self.add(ino, name.clone(), meta, Kind::Part(target.clone()));
                    } else {
                        self.external(file, (target, object), ino, name.clone(), &child_path, npy_free)?
                    }
                }
                Member::Other => {
                    self.tree.notes.push(format!("{}: a user-defined link is not shown", show(hpath, name)))
                }
            }
        }
        Ok(())
    }

    /// Adds `name` from the pack's index when its record still describes the object (its
    /// header checksum is unchanged); false when the object must be read from HDF5.
    fn indexed(&mut self, file: usize, parent: Ino, name: &[u8], token: &[u8; 16]) -> Result<bool, String> {
        let Some(Some((index, _))) = self.indexes.get(file) else { return Ok(false) };
        let Some(rec) = index.get(token) else { return Ok(false) };
        if let Some(&ino) = self.datasets.get(&(file, *token)) {
            self.tree.nodes[ino as usize - 1].meta.nlink += 1;
            self.link(parent, name.to_vec(), ino);
            return Ok(true);
        }
        let Some(Some((_, headers))) = self.indexes.get_mut(file) else { return Ok(false) };
        let sum = headers.checksum(hdf::token_addr(token));
        if sum != Some(rec.checksum) || rec.dir {
            // Groups are listed through HDF5 (their members are not in the index).
            return Ok(false);
        }
        let source = match rec.offset {
            Some(offset) => Source::Bytes { file, offset },
            None if rec.size == 0 => Source::Empty,
            None => return Ok(false),
        };
        let ino = self.add(
            parent,
            name.to_vec(),
            meta_of(&rec.stat, 1),
            Kind::File(Data { size: rec.size, header: None, source }),
        );
        self.datasets.insert((file, *token), ino);
        self.tree.from_index += 1;
        Ok(true)
    }

    /// Reads the pack index of backing file `at` (the last opened), if it is a pack that has one.
    fn load_index(&mut self, at: usize) {
        let f = &self.tree.files[at];
        let index = f.h5.as_ref().filter(|h5| crate::pack::write::is_pack(h5.0)).and_then(|h5| {
            // SAFETY: the open file's root group.
            let root = IdGuard(unsafe { H5Gopen2(h5.0, c"/".as_ptr(), H5P_DEFAULT) });
            let bytes = hdf::read_bytes_attr(root.0, &CString::new(format::INDEX_ATTR).expect("no NUL"))?;
            let view = format::IndexView::new(bytes)?;
            Some((view, Headers::new(f.fd.try_clone().ok()?, hdf::userblock(h5.0))))
        });
        self.indexes.resize_with(at + 1, || None);
        self.indexes[at] = index;
    }

    /// Adds the object `o` (open; negative when it could not be) of backing file `file`.
    #[allow(clippy::too_many_arguments)]
    fn object(
        &mut self,
        file: usize,
        o: IdGuard,
        parent: Ino,
        name: Vec<u8>,
        hpath: &[u8],
        own: &[u8],
        npy_free: bool,
    ) -> Result<(), String> {
        // SAFETY: zeroed is a valid `H5O_info2_t`.
        let mut info: H5O_info2_t = unsafe { std::mem::zeroed() };
        // SAFETY: an open object and an output slot.
        if o.0 < 0 || unsafe { H5Oget_info3(o.0, &mut info, H5O_INFO_BASIC) } < 0 {
            self.tree.notes.push(format!("{}: cannot be opened: {}", show(hpath, b""), crate::h5::last_error()));
            return Ok(());
        }
        let token = hdf::token_bytes(info.token);
        match info.type_ {
            H5O_type_t::H5O_TYPE_GROUP => {
                if !self.groups.insert((file, token)) {
                    self.tree
                        .notes
                        .push(format!("{}: a second link to a group already shown is not shown", show(hpath, b"")));
                    return Ok(());
                }
                let meta =
                    if self.pack { self.types.read(o.0).map_or(self.base, |s| meta_of(&s, 1)) } else { self.base };
                let ino = self.add(parent, name, meta, Kind::Dir(Vec::new()));
                if !self.pack {
                    self.xattrs(o.0, ino);
                }
                self.group(file, o.0, ino, hpath, own)?;
            }
            H5O_type_t::H5O_TYPE_DATASET => {
                if let Some(&ino) = self.datasets.get(&(file, token)) {
                    self.tree.nodes[ino as usize - 1].meta.nlink += 1;
                    self.link(parent, name, ino);
                    return Ok(());
                }
                self.dataset(file, o.0, parent, name, hpath, own, npy_free, token)?;
            }
            _ => {}
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn dataset(
        &mut self,
        file: usize,
        d: hid_t,
        parent: Ino,
        name: Vec<u8>,
        hpath: &[u8],
        own: &[u8],
        npy_free: bool,
        token: [u8; 16],
    ) -> Result<(), String> {
        // A virtual dataset of the split layout: its bytes are its source's.
        match virtual_sources(d).as_deref() {
            Some([(src_file, src_dset)]) => {
                let data = match self.source_dataset(file, src_file, src_dset) {
                    Ok((at, s)) if whole_source(d, s.0) => self.data_of(at, s.0, src_dset.as_bytes(), hpath)?,
                    // Part of the source, or in another shape or type: through HDF5, below.
                    Ok(_) => None,
                    // Its size is unknown too: the virtual dataset's extent follows its source.
                    Err(why) => Some((self.unreadable(hpath, &why), None)),
                };
                if let Some((data, npy)) = data {
                    return self.add_dataset(parent, name, data, npy, npy_free, d, token, file);
                }
            }
            // Several sources: read through HDF5, which gives fill values for a source it
            // cannot open; so every one must be there.
            Some(sources) => {
                for (src_file, src_dset) in sources {
                    if let Err(why) = self.source_dataset(file, src_file, src_dset) {
                        let data = self.unreadable(hpath, &why);
                        return self.add_dataset(parent, name, data, None, npy_free, d, token, file);
                    }
                }
            }
            None => {}
        }
        match self.data_of(file, d, own, hpath)? {
            Some((data, npy)) => self.add_dataset(parent, name, data, npy, npy_free, d, token, file),
            None => Ok(()),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add_dataset(
        &mut self,
        parent: Ino,
        name: Vec<u8>,
        data: Data,
        npy: Option<Box<[u8]>>,
        npy_free: bool,
        d: hid_t,
        token: [u8; 16],
        file: usize,
    ) -> Result<(), String> {
        let meta = if self.pack {
            self.types.read(d).map_or(Meta { perm: 0o444, ..self.base }, |s| meta_of(&s, 1))
        } else {
            Meta { perm: 0o444, ..self.base }
        };
        let npy_data = npy.filter(|_| npy_free && !self.pack).map(|h| Data {
            size: h.len() as u64 + data.size,
            header: Some(h),
            source: data.source.clone(),
        });
        let ino = self.add(parent, name.clone(), meta, Kind::File(data));
        self.datasets.insert((file, token), ino);
        if !self.pack {
            self.xattrs(d, ino);
        }
        if let Some(npy) = npy_data {
            self.add(parent, [&name[..], b".npy"].concat(), meta, Kind::File(npy));
        }
        Ok(())
    }

    /// The bytes of dataset `d` of backing file `file` (at `path` there) and its `.npy` header;
    /// None for a type whose bytes mean nothing outside HDF5 (variable-length, references).
    fn data_of(&mut self, file: usize, d: hid_t, path: &[u8], shown: &[u8]) -> Result<Option<Shown>, String> {
        // SAFETY: a valid dataset; ids are released by `IdGuard`.
        let (space, ftype, dcpl) =
            unsafe { (IdGuard(H5Dget_space(d)), IdGuard(H5Dget_type(d)), IdGuard(H5Dget_create_plist(d))) };
        // SAFETY: valid ids.
        let (class, esize, vlen) = unsafe {
            (
                H5Tget_class(ftype.0),
                H5Tget_size(ftype.0) as u64,
                H5Tdetect_class(ftype.0, H5T_class_t::H5T_VLEN) > 0 || H5Tis_variable_str(ftype.0) > 0,
            )
        };
        if vlen || matches!(class, H5T_class_t::H5T_REFERENCE) {
            self.tree
                .notes
                .push(format!("{}: variable-length or reference data has no bytes to show", show(shown, b"")));
            return Ok(None);
        }
        // SAFETY: a valid space.
        let dims: Vec<u64> = unsafe {
            match H5Sget_simple_extent_type(space.0) {
                H5S_class_t::H5S_NULL => return Ok(None),
                H5S_class_t::H5S_SCALAR => Vec::new(),
                _ => {
                    let n = H5Sget_simple_extent_ndims(space.0).max(0) as usize;
                    let mut dims = vec![0 as hsize_t; n];
                    H5Sget_simple_extent_dims(space.0, dims.as_mut_ptr(), std::ptr::null_mut());
                    dims
                }
            }
        };
        let Some(size) = dims.iter().try_fold(esize, |n, &d| n.checked_mul(d)).filter(|&n| n <= i64::MAX as u64) else {
            self.tree.notes.push(format!("{}: too large to show", show(shown, b"")));
            return Ok(None);
        };
        // SAFETY: valid ids.
        let (layout, external, offset) =
            unsafe { (H5Pget_layout(dcpl.0), H5Pget_external_count(dcpl.0), H5Dget_offset(d)) };
        if external > 0 {
            // Its bytes are in other files the dataset names (anywhere): never led to.
            self.tree.notes.push(format!("{}: stored in external files, not shown", show(shown, b"")));
            return Ok(None);
        }
        let source = if size == 0 {
            Source::Empty
        } else if layout == H5D_layout_t::H5D_CONTIGUOUS && offset != u64::MAX {
            Source::Bytes { file, offset }
        } else {
            Source::Hdf5(Box::new(Hdf5Source { file, path: c_name(path)?, dims: dims.clone(), elem: esize }))
        };
        let npy = if self.pack {
            None
        } else {
            elem(ftype.0).and_then(npy::descr).map(|d| npy::header(&d, &dims).into_boxed_slice())
        };
        Ok(Some((Data { size, header: None, source }, npy)))
    }

    /// Follows an external link (to `object` of the file `target`) of backing file `file`.
    fn external(
        &mut self,
        file: usize,
        (target, object): (&[u8], &[u8]),
        parent: Ino,
        lname: Vec<u8>,
        hpath: &[u8],
        npy_free: bool,
    ) -> Result<(), String> {
        match self.backing(file, target) {
            Ok(at) => {
                let h5 = self.tree.files[at].h5.as_ref().map_or(-1, |f| f.0);
                let c = c_name(object)?;
                // SAFETY: an open file and a NUL-terminated path.
                let o = IdGuard(unsafe { H5Oopen(h5, c.as_ptr(), H5P_DEFAULT) });
                self.object(at, o, parent, lname, hpath, object, npy_free)
            }
            Err(missing) => {
                let data = self.unreadable(hpath, &missing);
                self.add(parent, lname, Meta { perm: 0o444, ..self.base }, Kind::File(data));
                Ok(())
            }
        }
    }

    /// The backing file `name` names (relative to the directory of backing file `from`, as
    /// HDF5 resolves external links and virtual sources), opened on first use; Err with the
    /// missing file's path when it does not exist or is not HDF5.
    fn backing(&mut self, from: usize, name: &[u8]) -> Result<usize, Unreadable> {
        let base = self.tree.files[from].path.parent().map(Path::to_path_buf).unwrap_or_default();
        let path = if name == b"." {
            self.tree.files[from].path.clone()
        } else {
            base.join(std::ffi::OsStr::from_bytes(name))
        };
        let canonical = match std::fs::canonicalize(&path) {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Unreadable::Missing(path)),
            Err(e) => return Err(Unreadable::Other(format!("{}: {e}", path.display()))),
        };
        if let Some(&at) = self.opened.get(&canonical) {
            return Ok(at);
        }
        // Never waits (a named pipe there would, for a writer), and only a regular file.
        let fd =
            packfs::file::open_regular(&path).map_err(|e| Unreadable::Other(format!("{}: {e}", path.display())))?;
        crate::h5::lock_shared(&fd, &path).map_err(Unreadable::Other)?;
        let h5 = crate::h5::open(&path, false).map_err(Unreadable::Other)?;
        self.tree.files.push(Backing { path, fd, h5: Some(h5) });
        let at = self.tree.files.len() - 1;
        if self.pack {
            self.load_index(at);
        }
        self.opened.insert(canonical, at);
        Ok(at)
    }

    /// The dataset `dset` of the file `name` (as a virtual dataset of backing file `from` names
    /// it), open, with its backing file.
    fn source_dataset(&mut self, from: usize, name: &str, dset: &str) -> Result<(usize, IdGuard), Unreadable> {
        let at = self.backing(from, name.as_bytes())?;
        let h5 = self.tree.files[at].h5.as_ref().map_or(-1, |f| f.0);
        let c = CString::new(dset).map_err(|_| Unreadable::Other("NUL in a dataset name".into()))?;
        // SAFETY: an open file (or -1, which fails) and a NUL-terminated path.
        let s = IdGuard(unsafe { dset_split::ffi::sys::h5d::H5Dopen2(h5, c.as_ptr(), H5P_DEFAULT) });
        if s.0 < 0 {
            let file = &self.tree.files[at].path;
            return Err(Unreadable::Other(format!("{} has no dataset {dset}", file.display())));
        }
        Ok((at, s))
    }

    /// The contents of an entry that cannot be read, noted for the log.
    fn unreadable(&mut self, hpath: &[u8], why: &Unreadable) -> Data {
        let data = missing_data(hpath, why);
        if let Source::Missing(w) = &data.source {
            self.tree.notes.push(w.clone());
        }
        data
    }

    /// Records the attributes of `obj` as extended attributes of `ino`.
    fn xattrs(&mut self, obj: hid_t, ino: Ino) {
        let list = super::attrs::all(obj);
        if !list.is_empty() {
            self.tree.xattrs.insert(ino, list);
        }
    }
}

/// Why a file a link or a virtual dataset names cannot be read.
#[derive(Debug)]
enum Unreadable {
    /// It is not there (a split file not fetched).
    Missing(PathBuf),
    /// Anything else, in words.
    Other(String),
}

/// An entry whose data cannot be read: empty, every open and read an I/O error saying why.
fn missing_data(hpath: &[u8], why: &Unreadable) -> Data {
    let why = match why {
        Unreadable::Missing(p) => format!(
            "{}: its file {} is missing (not fetched? `dvc pull {}` or `git annex get {}`)",
            show(hpath, b""),
            p.display(),
            p.display(),
            p.display()
        ),
        Unreadable::Other(e) => format!("{}: cannot read it: {e}", show(hpath, b"")),
    };
    Data { size: 0, header: None, source: Source::Missing(why) }
}

/// An HDF5 soft link's value as a symbolic link target inside the mount: an absolute HDF5
/// path becomes relative to the link's folder (`hpath` is the link's own path).
fn relative_target(hpath: &[u8], value: &[u8]) -> Vec<u8> {
    match value.strip_prefix(b"/") {
        Some(rest) => {
            let depth = hpath.iter().filter(|&&b| b == b'/').count().saturating_sub(1);
            let mut out = b"../".repeat(depth);
            out.extend_from_slice(if rest.is_empty() { b"." } else { rest });
            out
        }
        None => value.to_vec(),
    }
}

/// A path for messages.
fn show(path: &[u8], name: &[u8]) -> String {
    let sep = if name.is_empty() || path.ends_with(b"/") { "" } else { "/" };
    format!("{}{sep}{}", String::from_utf8_lossy(path), String::from_utf8_lossy(name))
}

#[cfg(test)]
mod tests {
    use super::relative_target;

    #[test]
    fn absolute_soft_links_become_relative_to_the_links_folder() {
        assert_eq!(relative_target(b"/a/b/link", b"/x/y"), b"../../x/y");
        assert_eq!(relative_target(b"/link", b"/x"), b"x");
        assert_eq!(relative_target(b"/g/link", b"/"), b"../.");
        assert_eq!(relative_target(b"/g/link", b"sibling"), b"sibling");
    }
}
