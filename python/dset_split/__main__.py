"""The `dset-split` command of the Python package: runs the packaged binary with the plugin's
folder known to it (for `dset-split env` and `doctor`)."""

import os
import sys

from . import plugin_dir


def main():
    exe = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin", "dset-split")
    env = dict(os.environ)
    env.setdefault("DSET_SPLIT_PLUGIN_DIR", plugin_dir())
    os.execve(exe, [exe, *sys.argv[1:]], env)


if __name__ == "__main__":
    main()
