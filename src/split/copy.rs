//! `H5Ocopy` of split datasets: every copy gets split files of its own, as natively every copy
//! is independent. A copied dataset gets a new split file in the destination's split folder; a
//! copied group is copied natively (its split datasets' external links with it), and then each of
//! those links is pointed at a new split file holding a copy of its dataset (in the group's
//! creation order). Into a file that is not split (a pure passthrough), the datasets are copied
//! into place instead of the links.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{CStr, CString};
use std::sync::Arc;

use super::Obj;
use super::order::join;
use super::*;
use crate::below::Below;
use crate::error::{Error, Result, quietly};
use crate::ffi::{self, H5VL_OBJECT_BY_SELF, H5VL_loc_params_t, hid_t};
use crate::lifecycle::{SplitLink, replace_link, split_links_under};
use crate::trace;

/// HDF5's `H5O_COPY_EXPAND_REFERENCE_FLAG`: objects the copied ones reference are copied too, and
/// the copies' references point at those copies.
const EXPAND_REFERENCE: std::ffi::c_uint = 0x0008;

/// The error for a copy that expands references in a file with virtual split datasets (see
/// [`refuse_expanding_references`]).
fn expanding_references(name: &CStr) -> Error {
    Error::arg(format!(
        "cannot copy {} expanding references (H5O_COPY_EXPAND_REFERENCE_FLAG, h5py's expand_refs=True): its file \
         holds split datasets in the virtual form, whose copies get their own split files, and the expanded \
         references would not follow them yet; copy without expanding references",
        name.to_string_lossy()
    ))
}

/// One side of an object copy.
#[derive(Clone, Copy)]
pub struct CopySide<'a> {
    pub obj: &'a Obj,
    pub loc: &'a H5VL_loc_params_t,
    pub name: &'a CStr,
}

impl std::fmt::Debug for CopySide<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CopySide").field("name", &self.name).finish_non_exhaustive()
    }
}

impl CopySide<'_> {
    fn at(&self) -> Below {
        Below { obj: self.obj.under_object, vol: self.obj.under_vol_id, obj_type: self.loc.obj_type }
    }
}

/// Before a copy that expands references (HDF5 then copies every object the copied ones
/// reference, also from outside the copied group, and links those copies as `~obj_pointed_by_*`):
/// refused when the source main file holds split datasets in the virtual form (their copies would
/// share the source's split files, and rebuilding them would leave the copied references behind).
///
/// # Safety
/// HDF5's own arguments of `object_cls.copy`.
unsafe fn refuse_expanding_references(src: CopySide, ocpypl: hid_t, dxpl: hid_t) -> Result<()> {
    let Some(sctx) = src.obj.ctx.as_ref() else { return Ok(()) };
    let mut flags: std::ffi::c_uint = 0;
    // SAFETY: queries HDF5's own object copy property list.
    if unsafe { crate::ffi::sys::h5p::H5Pget_copy_object(ocpypl, &mut flags) } < 0 || flags & EXPAND_REFERENCE == 0 {
        return Ok(());
    }
    let all = quietly(|| split_links_under(sctx, &src.at(), c"/", dxpl)).unwrap_or_default();
    if all.iter().any(|l| l.form == crate::policy::Form::Virtual) {
        return Err(expanding_references(src.name));
    }
    Ok(())
}

/// `H5Ocopy` of a split dataset into a main file of ours: the copy gets a split file of its own
/// (an independent copy, as natively), instead of landing in the main file. `Ok(false)`: not such
/// a copy; the caller forwards it.
///
/// # Safety
/// HDF5's own arguments of `object_cls.copy`.
pub unsafe fn copy_split(src: CopySide, dst: CopySide, ocpypl: hid_t, lcpl: hid_t, dxpl: hid_t) -> Result<bool> {
    // SAFETY: HDF5's own arguments.
    unsafe { refuse_expanding_references(src, ocpypl, dxpl) }?;
    let (Some(sctx), Some(dctx)) = (src.obj.ctx.as_ref(), dst.obj.ctx.as_ref()) else { return Ok(false) };
    if src.loc.type_ != H5VL_OBJECT_BY_SELF || dst.loc.type_ != H5VL_OBJECT_BY_SELF || dctx.read_only {
        return Ok(false);
    }
    // A split dataset by its link, or itself (h5py's `f.copy(f['x'], 'y')` passes the dataset).
    let itself = src.obj.split.as_ref().filter(|_| crate::layout::components(src.name.to_bytes()).is_empty());
    let Some(target) = itself.map(|s| s.file()).or_else(|| split_link_target(sctx, &src.at(), src.name, dxpl)) else {
        return Ok(false);
    };
    if let Some(other) = sctx.shadowing(&target) {
        return Err(shadowed(src.name.to_bytes(), &target, &other));
    }
    let dst_at = dst.at();
    if !dctx.holds(&dst_at, dst.name.to_bytes(), dxpl) {
        return Ok(false); // into a file mounted below the main file: copied into that file
    }
    let Some(path) = absolute_path(&dst_at, dst.name.to_bytes(), dxpl)? else { return Ok(false) };
    if dctx.policy.decide(&path, u64::MAX).is_err() {
        return Ok(false);
    }
    check_name_is_free(&dst_at, dst.name.to_bytes(), lcpl, dxpl)?;
    let mut place = Place::prepare(dctx, &path)?;
    let vol = dst.obj.under_vol_id;
    let result = (|| {
        let from = Source { obj: src.obj.under_object, loc: src.loc, name: src.name };
        // SAFETY: copies the source (through its link) with HDF5's own object copy properties.
        unsafe { place.copy_into(dctx, vol, from, ocpypl, false, dxpl) }?;
        make_parents_without_times(Some(dctx), &dst_at, dst.name, lcpl, dxpl)?;
        dst_at.create_external_link(dst.name, &place.target(dctx), lcpl, dxpl)?;
        dst_at.flush(dxpl); // durability, as for H5Dcreate2
        Ok(())
    })();
    match result {
        Ok(()) => Ok(true),
        Err(e) => {
            place.remove();
            Err(e)
        }
    }
}

/// After `H5Ocopy` copied a group natively: the external links to the source's split files in
/// the copy are given split files of their own (or, into a file that is not split, replaced by
/// copies of their datasets), so that nothing in the copy shares data with the source. Links
/// sharing one split file in the source share one copy, as hard links share one copied object.
/// On failure the copy is removed again, with the split files made for it.
///
/// # Safety
/// HDF5's own arguments of `object_cls.copy`, after the copy succeeded.
pub unsafe fn make_copy_independent(src: CopySide, dst: CopySide, ocpypl: hid_t, dxpl: hid_t) -> Result<()> {
    let Some(sctx) = src.obj.ctx.as_ref() else { return Ok(()) };
    if src.loc.type_ != H5VL_OBJECT_BY_SELF || dst.loc.type_ != H5VL_OBJECT_BY_SELF {
        return Ok(());
    }
    let mut flags: std::ffi::c_uint = 0;
    // SAFETY: queries HDF5's own object copy property list. With external links expanded, the
    // copy holds no link-form split datasets (their objects were copied); virtual ones it may.
    unsafe { crate::ffi::sys::h5p::H5Pget_copy_object(ocpypl, &mut flags) };
    let dst_at = dst.at();
    match quietly(|| dst_at.object_type(dst.name, dxpl)).ok() {
        Some(0) => {}
        // A dataset: in the link form its copy followed the link and copied the object itself;
        // a virtual split dataset's copy still maps onto the source's split file.
        Some(1) => {
            let Some(target) = virtual_source_by_name(sctx, &dst_at, dst.name, dxpl) else { return Ok(()) };
            let (dctx, path) = copy_into_of(dst, &[], dxpl)?;
            let into = dctx.map_or(super::vcopy::Into::Inline, |c| super::vcopy::Into::Split(c, &path));
            let names = [dst.name.to_owned()];
            // SAFETY: the copy just made, in the destination file.
            let place = unsafe { super::vcopy::rebuild(sctx, &dst_at, &names, &target, into, ocpypl, dxpl) };
            if let Err(e) = place {
                let _ = quietly(|| dst_at.delete_link(dst.name, dxpl)); // nothing half-made stays
                return Err(e);
            }
            dst_at.flush(dxpl);
            return Ok(());
        }
        _ => return Ok(()),
    }
    // The copied links are written as the source wrote them: resolve them as the source does.
    let links = quietly(|| split_links_under(sctx, &dst_at, dst.name, dxpl))?;
    if links.is_empty() {
        return Ok(());
    }
    let mut made = Vec::new();
    let result = relink_copy(src, dst, &links, ocpypl, dxpl, &mut made);
    if let Err(e) = result {
        // Nothing half-made stays: the copy goes, and so do the files made for it.
        let _ = quietly(|| dst_at.delete_link(dst.name, dxpl));
        for place in made {
            place.remove();
        }
        return Err(e);
    }
    dst_at.flush(dxpl); // durability, as for H5Dcreate2
    trace!("copy {} made independent of its source ({} split link(s))", dst.name.to_string_lossy(), links.len());
    Ok(())
}

/// What a copied link now leads to: a new split file (its target) or the path of the first copy
/// of its dataset in a file that is not split.
enum Made {
    Split(Arc<str>),
    Inline(CString),
}

/// Where the data of a copied virtual split dataset at `name` below `dst` goes: a split file of
/// the destination when it splits that path, else into the destination file.
fn copy_into_of<'a>(dst: CopySide<'a>, name: &[u8], dxpl: hid_t) -> Result<(Option<&'a FileCtx>, Vec<u8>)> {
    let dst_at = dst.at();
    let mut path = absolute_path(&dst_at, dst.name.to_bytes(), dxpl)?.unwrap_or_default();
    if !name.is_empty() {
        path.push(b'/');
        path.extend_from_slice(name);
    }
    let dctx = dst.obj.ctx.as_deref().filter(|c| {
        !c.read_only
            && c.policy.split
            && c.holds(&dst_at, dst.name.to_bytes(), dxpl)
            && c.policy.decide(&path, u64::MAX).is_ok()
    });
    Ok((dctx, path))
}

/// The copied virtual split datasets among `links` (all below `dst`), each rebuilt over its own
/// data once, with every name it has in the copy (see `vcopy::rebuild`).
fn rebuild_virtual(
    sctx: &FileCtx,
    dst: CopySide,
    links: &[&SplitLink],
    ocpypl: hid_t,
    dxpl: hid_t,
    made: &mut Vec<Place>,
) -> Result<()> {
    let dst_at = dst.at();
    let mut objects: BTreeMap<Arc<str>, Vec<&SplitLink>> = BTreeMap::new();
    for l in links {
        objects.entry(l.target.clone()).or_default().push(l);
    }
    for (target, names) in objects {
        let full: Vec<CString> = names.iter().map(|l| join(dst.name.to_bytes(), &l.name)).collect::<Result<_>>()?;
        let (dctx, path) = copy_into_of(dst, &names[0].name, dxpl)?;
        let into = dctx.map_or(super::vcopy::Into::Inline, |c| super::vcopy::Into::Split(c, &path));
        // SAFETY: the copy just made, in the destination file.
        if let Some(place) = unsafe { super::vcopy::rebuild(sctx, &dst_at, &full, &target, into, ocpypl, dxpl) }? {
            made.push(place);
        }
    }
    Ok(())
}

fn relink_copy(
    src: CopySide,
    dst: CopySide,
    links: &[SplitLink],
    ocpypl: hid_t,
    dxpl: hid_t,
    made: &mut Vec<Place>,
) -> Result<()> {
    let (virtual_links, links): (Vec<&SplitLink>, Vec<&SplitLink>) =
        links.iter().partition(|l| l.form == crate::policy::Form::Virtual);
    if let Some(sctx) = src.obj.ctx.as_ref().filter(|_| !virtual_links.is_empty()) {
        // By group, as below.
        let mut by_group: BTreeMap<Vec<u8>, Vec<&SplitLink>> = BTreeMap::new();
        for l in &virtual_links {
            let cut = l.name.iter().rposition(|b| *b == b'/').unwrap_or(0);
            by_group.entry(l.name[..cut].to_vec()).or_default().push(l);
        }
        for (group, members) in by_group {
            let group_name = join(dst.name.to_bytes(), &group)?;
            crate::split::order::keep_order(&dst.at(), &group_name, dxpl, || {
                rebuild_virtual(sctx, dst, &members, ocpypl, dxpl, made)
            })?;
        }
    }
    let dst_at = dst.at();
    let vol = dst.obj.under_vol_id;
    let dctx =
        dst.obj.ctx.as_ref().filter(|c| !c.read_only && c.policy.split && c.holds(&dst_at, dst.name.to_bytes(), dxpl));
    let base = absolute_path(&dst_at, dst.name.to_bytes(), dxpl)?.unwrap_or_default();
    // By group, each group's links edited inside `keep_order`.
    let mut by_group: BTreeMap<Vec<u8>, Vec<&SplitLink>> = BTreeMap::new();
    for l in links {
        let cut = l.name.iter().rposition(|b| *b == b'/').unwrap_or(0);
        by_group.entry(l.name[..cut].to_vec()).or_default().push(l);
    }
    let mut copies: HashMap<Arc<str>, Made> = HashMap::new();
    for (group, members) in by_group {
        let group_name = join(dst.name.to_bytes(), &group)?;
        crate::split::order::keep_order(&dst_at, &group_name, dxpl, || {
            for l in &members {
                if let Some(other) = src.obj.ctx.as_ref().and_then(|c| c.shadowing(&l.target)) {
                    return Err(shadowed(&l.name, &l.target, &other));
                }
                let dst_name = join(dst.name.to_bytes(), &l.name)?;
                let src_name = join(src.name.to_bytes(), &l.name)?;
                let from = Source { obj: src.obj.under_object, loc: src.loc, name: &src_name };
                let mut path = base.clone();
                path.push(b'/');
                path.extend_from_slice(&l.name);
                let to_split = dctx.filter(|c| c.policy.decide(&path, u64::MAX).is_ok());
                match (copies.get(&l.target), to_split) {
                    (Some(Made::Split(target)), Some(_)) => replace_link(&dst_at, &dst_name, target, dxpl)?,
                    (Some(Made::Inline(first)), _) => {
                        dst_at.delete_link(&dst_name, dxpl)?;
                        dst_at.create_hard_link(&dst_name, dst_at.obj, dst_at.loc_by_name(first), dxpl).map_err(
                            |_| {
                                Error::library(format!(
                                    "cannot link {} to {}",
                                    dst_name.to_string_lossy(),
                                    first.to_string_lossy()
                                ))
                            },
                        )?;
                    }
                    (_, Some(dctx)) => {
                        let mut place = Place::prepare(dctx, &path)?;
                        // SAFETY: the source dataset, through its link in the source group.
                        let copied = unsafe { place.copy_into(dctx, vol, from, ocpypl, false, dxpl) };
                        let target: Arc<str> = Arc::from(place.target(dctx));
                        made.push(place);
                        copied?;
                        replace_link(&dst_at, &dst_name, &target, dxpl)?;
                        copies.insert(l.target.clone(), Made::Split(target));
                    }
                    (_, None) => {
                        dst_at.delete_link(&dst_name, dxpl)?;
                        // SAFETY: copies the source dataset into place, with HDF5's own properties.
                        let rc = unsafe {
                            ffi::H5VLobject_copy(
                                from.obj,
                                from.loc,
                                from.name.as_ptr(),
                                dst_at.obj,
                                &dst_at.loc_self(),
                                dst_name.as_ptr(),
                                vol,
                                ocpypl,
                                crate::below::default_lcpl(),
                                dxpl,
                                std::ptr::null_mut(),
                            )
                        };
                        if rc < 0 {
                            return Err(Error::library(format!(
                                "cannot copy {} to {}",
                                src_name.to_string_lossy(),
                                dst_name.to_string_lossy()
                            )));
                        }
                        copies.insert(l.target.clone(), Made::Inline(dst_name));
                    }
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}
