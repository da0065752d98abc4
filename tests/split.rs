//! The split layout in the link form (`layout=link`), through the real HDF5 library in this
//! process: where files go, how they are linked, and what happens around creation, truncation,
//! deletion and failures. Files are always read back with the native connector (no plugin), as
//! plain HDF5 users would. The virtual form (the default) is tested by `c-tests/split_virtual.c`
//! and `tests/python/test_virtual.py`.

mod common;

use std::path::Path;

use common::*;
use hdf5_sys::h5d::{H5Dclose, H5Dopen2};
use hdf5_sys::h5f::{H5F_ACC_RDONLY, H5F_ACC_RDWR, H5Fclose, H5Fopen};
use hdf5_sys::h5l::H5Lexists;
use hdf5_sys::h5p::{H5P_DEFAULT, H5Pclose};
use serial_test::serial;

const INFO: &str = "under_vol=0;under_info={};layout=link";

fn exists(loc: i64, name: &str) -> bool {
    // SAFETY: plain call.
    unsafe { H5Lexists(loc, cstr(name).as_ptr(), H5P_DEFAULT) > 0 }
}

#[test]
#[serial]
fn each_dataset_gets_its_own_file_linked_relative_to_the_main_file() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run.h5");
    let fapl = split_fapl(INFO);
    let lcpl = lcpl_intermediate();
    let f = create(&run, fapl);
    let temp: Vec<f64> = (0..64).map(f64::from).collect();
    assert!(make_dataset(f, "/g1/g2/temp", &temp, lcpl));
    assert!(make_dataset(f, "x", &[1.0, 2.0], H5P_DEFAULT));
    assert!(make_dataset(f, "/g1/Temp", &[3.0], H5P_DEFAULT));
    close(f);

    assert_eq!(files_below(&dir.path().join("run-split")), ["g1/Temp~1.h5", "g1/g2/temp.h5", "x.h5"]);
    assert_eq!(
        link_of(&run, "/g1/g2/temp"),
        (dset_split::ffi::H5L_TYPE_EXTERNAL, Some(("run-split/g1/g2/temp.h5".into(), "/data".into())))
    );
    // Plain HDF5 reads it, here and after the whole tree moved somewhere else.
    assert_eq!(read_vector(&run, "/g1/g2/temp", 64), temp);
    let moved = tempfile::tempdir().unwrap();
    let moved_run = moved.path().join("elsewhere/run.h5");
    std::fs::rename(dir.path(), moved.path().join("elsewhere")).unwrap();
    assert_eq!(read_vector(&moved_run, "/g1/g2/temp", 64), temp);
    assert_eq!(read_vector(&moved_run, "x", 2), [1.0, 2.0]);
    // ... and from another working directory, with a relative name.
    let cwd = std::env::current_dir().unwrap();
    std::env::set_current_dir(moved.path()).unwrap();
    let relative = read_vector(Path::new("elsewhere/run.h5"), "/g1/g2/temp", 64);
    std::env::set_current_dir(cwd).unwrap();
    assert_eq!(relative, temp);
    // SAFETY: closes our property lists.
    unsafe {
        H5Pclose(fapl);
        H5Pclose(lcpl);
    }
}

/// Writes a small layout: groups, a split dataset, an inline (small) one, an attribute.
fn write_layout(run: &Path, fapl: i64) {
    let lcpl = lcpl_intermediate();
    let f = create(run, fapl);
    let data: Vec<f64> = (0..1000).map(|x| f64::from(x).sin()).collect();
    assert!(make_dataset(f, "/group/wave", &data, lcpl));
    assert!(make_dataset(f, "/group/tiny", &[1.0], lcpl));
    // SAFETY: ids checked.
    unsafe {
        let s = hdf5_sys::h5s::H5Screate(hdf5_sys::h5s::H5S_class_t::H5S_SCALAR);
        let a = hdf5_sys::h5a::H5Acreate2(
            f,
            cstr("note").as_ptr(),
            *hdf5_sys::h5t::H5T_NATIVE_INT,
            s,
            H5P_DEFAULT,
            H5P_DEFAULT,
        );
        assert!(hdf5_sys::h5a::H5Awrite(a, *hdf5_sys::h5t::H5T_NATIVE_INT, [7i32].as_ptr().cast()) >= 0);
        hdf5_sys::h5a::H5Aclose(a);
        hdf5_sys::h5s::H5Sclose(s);
        H5Pclose(lcpl);
    }
    close(f);
}

#[test]
#[serial]
fn the_same_program_writes_the_same_bytes_twice() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run.h5");
    // min_size keeps /group/tiny in the main file.
    let fapl = split_fapl("under_vol=0;under_info={};layout=link;min_size=64");
    let mut snapshots = Vec::new();
    for _ in 0..2 {
        write_layout(&run, fapl);
        let main = std::fs::read(&run).unwrap();
        let split = std::fs::read(dir.path().join("run-split/group/wave.h5")).unwrap();
        snapshots.push((main, split));
        std::thread::sleep(std::time::Duration::from_millis(1100)); // a timestamp would change
    }
    assert!(snapshots[0].1 == snapshots[1].1, "split file bytes differ between identical runs");
    assert!(snapshots[0].0 == snapshots[1].0, "main file bytes differ between identical runs");
    assert_eq!(link_of(&run, "/group/tiny").0, dset_split::ffi::H5L_TYPE_HARD);
    // track_times=on: the main file records times, as natively, and so changes.
    let native_times = split_fapl("under_vol=0;under_info={};layout=link;min_size=64;track_times=on");
    write_layout(&run, native_times);
    let first = std::fs::read(&run).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    write_layout(&run, native_times);
    assert!(first != std::fs::read(&run).unwrap(), "track_times=on should record (changing) times");
    // SAFETY: closes our property lists.
    unsafe {
        H5Pclose(fapl);
        H5Pclose(native_times);
    }
}

#[test]
#[serial]
fn truncating_or_deleting_the_main_file_removes_its_split_files_only() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run.h5");
    let fapl = split_fapl(INFO);
    let f = create(&run, fapl);
    assert!(make_dataset(f, "a", &[1.0], H5P_DEFAULT));
    assert!(make_dataset(f, "b", &[2.0], H5P_DEFAULT));
    close(f);
    std::fs::write(dir.path().join("run-split/NOTES.txt"), "not ours").unwrap();
    let f = create(&run, fapl);
    assert!(make_dataset(f, "c", &[3.0], H5P_DEFAULT));
    close(f);
    assert_eq!(files_below(&dir.path().join("run-split")), ["NOTES.txt", "c.h5"]);
    // SAFETY: deletes through the connector (the fapl names it).
    assert!(unsafe { hdf5_sys::h5f::H5Fdelete(cpath(&run).as_ptr(), fapl) } >= 0);
    assert!(!run.exists());
    assert_eq!(files_below(&dir.path().join("run-split")), ["NOTES.txt"]);
    // SAFETY: closes our property list.
    unsafe { H5Pclose(fapl) };
}

#[test]
#[serial]
fn a_missing_split_file_is_named_with_how_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run.h5");
    let fapl = split_fapl(INFO);
    let f = create(&run, fapl);
    assert!(make_dataset(f, "/fields/u", &[1.0], lcpl_intermediate()));
    close(f);
    std::fs::remove_file(dir.path().join("run-split/fields/u.h5")).unwrap();
    // SAFETY: ids checked.
    unsafe {
        let f = H5Fopen(cpath(&run).as_ptr(), H5F_ACC_RDONLY, fapl);
        assert!(f >= 0);
        let _quiet = quiet_errors();
        let d = H5Dopen2(f, cstr("/fields/u").as_ptr(), H5P_DEFAULT);
        assert!(d < 0);
        assert_our_error("dataset /fields/u is stored in run-split/fields/u.h5");
        H5Fclose(f);
        H5Pclose(fapl);
    }
}

#[test]
#[serial]
fn creation_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run.h5");
    let fapl = split_fapl(INFO);
    let f = create(&run, fapl);
    let quiet = quiet_errors(); // the failures below are expected
    // The name is taken: refused before anything is written.
    assert!(make_dataset(f, "x", &[1.0], H5P_DEFAULT));
    refused_dataset(f, "x", H5P_DEFAULT, "cannot create dataset x: the name is already taken");
    // The parent group is missing and the lcpl does not create it.
    refused_dataset(f, "/no/such/group/y", H5P_DEFAULT, "the group /no does not exist");
    // A file is in the way of the split folder's directory: nothing is left behind.
    std::fs::create_dir_all(dir.path().join("run-split")).unwrap();
    std::fs::write(dir.path().join("run-split/blocked"), "a file, not a folder").unwrap();
    refused_dataset(f, "/blocked/z", lcpl_intermediate(), "blocked is not a directory");
    assert!(!exists(f, "/blocked"));
    // A symbolic link in the split folder is never written through.
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("run-split/escape")).unwrap();
    refused_dataset(f, "/escape/w", lcpl_intermediate(), "escape is a symbolic link");
    assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none(), "wrote outside the split folder");
    close(f);
    assert_eq!(files_below(&dir.path().join("run-split")), ["blocked", "x.h5"]);
    drop(quiet);
    // SAFETY: closes our property list.
    unsafe { H5Pclose(fapl) };
}

#[test]
#[serial]
fn a_read_only_main_file_refuses_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run.h5");
    let fapl = split_fapl(INFO);
    close(create(&run, fapl));
    // SAFETY: ids checked.
    unsafe {
        let f = H5Fopen(cpath(&run).as_ptr(), H5F_ACC_RDONLY, fapl);
        let _quiet = quiet_errors();
        assert!(try_dataset(f, "x", &[1.0], H5P_DEFAULT).is_err());
        H5Fclose(f);
        H5Pclose(fapl);
    }
    assert!(!dir.path().join("run-split").exists());
}

#[test]
#[serial]
fn policy_decides_which_datasets_split() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run.h5");
    let fapl = split_fapl("under_vol=0;under_info={};layout=link;min_size=64;exclude=*_tmp,/keep/**;suffix=.parts");
    let lcpl = lcpl_intermediate();
    let f = create(&run, fapl);
    assert!(make_dataset(f, "big", &[0.0; 8], lcpl)); // 64 bytes: splits
    assert!(make_dataset(f, "small", &[0.0; 7], lcpl)); // 56 bytes: stays
    assert!(make_dataset(f, "scratch_tmp", &[0.0; 100], lcpl));
    assert!(make_dataset(f, "/keep/a/b", &[0.0; 100], lcpl));
    close(f);
    assert_eq!(files_below(&dir.path().join("run.parts")), ["big.h5"]);
    for inline in ["small", "scratch_tmp", "/keep/a/b"] {
        assert_eq!(link_of(&run, inline).0, dset_split::ffi::H5L_TYPE_HARD, "{inline}");
    }
    // split=off: a pure passthrough.
    let off = split_fapl("under_vol=0;under_info={};layout=link;split=off");
    let f = create(&dir.path().join("plain.h5"), off);
    assert!(make_dataset(f, "big", &[0.0; 100], lcpl));
    close(f);
    assert!(!dir.path().join("plain-split").exists());
    // SAFETY: closes our property lists.
    unsafe {
        H5Pclose(fapl);
        H5Pclose(off);
        H5Pclose(lcpl);
    }
}

#[test]
#[serial]
fn hard_links_names_and_counts_of_split_datasets() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run.h5");
    let fapl = split_fapl(INFO);
    let f = create(&run, fapl);
    assert!(make_dataset(f, "x", &[1.0, 2.0], H5P_DEFAULT));
    // SAFETY: ids checked; buffers ours.
    unsafe {
        // A hard link to a split dataset cannot cross files: it becomes a link to the same file.
        assert!(
            hdf5_sys::h5l::H5Lcreate_hard(f, cstr("x").as_ptr(), f, cstr("alias").as_ptr(), H5P_DEFAULT, H5P_DEFAULT)
                >= 0
        );
        let d = H5Dopen2(f, cstr("alias").as_ptr(), H5P_DEFAULT);
        assert!(d >= 0);
        // H5Fget_name of a split dataset names the main file, as natively.
        let mut buf = [0 as std::ffi::c_char; 512];
        let n = hdf5_sys::h5f::H5Fget_name(d, buf.as_mut_ptr(), buf.len());
        assert!(n > 0);
        assert_eq!(std::ffi::CStr::from_ptr(buf.as_ptr()).to_str().unwrap(), run.to_str().unwrap());
        // H5Iget_name is its path in the main file (the link it was opened by), not "/data".
        let n = hdf5_sys::h5i::H5Iget_name(d, buf.as_mut_ptr(), buf.len());
        assert!(n > 0);
        assert_eq!(std::ffi::CStr::from_ptr(buf.as_ptr()).to_str().unwrap(), "/alias");
        // ... and the main file counts it among its open objects.
        assert_eq!(hdf5_sys::h5f::H5Fget_obj_count(f, hdf5_sys::h5f::H5F_OBJ_DATASET), 1);
        H5Dclose(d);
        assert_eq!(hdf5_sys::h5f::H5Fget_obj_count(f, hdf5_sys::h5f::H5F_OBJ_DATASET), 0);
    }
    close(f);
    assert_eq!(link_of(&run, "alias").1, Some(("run-split/x.h5".into(), "/data".into())));
    assert_eq!(read_vector(&run, "alias", 2), [1.0, 2.0]);
    // Reopened read-write, the file takes new split datasets next to the old ones.
    // SAFETY: ids checked.
    unsafe {
        let f = H5Fopen(cpath(&run).as_ptr(), H5F_ACC_RDWR, fapl);
        assert!(make_dataset(f, "y", &[3.0], H5P_DEFAULT));
        H5Fclose(f);
        H5Pclose(fapl);
    }
    assert_eq!(files_below(&dir.path().join("run-split")), ["x.h5", "y.h5"]);
}

fn delete(loc: i64, name: &str) {
    // SAFETY: plain call; checked.
    assert!(unsafe { hdf5_sys::h5l::H5Ldelete(loc, cstr(name).as_ptr(), H5P_DEFAULT) } >= 0, "H5Ldelete {name}");
}

fn rename(loc: i64, from: &str, to: &str, lcpl: i64) {
    // SAFETY: plain call; checked.
    let rc = unsafe { hdf5_sys::h5l::H5Lmove(loc, cstr(from).as_ptr(), loc, cstr(to).as_ptr(), lcpl, H5P_DEFAULT) };
    assert!(rc >= 0, "H5Lmove {from} {to}: {:#?}", take_error_stack());
}

#[test]
#[serial]
fn deleting_links_removes_split_files_nothing_else_uses() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run.h5");
    let split = dir.path().join("run-split");
    let fapl = split_fapl(INFO);
    let lcpl = lcpl_intermediate();
    let f = create(&run, fapl);
    for name in ["/a", "/b", "/g/c", "/g/sub/d"] {
        assert!(make_dataset(f, name, &[1.0], lcpl));
    }
    // SAFETY: plain call; checked.
    let rc = unsafe {
        hdf5_sys::h5l::H5Lcreate_hard(f, cstr("/b").as_ptr(), f, cstr("/alias").as_ptr(), H5P_DEFAULT, H5P_DEFAULT)
    };
    assert!(rc >= 0);
    // Files go when the main file closes (until then the application may link the object again).
    let all = ["a.h5", "b.h5", "g/c.h5", "g/sub/d.h5"];
    delete(f, "/a");
    delete(f, "/b"); // /alias still leads to b.h5
    assert_eq!(files_below(&split), all);
    close(f);
    assert_eq!(files_below(&split), ["b.h5", "g/c.h5", "g/sub/d.h5"]);
    let f = open_rw(&run, fapl);
    delete(f, "/alias");
    delete(f, "/g"); // a group: everything below it goes
    assert_eq!(files_below(&split), ["b.h5", "g/c.h5", "g/sub/d.h5"]);
    close(f);
    assert!(files_below(&split).is_empty());
    assert!(!split.join("g").exists());
    // SAFETY: closes our property lists.
    unsafe {
        H5Pclose(fapl);
        H5Pclose(lcpl);
    }
}

#[test]
#[serial]
fn moving_links_moves_split_files_so_the_layout_mirrors_the_paths() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run.h5");
    let split = dir.path().join("run-split");
    let fapl = split_fapl(INFO);
    let lcpl = lcpl_intermediate();
    let f = create(&run, fapl);
    assert!(make_dataset(f, "/g/x", &[1.0, 2.0], lcpl));
    assert!(make_dataset(f, "/y", &[3.0], lcpl));
    rename(f, "/y", "/h/y2", lcpl);
    assert_eq!(files_below(&split), ["g/x.h5", "h/y2.h5"]);
    rename(f, "/g", "/k", lcpl); // a group: everything below it moves
    assert_eq!(files_below(&split), ["h/y2.h5", "k/x.h5"]);
    rename(f, "/k/x", "/k/X", lcpl);
    assert_eq!(files_below(&split), ["h/y2.h5", "k/X~1.h5"]);
    close(f);
    assert_eq!(link_of(&run, "/k/X").1, Some(("run-split/k/X~1.h5".into(), "/data".into())));
    assert_eq!(read_vector(&run, "/k/X", 2), [1.0, 2.0]);
    assert_eq!(read_vector(&run, "/h/y2", 1), [3.0]);
    // SAFETY: closes our property lists.
    unsafe {
        H5Pclose(fapl);
        H5Pclose(lcpl);
    }
}

#[test]
#[serial]
fn flushing_the_main_file_flushes_open_split_files() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run.h5");
    let fapl = split_fapl(INFO);
    let f = create(&run, fapl);
    let pattern: Vec<f64> = (0..500).map(|i| 4242.4242 + f64::from(i)).collect();
    let bytes: Vec<u8> = pattern.iter().flat_map(|v| v.to_le_bytes()).collect();
    let t = *hdf5_sys::h5t::H5T_NATIVE_DOUBLE;
    // SAFETY: ids checked; the buffer outlives the calls.
    unsafe {
        let dims = [pattern.len() as u64];
        let s = hdf5_sys::h5s::H5Screate_simple(1, dims.as_ptr(), std::ptr::null());
        let d = hdf5_sys::h5d::H5Dcreate2(f, cstr("wave").as_ptr(), t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        assert!(d >= 0);
        let all = hdf5_sys::h5s::H5S_ALL;
        assert!(hdf5_sys::h5d::H5Dwrite(d, t, all, all, H5P_DEFAULT, pattern.as_ptr().cast()) >= 0);
        // The dataset stays open; flushing the main file must put its data on disk.
        assert!(hdf5_sys::h5f::H5Fflush(f, hdf5_sys::h5f::H5F_scope_t::H5F_SCOPE_LOCAL) >= 0);
        let on_disk = std::fs::read(dir.path().join("run-split/wave.h5")).unwrap();
        assert!(on_disk.windows(bytes.len()).any(|w| w == bytes.as_slice()), "the data is not on disk after H5Fflush");
        H5Dclose(d);
        hdf5_sys::h5s::H5Sclose(s);
        H5Pclose(fapl);
    }
    close(f);
}

#[test]
#[serial]
fn copying_a_split_dataset_makes_an_independent_split_copy() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run.h5");
    let fapl = split_fapl(INFO);
    let lcpl = lcpl_intermediate();
    let f = create(&run, fapl);
    assert!(make_dataset(f, "x", &[1.0, 2.0, 3.0], lcpl));
    // SAFETY: ids checked.
    unsafe {
        let rc = hdf5_sys::h5o::H5Ocopy(f, cstr("x").as_ptr(), f, cstr("/copies/x2").as_ptr(), H5P_DEFAULT, lcpl);
        assert!(rc >= 0, "H5Ocopy: {:#?}", take_error_stack());
        // Change the copy: the original stays as it was.
        let d = H5Dopen2(f, cstr("/copies/x2").as_ptr(), H5P_DEFAULT);
        let t = *hdf5_sys::h5t::H5T_NATIVE_DOUBLE;
        let all = hdf5_sys::h5s::H5S_ALL;
        assert!(hdf5_sys::h5d::H5Dwrite(d, t, all, all, H5P_DEFAULT, [9.0f64, 9.0, 9.0].as_ptr().cast()) >= 0);
        H5Dclose(d);
    }
    close(f);
    assert_eq!(files_below(&dir.path().join("run-split")), ["copies/x2.h5", "x.h5"]);
    assert_eq!(link_of(&run, "/copies/x2").1, Some(("run-split/copies/x2.h5".into(), "/data".into())));
    assert_eq!(read_vector(&run, "x", 3), [1.0, 2.0, 3.0]);
    assert_eq!(read_vector(&run, "/copies/x2", 3), [9.0, 9.0, 9.0]);
    // SAFETY: closes our property lists.
    unsafe {
        H5Pclose(fapl);
        H5Pclose(lcpl);
    }
}

#[test]
#[serial]
fn split_files_get_the_main_files_access_properties() {
    // Format bounds on the main file's fapl reach the split files: with "1.8 and later", HDF5
    // writes superblock version 2 instead of 0.
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run.h5");
    let fapl = split_fapl(INFO);
    // SAFETY: sets a property on our own fapl.
    let rc = unsafe {
        hdf5_sys::h5p::H5Pset_libver_bounds(
            fapl,
            hdf5_sys::h5f::H5F_libver_t::H5F_LIBVER_V18,
            hdf5_sys::h5f::H5F_libver_t::H5F_LIBVER_V18,
        )
    };
    assert!(rc >= 0);
    let f = create(&run, fapl);
    assert!(make_dataset(f, "x", &[1.0], H5P_DEFAULT));
    close(f);
    let superblock_version = |p: &Path| std::fs::read(p).unwrap()[8];
    assert_eq!(superblock_version(&run), 2);
    assert_eq!(superblock_version(&dir.path().join("run-split/x.h5")), 2);
    // SAFETY: closes our property list.
    unsafe { H5Pclose(fapl) };
}

#[test]
#[serial]
fn two_main_files_with_one_stem_never_share_or_clear_each_others_split_files() {
    let dir = tempfile::tempdir().unwrap();
    let (h5, nc) = (dir.path().join("run.h5"), dir.path().join("run.nc"));
    let fapl = split_fapl(INFO);
    let f = create(&h5, fapl);
    assert!(make_dataset(f, "x", &[1.0], H5P_DEFAULT));
    close(f);
    assert_eq!(std::fs::read_to_string(dir.path().join("run-split/.dset-split")).unwrap(), "run.h5\n");
    // run.nc would map to the same folder: truncating it leaves run.h5's files alone, and
    // splitting into it is refused with a way out.
    let g = create(&nc, fapl);
    let _quiet = quiet_errors();
    refused_dataset(g, "y", H5P_DEFAULT, "the split folder");
    close(g);
    assert_eq!(files_below(&dir.path().join("run-split")), ["x.h5"]);
    let other = split_fapl("under_vol=0;under_info={};layout=link;suffix=-nc-split");
    let g = create(&nc, other);
    assert!(make_dataset(g, "y", &[2.0], H5P_DEFAULT));
    close(g);
    assert_eq!(files_below(&dir.path().join("run-nc-split")), ["y.h5"]);
    assert_eq!(read_vector(&h5, "x", 1), [1.0]);
    // SAFETY: closes our property lists.
    unsafe {
        H5Pclose(fapl);
        H5Pclose(other);
    }
}

#[test]
#[serial]
fn an_anonymous_dataset_linked_later_is_split_and_keeps_working() {
    // h5py's `group[name] = data` makes datasets this way: H5Dcreate_anon, write, H5Olink.
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run.h5");
    let fapl = split_fapl(INFO);
    let f = create(&run, fapl);
    let t = *hdf5_sys::h5t::H5T_NATIVE_DOUBLE;
    let all = hdf5_sys::h5s::H5S_ALL;
    // SAFETY: ids checked; buffers outlive the calls.
    unsafe {
        let dims = [3u64];
        let s = hdf5_sys::h5s::H5Screate_simple(1, dims.as_ptr(), std::ptr::null());
        let d = hdf5_sys::h5d::H5Dcreate_anon(f, t, s, H5P_DEFAULT, H5P_DEFAULT);
        assert!(d >= 0);
        assert!(hdf5_sys::h5d::H5Dwrite(d, t, all, all, H5P_DEFAULT, [1.0f64, 2.0, 3.0].as_ptr().cast()) >= 0);
        let rc = hdf5_sys::h5o::H5Olink(d, f, cstr("/later/named").as_ptr(), lcpl_intermediate(), H5P_DEFAULT);
        assert!(rc >= 0, "H5Olink: {:#?}", take_error_stack());
        // Written after linking: must land in the split file too.
        assert!(hdf5_sys::h5d::H5Dwrite(d, t, all, all, H5P_DEFAULT, [4.0f64, 5.0, 6.0].as_ptr().cast()) >= 0);
        H5Dclose(d);
        hdf5_sys::h5s::H5Sclose(s);
        H5Pclose(fapl);
    }
    close(f);
    assert_eq!(files_below(&dir.path().join("run-split")), ["later/named.h5"]);
    assert_eq!(link_of(&run, "/later/named").1, Some(("run-split/later/named.h5".into(), "/data".into())));
    assert_eq!(read_vector(&run, "/later/named", 3), [4.0, 5.0, 6.0]);
}

#[test]
#[serial]
fn writing_never_modifies_a_cache_that_split_files_link_into() {
    // DVC's hardlink and symlink cache modes leave workspace files as read-only links into its
    // cache; as root, read-only would not stop a write. Simulate both and write through them.
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run.h5");
    let fapl = split_fapl(INFO);
    let f = create(&run, fapl);
    assert!(make_dataset(f, "hard", &[1.0, 2.0], H5P_DEFAULT));
    assert!(make_dataset(f, "soft", &[3.0, 4.0], H5P_DEFAULT));
    close(f);
    let cache = dir.path().join("cache");
    std::fs::create_dir(&cache).unwrap();
    for (name, symbolic) in [("hard", false), ("soft", true)] {
        let file = dir.path().join(format!("run-split/{name}.h5"));
        let cached = cache.join(name);
        std::fs::rename(&file, &cached).unwrap();
        let mut perms = std::fs::metadata(&cached).unwrap().permissions();
        perms.set_readonly(true);
        std::fs::set_permissions(&cached, perms).unwrap();
        if symbolic {
            std::os::unix::fs::symlink(&cached, &file).unwrap();
        } else {
            std::fs::hard_link(&cached, &file).unwrap();
        }
    }
    let before: Vec<Vec<u8>> = ["hard", "soft"].iter().map(|n| std::fs::read(cache.join(n)).unwrap()).collect();
    let t = *hdf5_sys::h5t::H5T_NATIVE_DOUBLE;
    let all = hdf5_sys::h5s::H5S_ALL;
    // SAFETY: ids checked.
    unsafe {
        let f = H5Fopen(cpath(&run).as_ptr(), H5F_ACC_RDWR, fapl);
        assert!(f >= 0);
        for name in ["hard", "soft"] {
            let d = H5Dopen2(f, cstr(name).as_ptr(), H5P_DEFAULT);
            assert!(d >= 0, "{name}: {:#?}", take_error_stack());
            assert!(hdf5_sys::h5d::H5Dwrite(d, t, all, all, H5P_DEFAULT, [9.0f64, 9.0].as_ptr().cast()) >= 0);
            H5Dclose(d);
        }
        H5Fclose(f);
        H5Pclose(fapl);
    }
    let after: Vec<Vec<u8>> = ["hard", "soft"].iter().map(|n| std::fs::read(cache.join(n)).unwrap()).collect();
    assert!(before == after, "the cache was modified");
    assert_eq!(read_vector(&run, "hard", 2), [9.0, 9.0]);
    assert_eq!(read_vector(&run, "soft", 2), [9.0, 9.0]);
    assert!(!std::fs::symlink_metadata(dir.path().join("run-split/soft.h5")).unwrap().file_type().is_symlink());
}
