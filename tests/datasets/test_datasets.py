"""The data set loaders of tinytorch.data.loader (Module 08), on data that never leaves the machine.

- `load_digits` on the file shipped in datasets/: shapes, dtypes, the fixed split, the
  SHA-256 recorded in the loader and in datasets/README.md, where it looks for the file,
  and a corrupted copy rejected.
- `load_mnist` on a tiny fake MNIST written into a temporary folder and served through
  `file://` mirrors with matching checksums: download, verification, cache (a second call
  fetches nothing), parsing; a checksum mismatch, unreachable mirrors and a missing file
  without download give errors that say what happened and what to do.

Nothing here uses the network.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

import tinytorch
from tinytorch.core.tensor import Tensor
from tinytorch.data import loader
from tinytorch.data.loader import (
    ChecksumError,
    DataLoader,
    DownloadError,
    TensorDataset,
    load_digits,
    load_mnist,
)

REPO = Path(__file__).resolve().parents[2]
DIGITS = REPO / "datasets" / "digits" / "digits.npz"
README = REPO / "datasets" / "README.md"

# --- load_digits ----------------------------------------------------------------------------


def test_digits_file_matches_the_published_sha256():
    digest = hashlib.sha256(DIGITS.read_bytes()).hexdigest()
    assert digest == loader.DIGITS_SHA256
    assert digest in README.read_text(encoding="utf-8"), "datasets/README.md records the sha256"


@pytest.mark.parametrize(("split", "count"), [("train", 1437), ("test", 360)])
def test_load_digits_shapes_dtypes_and_split(split, count):
    images, labels = load_digits(split, path=DIGITS)
    assert type(images) is np.ndarray and images.dtype == np.float32
    assert images.shape == (count, 8, 8)
    assert type(labels) is np.ndarray and labels.dtype == np.int64
    assert labels.shape == (count,)
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert images.max() == 1.0, "pixels are scaled by 1/16, and some pixel is fully on"
    # Pixels were integers 0..16: scaled back they are whole numbers again.
    assert np.array_equal(images * 16, np.round(images * 16))
    per_digit = np.bincount(labels, minlength=10)
    assert len(per_digit) == 10 and per_digit.sum() == count
    share = per_digit / count
    assert share.min() > 0.09 and share.max() < 0.11, "the split is stratified by digit"


def test_digits_train_and_test_do_not_overlap():
    train, _ = load_digits("train", path=DIGITS)
    test, _ = load_digits("test", path=DIGITS)
    train_rows = {row.tobytes() for row in train}
    duplicates = sum(row.tobytes() in train_rows for row in test)
    # The UCI data holds a handful of identical images written by different people; the split
    # is by image index, so only such exact repeats can appear on both sides.
    assert duplicates <= 3


def test_load_digits_accepts_a_folder_and_the_environment_variable(tmp_path, monkeypatch):
    folder = tmp_path / "digits"
    folder.mkdir()
    shutil.copy(DIGITS, folder / "digits.npz")
    images, _ = load_digits("test", path=folder)
    assert images.shape == (360, 8, 8)
    monkeypatch.setenv("TINYTORCH_DATA", str(tmp_path))
    monkeypatch.setattr(loader, "_package_datasets_dir", lambda: None)
    monkeypatch.chdir(tmp_path)
    images, _ = load_digits("test")
    assert images.shape == (360, 8, 8)


def test_load_digits_finds_the_repository_copy_next_to_the_package(tmp_path, monkeypatch):
    monkeypatch.delenv("TINYTORCH_DATA", raising=False)
    monkeypatch.chdir(tmp_path)  # nothing in the current folder
    package_root = Path(tinytorch.__file__).resolve().parent.parent
    assert (package_root / "datasets" / "digits" / "digits.npz").is_file(), (
        f"the tinytorch in use ({package_root}) has no datasets/ folder beside it; when "
        "testing a scratch build, copy datasets/ into it"
    )
    images, labels = load_digits("train")
    assert images.shape == (1437, 8, 8) and labels.shape == (1437,)


def test_load_digits_falls_back_to_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("TINYTORCH_DATA", raising=False)
    monkeypatch.setattr(loader, "_package_datasets_dir", lambda: tmp_path / "nowhere")
    shutil.copy(DIGITS, tmp_path / "digits.npz")
    monkeypatch.chdir(tmp_path)
    images, _ = load_digits("train")
    assert images.shape == (1437, 8, 8)


def test_load_digits_not_found_lists_every_place_it_looked(tmp_path, monkeypatch):
    env, package, cwd = tmp_path / "env", tmp_path / "repo" / "datasets", tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.setenv("TINYTORCH_DATA", str(env))
    monkeypatch.setattr(loader, "_package_datasets_dir", lambda: package)
    monkeypatch.chdir(cwd)
    with pytest.raises(FileNotFoundError) as info:
        load_digits("train")
    message = str(info.value)
    for place in (env / "digits" / "digits.npz", package / "digits" / "digits.npz"):
        assert str(place) in message
    assert str(cwd.resolve() / "digits.npz") in message or str(cwd / "digits.npz") in message
    assert "TINYTORCH_DATA" in message

    missing = tmp_path / "missing.npz"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        load_digits("train", path=missing)


def test_load_digits_rejects_a_corrupted_copy(tmp_path):
    damaged = bytearray(DIGITS.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    copy = tmp_path / "digits.npz"
    copy.write_bytes(bytes(damaged))
    with pytest.raises(ChecksumError) as info:
        load_digits("train", path=copy)
    assert isinstance(info.value, ValueError)
    assert "SHA-256" in str(info.value) and loader.DIGITS_SHA256 in str(info.value)
    truncated = tmp_path / "short.npz"
    truncated.write_bytes(DIGITS.read_bytes()[:1000])
    with pytest.raises(ChecksumError):
        load_digits("test", path=truncated)


def test_load_digits_rejects_an_unknown_split():
    with pytest.raises(ValueError, match="train"):
        load_digits("validation", path=DIGITS)


def test_digits_through_the_dataloader():
    images, labels = load_digits("test", path=DIGITS)
    data = TensorDataset(Tensor(images.reshape(len(images), 64)), Tensor(labels))
    batches = list(DataLoader(data, batch_size=64, shuffle=True, seed=0))
    assert len(batches) == 6 and batches[-1][0].shape == (360 - 5 * 64, 64)
    seen = np.concatenate([yb.data for _, yb in batches])
    assert np.array_equal(np.sort(seen), np.sort(labels.astype(np.float32)))


# --- load_mnist on a fake MNIST served from file:// mirrors ---------------------------------

SIZES = {"train": 10, "test": 6}


def idx_images(pixels: np.ndarray) -> bytes:
    n, rows, cols = pixels.shape
    return struct.pack(">IIII", 2051, n, rows, cols) + pixels.astype(np.uint8).tobytes()


def idx_labels(labels: np.ndarray) -> bytes:
    return struct.pack(">II", 2049, len(labels)) + labels.astype(np.uint8).tobytes()


class FakeMnist:
    """The four MNIST files, gzipped IDX with random content, in a `mirror/` folder."""

    def __init__(self, folder: Path, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.mirror = folder / "mirror"
        self.mirror.mkdir()
        self.url = self.mirror.as_uri() + "/"
        self.arrays, self.md5 = {}, {}
        for split, n in SIZES.items():
            pixels = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
            labels = rng.integers(0, 10, size=n, dtype=np.uint8)
            self.arrays[split] = (pixels, labels)
            images_name, labels_name = loader.MNIST_FILES[split]
            for name, raw in ((images_name, idx_images(pixels)), (labels_name, idx_labels(labels))):
                blob = gzip.compress(raw, mtime=0)
                (self.mirror / name).write_bytes(blob)
                self.md5[name] = hashlib.md5(blob).hexdigest()
        self.fetched: list[str] = []

    def fetch(self, url: str) -> bytes:
        """The default fetch (urllib, file:// here), counting every call."""
        self.fetched.append(url)
        return loader.fetch_url(url, timeout=5)


@pytest.fixture
def fake(tmp_path) -> FakeMnist:
    return FakeMnist(tmp_path)


def test_the_published_mnist_checksums_and_mirrors():
    assert loader.MNIST_MD5 == {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }
    assert set(loader.MNIST_MD5) == {name for pair in loader.MNIST_FILES.values() for name in pair}
    assert len(loader.MNIST_MIRRORS) >= 2
    assert all(m.startswith(("https://", "http://")) for m in loader.MNIST_MIRRORS)


@pytest.mark.parametrize("split", ["train", "test"])
def test_load_mnist_downloads_verifies_caches_and_parses(fake, tmp_path, split):
    cache = tmp_path / "cache"
    images, labels = load_mnist(
        split, root=cache, mirrors=[fake.url], fetch=fake.fetch, checksums=fake.md5
    )
    pixels, digits = fake.arrays[split]
    assert images.dtype == np.float32 and images.shape == (SIZES[split], 28, 28)
    assert np.allclose(images, pixels / 255.0, atol=1e-7)
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert labels.dtype == np.int64 and np.array_equal(labels, digits)
    names = loader.MNIST_FILES[split]
    assert fake.fetched == [fake.url + name for name in names]
    assert sorted(p.name for p in cache.iterdir()) == sorted(names), "no .part files left"
    for name in names:
        assert (cache / name).read_bytes() == (fake.mirror / name).read_bytes()

    def no_network(url: str) -> bytes:
        raise AssertionError(f"a cached file was fetched again: {url}")

    again, again_labels = load_mnist(
        split, root=cache, mirrors=[fake.url], fetch=no_network, checksums=fake.md5
    )
    assert np.array_equal(again, images) and np.array_equal(again_labels, labels)
    cached, _ = load_mnist(split, root=cache, download=False, checksums=fake.md5)
    assert np.array_equal(cached, images)


def test_load_mnist_default_fetch_reads_file_urls(fake, tmp_path):
    images, labels = load_mnist("test", root=tmp_path / "c", mirrors=[fake.url], checksums=fake.md5)
    assert images.shape == (SIZES["test"], 28, 28) and labels.shape == (SIZES["test"],)


def test_load_mnist_default_cache_folder_follows_tinytorch_data(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("TINYTORCH_DATA", str(tmp_path / "data"))
    load_mnist("test", mirrors=[fake.url], fetch=fake.fetch, checksums=fake.md5)
    assert (tmp_path / "data" / "mnist" / "t10k-images-idx3-ubyte.gz").is_file()


def test_load_mnist_tries_the_mirrors_in_turn(fake, tmp_path):
    dead = (tmp_path / "no-such-mirror").as_uri() + "/"
    images, _ = load_mnist(
        "test",
        root=tmp_path / "cache",
        mirrors=[dead, fake.url],
        fetch=fake.fetch,
        checksums=fake.md5,
    )
    assert images.shape == (SIZES["test"], 28, 28)
    names = loader.MNIST_FILES["test"]
    assert fake.fetched == [
        dead + names[0],
        fake.url + names[0],
        dead + names[1],
        fake.url + names[1],
    ]


def test_load_mnist_skips_a_mirror_with_a_damaged_copy(fake, tmp_path):
    bad = tmp_path / "bad-mirror"
    shutil.copytree(fake.mirror, bad)
    (bad / "t10k-labels-idx1-ubyte.gz").write_bytes(b"<html>not found</html>")
    _, labels = load_mnist(
        "test",
        root=tmp_path / "cache",
        mirrors=[bad.as_uri(), fake.url],
        fetch=fake.fetch,
        checksums=fake.md5,
    )
    assert np.array_equal(labels, fake.arrays["test"][1])


def test_load_mnist_checksum_mismatch_is_a_clear_error(fake, tmp_path):
    wrong = dict(fake.md5, **{"train-images-idx3-ubyte.gz": "0" * 32})
    cache = tmp_path / "cache"
    with pytest.raises(ChecksumError) as info:
        load_mnist("train", root=cache, mirrors=[fake.url], fetch=fake.fetch, checksums=wrong)
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message and "0" * 32 in message
    assert fake.md5["train-images-idx3-ubyte.gz"] in message, "the error names the MD5 found"
    assert not (cache / "train-images-idx3-ubyte.gz").exists(), "a bad copy is never cached"


def test_load_mnist_rejects_a_damaged_cached_file(fake, tmp_path):
    cache = tmp_path / "cache"
    load_mnist("test", root=cache, mirrors=[fake.url], fetch=fake.fetch, checksums=fake.md5)
    target = cache / "t10k-images-idx3-ubyte.gz"
    target.write_bytes(target.read_bytes()[:-10])
    with pytest.raises(ChecksumError, match="delete it"):
        load_mnist("test", root=cache, mirrors=[fake.url], fetch=fake.fetch, checksums=fake.md5)


def test_load_mnist_unreachable_mirrors_say_where_to_put_the_files(tmp_path):
    cache = tmp_path / "cache"
    mirrors = [(tmp_path / f"down{i}").as_uri() for i in range(2)]
    with pytest.raises(DownloadError) as info:
        load_mnist("train", root=cache, mirrors=mirrors, fetch=lambda url: loader.fetch_url(url, 5))
    message = str(info.value)
    assert isinstance(info.value, ConnectionError)
    assert all(m + "/train-images-idx3-ubyte.gz" in message for m in mirrors), "each URL tried"
    assert str(cache) in message, "the error names the folder to put the files in"
    assert "by hand" in message and "train-labels-idx1-ubyte.gz" in message
    assert not cache.exists() or not any(cache.iterdir())


def test_load_mnist_offline_without_download_says_where_to_put_the_files(tmp_path):
    def never(url: str) -> bytes:
        raise AssertionError("download=False must not fetch")

    cache = tmp_path / "empty"
    with pytest.raises(FileNotFoundError) as info:
        load_mnist("test", root=cache, download=False, fetch=never)
    message = str(info.value)
    assert str(cache) in message
    assert "t10k-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert loader.MNIST_MIRRORS[0] in message


def test_load_mnist_rejects_files_that_are_not_an_image_label_pair(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    sums = {}
    images_name, labels_name = loader.MNIST_FILES["test"]
    pixels = np.zeros((3, 28, 28), dtype=np.uint8)
    for name, raw in ((images_name, idx_images(pixels)), (labels_name, idx_labels(np.zeros(4)))):
        blob = gzip.compress(raw, mtime=0)
        (mirror / name).write_bytes(blob)
        sums[name] = hashlib.md5(blob).hexdigest()
    with pytest.raises(ValueError, match="image/label pair"):
        load_mnist("test", root=tmp_path / "cache", mirrors=[mirror.as_uri()], checksums=sums)


def test_load_mnist_rejects_a_file_with_a_bad_magic_number(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    sums = {}
    images_name, labels_name = loader.MNIST_FILES["test"]
    raws = {images_name: idx_labels(np.arange(5)), labels_name: b"\x00\x00\x08\x02" + bytes(8)}
    for name, raw in raws.items():
        blob = gzip.compress(raw, mtime=0)
        (mirror / name).write_bytes(blob)
        sums[name] = hashlib.md5(blob).hexdigest()
    with pytest.raises(ValueError, match="2050"):
        load_mnist("test", root=tmp_path / "cache", mirrors=[mirror.as_uri()], checksums=sums)


def test_load_mnist_rejects_an_unknown_split(tmp_path):
    with pytest.raises(ValueError, match="test"):
        load_mnist("valid", root=tmp_path, download=False)
