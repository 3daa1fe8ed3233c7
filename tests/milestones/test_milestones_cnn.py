"""The 1998 CNN milestones: cnn_digits.py, lecun_cifar10.py and the CIFAR-10 loader.

- cnn_digits reaches >= 97% test accuracy on the shipped digits with its defaults, beats
  the MLP it trains on the same split with the same training, prints both in one table
  with their training times, honours --epochs, and runs as a command in well under two
  minutes;
- cifar10.load_cifar10 reads a small archive in CIFAR-10's format that this file writes (the
  six pickled batches with their real keys), from the cache or downloaded from file://
  mirrors, checks its MD5 (the fake archive's checksum is passed in, or swapped into the
  module for the script), refuses other files, says what to do when it is offline and not
  cached, and never writes outside its cache folder;
- lecun_cifar10 trains LeNet-5 end to end on the fake archive and, without data, exits 2
  saying how to get it;
- both scripts stop with exit code 2 naming Module 09 when the package lacks it.

enable_autograd() rewires Tensor, the activations and the losses for the whole process; the
`autograd_undone` fixture puts them back after each in-process run (as in
tests/test_milestones_mlp.py).
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import pickle
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
MILESTONES = REPO / "milestones"
sys.path.insert(0, str(MILESTONES))

import common  # noqa: E402

SCRIPTS = {
    "cnn_digits": "04_1998_cnn/cnn_digits.py",
    "lecun_cifar10": "04_1998_cnn/lecun_cifar10.py",
}
SEEDS = [0, 7]
BATCH_NAMES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]

cifar10 = common.load_script("04_1998_cnn/cifar10.py")

HAS_SPATIAL = importlib.util.find_spec("tinytorch.core.spatial") is not None


def needs_spatial(test):
    """The package is exported by `make release`; a missing module must fail, not skip."""
    return test


def framework() -> Path:
    return common.framework_folder()


def run_main(script: str, *args: str) -> dict:
    results = common.load_script(SCRIPTS[script]).main(list(args))
    assert results["framework"] == str(framework())
    return results


def run_script(
    script: str, *args: str, env: dict | None = None, timeout: float = 180
) -> subprocess.CompletedProcess:
    """Run a milestone as a command with this Python and capture its output."""
    return subprocess.run(
        [sys.executable, str(MILESTONES / SCRIPTS[script]), *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def table_value(out: str, measure: str) -> str:
    """The result cell of the row `measure` in a printed results table."""
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0] == measure:
            return cells[1]
    raise AssertionError(f"no row {measure!r} in the table:\n{out}")


@pytest.fixture
def autograd_undone():
    """Undo enable_autograd() after the test: restore Tensor, activations and losses."""
    import tinytorch.core.activations as activations
    import tinytorch.core.losses as losses
    import tinytorch.core.tensor as tensor

    modules = [tensor, activations, losses]
    classes = [
        value
        for module in modules
        for value in vars(module).values()
        if isinstance(value, type) and value.__module__ == module.__name__
    ]
    saved = {target: dict(vars(target)) for target in [*modules, *classes]}
    yield
    for target, attributes in saved.items():
        for name in set(vars(target)) - set(attributes):
            delattr(target, name)
        for name, value in attributes.items():
            if vars(target).get(name) is not value:
                setattr(target, name, value)


# --------------------------------------------------------------------------------------
# cnn_digits.py
# --------------------------------------------------------------------------------------


@needs_spatial
@pytest.mark.parametrize("seed", SEEDS)
def test_cnn_digits_reaches_97_percent_and_beats_the_mlp(seed, capsys, autograd_undone):
    results = run_main("cnn_digits", "--seed", str(seed))
    assert results["accuracy"] >= 0.97
    assert results["accuracy"] > results["mlp_accuracy"], "the CNN beats the 1986 MLP"
    assert results["target_met"] is True
    assert results["epochs"] == 15
    assert len(results["cnn_history"]) == len(results["mlp_history"]) == 15
    assert results["cnn_history"][-1]["loss"] < results["cnn_history"][0]["loss"]
    assert results["cnn_seconds"] > 0 and results["mlp_seconds"] > 0
    assert results["seconds"] < 120, f"took {results['seconds']:.0f} s"
    assert results["cnn_parameters"] == (32 * 9 + 32) + (64 * 32 * 9 + 64) + (256 * 10 + 10)
    assert results["mlp_parameters"] == 64 * 128 + 128 + 128 * 10 + 10
    out = capsys.readouterr().out
    assert "LeCun" in out and "1,437 training and 360 test images" in out
    assert table_value(out, "CNN test accuracy") == f"{results['accuracy']:.1%}"
    assert table_value(out, "MLP test accuracy") == f"{results['mlp_accuracy']:.1%}"
    assert table_value(out, "CNN training time") == f"{results['cnn_seconds']:.2f} s"
    assert table_value(out, "MLP training time") == f"{results['mlp_seconds']:.2f} s"
    assert table_value(out, "CNN beats MLP") == "yes"


@needs_spatial
def test_cnn_digits_epochs_option_and_an_honest_failure(capsys, autograd_undone):
    results = run_main("cnn_digits", "--epochs", "1", "--seed", "1")
    assert results["epochs"] == 1
    assert [row["epoch"] for row in results["cnn_history"]] == [1]
    assert [row["epoch"] for row in results["mlp_history"]] == [1]
    assert results["target_met"] == (
        results["accuracy"] >= 0.97 and results["accuracy"] > results["mlp_accuracy"]
    )
    assert table_value(capsys.readouterr().out, "training").endswith("1 epochs")


@needs_spatial
def test_cnn_digits_as_a_command():
    started = time.perf_counter()
    result = run_script("cnn_digits", "--seed", "3")
    seconds = time.perf_counter() - started
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert seconds < 120, f"the default run took {seconds:.0f} s"
    out = result.stdout
    assert f"tinytorch at {framework()}" in out
    assert float(table_value(out, "CNN test accuracy").rstrip("%")) >= 97.0
    assert table_value(out, "CNN beats MLP") == "yes"
    epochs = re.findall(r"^\s*(\d+)/15\s+([\d.]+)\s+([\d.]+)%\s+([\d.]+)$", out, re.M)
    assert [int(row[0]) for row in epochs] == list(range(1, 16)) * 2, "a line per epoch, twice"
    assert out.isascii(), "piped output should be plain ASCII"


# --------------------------------------------------------------------------------------
# The CIFAR-10 loader, on a small archive in CIFAR-10's format
# --------------------------------------------------------------------------------------


def fake_batches(per_batch: int, seed: int) -> dict[str, dict]:
    """The six batches as CIFAR-10's pickles hold them: bytes keys, uint8 rows of 3072.

    Images of class k are one colour (a colour per class) plus noise, so a network can
    learn the classes in a few epochs.
    """
    rng = np.random.default_rng(seed)
    palette = rng.integers(40, 216, size=(10, 3))
    batches = {}
    for name in BATCH_NAMES:
        labels = rng.integers(0, 10, per_batch)
        planes = palette[labels][:, :, None] + rng.integers(-30, 31, (per_batch, 3, 1024))
        batches[name] = {
            b"batch_label": f"{name} of a fake CIFAR-10".encode(),
            b"labels": labels.tolist(),
            b"data": planes.clip(0, 255).astype(np.uint8).reshape(per_batch, 3072),
            b"filenames": [f"{name}_{i}.png".encode() for i in range(per_batch)],
        }
    return batches


def write_archive(path: Path, batches: dict[str, dict], extra: dict | None = None) -> str:
    """cifar-10-python.tar.gz at `path` holding the batches (and any extra members by name);
    returns its MD5."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        members = {
            f"cifar-10-batches-py/{n}": pickle.dumps(b, protocol=2) for n, b in batches.items()
        }
        members.update(extra or {})
        for name, blob in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return hashlib.md5(buffer.getvalue()).hexdigest()


def expected(batches: dict[str, dict], names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    data = np.concatenate([batches[n][b"data"] for n in names])
    labels = np.concatenate([batches[n][b"labels"] for n in names])
    return data.reshape(-1, 3, 32, 32) / 255.0, labels


@pytest.fixture
def fake_cifar(tmp_path):
    """A fake archive in tmp_path/cache; returns (cache folder, md5, batches)."""
    batches = fake_batches(per_batch=8, seed=0)
    md5 = write_archive(tmp_path / "cache" / cifar10.ARCHIVE, batches)
    return tmp_path / "cache", md5, batches


def test_load_cifar10_reads_both_splits_of_a_cached_archive(fake_cifar):
    folder, md5, batches = fake_cifar
    for split, names, count in (("train", BATCH_NAMES[:5], 40), ("test", BATCH_NAMES[5:], 8)):
        images, labels = cifar10.load_cifar10(split, root=folder, checksum=md5)
        assert images.dtype == np.float32 and images.shape == (count, 3, 32, 32)
        assert labels.dtype == np.int64 and labels.shape == (count,)
        want_images, want_labels = expected(batches, names)
        assert np.allclose(images, want_images), "rows are red, green, blue planes of 32x32"
        assert np.array_equal(labels, want_labels)
        assert 0.0 <= images.min() and images.max() <= 1.0
    extracted = sorted(p.name for p in (folder / "cifar-10-batches-py").iterdir())
    assert extracted == sorted(BATCH_NAMES)


def test_load_cifar10_uses_the_extracted_batches_once_the_archive_is_gone(fake_cifar):
    folder, md5, batches = fake_cifar
    cifar10.load_cifar10("test", root=folder, checksum=md5)
    (folder / cifar10.ARCHIVE).unlink()
    images, labels = cifar10.load_cifar10("train", root=folder, checksum=md5)
    assert np.array_equal(labels, expected(batches, BATCH_NAMES[:5])[1])


def test_load_cifar10_downloads_from_the_first_good_mirror(tmp_path):
    batches = fake_batches(per_batch=4, seed=1)
    good = tmp_path / "good-mirror"
    md5 = write_archive(good / cifar10.ARCHIVE, batches)
    bad = tmp_path / "bad-mirror"  # a different archive: the wrong MD5
    write_archive(bad / cifar10.ARCHIVE, fake_batches(per_batch=4, seed=2))
    missing = tmp_path / "no-mirror-here"
    mirrors = [missing.as_uri(), bad.as_uri() + "/", good.as_uri()]
    cache = tmp_path / "cache"
    images, labels = cifar10.load_cifar10(
        "test", root=cache, download=True, mirrors=mirrors, checksum=md5
    )
    assert np.array_equal(labels, expected(batches, BATCH_NAMES[5:])[1])
    assert cifar10.md5_of_file(cache / cifar10.ARCHIVE) == md5, "the good copy is cached"
    assert not list(cache.glob("*.part")), "no half-written files are left"


def test_load_cifar10_refuses_when_every_mirror_has_a_bad_copy(tmp_path):
    mirror = tmp_path / "mirror"
    write_archive(mirror / cifar10.ARCHIVE, fake_batches(per_batch=2, seed=3))
    with pytest.raises(cifar10.ChecksumError) as error:
        cifar10.load_cifar10(
            "train", root=tmp_path / "cache", download=True, mirrors=[mirror.as_uri()]
        )
    assert cifar10.CIFAR10_MD5 in str(error.value), "names the published checksum"
    assert not (tmp_path / "cache" / cifar10.ARCHIVE).exists(), "a bad copy is not cached"


def test_a_cached_archive_must_have_the_published_checksum(fake_cifar):
    folder, md5, _ = fake_cifar
    with pytest.raises(cifar10.ChecksumError) as error:
        cifar10.load_cifar10("train", root=folder)  # the published MD5, not the fake's
    message = str(error.value)
    assert md5 in message and cifar10.CIFAR10_MD5 == "c58f30108f718f92721af3b95e74349a"
    assert cifar10.CIFAR10_MD5 in message
    assert not (folder / "cifar-10-batches-py").exists(), "nothing is extracted from it"


def test_offline_and_not_cached_says_what_to_do(tmp_path):
    folder = tmp_path / "empty"
    with pytest.raises(cifar10.DatasetMissing) as error:
        cifar10.load_cifar10("train", root=folder)
    assert isinstance(error.value, FileNotFoundError)
    message = str(error.value)
    assert str(folder / cifar10.ARCHIVE) in message and "download=False" in message
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in message
    assert "TINYTORCH_DATA" in message


def test_download_without_network_raises_download_error(tmp_path):
    # Port 9 on the loopback interface: nothing listens, the connection is refused at once.
    with pytest.raises(cifar10.DownloadError) as error:
        cifar10.load_cifar10(
            "test",
            root=tmp_path / "cache",
            download=True,
            mirrors=["http://127.0.0.1:9/"],
            timeout=5,
        )
    message = str(error.value)
    assert "http://127.0.0.1:9/cifar-10-python.tar.gz" in message
    assert "by hand" in message and str(tmp_path / "cache") in message
    assert not (tmp_path / "cache" / cifar10.ARCHIVE).exists()


def test_cache_folder_follows_tinytorch_data(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYTORCH_DATA", str(tmp_path))
    assert cifar10.cache_folder() == tmp_path / "cifar10"
    assert cifar10.cache_folder(tmp_path / "x") == tmp_path / "x"
    monkeypatch.delenv("TINYTORCH_DATA")
    assert cifar10.cache_folder() == Path.home() / ".cache" / "tinytorch" / "cifar10"


def test_extraction_writes_only_the_six_batches_inside_the_cache(tmp_path):
    batches = fake_batches(per_batch=2, seed=4)
    hostile = {
        "../escaped.txt": b"outside the cache",
        "cifar-10-batches-py/../../escaped2.txt": b"outside too",
        "cifar-10-batches-py/readme.html": b"not a batch",
    }
    cache = tmp_path / "deep" / "cache"
    md5 = write_archive(cache / cifar10.ARCHIVE, batches, extra=hostile)
    cifar10.load_cifar10("test", root=cache, checksum=md5)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(
        [f"deep/cache/{cifar10.ARCHIVE}"]
        + [f"deep/cache/cifar-10-batches-py/{name}" for name in BATCH_NAMES]
    )


def test_an_archive_without_the_batches_is_rejected(tmp_path):
    batches = fake_batches(per_batch=2, seed=5)
    del batches["data_batch_3"]
    md5 = write_archive(tmp_path / cifar10.ARCHIVE, batches)
    with pytest.raises(ValueError, match="data_batch_3"):
        cifar10.load_cifar10("train", root=tmp_path, checksum=md5)


def test_unknown_split_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="'train' or 'test'"):
        cifar10.load_cifar10("validation", root=tmp_path)


# --------------------------------------------------------------------------------------
# lecun_cifar10.py
# --------------------------------------------------------------------------------------


@needs_spatial
def test_lecun_cifar10_trains_on_a_fake_archive(tmp_path, monkeypatch, capsys, autograd_undone):
    folder = tmp_path / "cifar"
    md5 = write_archive(folder / cifar10.ARCHIVE, fake_batches(per_batch=100, seed=6))
    monkeypatch.setattr(cifar10, "CIFAR10_MD5", md5)  # the script checks the published MD5
    results = run_main("lecun_cifar10", "--data-root", str(folder), "--epochs", "3")
    assert results["epochs"] == 3 and len(results["history"]) == 3
    assert results["train_images"] == 500
    assert results["parameters"] == 62_006, "LeNet-5: 456 + 2,416 + 48,120 + 10,164 + 850"
    assert results["history"][-1]["loss"] < results["history"][0]["loss"]
    assert results["accuracy"] >= 0.5, "one colour per class is easy to learn"
    assert results["train_seconds"] > 0
    out = capsys.readouterr().out
    assert "CIFAR-10: 500 training and 100 test images of 3x32x32" in out
    assert table_value(out, "test accuracy") == f"{results['accuracy']:.1%}"


@needs_spatial
def test_lecun_cifar10_limit_option(tmp_path, monkeypatch, capsys, autograd_undone):
    folder = tmp_path / "cifar"
    md5 = write_archive(folder / cifar10.ARCHIVE, fake_batches(per_batch=20, seed=7))
    monkeypatch.setattr(cifar10, "CIFAR10_MD5", md5)
    results = run_main(
        "lecun_cifar10", "--data-root", str(folder), "--epochs", "1", "--limit", "30"
    )
    assert results["train_images"] == 30
    assert "It saw 30 of the 50,000 training images" in capsys.readouterr().out


@pytest.mark.parametrize("how", ["TINYTORCH_DATA", "--data-root"])
def test_lecun_cifar10_without_data_exits_2_saying_how_to_get_it(how, tmp_path):
    if how == "TINYTORCH_DATA":
        folder = tmp_path / "cifar10"
        result = run_script("lecun_cifar10", env={"TINYTORCH_DATA": str(tmp_path)})
    else:
        folder = tmp_path / "nothing-here"
        result = run_script("lecun_cifar10", "--data-root", str(folder))
    assert result.returncode == 2, result.stdout + result.stderr
    if not HAS_SPATIAL:  # it stops earlier, at the missing module
        assert "Module 0" in result.stderr
        return
    err = result.stderr
    assert f"CIFAR-10 is not available in {folder}" in err
    assert "--download" in err and cifar10.ARCHIVE in err
    assert "Traceback" not in err
    assert not folder.exists() or not any(folder.iterdir()), "nothing was downloaded"


@needs_spatial
def test_lecun_cifar10_refuses_an_archive_with_another_checksum(tmp_path):
    folder = tmp_path / "cifar"
    md5 = write_archive(folder / cifar10.ARCHIVE, fake_batches(per_batch=2, seed=8))
    result = run_script("lecun_cifar10", "--data-root", str(folder))
    assert result.returncode == 2, result.stdout + result.stderr
    assert md5 in result.stderr and cifar10.CIFAR10_MD5 in result.stderr
    assert "Traceback" not in result.stderr


def test_lecun_cifar10_shares_the_training_code_of_cnn_digits():
    lecun = common.load_script(SCRIPTS["lecun_cifar10"])
    assert lecun.cnn_digits is common.load_script(SCRIPTS["cnn_digits"])
    assert lecun.cifar10 is cifar10


# --------------------------------------------------------------------------------------
# A package without Module 09
# --------------------------------------------------------------------------------------


@needs_spatial
@pytest.mark.parametrize("script", SCRIPTS)
def test_missing_module_09_exits_2_naming_it(script, tmp_path):
    package = tmp_path / "tinytorch"
    shutil.copytree(framework(), package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "core" / "spatial.py").unlink()
    result = run_script(script, env={"PYTHONPATH": str(tmp_path)}, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"tinytorch at {package} (your own package)" in result.stdout
    assert "this milestone needs Module 09 (tinytorch.core.spatial); export it first" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
