//! The connector in this process, registered through the C API, against the real HDF5 library.

mod common;

use std::ffi::c_void;
use std::ptr::null_mut;

use common::*;
use dset_split::capi::{H5Pset_fapl_dset_split, H5VL_dset_split_register};
use dset_split::conn_info::ConnInfo;
use dset_split::ffi::{H5VLclose, H5VLregister_connector_by_value, herr_t};
use hdf5_sys::h5f::{H5F_ACC_RDONLY, H5Fclose, H5Fopen};
use hdf5_sys::h5p::{H5P_CLS_FILE_ACCESS, H5Pclose, H5Pcreate};
use serial_test::serial;

fn fapl_with(info: Option<&str>) -> i64 {
    // SAFETY: H5open makes the class id valid; the new fapl is checked.
    let fapl = unsafe {
        hdf5_sys::h5::H5open();
        H5Pcreate(*H5P_CLS_FILE_ACCESS)
    };
    assert!(fapl >= 0);
    let c = info.map(cstr);
    // SAFETY: `c` is NULL or a NUL-terminated string that outlives the call.
    let rc = unsafe { H5Pset_fapl_dset_split(fapl, c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())) };
    assert!(rc >= 0, "H5Pset_fapl_dset_split({info:?}): {:#?}", take_error_stack());
    fapl
}

#[test]
#[serial]
fn registered_connector_writes_plain_hdf5() {
    let dir = tempfile::tempdir().unwrap();
    let id = H5VL_dset_split_register();
    assert!(id >= 0);
    for (i, info) in [Some("under_vol=0;under_info={}"), None, Some(""), Some("under_vol=native")].iter().enumerate() {
        let fapl = fapl_with(*info);
        let path = dir.path().join(format!("f{i}.h5"));
        let data: Vec<f64> = (0..100).map(|x| x as f64 * 0.5 + i as f64).collect();
        write_vector(&path, "values", &data, fapl);
        // SAFETY: the file is opened through the fapl, its id checked and closed.
        unsafe {
            let f = H5Fopen(cpath(&path).as_ptr(), H5F_ACC_RDONLY, fapl);
            assert!(f >= 0);
            assert_eq!(connector_name(f), "dset_split");
            H5Fclose(f);
            H5Pclose(fapl);
        }
        assert_eq!(read_vector(&path, "values", data.len()), data, "read back natively");
    }
    // SAFETY: releases the id registered above.
    unsafe { H5VLclose(id) };
}

#[test]
#[serial]
fn bad_info_strings_are_reported_in_our_error_class() {
    // SAFETY: H5open makes the class id valid.
    let fapl = unsafe {
        hdf5_sys::h5::H5open();
        H5Pcreate(*H5P_CLS_FILE_ACCESS)
    };
    for (info, needle) in [
        (
            "under_vol=0;colour=red",
            "unknown key 'colour' (accepted keys: under_vol, under_info, split, min_size, include, exclude, suffix, elink_cache, track_times, layout)",
        ),
        ("under_vol=dset_split", "is dset_split itself"),
        ("under_vol=0;under_info={under_vol=0", "never closed"),
        ("under_vol=4000", "no VOL connector with value 4000"),
        ("under_vol=0;under_info={bogus}", "the connector below takes no info string"),
    ] {
        let c = cstr(info);
        // SAFETY: `c` is a NUL-terminated string that outlives the call.
        let rc = unsafe { H5Pset_fapl_dset_split(fapl, c.as_ptr()) };
        assert!(rc < 0, "{info} was accepted");
        assert_our_error(needle);
    }
    // SAFETY: closes the fapl created above.
    unsafe { H5Pclose(fapl) };
}

#[test]
#[serial]
fn dset_split_below_itself_with_no_info_string_is_refused_when_files_open() {
    // dset_split over HDF5's pass-through over dset_split, with no info string for the inner one:
    // the info string check cannot see it (the pass-through names value 469 and nothing more), so
    // the file create and open refuse it.
    let ours = H5VL_dset_split_register();
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.h5");
    write_vector(&plain, "x", &[1.0], hdf5_sys::h5p::H5P_DEFAULT);
    // Registers HDF5's pass-through connector, as under_vol=1 does.
    drop(ConnInfo::parse("under_vol=1;under_info={under_vol=0;under_info={}}").unwrap());
    // SAFETY: plain calls with valid strings; every id and info is checked, and released below.
    unsafe {
        let pass_through = H5VLregister_connector_by_value(1, hdf5_sys::h5p::H5P_DEFAULT);
        assert!(pass_through >= 0);
        let mut below: *mut c_void = null_mut();
        let text = cstr("under_vol=469;under_info={}");
        assert!(dset_split::ffi::H5VLconnector_str_to_info(text.as_ptr(), pass_through, &mut below) >= 0);
        let info = ConnInfo { under_vol_id: pass_through, under_vol_info: below, policy: Default::default() };
        let fapl = H5Pcreate(*H5P_CLS_FILE_ACCESS);
        let raw = info.into_raw();
        assert!(hdf5_sys::h5p::H5Pset_vol(fapl, ours, raw) >= 0);
        drop(ConnInfo::from_raw(raw));
        {
            let _quiet = quiet_errors();
            let path = cpath(&dir.path().join("twice.h5"));
            let f =
                hdf5_sys::h5f::H5Fcreate(path.as_ptr(), hdf5_sys::h5f::H5F_ACC_TRUNC, hdf5_sys::h5p::H5P_DEFAULT, fapl);
            assert!(f < 0, "created through dset_split below itself");
            assert_our_error("creating \"");
            let f = H5Fopen(cpath(&plain).as_ptr(), H5F_ACC_RDONLY, fapl);
            assert!(f < 0, "opened through dset_split below itself");
            let stack = take_error_stack();
            assert!(
                stack.iter().any(|(class, desc)| class == "dset_split"
                    && desc.contains("opening \"")
                    && desc.contains("dset_split is below itself in the connector stack")),
                "{stack:#?}"
            );
        }
        assert_eq!(files_below(dir.path()), ["plain.h5"]);
        // The guard is left behind: the same thread opens files through dset_split afterwards.
        H5Pclose(fapl);
        let fapl = fapl_with(Some("under_vol=1;under_info={under_vol=0;under_info={}}"));
        let f = H5Fopen(cpath(&plain).as_ptr(), H5F_ACC_RDONLY, fapl);
        assert!(f >= 0, "{:#?}", take_error_stack());
        H5Fclose(f);
        H5Pclose(fapl);
        H5VLclose(ours);
    }
}

#[test]
#[serial]
fn a_panic_becomes_an_hdf5_error_not_an_abort() {
    H5VL_dset_split_register();
    let rc: herr_t = dset_split::boundary::guard(0, "attr_read", || panic!("deliberate test panic"));
    assert_eq!(rc, -1);
    assert_our_error("attr_read panicked: deliberate test panic");
    let p: *mut c_void = dset_split::boundary::guard(0, "dataset_open", || panic!("{}", String::from("owned message")));
    assert!(p.is_null());
    assert_our_error("dataset_open panicked: owned message");
}

#[test]
#[serial]
fn callbacks_refuse_null_objects_with_a_message() {
    H5VL_dset_split_register();
    // SAFETY: a NULL object is exactly the bad input under test; the callback must not touch it.
    let rc = unsafe { dset_split::vol::attr::read::<0>(null_mut(), 0, null_mut(), 0, null_mut()) };
    assert_eq!(rc, -1);
    assert_our_error("NULL object pointer");
    // SAFETY: as above.
    let rc = unsafe {
        dset_split::vol::dataset::read::<0>(
            0,
            null_mut(),
            null_mut(),
            null_mut(),
            null_mut(),
            0,
            null_mut(),
            null_mut(),
        )
    };
    assert_eq!(rc, -1);
    assert_our_error("no dataset given");
}

#[test]
#[serial]
fn info_strings_round_trip_through_hdf5() {
    H5VL_dset_split_register();
    for text in ["", "under_vol=0;under_info={}", " under_vol = native ; "] {
        let info = dset_split::conn_info::ConnInfo::parse(text).unwrap();
        let rendered = info.to_info_string().unwrap();
        assert_eq!(rendered, "under_vol=0;under_info={}");
        let again = dset_split::conn_info::ConnInfo::parse(&rendered).unwrap();
        assert_eq!(info.compare(&again).unwrap(), 0);
        let copy = info.try_clone().unwrap();
        assert_eq!(copy.compare(&info).unwrap(), 0);
    }
}
