//! Reading object header checksums (see `format::header_checksum`) from a pack file, through a
//! window of the file: a pack's headers lie together in HDF5's metadata blocks, so one read
//! serves many headers instead of one system call each.

use super::format::{HeaderChecksum, header_checksum};

/// The bytes read at a time.
const WINDOW: usize = 64 << 10;

#[derive(Debug)]
pub struct Headers {
    file: std::fs::File,
    /// Where HDF5's addresses start in the file (the user block's size).
    base: u64,
    /// Where `buf` starts in the file.
    start: u64,
    buf: Vec<u8>,
}

impl Headers {
    /// Reads `file`, whose HDF5 addresses start at `base` (after a user block of that size).
    pub fn new(file: std::fs::File, base: u64) -> Headers {
        Headers { file, base, start: 0, buf: Vec::new() }
    }

    /// The checksum of the version-2 object header at HDF5 address `addr` when it covers all
    /// of the object (`HeaderChecksum::Found`); None for any other header (or one that cannot
    /// be read).
    pub fn checksum(&mut self, addr: u64) -> Option<u32> {
        let addr = addr.checked_add(self.base)?;
        let mut want = 512usize;
        loop {
            let inside = addr >= self.start && addr + want as u64 <= self.start + self.buf.len() as u64;
            if !inside {
                self.fill(addr, want.max(WINDOW))?;
            }
            let at = (addr - self.start) as usize;
            match header_checksum(&self.buf[at..]) {
                HeaderChecksum::Found(sum) => return Some(sum),
                HeaderChecksum::Need(more) if more > self.buf.len() - at && more < (16 << 20) => {
                    if self.buf.len() - at < want {
                        return None; // the file ends here
                    }
                    want = more;
                }
                _ => return None,
            }
        }
    }

    /// Reads `len` bytes at `addr` (fewer at the end of the file).
    fn fill(&mut self, addr: u64, len: usize) -> Option<()> {
        self.buf.resize(len, 0);
        let got = packfs::file::read_at(&self.file, &mut self.buf, addr).ok()?;
        self.buf.truncate(got);
        self.start = addr;
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn header(chunk_len: usize, sum: u32) -> Vec<u8> {
        let mut h = b"OHDR\x02\x02".to_vec();
        h.extend((chunk_len as u32).to_le_bytes());
        // One null message filling the chunk (sizes up to 64 KiB; longer ones: several).
        let mut left = chunk_len;
        while left >= 4 {
            let n = (left - 4).min(60_000);
            h.extend([0u8, (n & 0xff) as u8, (n >> 8) as u8, 0]);
            h.extend(vec![7u8; n]);
            left -= 4 + n;
        }
        h.extend(vec![0u8; left]);
        h.extend(sum.to_le_bytes());
        h
    }

    #[test]
    fn finds_headers_across_windows_and_large_ones() {
        let mut f = tempfile::tempfile().unwrap();
        let mut at = Vec::new();
        let mut pos = 0u64;
        for (i, len) in [100usize, 70_000, 300, 200_000, 50].iter().enumerate() {
            let h = header(*len, i as u32 + 1);
            at.push(pos);
            f.write_all(&h).unwrap();
            f.write_all(&[0u8; 33]).unwrap();
            pos += h.len() as u64 + 33;
        }
        let mut r = Headers::new(f.try_clone().unwrap(), 0);
        for (i, a) in at.iter().enumerate() {
            assert_eq!(r.checksum(*a), Some(i as u32 + 1), "header {i}");
        }
        // Backwards too, and a header cut off by the end of the file.
        assert_eq!(r.checksum(at[0]), Some(1));
        f.write_all(&header(1000, 9)[..500]).unwrap();
        assert_eq!(Headers::new(f.try_clone().unwrap(), 0).checksum(pos), None);
        assert_eq!(Headers::new(f.try_clone().unwrap(), 0).checksum(pos + 10_000), None);
        // After a user block, addresses count from its end.
        assert_eq!(Headers::new(f.try_clone().unwrap(), at[2]).checksum(0), Some(3));
    }
}
