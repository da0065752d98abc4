//! `dset-split pack` and `dset-split unpack`: a folder of many small files into one HDF5 file
//! and back.

pub mod copy;
pub mod format;
pub mod hdf;
pub mod headers;
pub mod partition;
pub mod parts;
pub mod read;
pub mod scan;
pub mod walk;
pub mod write;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct PackArgs {
    /// The folder to pack
    dir: PathBuf,
    /// The HDF5 file to write
    #[arg(short, long)]
    output: PathBuf,
    /// Pack only files matching this glob (`*.png`, `train/**`); repeatable
    #[arg(long = "include", value_name = "PATTERN")]
    include: Vec<String>,
    /// Leave out files and folders matching this glob; repeatable
    #[arg(long = "exclude", value_name = "PATTERN")]
    exclude: Vec<String>,
    /// Bring an existing pack up to date: rewrite only files whose size or modification time
    /// changed, add new ones, remove those gone
    #[arg(long)]
    update: bool,
    /// With --update: compare contents, not size and time
    #[arg(long, requires = "update")]
    checksum: bool,
    /// Compress file contents with deflate at this level (0-9); readers then go through HDF5
    /// instead of reading by byte offset
    #[arg(long, value_name = "LEVEL", num_args = 0..=1, default_missing_value = "4", value_parser = clap::value_parser!(u32).range(0..=9))]
    compress: Option<u32>,
    /// Pack each folder DEPTH levels down (1: each top-level folder) into a pack of its own,
    /// `<stem>-split/<folder>.h5`, linked from OUTPUT: a changed file then changes one small
    /// pack, so DVC or git-annex move only that. --update keeps the depth a pack was made with
    #[arg(long, value_name = "DEPTH", num_args = 0..=1, default_missing_value = "1", value_parser = clap::value_parser!(u32).range(1..=64))]
    split_dirs: Option<u32>,
    /// Replace OUTPUT if it exists (without --update)
    #[arg(long)]
    force: bool,
    /// Print a JSON summary instead of text
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct UnpackArgs {
    /// The pack to read
    file: PathBuf,
    /// The folder to make (it must not exist, or be empty)
    dir: PathBuf,
    /// Print a JSON summary instead of text
    #[arg(long)]
    json: bool,
}

pub fn run_pack(args: &PackArgs, ub: write::UserBlock) -> ExitCode {
    crate::h5::quiet();
    crate::catch_interrupts();
    let filter = walk::Filter { include: args.include.clone(), exclude: args.exclude.clone() };
    let opts = write::Options {
        compress: args.compress,
        checksum: args.checksum,
        progress: !args.json && std::io::stderr().is_terminal(),
        split: None,
    };
    let result = (|| {
        if !args.update && !args.force && std::fs::symlink_metadata(&args.output).is_ok() {
            return Err(format!(
                "{} exists; use --update to update it or --force to replace it",
                args.output.display()
            ));
        }
        let w = walk::walk(&args.dir, &filter, Some(&args.output))?;
        let split = args.split_dirs.or_else(|| args.update.then(|| write::recorded_split(&args.output)).flatten());
        let mut s = match split {
            Some(depth) => parts::pack_split(&w, &args.dir, &args.output, &opts, args.update, ub, depth)?,
            None => write::pack(&w, &args.dir, &args.output, &opts, args.update, ub)?,
        };
        // The folders' packs an earlier pack at OUTPUT had and this one has not.
        let gone = crate::gc::clean(&args.output).map_err(|e| {
            format!("{} is written, but its split folder was not cleaned up: {e}", args.output.display())
        })?;
        s.parts_removed = gone.len() as u64;
        Ok(s)
    })();
    report(result, args.json, &args.output.display().to_string())
}

pub fn run_unpack(args: &UnpackArgs) -> ExitCode {
    crate::h5::quiet();
    crate::catch_interrupts();
    report(read::unpack(&args.file, &args.dir), args.json, &args.dir.display().to_string())
}

fn report(result: Result<write::Summary, String>, json: bool, what: &str) -> ExitCode {
    match result {
        Ok(s) => {
            for skipped in &s.skipped {
                eprintln!("dset-split: skipped {skipped}");
            }
            for warning in &s.warnings {
                eprintln!("dset-split: warning: {warning}");
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&s).expect("a plain struct"));
            } else {
                let mut line = format!(
                    "{what}: {} folders, {} files, {} symbolic links, {} hard links; {} bytes written",
                    s.dirs, s.files, s.symlinks, s.hard_links, s.bytes_written
                );
                if s.unchanged + s.removed > 0 {
                    line += &format!("; {} unchanged, {} removed", s.unchanged, s.removed);
                }
                if s.parts + s.parts_removed > 0 {
                    line += &format!(
                        "; {} folder packs ({} unchanged, {} removed)",
                        s.parts, s.parts_unchanged, s.parts_removed
                    );
                }
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("dset-split: {e}");
            crate::failure_code()
        }
    }
}
