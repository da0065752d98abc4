"""A curation step that knows nothing about dset_split: fixes one sample of a dataset written by
ml_pipeline.py in place (inverts its image), leaving everything else as it was.

    python fix_sample.py RUN.h5 train/sample_00003
"""
import sys

import h5py


def main(path, sample):
    with h5py.File(path, "r+") as f:
        image = f[sample]["image"]
        image[...] = 255 - image[...]
        print(f"fixed {sample}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
