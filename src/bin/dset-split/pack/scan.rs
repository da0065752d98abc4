//! The walk a pack holds: its tree read back as the list `walk` makes of a folder (paths, kinds,
//! sizes, link targets, stats; not the files' bytes), so that `pack --update` can tell that a
//! pack already holds a folder as it is now and leave the pack alone, byte for byte (what DVC
//! and git-annex then see as unchanged). A dataset's stat and size come from the pack's index
//! while its object header is as the index recorded it, else from the dataset.

use std::collections::HashMap;
use std::ffi::CString;
use std::path::Path;

use dset_split::ffi::sys::h5i::hid_t;
use dset_split::ffi::sys::h5o::{H5O_INFO_BASIC, H5O_info2_t, H5O_type_t, H5Oget_info3, H5Oopen};
use dset_split::ffi::sys::h5p::H5P_DEFAULT;
use dset_split::split::IdGuard;

use super::format::{self, IndexView, Stat};
use super::hdf::{self, Member, StatTypes, c_name};
use super::headers::Headers;
use super::walk::{Entry, Kind, Walk};

/// The walk the pack at `path` holds; None when it is not a pack, cannot be read, or holds what
/// no walk can (a group linked twice, a dataset that is not a packed file, a missing stat).
pub fn walk_of(path: &Path) -> Option<Walk> {
    let (file, root) = super::write::open_pack(path)?;
    let index = hdf::read_bytes_attr(root.0, &CString::new(format::INDEX_ATTR).ok()?).and_then(IndexView::new);
    let fd = std::fs::File::open(path).ok()?;
    let mut s = Scan {
        types: StatTypes::new().ok()?,
        index: index.unwrap_or_default(),
        headers: Headers::new(fd, hdf::userblock(file.0)),
        seen: HashMap::new(),
        walk: Walk::default(),
    };
    let stat = s.types.read(root.0)?;
    s.walk.entries.push(Entry { rel: Vec::new(), kind: Kind::Dir, stat });
    s.seen.insert(hdf::token_of(root.0).ok()?, 0);
    s.group(root.0, &[])?;
    Some(s.walk)
}

/// Whether two walks pack the same: equal but for what a pack does not keep (whether a file has
/// names outside the walk) or keeps elsewhere (a folder's own pack holds the folder's stat).
pub fn same(a: &Walk, b: &Walk) -> bool {
    fn plain(e: &Entry) -> (&[u8], Kind, Stat) {
        match &e.kind {
            Kind::File { size, .. } => (&e.rel, Kind::File { size: *size, linked: false }, e.stat),
            Kind::Part { .. } => (&e.rel, e.kind.clone(), Stat::default()),
            _ => (&e.rel, e.kind.clone(), e.stat),
        }
    }
    a.entries.len() == b.entries.len() && a.entries.iter().zip(&b.entries).all(|(x, y)| plain(x) == plain(y))
}

struct Scan {
    types: StatTypes,
    index: IndexView,
    headers: Headers,
    /// Objects listed so far, by token: their index in the walk.
    seen: HashMap<[u8; 16], usize>,
    walk: Walk,
}

impl Scan {
    /// Adds the members of the group `g` at `rel`, in name order (byte order, as `walk` sorts).
    fn group(&mut self, g: hid_t, rel: &[u8]) -> Option<()> {
        let symlinks: HashMap<Vec<u8>, Stat> = hdf::read_bytes_attr(g, &CString::new(format::SYMLINKS_ATTR).ok()?)
            .and_then(|b| format::decode_symlinks(&b))
            .unwrap_or_default()
            .into_iter()
            .map(|l| (l.name, l.stat))
            .collect();
        for (name, member) in hdf::members(g).ok()? {
            let child = if rel.is_empty() { name.clone() } else { [rel, b"/", &name].concat() };
            match member {
                Member::Hard(token) => {
                    if let Some(&first) = self.seen.get(&token) {
                        // A second name: of a file (a hard link); a group's is not a folder's.
                        if self.walk.entries[first].kind == Kind::Dir {
                            return None;
                        }
                        let stat = self.walk.entries[first].stat;
                        self.walk.entries.push(Entry { rel: child, kind: Kind::HardLink { first }, stat });
                        continue;
                    }
                    self.seen.insert(token, self.walk.entries.len());
                    if let Some(entry) = self.indexed(&token, &child) {
                        self.walk.entries.push(entry);
                        continue;
                    }
                    let o = IdGuard(open_object(g, &c_name(&name).ok()?));
                    // SAFETY: zeroed is a valid `H5O_info2_t`.
                    let mut info: H5O_info2_t = unsafe { std::mem::zeroed() };
                    // SAFETY: an open object and an output slot.
                    if o.0 < 0 || unsafe { H5Oget_info3(o.0, &mut info, H5O_INFO_BASIC) } < 0 {
                        return None;
                    }
                    let stat = self.types.read(o.0)?;
                    match info.type_ {
                        H5O_type_t::H5O_TYPE_GROUP => {
                            self.walk.entries.push(Entry { rel: child.clone(), kind: Kind::Dir, stat });
                            self.group(o.0, &child)?;
                        }
                        H5O_type_t::H5O_TYPE_DATASET if hdf::packed_bytes(o.0) => {
                            let size = super::write::dataset_len(o.0).ok()?;
                            self.walk.entries.push(Entry {
                                rel: child,
                                kind: Kind::File { size, linked: false },
                                stat,
                            });
                        }
                        _ => return None,
                    }
                }
                Member::Soft(target) => {
                    let stat = *symlinks.get(&name)?;
                    self.walk.entries.push(Entry { rel: child, kind: Kind::Symlink { target }, stat });
                }
                Member::External { file, object } if object == b"/" => {
                    let file = String::from_utf8(file).ok()?;
                    self.walk.entries.push(Entry { rel: child, kind: Kind::Part { file }, stat: Stat::default() });
                }
                Member::External { .. } | Member::Other => return None,
            }
        }
        Some(())
    }

    /// The entry of the packed file `token` at `rel` from the index, while its object header is
    /// as the index recorded it.
    fn indexed(&mut self, token: &[u8; 16], rel: &[u8]) -> Option<Entry> {
        let rec = self.index.get(token).filter(|r| !r.dir)?;
        (self.headers.checksum(hdf::token_addr(token)) == Some(rec.checksum)).then(|| Entry {
            rel: rel.to_vec(),
            kind: Kind::File { size: rec.size, linked: false },
            stat: rec.stat,
        })
    }
}

/// Opens the object `name` of the group `g` (negative when it cannot be).
fn open_object(g: hid_t, name: &std::ffi::CStr) -> hid_t {
    // SAFETY: a valid group and a NUL-terminated name.
    unsafe { H5Oopen(g, name.as_ptr(), H5P_DEFAULT) }
}
