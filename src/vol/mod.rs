//! The VOL class table: one callback per slot, named `<class>::<op>` after the slot it fills.
//!
//! # Safety
//! Every callback here has one contract, HDF5's: it is called by the HDF5 library (or a test
//! acting like it) with the arguments the VOL class documentation gives for its slot; object
//! pointers are NULL or wrappers this connector returned earlier and has not freed.
#![allow(clippy::missing_safety_doc)]

use std::ffi::c_void;

use crate::boundary::{guard, guard_light};
use crate::ffi::{
    self, H5VL_VERSION, H5VL_attr_class_t, H5VL_blob_class_t, H5VL_class_t, H5VL_dataset_class_t,
    H5VL_datatype_class_t, H5VL_file_class_t, H5VL_group_class_t, H5VL_info_class_t, H5VL_introspect_class_t,
    H5VL_link_class_t, H5VL_object_class_t, H5VL_optional_args_t, H5VL_request_class_t, H5VL_token_class_t,
    H5VL_wrap_class_t, herr_t, hid_t,
};
use crate::object::forward;

pub mod attr;
pub mod blob;
pub mod dataset;
pub mod datatype;
pub mod file;
pub mod group;
pub mod info;
pub mod introspect;
pub mod link;
pub mod object;
pub mod request;
pub mod wrap;

/// `initialize`: registers our error class; reads `DSET_SPLIT_LOG`.
unsafe extern "C" fn initialize(_vipl_id: hid_t) -> herr_t {
    guard_light("initialize", || {
        crate::log::init();
        crate::error::register();
        crate::trace!("initialized dset_split {}", crate::VERSION_STRING);
        Ok(0)
    })
}

/// `terminate`: may run from HDF5's `atexit` handler after `main` returned, so it touches no
/// thread-local and no Rust standard stream.
unsafe extern "C" fn terminate() -> herr_t {
    guard_light("terminate", || {
        crate::trace!("terminated");
        crate::error::release_at_terminate();
        crate::lifecycle::forget_all_counts();
        crate::split::forget_open_everywhere();
        crate::log::shutdown();
        Ok(0)
    })
}

/// `optional`: the generic optional callback.
unsafe extern "C" fn optional(
    obj: *mut c_void,
    args: *mut H5VL_optional_args_t,
    dxpl_id: hid_t,
    req: *mut *mut c_void,
) -> herr_t {
    guard("optional", || {
        // SAFETY: `obj` is our wrapper and `req` HDF5's request slot; the arguments are HDF5's own.
        unsafe { forward(obj, req, |under, vol| ffi::H5VLoptional(under, vol, args, dxpl_id, req)) }
    })
}

/// The class HDF5 registers, through `H5PLget_plugin_info` or `H5VL_dset_split_register`.
pub static CLASS: H5VL_class_t = H5VL_class_t {
    version: H5VL_VERSION,                  // class struct version
    value: crate::CONNECTOR_VALUE,          // connector value (testing range)
    name: crate::CONNECTOR_NAME_C.as_ptr(), // connector name
    conn_version: crate::CONNECTOR_VERSION, // connector version
    cap_flags: 0,                           // ours; the ones below are ORed in at run time
    initialize: Some(initialize),           // initialize
    terminate: Some(terminate),             // terminate
    info_cls: H5VL_info_class_t {
        size: std::mem::size_of::<crate::conn_info::ConnInfo>(), // size
        copy: Some(info::copy),                                  // copy
        cmp: Some(info::cmp),                                    // compare
        free: Some(info::free),                                  // free
        to_str: Some(info::to_str),                              // to_str
        from_str: Some(info::from_str),                          // from_str
    },
    wrap_cls: H5VL_wrap_class_t {
        get_object: Some(wrap::get_object),       // get_object
        get_wrap_ctx: Some(wrap::get_wrap_ctx),   // get_wrap_ctx
        wrap_object: Some(wrap::wrap_object),     // wrap_object
        unwrap_object: Some(wrap::unwrap_object), // unwrap_object
        free_wrap_ctx: Some(wrap::free_wrap_ctx), // free_wrap_ctx
    },
    attr_cls: H5VL_attr_class_t {
        create: Some(attr::create),     // create
        open: Some(attr::open),         // open
        read: Some(attr::read),         // read
        write: Some(attr::write),       // write
        get: Some(attr::get),           // get
        specific: Some(attr::specific), // specific
        optional: Some(attr::optional), // optional
        close: Some(attr::close),       // close
    },
    dataset_cls: H5VL_dataset_class_t {
        create: Some(dataset::create),     // create
        open: Some(dataset::open),         // open
        read: Some(dataset::read),         // read (one or many datasets)
        write: Some(dataset::write),       // write (one or many datasets)
        get: Some(dataset::get),           // get
        specific: Some(dataset::specific), // specific
        optional: Some(dataset::optional), // optional
        close: Some(dataset::close),       // close
    },
    datatype_cls: H5VL_datatype_class_t {
        commit: Some(datatype::commit),     // commit
        open: Some(datatype::open),         // open
        get: Some(datatype::get),           // get
        specific: Some(datatype::specific), // specific
        optional: Some(datatype::optional), // optional
        close: Some(datatype::close),       // close
    },
    file_cls: H5VL_file_class_t {
        create: Some(file::create),     // create
        open: Some(file::open),         // open
        get: Some(file::get),           // get
        specific: Some(file::specific), // specific
        optional: Some(file::optional), // optional
        close: Some(file::close),       // close
    },
    group_cls: H5VL_group_class_t {
        create: Some(group::create),     // create
        open: Some(group::open),         // open
        get: Some(group::get),           // get
        specific: Some(group::specific), // specific
        optional: Some(group::optional), // optional
        close: Some(group::close),       // close
    },
    link_cls: H5VL_link_class_t {
        create: Some(link::create),     // create
        copy: Some(link::copy),         // copy
        move_: Some(link::move_),       // move
        get: Some(link::get),           // get
        specific: Some(link::specific), // specific
        optional: Some(link::optional), // optional
    },
    object_cls: H5VL_object_class_t {
        open: Some(object::open),         // open
        copy: Some(object::copy),         // copy
        get: Some(object::get),           // get
        specific: Some(object::specific), // specific
        optional: Some(object::optional), // optional
    },
    introspect_cls: H5VL_introspect_class_t {
        get_conn_cls: Some(introspect::get_conn_cls),   // get_conn_cls
        get_cap_flags: Some(introspect::get_cap_flags), // get_cap_flags
        opt_query: Some(introspect::opt_query),         // opt_query
    },
    request_cls: H5VL_request_class_t {
        wait: Some(request::wait),         // wait
        notify: Some(request::notify),     // notify
        cancel: Some(request::cancel),     // cancel
        specific: Some(request::specific), // specific
        optional: Some(request::optional), // optional
        free: Some(request::free),         // free
    },
    blob_cls: H5VL_blob_class_t {
        put: Some(blob::put),           // put
        get: Some(blob::get),           // get
        specific: Some(blob::specific), // specific
        optional: Some(blob::optional), // optional
    },
    token_cls: H5VL_token_class_t {
        cmp: Some(blob::token_cmp),           // cmp
        to_str: Some(blob::token_to_str),     // to_str
        from_str: Some(blob::token_from_str), // from_str
    },
    optional: Some(optional), // optional
};
