"""Rebuild datasets/pycode/ (train.txt, val.txt, LICENSE.txt) from CPython 3.11.7's stdlib.

The corpus is 34 whole modules of the Python standard library, copied unchanged from the
source files of CPython 3.11.7 (`Lib/` in the source tree; installed as
`sysconfig.get_paths()["stdlib"]`, e.g. /root/.pyenv/versions/3.11.7/lib/python3.11):

    python datasets/pycode/make_pycode.py                 # this interpreter's stdlib
    python datasets/pycode/make_pycode.py /path/to/Lib    # any copy of it

Every chosen file's sha256 is checked against MANIFEST before anything is read further; a
folder whose files differ (another Python version, a patched install) is refused with the
list of differing files. The result is compared with OUTPUT_SHA256 (also in
datasets/README.md) before anything is written. Standard library only.

The files were chosen to contain printable ASCII and newlines only (no tab, form feed,
carriage return or non-ASCII character), so nothing needs normalising. Each split is the
concatenation, in list order, of one block per module:

    # === file: <path relative to the stdlib folder> ===\\n
    <the module's bytes, unchanged; every chosen module ends with a newline>
    \\n

that is, a header line, the module, and one blank line. The split is by file: TRAIN and VAL
are fixed lists with no file in both. LICENSE.txt is the stdlib's LICENSE.txt, unchanged
(the PSF licence and its history).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import sysconfig
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON_VERSION = "3.11.7"
HEADER = "# === file: {path} ===\n"
HEADER_RE = re.compile(r"^# === file: (\S+) ===$", re.MULTILINE)
ALLOWED = frozenset(chr(c) for c in range(0x20, 0x7F)) | {"\n"}
LICENSE = "LICENSE.txt"

TRAIN = (
    "argparse.py",
    "ast.py",
    "base64.py",
    "cmd.py",
    "collections/__init__.py",
    "configparser.py",
    "contextlib.py",
    "csv.py",
    "dataclasses.py",
    "difflib.py",
    "enum.py",
    "fnmatch.py",
    "glob.py",
    "graphlib.py",
    "numbers.py",
    "operator.py",
    "pathlib.py",
    "posixpath.py",
    "pprint.py",
    "random.py",
    "shutil.py",
    "string.py",
    "tempfile.py",
    "threading.py",
    "timeit.py",
    "tokenize.py",
    "weakref.py",
)
VAL = (
    "calendar.py",
    "json/__init__.py",
    "json/decoder.py",
    "json/encoder.py",
    "json/scanner.py",
    "queue.py",
    "textwrap.py",
)

# sha256 of every file read, as shipped with CPython 3.11.7.
MANIFEST = {
    "argparse.py": "dc1eba8adfdf615986421f981337458ba1072d3e718a0f76e3224940fd74118b",
    "ast.py": "c513073798bdbf3cdef09327d0d2d381a53213a13a4ba3f02729695327539406",
    "base64.py": "7de2ffc30db7b791f482ee8e6cba30a7b69452324d466231f29395be00154b4b",
    "cmd.py": "fb82a8c4e44e5b559c88d516d79051534cec69a463df97defe05ac8a261f0a0d",
    "collections/__init__.py": "303701de55e434c0fbcc478ae8a79a28537d9ebe83b3150508438ffd6e3e14c7",
    "configparser.py": "4a70cecccb55031a413b79e6ced2e63ca031f770cd25a4882980ecdeab67f6ff",
    "contextlib.py": "d732c045bc7450997f97b2f79cfdb1546b68d2655e89ab3170f3b19b3930d83c",
    "csv.py": "6c68a5186e3b85e6e267a7ef96479327a45ae2b40bf5e9f2017e4b2282b3f5b1",
    "dataclasses.py": "4b7e1c99ebea53b546317d218a0261895a1769f83a6b95dc0136f13578066a7f",
    "difflib.py": "0c6afc23568d55b3e9ac914f9c5361e3033e778aa5b58d3cc82835fc5c638679",
    "enum.py": "84fc683aa71da233cf0f6a1bd59ffedc2bc7adb3a40f9339052141176071b6d6",
    "fnmatch.py": "6683da36e47af523f3f41e18ad244d837783e19e98911cc0b7415dea81494ebc",
    "glob.py": "fa579f8a50a66313d34d339f10be0821c9b4fed6207e8ba8e29ed1c5e119f740",
    "graphlib.py": "7bd338c5a475d1101064603d3baa5507446d3c5e73f741f6d6e77c6204c1eb65",
    "numbers.py": "6d70991643a109e9c99e94d6ea2734a995fa8e89114a70ea09737413fa9ae292",
    "operator.py": "b2af20f67667203c1730e686cc5d0427becc94db4c97f1d3efe3ed2158473f6a",
    "pathlib.py": "3b21ac188fd9ac20bacc8ccd976fabd5d8ccf5000f8e157d3dfff005b228fb3d",
    "posixpath.py": "115bb3d2051318ee3d951cdb13c60f118f15cea837cb69fb52cf543c12fe25c3",
    "pprint.py": "0b67dbc8af449d8ced3acd9df902e98c2dbc56c8f2a7a181c51cc72768db621f",
    "random.py": "b931a2d452db89ab9e1f79d59b66ce194dbd6748049cfe44699726da52b9c956",
    "shutil.py": "d0dbfcd96ba06684aaf5d55e941aaaf36bb3a22cf537ea9d46317b363bcc5792",
    "string.py": "24aeae1f0526250f442022022bf98df9a823b1cb330543ee79e70e44907462e9",
    "tempfile.py": "c9169b0ef905999b5d347544cfaa73c4f295777ac07a948aec1e4fdf3ce98a3b",
    "threading.py": "2c4c1db159e1178896eca324082ae98d627c8d7017d0c7135b832f4fb3117210",
    "timeit.py": "e6414bbc158ad2007fc17f892ec49cca67cbb6d4f90920f4267ddeb19f032a03",
    "tokenize.py": "79aa94ebe1761811ea9b2da2ada409a8cb9abd7c6eac241d0c181a36684bb609",
    "weakref.py": "56f8d313fb74019e53eb9287400702fbce788b7fe30e097b0b6e06296f3f080c",
    "calendar.py": "b3b140864fd122a575ffcc9342b824fbe4f8a38fdf3f4fcd964f26e52725358f",
    "json/__init__.py": "d5d41e2c29049515d295d81a6d40b4890fbec8d8482cfb401630f8ef2f77e4d5",
    "json/decoder.py": "9f02654649816145bc76f8c210a5fe3ba1de142d4d97a1c93105732e747c285b",
    "json/encoder.py": "7c358788fbb2a6a07f66f1f8446c52396f35fc201108f666d5be002d86f31af2",
    "json/scanner.py": "8604d9d03786d0d509abb49e9f069337278ea988c244069ae8ca2c89acc2cb08",
    "queue.py": "f6c37fc37cd7440979f7d22d40ee818fa3b714c573610c08fa52911d541193f0",
    "textwrap.py": "62867e40cdea6669b361f72af4d7daf0359f207c92cbeddfc7c7506397c1f31c",
    "LICENSE.txt": "3b2f81fe21d181c499c59a256c8e1968455d6689d269aa85373bfb6af41da3bf",
}

# What the rebuild must produce, byte for byte (also in datasets/README.md).
OUTPUT_SHA256 = {
    "train.txt": "6c91185f951b88a08c5d5cbb9357deaefd3b87c480b68f910797721919ca4a60",
    "val.txt": "04aa3e4c26b18f066f388e9d09bfd2f755c075ff69d316fcc8f505f97405ce1d",
    "LICENSE.txt": "3b2f81fe21d181c499c59a256c8e1968455d6689d269aa85373bfb6af41da3bf",
}


class StdlibMismatch(ValueError):
    """The folder's files are not the ones the manifest records."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_checked(stdlib: Path, names: list[str], manifest: dict[str, str]) -> dict[str, bytes]:
    """The bytes of each named file, after checking every one against the manifest."""
    files, problems = {}, []
    for name in names:
        path = Path(stdlib) / name
        if name not in manifest:
            problems.append(f"{name}: not in the manifest")
        elif not path.is_file():
            problems.append(f"{name}: missing")
        else:
            data = path.read_bytes()
            digest = sha256(data)
            if digest != manifest[name]:
                problems.append(f"{name}: sha256 {digest}, expected {manifest[name]}")
            files[name] = data
    if problems:
        raise StdlibMismatch(
            f"{stdlib} does not hold the files of the Python {PYTHON_VERSION} standard library "
            f"this corpus was made from ({len(problems)} of {len(names)} differ); refusing to "
            "build. Use that version's Lib/ folder. Differences:\n  " + "\n  ".join(problems)
        )
    return files


def join(files: dict[str, bytes], names: tuple[str, ...]) -> bytes:
    """One split: for each module a header line, its bytes, a blank line."""
    out = []
    for name in names:
        text = files[name].decode("ascii")  # the manifest guarantees the content
        outside = sorted(set(text) - ALLOWED)
        if outside or not text.endswith("\n"):
            raise StdlibMismatch(f"{name}: characters {outside!r} or no final newline")
        out.append(HEADER.format(path=name) + text + "\n")
    return "".join(out).encode("ascii")


def build(
    stdlib: Path,
    train: tuple[str, ...] = TRAIN,
    val: tuple[str, ...] = VAL,
    manifest: dict[str, str] = MANIFEST,
) -> dict[str, bytes]:
    """The output files (name -> bytes) made from the stdlib folder."""
    overlap = set(train) & set(val)
    if overlap:
        raise ValueError(f"files in both splits: {sorted(overlap)}")
    files = read_checked(Path(stdlib), [*train, *val, LICENSE], manifest)
    return {
        "train.txt": join(files, train),
        "val.txt": join(files, val),
        LICENSE: files[LICENSE],
    }


def split_modules(text: str) -> dict[str, str]:
    """Inverse of join: path -> module text, for one split file."""
    heads = list(HEADER_RE.finditer(text))
    modules = {}
    for head, following in zip(heads, [*heads[1:], None], strict=True):
        end = following.start() if following else len(text)
        body = text[head.end() + 1 : end]
        if not body.endswith("\n\n"):
            raise ValueError(f"{head.group(1)}: a block must end with a blank line")
        modules[head.group(1)] = body[:-1]
    return modules


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rebuild datasets/pycode/ from the stdlib.")
    parser.add_argument(
        "stdlib",
        nargs="?",
        type=Path,
        default=Path(sysconfig.get_paths()["stdlib"]),
        help="the standard library folder (default: this interpreter's)",
    )
    parser.add_argument("--out", type=Path, default=HERE, help="where to write (default: here)")
    parser.add_argument(
        "--allow-changes",
        action="store_true",
        help="write even if the result differs from the recorded sha256 values",
    )
    parser.add_argument(
        "--print-manifest",
        action="store_true",
        help="print the sha256 of the chosen files in that folder (to change the selection)",
    )
    args = parser.parse_args(argv)
    if args.print_manifest:
        for name in [*TRAIN, *VAL, LICENSE]:
            print(f'    "{name}": "{sha256((args.stdlib / name).read_bytes())}",')
        return 0
    try:
        files = build(args.stdlib)
    except StdlibMismatch as error:
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
