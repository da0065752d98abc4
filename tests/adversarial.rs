//! The adversarial cases of issue 9 that need HDF5 calls h5py does not offer (`H5Lcopy`,
//! `H5Fmount`, `H5Fdelete`), through the real HDF5 library in this process. The rest of the
//! standing adversarial suite is `tests/python/test_adversarial.py`.

mod common;

use common::*;
use hdf5_sys::h5f::{H5Fdelete, H5Fmount, H5Funmount};
use hdf5_sys::h5g::{H5Gclose, H5Gcreate2};
use hdf5_sys::h5l::{H5Lcopy, H5Ldelete};
use hdf5_sys::h5p::{H5P_DEFAULT, H5Pclose};
use serial_test::serial;

const INFO: &str = "under_vol=0;under_info={}";

#[test]
#[serial]
fn a_name_made_again_after_h5lcopy_never_overwrites_the_copy() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run.h5");
    let fapl = split_fapl(INFO);
    let f = create(&run, fapl);
    assert!(make_dataset(f, "a", &[1.0, 1.0], H5P_DEFAULT));
    // SAFETY: plain calls on a valid file; checked.
    unsafe {
        assert!(H5Lcopy(f, c"a".as_ptr(), f, c"b".as_ptr(), H5P_DEFAULT, H5P_DEFAULT) >= 0);
        assert!(H5Ldelete(f, c"a".as_ptr(), H5P_DEFAULT) >= 0);
    }
    assert!(make_dataset(f, "a", &[2.0, 2.0], H5P_DEFAULT));
    close(f);
    assert_eq!(read_vector(&run, "b", 2), [1.0, 1.0]);
    assert_eq!(read_vector(&run, "a", 2), [2.0, 2.0]);
    assert_eq!(files_below(&dir.path().join("run-split")), ["a.h5", "a~n1.h5"]);
    // SAFETY: closes our property list.
    unsafe { H5Pclose(fapl) };
}

#[test]
#[serial]
fn a_dataset_made_below_a_mount_point_stays_in_the_mounted_file() {
    let dir = tempfile::tempdir().unwrap();
    let (a_path, b_path) = (dir.path().join("a.h5"), dir.path().join("b.h5"));
    let fapl = split_fapl(INFO);
    let b = create(&b_path, fapl);
    let a = create(&a_path, fapl);
    // SAFETY: plain calls on valid ids; checked.
    unsafe {
        let g = H5Gcreate2(a, c"mnt".as_ptr(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        assert!(g >= 0);
        H5Gclose(g);
        assert!(H5Fmount(a, c"mnt".as_ptr(), b, H5P_DEFAULT) >= 0, "{:#?}", take_error_stack());
    }
    assert!(make_dataset(a, "/mnt/x", &[4.0, 5.0], H5P_DEFAULT));
    assert!(make_dataset(a, "/y", &[6.0], H5P_DEFAULT));
    // SAFETY: as above.
    unsafe { assert!(H5Funmount(a, c"mnt".as_ptr()) >= 0) };
    close(a);
    close(b);
    // a's split folder holds only a's own dataset; b holds x, readable without a.
    assert_eq!(files_below(&dir.path().join("a-split")), ["y.h5"]);
    std::fs::remove_dir_all(dir.path().join("a-split")).unwrap();
    std::fs::remove_file(&a_path).unwrap();
    assert_eq!(read_vector(&b_path, "/x", 2), [4.0, 5.0]);
    // SAFETY: closes our property list.
    unsafe { H5Pclose(fapl) };
}

#[test]
#[serial]
fn h5fdelete_leaves_folders_that_are_not_provably_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run.h5");
    let fapl = split_fapl(INFO);
    // A folder the connector never made (no owner file): its layout-named files stay.
    close(create(&run, fapl));
    std::fs::create_dir(dir.path().join("run-split")).unwrap();
    std::fs::write(dir.path().join("run-split/x.h5"), "not ours").unwrap();
    // SAFETY: deletes through the connector (the fapl names it).
    assert!(unsafe { H5Fdelete(cpath(&run).as_ptr(), fapl) } >= 0);
    assert_eq!(files_below(&dir.path().join("run-split")), ["x.h5"]);
    // A split folder that is a symbolic link: nothing behind it is removed.
    std::fs::remove_dir_all(dir.path().join("run-split")).unwrap();
    let victim = dir.path().join("victim");
    std::fs::create_dir(&victim).unwrap();
    std::fs::write(victim.join("x.h5"), "precious").unwrap();
    std::fs::write(victim.join(".dset-split"), "run.h5\n").unwrap();
    std::os::unix::fs::symlink(&victim, dir.path().join("run-split")).unwrap();
    close(create(&run, fapl)); // truncating: nothing cleared through the link either
    // SAFETY: as above.
    assert!(unsafe { H5Fdelete(cpath(&run).as_ptr(), fapl) } >= 0);
    assert_eq!(std::fs::read(victim.join("x.h5")).unwrap(), b"precious");
    // SAFETY: closes our property list.
    unsafe { H5Pclose(fapl) };
}
