"""Make datasets/digits/digits.npz from scikit-learn's bundled copy of the UCI digits.

Run once, by the instructor, in a throwaway environment that has scikit-learn (the course
itself never depends on it):

    python3 -m venv /tmp/skl && /tmp/skl/bin/pip install scikit-learn
    /tmp/skl/bin/python datasets/digits/make_digits.py

The file is written byte for byte reproducibly (fixed zip timestamps, fixed member order),
so running this again with the same scikit-learn data gives the same sha256, which
datasets/README.md records and tinytorch.data.loader.load_digits checks.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

OUT = Path(__file__).resolve().parent / "digits.npz"
TEST_SIZE = 360  # of 1797 images: 1437 train / 360 test
SEED = 0  # random_state of the stratified split


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz archive (what np.load reads) with fixed timestamps, members in the given order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, member.getvalue(), compresslevel=9)
    return buffer.getvalue()


def main() -> None:
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)  # (1797, 8, 8), pixel values 0..16
    labels = digits.target.astype(np.int64)
    idx_train, idx_test = train_test_split(
        np.arange(len(labels)), test_size=TEST_SIZE, stratify=labels, random_state=SEED
    )
    idx_train, idx_test = np.sort(idx_train), np.sort(idx_test)  # keep the original order
    data = npz_bytes(
        {
            "x_train": images[idx_train],
            "y_train": labels[idx_train],
            "x_test": images[idx_test],
            "y_test": labels[idx_test],
        }
    )
    OUT.write_bytes(data)
    print(f"wrote {OUT} ({len(data):,} bytes)")
    print(f"train {len(idx_train)}, test {len(idx_test)}")
    print(f"sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
