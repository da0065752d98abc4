//! MPI, taken from the process the connector runs in, as HDF5 takes it (issue 13). The plugin
//! links no MPI library: a parallel libhdf5 is linked to one, and `dlsym` on the bound libhdf5
//! ([`super::bind::current_lib`]) finds MPI's functions among its dependencies. A serial libhdf5
//! has no `H5Pget_fapl_mpio`, so nothing here is ever used there.
//!
//! MPI fixes its C API but not its ABI: Open MPI's handles (`MPI_Comm`, `MPI_Datatype`, ...) are
//! pointers to objects the library exports, MPICH's (and its derivatives', Intel MPI, Cray MPICH,
//! MVAPICH) are `int` constants its `mpi.h` fixes. Both are supported, told apart by the symbols
//! the library exports; a handle is kept as a `u64` and passed as the flavour's own C type.

use std::ffi::{CStr, c_int, c_void};
use std::sync::OnceLock;

use super::{herr_t, hid_t};

/// Which ABI the process's MPI has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    /// Handles are pointers (`&ompi_mpi_comm_world`, ...).
    OpenMpi,
    /// Handles are `int`s (MPICH's `mpi.h`).
    Mpich,
}

/// MPI's functions and the constant handles the connector uses.
#[derive(Debug)]
pub struct Mpi {
    flavor: Flavor,
    get_fapl_mpio: *mut c_void,
    comm_rank: *mut c_void,
    comm_size: *mut c_void,
    comm_free: *mut c_void,
    info_free: *mut c_void,
    barrier: *mut c_void,
    bcast: *mut c_void,
    allreduce: *mut c_void,
    finalized: *mut c_void,
    byte: u64,
    int: u64,
    min: u64,
    info_null: u64,
}

// SAFETY: function addresses and constant handles of a library that stays loaded; MPI calls are
// made from the thread HDF5 calls the connector on (HDF5 serialises its API).
unsafe impl Send for Mpi {}
// SAFETY: as above; nothing here is mutated after it is made.
unsafe impl Sync for Mpi {}

/// One per libhdf5 copy (`bind`): None when that copy is not a parallel HDF5 or its MPI is of
/// an unknown flavour.
static MPI: [OnceLock<Option<Mpi>>; super::bind::MAX_COPIES] = [const { OnceLock::new() }; super::bind::MAX_COPIES];

/// The MPI of the libhdf5 the connector is running in, if it is a parallel one.
pub fn get() -> Option<&'static Mpi> {
    MPI[super::bind::index()].get_or_init(|| Mpi::load(super::bind::current_lib())).as_ref()
}

impl Mpi {
    fn load(lib: &super::bind::Lib) -> Option<Mpi> {
        let f = |name: &CStr| lib.opt_sym(name);
        // Open MPI's handles are the addresses of its objects, as the program sees them.
        let var = |name: &CStr| lib.opt_var(name).map(|p| p as u64);
        let get_fapl_mpio = f(c"H5Pget_fapl_mpio")?;
        // MPICH's constants (its mpi.h; the same in every MPICH-derived library).
        const MPICH_BYTE: u64 = 0x4c00_010d;
        const MPICH_INT: u64 = 0x4c00_0405;
        const MPICH_MIN: u64 = 0x5800_0002;
        const MPICH_INFO_NULL: u64 = 0x1c00_0000;
        let (flavor, byte, int, min, info_null) = match var(c"ompi_mpi_byte") {
            Some(byte) => {
                (Flavor::OpenMpi, byte, var(c"ompi_mpi_int")?, var(c"ompi_mpi_op_min")?, var(c"ompi_mpi_info_null")?)
            }
            // (An MPI of the MPI-5 standard ABI has neither: then no MPI is known, and files
            // with the MPI-IO driver are passed through unsplit.)
            None if f(c"MPIR_Process").is_some() || f(c"MPIR_Err_return_comm").is_some() => {
                (Flavor::Mpich, MPICH_BYTE, MPICH_INT, MPICH_MIN, MPICH_INFO_NULL)
            }
            None => return None,
        };
        Some(Mpi {
            flavor,
            get_fapl_mpio,
            comm_rank: f(c"MPI_Comm_rank")?,
            comm_size: f(c"MPI_Comm_size")?,
            comm_free: f(c"MPI_Comm_free")?,
            info_free: f(c"MPI_Info_free")?,
            barrier: f(c"MPI_Barrier")?,
            bcast: f(c"MPI_Bcast")?,
            allreduce: f(c"MPI_Allreduce")?,
            finalized: f(c"MPI_Finalized")?,
            byte,
            int,
            min,
            info_null,
        })
    }

    /// Whether MPI was finalised (no MPI call may be made then).
    fn is_finalized(&self) -> bool {
        let mut done: c_int = 0;
        // SAFETY: `int MPI_Finalized(int *)`, callable at any time.
        let f: unsafe extern "C" fn(*mut c_int) -> c_int = unsafe { std::mem::transmute(self.finalized) };
        // SAFETY: a valid out slot.
        unsafe { f(&mut done) };
        done != 0
    }
}

/// An MPI handle as the flavour's C type.
trait Handle: Copy {
    fn of(raw: u64) -> Self;
}
impl Handle for *mut c_void {
    fn of(raw: u64) -> Self {
        raw as usize as *mut c_void
    }
}
impl Handle for c_int {
    fn of(raw: u64) -> Self {
        raw as u32 as c_int
    }
}

/// Calls `$call` (a generic function over the handle type) with the handle type of `$mpi`'s
/// flavour.
macro_rules! by_flavor {
    ($mpi:expr, $call:ident($($arg:expr),*)) => {
        match $mpi.flavor {
            Flavor::OpenMpi => $call::<*mut c_void>($($arg),*),
            Flavor::Mpich => $call::<c_int>($($arg),*),
        }
    };
}

/// The communicator of a main file opened with the MPI-IO driver: a duplicate of the one its
/// file access properties hold (as `H5Pget_fapl_mpio` gives it), freed when dropped.
#[derive(Debug)]
pub struct Comm {
    mpi: &'static Mpi,
    raw: u64,
    pub rank: i32,
    pub size: i32,
}

// SAFETY: an MPI communicator handle, used from the threads HDF5 calls the connector on, one at a
// time (HDF5 serialises its API).
unsafe impl Send for Comm {}
// SAFETY: as above.
unsafe impl Sync for Comm {}

impl Comm {
    /// The communicator of `fapl` when its driver is MPI-IO; Err when it is not (HDF5 says so on
    /// its error stack: call quietly) or MPI cannot be reached.
    pub fn of_fapl(fapl: hid_t) -> Result<Comm, String> {
        let mpi = get().ok_or("this HDF5 is not a parallel one (or its MPI is of an unknown kind)")?;
        if mpi.is_finalized() {
            return Err("MPI is finalised".into());
        }
        let (mut comm, mut info) = (0u64, 0u64);
        // SAFETY: `herr_t H5Pget_fapl_mpio(hid_t, MPI_Comm *, MPI_Info *)`; both out slots are
        // 8 bytes, room for either flavour's handle (an `int` fills the low half: little-endian
        // and zeroed, the slot's value is the handle).
        let get: unsafe extern "C" fn(hid_t, *mut u64, *mut u64) -> herr_t =
            unsafe { std::mem::transmute(mpi.get_fapl_mpio) };
        // SAFETY: as above.
        if unsafe { get(fapl, &mut comm, &mut info) } < 0 {
            return Err("the file's driver is not MPI-IO".into());
        }
        if cfg!(target_endian = "big") && mpi.flavor == Flavor::Mpich {
            (comm, info) = (comm >> 32, info >> 32);
        }
        if info != mpi.info_null {
            // SAFETY: frees the duplicate info HDF5 made for us.
            unsafe { by_flavor!(mpi, free_as(mpi.info_free, &mut info)) };
        }
        let mut c = Comm { mpi, raw: comm, rank: 0, size: 1 };
        // SAFETY: queries of a valid communicator.
        unsafe {
            by_flavor!(mpi, query_as(mpi.comm_rank, comm, &mut c.rank));
            by_flavor!(mpi, query_as(mpi.comm_size, comm, &mut c.size));
        }
        Ok(c)
    }

    /// Waits for every rank.
    pub fn barrier(&self) -> Result<(), String> {
        // SAFETY: `int MPI_Barrier(MPI_Comm)` on a valid communicator.
        let rc = unsafe { by_flavor!(self.mpi, barrier_as(self.mpi.barrier, self.raw)) };
        (rc == 0).then_some(()).ok_or_else(|| format!("MPI_Barrier failed ({rc})"))
    }

    /// Whether `ok` holds on every rank (a collective call: every rank must make it).
    pub fn all(&self, ok: bool) -> Result<bool, String> {
        let (mine, mut all): (c_int, c_int) = (ok.into(), 0);
        // SAFETY: `MPI_Allreduce` of one int with MPI_MIN over a valid communicator; the buffers
        // live across the call.
        let rc = unsafe {
            by_flavor!(
                self.mpi,
                allreduce_as(
                    self.mpi.allreduce,
                    (&mine as *const c_int).cast(),
                    (&mut all as *mut c_int).cast(),
                    self.mpi.int,
                    self.mpi.min,
                    self.raw
                )
            )
        };
        if rc != 0 {
            return Err(format!("MPI_Allreduce failed ({rc})"));
        }
        Ok(all != 0)
    }

    /// Rank 0's `data`, on every rank (others pass anything; a collective call).
    pub fn bcast(&self, data: Vec<u8>) -> Result<Vec<u8>, String> {
        let mut len = (data.len() as u64).to_le_bytes();
        let mut buf = data;
        // SAFETY: `MPI_Bcast` of 8 bytes from rank 0 over a valid communicator.
        let rc = unsafe {
            by_flavor!(self.mpi, bcast_as(self.mpi.bcast, len.as_mut_ptr().cast(), 8, self.mpi.byte, self.raw))
        };
        if rc != 0 {
            return Err(format!("MPI_Bcast failed ({rc})"));
        }
        let n = usize::try_from(u64::from_le_bytes(len)).map_err(|_| "MPI_Bcast: a length beyond memory")?;
        let count = c_int::try_from(n).map_err(|_| "MPI_Bcast: more than 2 GiB")?;
        buf.resize(n, 0);
        // SAFETY: as above, `n` bytes into a buffer of `n` bytes.
        let rc = unsafe {
            by_flavor!(self.mpi, bcast_as(self.mpi.bcast, buf.as_mut_ptr().cast(), count, self.mpi.byte, self.raw))
        };
        if rc != 0 {
            return Err(format!("MPI_Bcast failed ({rc})"));
        }
        Ok(buf)
    }
}

impl Drop for Comm {
    fn drop(&mut self) {
        if !self.mpi.is_finalized() {
            // SAFETY: frees our duplicate of the communicator, once.
            unsafe { by_flavor!(self.mpi, free_as(self.mpi.comm_free, &mut self.raw)) };
        }
    }
}

/// `int MPI_Comm_free(MPI_Comm *)` / `int MPI_Info_free(MPI_Info *)`.
///
/// # Safety
/// `f` is that function; `raw` a valid handle of the flavour of `H`.
unsafe fn free_as<H: Handle>(f: *mut c_void, raw: &mut u64) -> c_int {
    let mut h = H::of(*raw);
    // SAFETY: by this function's contract.
    let f: unsafe extern "C" fn(*mut H) -> c_int = unsafe { std::mem::transmute(f) };
    // SAFETY: a valid handle slot.
    unsafe { f(&mut h) }
}

/// `int MPI_Comm_rank(MPI_Comm, int *)` / `MPI_Comm_size`.
///
/// # Safety
/// As for [`free_as`].
unsafe fn query_as<H: Handle>(f: *mut c_void, comm: u64, out: &mut i32) -> c_int {
    // SAFETY: by this function's contract.
    let f: unsafe extern "C" fn(H, *mut c_int) -> c_int = unsafe { std::mem::transmute(f) };
    // SAFETY: a valid communicator and out slot.
    unsafe { f(H::of(comm), out) }
}

/// `int MPI_Barrier(MPI_Comm)`.
///
/// # Safety
/// As for [`free_as`].
unsafe fn barrier_as<H: Handle>(f: *mut c_void, comm: u64) -> c_int {
    // SAFETY: by this function's contract.
    let f: unsafe extern "C" fn(H) -> c_int = unsafe { std::mem::transmute(f) };
    // SAFETY: a valid communicator.
    unsafe { f(H::of(comm)) }
}

/// `int MPI_Bcast(void *, int, MPI_Datatype, int root, MPI_Comm)`, from rank 0.
///
/// # Safety
/// As for [`free_as`]; `buf` holds `count` elements of `datatype`.
unsafe fn bcast_as<H: Handle>(f: *mut c_void, buf: *mut c_void, count: c_int, datatype: u64, comm: u64) -> c_int {
    // SAFETY: by this function's contract.
    let f: unsafe extern "C" fn(*mut c_void, c_int, H, c_int, H) -> c_int = unsafe { std::mem::transmute(f) };
    // SAFETY: as above.
    unsafe { f(buf, count, H::of(datatype), 0, H::of(comm)) }
}

/// `int MPI_Allreduce(const void *, void *, int, MPI_Datatype, MPI_Op, MPI_Comm)` of one element.
///
/// # Safety
/// As for [`free_as`]; the buffers hold one element of `datatype`.
unsafe fn allreduce_as<H: Handle>(
    f: *mut c_void,
    send: *const c_void,
    recv: *mut c_void,
    datatype: u64,
    op: u64,
    comm: u64,
) -> c_int {
    // SAFETY: by this function's contract.
    let f: unsafe extern "C" fn(*const c_void, *mut c_void, c_int, H, H, H) -> c_int =
        unsafe { std::mem::transmute(f) };
    // SAFETY: as above.
    unsafe { f(send, recv, 1, H::of(datatype), H::of(op), H::of(comm)) }
}
