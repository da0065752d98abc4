//! The connector as users load it: a child process with HDF5_PLUGIN_PATH and HDF5_VOL_CONNECTOR
//! pointing at a fresh directory that holds only the built plugin.
//!
//! The child is this test binary itself, re-run on the ignored `child_*` entry points.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;
use hdf5_sys::h5f::{H5F_ACC_TRUNC, H5Fcreate};
use hdf5_sys::h5p::H5P_DEFAULT;
use serial_test::serial;

const FULL_INFO: &str = "dset_split under_vol=0;under_info={}";

/// Runs the child entry point `entry` with the plugin on HDF5_PLUGIN_PATH, `connector` as
/// HDF5_VOL_CONNECTOR (unset if None) and DSET_SPLIT_LOG at `log` (unset if None).
fn run_child(entry: &str, connector: Option<&str>, dir: &Path, log: Option<&Path>) -> Output {
    let plugins = plugin_dir();
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([entry, "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env("HDF5_PLUGIN_PATH", plugins.path())
        .env("DSET_SPLIT_TEST_DIR", dir)
        .env_remove("DSET_SPLIT_LOG")
        .env_remove("HDF5_VOL_CONNECTOR");
    if let Some(log) = log {
        cmd.env("DSET_SPLIT_LOG", log);
    }
    if let Some(c) = connector {
        cmd.env("HDF5_VOL_CONNECTOR", c);
    }
    let out = cmd.output().unwrap();
    assert!(
        !text(&out.stderr).contains("infinite loop closing library"),
        "HDF5 could not shut down cleanly (a leaked object?):\n{}",
        text(&out.stderr)
    );
    out
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

#[test]
#[ignore = "entry point for child processes spawned by the tests in this file"]
fn child_write() {
    let dir = std::path::PathBuf::from(std::env::var_os("DSET_SPLIT_TEST_DIR").unwrap());
    let data: Vec<f64> = (0..1000).map(|x| (x as f64).sqrt()).collect();
    write_vector(&dir.join("run.h5"), "sqrt", &data, H5P_DEFAULT);
    assert_eq!(read_vector(&dir.join("run.h5"), "sqrt", data.len()), data);
}

#[test]
#[ignore = "entry point for child processes spawned by the tests in this file"]
fn child_leave_open() {
    let dir = std::path::PathBuf::from(std::env::var_os("DSET_SPLIT_TEST_DIR").unwrap());
    // The file is never closed: HDF5 closes it from its atexit handler, after main returns.
    // SAFETY: plain call; the id is deliberately leaked.
    let f = unsafe { H5Fcreate(cpath(&dir.join("open.h5")).as_ptr(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT) };
    assert!(f >= 0);
    assert_eq!(connector_name(f), "dset_split");
}

#[test]
#[ignore = "entry point for child processes spawned by the tests in this file"]
fn child_open_garbage() {
    let dir = std::path::PathBuf::from(std::env::var_os("DSET_SPLIT_TEST_DIR").unwrap());
    let path = dir.join("garbage.h5");
    std::fs::write(&path, vec![0x5a; 4096]).unwrap();
    // SAFETY: plain call; a failure is the expected outcome.
    let f = unsafe { hdf5_sys::h5f::H5Fopen(cpath(&path).as_ptr(), hdf5_sys::h5f::H5F_ACC_RDONLY, H5P_DEFAULT) };
    assert!(f < 0, "a file of garbage opened");
    // The library is still usable afterwards.
    let data = [1.0, 2.0];
    write_vector(&dir.join("after.h5"), "x", &data, H5P_DEFAULT);
    assert_eq!(read_vector(&dir.join("after.h5"), "x", 2), data);
}

#[test]
#[ignore = "entry point for child processes spawned by the tests in this file"]
fn child_create_refused() {
    let dir = std::path::PathBuf::from(std::env::var_os("DSET_SPLIT_TEST_DIR").unwrap());
    // HDF5 prints the error stack of the failed call to standard error.
    // SAFETY: plain call; a failure is the expected outcome.
    let f = unsafe { H5Fcreate(cpath(&dir.join("refused.h5")).as_ptr(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT) };
    assert!(f < 0, "the file was created through a refused connector stack");
}

#[test]
fn plugins_probed_after_a_failed_open_get_null_info_and_survive() {
    // No HDF5_VOL_CONNECTOR: after the native open fails, HDF5 loads every plugin on the path and
    // asks it whether it can open the file, with no connector info.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.txt");
    let out = run_child("child_open_garbage", None, dir.path(), Some(&log));
    assert!(out.status.success(), "child failed:\n{}\n{}", text(&out.stdout), text(&out.stderr));
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(log.contains("initialize") && log.contains("file_specific"), "the plugin was not probed:\n{log}");
}

#[test]
#[serial]
fn unmodified_program_writes_through_the_env_loaded_plugin() {
    for connector in [FULL_INFO, "dset_split", "dset_split under_vol=1;under_info={under_vol=0;under_info={}}"] {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log.txt");
        let out = run_child("child_write", Some(connector), dir.path(), Some(&log));
        assert!(out.status.success(), "{connector}: child failed:\n{}\n{}", text(&out.stdout), text(&out.stderr));
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        for call in
            ["initialize", "file_create", "dataset_create", "dataset_write", "dataset_read", "file_close", "terminated"]
        {
            assert!(
                log.lines().any(|l| l.ends_with(call) || l.contains(&format!(" {call} "))),
                "{connector}: no {call} in log:\n{log}"
            );
        }
        // The file is plain HDF5: this process reads it with no connector.
        let data: Vec<f64> = (0..1000).map(|x| (x as f64).sqrt()).collect();
        assert_eq!(read_vector(&dir.path().join("run.h5"), "sqrt", data.len()), data);
    }
}

#[test]
fn files_left_open_are_closed_cleanly_at_exit() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.txt");
    let out = run_child("child_leave_open", Some(FULL_INFO), dir.path(), Some(&log));
    assert!(out.status.success(), "child failed:\n{}\n{}", text(&out.stdout), text(&out.stderr));
    let log = std::fs::read_to_string(&log).unwrap();
    let close = log.find("file_close").expect("HDF5 closed the file at exit");
    let term = log.find("terminated").expect("the connector was terminated at exit");
    assert!(close < term, "file closed before the connector terminated:\n{log}");
}

#[test]
fn a_bad_info_string_is_explained_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_child("child_write", Some("dset_split under_vol=0;frob=1"), dir.path(), None);
    let err = text(&out.stderr);
    assert!(
        err.contains("dset_split-DIAG")
            && err.contains(
                "unknown key 'frob' (accepted keys: under_vol, under_info, split, min_size, include, exclude, suffix, elink_cache, track_times, layout)"
            ),
        "stderr does not explain the bad key:\n{err}"
    );
}

#[test]
fn the_logging_switch_is_off_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_child("child_write", Some(FULL_INFO), dir.path(), None);
    assert!(out.status.success());
    assert!(!text(&out.stderr).contains("dset_split["), "log lines without DSET_SPLIT_LOG");
}

/// `dset_split` over `depth` levels of HDF5's pass-through connector over native.
fn deep_stack(depth: usize) -> String {
    let levels = "under_vol=1;under_info={".repeat(depth);
    format!("dset_split {levels}under_vol=0;under_info={{}}{}", "}".repeat(depth))
}

#[test]
fn a_3000_deep_connector_stack_is_refused_without_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_child("child_create_refused", Some(&deep_stack(3000)), dir.path(), None);
    let err = text(&out.stderr);
    let shown = &err[..err.len().min(4000)];
    assert!(out.status.success(), "the child crashed ({:?}):\n{shown}", out.status);
    assert!(
        err.contains("dset_split-DIAG")
            && err.contains("the value of 'under_info' has braces nested more than 8 levels deep"),
        "stderr does not name the depth limit:\n{shown}"
    );
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "files were created");
}

#[test]
fn dset_split_below_itself_through_pass_through_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for connector in [
        "dset_split under_vol=1;under_info={under_vol=469;under_info={under_vol=0;under_info={}}}",
        "dset_split under_vol=pass_through;under_info={under_vol=1;under_info={under_vol=469;under_info={}}}",
    ] {
        let out = run_child("child_create_refused", Some(connector), dir.path(), None);
        let err = text(&out.stderr);
        assert!(out.status.success(), "{connector}: the child failed ({:?}):\n{err}", out.status);
        assert!(
            err.contains("dset_split-DIAG") && err.contains("dset_split is below itself"),
            "{connector}: stderr does not explain the refusal:\n{err}"
        );
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "{connector}: files were created");
    }
}

/// The plugin binds to the libhdf5 that loads it at run time (`ffi::bind`), and the command to
/// the one it loads (`DSET_SPLIT_HDF5_LIB`, h5py's wheel's through the Python package): neither
/// has a NEEDED entry for libhdf5, and no HDF5 symbol is left for the dynamic loader to resolve
/// (one would bind to whatever libhdf5 the global scope holds, or fail to load inside a wheel's
/// HDF5).
#[test]
fn the_plugin_and_the_command_do_not_link_libhdf5() {
    for file in [built_plugin(), std::path::PathBuf::from(env!("CARGO_BIN_EXE_dset-split"))] {
        assert_binds_at_run_time(&file);
    }
}

fn assert_binds_at_run_time(plugin: &Path) {
    let dynamic = Command::new("readelf").arg("-d").arg(plugin).output().expect("readelf (binutils) runs");
    let dynamic = String::from_utf8_lossy(&dynamic.stdout);
    assert!(dynamic.contains("(NEEDED)"), "readelf printed no NEEDED entries:\n{dynamic}");
    assert!(!dynamic.contains("libhdf5"), "the plugin needs libhdf5:\n{dynamic}");
    let symbols = Command::new("nm").args(["-D", "--undefined-only"]).arg(plugin).output().expect("nm runs");
    let undefined: Vec<&str> = std::str::from_utf8(&symbols.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .filter(|s| s.starts_with("H5"))
        .collect();
    assert!(undefined.is_empty(), "HDF5 symbols left to the dynamic loader: {undefined:?}");
}
