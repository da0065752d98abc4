//! The HDF5 functions of the ordinary API the connector calls, bound at run time (see `bind`):
//! one module per `hdf5-sys` module, re-exporting its types and constants, its functions and id
//! variables shadowed by bound ones of the same name (a local item wins over a glob import), so
//! `crate::ffi::sys::h5p::H5Pcreate` is `hdf5_sys::h5p::H5Pcreate` called through the binding.
//! Signatures as `hdf5-sys` declares them (HDF5's C API).
#![allow(non_snake_case, non_upper_case_globals, unused_imports)]

pub mod h5 {
    pub use hdf5_sys::h5::*;
    use hdf5_sys::h5::*;
    use hdf5_sys::h5i::hid_t;
    use libc::{size_t, ssize_t};
    use std::ffi::{c_char, c_int, c_uint, c_void};

    crate::bind! {
        h5;
        pub fn H5allocate_memory(size: size_t, clear: hbool_t) -> *mut c_void;
        pub fn H5free_memory(mem: *mut c_void) -> herr_t;
        pub fn H5garbage_collect() -> herr_t;
        pub fn H5get_libversion(majnum: *mut c_uint, minnum: *mut c_uint, relnum: *mut c_uint,) -> herr_t;
        pub fn H5open() -> herr_t;
    }
}

pub mod h5a {
    use hdf5_sys::h5::*;
    pub use hdf5_sys::h5a::*;
    use hdf5_sys::h5i::hid_t;
    use libc::{size_t, ssize_t};
    use std::ffi::{c_char, c_int, c_uint, c_void};

    crate::bind! {
        h5a;
        pub fn H5Adelete(loc_id: hid_t, attr_name: *const c_char) -> herr_t;
        pub fn H5Aexists(obj_id: hid_t, attr_name: *const c_char) -> htri_t;
        pub fn H5Aget_name(attr_id: hid_t, buf_size: size_t, buf: *mut c_char) -> ssize_t;
        pub fn H5Acreate2(loc_id: hid_t, attr_name: *const c_char, type_id: hid_t, space_id: hid_t, acpl_id: hid_t, aapl_id: hid_t,) -> hid_t;
        pub fn H5Aget_create_plist(attr_id: hid_t) -> hid_t;
        pub fn H5Aget_info(attr_id: hid_t, ainfo: *mut H5A_info_t) -> herr_t;
        pub fn H5Aget_space(attr_id: hid_t) -> hid_t;
        pub fn H5Aget_type(attr_id: hid_t) -> hid_t;
        pub fn H5Aiterate2(loc_id: hid_t, idx_type: H5_index_t, order: H5_iter_order_t, idx: *mut hsize_t, op: H5A_operator2_t, op_data: *mut c_void,) -> herr_t;
        pub fn H5Aiterate_by_name(loc_id: hid_t, obj_name: *const c_char, idx_type: H5_index_t, order: H5_iter_order_t, idx: *mut hsize_t, op: H5A_operator2_t, op_data: *mut c_void, lapd_id: hid_t,) -> herr_t;
        pub fn H5Aopen(obj_id: hid_t, attr_name: *const c_char, aapl_id: hid_t) -> hid_t;
        pub fn H5Aread(attr_id: hid_t, type_id: hid_t, buf: *mut c_void) -> herr_t;
        pub fn H5Awrite(attr_id: hid_t, type_id: hid_t, buf: *const c_void) -> herr_t;
    }
}

pub mod h5d {
    use hdf5_sys::h5::*;
    pub use hdf5_sys::h5d::*;
    use hdf5_sys::h5i::hid_t;
    use libc::{size_t, ssize_t};
    use std::ffi::{c_char, c_int, c_uint, c_void};

    crate::bind! {
        h5d;
        pub fn H5Dcreate2(loc_id: hid_t, name: *const c_char, type_id: hid_t, space_id: hid_t, lcpl_id: hid_t, dcpl_id: hid_t, dapl_id: hid_t,) -> hid_t;
        pub fn H5Dget_offset(dset_id: hid_t) -> haddr_t;
        pub fn H5Dclose(dset_id: hid_t) -> herr_t;
        pub fn H5Dcreate_anon(file_id: hid_t, type_id: hid_t, space_id: hid_t, plist_id: hid_t, dapl_id: hid_t,) -> hid_t;
        pub fn H5Dget_create_plist(dset_id: hid_t) -> hid_t;
        pub fn H5Dget_space(dset_id: hid_t) -> hid_t;
        pub fn H5Dget_storage_size(dset_id: hid_t) -> hsize_t;
        pub fn H5Dget_type(dset_id: hid_t) -> hid_t;
        pub fn H5Dopen2(file_id: hid_t, name: *const c_char, dapl_id: hid_t) -> hid_t;
        pub fn H5Dread(dset_id: hid_t, mem_type_id: hid_t, mem_space_id: hid_t, file_space_id: hid_t, plist_id: hid_t, buf: *mut c_void,) -> herr_t;
        pub fn H5Dwrite(dset_id: hid_t, mem_type_id: hid_t, mem_space_id: hid_t, file_space_id: hid_t, plist_id: hid_t, buf: *const c_void,) -> herr_t;
    }
}

pub mod h5e {
    use hdf5_sys::h5::*;
    pub use hdf5_sys::h5e::*;
    use hdf5_sys::h5i::hid_t;
    use libc::{size_t, ssize_t};
    use std::ffi::{c_char, c_int, c_uint, c_void};

    /// `H5Epush2` is variadic: bound apart, called with one argument for its format.
    ///
    /// # Safety
    /// As `H5Epush2`, with `msg` a format taking one string, `arg`.
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn H5Epush2(
        err_stack: hid_t,
        file: *const c_char,
        func: *const c_char,
        line: c_uint,
        cls_id: hid_t,
        maj_id: hid_t,
        min_id: hid_t,
        msg: *const c_char,
        arg: *const c_char,
    ) -> herr_t {
        let push = crate::ffi::bind::api().series.push2;
        match push {
            // SAFETY: the caller upholds `H5Epush2`'s contract; `arg` fills the format's one `%s`.
            Some(f) => unsafe { f(err_stack, file, func, line, cls_id, maj_id, min_id, msg, arg) },
            None => -1,
        }
    }

    crate::bind! {
        h5e;
        pub fn H5Eappend_stack(dst_stack_id: hid_t, src_stack_id: hid_t, close_source_stack: hbool_t,) -> herr_t;
        pub fn H5Eauto_is_v2(err_stack: hid_t, is_stack: *mut c_uint) -> herr_t;
        pub fn H5Eclear2(err_stack: hid_t) -> herr_t;
        pub fn H5Eclose_msg(err_id: hid_t) -> herr_t;
        pub fn H5Eclose_stack(stack_id: hid_t) -> herr_t;
        pub fn H5Ecreate_msg(cls: hid_t, msg_type: H5E_type_t, msg: *const c_char) -> hid_t;
        pub fn H5Eget_auto2(estack_id: hid_t, func: *mut H5E_auto2_t, client_data: *mut *mut c_void,) -> herr_t;
        pub fn H5Eget_current_stack() -> hid_t;
        pub fn H5Eget_num(error_stack_id: hid_t) -> ssize_t;
        pub fn H5Eprint2(err_stack: hid_t, stream: *mut libc::FILE) -> herr_t;
        pub fn H5Eregister_class(cls_name: *const c_char, lib_name: *const c_char, version: *const c_char,) -> hid_t;
        pub fn H5Eset_auto2(estack_id: hid_t, func: H5E_auto2_t, client_data: *mut c_void,) -> herr_t;
        pub fn H5Eset_current_stack(err_stack_id: hid_t) -> herr_t;
        pub fn H5Eunregister_class(class_id: hid_t) -> herr_t;
        pub fn H5Ewalk2(err_stack: hid_t, direction: H5E_direction_t, func: H5E_walk2_t, client_data: *mut c_void,) -> herr_t;
    }
}

pub mod h5f {
    use hdf5_sys::h5::*;
    pub use hdf5_sys::h5f::*;
    use hdf5_sys::h5i::hid_t;
    use libc::{size_t, ssize_t};
    use std::ffi::{c_char, c_int, c_uint, c_void};

    crate::bind! {
        h5f;
        pub fn H5Fclose(file_id: hid_t) -> herr_t;
        pub fn H5Fcreate(filename: *const c_char, flags: c_uint, create_plist: hid_t, access_plist: hid_t,) -> hid_t;
        pub fn H5Fflush(object_id: hid_t, scope: H5F_scope_t) -> herr_t;
        pub fn H5Fget_create_plist(file_id: hid_t) -> hid_t;
        pub fn H5Fget_info2(obj_id: hid_t, finfo: *mut H5F_info2_t) -> herr_t;
        pub fn H5Fopen(filename: *const c_char, flags: c_uint, access_plist: hid_t) -> hid_t;
    }
}

pub mod h5g {
    use hdf5_sys::h5::*;
    pub use hdf5_sys::h5g::*;
    use hdf5_sys::h5i::hid_t;
    use libc::{size_t, ssize_t};
    use std::ffi::{c_char, c_int, c_uint, c_void};

    crate::bind! {
        h5g;
        pub fn H5Gcreate2(loc_id: hid_t, name: *const c_char, lcpl_id: hid_t, gcpl_id: hid_t, gapl_id: hid_t,) -> hid_t;
        pub fn H5Gget_create_plist(group_id: hid_t) -> hid_t;
        pub fn H5Gopen2(loc_id: hid_t, name: *const c_char, gapl_id: hid_t) -> hid_t;
    }
}

pub mod h5i {
    use hdf5_sys::h5::*;
    pub use hdf5_sys::h5i::*;
    use libc::{size_t, ssize_t};
    use std::ffi::{c_char, c_int, c_uint, c_void};

    crate::bind! {
        h5i;
        pub fn H5Idec_ref(id: hid_t) -> c_int;
        pub fn H5Iinc_ref(id: hid_t) -> c_int;
        pub fn H5Iiterate(type_: H5I_type_t, op: H5I_iterate_func_t, op_data: *mut c_void,) -> herr_t;
    }
}

pub mod h5l {
    use hdf5_sys::h5::*;
    use hdf5_sys::h5i::hid_t;
    pub use hdf5_sys::h5l::*;
    use libc::{size_t, ssize_t};
    use std::ffi::{c_char, c_int, c_uint, c_void};

    crate::bind! {
        h5l;
        pub fn H5Lcreate_soft(link_target: *const c_char, link_loc_id: hid_t, link_name: *const c_char, lcpl_id: hid_t, lapl_id: hid_t,) -> herr_t;
        pub fn H5Lget_val(loc_id: hid_t, name: *const c_char, buf: *mut c_void, size: size_t, lapl_id: hid_t,) -> herr_t;
        pub fn H5Lvisit2(grp_id: hid_t, idx_type: H5_index_t, order: H5_iter_order_t, op: H5L_iterate2_t, op_data: *mut c_void,) -> herr_t;
        pub fn H5Lcreate_external(file_name: *const c_char, obj_name: *const c_char, link_loc_id: hid_t, link_name: *const c_char, lcpl_id: hid_t, lapl_id: hid_t,) -> herr_t;
        pub fn H5Lcreate_hard(cur_loc: hid_t, cur_name: *const c_char, dst_loc: hid_t, dst_name: *const c_char, lcpl_id: hid_t, lapl_id: hid_t,) -> herr_t;
        pub fn H5Lexists(loc_id: hid_t, name: *const c_char, lapl_id: hid_t) -> htri_t;
        pub fn H5Ldelete(loc_id: hid_t, name: *const c_char, lapl_id: hid_t) -> herr_t;
        pub fn H5Lget_info2(loc_id: hid_t, name: *const c_char, linfo: *mut H5L_info2_t, lapl_id: hid_t,) -> herr_t;
        pub fn H5Literate2(grp_id: hid_t, idx_type: H5_index_t, order: H5_iter_order_t, idx: *mut hsize_t, op: H5L_iterate2_t, op_data: *mut c_void,) -> herr_t;
        pub fn H5Lmove(src_loc: hid_t, src_name: *const c_char, dst_loc: hid_t, dst_name: *const c_char, lcpl_id: hid_t, lapl_id: hid_t,) -> herr_t;
        pub fn H5Lunpack_elink_val(ext_linkval: *const c_void, link_size: size_t, flags: *mut c_uint, filename: *mut *const c_char, obj_path: *mut *const c_char,) -> herr_t;
    }
}

pub mod h5o {
    use hdf5_sys::h5::*;
    use hdf5_sys::h5i::hid_t;
    pub use hdf5_sys::h5o::*;
    use libc::{size_t, ssize_t};
    use std::ffi::{c_char, c_int, c_uint, c_void};

    crate::bind! {
        h5o;
        pub fn H5Oopen_by_token(loc_id: hid_t, token: H5O_token_t) -> hid_t;
        pub fn H5Oget_info_by_name3(loc_id: hid_t, name: *const c_char, oinfo: *mut H5O_info2_t, fields: c_uint, lapl_id: hid_t,) -> herr_t;
        pub fn H5Ocopy(src_loc_id: hid_t, src_name: *const c_char, dst_loc_id: hid_t, dst_name: *const c_char, ocpypl_id: hid_t, lcpl_id: hid_t,) -> herr_t;
        pub fn H5Oget_info3(loc_id: hid_t, oinfo: *mut H5O_info2_t, fields: c_uint) -> herr_t;
        pub fn H5Olink(obj_id: hid_t, new_loc_id: hid_t, new_name: *const c_char, lcpl_id: hid_t, lapl_id: hid_t,) -> herr_t;
        pub fn H5Oopen(loc_id: hid_t, name: *const c_char, lapl_id: hid_t) -> hid_t;
        pub fn H5Ovisit3(obj_id: hid_t, idx_type: H5_index_t, order: H5_iter_order_t, op: H5O_iterate2_t, op_data: *mut c_void, fields: c_uint,) -> herr_t;
    }
}

pub mod h5p {
    use hdf5_sys::h5::*;
    use hdf5_sys::h5d::H5D_layout_t;
    use hdf5_sys::h5f::H5F_libver_t;
    use hdf5_sys::h5i::hid_t;
    pub use hdf5_sys::h5p::*;
    use hdf5_sys::h5t::H5T_cset_t;
    use hdf5_sys::h5z::H5Z_filter_t;
    use libc::{size_t, ssize_t};
    use std::ffi::{c_char, c_int, c_uint, c_void};

    crate::bind! {
        h5p;
        pub fn H5Pset_alloc_time(plist_id: hid_t, alloc_time: hdf5_sys::h5d::H5D_alloc_time_t) -> herr_t;
        pub fn H5Pset_meta_block_size(fapl_id: hid_t, size: hsize_t) -> herr_t;
        pub fn H5Pget_virtual_vspace(dcpl_id: hid_t, index: size_t) -> hid_t;
        pub fn H5Pget_virtual_srcspace(dcpl_id: hid_t, index: size_t) -> hid_t;
        pub fn H5Pset_layout(plist_id: hid_t, layout: H5D_layout_t) -> herr_t;
        pub fn H5Pget_layout(plist_id: hid_t) -> H5D_layout_t;
        pub fn H5Pset_chunk(plist_id: hid_t, ndims: c_int, dim: *const hsize_t) -> herr_t;
        pub fn H5Pset_deflate(plist_id: hid_t, aggression: c_uint) -> herr_t;
        pub fn H5Pset_fill_time(plist_id: hid_t, fill_time: hdf5_sys::h5d::H5D_fill_time_t) -> herr_t;
        pub fn H5Pclose(plist_id: hid_t) -> herr_t;
        pub fn H5Pcopy(plist_id: hid_t) -> hid_t;
        pub fn H5Pcreate(cls_id: hid_t) -> hid_t;
        pub fn H5Pget_attr_creation_order(plist_id: hid_t, crt_order_flags: *mut c_uint,) -> herr_t;
        pub fn H5Pget_attr_phase_change(plist_id: hid_t, max_compact: *mut c_uint, min_dense: *mut c_uint,) -> herr_t;
        pub fn H5Pget_copy_object(plist_id: hid_t, crt_intmd: *mut c_uint) -> herr_t;
        pub fn H5Pget_create_intermediate_group(plist_id: hid_t, crt_intmd: *mut c_uint,) -> herr_t;
        pub fn H5Pget_driver(plist_id: hid_t) -> hid_t;
        pub fn H5Pget_elink_file_cache_size(plist_id: hid_t, efc_size: *mut c_uint) -> herr_t;
        pub fn H5Pget_est_link_info(plist_id: hid_t, est_num_entries: *mut c_uint, est_name_len: *mut c_uint,) -> herr_t;
        pub fn H5Pget_external_count(plist_id: hid_t) -> c_int;
        pub fn H5Pget_fapl_core(fapl_id: hid_t, increment: *mut size_t, backing_store: *mut hbool_t,) -> herr_t;
        pub fn H5Pget_link_creation_order(plist_id: hid_t, crt_order_flags: *mut c_uint,) -> herr_t;
        pub fn H5Pget_link_phase_change(plist_id: hid_t, max_compact: *mut c_uint, min_dense: *mut c_uint,) -> herr_t;
        pub fn H5Pget_nfilters(plist_id: hid_t) -> c_int;
        pub fn H5Pget_obj_track_times(plist_id: hid_t, track_times: *mut hbool_t) -> herr_t;
        pub fn H5Pget_userblock(plist_id: hid_t, size: *mut hsize_t) -> herr_t;
        pub fn H5Pget_virtual_count(dcpl_id: hid_t, count: *mut size_t) -> herr_t;
        pub fn H5Pget_virtual_dsetname(dcpl_id: hid_t, index: size_t, name: *mut c_char, size: size_t,) -> ssize_t;
        pub fn H5Pget_virtual_filename(dcpl_id: hid_t, index: size_t, name: *mut c_char, size: size_t,) -> ssize_t;
        pub fn H5Pget_vol_info(plist_id: hid_t, vol_info: *mut *mut c_void) -> herr_t;
        pub fn H5Premove_filter(plist_id: hid_t, filter: H5Z_filter_t) -> herr_t;
        pub fn H5Pset_attr_creation_order(plist_id: hid_t, crt_order_flags: c_uint) -> herr_t;
        pub fn H5Pset_attr_phase_change(plist_id: hid_t, max_compact: c_uint, min_dense: c_uint,) -> herr_t;
        pub fn H5Pset_char_encoding(plist_id: hid_t, encoding: H5T_cset_t) -> herr_t;
        pub fn H5Pset_copy_object(plist_id: hid_t, crt_intmd: c_uint) -> herr_t;
        pub fn H5Pset_elink_file_cache_size(plist_id: hid_t, efc_size: c_uint) -> herr_t;
        pub fn H5Pset_est_link_info(plist_id: hid_t, est_num_entries: c_uint, est_name_len: c_uint,) -> herr_t;
        pub fn H5Pset_fapl_core(fapl_id: hid_t, increment: size_t, backing_store: hbool_t,) -> herr_t;
        pub fn H5Pset_fapl_sec2(fapl_id: hid_t) -> herr_t;
        pub fn H5Pset_fapl_stdio(fapl_id: hid_t) -> herr_t;
        pub fn H5Pset_libver_bounds(plist_id: hid_t, low: H5F_libver_t, high: H5F_libver_t,) -> herr_t;
        pub fn H5Pset_link_creation_order(plist_id: hid_t, crt_order_flags: c_uint) -> herr_t;
        pub fn H5Pset_link_phase_change(plist_id: hid_t, max_compact: c_uint, min_dense: c_uint,) -> herr_t;
        pub fn H5Pset_obj_track_times(plist_id: hid_t, track_times: hbool_t) -> herr_t;
        pub fn H5Pset_userblock(plist_id: hid_t, size: hsize_t) -> herr_t;
        pub fn H5Pset_virtual(dcpl_id: hid_t, vspace_id: hid_t, src_file_name: *const c_char, src_dset_name: *const c_char, src_space_id: hid_t,) -> herr_t;
        pub fn H5Pset_vol(plist_id: hid_t, new_vol_id: hid_t, new_vol_info: *const c_void,) -> herr_t;
        static H5P_CLS_ATTRIBUTE_CREATE_ID_g;
        static H5P_CLS_FILE_ACCESS_ID_g;
        static H5P_CLS_FILE_CREATE_ID_g;
        static H5P_CLS_GROUP_CREATE_ID_g;
        static H5P_CLS_LINK_CREATE_ID_g;
        static H5P_CLS_OBJECT_COPY_ID_g;
        static H5P_LST_DATASET_ACCESS_ID_g;
        static H5P_LST_DATASET_CREATE_ID_g;
        static H5P_LST_DATASET_XFER_ID_g;
        static H5P_LST_DATATYPE_CREATE_ID_g;
        static H5P_LST_GROUP_ACCESS_ID_g;
        static H5P_LST_GROUP_CREATE_ID_g;
        static H5P_LST_LINK_ACCESS_ID_g;
        static H5P_LST_LINK_CREATE_ID_g;
        static H5P_LST_OBJECT_COPY_ID_g;
    }
    pub static H5P_CLS_ATTRIBUTE_CREATE: crate::ffi::bind::Global =
        crate::ffi::bind::Global(|a| a.h5p.H5P_CLS_ATTRIBUTE_CREATE_ID_g);
    pub static H5P_CLS_FILE_ACCESS: crate::ffi::bind::Global =
        crate::ffi::bind::Global(|a| a.h5p.H5P_CLS_FILE_ACCESS_ID_g);
    pub static H5P_CLS_FILE_CREATE: crate::ffi::bind::Global =
        crate::ffi::bind::Global(|a| a.h5p.H5P_CLS_FILE_CREATE_ID_g);
    pub static H5P_CLS_GROUP_CREATE: crate::ffi::bind::Global =
        crate::ffi::bind::Global(|a| a.h5p.H5P_CLS_GROUP_CREATE_ID_g);
    pub static H5P_CLS_LINK_CREATE: crate::ffi::bind::Global =
        crate::ffi::bind::Global(|a| a.h5p.H5P_CLS_LINK_CREATE_ID_g);
    pub static H5P_CLS_OBJECT_COPY: crate::ffi::bind::Global =
        crate::ffi::bind::Global(|a| a.h5p.H5P_CLS_OBJECT_COPY_ID_g);
    pub static H5P_LST_DATASET_ACCESS: crate::ffi::bind::Global =
        crate::ffi::bind::Global(|a| a.h5p.H5P_LST_DATASET_ACCESS_ID_g);
    pub static H5P_LST_DATASET_CREATE: crate::ffi::bind::Global =
        crate::ffi::bind::Global(|a| a.h5p.H5P_LST_DATASET_CREATE_ID_g);
    pub static H5P_LST_DATASET_XFER: crate::ffi::bind::Global =
        crate::ffi::bind::Global(|a| a.h5p.H5P_LST_DATASET_XFER_ID_g);
    pub static H5P_LST_DATATYPE_CREATE: crate::ffi::bind::Global =
        crate::ffi::bind::Global(|a| a.h5p.H5P_LST_DATATYPE_CREATE_ID_g);
    pub static H5P_LST_GROUP_ACCESS: crate::ffi::bind::Global =
        crate::ffi::bind::Global(|a| a.h5p.H5P_LST_GROUP_ACCESS_ID_g);
    pub static H5P_LST_GROUP_CREATE: crate::ffi::bind::Global =
        crate::ffi::bind::Global(|a| a.h5p.H5P_LST_GROUP_CREATE_ID_g);
    pub static H5P_LST_LINK_ACCESS: crate::ffi::bind::Global =
        crate::ffi::bind::Global(|a| a.h5p.H5P_LST_LINK_ACCESS_ID_g);
    pub static H5P_LST_LINK_CREATE: crate::ffi::bind::Global =
        crate::ffi::bind::Global(|a| a.h5p.H5P_LST_LINK_CREATE_ID_g);
    pub static H5P_LST_OBJECT_COPY: crate::ffi::bind::Global =
        crate::ffi::bind::Global(|a| a.h5p.H5P_LST_OBJECT_COPY_ID_g);
}

pub mod h5r {
    use hdf5_sys::h5::*;
    use hdf5_sys::h5i::hid_t;
    pub use hdf5_sys::h5r::*;
    use libc::{size_t, ssize_t};
    use std::ffi::{c_char, c_int, c_uint, c_void};

    crate::bind! {
        h5r;
        pub fn H5Rdereference2(obj_id: hid_t, oapl_id: hid_t, ref_type: H5R_type_t, ref_: *const c_void,) -> hid_t;
        pub fn H5Rget_file_name(ref_ptr: *const H5R_ref_t, name: *mut c_char, size: size_t,) -> ssize_t;
        pub fn H5Ropen_object(ref_ptr: *const H5R_ref_t, rapl_id: hid_t, oapl_id: hid_t,) -> hid_t;
    }
}

pub mod h5s {
    use hdf5_sys::h5::*;
    use hdf5_sys::h5i::hid_t;
    pub use hdf5_sys::h5s::*;
    use libc::{size_t, ssize_t};
    use std::ffi::{c_char, c_int, c_uint, c_void};

    crate::bind! {
        h5s;
        pub fn H5Screate(type_: H5S_class_t) -> hid_t;
        pub fn H5Scopy(space_id: hid_t) -> hid_t;
        pub fn H5Screate_simple(rank: c_int, dims: *const hsize_t, maxdims: *const hsize_t,) -> hid_t;
        pub fn H5Sget_select_npoints(spaceid: hid_t) -> hssize_t;
        pub fn H5Sget_simple_extent_dims(space_id: hid_t, dims: *mut hsize_t, maxdims: *mut hsize_t,) -> c_int;
        pub fn H5Sget_simple_extent_ndims(space_id: hid_t) -> c_int;
        pub fn H5Sget_simple_extent_npoints(space_id: hid_t) -> hssize_t;
        pub fn H5Sget_simple_extent_type(space_id: hid_t) -> H5S_class_t;
        pub fn H5Ssel_iter_close(sel_iter_id: hid_t) -> herr_t;
        pub fn H5Ssel_iter_create(space_id: hid_t, elmt_size: size_t, flags: c_uint) -> hid_t;
        pub fn H5Ssel_iter_get_seq_list(sel_iter_id: hid_t, maxseq: size_t, maxbytes: size_t, nseq: *mut size_t, nbytes: *mut size_t, off: *mut hsize_t, len: *mut size_t,) -> herr_t;
        pub fn H5Sselect_all(spaceid: hid_t) -> herr_t;
        pub fn H5Sget_select_type(spaceid: hid_t) -> H5S_sel_type;
        pub fn H5Sis_regular_hyperslab(spaceid: hid_t) -> htri_t;
        pub fn H5Sget_regular_hyperslab(spaceid: hid_t, start: *mut hsize_t, stride: *mut hsize_t, count: *mut hsize_t, block: *mut hsize_t,) -> htri_t;
        pub fn H5Sselect_none(spaceid: hid_t) -> herr_t;
        pub fn H5Sselect_hyperslab(space_id: hid_t, op: H5S_seloper_t, start: *const hsize_t, _stride: *const hsize_t, count: *const hsize_t, _block: *const hsize_t,) -> herr_t;
    }
}

pub mod h5t {
    use hdf5_sys::h5::*;
    use hdf5_sys::h5i::hid_t;
    pub use hdf5_sys::h5t::*;
    use libc::{size_t, ssize_t};
    use std::ffi::{c_char, c_int, c_uint, c_void};

    crate::bind! {
        h5t;
        pub fn H5Tcreate(type_: H5T_class_t, size: size_t) -> hid_t;
        pub fn H5Tcopy(type_id: hid_t) -> hid_t;
        pub fn H5Tinsert(parent_id: hid_t, name: *const c_char, offset: size_t, member_id: hid_t,) -> herr_t;
        pub fn H5Tget_order(type_id: hid_t) -> H5T_order_t;
        pub fn H5Tget_sign(type_id: hid_t) -> H5T_sign_t;
        pub fn H5Tget_cset(type_id: hid_t) -> H5T_cset_t;
        pub fn H5Tset_cset(type_id: hid_t, cset: H5T_cset_t) -> herr_t;
        pub fn H5Tset_size(type_id: hid_t, size: size_t) -> herr_t;
        pub fn H5Tdetect_class(type_id: hid_t, cls: H5T_class_t) -> htri_t;
        pub fn H5Tcommitted(type_id: hid_t) -> htri_t;
        pub fn H5Tequal(type1_id: hid_t, type2_id: hid_t) -> htri_t;
        pub fn H5Tget_array_dims2(type_id: hid_t, dims: *mut hsize_t) -> c_int;
        pub fn H5Tget_array_ndims(type_id: hid_t) -> c_int;
        pub fn H5Tget_class(type_id: hid_t) -> H5T_class_t;
        pub fn H5Tget_member_name(type_id: hid_t, membno: c_uint) -> *mut c_char;
        pub fn H5Tget_member_offset(type_id: hid_t, membno: c_uint) -> size_t;
        pub fn H5Tget_member_type(type_id: hid_t, membno: c_uint) -> hid_t;
        pub fn H5Tget_nmembers(type_id: hid_t) -> c_int;
        pub fn H5Tget_size(type_id: hid_t) -> size_t;
        pub fn H5Tget_super(type_: hid_t) -> hid_t;
        pub fn H5Tis_variable_str(type_id: hid_t) -> htri_t;
        pub fn H5Treclaim(type_id: hid_t, space_id: hid_t, dxpl_id: hid_t, buf: *mut c_void,) -> herr_t;
        static H5T_STD_REF_DSETREG_g;
        static H5T_STD_REF_OBJ_g;
        static H5T_STD_U8LE_g;
        static H5T_STD_U32LE_g;
        static H5T_STD_I64LE_g;
        static H5T_NATIVE_UINT8_g;
        static H5T_NATIVE_UINT32_g;
        static H5T_NATIVE_INT64_g;
        static H5T_NATIVE_UINT64_g;
        static H5T_NATIVE_DOUBLE_g;
        static H5T_C_S1_g;
    }
    pub static H5T_STD_REF_DSETREG: crate::ffi::bind::Global =
        crate::ffi::bind::Global(|a| a.h5t.H5T_STD_REF_DSETREG_g);
    pub static H5T_STD_REF_OBJ: crate::ffi::bind::Global = crate::ffi::bind::Global(|a| a.h5t.H5T_STD_REF_OBJ_g);
    pub static H5T_STD_U8LE: crate::ffi::bind::Global = crate::ffi::bind::Global(|a| a.h5t.H5T_STD_U8LE_g);
    pub static H5T_STD_U32LE: crate::ffi::bind::Global = crate::ffi::bind::Global(|a| a.h5t.H5T_STD_U32LE_g);
    pub static H5T_STD_I64LE: crate::ffi::bind::Global = crate::ffi::bind::Global(|a| a.h5t.H5T_STD_I64LE_g);
    pub static H5T_NATIVE_UINT8: crate::ffi::bind::Global = crate::ffi::bind::Global(|a| a.h5t.H5T_NATIVE_UINT8_g);
    pub static H5T_NATIVE_UINT32: crate::ffi::bind::Global = crate::ffi::bind::Global(|a| a.h5t.H5T_NATIVE_UINT32_g);
    pub static H5T_NATIVE_INT64: crate::ffi::bind::Global = crate::ffi::bind::Global(|a| a.h5t.H5T_NATIVE_INT64_g);
    pub static H5T_NATIVE_UINT64: crate::ffi::bind::Global = crate::ffi::bind::Global(|a| a.h5t.H5T_NATIVE_UINT64_g);
    pub static H5T_NATIVE_DOUBLE: crate::ffi::bind::Global = crate::ffi::bind::Global(|a| a.h5t.H5T_NATIVE_DOUBLE_g);
    pub static H5T_C_S1: crate::ffi::bind::Global = crate::ffi::bind::Global(|a| a.h5t.H5T_C_S1_g);
}

pub mod h5vl {
    use hdf5_sys::h5::*;
    use hdf5_sys::h5i::hid_t;
    pub use hdf5_sys::h5vl::*;
    use libc::{size_t, ssize_t};
    use std::ffi::{c_char, c_int, c_uint, c_void};

    crate::bind! {
        h5vl;
        pub fn H5VLget_connector_id_by_name(name: *const c_char) -> hid_t;
    }
}
