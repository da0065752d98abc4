//! What the `dset-split` command and its mount server (`dset-split-serve`) share: the tree
//! image a pack carries in its user block ([`image`], pure data), the word hash its checksum
//! uses ([`hash`]), opening and reading a pack and the open-files limit ([`file`]), mounting and unmounting a FUSE file system ([`kernel`]), and handing a mount
//! from one program to the next ([`exec`]).
//!
//! The server is a separate, small program (no HDF5, no command-line parser) so that a mounted
//! pack costs little memory; this crate is all it takes from the command.

pub mod exec;
pub mod file;
pub mod hash;
pub mod image;
pub mod kernel;
