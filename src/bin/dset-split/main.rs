//! `dset-split`: the command-line companion of the dset_split HDF5 VOL connector.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod doctor;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Doctor(args) => doctor::run(&args),
    }
}
