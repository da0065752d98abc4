"""An ML-style pipeline: many samples written one by one, then read back in random order.

    python ml_pipeline.py OUT.h5 [N]
"""
import sys

import h5py
import numpy as np


def main(path, n):
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as f:
        train = f.create_group("train")
        for i in range(n):
            sample = train.create_group(f"sample_{i:05d}")
            sample.create_dataset("image", data=rng.integers(0, 255, (28, 28), dtype=np.uint8), compression="gzip")
            sample.create_dataset("label", data=np.int64(i % 10))
            sample.attrs["source"] = f"synthetic-{i}"
        f["train"].attrs["count"] = n
    with h5py.File(path, "r") as f:
        total = 0
        for i in rng.permutation(n):
            s = f[f"train/sample_{i:05d}"]
            total += int(s["image"][0, 0]) + int(s["label"][()])
        print(f"read {n} samples, checksum {total}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 200)
