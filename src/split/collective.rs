//! A main file opened with the MPI-IO driver (issue 13): every rank runs the connector's code
//! for each collective HDF5 call, with the same arguments, and parallel HDF5 keeps the files'
//! metadata the same on every rank. What HDF5 does not share is the file system: there the
//! first rank (rank 0 of the file's communicator) does all the work and makes every decision
//! that depends on what is on disk (a split file's name, whether a file existed), and the
//! others learn the outcome from it, so every rank agrees without relying on timing. An error
//! there is every rank's error.

use crate::error::{Error, Result};

use super::FileCtx;

impl FileCtx {
    /// Whether this process does the file-system work for the file: always, except under MPI,
    /// where rank 0 does.
    pub fn leads(&self) -> bool {
        self.comm.as_ref().is_none_or(|c| c.rank == 0)
    }

    /// `f`'s outcome, decided on the leading rank and the same on every rank (a collective call
    /// under MPI: every rank must make it). Serially, just `f()`.
    pub fn decided(&self, what: &str, f: impl FnOnce() -> Result<Vec<u8>>) -> Result<Vec<u8>> {
        let Some(comm) = &self.comm else { return f() };
        // A panic in `f` must not skip the broadcast the other ranks wait in.
        let mine = (comm.rank == 0).then(|| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
                .unwrap_or_else(|_| Err(Error::library(format!("{what}: the connector panicked (a bug)"))))
        });
        let message = match &mine {
            Some(Ok(bytes)) => [b"+", &bytes[..]].concat(),
            Some(Err(e)) => [b"-", e.to_string().as_bytes()].concat(),
            None => Vec::new(),
        };
        let got = comm.bcast(message).map_err(|e| Error::library(format!("{what}: {e}")))?;
        match (mine, got.split_first()) {
            (Some(outcome), _) => outcome,
            (None, Some((b'+', bytes))) => Ok(bytes.to_vec()),
            (None, Some((_, why))) => Err(Error::library(format!("{what} (rank 0): {}", String::from_utf8_lossy(why)))),
            (None, None) => Err(Error::library(format!("{what}: rank 0 sent nothing"))),
        }
    }

    /// Runs `f` (file-system work) on the leading rank; every rank returns its outcome, and
    /// only once it is done (a collective call under MPI).
    pub fn leader_does(&self, what: &str, f: impl FnOnce() -> Result<()>) -> Result<()> {
        self.decided(what, || f().map(|()| Vec::new())).map(drop)
    }

    /// Checks that every rank opens the main file with the same settings (the same file and
    /// split folder, policy and `HDF5_EXT_PREFIX`): ranks that decide differently whether a
    /// dataset splits, or in which form, would make different collective calls and wait for each
    /// other forever. Call when the main file is created or opened (a collective call under MPI).
    pub fn agree_on_settings(&self) -> Result<()> {
        let Some(comm) = &self.comm else { return Ok(()) };
        let mine = format!(
            "main file {}, split folder {}, {:?}, HDF5_EXT_PREFIX {:?}",
            self.main_path.display(),
            self.split_dir.display(),
            self.policy,
            self.ext_prefixes
        );
        let theirs = comm.bcast(mine.clone().into_bytes()).map_err(Error::library)?;
        let same = theirs == mine.as_bytes();
        if self.all_ranks(same)? {
            return Ok(());
        }
        let file = self.main_path.display();
        Err(Error::config(if same {
            format!("another rank opens {file} with other settings (see its error): the ranks disagree")
        } else {
            format!(
                "the ranks open {file} with different settings: rank 0 with {}, {} with {mine}; every rank must \
                 load dset_split with the same info string, HDF5_EXT_PREFIX and working directory",
                String::from_utf8_lossy(&theirs),
                self.rank_name()
            )
        }))
    }

    /// [`FileCtx::decided`] for a yes or no.
    pub fn decided_bool(&self, what: &str, f: impl FnOnce() -> Result<bool>) -> Result<bool> {
        Ok(self.decided(what, || f().map(|b| vec![u8::from(b)]))?.first() == Some(&1))
    }

    /// Whether the split file `target` (at `path`) is ours and a link into a cache, which must
    /// become a private copy before anything writes to it: rank 0's answer under MPI.
    pub fn must_copy(&self, target: &str, path: &std::path::Path) -> Result<bool> {
        self.decided_bool(&format!("looking at the split file {target}"), || {
            Ok(self.own_split_file(target).is_ok() && crate::cow::is_shared(path).unwrap_or(false))
        })
    }

    /// `split_file_path` of `target`, checked by every rank on its own view of the file system
    /// and failing on every rank when it fails on any: the collective calls that follow must not
    /// wait for a rank that stopped (ranks on different nodes can see a path differently, e.g.
    /// through NFS attribute caching).
    pub fn split_file_path_everywhere(&self, target: &str) -> Result<std::path::PathBuf> {
        let path = self.split_file_path(target);
        if self.all_ranks(path.is_ok())? {
            return path;
        }
        path.and_then(|_| {
            Err(Error::arg(format!(
                "another rank cannot reach the split file {target} (do the ranks see the file system differently?)"
            )))
        })
    }

    /// `cow::own_copy` of `path` on the leading rank, every rank returning once it is done.
    pub fn own_copy(&self, path: &std::path::Path) -> Result<()> {
        self.leader_does(&format!("making a private copy of {}", path.display()), || crate::cow::own_copy(path))
    }

    /// Whether `ok` holds on every rank (a collective call under MPI); serially `ok`.
    pub fn all_ranks(&self, ok: bool) -> Result<bool> {
        match &self.comm {
            None => Ok(ok),
            Some(comm) => comm.all(ok).map_err(Error::library),
        }
    }

    /// This rank, for messages ("" serially).
    pub fn rank_name(&self) -> String {
        self.comm.as_ref().map(|c| format!("rank {} of {}", c.rank, c.size)).unwrap_or_default()
    }
}
