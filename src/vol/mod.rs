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
unsafe extern "C" fn initialize<const K: usize>(_vipl_id: hid_t) -> herr_t {
    guard_light(K, "initialize", || {
        crate::log::init();
        crate::error::register();
        crate::trace!("initialized dset_split {}", crate::VERSION_STRING);
        Ok(0)
    })
}

/// `terminate`: may run from HDF5's `atexit` handler after `main` returned, so it touches no
/// thread-local and no Rust standard stream.
unsafe extern "C" fn terminate<const K: usize>() -> herr_t {
    guard_light(K, "terminate", || {
        crate::trace!("terminated");
        crate::error::release_at_terminate();
        crate::lifecycle::forget_all_counts();
        crate::split::forget_open_everywhere();
        crate::log::shutdown();
        Ok(0)
    })
}

/// `optional`: the generic optional callback.
unsafe extern "C" fn optional<const K: usize>(
    obj: *mut c_void,
    args: *mut H5VL_optional_args_t,
    dxpl_id: hid_t,
    req: *mut *mut c_void,
) -> herr_t {
    guard(K, "optional", || {
        // SAFETY: `obj` is our wrapper and `req` HDF5's request slot; the arguments are HDF5's own.
        unsafe { forward(obj, req, |under, vol| ffi::H5VLoptional(under, vol, args, dxpl_id, req)) }
    })
}

/// The class tables HDF5 registers (through `H5PLget_plugin_info` or `H5VL_dset_split_register`):
/// one per libhdf5 copy in the process (`ffi::bind`), whose callbacks run with that copy's
/// binding in force.
pub static CLASSES: [H5VL_class_t; crate::ffi::bind::MAX_COPIES] =
    [class::<0>(), class::<1>(), class::<2>(), class::<3>()];

/// The class table of the libhdf5 copy bound as number `K`.
const fn class<const K: usize>() -> H5VL_class_t {
    H5VL_class_t {
        version: H5VL_VERSION,                  // class struct version
        value: crate::CONNECTOR_VALUE,          // connector value (testing range)
        name: crate::CONNECTOR_NAME_C.as_ptr(), // connector name
        conn_version: crate::CONNECTOR_VERSION, // connector version
        cap_flags: 0,                           // ours; the ones below are ORed in at run time
        initialize: Some(initialize::<K>),      // initialize
        terminate: Some(terminate::<K>),        // terminate
        info_cls: H5VL_info_class_t {
            size: std::mem::size_of::<crate::conn_info::ConnInfo>(), // size
            copy: Some(info::copy::<K>),                             // copy
            cmp: Some(info::cmp::<K>),                               // compare
            free: Some(info::free::<K>),                             // free
            to_str: Some(info::to_str::<K>),                         // to_str
            from_str: Some(info::from_str::<K>),                     // from_str
        },
        wrap_cls: H5VL_wrap_class_t {
            get_object: Some(wrap::get_object::<K>),       // get_object
            get_wrap_ctx: Some(wrap::get_wrap_ctx::<K>),   // get_wrap_ctx
            wrap_object: Some(wrap::wrap_object::<K>),     // wrap_object
            unwrap_object: Some(wrap::unwrap_object::<K>), // unwrap_object
            free_wrap_ctx: Some(wrap::free_wrap_ctx::<K>), // free_wrap_ctx
        },
        attr_cls: H5VL_attr_class_t {
            create: Some(attr::create::<K>),     // create
            open: Some(attr::open::<K>),         // open
            read: Some(attr::read::<K>),         // read
            write: Some(attr::write::<K>),       // write
            get: Some(attr::get::<K>),           // get
            specific: Some(attr::specific::<K>), // specific
            optional: Some(attr::optional::<K>), // optional
            close: Some(attr::close::<K>),       // close
        },
        dataset_cls: H5VL_dataset_class_t {
            create: Some(dataset::create::<K>),     // create
            open: Some(dataset::open::<K>),         // open
            read: Some(dataset::read::<K>),         // read (one or many datasets)
            write: Some(dataset::write::<K>),       // write (one or many datasets)
            get: Some(dataset::get::<K>),           // get
            specific: Some(dataset::specific::<K>), // specific
            optional: Some(dataset::optional::<K>), // optional
            close: Some(dataset::close::<K>),       // close
        },
        datatype_cls: H5VL_datatype_class_t {
            commit: Some(datatype::commit::<K>),     // commit
            open: Some(datatype::open::<K>),         // open
            get: Some(datatype::get::<K>),           // get
            specific: Some(datatype::specific::<K>), // specific
            optional: Some(datatype::optional::<K>), // optional
            close: Some(datatype::close::<K>),       // close
        },
        file_cls: H5VL_file_class_t {
            create: Some(file::create::<K>),     // create
            open: Some(file::open::<K>),         // open
            get: Some(file::get::<K>),           // get
            specific: Some(file::specific::<K>), // specific
            optional: Some(file::optional::<K>), // optional
            close: Some(file::close::<K>),       // close
        },
        group_cls: H5VL_group_class_t {
            create: Some(group::create::<K>),     // create
            open: Some(group::open::<K>),         // open
            get: Some(group::get::<K>),           // get
            specific: Some(group::specific::<K>), // specific
            optional: Some(group::optional::<K>), // optional
            close: Some(group::close::<K>),       // close
        },
        link_cls: H5VL_link_class_t {
            create: Some(link::create::<K>),     // create
            copy: Some(link::copy::<K>),         // copy
            move_: Some(link::move_::<K>),       // move
            get: Some(link::get::<K>),           // get
            specific: Some(link::specific::<K>), // specific
            optional: Some(link::optional::<K>), // optional
        },
        object_cls: H5VL_object_class_t {
            open: Some(object::open::<K>),         // open
            copy: Some(object::copy::<K>),         // copy
            get: Some(object::get::<K>),           // get
            specific: Some(object::specific::<K>), // specific
            optional: Some(object::optional::<K>), // optional
        },
        introspect_cls: H5VL_introspect_class_t {
            get_conn_cls: Some(introspect::get_conn_cls::<K>),   // get_conn_cls
            get_cap_flags: Some(introspect::get_cap_flags::<K>), // get_cap_flags
            opt_query: Some(introspect::opt_query::<K>),         // opt_query
        },
        request_cls: H5VL_request_class_t {
            wait: Some(request::wait::<K>),         // wait
            notify: Some(request::notify::<K>),     // notify
            cancel: Some(request::cancel::<K>),     // cancel
            specific: Some(request::specific::<K>), // specific
            optional: Some(request::optional::<K>), // optional
            free: Some(request::free::<K>),         // free
        },
        blob_cls: H5VL_blob_class_t {
            put: Some(blob::put::<K>),           // put
            get: Some(blob::get::<K>),           // get
            specific: Some(blob::specific::<K>), // specific
            optional: Some(blob::optional::<K>), // optional
        },
        token_cls: H5VL_token_class_t {
            cmp: Some(blob::token_cmp::<K>),           // cmp
            to_str: Some(blob::token_to_str::<K>),     // to_str
            from_str: Some(blob::token_from_str::<K>), // from_str
        },
        optional: Some(optional::<K>), // optional
    }
}
