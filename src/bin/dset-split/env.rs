//! `dset-split env`: the shell lines that run any program through the connector,
//! `eval "$(dset-split env)"`. They put the plugin's folder in front of `HDF5_PLUGIN_PATH` (keeping
//! what is there) and set `HDF5_VOL_CONNECTOR`, with the policy keys given as arguments.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy keys for the connector, as in HDF5_VOL_CONNECTOR (e.g. layout=link min_size=1MiB
    /// exclude=/grid/**); checked before anything is printed
    keys: Vec<String>,
    /// The folder holding libdset_split.so (default: DSET_SPLIT_PLUGIN_DIR, else the folder of
    /// this command, where cargo and the Python package put the plugin)
    #[arg(long)]
    plugin_dir: Option<PathBuf>,
}

/// The plugin's file name (the Python package's is `libdset_split.abi3.so`).
const PLUGIN: &str = "libdset_split.so";

/// Whether `dir` holds the plugin.
fn has_plugin(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("libdset_split.") && name.contains(".so") && e.path().is_file()
        })
    })
}

pub fn run(args: &Args) -> ExitCode {
    match lines(args) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("dset-split env: {e}");
            ExitCode::from(2)
        }
    }
}

fn lines(args: &Args) -> Result<String, String> {
    let dir = plugin_dir(args)?;
    let mut info = String::from("under_vol=0;under_info={}");
    for key in &args.keys {
        if key.contains(';') || !key.contains('=') {
            return Err(format!("{key:?}: give one key=value per argument"));
        }
        info.push(';');
        info.push_str(key);
    }
    // The same parser the connector uses (pure: no HDF5 needed), so a bad key is refused here,
    // not at the program's start.
    dset_split::info::parse(&info).map_err(|e| e.msg)?;
    let dir = dir.to_str().ok_or_else(|| format!("{} is not valid UTF-8", dir.display()))?;
    Ok(format!(
        "export HDF5_PLUGIN_PATH={}\"${{HDF5_PLUGIN_PATH:+:$HDF5_PLUGIN_PATH}}\"\nexport HDF5_VOL_CONNECTOR={}\n",
        quote(dir),
        quote(&format!("{} {info}", dset_split::CONNECTOR_NAME))
    ))
}

/// The folder holding the plugin.
fn plugin_dir(args: &Args) -> Result<PathBuf, String> {
    let candidates: Vec<PathBuf> = match (&args.plugin_dir, std::env::var_os("DSET_SPLIT_PLUGIN_DIR")) {
        (Some(d), _) => vec![d.clone()],
        (None, Some(d)) => vec![PathBuf::from(d)],
        (None, None) => {
            let exe = std::env::current_exe().map_err(|e| format!("cannot find this command's path: {e}"))?;
            exe.parent().map(Path::to_path_buf).into_iter().collect()
        }
    };
    for dir in &candidates {
        if has_plugin(dir) {
            return std::fs::canonicalize(dir).map_err(|e| format!("{}: {e}", dir.display()));
        }
    }
    Err(format!(
        "no {PLUGIN} in {}: give its folder with --plugin-dir (cargo builds it next to this command)",
        candidates.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
    ))
}

/// `s` as one word for a POSIX shell.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quoting_keeps_every_character() {
        assert_eq!(quote("a b;c{}"), "'a b;c{}'");
        assert_eq!(quote("it's"), "'it'\\''s'");
    }
}
