"""CIFAR-10 for the milestones: download once, check the checksum, cache, extract, read.

CIFAR-10 (Alex Krizhevsky, 2009) holds 60,000 colour images of 32x32 pixels in ten classes,
50,000 for training and 10,000 for testing. It is not shipped with the course: the
"python version" archive (cifar-10-python.tar.gz, 163 MiB) is downloaded from the
official site, checked against its published MD5, kept in a cache folder and extracted
there. The archive holds six pickled batches, data_batch_1 to data_batch_5 and
test_batch, each a dict with b"data" (10000, 3072) uint8 rows, the red, green and blue
planes of one image after each other, and b"labels" (10000 ints in 0..9).

    images, labels = load_cifar10("train", download=True)  # (50000, 3, 32, 32), (50000,)

The cache folder is `root`, else $TINYTORCH_DATA/cifar10, else ~/.cache/tinytorch/cifar10.
Without network access, copy cifar-10-python.tar.gz into it by hand. The batches are read
with pickle only after the archive's MD5 matched the published one.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tarfile
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"  # published on the CIFAR page
CIFAR10_MIRRORS = ("https://www.cs.toronto.edu/~kriz/",)  # the official download location
BATCHES_FOLDER = "cifar-10-batches-py"
BATCHES = {
    "train": tuple(f"data_batch_{i}" for i in range(1, 6)),
    "test": ("test_batch",),
}
CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
IMAGE_SHAPE = (3, 32, 32)
CHUNK = 1 << 20  # bytes read at a time when hashing


class ChecksumError(ValueError):
    """The archive's MD5 differs from the published one: damaged, truncated or another file."""


class DownloadError(ConnectionError):
    """No mirror delivered the archive: no network, mirrors down, or only damaged copies."""


class DatasetMissing(FileNotFoundError):
    """The archive is not in the cache folder and download=False."""


def cache_folder(root: str | Path | None = None) -> Path:
    """root, else $TINYTORCH_DATA/cifar10, else ~/.cache/tinytorch/cifar10."""
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get("TINYTORCH_DATA"):
        return Path(os.environ["TINYTORCH_DATA"]).expanduser() / "cifar10"
    return Path.home() / ".cache" / "tinytorch" / "cifar10"


def md5_of_file(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_url(url: str, timeout: float = 60.0) -> bytes:
    """The bytes at `url` (https://, http:// or file://), read with urllib."""
    request = urllib.request.Request(url, headers={"User-Agent": "tinytorch-course"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


def by_hand(folder: Path, mirrors: Sequence[str]) -> str:
    """What to do without network access."""
    sites = ", ".join(m.rstrip("/") + "/" + ARCHIVE for m in mirrors) or "the CIFAR-10 page"
    return (
        f"To install it by hand, download {ARCHIVE} ({sites}) on a machine with network access "
        f"and copy it, still compressed, into {folder} (or pass root=... / --data-root, or set "
        "TINYTORCH_DATA to a folder whose cifar10/ subfolder holds it)."
    )


def download_archive(
    folder: Path, mirrors: Sequence[str], checksum: str, fetch: Callable[[str], bytes]
) -> Path:
    """Fetch the archive from the first mirror that delivers a copy with the right MD5."""
    failures, only_bad_copies = [], True
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + ARCHIVE
        try:
            blob = fetch(url)
        except Exception as exc:  # noqa: BLE001 - any failure of one mirror: try the next
            failures.append(f"  {url}: {type(exc).__name__}: {exc}")
            only_bad_copies = False
            continue
        digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
        if digest != checksum:
            failures.append(f"  {url}: MD5 {digest}, expected {checksum}")
            continue
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / ARCHIVE
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(blob)
        partial.replace(target)  # a rename: the cache never holds half an archive
        return target
    tried = "\n".join(failures) or "  (no mirrors given)"
    if failures and only_bad_copies:
        raise ChecksumError(
            f"load_cifar10: every mirror delivered a damaged or different {ARCHIVE}:\n{tried}\n"
            + by_hand(folder, mirrors)
        )
    raise DownloadError(
        f"load_cifar10: could not download {ARCHIVE} from any mirror:\n{tried}\n"
        + by_hand(folder, mirrors)
    )


def extract(archive: Path, folder: Path) -> None:
    """Write the six batch files of the archive into folder/cifar-10-batches-py.

    Only those six regular files are written, under names this function chooses: a member
    with any other name (a path such as ../../x included) is never extracted.
    """
    wanted = {f"{BATCHES_FOLDER}/{name}" for names in BATCHES.values() for name in names}
    target = folder / BATCHES_FOLDER
    target.mkdir(parents=True, exist_ok=True)
    found = set()
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            name = member.name.removeprefix("./")
            if name not in wanted or not member.isfile():
                continue
            blob = tar.extractfile(member).read()
            partial = target / (Path(name).name + ".part")
            partial.write_bytes(blob)
            partial.replace(target / Path(name).name)
            found.add(name)
    missing = sorted(wanted - found)
    if missing:
        raise ValueError(f"load_cifar10: {archive} does not contain {', '.join(missing)}")


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(data (n, 3072) uint8, labels (n,) int64) from one pickled batch."""
    with open(path, "rb") as file:
        batch = pickle.load(file, encoding="bytes")  # the archive's MD5 was checked
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise ValueError(f"load_cifar10: {path} has no 'data' and 'labels' entries")
    data, labels = np.asarray(data, dtype=np.uint8), np.asarray(labels, dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != int(np.prod(IMAGE_SHAPE)) or len(data) != len(labels):
        raise ValueError(
            f"load_cifar10: {path} holds data of shape {data.shape} and {len(labels)} labels; "
            "expected (n, 3072) and n"
        )
    return data, labels


def load_cifar10(
    split: str = "train",
    root: str | Path | None = None,
    download: bool = False,
    mirrors: Sequence[str] | None = None,
    checksum: str | None = None,
    fetch: Callable[[str], bytes] | None = None,
    timeout: float = 60.0,
) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10's images and labels: cached, checked, extracted and read.

    Args:
        split: "train" (50,000 images) or "test" (10,000 images).
        root: the cache folder; default $TINYTORCH_DATA/cifar10, else
            ~/.cache/tinytorch/cifar10.
        download: fetch the archive when it is not cached; with False a missing archive
            raises DatasetMissing saying where to put it.
        mirrors: base URLs tried in turn (default CIFAR10_MIRRORS); file:// URLs work too.
        checksum: the archive's MD5 (default CIFAR10_MD5, the published value).
        fetch: fetch(url) -> bytes; default fetch_url with the given timeout (seconds).

    Returns:
        (images, labels): float32 images in [0, 1] of shape (N, 3, 32, 32) (NCHW, channels
        red, green, blue) and int64 labels 0..9 (names in CLASSES) of shape (N,).

    Raises:
        DatasetMissing: the archive is not cached and download is False.
        DownloadError: no mirror could deliver it (for example, no network).
        ChecksumError: the cached or downloaded archive has the wrong MD5.
        ValueError: for a split other than "train" or "test", or an archive without the
            expected batches.
    """
    if split not in BATCHES:
        raise ValueError(f"load_cifar10: split must be 'train' or 'test', got {split!r}")
    folder = cache_folder(root)
    mirrors = CIFAR10_MIRRORS if mirrors is None else tuple(mirrors)
    checksum = CIFAR10_MD5 if checksum is None else checksum
    if fetch is None:

        def fetch(url: str) -> bytes:
            return fetch_url(url, timeout)

    batches = [folder / BATCHES_FOLDER / name for name in BATCHES[split]]
    if not all(path.is_file() for path in batches):
        archive = folder / ARCHIVE
        if not archive.is_file():
            if not download:
                raise DatasetMissing(
                    f"load_cifar10: {archive} is missing and download=False. "
                    + by_hand(folder, mirrors)
                )
            download_archive(folder, mirrors, checksum, fetch)
        digest = md5_of_file(archive)
        if digest != checksum:
            raise ChecksumError(
                f"load_cifar10: the cached {archive} has MD5 {digest}, expected {checksum}: it "
                "is damaged or a different file; delete it and load again"
            )
        extract(archive, folder)
    parts = [read_batch(path) for path in batches]
    data = np.concatenate([d for d, _ in parts])
    labels = np.concatenate([y for _, y in parts])
    images = data.reshape(len(data), *IMAGE_SHAPE).astype(np.float32)
    images /= 255.0
    return images, labels
