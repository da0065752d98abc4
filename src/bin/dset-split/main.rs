//! `dset-split`: the command-line companion of the dset_split HDF5 VOL connector.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Parser, Subcommand};

mod check;
mod devirtual;
mod doctor;
mod dvc;
mod env;
mod gc;
mod h5;
mod hdf5lib;
mod links;
mod made;
mod merge;
mod mount;
mod pack;
mod refs;
mod split;
mod status;
mod work;

#[derive(Debug, Parser)]
#[command(name = "dset-split", version, about = "Companion tool for the dset_split HDF5 VOL connector")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List every dataset of a main file: inline or in its split file, size, and whether the split
    /// file is present or missing (not materialised). Exit code 1 if any is missing
    Status(status::Args),
    /// Remove split files no link of the main file leads to (orphans) and empty directories;
    /// only files whose names the split layout could have made
    Gc(gc::Args),
    /// Check a main file's links and split files against the split layout; --fix repairs links and drifted files
    Check(check::Args),
    /// Convert a single HDF5 file into the split layout (each dataset into its own file, an
    /// external link in its place), preserving everything; in place unless OUT is given
    Split(split::Args),
    /// Write one self-contained HDF5 file with every split dataset back in its place
    Merge(merge::Args),
    /// Diagnose why HDF5 does not load the connector (HDF5 skips broken plugins silently)
    Doctor(doctor::Args),
    /// Pack a folder of (many small) files into one HDF5 file: directories become groups, files
    /// byte datasets, with modes, owners, times and links kept
    Pack(pack::PackArgs),
    /// Unpack a file made by `pack` into a new folder: the same tree back
    Unpack(pack::UnpackArgs),
    /// Show an HDF5 file as a read-only folder (FUSE): a pack as the folder it packed, any
    /// other file as groups and datasets (raw bytes and a .npy view), following split files
    Mount(mount::Args),
    /// Print shell lines that run programs through the connector: eval "$(dset-split env)"
    Env(env::Args),
}

/// Set when SIGINT, SIGTERM or SIGHUP arrives while `split` or `merge` runs: they stop before the
/// next dataset and remove everything they made (see [`catch_interrupts`]).
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// From now on, an interrupt (Ctrl-C, `kill`, a closed terminal) does not end the process at
/// once but makes [`interrupted`] fail, so a long conversion rolls back instead of leaving work
/// files and half a split folder behind. System calls are not restarted after it (no
/// `SA_RESTART`): a call that blocks (a file that never delivers data) fails with EINTR, and the
/// command rolls back from there, so the interrupt never waits for the main loop.
pub(crate) fn catch_interrupts() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: zeroed is a valid `sigaction` (empty mask, no flags); the handler is
        // async-signal-safe (one atomic store) and the signal valid.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

/// An error if an interrupt arrived.
pub(crate) fn interrupted() -> Result<(), String> {
    if INTERRUPTED.load(Ordering::SeqCst) { Err("interrupted".into()) } else { Ok(()) }
}

/// The exit code of a command that failed: 130 when it was interrupted (as shells report
/// Ctrl-C), else 2.
pub(crate) fn failure_code() -> ExitCode {
    ExitCode::from(if INTERRUPTED.load(Ordering::SeqCst) { 130 } else { 2 })
}

/// The width of a table column holding values of these lengths: the longest, up to 60 (longer
/// values run over; HDF5 paths can be longer than any width Rust's formatting accepts).
pub(crate) fn column_width(lengths: impl Iterator<Item = usize>) -> usize {
    lengths.max().unwrap_or(0).min(60)
}

/// A progress bar on stderr (drawn only when stderr is a terminal) counting `total` bytes, with
/// the object at work as its message; hidden when not `show`.
pub(crate) fn progress_bar(total: u64, show: bool) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta}) {msg}",
        )
        .expect("a valid template"),
    );
    bar
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `mount` loads HDF5 itself, only when a file needs it.
    if !matches!(cli.command, Command::Env(_) | Command::Mount(_)) {
        if let Err(e) = hdf5lib::load() {
            eprintln!("dset-split: {e}");
            return ExitCode::from(2);
        }
    }
    match cli.command {
        Command::Doctor(args) => doctor::run(&args),
        Command::Env(args) => env::run(&args),
        Command::Status(args) => status::run(&args),
        Command::Gc(args) => gc::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Split(args) => split::run(&args),
        Command::Merge(args) => merge::run(&args),
        Command::Pack(args) => pack::run_pack(&args, mount::user_block()),
        Command::Unpack(args) => pack::run_unpack(&args),
        Command::Mount(args) => mount::run(&args),
    }
}
