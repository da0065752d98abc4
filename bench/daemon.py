"""The process serving a FUSE mount, and its peak memory: shared by the mount benchmarks."""
import subprocess


def daemon_pid(mnt):
    """The process whose command line ends with the mount point `mnt` (as `mount` starts it)."""
    out = subprocess.run(["pgrep", "-f", f" {mnt}$"], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


def peak_kib(pid):
    """The peak resident memory (VmHWM) of process `pid`, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0
