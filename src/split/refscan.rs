//! Where the references sit in a buffer of values in memory form: object references
//! (`hobj_ref_t`) and new-style ones (`H5R_ref_t`), also inside compounds, arrays and
//! variable-length sequences, for the values an I/O call uses (all, or a selection's).

use std::ffi::c_void;

use crate::ffi::sys::h5t::{
    H5T_class_t, H5Tget_array_dims2, H5Tget_array_ndims, H5Tget_class, H5Tget_member_offset, H5Tget_member_type,
    H5Tget_nmembers, H5Tget_size, H5Tget_super,
};

use super::IdGuard;
use crate::error::{Error, Result};
use crate::ffi::hid_t;

/// Where the references sit in one value of a datatype.
#[derive(Debug)]
enum Slot {
    /// An object reference (`hobj_ref_t`, an address) at this offset.
    Obj(usize),
    /// A new-style reference (`H5R_ref_t`) at this offset.
    New(usize),
    /// A variable-length sequence (`hvl_t`) at this offset of values of the inner shape.
    Vlen(usize, Shape),
    /// An array at this offset of this many values of the inner shape.
    Array(usize, usize, Shape),
}

/// The references in one value of a datatype: its size and where they are.
#[derive(Debug)]
pub struct Shape {
    size: usize,
    slots: Vec<Slot>,
}

/// The memory size of `hobj_ref_t` and of `H5R_ref_t` (`H5R_REF_BUF_SIZE`).
const OBJ_REF_SIZE: usize = 8;
const NEW_REF_SIZE: usize = 64;

/// The shape of `type_id`'s values, or None when they hold no references that can be checked
/// (old region references point into a heap, not at the object: not checked).
///
/// # Safety
/// `type_id` must be a valid datatype id.
pub unsafe fn shape_of(type_id: hid_t) -> Option<Shape> {
    // SAFETY: a valid datatype id, by the contract above.
    let (class, size) = unsafe { (H5Tget_class(type_id), H5Tget_size(type_id)) };
    let mut slots = Vec::new();
    match class {
        H5T_class_t::H5T_REFERENCE if size == OBJ_REF_SIZE => slots.push(Slot::Obj(0)),
        H5T_class_t::H5T_REFERENCE if size == NEW_REF_SIZE => slots.push(Slot::New(0)),
        H5T_class_t::H5T_COMPOUND => {
            // SAFETY: as above.
            for i in 0..u32::try_from(unsafe { H5Tget_nmembers(type_id) }).unwrap_or(0) {
                // SAFETY: as above, a member index in range; the member's type is ours to close.
                let (member, offset) =
                    unsafe { (IdGuard(H5Tget_member_type(type_id, i)), H5Tget_member_offset(type_id, i)) };
                if member.0 < 0 {
                    continue;
                }
                // SAFETY: a valid datatype id.
                if let Some(inner) = unsafe { shape_of(member.0) } {
                    slots.extend(inner.slots.into_iter().map(|s| shift(s, offset)));
                }
            }
        }
        H5T_class_t::H5T_VLEN | H5T_class_t::H5T_ARRAY => {
            // SAFETY: as above; the base type is ours to close.
            let base = IdGuard(unsafe { H5Tget_super(type_id) });
            // SAFETY: a valid datatype id.
            let inner = unsafe { shape_of(base.0) }?;
            if class == H5T_class_t::H5T_VLEN {
                slots.push(Slot::Vlen(0, inner));
            } else {
                // SAFETY: an array type; `dims` has room for HDF5's maximum rank (32).
                let rank = unsafe { H5Tget_array_ndims(type_id) };
                let mut dims = [0u64; 32];
                let n = match usize::try_from(rank) {
                    // SAFETY: as above.
                    Ok(r) if r <= 32 && unsafe { H5Tget_array_dims2(type_id, dims.as_mut_ptr()) } >= 0 => {
                        dims[..r].iter().product::<u64>() as usize
                    }
                    _ => return None,
                };
                slots.push(Slot::Array(0, n, inner));
            }
        }
        _ => {}
    }
    (!slots.is_empty()).then_some(Shape { size, slots })
}

fn shift(slot: Slot, by: usize) -> Slot {
    match slot {
        Slot::Obj(o) => Slot::Obj(o + by),
        Slot::New(o) => Slot::New(o + by),
        Slot::Vlen(o, s) => Slot::Vlen(o + by, s),
        Slot::Array(o, n, s) => Slot::Array(o + by, n, s),
    }
}

/// One reference found in a buffer.
pub enum Ref {
    Obj(u64),
    New(*const c_void),
}

/// Calls `f` with every reference in the value of shape `shape` at `value`.
///
/// # Safety
/// `value` must point at a whole, initialised value of the datatype `shape` was made from, in
/// memory form (`hvl_t` of valid sequences).
unsafe fn visit(shape: &Shape, value: *const u8, f: &mut dyn FnMut(Ref)) {
    for slot in &shape.slots {
        match slot {
            // SAFETY: an `hobj_ref_t` inside the value, by the contract above.
            Slot::Obj(o) => f(Ref::Obj(unsafe { value.add(*o).cast::<u64>().read_unaligned() })),
            // SAFETY: an `H5R_ref_t` inside the value.
            Slot::New(o) => f(Ref::New(unsafe { value.add(*o) }.cast())),
            Slot::Vlen(o, inner) => {
                // SAFETY: an `hvl_t { size_t len; void *p; }` inside the value.
                let (len, p) = unsafe {
                    let at = value.add(*o);
                    (
                        at.cast::<usize>().read_unaligned(),
                        at.add(size_of::<usize>()).cast::<*const u8>().read_unaligned(),
                    )
                };
                if !p.is_null() {
                    for i in 0..len {
                        // SAFETY: the sequence holds `len` values of the inner type.
                        unsafe { visit(inner, p.add(i * inner.size), f) };
                    }
                }
            }
            Slot::Array(o, n, inner) => {
                for i in 0..*n {
                    // SAFETY: the array holds `n` values of the inner type.
                    unsafe { visit(inner, value.add(o + i * inner.size), f) };
                }
            }
        }
    }
}

/// Which values of a buffer an I/O call uses.
#[derive(Debug)]
pub enum Values {
    /// The first n, one after the other.
    First(usize),
    /// Those a dataspace's selection picks (an id the caller keeps open).
    Selected(hid_t),
}

/// Calls `f` with every reference in the values of `buf` that `values` picks.
///
/// # Safety
/// `buf` must hold the values `values` describes, of datatype `shape` in memory form.
pub unsafe fn each_ref(shape: &Shape, buf: *const u8, values: &Values, f: &mut dyn FnMut(Ref)) -> Result<()> {
    match *values {
        Values::First(n) => {
            for i in 0..n {
                // SAFETY: by the contract above.
                unsafe { visit(shape, buf.add(i * shape.size), f) };
            }
        }
        Values::Selected(space) => {
            use crate::ffi::sys::h5s::{H5Ssel_iter_close, H5Ssel_iter_create, H5Ssel_iter_get_seq_list};
            // SAFETY: a valid dataspace; the iterator is closed below.
            let iter = unsafe { H5Ssel_iter_create(space, shape.size, 0) };
            if iter < 0 {
                return Err(Error::library("cannot iterate over a selection"));
            }
            let (mut offs, mut lens) = ([0u64; 64], [0usize; 64]);
            loop {
                let (mut nseq, mut nbytes) = (0usize, 0usize);
                // SAFETY: arrays of 64 entries each, as told.
                let rc = unsafe {
                    H5Ssel_iter_get_seq_list(
                        iter,
                        64,
                        usize::MAX,
                        &mut nseq,
                        &mut nbytes,
                        offs.as_mut_ptr(),
                        lens.as_mut_ptr(),
                    )
                };
                if rc < 0 || nseq == 0 {
                    break;
                }
                for (off, len) in offs[..nseq].iter().zip(&lens[..nseq]) {
                    for i in 0..len / shape.size {
                        // SAFETY: a selected value of the buffer, by the contract above.
                        unsafe { visit(shape, buf.add(*off as usize + i * shape.size), f) };
                    }
                }
            }
            // SAFETY: the iterator made above.
            unsafe { H5Ssel_iter_close(iter) };
        }
    }
    Ok(())
}
