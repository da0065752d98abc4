//! Passes facts about the HDF5 that hdf5-metno-sys found on to the crate and its tests.

fn main() {
    // hdf5-metno-sys sets DEP_HDF5_VERSION_<x>_<y>_<z> for every known version <= the one found.
    // Below 1.14 there is no usable VOL API (Debian 12's own HDF5 is 1.10): stop with a clear word.
    if std::env::var_os("DEP_HDF5_VERSION_1_14_0").is_none() {
        panic!(
            "dset-split needs HDF5 >= 1.14, but the HDF5 found is older (Debian 12 ships 1.10). \
             Point HDF5_DIR at a 1.14 or 2.x install, e.g. HDF5_DIR=$(bash scripts/hdf5.sh build 1.14 | tail -n1)"
        );
    }
    // hdf5-metno-sys (links = "hdf5") exports DEP_HDF5_* to crates that depend on it directly.
    let include = std::env::var("DEP_HDF5_INCLUDE").unwrap_or_default();
    println!("cargo::rustc-env=DSET_SPLIT_HDF5_INCLUDE={include}");
    let lib_dir = std::path::Path::new(&include).parent().map(|p| p.join("lib")).unwrap_or_default();
    println!("cargo::rustc-env=DSET_SPLIT_HDF5_LIBDIR={}", lib_dir.display());
    // The command falls back to the HDF5 it was built with (src/bin/dset-split/hdf5lib.rs), but
    // not in a Python package (setuptools-rust sets PYO3_PYTHON): on a user's machine that path is
    // the build machine's, so the packaged command uses h5py's HDF5 or says what to install.
    let packaged = std::env::var_os("PYO3_PYTHON").is_some();
    let fallback = if packaged { String::new() } else { lib_dir.display().to_string() };
    println!("cargo::rustc-env=DSET_SPLIT_HDF5_FALLBACK={fallback}");
    println!("cargo::rerun-if-env-changed=PYO3_PYTHON");
    // Test binaries run outside HDF5's process: give them an rpath to this libhdf5. (The plugin
    // gets none: it lives inside a process that already loaded libhdf5. Nor does the command: it
    // loads libhdf5 by its path, and libhdf5 finds its own dependencies; an rpath would only
    // make the loader search one more folder for libc on every start.)
    if lib_dir.is_dir() {
        println!("cargo::rustc-link-arg-tests=-Wl,-rpath,{}", lib_dir.display());
    }
    // The release command without its symbol table: a quarter less to read from disk when it
    // starts with a cold cache (what `mount`'s start costs; BENCHMARKS.md). The plugin keeps
    // its symbols.
    if std::env::var("PROFILE").is_ok_and(|p| p == "release") {
        println!("cargo::rustc-link-arg-bins=-Wl,--strip-all");
    }
    // The plugin binds to libhdf5 at run time (src/ffi/bind.rs): any other symbol left undefined
    // in it is a build error, not a failure inside a user's process.
    println!("cargo::rustc-cdylib-link-arg=-Wl,-z,defs");
    println!("cargo::rerun-if-env-changed=HDF5_DIR");
}
