//! Binding at run time to the libhdf5 the connector runs in (issue 11). The plugin has no NEEDED
//! entry for libhdf5: every HDF5 function and global it uses is looked up with `dlsym`, once, in
//! the library that loads it. `H5PLget_plugin_info` finds that library by its return address
//! (HDF5 calls it while loading the plugin): so a plugin runs inside h5py's or netCDF4's wheel,
//! whose libhdf5 is loaded privately under a hashed name, as well as in a program linked to
//! libhdf5. A program that registers the connector itself (`H5VL_dset_split_register`), the
//! `dset-split` command and the tests are linked to libhdf5: the binding takes the one in the
//! global scope.
//!
//! The declarations (`bind!` lists in `ffi` and `ffi::sys`) give each function its C signature;
//! each becomes a table slot filled at binding and a Rust function of the same name that calls
//! through it, so the rest of the code calls HDF5 as before.

use std::ffi::{CStr, c_void};
use std::sync::OnceLock;

use super::hid_t;

/// A library already loaded in the process, opened again (without loading anything) to look its
/// symbols up.
#[derive(Debug)]
pub struct Lib {
    handle: *mut c_void,
    /// Its file, as the dynamic loader knows it (the loader's own string: nothing of the binding
    /// lives on the heap, which a leak checker would report once HDF5 unloads the plugin).
    path: &'static CStr,
    /// Where it is loaded (tells two copies of libhdf5 apart).
    base: usize,
    /// Whether it is the libhdf5 of the global scope (the program is linked to it): then a
    /// variable of it may have been copied into the program (a copy relocation), and the copy is
    /// the one the library uses.
    global: bool,
}

// SAFETY: a `dlopen` handle may be used from any thread; the library is never closed.
unsafe impl Send for Lib {}
// SAFETY: as above; `dlsym` is thread-safe.
unsafe impl Sync for Lib {}

impl Lib {
    /// The loaded library that holds the code at `addr` (only looked up, never read).
    #[allow(clippy::not_unsafe_ptr_arg_deref)]
    pub fn containing(addr: *const c_void) -> Result<Lib, String> {
        let info = dl_info(addr)
            .filter(|i| !i.dli_fname.is_null())
            .ok_or("the library that loads the plugin cannot be found (dladdr)")?;
        // SAFETY: `dladdr` set a NUL-terminated file name owned by the loader, which lives as long
        // as the object; the handle taken below keeps the object loaded for good.
        let path: &'static CStr = unsafe { CStr::from_ptr(info.dli_fname) };
        // SAFETY: RTLD_NOLOAD only returns a handle to an object already loaded (its name as the
        // loader gave it), taking a reference that keeps it loaded; nothing new is loaded.
        let handle = unsafe { libc::dlopen(info.dli_fname, libc::RTLD_NOLOAD | libc::RTLD_NOW) };
        if handle.is_null() {
            return Err(format!("{} cannot be opened again (dlopen RTLD_NOLOAD)", path.to_string_lossy()));
        }
        let global = base_of(global_sym(c"H5VLregister_connector")) == Some(info.dli_fbase);
        Ok(Lib { handle, path, base: info.dli_fbase as usize, global })
    }

    /// The libhdf5 in the process's global scope (a program linked to it).
    pub fn global() -> Result<Lib, String> {
        let f = global_sym(c"H5VLregister_connector");
        if f.is_null() {
            return Err("no HDF5 library in the program's global scope".into());
        }
        Lib::containing(f)
    }

    /// Whether `other` is this same loaded library.
    pub fn is(&self, other: &Lib) -> bool {
        self.base == other.base
    }

    /// Its file, as the dynamic loader knows it.
    pub fn path(&self) -> std::borrow::Cow<'static, str> {
        self.path.to_string_lossy()
    }

    /// The address of symbol `name`.
    pub fn sym(&self, name: &CStr) -> Result<*mut c_void, String> {
        self.opt_sym(name).ok_or_else(|| format!("{} has no {}", self.path(), name.to_string_lossy()))
    }

    /// The address of the variable `name` as the library itself uses it: its copy in the
    /// program when the program copied it (see `global`), else its own.
    pub fn var(&self, name: &CStr) -> Result<*mut c_void, String> {
        let own = self.sym(name)?;
        let copy = global_sym(name);
        Ok(if self.global && !copy.is_null() { copy } else { own })
    }

    /// The address of a variable of the library or of one it depends on, as the process uses it:
    /// the program's copy when the program copied it (a program linked to the library that
    /// defines it and refers to it: a copy relocation, which the library then uses too), else the
    /// one [`Lib::opt_sym`] finds.
    pub fn opt_var(&self, name: &CStr) -> Option<*mut c_void> {
        let own = self.opt_sym(name)?;
        let copy = global_sym(name);
        Some(if copy.is_null() { own } else { copy })
    }

    /// Refuses an HDF5 older than 1.14 (another VOL class layout), naming its version.
    pub fn check_version(&self) -> Result<(), String> {
        let get = self.sym(c"H5get_libversion")?;
        // SAFETY: HDF5's `herr_t H5get_libversion(unsigned *, unsigned *, unsigned *)`.
        let get: unsafe extern "C" fn(*mut u32, *mut u32, *mut u32) -> super::herr_t =
            unsafe { std::mem::transmute(get) };
        let (mut major, mut minor, mut release) = (0, 0, 0);
        // SAFETY: three valid out slots.
        if unsafe { get(&mut major, &mut minor, &mut release) } < 0 {
            return Err(format!("{} does not tell its version", self.path()));
        }
        if (major, minor) < (1, 14) {
            return Err(format!(
                "{} is HDF5 {major}.{minor}.{release}: dset_split needs HDF5 1.14 or 2.x (older series have \
                 another VOL class layout)",
                self.path()
            ));
        }
        Ok(())
    }

    /// Puts `msg` on the library's default error stack as a plugin-loading error (HDF5's own
    /// classes: nothing of ours is registered in a library the plugin cannot serve).
    pub fn report(&self, msg: &str) {
        let push = self.opt_sym(c"H5Epush2");
        let ids = [c"H5E_ERR_CLS_g", c"H5E_PLUGIN_g", c"H5E_CANTLOAD_g"].map(|n| self.var(n).ok());
        let (Some(push), [Some(cls), Some(major), Some(minor)]) = (push, ids) else { return };
        let msg = std::ffi::CString::new(msg.replace('\0', " ")).unwrap_or_default();
        // SAFETY: HDF5's `H5Epush2` (its C signature) and the addresses of its `hid_t` id variables;
        // every string is NUL-terminated and lives across the call; the format takes one string.
        unsafe {
            let push: Push2 = std::mem::transmute(push);
            let id = |p: *mut c_void| *p.cast::<hid_t>();
            push(
                0,
                c"dset_split".as_ptr(),
                c"H5PLget_plugin_info".as_ptr(),
                0,
                id(cls),
                id(major),
                id(minor),
                c"%s".as_ptr(),
                msg.as_ptr(),
            );
        }
    }

    /// The address of symbol `name`, if the library has it (names of one HDF5 series only).
    pub fn opt_sym(&self, name: &CStr) -> Option<*mut c_void> {
        // SAFETY: a valid handle (never closed) and a NUL-terminated name.
        let p = unsafe { libc::dlsym(self.handle, name.as_ptr()) };
        (!p.is_null()).then_some(p)
    }
}

/// Loads the shared library at `path` (`flags`: `RTLD_*`), or says why the loader refused it.
pub fn dlopen(path: &std::path::Path, flags: std::ffi::c_int) -> Result<*mut c_void, String> {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| "a path holds a NUL byte")?;
    // SAFETY: a valid NUL-terminated path; what the library runs at load is the caller's choice.
    let handle = unsafe { libc::dlopen(c.as_ptr(), flags) };
    if !handle.is_null() {
        return Ok(handle);
    }
    // SAFETY: dlerror returns NULL or a NUL-terminated message.
    let err = unsafe { libc::dlerror() };
    Err(match err.is_null() {
        true => "cannot be loaded".into(),
        // SAFETY: as above.
        false => unsafe { CStr::from_ptr(err) }.to_string_lossy().into_owned(),
    })
}

/// The address of `name` in the global scope (NULL when none defines it).
fn global_sym(name: &CStr) -> *mut c_void {
    // SAFETY: looks a symbol up in the global scope; the name is NUL-terminated.
    unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) }
}

/// What the dynamic loader knows of the object holding `addr` (None: no loaded object does).
fn dl_info(addr: *const c_void) -> Option<libc::Dl_info> {
    if addr.is_null() {
        return None;
    }
    // SAFETY: `Dl_info` is plain data; `dladdr` fills it for an address inside a loaded object.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: any address may be asked about; the out struct is valid.
    (unsafe { libc::dladdr(addr, &mut info) } != 0).then_some(info)
}

/// The load address of the object holding `addr`.
fn base_of(addr: *const c_void) -> Option<*mut c_void> {
    dl_info(addr).map(|i| i.dli_fbase)
}

/// The libhdf5 bound to, and its functions and globals.
#[derive(Debug)]
pub struct Bound {
    pub lib: Lib,
    pub api: Api,
}

/// The functions one HDF5 series has and the other lacks, looked up apart: a plugin built against
/// either series runs in both.
#[derive(Debug)]
pub struct Series {
    /// 1.14: push and pop an API context.
    start_lib_state: Option<unsafe extern "C" fn() -> super::herr_t>,
    finish_lib_state: Option<unsafe extern "C" fn() -> super::herr_t>,
    /// 2.x: the same, with a context object.
    open_lib_context: Option<unsafe extern "C" fn(*mut *mut c_void) -> super::herr_t>,
    close_lib_context: Option<unsafe extern "C" fn(*mut c_void) -> super::herr_t>,
    /// 1.14: registers HDF5's built-in pass-through connector (2.x registers it at start-up).
    pass_through_register: Option<unsafe extern "C" fn() -> hid_t>,
    /// `H5Epush2`, variadic (so not in a `bind!` list).
    pub push2: Option<Push2>,
}

/// The C signature of `H5Epush2`.
pub type Push2 = unsafe extern "C" fn(
    hid_t,
    *const std::ffi::c_char,
    *const std::ffi::c_char,
    std::ffi::c_uint,
    hid_t,
    hid_t,
    hid_t,
    *const std::ffi::c_char,
    ...
) -> super::herr_t;

impl Series {
    fn load(lib: &Lib) -> Result<Series, String> {
        let f = |name: &CStr| lib.opt_sym(name);
        // SAFETY: each symbol, when present, is the HDF5 function of the slot's C signature.
        let series = unsafe {
            Series {
                start_lib_state: f(c"H5VLstart_lib_state").map(|p| std::mem::transmute(p)),
                finish_lib_state: f(c"H5VLfinish_lib_state").map(|p| std::mem::transmute(p)),
                open_lib_context: f(c"H5VLopen_lib_context").map(|p| std::mem::transmute(p)),
                close_lib_context: f(c"H5VLclose_lib_context").map(|p| std::mem::transmute(p)),
                pass_through_register: f(c"H5VL_pass_through_register").map(|p| std::mem::transmute(p)),
                push2: f(c"H5Epush2").map(|p| std::mem::transmute(p)),
            }
        };
        let old = series.start_lib_state.is_some() && series.finish_lib_state.is_some();
        let new = series.open_lib_context.is_some() && series.close_lib_context.is_some();
        if !old && !new {
            return Err(format!(
                "{} is not HDF5 1.14 or 2.x (it has neither H5VLstart_lib_state nor H5VLopen_lib_context)",
                lib.path()
            ));
        }
        Ok(series)
    }
}

/// A fresh HDF5 API context (`H5VLstart_lib_state` in 1.14, `H5VLopen_lib_context` in 2.x),
/// ended when dropped.
#[derive(Debug)]
pub struct LibContext(*mut c_void);

impl LibContext {
    /// Opens one; None when HDF5 refuses.
    pub fn open() -> Option<LibContext> {
        let s = &api().series;
        if let Some(start) = s.start_lib_state {
            // SAFETY: pushes a new API context, popped in Drop.
            return (unsafe { start() } >= 0).then_some(LibContext(std::ptr::null_mut()));
        }
        let open = s.open_lib_context?;
        let mut cx = std::ptr::null_mut();
        // SAFETY: opens a new API context, closed in Drop.
        (unsafe { open(&mut cx) } >= 0).then_some(LibContext(cx))
    }
}

impl Drop for LibContext {
    fn drop(&mut self) {
        let s = &api().series;
        if let Some(finish) = s.finish_lib_state {
            // SAFETY: pops the context pushed in `open`.
            unsafe { finish() };
        } else if let Some(close) = s.close_lib_context {
            // SAFETY: closes the context opened in `open`.
            unsafe { close(self.0) };
        }
    }
}

/// Registers HDF5's built-in pass-through connector where the library does not at start-up (1.14),
/// so that `under_vol=1` finds it.
pub fn register_pass_through() {
    if let Some(register) = api().series.pass_through_register {
        // SAFETY: a singleton registration inside HDF5; it returns the id without a new reference.
        unsafe { register() };
    }
}

/// Every table of functions and globals (one per `bind!` list), and the series' own functions.
#[derive(Debug)]
pub struct Api {
    pub series: Series,
    pub vl: super::Table,
    pub h5: super::sys::h5::Table,
    pub h5a: super::sys::h5a::Table,
    pub h5d: super::sys::h5d::Table,
    pub h5e: super::sys::h5e::Table,
    pub h5f: super::sys::h5f::Table,
    pub h5g: super::sys::h5g::Table,
    pub h5i: super::sys::h5i::Table,
    pub h5l: super::sys::h5l::Table,
    pub h5o: super::sys::h5o::Table,
    pub h5p: super::sys::h5p::Table,
    pub h5r: super::sys::h5r::Table,
    pub h5s: super::sys::h5s::Table,
    pub h5t: super::sys::h5t::Table,
    pub h5vl: super::sys::h5vl::Table,
}

impl Api {
    fn load(lib: &Lib) -> Result<Api, String> {
        lib.check_version()?;
        // SAFETY: each table's `load` takes the symbols of its declarations from `lib`, a libhdf5
        // whose functions have those C signatures (HDF5's API, same in 1.14 and 2.x).
        unsafe {
            Ok(Api {
                series: Series::load(lib)?,
                vl: super::Table::load(lib)?,
                h5: super::sys::h5::Table::load(lib)?,
                h5a: super::sys::h5a::Table::load(lib)?,
                h5d: super::sys::h5d::Table::load(lib)?,
                h5e: super::sys::h5e::Table::load(lib)?,
                h5f: super::sys::h5f::Table::load(lib)?,
                h5g: super::sys::h5g::Table::load(lib)?,
                h5i: super::sys::h5i::Table::load(lib)?,
                h5l: super::sys::h5l::Table::load(lib)?,
                h5o: super::sys::h5o::Table::load(lib)?,
                h5p: super::sys::h5p::Table::load(lib)?,
                h5r: super::sys::h5r::Table::load(lib)?,
                h5s: super::sys::h5s::Table::load(lib)?,
                h5t: super::sys::h5t::Table::load(lib)?,
                h5vl: super::sys::h5vl::Table::load(lib)?,
            })
        }
    }
}

/// How many copies of libhdf5 in one process the plugin serves (h5py's and netCDF4's wheels,
/// imported together, are two).
pub const MAX_COPIES: usize = 4;

/// One binding per libhdf5 copy, numbered in the order they asked for the plugin.
static BINDINGS: [OnceLock<Bound>; MAX_COPIES] = [const { OnceLock::new() }; MAX_COPIES];

/// Serialises making a binding (two copies may load the plugin from two threads).
static MAKING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The copy number of the libhdf5 in the global scope, once asked (programs linked to it).
static GLOBAL: OnceLock<Result<usize, String>> = OnceLock::new();

/// No copy in force (outside the callbacks).
const NONE: usize = usize::MAX;

thread_local! {
    /// The copy whose callback is running on this thread (`with`): const-initialised and
    /// without a destructor, so readable even from HDF5's `atexit` handler.
    static CURRENT: std::cell::Cell<usize> = const { std::cell::Cell::new(NONE) };
    /// That copy's functions (NULL outside the callbacks): what [`api`] reads on every HDF5 call.
    static CURRENT_API: std::cell::Cell<*const Api> = const { std::cell::Cell::new(std::ptr::null()) };
}

/// The copy number of `lib`: the binding made for it earlier, or a new one. A library the
/// plugin cannot serve (too old, a function missing) hears why on its own error stack.
pub fn bind(lib: Lib) -> Result<usize, String> {
    let _making = MAKING.lock().unwrap_or_else(|e| e.into_inner());
    for (k, slot) in BINDINGS.iter().enumerate() {
        match slot.get() {
            Some(b) if b.lib.is(&lib) => return Ok(k),
            Some(_) => {}
            None => {
                let api = Api::load(&lib).inspect_err(|e| lib.report(e))?;
                let _ = slot.set(Bound { lib, api });
                return Ok(k);
            }
        }
    }
    Err(format!("more than {MAX_COPIES} HDF5 libraries in one process"))
}

/// The library of the copy whose callback is running (see [`index`]).
pub fn current_lib() -> &'static Lib {
    &BINDINGS[index()].get().expect("index() names a made binding").lib
}

/// The copy number of the libhdf5 in the global scope, bound on first use.
pub fn global() -> Result<usize, &'static str> {
    GLOBAL.get_or_init(|| bind(Lib::global()?)).as_ref().copied().map_err(String::as_str)
}

/// Runs `f` with copy `k`'s binding in force: what the callbacks of class table `k` do.
pub fn with<R>(k: usize, f: impl FnOnce() -> R) -> R {
    /// Puts the previous copy back, also when `f` unwinds.
    struct Restore(usize, *const Api);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
            CURRENT_API.with(|c| c.set(self.1));
        }
    }
    let api = BINDINGS.get(k).and_then(OnceLock::get).map_or(std::ptr::null(), |b| &b.api as *const Api);
    let _restore = Restore(CURRENT.with(|c| c.replace(k)), CURRENT_API.with(|c| c.replace(api)));
    f()
}

/// Whether HDF5 may be called: a binding is in force (set by [`with`]), or a global libhdf5 can
/// be bound (the command, the tests).
pub fn ready() -> bool {
    !CURRENT_API.with(|c| c.get()).is_null() || std::panic::catch_unwind(index).is_ok()
}

/// The copy number in force: the running callback's, else the global libhdf5's.
pub fn index() -> usize {
    let k = CURRENT.with(|c| c.get());
    if k < MAX_COPIES && BINDINGS[k].get().is_some() {
        return k;
    }
    match global() {
        Ok(k) => k,
        Err(e) => panic!("dset_split is bound to no HDF5 library: {e}"),
    }
}

/// The binding in force (see [`index`]). Panics when there is none (caught at the boundary to C
/// like any other panic).
pub fn bound() -> &'static Bound {
    BINDINGS[index()].get().expect("a binding numbered by `index` exists")
}

/// The file of the libhdf5 bound as copy `k`, if any.
pub fn bound_library(k: usize) -> Option<&'static CStr> {
    BINDINGS.get(k).and_then(OnceLock::get).map(|b| b.lib.path)
}

/// The functions and globals of the binding in force.
pub fn api() -> &'static Api {
    let p = CURRENT_API.with(|c| c.get());
    if p.is_null() {
        return &bound().api;
    }
    // SAFETY: set by `with` from a binding, which lives for the whole process.
    unsafe { &*p }
}

/// An HDF5 global id variable (a default property list, a property list class), read through
/// its address in the bound library each time it is used (HDF5 sets them when it initialises).
#[derive(Debug)]
pub struct Global(pub fn(&Api) -> *const hid_t);

impl std::ops::Deref for Global {
    type Target = hid_t;
    fn deref(&self) -> &hid_t {
        // SAFETY: the address of an `hid_t` variable of the bound libhdf5, which stays loaded.
        unsafe { &*(self.0)(api()) }
    }
}

/// Declares HDF5 functions (and `static` id variables) as they are in C; generates `Table` with
/// a slot for each, filled by `Table::load`, and a function of the same name calling through the
/// slot of the binding in force (`api().$field`). `opt` marks a function one series lacks: its
/// slot is an `Option`, and calling it when absent panics (callers check `has_*` first).
#[macro_export]
macro_rules! bind {
    (
        $field:ident;
        $( $(#[$m:meta])* pub fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)?; )*
        $( static $gname:ident; )*
    ) => {
        /// The slots of this list's functions and globals in the bound libhdf5.
        #[allow(non_snake_case)]
        #[derive(Debug)]
        pub struct Table {
            $( $(#[$m])* $name: unsafe extern "C" fn($($ty),*) $(-> $ret)?, )*
            $( $gname: *const $crate::ffi::hid_t, )*
        }

        // SAFETY: function pointers and addresses of variables in a library that stays loaded.
        unsafe impl Send for Table {}
        // SAFETY: as above.
        unsafe impl Sync for Table {}

        impl Table {
            /// Fills every slot from `lib`.
            ///
            /// # Safety
            /// `lib` must be a libhdf5 whose symbols have the declared C signatures.
            #[allow(unused_doc_comments)]
            pub unsafe fn load(lib: &$crate::ffi::bind::Lib) -> Result<Table, String> {
                Ok(Table {
                    $( $(#[$m])* $name: {
                        let p = lib.sym(&std::ffi::CString::new(stringify!($name)).unwrap())?;
                        // SAFETY: by the contract above the symbol is this function.
                        unsafe { std::mem::transmute::<*mut std::ffi::c_void, unsafe extern "C" fn($($ty),*) $(-> $ret)?>(p) }
                    }, )*
                    $( $gname: lib.var(&std::ffi::CString::new(stringify!($gname)).unwrap())?.cast_const().cast(), )*
                })
            }
        }

        $(
            $(#[$m])*
            #[allow(non_snake_case, clippy::missing_safety_doc, clippy::too_many_arguments)]
            #[inline]
            pub unsafe fn $name($($arg: $ty),*) $(-> $ret)? {
                // SAFETY: the caller upholds the C function's contract.
                unsafe { ($crate::ffi::bind::api().$field.$name)($($arg),*) }
            }
        )*
        $(
            #[allow(non_upper_case_globals)]
            pub static $gname: $crate::ffi::bind::Global = $crate::ffi::bind::Global(|a| a.$field.$gname);
        )*
    };
}
