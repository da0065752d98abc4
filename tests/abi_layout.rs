//! Every struct the crate hands to HDF5 or reads from it has the size and field offsets of the
//! installed C headers, and every constant the crate hard-codes has the headers' value. A C probe
//! is generated from the table below, compiled against the headers hdf5-metno-sys found, and run.

use std::fmt::Write as _;
use std::mem::{offset_of, size_of};
use std::process::Command;

use dset_split::ffi::*;

/// One fact to compare: what C must print for `expr`, and what Rust says.
struct Fact {
    label: String,
    c_expr: String,
    rust: i64,
}

macro_rules! cpath {
    ($($f:ident).+) => { stringify!($($f).+).replace(' ', "") };
    ($($f:ident).+ as $c:literal) => { $c.to_string() };
}

/// `layout!(T: field, a.b.c, rust_name as "c_name", ...)`: size of T and offset of each field.
macro_rules! layout {
    ($facts:ident, $t:ident : $($($f:ident).+ $(as $c:literal)?),* $(,)?) => {
        $facts.push(Fact {
            label: format!("sizeof({})", stringify!($t)),
            c_expr: format!("sizeof({})", stringify!($t)),
            rust: size_of::<$t>() as i64,
        });
        $(
            let c = cpath!($($f).+ $(as $c)?);
            $facts.push(Fact {
                label: format!("offsetof({}, {c})", stringify!($t)),
                c_expr: format!("offsetof({}, {c})", stringify!($t)),
                rust: offset_of!($t, $($f).+) as i64,
            });
        )*
    };
}

macro_rules! constant {
    ($facts:ident, $($name:ident),* $(,)?) => {$(
        $facts.push(Fact { label: stringify!($name).into(), c_expr: stringify!($name).into(), rust: $name as i64 });
    )*};
}

macro_rules! typedef_size {
    ($facts:ident, $($t:ident),* $(,)?) => {$(
        $facts.push(Fact {
            label: format!("sizeof({})", stringify!($t)),
            c_expr: format!("sizeof({})", stringify!($t)),
            rust: size_of::<$t>() as i64,
        });
    )*};
}

#[rustfmt::skip]
fn facts() -> Vec<Fact> {
    let mut f = Vec::new();
    typedef_size!(
        f,
        hid_t,
        herr_t,
        hsize_t,
        H5I_type_t,
        H5VL_class_value_t,
        H5VL_subclass_t,
        H5VL_get_conn_lvl_t,
        H5VL_request_status_t,
        H5VL_loc_type_t,
        H5VL_file_specific_t,
        H5VL_group_specific_t,
        H5VL_link_create_t,
        H5L_type_t,
        H5_index_t,
        H5_iter_order_t,
        H5PL_type_t,
        H5O_token_t
    );
    constant!(
        f, H5VL_VERSION, H5PL_TYPE_VOL, H5VL_NATIVE_VALUE, H5VL_PASSTHRU_VALUE, H5VL_GET_CONN_LVL_CURR,
        H5VL_REQUEST_STATUS_IN_PROGRESS, H5VL_CAP_FLAG_THREADSAFE, H5VL_FILE_FLUSH, H5VL_FILE_REOPEN,
        H5VL_FILE_IS_ACCESSIBLE, H5VL_FILE_DELETE, H5VL_FILE_IS_EQUAL, H5VL_GROUP_MOUNT, H5VL_LINK_CREATE_HARD,
        H5VL_LINK_CREATE_SOFT, H5VL_LINK_CREATE_UD, H5VL_OBJECT_BY_SELF, H5VL_OBJECT_BY_NAME, H5VL_OBJECT_BY_IDX, H5VL_OBJECT_BY_TOKEN, H5I_FILE, H5I_GROUP,
        H5I_DATASET, H5VL_OBJECT_GET_FILE, H5VL_OBJECT_GET_NAME, H5VL_OBJECT_GET_TYPE, H5VL_OBJECT_GET_INFO,
        H5O_INFO_BASIC, H5VL_LINK_DELETE, H5VL_LINK_EXISTS, H5VL_LINK_ITER, H5VL_LINK_GET_INFO, H5VL_LINK_GET_NAME, H5VL_LINK_GET_VAL,
        H5L_TYPE_HARD, H5L_TYPE_SOFT, H5L_TYPE_EXTERNAL, H5D_VIRTUAL, H5T_REFERENCE, H5F_ACC_RDWR, H5F_ACC_TRUNC,
        H5F_CLOSE_WEAK, H5VL_OBJECT_VISIT, H5VL_OBJECT_LOOKUP, H5VL_SUBCLS_FILE, H5VL_NATIVE_FILE_POST_OPEN, H5VL_OPT_QUERY_SUPPORTED, H5VL_FILE_GET_NAME,
        H5VL_FILE_GET_OBJ_COUNT, H5VL_FILE_GET_OBJ_IDS, H5F_OBJ_DATASET,
        H5VL_DATASET_GET_DCPL, H5VL_DATASET_GET_SPACE, H5VL_DATASET_GET_TYPE, H5VL_DATASET_GET_DAPL,
        H5VL_DATASET_GET_SPACE_STATUS, H5VL_DATASET_GET_STORAGE_SIZE, H5VL_DATASET_SET_EXTENT, H5VL_DATASET_FLUSH,
        H5VL_DATASET_REFRESH, H5VL_ATTR_ITER, H5VL_ATTR_GET_SPACE, H5I_ATTR, H5VL_OBJECT_FLUSH, H5O_INFO_NUM_ATTRS, H5F_ACC_RDONLY
    );
    layout!(f, H5VL_loc_by_name_t: name, lapl_id);
    layout!(f, H5VL_loc_by_idx_t: name, idx_type, order, n, lapl_id);
    layout!(f, H5VL_loc_by_token_t: token);
    layout!(f, H5VL_loc_params_t: obj_type, type_ as "type", loc_data.loc_by_token.token, loc_data.loc_by_name.name,
        loc_data.loc_by_name.lapl_id, loc_data.loc_by_idx.name, loc_data.loc_by_idx.idx_type, loc_data.loc_by_idx.order,
        loc_data.loc_by_idx.n, loc_data.loc_by_idx.lapl_id);
    layout!(f, H5VL_optional_args_t: op_type, args);
    layout!(f, H5VL_file_specific_args_t: op_type, args.flush.obj_type, args.flush.scope, args.reopen.file,
        args.is_accessible.filename, args.is_accessible.fapl_id, args.is_accessible.accessible, args.del.filename,
        args.del.fapl_id, args.is_equal.obj2, args.is_equal.same_file);
    layout!(f, H5VL_group_specific_args_t: op_type, args.mount.name, args.mount.child_file, args.mount.fmpl_id);
    layout!(f, H5VL_group_spec_mount_args_t: name, child_file, fmpl_id);
    layout!(f, H5VL_link_create_args_t: op_type, args.hard.curr_obj, args.hard.curr_loc_params, args.soft.target,
        args.ud.type_ as "args.ud.type", args.ud.buf, args.ud.buf_size);
    layout!(f, H5VL_object_get_args_t: op_type, args.get_file as "args.get_file.file", args.get_name.buf_size, args.get_name.buf,
        args.get_name.name_len, args.get_type as "args.get_type.obj_type", args.get_info.fields, args.get_info.oinfo);
    layout!(f, H5L_info2_t: type_ as "type", corder_valid, corder, cset, u.token, u.val_size);
    layout!(f, H5VL_link_get_args_t: op_type, args.get_info as "args.get_info.linfo", args.get_name.name_size,
        args.get_name.name, args.get_name.name_len, args.get_val.buf_size, args.get_val.buf);
    layout!(f, H5VL_link_specific_args_t: op_type, args.exists as "args.exists.exists", args.iterate.recursive,
        args.iterate.idx_type, args.iterate.order, args.iterate.idx_p, args.iterate.op, args.iterate.op_data);
    layout!(f, H5VL_dataset_specific_args_t: op_type, args.size as "args.set_extent.size",
        args.dset_id as "args.flush.dset_id");
    layout!(f, H5VL_attr_specific_args_t: op_type, args.iterate.idx_type, args.iterate.order, args.iterate.idx,
        args.iterate.op, args.iterate.op_data);
    layout!(f, H5O_info2_t: fileno, token, type_ as "type", rc, atime, mtime, ctime, btime, num_attrs);
    layout!(f, H5VL_object_specific_args_t: op_type, args.change_rc as "args.change_rc.delta",
        args.exists as "args.exists.exists", args.lookup as "args.lookup.token_ptr", args.visit.idx_type,
        args.visit.order, args.visit.fields, args.visit.op, args.visit.op_data, args.flush as "args.flush.obj_id",
        args.refresh as "args.refresh.obj_id");
    layout!(f, H5VL_file_get_args_t: op_type, args.get_name.type_ as "args.get_name.type", args.get_name.buf_size,
        args.get_name.buf, args.get_name.file_name_len, args.get_obj_count.types, args.get_obj_count.count,
        args.get_obj_ids.types, args.get_obj_ids.max_objs, args.get_obj_ids.oid_list, args.get_obj_ids.count);
    layout!(f, H5VL_dataset_get_args_t: op_type, args.id as "args.get_dcpl.dcpl_id");
    layout!(f, H5VL_attr_get_args_t: op_type, args.id as "args.get_space.space_id");
    layout!(f, H5VL_info_class_t: size, copy, cmp, free, to_str, from_str);
    layout!(f, H5VL_wrap_class_t: get_object, get_wrap_ctx, wrap_object, unwrap_object, free_wrap_ctx);
    layout!(f, H5VL_attr_class_t: create, open, read, write, get, specific, optional, close);
    layout!(f, H5VL_dataset_class_t: create, open, read, write, get, specific, optional, close);
    layout!(f, H5VL_datatype_class_t: commit, open, get, specific, optional, close);
    layout!(f, H5VL_file_class_t: create, open, get, specific, optional, close);
    layout!(f, H5VL_group_class_t: create, open, get, specific, optional, close);
    layout!(f, H5VL_link_class_t: create, copy, move_ as "move", get, specific, optional);
    layout!(f, H5VL_object_class_t: open, copy, get, specific, optional);
    layout!(f, H5VL_introspect_class_t: get_conn_cls, get_cap_flags, opt_query);
    layout!(f, H5VL_request_class_t: wait, notify, cancel, specific, optional, free);
    layout!(f, H5VL_blob_class_t: put, get, specific, optional);
    layout!(f, H5VL_token_class_t: cmp, to_str, from_str);
    layout!(f, H5VL_class_t: version, value, name, conn_version, cap_flags, initialize, terminate, info_cls, wrap_cls,
        attr_cls, dataset_cls, datatype_cls, file_cls, group_cls, link_cls, object_cls, introspect_cls, request_cls,
        blob_cls, token_cls, optional);
    f
}

#[test]
fn ffi_matches_installed_headers() {
    let include = env!("DSET_SPLIT_HDF5_INCLUDE");
    assert!(!include.is_empty(), "hdf5-metno-sys did not report an include directory");
    let facts = facts();
    let mut src = String::from(
        "#include <stddef.h>\n#include <stdio.h>\n#include <hdf5.h>\n#include <H5VLconnector.h>\n\
         #include <H5VLconnector_passthru.h>\n#include <H5PLextern.h>\n#include <H5VLnative.h>\n#include <H5VLpassthru.h>\nint main(void) {\n",
    );
    for fact in &facts {
        writeln!(src, "  printf(\"%lld\\n\", (long long)({}));", fact.c_expr).unwrap();
    }
    src.push_str("  return 0;\n}\n");

    let dir = tempfile::tempdir().unwrap();
    let c_file = dir.path().join("probe.c");
    let exe = dir.path().join("probe");
    std::fs::write(&c_file, &src).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = Command::new(&cc)
        .arg("-I")
        .arg(include)
        .arg(&c_file)
        .arg("-o")
        .arg(&exe)
        // Some constants (H5F_ACC_*) expand to calls that open the library.
        .arg(format!("-L{}", env!("DSET_SPLIT_HDF5_LIBDIR")))
        .arg(format!("-Wl,-rpath,{}", env!("DSET_SPLIT_HDF5_LIBDIR")))
        .arg("-lhdf5")
        .output()
        .expect("run cc");
    assert!(out.status.success(), "probe failed to compile:\n{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(&exe).output().expect("run probe");
    assert!(out.status.success());
    let printed: Vec<i64> = String::from_utf8(out.stdout).unwrap().lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(printed.len(), facts.len());

    let mismatches: Vec<String> = facts
        .iter()
        .zip(&printed)
        .filter(|(fact, c)| fact.rust != **c)
        .map(|(fact, c)| format!("{}: C {c}, Rust {}", fact.label, fact.rust))
        .collect();
    assert!(mismatches.is_empty(), "Rust FFI differs from {include}:\n{}", mismatches.join("\n"));
    assert!(facts.len() > 150, "the table shrank: {} facts", facts.len());
}
