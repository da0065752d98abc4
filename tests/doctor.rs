//! `dset-split doctor` finds what HDF5 hides when it skips a plugin.

mod common;

use std::process::{Command, Output};

fn doctor(plugin_path: &std::path::Path, connector: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dset-split"))
        .arg("doctor")
        .env("HDF5_PLUGIN_PATH", plugin_path)
        .env("HDF5_VOL_CONNECTOR", connector)
        .output()
        .unwrap()
}

#[test]
fn a_working_setup_passes() {
    let dir = common::plugin_dir();
    let out = doctor(dir.path(), "dset_split under_vol=0;under_info={}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("HDF5 registers 'dset_split' from HDF5_PLUGIN_PATH"), "{text}");
    assert!(text.contains("no problems found"), "{text}");
}

#[test]
fn a_plugin_that_cannot_be_loaded_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("libdset_split.so"), b"not an ELF file").unwrap();
    let out = doctor(dir.path(), "dset_split under_vol=0;under_info={}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("libdset_split.so cannot be loaded"), "{text}");
    assert!(text.contains("fix: rebuild the plugin"), "{text}");
    assert!(text.contains("h5py then crashes at import"), "{text}");
}

#[test]
fn a_bad_info_string_is_explained() {
    let dir = common::plugin_dir();
    let out = doctor(dir.path(), "dset_split under_vol=0;under_inof={}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("unknown key 'under_inof'"), "{text}");
}

#[test]
fn an_empty_plugin_directory_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let out = doctor(dir.path(), "dset_split");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("no dset_split plugin found"), "{text}");
}

#[test]
fn json_output_lists_every_step() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dset-split"))
        .args(["doctor", "--json"])
        .env("HDF5_PLUGIN_PATH", dir.path())
        .env("HDF5_VOL_CONNECTOR", "dset_split under_vol=0;under_info={}")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(report["failed"], true);
    let steps = report["steps"].as_array().unwrap();
    let failed: Vec<&serde_json::Value> = steps.iter().filter(|s| s["status"] == "fail").collect();
    assert_eq!(failed.len(), 1, "{report}");
    assert!(failed[0]["what"].as_str().unwrap().contains("no dset_split plugin found"), "{report}");
    assert!(failed[0]["fix"].as_str().unwrap().contains("HDF5_PLUGIN_PATH"), "{report}");
}

#[test]
fn the_doctor_says_which_libhdf5_the_plugin_binds_to() {
    let dir = common::plugin_dir();
    let out = doctor(dir.path(), "dset_split under_vol=0;under_info={}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("binds at run time to the libhdf5 that loads it; here /"), "{text}");
    assert!(text.contains("libhdf5.so"), "{text}");
}
