//! The committed C header is exactly what cbindgen generates from the sources, and the versions
//! in Cargo.toml, the header and the code agree.

use std::path::Path;

fn generate() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join("src/capi.rs"))
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut out);
    String::from_utf8(out).expect("UTF-8 header")
}

#[test]
fn committed_header_is_fresh() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/dset_split.h");
    let fresh = generate();
    if std::env::var_os("DSET_SPLIT_BLESS").is_some() {
        std::fs::write(&path, &fresh).expect("write header");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/dset_split.h is stale: regenerate it with `DSET_SPLIT_BLESS=1 cargo test --test header`"
    );
}

#[test]
fn versions_agree() {
    let header = generate();
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(dset_split::VERSION_STRING, version, "src/capi.rs DSET_SPLIT_VERSION vs Cargo.toml");
    assert!(header.contains(&format!("#define DSET_SPLIT_VERSION \"{version}\"")), "header version");
    // SAFETY: the function returns a static NUL-terminated string.
    let c_version = unsafe { std::ffi::CStr::from_ptr(dset_split::capi::dset_split_version()) };
    assert_eq!(c_version.to_str().unwrap(), version, "dset_split_version()");
    assert!(header.contains("#define DSET_SPLIT_NAME \"dset_split\""));
    assert!(header.contains(&format!("#define DSET_SPLIT_VALUE {}", dset_split::CONNECTOR_VALUE)));
    assert!((256..=511).contains(&dset_split::CONNECTOR_VALUE), "value must stay in HDF5's testing range");
}
