//! The tree image in a pack's user block (see `image`): `pack` writes it once HDF5 has closed
//! the pack, and `mount` hands a pack whose seal holds to `dset-split-serve`, which answers
//! from the image without HDF5.

use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;

use super::image::{self, SIGNATURE, SUPERBLOCK_LEN, Seal};
use super::tree::Tree;
use crate::pack::walk::{Kind, Walk};
use packfs::file::read_at;

/// The user block a pack of `walk` needs for its image: a power of two of at least 512 bytes,
/// as HDF5 requires.
pub fn room(walk: &Walk) -> u64 {
    let names: u64 = walk.entries.iter().map(|e| e.name().len() as u64).sum();
    let targets: u64 = walk
        .entries
        .iter()
        .map(|e| match &e.kind {
            Kind::Symlink { target } => target.len() as u64,
            Kind::Part { file } => file.len() as u64,
            _ => 0,
        })
        .sum();
    image::room(walk.entries.len() as u64, names, targets).next_power_of_two().max(512)
}

/// Writes the image of the pack at `path` (closed by HDF5), which is to replace the file at
/// `out`, into its user block and seals it: the pack's modification time is set to the one
/// the seal records. A pack without a user block is left as it is; one whose image does not
/// fit, or would hide the HDF5 superblock, gets none (a warning says so).
pub fn write(path: &Path, out: &Path) -> Result<Option<String>, String> {
    let err = |e: std::io::Error| format!("cannot seal {}: {e}", path.display());
    let file = std::fs::OpenOptions::new().read(true).write(true).open(path).map_err(err)?;
    let size = file.metadata().map_err(err)?.len();
    let Some(base) = superblock_at(&file, size) else { return Ok(None) };
    if base == 0 {
        return Ok(None);
    }
    // The image only spares `mount` reading the pack through HDF5: whatever keeps it from being
    // stored is a warning, and the user block is left empty (no older image stays).
    let (block, sealed, warning) = match super::build::image_tree(path) {
        Ok(tree) => block_of(&file, &tree, base, size, out).map_err(err)?,
        Err(why) => (
            vec![0; base as usize],
            None,
            Some(format!("the pack's folder tree could not be stored for `mount` ({why})")),
        ),
    };
    file.write_all_at(&block, 0).map_err(err)?;
    if let Some((sec, nsec)) = sealed {
        file.set_modified(image::time_of(sec, nsec)).map_err(err)?;
        let meta = file.metadata().map_err(err)?;
        if (meta.mtime(), meta.mtime_nsec() as u32) != (sec, nsec) {
            return Ok(Some(
                "this file system keeps modification times too coarsely for the pack's seal (or a copy that keeps \
                 times to the second will not): `mount` reads the pack through HDF5"
                    .into(),
            ));
        }
    }
    Ok(warning)
}

/// A user block: its bytes, the time its image seals (seconds, nanoseconds), and why it holds
/// no image.
type Block = (Vec<u8>, Option<(i64, u32)>, Option<String>);

/// The user block of `base` bytes for the pack `file` of `size` bytes showing `tree`, which is
/// to replace the file at `out`: the image and the time it seals, or zeros and why not.
fn block_of(file: &std::fs::File, tree: &Tree, base: u64, size: u64, out: &Path) -> std::io::Result<Block> {
    let mut block = vec![0u8; base as usize];
    if tree.files.len() != 1 || !tree.xattrs.is_empty() || !tree.notes.is_empty() {
        let why = "the pack's folder tree has entries only HDF5 can read; `mount` reads it through HDF5";
        return Ok((block, None, Some(why.into())));
    }
    // The newest time in the tree, to the last nanosecond of its second: never earlier than
    // any packed file, the same for the same tree, and not a time a later write leaves (file
    // systems stamp whole ticks of the clock). At least a second after the file it replaces: a
    // changed pack must not look unchanged to a check of size and time (rsync's, make's).
    let newest = tree.nodes.iter().map(|n| image::time_parts(n.meta.mtime).0).max().unwrap_or(0);
    let replaced = std::fs::metadata(out).ok().filter(|m| m.is_file()).map(|m| m.mtime().saturating_add(1));
    let newest = newest.max(replaced.unwrap_or(i64::MIN));
    let mut superblock = vec![0u8; SUPERBLOCK_LEN];
    let n = read_at(file, &mut superblock, base)?;
    superblock.truncate(n);
    let seal = Seal { base, size, mtime_sec: newest, mtime_nsec: 999_999_999, superblock };
    let why = match image::encode(&tree.nodes, &tree.names, &seal) {
        Ok(bytes) if bytes.len() <= block.len() => {
            block[..bytes.len()].copy_from_slice(&bytes);
            if !image::hides_superblock(&block) {
                return Ok((block, Some((seal.mtime_sec, seal.mtime_nsec)), None));
            }
            block.fill(0);
            "the pack's folder tree holds bytes that HDF5 would take for the start of the file; it is not stored \
             for `mount`, which reads the pack through HDF5"
                .to_string()
        }
        Ok(bytes) => format!(
            "the pack's folder tree ({} bytes) no longer fits its user block ({base} bytes): `mount` reads it \
             through HDF5 (`dset-split pack --force` makes a new pack with room for it)",
            bytes.len()
        ),
        Err(why) => format!("the pack's folder tree cannot be stored for `mount` ({why})"),
    };
    Ok((block, None, Some(why)))
}

/// A pack whose image can be used: it is as it was sealed. Its descriptor holds a shared lock
/// (as HDF5 takes when it reads).
#[derive(Debug)]
pub struct Sealed {
    pub fd: std::fs::File,
}

/// Whether the file at `path` is a pack as it was sealed: its size and time (reads the image's
/// head only: the server checks the superblock and every byte of the image before it answers).
/// Err(None): it has no image; Err(Some(why)): its image is not to be used, and why (the file
/// changed since it was packed).
pub fn check(path: &Path) -> Result<Sealed, Option<String>> {
    let fd = std::fs::File::open(path).map_err(|_| None)?;
    let meta = fd.metadata().map_err(|_| None)?;
    if !meta.is_file() {
        return Err(None);
    }
    let mut head = [0u8; image::HEAD_LEN];
    if read_at(&fd, &mut head, 0).map_err(|_| None)? < head.len() {
        return Err(None);
    }
    let head = image::head(&head).ok_or(None)?;
    let seal = head.seal;
    if !seal.holds(&meta) {
        return Err(Some("the file was changed or copied since it was packed".into()));
    }
    crate::h5::lock_shared(&fd, path).map_err(Some)?;
    Ok(Sealed { fd })
}

/// Where HDF5's superblock is (the first of [`image::superblock_places`] holding its signature).
fn superblock_at(file: &std::fs::File, size: u64) -> Option<u64> {
    let mut sig = [0u8; 8];
    for at in image::superblock_places().take_while(|&at| at + SIGNATURE.len() as u64 <= size) {
        if read_at(file, &mut sig, at).ok()? == 8 && &sig == SIGNATURE {
            return Some(at);
        }
    }
    None
}
