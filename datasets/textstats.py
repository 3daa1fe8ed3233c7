"""Figures that datasets/README.md records for the text corpora, and the n-gram baselines.

    python datasets/textstats.py datasets/shakespeare

prints, for the `train.txt` and `val.txt` of that folder: bytes, characters, lines, sha256,
the vocabulary, and two baselines in nats per character on the validation split. The
vocabulary is the one datasets/README.md documents for the folder's name (a line
"<name> vocabulary, <n> characters: <Python string literal>"), or else the distinct
characters of train and val together. The baselines:

- unigram: p(c) = (count of c in train + 1) / (characters in train + V);
- bigram: p(c | b) = (count of the pair bc in train + 1) / (count of b as the first character
  of a pair in train + V), evaluated on every pair of neighbouring characters of val (so
  len(val) - 1 predictions; the first character of val is not predicted).

V is the size of the vocabulary; add-one (Laplace) smoothing gives every character of the
vocabulary some probability, so an unseen pair costs a finite loss. A model that learns
anything at all should beat the unigram figure; a character model with context should beat
the bigram figure. Standard library only.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import math
import re
from collections import Counter
from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"


def unigram_nats(train: str, val: str, vocabulary: str) -> float:
    """Mean -ln p(c) over the characters of val, p fitted on train with add-one smoothing."""
    counts = Counter(train)
    total = len(train) + len(vocabulary)
    logp = {c: math.log((counts[c] + 1) / total) for c in vocabulary}
    return -sum(logp[c] for c in val) / len(val)


def bigram_nats(train: str, val: str, vocabulary: str) -> float:
    """Mean -ln p(c | previous c) over the len(val) - 1 pairs of val, add-one smoothing."""
    v = len(vocabulary)
    pairs = Counter(zip(train, train[1:], strict=False))
    firsts = Counter(train[:-1])
    loss = 0.0
    for pair, n in Counter(zip(val, val[1:], strict=False)).items():
        loss -= n * math.log((pairs[pair] + 1) / (firsts[pair[0]] + v))
    return loss / (len(val) - 1)


def documented_vocabulary(name: str, readme: Path = README) -> str | None:
    """The vocabulary that README documents for the corpus `name`, or None."""
    pattern = rf"^{re.escape(name)} vocabulary, (\d+) characters: (.+)$"
    match = re.search(pattern, readme.read_text(encoding="utf-8"), re.MULTILINE)
    if match is None:
        return None
    vocabulary = ast.literal_eval(match.group(2))
    if len(vocabulary) != int(match.group(1)) or len(set(vocabulary)) != len(vocabulary):
        raise ValueError(
            f"{readme}: the {name} vocabulary does not have {match.group(1)} characters"
        )
    return vocabulary


def describe(text: str) -> dict:
    data = text.encode("utf-8")
    return {
        "bytes": len(data),
        "characters": len(text),
        "lines": text.count("\n"),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def corpus_figures(folder: Path, vocabulary: str | None = None) -> dict:
    """The figures of folder/train.txt and folder/val.txt (read as UTF-8, newlines kept)."""
    train = (folder / "train.txt").read_bytes().decode("utf-8")
    val = (folder / "val.txt").read_bytes().decode("utf-8")
    used = "".join(sorted(set(train) | set(val)))
    if vocabulary is None:
        vocabulary = documented_vocabulary(folder.resolve().name)
    vocab = vocabulary if vocabulary is not None else used
    outside = set(used) - set(vocab)
    if outside:
        raise ValueError(f"characters outside the vocabulary: {sorted(outside)!r}")
    return {
        "train": describe(train),
        "val": describe(val),
        "vocabulary": vocab,
        "unigram_nats": unigram_nats(train, val, vocab),
        "bigram_nats": bigram_nats(train, val, vocab),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a folder with train.txt and val.txt")
    args = parser.parse_args(argv)
    figures = corpus_figures(args.folder)
    for split in ("train", "val"):
        f = figures[split]
        print(
            f"{split}.txt: {f['bytes']:,} bytes, {f['characters']:,} characters, "
            f"{f['lines']:,} lines, sha256 {f['sha256']}"
        )
    print(f"vocabulary, {len(figures['vocabulary'])} characters:")
    print(repr(figures["vocabulary"]))
    print(f"unigram on val: {figures['unigram_nats']:.3f} nats per character")
    print(f"bigram on val:  {figures['bigram_nats']:.3f} nats per character")


if __name__ == "__main__":
    main()
