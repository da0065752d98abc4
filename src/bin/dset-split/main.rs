//! `dset-split`: the command-line companion of the dset_split HDF5 VOL connector.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod doctor;
mod dvc;
mod gc;
mod h5;
mod status;

#[derive(Debug, Parser)]
#[command(name = "dset-split", version, about = "Companion tool for the dset_split HDF5 VOL connector")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Diagnose why HDF5 does not load the connector (HDF5 skips broken plugins silently)
    Doctor(doctor::Args),
    /// List every dataset of a main file: inline or in its split file, size, and whether the split
    /// file is present or missing (not materialised). Exit code 1 if any is missing
    Status(status::Args),
    /// Remove split files no link of the main file leads to (orphans) and empty directories;
    /// only files whose names the split layout could have made
    Gc(gc::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Doctor(args) => doctor::run(&args),
        Command::Status(args) => status::run(&args),
        Command::Gc(args) => gc::run(&args),
    }
}
