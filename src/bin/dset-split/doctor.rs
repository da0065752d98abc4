//! `dset-split doctor`: explains what HDF5 does not say when it skips a plugin.
//!
//! HDF5 `dlopen`s every `lib*.so*` in each `HDF5_PLUGIN_PATH` directory and silently skips one
//! that fails to load (a missing `libhdf5.so.NNN`, an undefined symbol) or whose class version
//! differs from its own; the user only sees "can't find plugin". This command repeats each step
//! and says which one fails and what to do.

use std::ffi::{CStr, c_int, c_uint, c_void};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dset_split::ffi::{H5PL_TYPE_VOL, H5VL_VERSION, H5VLclose, H5VLregister_connector_by_name};
use dset_split::info;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Check this plugin file instead of searching HDF5_PLUGIN_PATH
    #[arg(long)]
    plugin: Option<PathBuf>,
    /// Print one JSON object instead of lines (for scripts)
    #[arg(long)]
    json: bool,
}

/// One step's outcome.
#[derive(Debug, serde::Serialize)]
struct Step {
    /// `ok`, `info` or `fail`.
    status: &'static str,
    what: String,
    /// For a failed step: what to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
}

#[derive(Debug, serde::Serialize)]
struct Report {
    version: &'static str,
    steps: Vec<Step>,
    failed: bool,
}

impl Report {
    fn push(&mut self, status: &'static str, what: &str, fix: Option<&str>) {
        self.steps.push(Step { status, what: what.to_string(), fix: fix.map(str::to_string) });
    }
    fn ok(&mut self, what: impl AsRef<str>) {
        self.push("ok", what.as_ref(), None);
    }
    fn info(&mut self, what: impl AsRef<str>) {
        self.push("info", what.as_ref(), None);
    }
    fn fail(&mut self, what: impl AsRef<str>, fix: impl AsRef<str>) {
        self.failed = true;
        self.push("fail", what.as_ref(), Some(fix.as_ref()));
    }
}

fn hdf5_version() -> String {
    let (mut a, mut b, mut c): (c_uint, c_uint, c_uint) = (0, 0, 0);
    // SAFETY: three valid out pointers.
    unsafe { dset_split::ffi::sys::h5::H5get_libversion(&mut a, &mut b, &mut c) };
    format!("{a}.{b}.{c}")
}

/// Paths of the loaded HDF5 libraries: `libhdf5.so*`, or a wheel's `libhdf5-<hash>.so*` (not
/// the high-level `libhdf5_hl`).
fn loaded_libhdf5() -> Vec<String> {
    unsafe extern "C" fn visit(info: *mut libc::dl_phdr_info, _size: usize, data: *mut c_void) -> c_int {
        // SAFETY: the loader passes a valid entry; `data` is the vector below.
        unsafe {
            let name = (*info).dlpi_name;
            if !name.is_null() {
                let name = CStr::from_ptr(name).to_string_lossy().into_owned();
                let file = Path::new(&name).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
                if file.starts_with("libhdf5.so") || (file.starts_with("libhdf5-") && file.contains(".so")) {
                    (*data.cast::<Vec<String>>()).push(name);
                }
            }
        }
        0
    }
    let mut out: Vec<String> = Vec::new();
    // SAFETY: the callback only reads each entry and appends to `out`.
    unsafe { libc::dl_iterate_phdr(Some(visit), (&mut out as *mut Vec<String>).cast()) };
    out.sort();
    out.dedup();
    out
}

fn candidates(report: &mut Report, explicit: Option<&Path>) -> Vec<PathBuf> {
    if let Some(p) = explicit {
        return vec![p.to_path_buf()];
    }
    let Some(path) = std::env::var_os("HDF5_PLUGIN_PATH") else {
        report.fail("HDF5_PLUGIN_PATH is not set", "export HDF5_PLUGIN_PATH=<directory holding libdset_split.so>");
        return Vec::new();
    };
    let mut found = Vec::new();
    for dir in std::env::split_paths(&path) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            report.fail(
                format!("plugin directory {} cannot be read", dir.display()),
                "check the path in HDF5_PLUGIN_PATH (directories, separated by ':')",
            );
            continue;
        };
        let mut libs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let f = p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
                f.starts_with("lib") && f.contains(".so")
            })
            .collect();
        libs.sort();
        report.info(format!("{}: {} plugin candidate(s)", dir.display(), libs.len()));
        found.extend(libs);
    }
    found
}

/// Loads one plugin like HDF5 does and checks what HDF5 checks. Returns whether it is ours and fine.
fn check_plugin(report: &mut Report, path: &Path) -> bool {
    // The handle is intentionally kept open (as HDF5 does).
    let handle = match dset_split::ffi::bind::dlopen(path, libc::RTLD_NOW | libc::RTLD_LOCAL) {
        Ok(h) => h,
        Err(msg) => {
            report.fail(
                format!("{} cannot be loaded: {msg}", path.display()),
                "rebuild the plugin (cargo build --release, or pip install .): this version binds at run time to any \
             HDF5 1.14 or 2.x and needs no libhdf5 to load; with HDF5 2.x a plugin named in HDF5_VOL_CONNECTOR that \
             fails to load makes the library fail to start, and h5py then crashes at import",
            );
            return false;
        }
    };
    // SAFETY: looking up symbols in a loaded library.
    let get_type = unsafe { libc::dlsym(handle, c"H5PLget_plugin_type".as_ptr()) };
    // SAFETY: as above.
    let get_info = unsafe { libc::dlsym(handle, c"H5PLget_plugin_info".as_ptr()) };
    if get_type.is_null() || get_info.is_null() {
        report.info(format!("{}: not an HDF5 plugin (no H5PLget_plugin_* symbols)", path.display()));
        return false;
    }
    // SAFETY: the symbols have the C signatures HDF5's plugin interface defines.
    let (kind, cls) = unsafe {
        let get_type: extern "C" fn() -> c_int = std::mem::transmute(get_type);
        let get_info: extern "C" fn() -> *const c_void = std::mem::transmute(get_info);
        (get_type(), get_info())
    };
    if kind != H5PL_TYPE_VOL || cls.is_null() {
        report.info(format!("{}: an HDF5 plugin, but not a VOL connector", path.display()));
        return false;
    }
    // SAFETY: a VOL plugin's info is an H5VL_class_t; its first fields are the same in every
    // class version (version, value, name).
    let (version, value, name) = unsafe {
        let cls = cls.cast::<dset_split::ffi::H5VL_class_t>();
        let name = (*cls).name;
        let name = if name.is_null() { String::new() } else { CStr::from_ptr(name).to_string_lossy().into_owned() };
        ((*cls).version, (*cls).value, name)
    };
    if name != dset_split::CONNECTOR_NAME {
        report.info(format!("{}: VOL connector '{name}' (value {value}), not dset_split", path.display()));
        return false;
    }
    if version != H5VL_VERSION {
        report.fail(
            format!("{}: class version {version}, this HDF5 expects {H5VL_VERSION}", path.display()),
            "build the plugin against the HDF5 the program uses",
        );
        return false;
    }
    report
        .ok(format!("{}: loads, VOL connector 'dset_split' (value {value}, class version {version})", path.display()));
    // SAFETY: looking up a symbol in the loaded plugin.
    let bound = unsafe { libc::dlsym(handle, c"dset_split_bound_library".as_ptr()) };
    if !bound.is_null() {
        // SAFETY: the plugin's `dset_split_bound_library(unsigned)`: NULL or a loader-owned string.
        let lib = unsafe {
            let bound: extern "C" fn(c_uint) -> *const std::ffi::c_char = std::mem::transmute(bound);
            let p = bound(0);
            (!p.is_null()).then(|| CStr::from_ptr(p).to_string_lossy().into_owned())
        };
        if let Some(lib) = lib {
            report.info(format!(
                "{}: binds at run time to the libhdf5 that loads it; here {lib} (each libhdf5 copy in a process \
                 gets its own binding, up to {})",
                path.display(),
                dset_split::ffi::bind::MAX_COPIES
            ));
        }
    }
    true
}

fn check_env_string(report: &mut Report) {
    let Some(raw) = std::env::var_os("HDF5_VOL_CONNECTOR") else {
        report.info("HDF5_VOL_CONNECTOR is not set: programs use the native connector unless they register dset_split");
        return;
    };
    let raw = raw.to_string_lossy().into_owned();
    let trimmed = raw.trim_start();
    let (name, rest) = trimmed.split_once(char::is_whitespace).unwrap_or((trimmed, ""));
    if name != dset_split::CONNECTOR_NAME {
        report.info(format!("HDF5_VOL_CONNECTOR names '{name}', not dset_split"));
        return;
    }
    match info::parse(rest) {
        Ok(_) => report.ok(format!("HDF5_VOL_CONNECTOR=\"{raw}\" parses")),
        Err(e) => {
            report.fail(format!("HDF5_VOL_CONNECTOR=\"{raw}\": {}", e.msg), "see the README's info-string grammar")
        }
    }
}

pub fn run(args: &Args) -> ExitCode {
    let mut report = Report { version: dset_split::VERSION_STRING, steps: Vec::new(), failed: false };
    check_env_string(&mut report);
    // The live check below registers the connector by name; keep HDF5 from doing it at start-up
    // with a string that may be broken, so that its failure is reported here, step by step.
    // SAFETY: nothing else runs yet (single thread, before any HDF5 call).
    unsafe { std::env::remove_var("HDF5_VOL_CONNECTOR") };

    report.info(format!("this tool uses HDF5 {} ({})", hdf5_version(), loaded_libhdf5().join(", ")));
    let mut ours = 0;
    for path in candidates(&mut report, args.plugin.as_deref()) {
        if check_plugin(&mut report, &path) {
            ours += 1;
        }
    }
    let libs = loaded_libhdf5();
    if libs.len() > 1 {
        report.info(format!(
            "{} libhdf5 copies are loaded ({}): the plugin serves each on its own",
            libs.len(),
            libs.join(", ")
        ));
    }
    if ours == 0 && !report.failed {
        report.fail(
            "no dset_split plugin found",
            "copy target/release/libdset_split.so into a directory listed in HDF5_PLUGIN_PATH",
        );
    }
    if ours > 0 && args.plugin.is_none() {
        // SAFETY: a valid NUL-terminated name; the id is closed below.
        let id = unsafe { H5VLregister_connector_by_name(c"dset_split".as_ptr(), 0) };
        if id >= 0 {
            report.ok("HDF5 registers 'dset_split' from HDF5_PLUGIN_PATH");
            // SAFETY: closes the id registered above.
            unsafe { H5VLclose(id) };
        } else {
            report.fail("HDF5 cannot register 'dset_split' (its error stack is above)", "see the messages above");
            // SAFETY: prints the default error stack to stderr.
            unsafe { dset_split::ffi::sys::h5e::H5Eprint2(0, std::ptr::null_mut()) };
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).expect("a report serialises"));
    } else {
        println!("dset-split doctor {}", report.version);
        for step in &report.steps {
            match (&step.fix, step.status) {
                (Some(fix), _) => println!("  FAIL  {}\n        fix: {fix}", step.what),
                (None, status) => println!("  {status:4}  {}", step.what),
            }
        }
        println!("dset-split doctor: {}", if report.failed { "problems found" } else { "no problems found" });
    }
    if report.failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
