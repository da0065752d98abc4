//! Mounting and unmounting a read-only FUSE file system: mount(2) directly when allowed (root),
//! else through `fusermount3`, FUSE's set-user-ID helper, which mounts and passes the
//! `/dev/fuse` descriptor back over a socket. The descriptor is all a server needs: the kernel
//! sends its first request (INIT) once the file system is mounted, to whoever reads it first.

use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The file system type's subtype (`fuse.dset-split` in `/proc/mounts`).
pub const SUBTYPE: &str = "dset-split";

/// A FUSE file system just mounted: the descriptor to serve it from, and which mount it is (None
/// when `/proc/self/mountinfo` cannot be read), to tell it from any file system mounted at the
/// same place later.
#[derive(Debug)]
pub struct Mounted {
    pub fd: OwnedFd,
    pub device: Option<Device>,
}

/// Which mount a file system is: its mount ID and device number (major, minor) in mountinfo (an
/// ID or a device number alone can be given to a later mount once this one is gone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Device {
    pub id: u64,
    pub major: u32,
    pub minor: u32,
}

/// Mounts an empty FUSE file system at `dir`, shown as `source` in the mount table, read-only,
/// without set-user-ID programs, devices or access times, with the kernel checking permissions
/// (`default_permissions`); `allow_other` lets other users in.
pub fn mount(dir: &Path, source: &OsStr, allow_other: bool) -> io::Result<Mounted> {
    let fd = match mount_directly(dir, source, allow_other) {
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => mount_with_fusermount(dir, source, allow_other),
        other => other,
    }?;
    Ok(Mounted { fd, device: device_at(dir) })
}

/// The mount a path at `dir` reaches (the topmost of those mounted there), from
/// `/proc/self/mountinfo`; None when nothing is mounted there (or it cannot be read).
pub fn device_at(dir: &Path) -> Option<Device> {
    // Mountinfo lists mounts in the order they were made, which is not always the order they
    // are stacked in (`mount --move` onto a place): the top one is the parent of no other there.
    let here: Vec<_> = mounts()?.into_iter().filter(|m| m.point == dir.as_os_str().as_bytes()).collect();
    here.iter().rev().find(|m| !here.iter().any(|o| o.parent == m.device.id)).map(|m| m.device)
}

/// A line of `/proc/self/mountinfo`: what is mounted, on which mount, where.
#[derive(Debug)]
struct Mount {
    device: Device,
    parent: u64,
    point: Vec<u8>,
}

/// This process's mount table, in mountinfo's order; None when it cannot be read.
fn mounts() -> Option<Vec<Mount>> {
    fn num<T: std::str::FromStr>(field: &[u8]) -> Option<T> {
        std::str::from_utf8(field).ok()?.parse().ok()
    }
    let info = std::fs::read("/proc/self/mountinfo").ok()?;
    let line = |line: &[u8]| {
        // ID PARENT MAJOR:MINOR ROOT MOUNT-POINT ...; the mount point with \ooo escapes.
        let f: Vec<&[u8]> = line.splitn(6, |&b| b == b' ').collect();
        let (id, parent, dev, point) = (f.first()?, f.get(1)?, f.get(2)?, f.get(4)?);
        let colon = dev.iter().position(|&b| b == b':')?;
        let device = Device { id: num(id)?, major: num(&dev[..colon])?, minor: num(&dev[colon + 1..])? };
        Some(Mount { device, parent: num(parent)?, point: unescape(point) })
    };
    Some(info.split(|&b| b == b'\n').filter_map(line).collect())
}

/// A mount point as the kernel writes it in mountinfo: space, tab, newline and backslash as
/// `\ooo`.
fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let octal = s.get(i + 1..i + 4).filter(|d| s[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                out.push(d.iter().fold(0u8, |n, c| n.wrapping_mul(8).wrapping_add(c - b'0')));
                i += 4;
            }
            None => {
                out.push(s[i]);
                i += 1;
            }
        }
    }
    out
}

fn mount_directly(dir: &Path, source: &OsStr, allow_other: bool) -> io::Result<OwnedFd> {
    use std::os::unix::fs::MetadataExt;
    let mode = std::fs::metadata(dir)?.mode() & libc::S_IFMT;
    let dev = std::fs::OpenOptions::new().read(true).write(true).open("/dev/fuse")?;
    let fd = OwnedFd::from(dev);
    // SAFETY: plain queries of this process's ids.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let mut data = format!("fd={},rootmode={mode:o},user_id={uid},group_id={gid},default_permissions", fd.as_raw_fd());
    if allow_other {
        data.push_str(",allow_other");
    }
    let (source, target) = (cstr(source.as_bytes())?, cstr(dir.as_os_str().as_bytes())?);
    let fstype = cstr(format!("fuse.{SUBTYPE}").as_bytes())?;
    let data = cstr(data.as_bytes())?;
    let flags = libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOATIME;
    // SAFETY: NUL-terminated strings that live across the call; a plain system call.
    let rc = unsafe { libc::mount(source.as_ptr(), target.as_ptr(), fstype.as_ptr(), flags, data.as_ptr().cast()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

/// The `fusermount3` to run: `$FUSERMOUNT_PATH`, else the one on the PATH.
fn fusermount() -> std::ffi::OsString {
    std::env::var_os("FUSERMOUNT_PATH").unwrap_or_else(|| "fusermount3".into())
}

fn mount_with_fusermount(dir: &Path, source: &OsStr, allow_other: bool) -> io::Result<OwnedFd> {
    // fusermount3 splits its options at commas and takes a backslash as an escape.
    let mut escaped = Vec::new();
    for &b in source.as_bytes() {
        if b == b',' || b == b'\\' {
            escaped.push(b'\\');
        }
        escaped.push(b);
    }
    let mut opts = b"ro,nosuid,nodev,noatime,default_permissions,subtype=".to_vec();
    opts.extend_from_slice(SUBTYPE.as_bytes());
    opts.extend_from_slice(b",fsname=");
    opts.extend_from_slice(&escaped);
    if allow_other {
        opts.extend_from_slice(b",allow_other");
    }
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors the call returns.
    if unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0, fds.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: two descriptors just made, owned by nothing else.
    let (ours, theirs) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // Only fusermount3 inherits its end: the one without close-on-exec.
    // SAFETY: a plain system call on a descriptor we own.
    unsafe { libc::fcntl(theirs.as_raw_fd(), libc::F_SETFD, 0) };
    let child = std::process::Command::new(fusermount())
        .arg("-o")
        .arg(OsStr::from_bytes(&opts))
        .arg("--")
        .arg(dir)
        .env("_FUSE_COMMFD", theirs.as_raw_fd().to_string())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn();
    drop(theirs);
    let child = child.map_err(|e| io::Error::new(e.kind(), format!("cannot run fusermount3 (from fuse3): {e}")))?;
    let received = receive_fd(&ours);
    let out = child.wait_with_output()?;
    match received {
        Ok(Some(fd)) if out.status.success() => Ok(fd),
        _ => {
            let said = String::from_utf8_lossy(&out.stderr).trim().to_string();
            let kind =
                if said.contains("Permission denied") { io::ErrorKind::PermissionDenied } else { io::ErrorKind::Other };
            let said = match (said.is_empty(), out.status.success()) {
                (false, _) => said,
                (true, true) => "fusermount3 mounted nothing it passed back".to_string(),
                (true, false) => format!("fusermount3 {}", out.status),
            };
            Err(io::Error::new(kind, said))
        }
    }
}

/// The descriptor fusermount3 sends over `sock` (None: it sent none, having failed).
fn receive_fd(sock: &OwnedFd) -> io::Result<Option<OwnedFd>> {
    let mut byte = [0u8; 1];
    // Room for one control message carrying one descriptor (u64 words: aligned for cmsghdr).
    let mut control = [0u64; 8];
    let mut iov = libc::iovec { iov_base: byte.as_mut_ptr().cast(), iov_len: 1 };
    // SAFETY: zeroed is a valid msghdr; its pointers are set to live buffers below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control);
    loop {
        // SAFETY: `msg` points to live buffers of the sizes it states.
        let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Ok(None);
        }
        break;
    }
    // SAFETY: the kernel filled `msg`'s control buffer; CMSG_FIRSTHDR and CMSG_DATA stay
    // within it, and a SCM_RIGHTS message of at least one descriptor holds an int there.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        if cmsg.is_null() || (*cmsg).cmsg_level != libc::SOL_SOCKET || (*cmsg).cmsg_type != libc::SCM_RIGHTS {
            return Ok(None);
        }
        let fd = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::c_int>());
        Ok(Some(OwnedFd::from_raw_fd(fd)))
    }
}

/// Unmounts our FUSE file system at `dir`, the mount `device` (None: whatever is mounted there,
/// for undoing a mount just made): Ok(false) when the file system there now is another (ours
/// was detached, moved or covered), which is left alone. `lazy`: even while it is busy
/// (`umount -l`: it goes from the tree now, and the kernel lets go once the last user does).
/// Directly when allowed, else with `fusermount3 -u`.
pub fn unmount(dir: &Path, device: Option<Device>, lazy: bool) -> io::Result<bool> {
    if device.is_some() && device_at(dir) != device {
        return Ok(false);
    }
    unmount_path(dir, lazy).map(|()| true)
}

/// Waits for one of `signals` (blocked in every thread: [`crate::exec::block_signals`]) and
/// unmounts our file system at `dir` (the mount `device`); when it is busy (a program has a file
/// open), detaches it: the kernel lets go when the last user does, and the serving threads then
/// end. Returns true once it is unmounted (the serving threads then see the end of the session),
/// false at a further signal once nothing more can be done (detached, or no longer at `dir`):
/// the caller then ends the server at once. `log` takes what to tell.
pub fn unmount_on_signal(dir: &Path, device: Option<Device>, signals: &libc::sigset_t, log: &dyn Fn(&str)) -> bool {
    let d = dir.display();
    let mut done = false;
    loop {
        let mut sig = 0;
        // SAFETY: a valid signal set and an output slot.
        unsafe { libc::sigwait(signals, &mut sig) };
        if done {
            log(&format!(
                "{d}: stopping at a second signal (what is still open of the detached mount fails from now on)"
            ));
            return false;
        }
        let Some(device) = device else {
            log(&format!("cannot tell whether {d} is still this mount (no /proc/self/mountinfo): not unmounting it"));
            done = true;
            continue;
        };
        match unmount(dir, Some(device), false) {
            Ok(true) => return true,
            Ok(false) if listed(device) => {
                // Covered by another file system, or moved: perhaps not at the next signal.
                log(&format!("{d} is not this mount now (another is on top of it): nothing unmounted"));
                continue;
            }
            Ok(false) => log(&format!("{d} is no longer this mount (it was detached): nothing to unmount")),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) || e.to_string().contains("busy") => {
                log(&format!("{d} is busy ({e}); detaching it: the server ends once the last file is closed"));
                if let Err(e) = unmount(dir, Some(device), true) {
                    log(&format!("cannot detach {d}: {e}"));
                }
            }
            Err(e) => {
                log(&format!("cannot unmount {d}: {e}"));
                continue;
            }
        }
        done = true;
    }
}

/// Whether the mount `device` is still in this process's mount table (at any place).
fn listed(device: Device) -> bool {
    mounts().is_some_and(|all| all.iter().any(|m| m.device == device))
}

/// A mount as `ID:MAJOR:MINOR` (how the programs pass it on), and back.
pub fn device_arg(d: Device) -> String {
    format!("{}:{}:{}", d.id, d.major, d.minor)
}

pub fn parse_device(s: &str) -> Option<Device> {
    let mut it = s.split(':');
    let (id, major, minor) = (it.next()?.parse().ok()?, it.next()?.parse().ok()?, it.next()?.parse().ok()?);
    it.next().is_none().then_some(Device { id, major, minor })
}

fn unmount_path(dir: &Path, lazy: bool) -> io::Result<()> {
    let target = cstr(dir.as_os_str().as_bytes())?;
    let flags = libc::UMOUNT_NOFOLLOW | if lazy { libc::MNT_DETACH } else { 0 };
    // SAFETY: a NUL-terminated path; a plain system call.
    if unsafe { libc::umount2(target.as_ptr(), flags) } == 0 {
        return Ok(());
    }
    let direct = io::Error::last_os_error();
    if direct.raw_os_error() != Some(libc::EPERM) {
        return Err(direct);
    }
    let mut cmd = std::process::Command::new(fusermount());
    cmd.arg("-u");
    if lazy {
        cmd.arg("-z");
    }
    let out = cmd.arg("--").arg(dir).stdin(std::process::Stdio::null()).output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(String::from_utf8_lossy(&out.stderr).trim().to_string()))
    }
}

fn cstr(bytes: &[u8]) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in a name"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_points_come_back_from_mountinfo_escapes() {
        assert_eq!(unescape(br"/a\040b\011c\012d\134e"), b"/a b\tc\nd\\e");
        assert_eq!(unescape(br"/plain\09x\"), br"/plain\09x\");
    }

    #[test]
    fn a_mount_passes_on_as_text_and_back() {
        let d = Device { id: 4242, major: 0, minor: 77 };
        assert_eq!(parse_device(&device_arg(d)), Some(d));
        for bad in ["", "1:2", "1:2:3:4", "a:0:1", "1:0:99999999999"] {
            assert_eq!(parse_device(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_root_has_a_device() {
        assert!(device_at(Path::new("/")).is_some());
        assert_eq!(device_at(Path::new("/no/such/mount point")), None);
    }
}
