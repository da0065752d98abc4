//! Raw declarations of HDF5's VOL connector ABI (`H5VLconnector.h`, `H5VLconnector_passthru.h`).
//!
//! `hdf5-metno-sys` 0.12.5 gets several of these layouts wrong for HDF5 1.14/2.x (the width of
//! `H5VL_class_t::cap_flags`, the multi-dataset read/write signatures, `uint64_t *` flags) and binds
//! nothing from `H5VLconnector_passthru.h`, so this module owns them. Names are HDF5's own, so that
//! `tests/abi_layout.rs` can compare every size, field offset and constant with the installed
//! headers through a compiled C probe.
//!
//! C enums that HDF5 passes *into* our callbacks are plain integer aliases here, never Rust enums:
//! a value Rust does not know (a newer HDF5) must not be undefined behaviour.
#![allow(non_camel_case_types, non_snake_case, missing_docs, missing_debug_implementations)]

use std::ffi::{c_char, c_int, c_uint, c_void};

pub use hdf5_sys::h5::{herr_t, hsize_t};
pub use hdf5_sys::h5i::hid_t;

pub type H5I_type_t = c_int;
pub type H5VL_class_value_t = c_int;
pub type H5VL_subclass_t = c_int;
pub type H5VL_get_conn_lvl_t = c_int;
pub type H5VL_request_status_t = c_int;
pub type H5VL_loc_type_t = c_int;
pub type H5VL_file_specific_t = c_int;
pub type H5VL_group_specific_t = c_int;
pub type H5VL_link_create_t = c_int;
pub type H5L_type_t = c_int;
pub type H5_index_t = c_int;
pub type H5_iter_order_t = c_int;
pub type H5PL_type_t = c_int;

/// `H5VL_VERSION`: the class-struct version this crate is laid out for (3 in 1.14.x and 2.x).
pub const H5VL_VERSION: c_uint = 3;
pub const H5PL_TYPE_VOL: H5PL_type_t = 1;
pub const H5VL_NATIVE_VALUE: H5VL_class_value_t = 0;
pub const H5VL_PASSTHRU_VALUE: H5VL_class_value_t = 1;
pub const H5VL_GET_CONN_LVL_CURR: H5VL_get_conn_lvl_t = 0;
pub const H5VL_REQUEST_STATUS_IN_PROGRESS: H5VL_request_status_t = 0;
pub const H5VL_CAP_FLAG_THREADSAFE: u64 = 0x1;

pub const H5VL_FILE_FLUSH: H5VL_file_specific_t = 0;
pub const H5VL_FILE_REOPEN: H5VL_file_specific_t = 1;
pub const H5VL_FILE_IS_ACCESSIBLE: H5VL_file_specific_t = 2;
pub const H5VL_FILE_DELETE: H5VL_file_specific_t = 3;
pub const H5VL_FILE_IS_EQUAL: H5VL_file_specific_t = 4;

pub const H5VL_GROUP_MOUNT: H5VL_group_specific_t = 0;

pub const H5VL_SUBCLS_FILE: H5VL_subclass_t = 6;
pub const H5VL_NATIVE_FILE_POST_OPEN: c_int = 28;
pub const H5VL_OPT_QUERY_SUPPORTED: u64 = 0x1;

pub const H5VL_OBJECT_BY_SELF: H5VL_loc_type_t = 0;
pub const H5VL_OBJECT_BY_NAME: H5VL_loc_type_t = 1;
pub const H5VL_OBJECT_BY_IDX: H5VL_loc_type_t = 2;
pub const H5VL_OBJECT_BY_TOKEN: H5VL_loc_type_t = 3;
pub const H5I_FILE: H5I_type_t = 1;
pub const H5I_GROUP: H5I_type_t = 2;
pub const H5I_DATASET: H5I_type_t = 5;
pub const H5I_ATTR: H5I_type_t = 7;

pub const H5VL_OBJECT_GET_FILE: c_int = 0;
pub const H5VL_OBJECT_GET_NAME: c_int = 1;
pub const H5VL_OBJECT_GET_TYPE: c_int = 2;
pub const H5VL_OBJECT_GET_INFO: c_int = 3;
pub const H5O_INFO_BASIC: c_uint = 1;
pub const H5O_INFO_NUM_ATTRS: c_uint = 4;
pub const H5VL_LINK_DELETE: c_int = 0;
pub const H5VL_LINK_EXISTS: c_int = 1;
pub const H5VL_LINK_ITER: c_int = 2;
pub const H5VL_LINK_GET_INFO: c_int = 0;
pub const H5VL_LINK_GET_NAME: c_int = 1;
pub const H5VL_LINK_GET_VAL: c_int = 2;

pub const H5L_TYPE_HARD: H5L_type_t = 0;
pub const H5L_TYPE_SOFT: H5L_type_t = 1;
pub const H5L_TYPE_EXTERNAL: H5L_type_t = 64;
pub const H5D_VIRTUAL: c_int = 3;
pub const H5T_REFERENCE: c_int = 7;
pub const H5F_ACC_RDONLY: c_uint = 0;
pub const H5F_ACC_RDWR: c_uint = 1;
pub const H5F_ACC_TRUNC: c_uint = 2;
pub const H5F_ACC_EXCL: c_uint = 4;
pub const H5F_CLOSE_WEAK: c_int = 1;

pub const H5VL_LINK_CREATE_HARD: H5VL_link_create_t = 0;
pub const H5VL_LINK_CREATE_SOFT: H5VL_link_create_t = 1;
pub const H5VL_LINK_CREATE_UD: H5VL_link_create_t = 2;

/// `H5O_token_t`: an opaque object address of `H5O_MAX_TOKEN_SIZE` (16) bytes.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5O_token_t {
    pub __data: [u8; 16],
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_loc_by_name_t {
    pub name: *const c_char,
    pub lapl_id: hid_t,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_loc_by_idx_t {
    pub name: *const c_char,
    pub idx_type: H5_index_t,
    pub order: H5_iter_order_t,
    pub n: hsize_t,
    pub lapl_id: hid_t,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_loc_by_token_t {
    pub token: *mut H5O_token_t,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub union H5VL_loc_data_t {
    pub loc_by_token: H5VL_loc_by_token_t,
    pub loc_by_name: H5VL_loc_by_name_t,
    pub loc_by_idx: H5VL_loc_by_idx_t,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct H5VL_loc_params_t {
    pub obj_type: H5I_type_t,
    pub type_: H5VL_loc_type_t,
    pub loc_data: H5VL_loc_data_t,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_optional_args_t {
    pub op_type: c_int,
    pub args: *mut c_void,
}

// ---- file_specific ---------------------------------------------------------------------------

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_file_specific_flush_t {
    pub obj_type: H5I_type_t,
    pub scope: c_int,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_file_specific_reopen_t {
    pub file: *mut *mut c_void,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_file_specific_is_accessible_t {
    pub filename: *const c_char,
    pub fapl_id: hid_t,
    pub accessible: *mut bool,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_file_specific_del_t {
    pub filename: *const c_char,
    pub fapl_id: hid_t,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_file_specific_is_equal_t {
    pub obj2: *mut c_void,
    pub same_file: *mut bool,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub union H5VL_file_specific_args_u {
    pub flush: H5VL_file_specific_flush_t,
    pub reopen: H5VL_file_specific_reopen_t,
    pub is_accessible: H5VL_file_specific_is_accessible_t,
    pub del: H5VL_file_specific_del_t,
    pub is_equal: H5VL_file_specific_is_equal_t,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct H5VL_file_specific_args_t {
    pub op_type: H5VL_file_specific_t,
    pub args: H5VL_file_specific_args_u,
}

// ---- group_specific (only MOUNT carries an object we must unwrap) -----------------------------

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_group_spec_mount_args_t {
    pub name: *const c_char,
    pub child_file: *mut c_void,
    pub fmpl_id: hid_t,
}

/// The union of `H5VL_group_specific_args_t`. Its other members (`unmount`, `flush`, `refresh`)
/// are smaller than `mount`; `_pad` keeps the size right without naming them.
#[repr(C)]
#[derive(Clone, Copy)]
pub union H5VL_group_specific_args_u {
    pub mount: H5VL_group_spec_mount_args_t,
    pub _pad: [u64; 3],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct H5VL_group_specific_args_t {
    pub op_type: H5VL_group_specific_t,
    pub args: H5VL_group_specific_args_u,
}

// ---- link_create (HARD carries an object we must unwrap) -------------------------------------

#[repr(C)]
#[derive(Clone, Copy)]
pub struct H5VL_link_create_hard_t {
    pub curr_obj: *mut c_void,
    pub curr_loc_params: H5VL_loc_params_t,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_link_create_soft_t {
    pub target: *const c_char,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_link_create_ud_t {
    pub type_: H5L_type_t,
    pub buf: *const c_void,
    pub buf_size: usize,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub union H5VL_link_create_args_u {
    pub hard: H5VL_link_create_hard_t,
    pub soft: H5VL_link_create_soft_t,
    pub ud: H5VL_link_create_ud_t,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct H5VL_link_create_args_t {
    pub op_type: H5VL_link_create_t,
    pub args: H5VL_link_create_args_u,
}

// ---- object_get / link_get / link_specific (read by the split logic) -------------------------

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_object_get_name_t {
    pub buf_size: usize,
    pub buf: *mut c_char,
    pub name_len: *mut usize,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_object_get_info_t {
    pub fields: c_uint,
    /// `H5O_info2_t *`
    pub oinfo: *mut c_void,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub union H5VL_object_get_args_u {
    pub get_file: *mut *mut c_void,
    pub get_name: H5VL_object_get_name_t,
    pub get_type: *mut c_int,
    pub get_info: H5VL_object_get_info_t,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct H5VL_object_get_args_t {
    pub op_type: c_int,
    pub args: H5VL_object_get_args_u,
}

/// `H5L_info2_t`, with the link type as a plain integer (user-defined types are any value).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct H5L_info2_t {
    pub type_: H5L_type_t,
    pub corder_valid: bool,
    pub corder: i64,
    pub cset: c_int,
    pub u: H5L_info2_u,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub union H5L_info2_u {
    pub token: H5O_token_t,
    pub val_size: usize,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_link_get_name_t {
    pub name_size: usize,
    pub name: *mut c_char,
    pub name_len: *mut usize,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_link_get_val_t {
    pub buf_size: usize,
    pub buf: *mut c_void,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub union H5VL_link_get_args_u {
    pub get_info: *mut H5L_info2_t,
    pub get_name: H5VL_link_get_name_t,
    pub get_val: H5VL_link_get_val_t,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct H5VL_link_get_args_t {
    pub op_type: c_int,
    pub args: H5VL_link_get_args_u,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_link_iterate_args_t {
    pub recursive: bool,
    pub idx_type: H5_index_t,
    pub order: H5_iter_order_t,
    pub idx_p: *mut hsize_t,
    pub op: H5L_iterate2_t,
    pub op_data: *mut c_void,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub union H5VL_link_specific_args_u {
    pub exists: *mut bool,
    pub iterate: H5VL_link_iterate_args_t,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct H5VL_link_specific_args_t {
    pub op_type: c_int,
    pub args: H5VL_link_specific_args_u,
}

// ---- attr_specific (ITER, to copy a dataset's attributes) ----------------------------------------

pub const H5VL_ATTR_ITER: c_int = 3;

pub use hdf5_sys::h5a::H5A_info_t;

pub type H5A_operator2_t = Option<
    unsafe extern "C" fn(loc: hid_t, name: *const c_char, info: *const H5A_info_t, op_data: *mut c_void) -> herr_t,
>;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_attr_iterate_args_t {
    pub idx_type: H5_index_t,
    pub order: H5_iter_order_t,
    pub idx: *mut hsize_t,
    pub op: H5A_operator2_t,
    pub op_data: *mut c_void,
}

/// `H5VL_attr_specific_args_t`: the iteration is the union's largest member (checked against the
/// headers by tests/abi_layout.rs); the others pass through untouched.
#[repr(C)]
#[derive(Clone, Copy)]
pub union H5VL_attr_specific_args_u {
    pub iterate: H5VL_attr_iterate_args_t,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct H5VL_attr_specific_args_t {
    pub op_type: c_int,
    pub args: H5VL_attr_specific_args_u,
}

/// The arguments of an attribute iteration (`H5Aiterate2`) over an object.
pub fn attr_iterate_args(
    idx_type: H5_index_t,
    order: H5_iter_order_t,
    op: H5A_operator2_t,
    op_data: *mut c_void,
) -> H5VL_attr_specific_args_t {
    H5VL_attr_specific_args_t {
        op_type: H5VL_ATTR_ITER,
        args: H5VL_attr_specific_args_u {
            iterate: H5VL_attr_iterate_args_t { idx_type, order, idx: std::ptr::null_mut(), op, op_data },
        },
    }
}

/// `H5O_info2_t`, with the object type as a plain integer.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5O_info2_t {
    pub fileno: std::ffi::c_ulong,
    pub token: H5O_token_t,
    pub type_: c_int,
    pub rc: c_uint,
    pub atime: libc::time_t,
    pub mtime: libc::time_t,
    pub ctime: libc::time_t,
    pub btime: libc::time_t,
    pub num_attrs: hsize_t,
}

pub type H5O_iterate2_t = Option<
    unsafe extern "C" fn(obj: hid_t, name: *const c_char, info: *const H5O_info2_t, op_data: *mut c_void) -> herr_t,
>;
pub type H5L_iterate2_t = Option<
    unsafe extern "C" fn(group: hid_t, name: *const c_char, info: *const H5L_info2_t, op_data: *mut c_void) -> herr_t,
>;

pub const H5VL_OBJECT_LOOKUP: c_int = 2;
pub const H5VL_OBJECT_VISIT: c_int = 3;
pub const H5VL_OBJECT_FLUSH: c_int = 4;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_object_visit_args_t {
    pub idx_type: H5_index_t,
    pub order: H5_iter_order_t,
    pub fields: c_uint,
    pub op: H5O_iterate2_t,
    pub op_data: *mut c_void,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub union H5VL_object_specific_args_u {
    pub change_rc: c_int,
    pub exists: *mut bool,
    pub lookup: *mut H5O_token_t,
    pub visit: H5VL_object_visit_args_t,
    pub flush: hid_t,
    pub refresh: hid_t,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct H5VL_object_specific_args_t {
    pub op_type: c_int,
    pub args: H5VL_object_specific_args_u,
}

// ---- file_get (GET_NAME is answered for split datasets) -------------------------------------

pub const H5VL_FILE_GET_NAME: c_int = 5;
pub const H5VL_FILE_GET_OBJ_COUNT: c_int = 6;
pub const H5VL_FILE_GET_OBJ_IDS: c_int = 7;
pub const H5F_OBJ_FILE: c_uint = 0x1;
pub const H5F_OBJ_DATASET: c_uint = 0x2;
/// Datasets, groups, named datatypes and attributes (`H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR`).
pub const H5F_OBJ_OBJECTS: c_uint = 0x1e;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_file_get_obj_count_args_t {
    pub types: c_uint,
    pub count: *mut usize,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_file_get_obj_ids_args_t {
    pub types: c_uint,
    pub max_objs: usize,
    pub oid_list: *mut hid_t,
    pub count: *mut usize,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_file_get_name_args_t {
    pub type_: H5I_type_t,
    pub buf_size: usize,
    pub buf: *mut c_char,
    pub file_name_len: *mut usize,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub union H5VL_file_get_args_u {
    pub get_name: H5VL_file_get_name_args_t,
    pub get_obj_count: H5VL_file_get_obj_count_args_t,
    pub get_obj_ids: H5VL_file_get_obj_ids_args_t,
    pub _pad: [u64; 4],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct H5VL_file_get_args_t {
    pub op_type: c_int,
    pub args: H5VL_file_get_args_u,
}

// ---- dataset_get (GET_DCPL / GET_SPACE / GET_TYPE, read when an anonymous dataset is linked) ----

pub const H5VL_DATASET_GET_DAPL: c_int = 0;
pub const H5VL_DATASET_GET_DCPL: c_int = 1;
pub const H5VL_DATASET_GET_SPACE: c_int = 2;
pub const H5VL_DATASET_GET_SPACE_STATUS: c_int = 3;
pub const H5VL_DATASET_GET_STORAGE_SIZE: c_int = 4;
pub const H5VL_DATASET_GET_TYPE: c_int = 5;

// ---- dataset_specific (read only for its operation) ----------------------------------------------

pub const H5VL_DATASET_SET_EXTENT: c_int = 0;
pub const H5VL_DATASET_FLUSH: c_int = 1;
pub const H5VL_DATASET_REFRESH: c_int = 2;

#[repr(C)]
#[derive(Clone, Copy)]
pub union H5VL_dataset_specific_args_u {
    /// `set_extent.size` (`H5VL_DATASET_SET_EXTENT`).
    pub size: *const hsize_t,
    /// `flush.dset_id` / `refresh.dset_id`.
    pub dset_id: hid_t,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct H5VL_dataset_specific_args_t {
    pub op_type: c_int,
    pub args: H5VL_dataset_specific_args_u,
}

/// The operation of an argument struct whose first member is its `op_type` (every `H5VL_*_args_t`).
///
/// # Safety
/// `args` points at a valid argument struct of HDF5's.
pub unsafe fn op_type_of<T>(args: *const T) -> c_int {
    // SAFETY: by the contract above, the struct begins with its C enum `op_type`.
    unsafe { *args.cast::<c_int>() }
}

/// `H5VL_dataset_get_args_t`: every member used here is one `hid_t` output; `_pad` keeps the size.
#[repr(C)]
#[derive(Clone, Copy)]
pub union H5VL_dataset_get_args_u {
    pub id: hid_t,
    pub _pad: [u64; 1],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct H5VL_dataset_get_args_t {
    pub op_type: c_int,
    pub args: H5VL_dataset_get_args_u,
}

/// `H5VL_attr_get_args_t`: the one member used here is `get_space`'s `hid_t` output; `_pad`
/// keeps the size of the largest member (`get_name`).
#[repr(C)]
#[derive(Clone, Copy)]
pub union H5VL_attr_get_args_u {
    pub id: hid_t,
    pub _pad: [u64; 8],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct H5VL_attr_get_args_t {
    pub op_type: c_int,
    pub args: H5VL_attr_get_args_u,
}

pub const H5VL_ATTR_GET_SPACE: c_int = 3;

// ---- argument structs passed through untouched -----------------------------------------------
// A passthrough connector never looks inside these; they are opaque here.

macro_rules! opaque {
    ($($name:ident),* $(,)?) => {$(
        #[repr(C)]
        #[derive(Debug)]
        pub struct $name {
            _private: [u8; 0],
        }
    )*};
}

opaque!(
    H5VL_datatype_get_args_t,
    H5VL_datatype_specific_args_t,
    H5VL_group_get_args_t,
    H5VL_request_specific_args_t,
    H5VL_blob_specific_args_t,
);

pub type H5VL_request_notify_t =
    Option<unsafe extern "C" fn(ctx: *mut c_void, status: H5VL_request_status_t) -> herr_t>;

// ---- the class table -------------------------------------------------------------------------

type Req = *mut *mut c_void;
type LocParams = *const H5VL_loc_params_t;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_info_class_t {
    pub size: usize,
    pub copy: Option<unsafe extern "C" fn(info: *const c_void) -> *mut c_void>,
    pub cmp: Option<unsafe extern "C" fn(cmp_value: *mut c_int, info1: *const c_void, info2: *const c_void) -> herr_t>,
    pub free: Option<unsafe extern "C" fn(info: *mut c_void) -> herr_t>,
    pub to_str: Option<unsafe extern "C" fn(info: *const c_void, str: *mut *mut c_char) -> herr_t>,
    pub from_str: Option<unsafe extern "C" fn(str: *const c_char, info: *mut *mut c_void) -> herr_t>,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_wrap_class_t {
    pub get_object: Option<unsafe extern "C" fn(obj: *const c_void) -> *mut c_void>,
    pub get_wrap_ctx: Option<unsafe extern "C" fn(obj: *const c_void, wrap_ctx: *mut *mut c_void) -> herr_t>,
    pub wrap_object:
        Option<unsafe extern "C" fn(obj: *mut c_void, obj_type: H5I_type_t, wrap_ctx: *mut c_void) -> *mut c_void>,
    pub unwrap_object: Option<unsafe extern "C" fn(obj: *mut c_void) -> *mut c_void>,
    pub free_wrap_ctx: Option<unsafe extern "C" fn(wrap_ctx: *mut c_void) -> herr_t>,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_attr_class_t {
    pub create: Option<
        unsafe extern "C" fn(
            obj: *mut c_void,
            loc_params: LocParams,
            attr_name: *const c_char,
            type_id: hid_t,
            space_id: hid_t,
            acpl_id: hid_t,
            aapl_id: hid_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> *mut c_void,
    >,
    pub open: Option<
        unsafe extern "C" fn(
            obj: *mut c_void,
            loc_params: LocParams,
            attr_name: *const c_char,
            aapl_id: hid_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> *mut c_void,
    >,
    pub read: Option<
        unsafe extern "C" fn(
            attr: *mut c_void,
            mem_type_id: hid_t,
            buf: *mut c_void,
            dxpl_id: hid_t,
            req: Req,
        ) -> herr_t,
    >,
    pub write: Option<
        unsafe extern "C" fn(
            attr: *mut c_void,
            mem_type_id: hid_t,
            buf: *const c_void,
            dxpl_id: hid_t,
            req: Req,
        ) -> herr_t,
    >,
    pub get: Option<
        unsafe extern "C" fn(obj: *mut c_void, args: *mut H5VL_attr_get_args_t, dxpl_id: hid_t, req: Req) -> herr_t,
    >,
    pub specific: Option<
        unsafe extern "C" fn(
            obj: *mut c_void,
            loc_params: LocParams,
            args: *mut H5VL_attr_specific_args_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> herr_t,
    >,
    pub optional: Option<
        unsafe extern "C" fn(obj: *mut c_void, args: *mut H5VL_optional_args_t, dxpl_id: hid_t, req: Req) -> herr_t,
    >,
    pub close: Option<unsafe extern "C" fn(attr: *mut c_void, dxpl_id: hid_t, req: Req) -> herr_t>,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_dataset_class_t {
    pub create: Option<
        unsafe extern "C" fn(
            obj: *mut c_void,
            loc_params: LocParams,
            name: *const c_char,
            lcpl_id: hid_t,
            type_id: hid_t,
            space_id: hid_t,
            dcpl_id: hid_t,
            dapl_id: hid_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> *mut c_void,
    >,
    pub open: Option<
        unsafe extern "C" fn(
            obj: *mut c_void,
            loc_params: LocParams,
            name: *const c_char,
            dapl_id: hid_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> *mut c_void,
    >,
    pub read: Option<
        unsafe extern "C" fn(
            count: usize,
            dset: *mut *mut c_void,
            mem_type_id: *mut hid_t,
            mem_space_id: *mut hid_t,
            file_space_id: *mut hid_t,
            dxpl_id: hid_t,
            buf: *mut *mut c_void,
            req: Req,
        ) -> herr_t,
    >,
    pub write: Option<
        unsafe extern "C" fn(
            count: usize,
            dset: *mut *mut c_void,
            mem_type_id: *mut hid_t,
            mem_space_id: *mut hid_t,
            file_space_id: *mut hid_t,
            dxpl_id: hid_t,
            buf: *mut *const c_void,
            req: Req,
        ) -> herr_t,
    >,
    pub get: Option<
        unsafe extern "C" fn(obj: *mut c_void, args: *mut H5VL_dataset_get_args_t, dxpl_id: hid_t, req: Req) -> herr_t,
    >,
    pub specific: Option<
        unsafe extern "C" fn(
            obj: *mut c_void,
            args: *mut H5VL_dataset_specific_args_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> herr_t,
    >,
    pub optional: Option<
        unsafe extern "C" fn(obj: *mut c_void, args: *mut H5VL_optional_args_t, dxpl_id: hid_t, req: Req) -> herr_t,
    >,
    pub close: Option<unsafe extern "C" fn(dset: *mut c_void, dxpl_id: hid_t, req: Req) -> herr_t>,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_datatype_class_t {
    pub commit: Option<
        unsafe extern "C" fn(
            obj: *mut c_void,
            loc_params: LocParams,
            name: *const c_char,
            type_id: hid_t,
            lcpl_id: hid_t,
            tcpl_id: hid_t,
            tapl_id: hid_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> *mut c_void,
    >,
    pub open: Option<
        unsafe extern "C" fn(
            obj: *mut c_void,
            loc_params: LocParams,
            name: *const c_char,
            tapl_id: hid_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> *mut c_void,
    >,
    pub get: Option<
        unsafe extern "C" fn(obj: *mut c_void, args: *mut H5VL_datatype_get_args_t, dxpl_id: hid_t, req: Req) -> herr_t,
    >,
    pub specific: Option<
        unsafe extern "C" fn(
            obj: *mut c_void,
            args: *mut H5VL_datatype_specific_args_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> herr_t,
    >,
    pub optional: Option<
        unsafe extern "C" fn(obj: *mut c_void, args: *mut H5VL_optional_args_t, dxpl_id: hid_t, req: Req) -> herr_t,
    >,
    pub close: Option<unsafe extern "C" fn(dt: *mut c_void, dxpl_id: hid_t, req: Req) -> herr_t>,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_file_class_t {
    pub create: Option<
        unsafe extern "C" fn(
            name: *const c_char,
            flags: c_uint,
            fcpl_id: hid_t,
            fapl_id: hid_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> *mut c_void,
    >,
    pub open: Option<
        unsafe extern "C" fn(
            name: *const c_char,
            flags: c_uint,
            fapl_id: hid_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> *mut c_void,
    >,
    pub get: Option<
        unsafe extern "C" fn(obj: *mut c_void, args: *mut H5VL_file_get_args_t, dxpl_id: hid_t, req: Req) -> herr_t,
    >,
    pub specific: Option<
        unsafe extern "C" fn(
            obj: *mut c_void,
            args: *mut H5VL_file_specific_args_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> herr_t,
    >,
    pub optional: Option<
        unsafe extern "C" fn(obj: *mut c_void, args: *mut H5VL_optional_args_t, dxpl_id: hid_t, req: Req) -> herr_t,
    >,
    pub close: Option<unsafe extern "C" fn(file: *mut c_void, dxpl_id: hid_t, req: Req) -> herr_t>,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_group_class_t {
    pub create: Option<
        unsafe extern "C" fn(
            obj: *mut c_void,
            loc_params: LocParams,
            name: *const c_char,
            lcpl_id: hid_t,
            gcpl_id: hid_t,
            gapl_id: hid_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> *mut c_void,
    >,
    pub open: Option<
        unsafe extern "C" fn(
            obj: *mut c_void,
            loc_params: LocParams,
            name: *const c_char,
            gapl_id: hid_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> *mut c_void,
    >,
    pub get: Option<
        unsafe extern "C" fn(obj: *mut c_void, args: *mut H5VL_group_get_args_t, dxpl_id: hid_t, req: Req) -> herr_t,
    >,
    pub specific: Option<
        unsafe extern "C" fn(
            obj: *mut c_void,
            args: *mut H5VL_group_specific_args_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> herr_t,
    >,
    pub optional: Option<
        unsafe extern "C" fn(obj: *mut c_void, args: *mut H5VL_optional_args_t, dxpl_id: hid_t, req: Req) -> herr_t,
    >,
    pub close: Option<unsafe extern "C" fn(grp: *mut c_void, dxpl_id: hid_t, req: Req) -> herr_t>,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_link_class_t {
    pub create: Option<
        unsafe extern "C" fn(
            args: *mut H5VL_link_create_args_t,
            obj: *mut c_void,
            loc_params: LocParams,
            lcpl_id: hid_t,
            lapl_id: hid_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> herr_t,
    >,
    pub copy: Option<
        unsafe extern "C" fn(
            src_obj: *mut c_void,
            loc_params1: LocParams,
            dst_obj: *mut c_void,
            loc_params2: LocParams,
            lcpl_id: hid_t,
            lapl_id: hid_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> herr_t,
    >,
    pub move_: Option<
        unsafe extern "C" fn(
            src_obj: *mut c_void,
            loc_params1: LocParams,
            dst_obj: *mut c_void,
            loc_params2: LocParams,
            lcpl_id: hid_t,
            lapl_id: hid_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> herr_t,
    >,
    pub get: Option<
        unsafe extern "C" fn(
            obj: *mut c_void,
            loc_params: LocParams,
            args: *mut H5VL_link_get_args_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> herr_t,
    >,
    pub specific: Option<
        unsafe extern "C" fn(
            obj: *mut c_void,
            loc_params: LocParams,
            args: *mut H5VL_link_specific_args_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> herr_t,
    >,
    pub optional: Option<
        unsafe extern "C" fn(
            obj: *mut c_void,
            loc_params: LocParams,
            args: *mut H5VL_optional_args_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> herr_t,
    >,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_object_class_t {
    pub open: Option<
        unsafe extern "C" fn(
            obj: *mut c_void,
            loc_params: LocParams,
            opened_type: *mut H5I_type_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> *mut c_void,
    >,
    pub copy: Option<
        unsafe extern "C" fn(
            src_obj: *mut c_void,
            loc_params1: LocParams,
            src_name: *const c_char,
            dst_obj: *mut c_void,
            loc_params2: LocParams,
            dst_name: *const c_char,
            ocpypl_id: hid_t,
            lcpl_id: hid_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> herr_t,
    >,
    pub get: Option<
        unsafe extern "C" fn(
            obj: *mut c_void,
            loc_params: LocParams,
            args: *mut H5VL_object_get_args_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> herr_t,
    >,
    pub specific: Option<
        unsafe extern "C" fn(
            obj: *mut c_void,
            loc_params: LocParams,
            args: *mut H5VL_object_specific_args_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> herr_t,
    >,
    pub optional: Option<
        unsafe extern "C" fn(
            obj: *mut c_void,
            loc_params: LocParams,
            args: *mut H5VL_optional_args_t,
            dxpl_id: hid_t,
            req: Req,
        ) -> herr_t,
    >,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_introspect_class_t {
    pub get_conn_cls: Option<
        unsafe extern "C" fn(obj: *mut c_void, lvl: H5VL_get_conn_lvl_t, conn_cls: *mut *const H5VL_class_t) -> herr_t,
    >,
    pub get_cap_flags: Option<unsafe extern "C" fn(info: *const c_void, cap_flags: *mut u64) -> herr_t>,
    pub opt_query: Option<
        unsafe extern "C" fn(obj: *mut c_void, cls: H5VL_subclass_t, opt_type: c_int, flags: *mut u64) -> herr_t,
    >,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_request_class_t {
    pub wait:
        Option<unsafe extern "C" fn(req: *mut c_void, timeout: u64, status: *mut H5VL_request_status_t) -> herr_t>,
    pub notify: Option<unsafe extern "C" fn(req: *mut c_void, cb: H5VL_request_notify_t, ctx: *mut c_void) -> herr_t>,
    pub cancel: Option<unsafe extern "C" fn(req: *mut c_void, status: *mut H5VL_request_status_t) -> herr_t>,
    pub specific: Option<unsafe extern "C" fn(req: *mut c_void, args: *mut H5VL_request_specific_args_t) -> herr_t>,
    pub optional: Option<unsafe extern "C" fn(req: *mut c_void, args: *mut H5VL_optional_args_t) -> herr_t>,
    pub free: Option<unsafe extern "C" fn(req: *mut c_void) -> herr_t>,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_blob_class_t {
    pub put: Option<
        unsafe extern "C" fn(
            obj: *mut c_void,
            buf: *const c_void,
            size: usize,
            blob_id: *mut c_void,
            ctx: *mut c_void,
        ) -> herr_t,
    >,
    pub get: Option<
        unsafe extern "C" fn(
            obj: *mut c_void,
            blob_id: *const c_void,
            buf: *mut c_void,
            size: usize,
            ctx: *mut c_void,
        ) -> herr_t,
    >,
    pub specific: Option<
        unsafe extern "C" fn(obj: *mut c_void, blob_id: *mut c_void, args: *mut H5VL_blob_specific_args_t) -> herr_t,
    >,
    pub optional:
        Option<unsafe extern "C" fn(obj: *mut c_void, blob_id: *mut c_void, args: *mut H5VL_optional_args_t) -> herr_t>,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_token_class_t {
    pub cmp: Option<
        unsafe extern "C" fn(
            obj: *mut c_void,
            token1: *const H5O_token_t,
            token2: *const H5O_token_t,
            cmp_value: *mut c_int,
        ) -> herr_t,
    >,
    pub to_str: Option<
        unsafe extern "C" fn(
            obj: *mut c_void,
            obj_type: H5I_type_t,
            token: *const H5O_token_t,
            token_str: *mut *mut c_char,
        ) -> herr_t,
    >,
    pub from_str: Option<
        unsafe extern "C" fn(
            obj: *mut c_void,
            obj_type: H5I_type_t,
            token_str: *const c_char,
            token: *mut H5O_token_t,
        ) -> herr_t,
    >,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct H5VL_class_t {
    pub version: c_uint,
    pub value: H5VL_class_value_t,
    pub name: *const c_char,
    pub conn_version: c_uint,
    pub cap_flags: u64,
    pub initialize: Option<unsafe extern "C" fn(vipl_id: hid_t) -> herr_t>,
    pub terminate: Option<unsafe extern "C" fn() -> herr_t>,
    pub info_cls: H5VL_info_class_t,
    pub wrap_cls: H5VL_wrap_class_t,
    pub attr_cls: H5VL_attr_class_t,
    pub dataset_cls: H5VL_dataset_class_t,
    pub datatype_cls: H5VL_datatype_class_t,
    pub file_cls: H5VL_file_class_t,
    pub group_cls: H5VL_group_class_t,
    pub link_cls: H5VL_link_class_t,
    pub object_cls: H5VL_object_class_t,
    pub introspect_cls: H5VL_introspect_class_t,
    pub request_cls: H5VL_request_class_t,
    pub blob_cls: H5VL_blob_class_t,
    pub token_cls: H5VL_token_class_t,
    pub optional: Option<
        unsafe extern "C" fn(obj: *mut c_void, args: *mut H5VL_optional_args_t, dxpl_id: hid_t, req: Req) -> herr_t,
    >,
}

// SAFETY: the class table is immutable static data; its only pointer (`name`) points at a
// 'static NUL-terminated string, so sharing it between threads is sound.
unsafe impl Sync for H5VL_class_t {}

// ---- H5VLconnector.h / H5VLconnector_passthru.h functions -------------------------------------

crate::bind! {
    vl;
    pub fn H5VLregister_connector(cls: *const H5VL_class_t, vipl_id: hid_t) -> hid_t;
    pub fn H5VLregister_connector_by_value(connector_value: H5VL_class_value_t, vipl_id: hid_t) -> hid_t;
    pub fn H5VLregister_connector_by_name(connector_name: *const c_char, vipl_id: hid_t) -> hid_t;
    pub fn H5VLclose(connector_id: hid_t) -> herr_t;
    /// `H5Oget_info_by_name3` (into our `H5O_info2_t`).
    pub fn H5Oget_info_by_name3(
        loc_id: hid_t,
        name: *const c_char,
        oinfo: *mut H5O_info2_t,
        fields: c_uint,
        lapl_id: hid_t,
    ) -> herr_t;
    /// `H5Lvisit2` (index and order as integers: 0, 0 = by name, increasing).
    pub fn H5Lvisit2(
        grp_id: hid_t,
        idx_type: c_int,
        order: c_int,
        op: Option<unsafe extern "C" fn(hid_t, *const c_char, *const H5L_info2_t, *mut c_void) -> herr_t>,
        op_data: *mut c_void,
    ) -> herr_t;
    /// `H5Lget_val`.
    pub fn H5Lget_val(loc_id: hid_t, name: *const c_char, buf: *mut c_void, size: usize, lapl_id: hid_t) -> herr_t;
    /// `H5Pget_layout`, returning the enum as an integer (-1 on failure).
    pub fn H5Pget_layout(plist_id: hid_t) -> c_int;
    /// `H5Tdetect_class`, with the class as an integer.
    pub fn H5Tdetect_class(type_id: hid_t, cls: c_int) -> c_int;
    /// `H5Pset_fclose_degree`, with the degree as an integer.
    pub fn H5Pset_fclose_degree(fapl_id: hid_t, degree: c_int) -> herr_t;
    pub fn H5VLget_connector_name(id: hid_t, name: *mut c_char, size: usize) -> isize;
    pub fn H5VLobject(obj_id: hid_t) -> *mut c_void;

    pub fn H5VLcmp_connector_cls(cmp: *mut c_int, connector_id1: hid_t, connector_id2: hid_t) -> herr_t;
    pub fn H5VLwrap_register(obj: *mut c_void, type_: H5I_type_t) -> hid_t;
    pub fn H5VLretrieve_lib_state(state: *mut *mut c_void) -> herr_t;
    pub fn H5VLrestore_lib_state(state: *const c_void) -> herr_t;
    pub fn H5VLfree_lib_state(state: *mut c_void) -> herr_t;
    pub fn H5VLinitialize(connector_id: hid_t, vipl_id: hid_t) -> herr_t;
    pub fn H5VLterminate(connector_id: hid_t) -> herr_t;
    pub fn H5VLget_cap_flags(connector_id: hid_t, cap_flags: *mut u64) -> herr_t;
    pub fn H5VLget_object(obj: *mut c_void, connector_id: hid_t) -> *mut c_void;
    pub fn H5VLget_wrap_ctx(obj: *mut c_void, connector_id: hid_t, wrap_ctx: *mut *mut c_void) -> herr_t;
    pub fn H5VLwrap_object(
        obj: *mut c_void,
        obj_type: H5I_type_t,
        connector_id: hid_t,
        wrap_ctx: *mut c_void,
    ) -> *mut c_void;
    pub fn H5VLunwrap_object(obj: *mut c_void, connector_id: hid_t) -> *mut c_void;
    pub fn H5VLfree_wrap_ctx(wrap_ctx: *mut c_void, connector_id: hid_t) -> herr_t;
    pub fn H5VLget_value(connector_id: hid_t, conn_value: *mut H5VL_class_value_t) -> herr_t;
    pub fn H5VLcopy_connector_info(
        connector_id: hid_t,
        dst_vol_info: *mut *mut c_void,
        src_vol_info: *mut c_void,
    ) -> herr_t;
    pub fn H5VLcmp_connector_info(
        cmp: *mut c_int,
        connector_id: hid_t,
        info1: *const c_void,
        info2: *const c_void,
    ) -> herr_t;
    pub fn H5VLfree_connector_info(connector_id: hid_t, vol_info: *mut c_void) -> herr_t;
    pub fn H5VLconnector_info_to_str(info: *const c_void, connector_id: hid_t, str: *mut *mut c_char) -> herr_t;
    pub fn H5VLconnector_str_to_info(str: *const c_char, connector_id: hid_t, info: *mut *mut c_void) -> herr_t;

    pub fn H5VLattr_create(
        obj: *mut c_void,
        loc_params: LocParams,
        connector_id: hid_t,
        attr_name: *const c_char,
        type_id: hid_t,
        space_id: hid_t,
        acpl_id: hid_t,
        aapl_id: hid_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> *mut c_void;
    pub fn H5VLattr_open(
        obj: *mut c_void,
        loc_params: LocParams,
        connector_id: hid_t,
        name: *const c_char,
        aapl_id: hid_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> *mut c_void;
    pub fn H5VLattr_read(
        attr: *mut c_void,
        connector_id: hid_t,
        dtype_id: hid_t,
        buf: *mut c_void,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    pub fn H5VLattr_write(
        attr: *mut c_void,
        connector_id: hid_t,
        dtype_id: hid_t,
        buf: *const c_void,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    pub fn H5VLattr_get(
        obj: *mut c_void,
        connector_id: hid_t,
        args: *mut H5VL_attr_get_args_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    pub fn H5VLattr_specific(
        obj: *mut c_void,
        loc_params: LocParams,
        connector_id: hid_t,
        args: *mut H5VL_attr_specific_args_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    pub fn H5VLattr_optional(
        obj: *mut c_void,
        connector_id: hid_t,
        args: *mut H5VL_optional_args_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    pub fn H5VLattr_close(attr: *mut c_void, connector_id: hid_t, dxpl_id: hid_t, req: Req) -> herr_t;

    pub fn H5VLdataset_create(
        obj: *mut c_void,
        loc_params: LocParams,
        connector_id: hid_t,
        name: *const c_char,
        lcpl_id: hid_t,
        type_id: hid_t,
        space_id: hid_t,
        dcpl_id: hid_t,
        dapl_id: hid_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> *mut c_void;
    pub fn H5VLdataset_open(
        obj: *mut c_void,
        loc_params: LocParams,
        connector_id: hid_t,
        name: *const c_char,
        dapl_id: hid_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> *mut c_void;
    pub fn H5VLdataset_read(
        count: usize,
        dset: *mut *mut c_void,
        connector_id: hid_t,
        mem_type_id: *mut hid_t,
        mem_space_id: *mut hid_t,
        file_space_id: *mut hid_t,
        plist_id: hid_t,
        buf: *mut *mut c_void,
        req: Req,
    ) -> herr_t;
    pub fn H5VLdataset_write(
        count: usize,
        dset: *mut *mut c_void,
        connector_id: hid_t,
        mem_type_id: *mut hid_t,
        mem_space_id: *mut hid_t,
        file_space_id: *mut hid_t,
        plist_id: hid_t,
        buf: *mut *const c_void,
        req: Req,
    ) -> herr_t;
    pub fn H5VLdataset_get(
        dset: *mut c_void,
        connector_id: hid_t,
        args: *mut H5VL_dataset_get_args_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    pub fn H5VLdataset_specific(
        obj: *mut c_void,
        connector_id: hid_t,
        args: *mut H5VL_dataset_specific_args_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    pub fn H5VLdataset_optional(
        obj: *mut c_void,
        connector_id: hid_t,
        args: *mut H5VL_optional_args_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    pub fn H5VLdataset_close(dset: *mut c_void, connector_id: hid_t, dxpl_id: hid_t, req: Req) -> herr_t;

    pub fn H5VLdatatype_commit(
        obj: *mut c_void,
        loc_params: LocParams,
        connector_id: hid_t,
        name: *const c_char,
        type_id: hid_t,
        lcpl_id: hid_t,
        tcpl_id: hid_t,
        tapl_id: hid_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> *mut c_void;
    pub fn H5VLdatatype_open(
        obj: *mut c_void,
        loc_params: LocParams,
        connector_id: hid_t,
        name: *const c_char,
        tapl_id: hid_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> *mut c_void;
    pub fn H5VLdatatype_get(
        dt: *mut c_void,
        connector_id: hid_t,
        args: *mut H5VL_datatype_get_args_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    pub fn H5VLdatatype_specific(
        obj: *mut c_void,
        connector_id: hid_t,
        args: *mut H5VL_datatype_specific_args_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    pub fn H5VLdatatype_optional(
        obj: *mut c_void,
        connector_id: hid_t,
        args: *mut H5VL_optional_args_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    pub fn H5VLdatatype_close(dt: *mut c_void, connector_id: hid_t, dxpl_id: hid_t, req: Req) -> herr_t;

    pub fn H5VLfile_create(
        name: *const c_char,
        flags: c_uint,
        fcpl_id: hid_t,
        fapl_id: hid_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> *mut c_void;
    pub fn H5VLfile_open(name: *const c_char, flags: c_uint, fapl_id: hid_t, dxpl_id: hid_t, req: Req) -> *mut c_void;
    pub fn H5VLfile_get(
        file: *mut c_void,
        connector_id: hid_t,
        args: *mut H5VL_file_get_args_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    pub fn H5VLfile_specific(
        obj: *mut c_void,
        connector_id: hid_t,
        args: *mut H5VL_file_specific_args_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    pub fn H5VLfile_optional(
        obj: *mut c_void,
        connector_id: hid_t,
        args: *mut H5VL_optional_args_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    pub fn H5VLfile_close(file: *mut c_void, connector_id: hid_t, dxpl_id: hid_t, req: Req) -> herr_t;

    pub fn H5VLgroup_create(
        obj: *mut c_void,
        loc_params: LocParams,
        connector_id: hid_t,
        name: *const c_char,
        lcpl_id: hid_t,
        gcpl_id: hid_t,
        gapl_id: hid_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> *mut c_void;
    pub fn H5VLgroup_open(
        obj: *mut c_void,
        loc_params: LocParams,
        connector_id: hid_t,
        name: *const c_char,
        gapl_id: hid_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> *mut c_void;
    pub fn H5VLgroup_get(
        obj: *mut c_void,
        connector_id: hid_t,
        args: *mut H5VL_group_get_args_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    pub fn H5VLgroup_specific(
        obj: *mut c_void,
        connector_id: hid_t,
        args: *mut H5VL_group_specific_args_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    pub fn H5VLgroup_optional(
        obj: *mut c_void,
        connector_id: hid_t,
        args: *mut H5VL_optional_args_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    pub fn H5VLgroup_close(grp: *mut c_void, connector_id: hid_t, dxpl_id: hid_t, req: Req) -> herr_t;

    pub fn H5VLlink_create(
        args: *mut H5VL_link_create_args_t,
        obj: *mut c_void,
        loc_params: LocParams,
        connector_id: hid_t,
        lcpl_id: hid_t,
        lapl_id: hid_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    pub fn H5VLlink_copy(
        src_obj: *mut c_void,
        loc_params1: LocParams,
        dst_obj: *mut c_void,
        loc_params2: LocParams,
        connector_id: hid_t,
        lcpl_id: hid_t,
        lapl_id: hid_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    pub fn H5VLlink_move(
        src_obj: *mut c_void,
        loc_params1: LocParams,
        dst_obj: *mut c_void,
        loc_params2: LocParams,
        connector_id: hid_t,
        lcpl_id: hid_t,
        lapl_id: hid_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    pub fn H5VLlink_get(
        obj: *mut c_void,
        loc_params: LocParams,
        connector_id: hid_t,
        args: *mut H5VL_link_get_args_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    pub fn H5VLlink_specific(
        obj: *mut c_void,
        loc_params: LocParams,
        connector_id: hid_t,
        args: *mut H5VL_link_specific_args_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    pub fn H5VLlink_optional(
        obj: *mut c_void,
        loc_params: LocParams,
        connector_id: hid_t,
        args: *mut H5VL_optional_args_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;

    pub fn H5VLobject_open(
        obj: *mut c_void,
        loc_params: LocParams,
        connector_id: hid_t,
        opened_type: *mut H5I_type_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> *mut c_void;
    pub fn H5VLobject_copy(
        src_obj: *mut c_void,
        loc_params1: LocParams,
        src_name: *const c_char,
        dst_obj: *mut c_void,
        loc_params2: LocParams,
        dst_name: *const c_char,
        connector_id: hid_t,
        ocpypl_id: hid_t,
        lcpl_id: hid_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    pub fn H5VLobject_get(
        obj: *mut c_void,
        loc_params: LocParams,
        connector_id: hid_t,
        args: *mut H5VL_object_get_args_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    pub fn H5VLobject_specific(
        obj: *mut c_void,
        loc_params: LocParams,
        connector_id: hid_t,
        args: *mut H5VL_object_specific_args_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    pub fn H5VLobject_optional(
        obj: *mut c_void,
        loc_params: LocParams,
        connector_id: hid_t,
        args: *mut H5VL_optional_args_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;

    pub fn H5VLintrospect_get_conn_cls(
        obj: *mut c_void,
        connector_id: hid_t,
        lvl: H5VL_get_conn_lvl_t,
        conn_cls: *mut *const H5VL_class_t,
    ) -> herr_t;
    pub fn H5VLintrospect_get_cap_flags(info: *const c_void, connector_id: hid_t, cap_flags: *mut u64) -> herr_t;
    pub fn H5VLintrospect_opt_query(
        obj: *mut c_void,
        connector_id: hid_t,
        subcls: H5VL_subclass_t,
        opt_type: c_int,
        flags: *mut u64,
    ) -> herr_t;

    pub fn H5VLrequest_wait(
        req: *mut c_void,
        connector_id: hid_t,
        timeout: u64,
        status: *mut H5VL_request_status_t,
    ) -> herr_t;
    pub fn H5VLrequest_notify(
        req: *mut c_void,
        connector_id: hid_t,
        cb: H5VL_request_notify_t,
        ctx: *mut c_void,
    ) -> herr_t;
    pub fn H5VLrequest_cancel(req: *mut c_void, connector_id: hid_t, status: *mut H5VL_request_status_t) -> herr_t;
    pub fn H5VLrequest_specific(
        req: *mut c_void,
        connector_id: hid_t,
        args: *mut H5VL_request_specific_args_t,
    ) -> herr_t;
    pub fn H5VLrequest_optional(req: *mut c_void, connector_id: hid_t, args: *mut H5VL_optional_args_t) -> herr_t;
    pub fn H5VLrequest_free(req: *mut c_void, connector_id: hid_t) -> herr_t;

    pub fn H5VLblob_put(
        obj: *mut c_void,
        connector_id: hid_t,
        buf: *const c_void,
        size: usize,
        blob_id: *mut c_void,
        ctx: *mut c_void,
    ) -> herr_t;
    pub fn H5VLblob_get(
        obj: *mut c_void,
        connector_id: hid_t,
        blob_id: *const c_void,
        buf: *mut c_void,
        size: usize,
        ctx: *mut c_void,
    ) -> herr_t;
    pub fn H5VLblob_specific(
        obj: *mut c_void,
        connector_id: hid_t,
        blob_id: *mut c_void,
        args: *mut H5VL_blob_specific_args_t,
    ) -> herr_t;
    pub fn H5VLblob_optional(
        obj: *mut c_void,
        connector_id: hid_t,
        blob_id: *mut c_void,
        args: *mut H5VL_optional_args_t,
    ) -> herr_t;

    pub fn H5VLtoken_cmp(
        obj: *mut c_void,
        connector_id: hid_t,
        token1: *const H5O_token_t,
        token2: *const H5O_token_t,
        cmp_value: *mut c_int,
    ) -> herr_t;
    pub fn H5VLtoken_to_str(
        obj: *mut c_void,
        obj_type: H5I_type_t,
        connector_id: hid_t,
        token: *const H5O_token_t,
        token_str: *mut *mut c_char,
    ) -> herr_t;
    pub fn H5VLtoken_from_str(
        obj: *mut c_void,
        obj_type: H5I_type_t,
        connector_id: hid_t,
        token_str: *const c_char,
        token: *mut H5O_token_t,
    ) -> herr_t;

    pub fn H5VLoptional(
        obj: *mut c_void,
        connector_id: hid_t,
        args: *mut H5VL_optional_args_t,
        dxpl_id: hid_t,
        req: Req,
    ) -> herr_t;
    // the default attribute access property list (not in `hdf5-sys`)
    static H5P_LST_ATTRIBUTE_ACCESS_ID_g;
}

pub mod bind;
pub mod mpi;
pub mod sys;
