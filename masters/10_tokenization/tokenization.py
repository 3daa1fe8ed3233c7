# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Module 10: Tokenization
#
# A language model never reads text. It reads a sequence of integers, each one a row number
# in a table of vectors (Module 11's embedding), and it learns to predict the next integer.
# A **tokenizer** translates in both directions: `encode` turns a string into a list of
# token ids, `decode` turns ids back into the string. That sounds like bookkeeping, but the
# choice of tokens decides a great deal downstream: how long the sequences are (and
# attention, in Module 12, costs the *square* of that length), how large the embedding table
# and the output layer are, and whether some text cannot be represented at all.
#
# You build two tokenizers. The first gives every **character** its own id, with a few
# **special tokens** (`<pad>`, `<unk>`, `<bos>`, `<eos>`) in front; the first Shakespeare
# model of the course uses it. The second is **byte-level byte pair encoding (BPE)**, the
# scheme of GPT-2 and of many large language models since. It starts from the 256 possible
# byte values of UTF-8, so every string in every language (emoji included) can be encoded,
# and it learns **merges**: the most frequent pair of neighbouring tokens becomes a new
# token, again and again, so that common words end up as single tokens while rare ones are
# still spelled out in pieces.
#
# ## Learning goals
#
# By the end of this notebook you can:
#
# - say what a **vocabulary** is, what **special tokens** are for, and what a tokenizer
#   should do with a character it has never seen;
# - explain **UTF-8**: why a byte-level tokenizer can encode any string, and why decoding
#   an arbitrary list of ids needs a **replacement character**;
# - implement BPE from its parts: count neighbouring **pairs**, **merge** a pair, **train**
#   a list of merges with a deterministic rule for ties, **encode** by merge rank,
#   **decode**, and **save** and **load** a trained tokenizer;
# - make training fast by updating the pair counts **incrementally**, only where a merge
#   changed something, instead of recounting the whole text for every merge;
# - measure the trade-off between **vocabulary size** and **sequence length** on three real
#   corpora: Shakespeare, the TinyTalks questions and answers, and Python source code.

# %% [markdown]
# ## How this notebook is graded
#
# - You write code in eight places, one per task. Each spot to fill in is marked with a
#   comment `# Task <task id>: ...` followed by `raise NotImplementedError()`. The docstring
#   above it is the contract: types, order, errors, and hints. Code outside those spots is
#   given: read it, but leave it as it is.
# - Each task's test cell, `test_<task id>`, comes after its code. The asserts you can read
#   there are the **visible tests**: run them as often as you like, and read their messages
#   when they fail.
# - When your notebook is graded, each test cell also runs **hidden tests**: the same
#   behaviours on other inputs (random texts compared with a plain reference
#   implementation, multi-byte characters such as `é`, `한` and emoji, runs of spaces and
#   newlines, ties between pairs, a slice of the Shakespeare corpus). A failing hidden check
#   tells you which behaviour it was about.
# - Tasks are graded on their own: while a task's tests run, the other tasks' functions are
#   the course's reference solution, so a bug in `merge` costs the points of `merge` and not
#   those of `train` too. Work in the order of the table anyway: each task uses the ones
#   before it, and your own visible tests run on your own code.
# - Token ids are Python `int`s in Python `list`s; pairs are tuples of two ints. A test cell
#   earns its points only when every check in it passes, and anything a test cell writes to
#   stderr counts as a failure, so keep your functions free of prints.
# - Test cells are read-only and are restored before grading: do not edit, delete or copy them.
#
# | task id | what you build | points |
# |---|---|---|
# | `char_tokenizer` | `CharTokenizer`: characters and special tokens to ids and back | 3 |
# | `pair_counts` | `get_stats`: how often each pair of neighbouring ids occurs | 2 |
# | `merge` | `merge`: every occurrence of a pair replaced by a new id, left to right | 2 |
# | `pre_split` | `split_text`: text cut into chunks by a regular expression, nothing lost | 2 |
# | `train` | `train_bpe`: learn merges, counts updated incrementally, ties to the first | 4 |
# | `encode` | `encode_chunk`: the merges applied by rank | 3 |
# | `decode` | `build_vocab` and `decode_bpe`: ids to bytes to text, unknown ids refused | 2 |
# | `save_load` | `BPETokenizer.save` and `BPETokenizer.load`: merges to a file and back | 2 |
# | | **total** | **20** |

# %% kind="locked" id="setup" export=true
"""tinytorch.text.tokenization: text to token ids and back.

`CharTokenizer` gives every character of a training text an id, after the special tokens
(`<pad>`, `<unk>`, `<bos>`, `<eos>`). Byte-level byte pair encoding (BPE) starts from the
256 byte values of UTF-8 and learns merges of frequent neighbouring tokens: `get_stats`
counts pairs, `merge` replaces one, `split_text` cuts text into chunks that no merge
crosses, `train_bpe` learns the merges (pair counts updated incrementally), `encode_bpe`
and `decode_bpe` translate, and `BPETokenizer` holds a trained tokenizer, with save and
load. `load_corpus` reads the course's text corpora, checked against their SHA-256.
Written by students in Module 10; the corpus loader is given.
"""

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import tinytorch
from tinytorch.data.loader import ChecksumError

__all__ = [
    "CORPUS_SHA256",
    "load_corpus",
    "SPECIALS",
    "CharTokenizer",
    "get_stats",
    "merge",
    "SPLIT_PATTERN",
    "split_text",
    "train_bpe",
    "encode_chunk",
    "encode_bpe",
    "build_vocab",
    "decode_bpe",
    "BPETokenizer",
]

# %% [markdown]
# ## Given: the course's text
#
# Three corpora ship with the course in `datasets/` (see `datasets/README.md` for where
# each comes from, its licence and its baselines): **`shakespeare`**, eight plays (about
# 1 MB, splits `train` and `val`); **`tinytalks`**, short questions and answers the course
# generates (splits `train`, `val` and `test`); and **`pycode`**, 34 modules of the Python
# standard library (splits `train` and `val`). All three are plain ASCII.
#
# `load_corpus(name, split)` returns one split as a string. Like `load_digits` in
# Module 08, it compares the file's **SHA-256** with the value published in the code
# before trusting it (a damaged or edited copy raises `ChecksumError`), and it looks for the
# file in several places, listing all of them when it finds none: the `path` argument, the
# folder named by the environment variable `TINYTORCH_DATA`, the `datasets/` folder of the
# repository that holds your `tinytorch` package, and a folder named after the corpus in
# the current folder (`./shakespeare/train.txt`). The tests below never need it, except
# the hidden ones, which run on the grader's copy; the systems analysis at the end reads
# all three corpora.

# %% kind="locked" id="corpus" export=true
CORPUS_SHA256 = {  # corpus -> split -> SHA-256 of datasets/<corpus>/<split>.txt
    "shakespeare": {
        "train": "8dc1b8f2255887af6a6fc845a60d739d76ecd6a7314e37f85bc1d18142b9dee3",
        "val": "816ad1150602edc55918a0da81ef53038b87cfbd8e1998daa7ed882c27b9ba4b",
    },
    "tinytalks": {
        "train": "827f2f8220b5e5374427bd6f1e534cd8b1f8c11ea9e707bfde21d7a7f4349967",
        "val": "2b6f9b08113eb45b214205da3bf914540ef9e441e8dfa3038987f243abe1e603",
        "test": "2f645793858d356c48bc00f4fbcecd29b7faaf23a3e9aa4b292e12b27b978d2a",
    },
    "pycode": {
        "train": "6c91185f951b88a08c5d5cbb9357deaefd3b87c480b68f910797721919ca4a60",
        "val": "04aa3e4c26b18f066f388e9d09bfd2f755c075ff69d316fcc8f505f97405ce1d",
    },
}


def _corpus_candidates(name: str, split: str, path: str | Path | None) -> list[Path]:
    """Where load_corpus looks for <name>/<split>.txt, in order."""
    filename = f"{split}.txt"
    if path is not None:
        path = Path(path).expanduser()
        return [path / filename if path.is_dir() else path]
    places = []
    data_dir = os.environ.get("TINYTORCH_DATA")
    if data_dir:
        places.append(Path(data_dir).expanduser() / name / filename)
    package_file = getattr(tinytorch, "__file__", None)
    if package_file is not None:
        places.append(Path(package_file).resolve().parent.parent / "datasets" / name / filename)
    places.append(Path.cwd() / name / filename)
    return places


def load_corpus(name: str, split: str = "train", path: str | Path | None = None) -> str:
    """One split of a text corpus shipped with the course, checked against its SHA-256.

    Args:
        name: "shakespeare", "tinytalks" or "pycode" (see datasets/README.md).
        split: "train" or "val" ("test" too for tinytalks).
        path: the .txt file itself, or a folder holding <split>.txt. Without it the file is
            looked for at $TINYTORCH_DATA/<name>/<split>.txt, then in the datasets/ folder
            of the repository holding the tinytorch package, then at ./<name>/<split>.txt.

    Returns:
        the whole split as one string (ASCII text with "\\n" line endings).

    Raises:
        ValueError: for an unknown corpus or split, naming the ones that exist.
        FileNotFoundError: when no candidate exists; the message lists every place tried
            and says how to make the file findable.
        ChecksumError: when the file's SHA-256 differs from CORPUS_SHA256.
    """
    if name not in CORPUS_SHA256:
        raise ValueError(
            f"load_corpus: unknown corpus {name!r}; the course ships "
            f"{', '.join(sorted(CORPUS_SHA256))}"
        )
    if split not in CORPUS_SHA256[name]:
        raise ValueError(
            f"load_corpus: {name} has no split {split!r}; it has "
            f"{', '.join(CORPUS_SHA256[name])}"
        )
    candidates = _corpus_candidates(name, split, path)
    found = [place for place in candidates if place.is_file()]
    if not found:
        tried = "\n".join(f"  {place}" for place in candidates)
        raise FileNotFoundError(
            f"load_corpus: {name}/{split}.txt not found. Looked in:\n{tried}\n"
            f"Pass path=..., set TINYTORCH_DATA to a folder holding {name}/{split}.txt (the "
            "course repository's datasets/ folder is one), or copy the datasets/"
            f"{name}/ folder of the course repository into the current folder."
        )
    blob = found[0].read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    expected = CORPUS_SHA256[name][split]
    if digest != expected:
        raise ChecksumError(
            f"load_corpus: {found[0]} has SHA-256 {digest}, expected {expected}: the file is "
            f"damaged or not the course's copy; copy datasets/{name}/{split}.txt again from "
            "the course repository"
        )
    return blob.decode("utf-8")


# %% [markdown]
# ## Checks
#
# The read-only cell below holds what the tests share. Its first part is the same in every
# module (`check_equal`, `raised`, ...). Its last part is this module's own: `assert_ids`
# checks that a result is a `list` of Python `int`s equal to the expected ids and, when it
# is not, says where the first difference is; `assert_pairs` does the same for a dict of
# pairs (the result of `get_stats`, or a table of merges), including the order of its keys.


# %% kind="locked" id="checks" include="checks"
# The built-in types and functions these checks use, captured like the shared ones above.
dict, list, tuple, int, str, bytes, zip, next, enumerate, sorted, repr, map = (  # noqa: A001
    _builtins.dict,
    _builtins.list,
    _builtins.tuple,
    _builtins.int,
    _builtins.str,
    _builtins.bytes,
    _builtins.zip,
    _builtins.next,
    _builtins.enumerate,
    _builtins.sorted,
    _builtins.repr,
    _builtins.map,
)


def _show(values: list, limit: int = 24) -> str:
    """A list for a message, shortened in the middle when it is long."""
    if len(values) <= limit:
        return repr(values)
    half = limit // 2
    return f"[{', '.join(map(repr, values[:half]))}, ... ({len(values) - limit} more) ..., " + (
        f"{', '.join(map(repr, values[-half:]))}]"
    )


def is_ids(got) -> bool:
    """A list of Python ints (not a tuple, not NumPy integers)."""
    return type(got) is list and all(type(i) is int for i in got)


def same_ids(got, expected) -> bool:
    """got is a list of Python ints equal to expected."""
    return is_ids(got) and got == [int(i) for i in expected]


def assert_ids(got, expected, what: str) -> None:
    """got is a list of Python ints equal to expected; else an AssertionError saying how."""
    assert type(got) is list, f"{what}: expected a list of ints, got {type(got).__name__}."
    odd = [i for i in got if type(i) is not int]
    assert not odd, (
        f"{what}: every id should be a Python int, got {type(odd[0]).__name__} {odd[0]!r}. "
        "int(...) converts a NumPy integer."
    )
    expected = [int(i) for i in expected]
    if got != expected:
        first = next((k for k, (a, b) in enumerate(zip(got, expected)) if a != b), None)
        where = (
            f"first difference at position {first}"
            if first is not None
            else f"{len(got)} ids instead of {len(expected)}"
        )
        raise AssertionError(
            f"{what}: wrong ids ({where}).\nexpected: {_show(expected)}\ngot:      {_show(got)}"
        )


def same_text(got, expected: str) -> bool:
    """got is a str (not a subclass) equal to expected."""
    return type(got) is str and got == expected


def same_strings(got, expected: list) -> bool:
    """got is a list of str equal to expected."""
    return type(got) is list and all(type(s) is str for s in got) and got == expected


def is_pairs(got) -> bool:
    """A dict whose keys are pairs (tuples of two ints) and whose values are ints."""
    return isinstance(got, dict) and all(
        type(key) is tuple
        and len(key) == 2
        and type(key[0]) is int
        and type(key[1]) is int
        and type(value) is int
        for key, value in dict.items(got)
    )


def same_pairs(got, expected: dict) -> bool:
    """got is a dict of pairs with expected's items, in expected's order."""
    return is_pairs(got) and list(dict.items(got)) == list(expected.items())


def assert_pairs(got, expected: dict, what: str) -> None:
    """got is a dict of pairs equal to expected, keys in the same order; else say how."""
    assert isinstance(got, dict), f"{what}: expected a dict, got {type(got).__name__}."
    assert is_pairs(got), (
        f"{what}: keys should be tuples of two Python ints and values Python ints, got "
        f"{_show(list(dict.items(got)), 8)}."
    )
    items, wanted = list(dict.items(got)), list(expected.items())
    if sorted(items) != sorted(wanted):
        raise AssertionError(
            f"{what}: wrong contents.\nexpected: {dict(wanted)}\ngot:      {dict(items)}"
        )
    assert items == wanted, (
        f"{what}: the right pairs in the wrong order.\nexpected order: {[k for k, _ in wanted]}"
        f"\ngot order:      {[k for k, _ in items]}"
    )


# %% [markdown]
# ## Part 1: characters as tokens
#
# A **vocabulary** is a fixed list of tokens, and a token's **id** is its position in that
# list. The simplest vocabulary for text is every distinct character of a training text;
# the course's Shakespeare selection has 76 of them (letters, digits, punctuation, space and
# newline). Sorting the characters by code point makes the ids depend only on *which*
# characters occur, not on where they first appear.
#
# A few ids are reserved for **special tokens**, markers that are not text:
#
# | token | used for |
# |---|---|
# | `<pad>` | filler, so that sequences of different lengths fit into one batch (the loss skips it) |
# | `<unk>` | "a character this vocabulary does not have" |
# | `<bos>`, `<eos>` | beginning and end of a sequence: a model learns where texts start, and generation can stop at `<eos>` |
#
# They take the first ids (0, 1, 2, 3 by default), so their ids never change when the
# training text does. And they are **never produced by encoding text**: the string `"<pad>"`
# inside a text is five ordinary characters. A special token can only be put into a
# sequence by code, on purpose. (If user text could produce control tokens, a user could
# forge an "end of sequence" or a "system" marker.) For the same reason a special token must
# be at least two characters long: a one-character special token would collide with that
# character of the text.
#
# **Worked example.** `CharTokenizer("hello world")` with the default special tokens:
#
# ```
#   id     0      1      2      3      4    5    6    7    8    9    10   11
#   token  <pad>  <unk>  <bos>  <eos>  ' '  'd'  'e'  'h'  'l'  'o'  'r'  'w'
#
#   encode("hello")        -> [7, 6, 8, 8, 9]
#   decode([2, 7, 9, 3])   -> "<bos>ho<eos>"
#   encode("hi")           -> [7, 1]       'i' is not in the vocabulary: <unk>
# ```
#
# A character the vocabulary lacks becomes `<unk>`, and that loses information: decoding
# gives the text `"<unk>"`, not the character. Without an `<unk>` token, encoding such a
# character is an error. This is the weakness of character vocabularies: Unicode has about
# 150,000 characters, and a vocabulary built from English text knows none of `é`, `한` or
# `🙂`. Part 2 fixes it with bytes.


# %% kind="solution" id="char_tokenizer" export=true
SPECIALS = ("<pad>", "<unk>", "<bos>", "<eos>")


class CharTokenizer:
    """Characters as tokens, after the special tokens.

    Attributes:
        itos: list[str], the token of each id: the special tokens in the order given, then
            every distinct character of the training text sorted by code point (sorted()).
        stoi: dict[str, int], the id of each token, the inverse of itos.
        unk_id: the id of "<unk>" when it is one of the special tokens, else None.
    """

    def __init__(self, text: str, specials: Sequence[str] = SPECIALS) -> None:
        """Build the vocabulary of `text`.

        Args:
            text: the training text; each distinct character gets an id.
            specials: the special tokens, ids 0, 1, ... in this order; () for none.

        Raises:
            ValueError: when a special token appears twice, or is shorter than two
                characters (it would collide with a character of the text).

        Hint: sorted(set(text)) lists the distinct characters by code point.
        """
        # Task char_tokenizer: check the special tokens, then set itos, stoi and unk_id.
        ### BEGIN SOLUTION
        specials = list(specials)
        if len(set(specials)) != len(specials) or any(len(s) < 2 for s in specials):
            raise ValueError(
                f"CharTokenizer: special tokens must be distinct and at least two characters "
                f"long, got {specials}"
            )
        self.itos = specials + sorted(set(text))
        self.stoi = {token: i for i, token in enumerate(self.itos)}
        self.unk_id = self.stoi.get("<unk>")
        ### END SOLUTION

    @property
    def vocab_size(self) -> int:
        """The number of tokens, special tokens included."""
        return len(self.itos)

    def encode(self, text: str) -> list[int]:
        """The id of every character of `text`, in order: a list of Python ints.

        A character that is not in the vocabulary becomes unk_id. Special tokens are never
        recognised in text: "<pad>" in `text` is five characters.

        Raises:
            ValueError: for a character that is not in the vocabulary when there is no
                "<unk>" token, naming the character and its position in `text`.
        """
        # Task char_tokenizer: look every character up; unknown ones become unk_id or raise.
        ### BEGIN SOLUTION
        ids = []
        for position, char in enumerate(text):
            if char in self.stoi:
                ids.append(self.stoi[char])
            elif self.unk_id is not None:
                ids.append(self.unk_id)
            else:
                raise ValueError(
                    f"CharTokenizer.encode: {char!r} at position {position} is not in the "
                    "vocabulary, and there is no '<unk>' token to stand for it"
                )
        return ids
        ### END SOLUTION

    def decode(self, ids: Iterable[int]) -> str:
        """The text of `ids`: the tokens joined, special tokens written as themselves.

        Args:
            ids: token ids, Python or NumPy integers.

        Raises:
            ValueError: for an id outside 0 .. vocab_size - 1, naming it. (A negative id
                must not quietly count from the end of itos.)
        """
        # Task char_tokenizer: join the tokens of the ids; refuse ids outside the vocabulary.
        ### BEGIN SOLUTION
        tokens = []
        for i in ids:
            if not 0 <= i < len(self.itos):
                raise ValueError(
                    f"CharTokenizer.decode: unknown id {i}: ids go from 0 to "
                    f"{len(self.itos) - 1}"
                )
            tokens.append(self.itos[i])
        return "".join(tokens)
        ### END SOLUTION


# %% [markdown]
# ### Test `char_tokenizer`

# %% kind="test" id="test_char_tokenizer" points=3
tok = CharTokenizer("hello world")
expected_itos = ["<pad>", "<unk>", "<bos>", "<eos>", " ", "d", "e", "h", "l", "o", "r", "w"]
assert tok.itos == expected_itos, (
    f"CharTokenizer('hello world').itos: expected {expected_itos}, got {tok.itos}. The "
    "special tokens come first, then the distinct characters sorted by code point."
)
assert tok.vocab_size == 12, f"vocab_size: expected 12, got {tok.vocab_size}"
assert tok.stoi == {t: i for i, t in enumerate(expected_itos)}, "stoi should invert itos"
assert tok.unk_id == 1, f"unk_id: '<unk>' has id 1, got {tok.unk_id!r}"
assert_ids(tok.encode("hello"), [7, 6, 8, 8, 9], "encode('hello')")
assert_ids(tok.encode(""), [], "encode('') (an empty text)")
assert tok.decode([7, 6, 8, 8, 9]) == "hello", f"decode: got {tok.decode([7, 6, 8, 8, 9])!r}"
assert tok.decode([2, 7, 9, 3]) == "<bos>ho<eos>", (
    "decode([2, 7, 9, 3]) should write the special tokens as themselves: '<bos>ho<eos>'"
)
assert tok.decode(tok.encode("hello world")) == "hello world", "decode(encode(s)) == s"
assert_ids(tok.encode("hi"), [7, 1], "encode('hi'): 'i' is unknown, so it becomes <unk> = 1")
assert_ids(tok.encode("<pad>"), [1, 1, 1, 5, 1], (
    "encode('<pad>'): special tokens are not recognised in text, these are five characters"
))
err = raised(lambda: tok.decode([12]))
assert isinstance(err, ValueError), f"decode([12]) with 12 tokens should raise ValueError, got {err!r}"
err = raised(lambda: tok.decode([-1]))
assert isinstance(err, ValueError), (
    f"decode([-1]) should raise ValueError (a list index of -1 would quietly read the last "
    f"token), got {err!r}"
)
plain = CharTokenizer("abc", specials=())
assert plain.itos == ["a", "b", "c"] and plain.unk_id is None, (
    f"CharTokenizer('abc', specials=()): itos ['a', 'b', 'c'] and unk_id None, got "
    f"{plain.itos} and {plain.unk_id!r}"
)
err = raised(lambda: plain.encode("abd"))
assert isinstance(err, ValueError), (
    f"encode('abd') without an <unk> token should raise ValueError ('d' is unknown), got {err!r}"
)
err = raised(lambda: CharTokenizer("abc", specials=("<pad>", "<pad>")))
assert isinstance(err, ValueError), f"a repeated special token should raise ValueError, got {err!r}"

### BEGIN HIDDEN TESTS
# hidden: the vocabulary is the special tokens, then the distinct characters by code point
text = "naïve café, 한국어 🙂 and ZEBRA!\n\t"
tok = CharTokenizer(text)
chars = sorted(set(text))
assert same_strings(tok.itos, list(SPECIALS) + chars), "specials first, then sorted characters"
assert type(tok.vocab_size) is int and tok.vocab_size == 4 + len(chars), "vocab_size counts all"
assert type(tok.stoi) is dict and list(dict.items(tok.stoi)) == [
    (t, i) for i, t in enumerate(list(SPECIALS) + chars)
] and all(type(i) is int for i in dict.values(tok.stoi)), "stoi inverts itos"
# hidden: special tokens keep the order given, and unk_id follows "<unk>"
tok2 = CharTokenizer("banana", specials=("[CLS]", "[SEP]", "<unk>", "[MASK]"))
assert same_strings(tok2.itos, ["[CLS]", "[SEP]", "<unk>", "[MASK]", "a", "b", "n"]), "custom specials"
assert type(tok2.unk_id) is int and tok2.unk_id == 2, "unk_id is the id of <unk> wherever it is"
assert same_ids(tok2.encode("bandana"), [5, 4, 6, 2, 4, 6, 4]), "unknown characters use unk_id"
tok3 = CharTokenizer("xy", specials=("<bos>", "<eos>"))
assert tok3.unk_id is None, "without <unk> there is no unk_id"
assert same_strings(tok3.itos, ["<bos>", "<eos>", "x", "y"]), "two specials, then the characters"
# hidden: encoding gives one Python int per character
ids = tok.encode(text)
assert same_ids(ids, [4 + chars.index(c) for c in text]), "encode of multi-byte characters"
assert same_ids(tok.encode("zz ée"), [1, 1, 4 + chars.index(" "), 4 + chars.index("é"), 4 + chars.index("e")]), (
    "unknown characters become <unk>, known ones keep their ids"
)
assert same_ids(tok.encode("<eos>"), [1, 4 + chars.index("e"), 1, 1, 1]), (
    "special tokens are not recognised in text"
)
# hidden: decoding joins tokens and round-trips known text exactly
assert same_text(tok.decode(ids), text), "decode(encode(text)) is text"
assert same_text(tok.decode([]), ""), "decode of no ids is the empty string"
assert same_text(tok.decode([0, 2, 3, 1]), "<pad><bos><eos><unk>"), "specials decode to themselves"
assert same_text(tok.decode(list(range(4, 4 + len(chars)))), "".join(chars)), "every character id"
import numpy as _h_np  # noqa: E402

assert same_text(tok.decode(_h_np.array(ids, dtype=_h_np.int64)), text), "NumPy integer ids decode"
# hidden: unknown characters raise without <unk>, naming nothing wrong for known text
assert same_ids(tok3.encode("yxxy"), [3, 2, 2, 3]), "known characters encode without <unk>"
assert isinstance(raised(lambda: tok3.encode("xyz")), ValueError), "unknown without <unk> raises"
assert isinstance(raised(lambda: tok3.encode("é")), ValueError), "unknown without <unk> raises"
# hidden: ids outside the vocabulary raise ValueError, negative ones included
for bad in (-1, -4, tok.vocab_size, tok.vocab_size + 7):
    assert isinstance(raised(lambda bad=bad: tok.decode([5, bad])), ValueError), (
        "ids outside 0 .. vocab_size - 1 raise ValueError"
    )
assert isinstance(raised(lambda: tok3.decode([4])), ValueError), "vocab_size itself is unknown"
# hidden: special tokens must be distinct and at least two characters long
assert isinstance(raised(lambda: CharTokenizer("ab", specials=("<a>", "<b>", "<a>"))), ValueError), (
    "repeated special tokens raise"
)
assert isinstance(raised(lambda: CharTokenizer("ab", specials=("<pad>", "#"))), ValueError), (
    "a one-character special token raises"
)
assert isinstance(raised(lambda: CharTokenizer("ab", specials=("",))), ValueError), (
    "an empty special token raises"
)
assert same_strings(CharTokenizer("ab", specials=("ab",)).itos, ["ab", "a", "b"]), "two characters suffice"
# hidden: an empty training text gives the special tokens only
empty = CharTokenizer("")
assert same_strings(empty.itos, list(SPECIALS)) and empty.vocab_size == 4, "no text: specials only"
assert same_ids(empty.encode("ab"), [1, 1]), "with an empty vocabulary everything is <unk>"
### END HIDDEN TESTS

# %% [markdown]
# ## Part 2: bytes, and byte pair encoding
#
# A computer stores text as **bytes**. UTF-8, the encoding of nearly all text on the web,
# writes each Unicode character (code point) as one to four bytes: one for ASCII, more for
# everything else.
#
# | character | code point | UTF-8 bytes (hex) |
# |---|---|---|
# | `A` | U+0041 | `41` |
# | `é` | U+00E9 | `C3 A9` |
# | `한` | U+D55C | `ED 95 9C` |
# | `🙂` | U+1F642 | `F0 9F 99 82` |
#
# In Python, `"é".encode("utf-8")` gives `b'\xc3\xa9'`, `list(b'\xc3\xa9')` gives
# `[195, 169]`, and `bytes([195, 169]).decode("utf-8")` gives `"é"` back. A tokenizer whose
# base vocabulary is the **256 byte values** can encode *every* string, in every language:
# there is no unknown character any more. The price is length. English is about one byte
# per character, but a sentence in Korean is three bytes per character, and a model that
# reads one byte per token reads long sequences.
#
# **Byte pair encoding** buys the length back. Start from the bytes; find the pair of
# neighbouring tokens that occurs most often; give it a new id (256, then 257, ...) and
# replace every occurrence; repeat. After $k$ merges the vocabulary has $256 + k$ tokens, and
# frequent words have become single tokens. Here is the whole procedure on the string
# `aaabdaaabac`, whose bytes are `97 97 97 98 100 97 97 97 98 97 99`:
#
# ```
#   tokens                          counts of neighbouring pairs            merge
#   a a a b d a a a b a c  (11)     (a,a) 4, (a,b) 2, (b,d) 1, ...          (a,a)   -> 256
#   256 a b d 256 a b a c  (9)      (256,a) 2, (a,b) 2, (b,d) 1, ...        (256,a) -> 257
#   257 b d 257 b a c      (7)      (257,b) 2, (b,d) 1, (d,257) 1, ...      (257,b) -> 258
#   258 d 258 a c          (5)
# ```
#
# Two details in this example are rules your code must follow.
#
# - **Left to right, no overlaps.** `a a a` holds two overlapping `(a, a)` pairs, but only
#   one can be merged: the scan goes left to right, so `a a a` becomes `256 a`, and
#   `a a a a` becomes `256 256`. (Counting pairs does count both: the counts are only an
#   estimate of what merging gains.)
# - **Ties go to the first occurrence.** In the second step `(256, a)` and `(a, b)` both
#   occur twice. The rule of this course: among the pairs with the highest count, merge
#   the one that occurs **first in the text as it stands** (`(256, a)`, at position 0).
#   Any fixed rule would do; it has to be *some* fixed rule, or two runs of training on the
#   same text could give different tokenizers.
#
# Decoding maps every id back to its bytes (`258` is `b"aaab"`), joins them and decodes
# UTF-8. Encoding new text applies the learned merges, in the order they were learned.
# The next six tasks build this, one piece at a time.

# %% [markdown]
# ## Task `pair_counts`: count neighbouring pairs (2 points)
#
# `get_stats(ids)` counts how often each pair of neighbours `(ids[i], ids[i + 1])` occurs
# and returns a dict from pair to count. For `[1, 2, 3, 1, 2]` the neighbours are
# `(1, 2), (2, 3), (3, 1), (1, 2)`, so the result is `{(1, 2): 2, (2, 3): 1, (3, 1): 1}`.
#
# Two extras make it useful for training, where the counts of many chunks are added up and
# updated as merges change them:
#
# - `counts`: a dict to add into (it is changed in place, and returned); by default a new
#   dict.
# - `weight`: how much each occurrence adds, 1 by default. Training counts each distinct
#   chunk of text once, weighted by how often it occurs, and *subtracts* the pairs of a chunk
#   with `weight=-n` before a merge changes it.
#
# **Order matters.** A Python dict remembers the order in which its keys were added, so the
# pairs of a new dict come in the order of their **first occurrence**. The tie rule of
# training depends on it.


# %% kind="solution" id="pair_counts" export=true
def get_stats(
    ids: Sequence[int], counts: dict[tuple[int, int], int] | None = None, weight: int = 1
) -> dict[tuple[int, int], int]:
    """Count every pair of neighbours (ids[i], ids[i + 1]).

    Args:
        ids: token ids (a list of ints); fewer than two ids have no pairs.
        counts: a dict to add into, changed in place; None (the default) starts a new dict.
        weight: added for each occurrence (negative to subtract). Keys are never removed,
            even when their count reaches 0.

    Returns:
        the dict of counts (`counts` itself when it was given): pair (a tuple of two ints)
        -> count. New pairs are added in the order of their first occurrence in ids.

    Hint: zip(ids, ids[1:]) walks the neighbours; counts.get(pair, 0) reads a missing
    count as 0.
    """
    # Task pair_counts: add weight to the count of every neighbouring pair.
    ### BEGIN SOLUTION
    counts = {} if counts is None else counts
    for pair in zip(ids, ids[1:]):
        counts[pair] = counts.get(pair, 0) + weight
    return counts
    ### END SOLUTION


# %% [markdown]
# ### Test `pair_counts`

# %% kind="test" id="test_pair_counts" points=2
assert_pairs(get_stats([1, 2, 3, 1, 2]), {(1, 2): 2, (2, 3): 1, (3, 1): 1}, "get_stats([1, 2, 3, 1, 2])")
assert_pairs(get_stats([5, 5, 5]), {(5, 5): 2}, "get_stats([5, 5, 5]): both overlapping pairs count")
assert_pairs(get_stats([3, 1, 2, 1, 3]), {(3, 1): 1, (1, 2): 1, (2, 1): 1, (1, 3): 1}, (
    "get_stats([3, 1, 2, 1, 3]): keys in the order of their first occurrence"
))
assert_pairs(get_stats([]), {}, "get_stats([])")
assert_pairs(get_stats([7]), {}, "get_stats([7]): one id has no neighbour")
assert_pairs(get_stats([1, 2, 1, 2], weight=3), {(1, 2): 6, (2, 1): 3}, "get_stats([1, 2, 1, 2], weight=3)")
counts = {(1, 2): 5, (9, 9): 1}
out = get_stats([1, 2, 3], counts)
assert out is counts, "get_stats(ids, counts) should add into counts and return that same dict"
assert_pairs(counts, {(1, 2): 6, (9, 9): 1, (2, 3): 1}, "get_stats([1, 2, 3], counts) added into counts")
get_stats([1, 2, 3], counts, weight=-1)
assert_pairs(counts, {(1, 2): 5, (9, 9): 1, (2, 3): 0}, (
    "get_stats([1, 2, 3], counts, weight=-1) subtracts, and keeps a key whose count is 0"
))

### BEGIN HIDDEN TESTS
# hidden: counts match a plain count of neighbours, keys in order of first occurrence
def _h_stats(ids, weight=1):
    """Plain Python: neighbour counts in order of first occurrence."""
    found = {}
    for k in range(len(ids) - 1):
        pair = (ids[k], ids[k + 1])
        if pair not in found:
            found[pair] = 0
        found[pair] += weight
    return found


import random as _h_random  # noqa: E402

_h_rng = _h_random.Random(1010)
for _h_n in (2, 3, 8, 40, 200):
    _h_ids = [_h_rng.randrange(5) for _ in range(_h_n)]
    assert same_pairs(get_stats(_h_ids), _h_stats(_h_ids)), "counts and order of random ids"
    assert same_pairs(get_stats(_h_ids, weight=4), _h_stats(_h_ids, 4)), "weighted counts"
big = [300, 4000, 300, 4000, 300, 17]
assert same_pairs(get_stats(big), {(300, 4000): 2, (4000, 300): 2, (300, 17): 1}), "large ids"
# hidden: fewer than two ids give no pairs
assert same_pairs(get_stats([]), {}) and same_pairs(get_stats([256]), {}), "no pairs"
# hidden: runs of one id count every overlapping pair
assert same_pairs(get_stats([4] * 6), {(4, 4): 5}), "a run of six counts five pairs"
# hidden: counts are added into the given dict, which is returned
acc = {(0, 0): 2}
_h_ids = [_h_rng.randrange(4) for _ in range(50)]
assert get_stats(_h_ids, acc, 2) is acc, "the given dict is returned"
expected = {(0, 0): 2}
for pair, count in _h_stats(_h_ids, 2).items():
    expected[pair] = expected.get(pair, 0) + count
assert same_pairs(acc, expected), "counts are added into the given dict, new keys at the end"
# hidden: negative weights subtract and never remove keys
get_stats(_h_ids, acc, -2)
assert same_pairs(acc, {pair: (2 if pair == (0, 0) else 0) for pair in expected}), (
    "subtracting leaves zero counts in place"
)
# hidden: a new dict is made for every call without counts
first, second = get_stats([1, 2]), get_stats([3, 4])
assert first is not second and same_pairs(second, {(3, 4): 1}), "a fresh dict per call"
# hidden: the ids are left unchanged
_h_ids = [1, 2, 3, 1, 2]
get_stats(_h_ids)
assert same_ids(_h_ids, [1, 2, 3, 1, 2]), "get_stats does not change ids"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `merge`: replace a pair by a new id (2 points)
#
# `merge(ids, pair, new_id)` returns a new list in which every occurrence of `pair` is
# replaced by `new_id`, scanning **left to right**: once two ids have been merged, the
# second of them cannot start another pair.
#
# ```
#   merge([1, 2, 3, 1, 2], (1, 2), 4)  ->  [4, 3, 4]
#   merge([5, 5, 5], (5, 5), 9)        ->  [9, 5]       not [5, 9], not [9, 9]
#   merge([5, 5, 5, 5], (5, 5), 9)     ->  [9, 9]
#   merge([1, 2], (2, 1), 7)           ->  [1, 2]       the order inside a pair matters
# ```
#
# One way: walk through `ids` with an index `i`; where `ids[i], ids[i + 1]` is the pair,
# append `new_id` and step by two, else append `ids[i]` and step by one. (Another: append
# each id to the output, but when the output's last id and the current id form the pair,
# overwrite the last one with `new_id` instead. Why can a merged id never be merged again
# in the same pass?) `new_id` is always a fresh id that does not occur in `ids`.


# %% kind="solution" id="merge" export=true
def merge(ids: Sequence[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """ids with every occurrence of pair replaced by new_id, left to right, no overlaps.

    Args:
        ids: token ids.
        pair: (first, second), in this order.
        new_id: the id of the merged token; it does not occur in ids.

    Returns:
        a new list of Python ints; ids itself is not changed. Scanning left to right, two
        neighbours equal to pair become new_id, and the second of them does not start
        another pair: merge([5, 5, 5], (5, 5), 9) == [9, 5].
    """
    # Task merge: build the new list, left to right.
    ### BEGIN SOLUTION
    out = []
    for token in ids:
        if out and out[-1] == pair[0] and token == pair[1]:
            out[-1] = new_id
        else:
            out.append(token)
    return out
    ### END SOLUTION


# %% [markdown]
# ### Test `merge`

# %% kind="test" id="test_merge" points=2
assert_ids(merge([1, 2, 3, 1, 2], (1, 2), 4), [4, 3, 4], "merge([1, 2, 3, 1, 2], (1, 2), 4)")
assert_ids(merge([5, 5, 5], (5, 5), 9), [9, 5], "merge([5, 5, 5], (5, 5), 9): left to right, no overlap")
assert_ids(merge([5, 5, 5, 5], (5, 5), 9), [9, 9], "merge([5, 5, 5, 5], (5, 5), 9)")
assert_ids(merge([1, 2], (2, 1), 7), [1, 2], "merge([1, 2], (2, 1), 7): (2, 1) does not occur")
assert_ids(merge([], (1, 2), 3), [], "merge([], (1, 2), 3)")
ids = [3, 1, 2, 1, 2, 2]
out = merge(ids, (1, 2), 256)
assert_ids(out, [3, 256, 256, 2], "merge([3, 1, 2, 1, 2, 2], (1, 2), 256)")
assert ids == [3, 1, 2, 1, 2, 2], f"merge should leave its input unchanged, it became {ids}"
assert out is not ids, "merge should return a new list"

### BEGIN HIDDEN TESTS
# hidden: merging matches a plain left-to-right scan on random ids
def _h_merge(ids, pair, new_id):
    """Plain Python: left to right, skipping both ids of a merged pair."""
    found, k = [], 0
    while k < len(ids):
        if k + 1 < len(ids) and ids[k] == pair[0] and ids[k + 1] == pair[1]:
            found.append(new_id)
            k += 2
        else:
            found.append(ids[k])
            k += 1
    return found


import random as _h_random  # noqa: E402

_h_rng = _h_random.Random(2020)
for _h_n in (1, 2, 3, 9, 60, 300):
    _h_ids = [_h_rng.randrange(3) for _ in range(_h_n)]
    for _h_pair in ((0, 1), (1, 0), (2, 2), (0, 0)):
        assert same_ids(merge(_h_ids, _h_pair, 777), _h_merge(_h_ids, _h_pair, 777)), (
            "merging random ids, left to right"
        )
# hidden: runs of a repeated id merge in non-overlapping pairs from the left
for _h_n in range(1, 8):
    assert same_ids(merge([6] * _h_n, (6, 6), 300), [300] * (_h_n // 2) + [6] * (_h_n % 2)), (
        "a run of one id merges pairwise from the left"
    )
assert same_ids(merge([1, 6, 6, 6, 2], (6, 6), 300), [1, 300, 6, 2]), "a run of three inside"
# hidden: alternating pairs overlap and only the left one merges
assert same_ids(merge([1, 2, 1, 2, 1], (1, 2), 9), [9, 9, 1]), "alternating ids"
assert same_ids(merge([2, 1, 2, 1, 2], (1, 2), 9), [2, 9, 9]), "alternating ids, shifted"
assert same_ids(merge([1, 2, 1], (2, 1), 9), [1, 9]), "the pair at the end"
# hidden: the pair's order matters and a missing pair changes nothing
assert same_ids(merge([4, 3, 4, 3], (3, 4), 5), [4, 5, 3]), "the order inside the pair"
_h_ids = [8, 9, 10]
_h_out = merge(_h_ids, (10, 8), 11)
assert same_ids(_h_out, [8, 9, 10]) and _h_out is not _h_ids, "no occurrence: an equal new list"
# hidden: merged ids are not merged again, even when new_id forms the pair with a neighbour
assert same_ids(merge([7, 7, 7, 7, 7], (7, 7), 256), [256, 256, 7]), "five in a row"
assert same_ids(merge([256, 97, 97], (97, 97), 257), [256, 257]), "large ids stay as they are"
# hidden: the input is left unchanged
_h_ids = [1, 1, 1, 2]
merge(_h_ids, (1, 1), 3)
assert same_ids(_h_ids, [1, 1, 1, 2]), "merge does not change its input"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `pre_split`: chunks that no merge crosses (2 points)
#
# Trained on raw bytes, BPE happily merges across word boundaries: in English text the
# pair `(e, space)` is among the most frequent, and soon `"e the"` or `"dog."` and `"dog!"`
# become tokens of their own. The vocabulary fills up with fragments that mix words and
# punctuation. GPT-2 avoids this by first cutting the text into **chunks** with a regular
# expression and never merging across a chunk boundary. This module's pattern, in Python's
# `re` syntax, has six alternatives, tried left to right at each position:
#
# | alternative | matches | example chunks |
# |---|---|---|
# | `'(?:[sdmt]\|ll\|ve\|re)` | English contractions | `'s`, `'ll`, `'re` |
# | ` ?[^\W\d]+` | a word (letters, and `_`), with one space in front | `Hello`, ` world`, ` my_var`, ` café` |
# | ` ?\d+` | a number, with one space in front | ` 2024` |
# | ` ?[^\s\w]+` | punctuation and symbols, with one space in front | `,`, ` #`, ` 🙂` |
# | `\s+(?!\S)` | a run of whitespace, except its last character when a word follows | `'\n'`, `'   '` |
# | `\s+` | any other whitespace | |
#
# ```
#   split_text("Hello world, it's 2024!")
#       -> ['Hello', ' world', ',', ' it', "'s", ' 2024', '!']
# ```
#
# Every character of any string matches one of the alternatives (whitespace, digits, other
# letters and `_`, and everything else), so the chunks **join back to the text**:
# `"".join(split_text(s)) == s`. A pattern that skips characters would lose text, and
# `split_text` must refuse it with a `ValueError`. `pattern=None` means no pre-split: the
# whole text is one chunk.
#
# Pre-splitting has a second benefit, which the training task uses: chunks repeat. The
# 933,000 bytes of the Shakespeare training text are 256,000 chunks, but only 14,600
# *distinct* chunks, of 105,000 bytes in total.
#
# Use `re.finditer(pattern, text)` and each match's `.group()` (not `re.findall`, which
# returns the groups of a pattern with parentheses instead of the whole match), and leave
# out empty matches: some patterns can match the empty string.


# %% kind="solution" id="pre_split" export=true
SPLIT_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?[^\W\d]+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+"""


def split_text(text: str, pattern: str | None = SPLIT_PATTERN) -> list[str]:
    """text cut into the chunks that merges stay inside.

    Args:
        text: any string.
        pattern: a regular expression (Python's re syntax) whose matches are the chunks;
            None: no pre-split, the whole text is one chunk.

    Returns:
        a list of non-empty strings, in order, that join back to text:
        "".join(split_text(text, pattern)) == text. [] for the empty text.

    Raises:
        ValueError: when the matches of pattern do not cover the whole text (the pattern
            skips characters, which would be lost).
    """
    # Task pre_split: the non-empty matches in order (or the whole text); check nothing is lost.
    ### BEGIN SOLUTION
    if pattern is None:
        chunks = [text] if text else []
    else:
        chunks = [match.group() for match in re.finditer(pattern, text) if match.group()]
    if "".join(chunks) != text:
        raise ValueError(
            f"split_text: the pattern {pattern!r} skips characters of the text, which would be "
            "lost; every character must belong to one match"
        )
    return chunks
    ### END SOLUTION


# %% [markdown]
# ### Test `pre_split`

# %% kind="test" id="test_pre_split" points=2
got = split_text("Hello world, it's 2024!")
expected = ["Hello", " world", ",", " it", "'s", " 2024", "!"]
assert got == expected, f"split_text(\"Hello world, it's 2024!\"): expected {expected}, got {got}"
got = split_text("a  b\n\nc")
assert got == ["a", " ", " b", "\n", "\n", "c"], f"split_text('a  b\\n\\nc'): got {got}"
assert split_text("") == [], f"split_text(''): expected [], got {split_text('')}"
text = "x = my_var+1  # ok\n"
assert "".join(split_text(text)) == text, "the chunks should join back to the text"
assert split_text(text, None) == [text], "pattern=None: the whole text is one chunk"
assert split_text("", None) == [], "pattern=None and an empty text: no chunks"
got = split_text("ab cd", r"\s*\w*")
assert got == ["ab", " cd"], (
    f"split_text('ab cd', r'\\s*\\w*'): expected ['ab', ' cd'], got {got}: leave out empty matches"
)
err = raised(lambda: split_text("a-b", r"[a-z]+"))
assert isinstance(err, ValueError), (
    f"split_text('a-b', r'[a-z]+') loses the '-': it should raise ValueError, got {err!r}"
)

### BEGIN HIDDEN TESTS
# hidden: the default pattern cuts words, numbers, punctuation and whitespace as documented
def _h_is_chunks(got, expected):
    """A list of str equal to expected."""
    return type(got) is list and all(type(c) is str for c in got) and got == expected


assert _h_is_chunks(split_text("We'll see: 3 cats_and 42dogs."), ["We", "'ll", " see", ":", " 3", " cats_and", " 42", "dogs", "."]), (
    "words, contractions, numbers and punctuation"
)
assert _h_is_chunks(split_text("naïve café 🙂 한국어"), ["naïve", " café", " 🙂", " 한국어"]), (
    "multi-byte letters and symbols"
)
assert _h_is_chunks(split_text("   lead"), ["  ", " lead"]), "leading spaces"
assert _h_is_chunks(split_text("end   "), ["end", "   "]), "trailing spaces"
assert _h_is_chunks(split_text("a\n\n\n b"), ["a", "\n\n\n", " b"]), "a run of newlines"
assert _h_is_chunks(split_text("\t\tx"), ["\t", "\t", "x"]), "tabs"
# hidden: chunks always join back to the text
for _h_text in ("", " ", "\n", "  \n  \n", "🙂🙂 x", "if x:\n    return y  # ok\n", "é" * 5):
    _h_chunks = split_text(_h_text)
    assert type(_h_chunks) is list and "".join(_h_chunks) == _h_text, "chunks join back"
    assert all(type(c) is str and c for c in _h_chunks), "chunks are non-empty strings"
# hidden: pattern None gives the whole text as one chunk
assert _h_is_chunks(split_text("two words\n", None), ["two words\n"]), "no pre-split"
assert _h_is_chunks(split_text("", None), []), "no pre-split of nothing"
# hidden: other patterns give their own non-empty matches
assert _h_is_chunks(split_text("aa-bb--c", r"[a-z]+|-+"), ["aa", "-", "bb", "--", "c"]), (
    "a custom pattern"
)
assert _h_is_chunks(split_text("xy z", r"(x|y|z| )"), ["x", "y", " ", "z"]), (
    "a pattern with a group gives whole matches"
)
assert _h_is_chunks(split_text("ab cd ", r"\s*\w*"), ["ab", " cd", " "]), "no empty chunks"
# hidden: a pattern that skips characters raises ValueError
assert isinstance(raised(lambda: split_text("ab cd", r"\w+")), ValueError), "skipped spaces"
assert isinstance(raised(lambda: split_text("x!", r"x")), ValueError), "a skipped end"
assert isinstance(raised(lambda: split_text("!x", r"x")), ValueError), "a skipped start"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `train`: learning the merges, fast (4 points)
#
# `train_bpe(text, num_merges)` returns the merges as a dict `{pair: new id}`, in the order
# they were learned: the first gets id 256, the next 257, and so on. On `"aaabdaaabac"` with
# 3 merges it returns `{(97, 97): 256, (256, 97): 257, (257, 98): 258}`, the example above.
# Within each chunk of `split_text(text, pattern)`, training repeats: count the pairs, take
# the most frequent, merge it everywhere. It stops early when no pair is left (every chunk
# is a single token), so it can return fewer than `num_merges` merges.
#
# **The straightforward version is slow.** Recounting every pair of the whole text for
# every merge costs time proportional to the length of the text, per merge: 512 merges on
# the 1 MB Shakespeare corpus take many minutes in Python (the systems analysis measures it
# on a slice). Two observations make it fast:
#
# 1. **Chunks repeat.** Count each distinct chunk once, weighted by the number of times it
#    occurs: `Counter(split_text(text, pattern))` gives both, in order of first appearance.
#    Work on `chunks`, the list of each distinct chunk's ids (its UTF-8 bytes at first),
#    with `weights`, the matching list of how often it occurs.
# 2. **A merge only changes the chunks that contain the pair.** Keep the total counts in
#    one dict, `stats` (weighted: `get_stats(chunk, stats, weight)`), and an index `where`
#    from each pair to the set of chunk numbers in which it occurs. To merge `best`, visit
#    only the chunks in `where[best]`: subtract that chunk's pairs from `stats` (weight
#    `-w`), merge it, add the new chunk's pairs back (weight `+w`), and add the chunk's
#    number to `where` for each of its pairs. Everything else stays as it was.
#
# `where` may name a chunk that no longer holds a pair (an earlier merge took it apart):
# visiting it subtracts and adds back the same counts, so it does no harm. A pair that was
# merged never occurs again (why?), so `where.pop(best)` takes its set out for good. Counts
# that reach 0 can stay in `stats`.
#
# **Ties.** Take the highest count in `stats`; when it is 0 (or `stats` is empty), stop.
# Among the pairs with that count, merge the one that occurs **first in the text as it
# stands**: walk through `chunks` in order (distinct chunks are in order of first
# appearance, so the first chunk holding one of the tied pairs also comes first in the
# text), and within each chunk through its pairs in order, and take the first tied pair
# you meet. This is exactly what the straightforward version gives, because Python's `max`
# returns the *first* largest item and a freshly counted dict lists pairs in order of first
# occurrence.
#
# ```
#   chunks   [[97, 97, 97, 98, 100, ...]]       weights [1]     (one chunk for "aaabdaaabac")
#   stats    {(97, 97): 4, (97, 98): 2, ...}   where   {(97, 97): {0}, (97, 98): {0}, ...}
#   merge 1: best (97, 97) -> 256: chunk 0 becomes [256, 97, 98, 100, 256, 97, 98, 97, 99]
#   stats    {(97, 97): 0, (97, 98): 2, ..., (256, 97): 2, ...}: a tie at 2, (256, 97) first
# ```


# %% kind="solution" id="train" export=true
def train_bpe(
    text: str, num_merges: int, pattern: str | None = SPLIT_PATTERN
) -> dict[tuple[int, int], int]:
    """Learn byte-level BPE merges from text.

    Args:
        text: the training text (its UTF-8 bytes are the starting tokens).
        num_merges: how many merges to learn, at most (0 or more).
        pattern: the pre-split pattern of split_text; pairs never cross a chunk boundary.

    Returns:
        the merges, a dict {(a, b): new_id} in the order learned, with new ids 256, 257,
        ... in that order. Each step merges the pair with the highest count over the whole
        text; among pairs with equal counts, the one occurring first in the text as it is
        after the merges so far. Fewer than num_merges merges when no pair is left.

    Raises:
        ValueError: for num_merges < 0.

    Counts are updated incrementally: each distinct chunk is counted once, weighted by how
    often it occurs, and each merge revisits only the distinct chunks that contain the
    merged pair.
    """
    if num_merges < 0:
        raise ValueError(f"train_bpe: num_merges must be 0 or more, got {num_merges}")
    # Task train: distinct chunks with weights, stats and where; then merge, updating both.
    ### BEGIN SOLUTION
    counted = Counter(split_text(text, pattern))
    chunks = [list(chunk.encode("utf-8")) for chunk in counted]
    weights = list(counted.values())
    stats, where = {}, {}
    for i, ids in enumerate(chunks):
        get_stats(ids, stats, weights[i])
        for pair in zip(ids, ids[1:]):
            where.setdefault(pair, set()).add(i)
    merges = {}
    for new_id in range(256, 256 + num_merges):
        top = max(stats.values(), default=0)
        if top < 1:
            break
        tied = {pair for pair, count in stats.items() if count == top}
        best = next(pair for ids in chunks for pair in zip(ids, ids[1:]) if pair in tied)
        merges[best] = new_id
        for i in where.pop(best):
            get_stats(chunks[i], stats, -weights[i])
            chunks[i] = merge(chunks[i], best, new_id)
            get_stats(chunks[i], stats, weights[i])
            for pair in zip(chunks[i], chunks[i][1:]):
                where.setdefault(pair, set()).add(i)
    return merges
    ### END SOLUTION


# %% [markdown]
# ### Test `train`

# %% kind="test" id="test_train" points=4
assert_pairs(train_bpe("aaabdaaabac", 3), {(97, 97): 256, (256, 97): 257, (257, 98): 258}, (
    "train_bpe('aaabdaaabac', 3) (the worked example; the second merge is a tie)"
))
assert_pairs(train_bpe("aaabdaaabac", 1), {(97, 97): 256}, "train_bpe('aaabdaaabac', 1)")
assert_pairs(train_bpe("abcd", 2), {(97, 98): 256, (256, 99): 257}, (
    "train_bpe('abcd', 2): every pair occurs once; ties go to the first occurrence in the text "
    "as it stands after the first merge"
))
assert_pairs(train_bpe("ab", 5), {(97, 98): 256}, "train_bpe('ab', 5): stops when no pair is left")
assert_pairs(train_bpe("", 3), {}, "train_bpe('', 3): no text, no merges")
assert_pairs(train_bpe("hello", 0), {}, "train_bpe('hello', 0)")
assert_pairs(train_bpe("ab ab ab", 2), {(97, 98): 256, (32, 256): 257}, (
    "train_bpe('ab ab ab', 2): chunks 'ab', ' ab', ' ab'; no pair crosses a chunk boundary"
))
assert_pairs(train_bpe("ab ab ab", 3, pattern=None), {(97, 98): 256, (256, 32): 257, (257, 257): 258}, (
    "train_bpe('ab ab ab', 3, pattern=None): one chunk"
))
err = raised(lambda: train_bpe("abc", -1))
assert isinstance(err, ValueError), f"train_bpe('abc', -1) should raise ValueError, got {err!r}"

### BEGIN HIDDEN TESTS
# hidden: training matches a plain recount-every-merge reference on random texts
def _h_train(text, num_merges, pattern):
    """Plain Python: recount everything for every merge; ties by first occurrence."""
    chunks = [list(c.encode("utf-8")) for c in split_text(text, pattern)]
    found = {}
    for step in range(num_merges):
        counts = {}
        for ids in chunks:
            for k in range(len(ids) - 1):
                pair = (ids[k], ids[k + 1])
                counts[pair] = counts.get(pair, 0) + 1
        if not counts:
            break
        best = max(counts, key=counts.get)
        found[best] = 256 + step
        new_chunks = []
        for ids in chunks:
            out, k = [], 0
            while k < len(ids):
                if k + 1 < len(ids) and (ids[k], ids[k + 1]) == best:
                    out.append(256 + step)
                    k += 2
                else:
                    out.append(ids[k])
                    k += 1
            new_chunks.append(out)
        chunks = new_chunks
    return found


import random as _h_random  # noqa: E402

_h_rng = _h_random.Random(3030)
for _h_case in range(40):
    _h_text = "".join(_h_rng.choice("aab c\n") for _ in range(_h_rng.randrange(1, 50)))
    _h_pattern = SPLIT_PATTERN if _h_case % 2 else None
    assert same_pairs(train_bpe(_h_text, 12, _h_pattern), _h_train(_h_text, 12, _h_pattern)), (
        "merges of random texts, with and without pre-split"
    )
# hidden: ties go to the pair that occurs first in the text as it stands
assert same_pairs(train_bpe("cdab ab cd", 1), {(99, 100): 256}), "a tie at the start"
assert same_pairs(train_bpe("xyzzyx", 2), {(120, 121): 256, (256, 122): 257}), "all counts 1"
assert same_pairs(train_bpe("bcab", 2, None), {(98, 99): 256, (256, 97): 257}), (
    "a tie between new and old pairs"
)
assert same_pairs(train_bpe("zzab abzz", 3, None), _h_train("zzab abzz", 3, None)), (
    "ties after merges"
)
# hidden: distinct chunks are weighted by how often they occur
_h_text = "the cat the hat the mat " * 5 + "sat on the cat"
assert same_pairs(train_bpe(_h_text, 15), _h_train(_h_text, 15, SPLIT_PATTERN)), (
    "repeated chunks count as often as they occur"
)
# hidden: multi-byte characters are merged from their UTF-8 bytes
_h_text = "🙂🙂 é é 한국어 한국어 ab"
assert same_pairs(train_bpe(_h_text, 10), _h_train(_h_text, 10, SPLIT_PATTERN)), "UTF-8 bytes"
assert same_pairs(train_bpe("éé", 1, None), {(195, 169): 256}), "the two bytes of é merge"
# hidden: a slice of Shakespeare gives the reference's merges
_h_text = load_corpus("shakespeare", "train")[:3000]
assert same_pairs(train_bpe(_h_text, 40), _h_train(_h_text, 40, SPLIT_PATTERN)), (
    "merges of a slice of Shakespeare"
)
# hidden: new ids are consecutive from 256 and training stops when no pair is left
_h_merges = train_bpe("abcabcabc", 50, None)
assert is_pairs(_h_merges) and [v for _, v in dict.items(_h_merges)] == list(
    range(256, 256 + len(_h_merges))
), "ids 256, 257, ... in order"
assert same_pairs(_h_merges, _h_train("abcabcabc", 50, None)), "training stops early"
assert same_pairs(train_bpe("a\nb\nc", 4), {}), "single-byte chunks have no pairs"
assert same_pairs(train_bpe("aaaa", 9, None), {(97, 97): 256, (256, 256): 257}), "runs merge"
# hidden: zero merges and empty text give no merges; negative counts raise
assert same_pairs(train_bpe("", 0), {}) and same_pairs(train_bpe("xyz", 0), {}), "no merges"
assert same_pairs(train_bpe("", 5, None), {}), "empty text without pre-split"
assert isinstance(raised(lambda: train_bpe("abc", -2)), ValueError), "negative num_merges"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `encode`: applying the merges by rank (3 points)
#
# To encode new text, apply the learned merges to each chunk's bytes **in the order they
# were learned**. A merge's **rank** is its position in that order, which here is simply its
# new id: 256 is rank 0, 257 rank 1, and so on. The rule: look at the pairs present in the
# chunk, merge the one with the **lowest rank**, and repeat until no pair of the chunk is a
# merge.
#
# Why not merge whatever pair comes first, left to right? Because that is not what training
# did. With merges `{(b, c): 256, (a, b): 257}`, the chunk `abc` must become `a 256`, as in
# training, where `(b, c)` was merged before `(a, b)` existed as a merge. Merging `(a, b)`
# first because it comes first would give `257 c`, a different tokenization of the same
# text:
#
# ```
#   merges {(98, 99): 256, (97, 98): 257}      encode_chunk(b"abc") -> [97, 256]
#   pairs of [97, 98, 99]: (97, 98) rank 1, (98, 99) rank 0  -> merge (98, 99)
#   pairs of [97, 256]:    (97, 256) is no merge             -> done
# ```
#
# In `encode_chunk`, `min(get_stats(ids), key=...)` finds the pair of lowest rank when the
# key gives each pair its new id, and `float("inf")` for a pair that is no merge
# (`default=None` gives `None` when there is no pair at all). Then merge it with your
# `merge` (its new id is `merges[pair]`) and look again; stop when the best pair is no
# merge. Every round makes `ids` shorter, so a chunk of $n$ bytes needs fewer than $n$
# rounds: loop with `for _ in range(len(data))` rather than `while True`, and a bug that
# forgets to update `ids` gives a wrong answer instead of a notebook that never finishes.
#
# `encode_bpe` (given, below `encode_chunk`) splits the text with `split_text`, encodes each
# chunk's UTF-8 bytes with `encode_chunk`, and concatenates the ids. It remembers the ids of
# every chunk it has already encoded: Shakespeare's 256,000 chunks are 14,600 distinct ones,
# so most chunks are looked up rather than encoded again.


# %% kind="solution" id="encode" export=true
def encode_chunk(data: bytes, merges: dict[tuple[int, int], int]) -> list[int]:
    """The ids of one chunk: its bytes, with the merges applied by rank.

    Args:
        data: the chunk's UTF-8 bytes.
        merges: {(a, b): new_id} as train_bpe returns them; a lower new id is a lower rank.

    Returns:
        a list of Python ints: start from list(data); while some neighbouring pair is in
        merges, merge the pair whose new id is lowest (everywhere in the chunk, with merge).
        [] for no bytes.

    Hint: at most len(data) - 1 rounds can merge anything: bound the loop by len(data).
    """
    # Task encode: merge the pair of lowest rank until no pair of ids is a merge.
    ### BEGIN SOLUTION
    ids = list(data)
    for _ in range(len(data)):  # every round shortens ids: len(data) rounds are plenty
        pair = min(get_stats(ids), key=lambda p: merges.get(p, float("inf")), default=None)
        if pair not in merges:
            break
        ids = merge(ids, pair, merges[pair])
    return ids
    ### END SOLUTION


def encode_bpe(
    text: str, merges: dict[tuple[int, int], int], pattern: str | None = SPLIT_PATTERN
) -> list[int]:
    """The token ids of text: each chunk of split_text encoded with encode_chunk, in order.

    Returns a list of Python ints. Each distinct chunk is encoded once and remembered.
    """
    ids: list[int] = []
    known: dict[str, list[int]] = {}
    for chunk in split_text(text, pattern):
        if chunk not in known:
            known[chunk] = encode_chunk(chunk.encode("utf-8"), merges)
        ids.extend(known[chunk])
    return ids


# %% [markdown]
# ### Test `encode`

# %% kind="test" id="test_encode" points=3
example = {(97, 97): 256, (256, 97): 257, (257, 98): 258}
assert_ids(encode_chunk(b"aaabdaaabac", example), [258, 100, 258, 97, 99], (
    "encode_chunk(b'aaabdaaabac', merges of the worked example)"
))
assert_ids(encode_bpe("aaabdaaabac", example), [258, 100, 258, 97, 99], "encode_bpe('aaabdaaabac', ...)")
assert_ids(encode_chunk(b"aaab", example), [258], "encode_chunk(b'aaab', ...)")
assert_ids(encode_chunk(b"aa", example), [256], "encode_chunk(b'aa', ...)")
assert_ids(encode_chunk(b"xyz", example), [120, 121, 122], "encode_chunk(b'xyz', ...): no merge applies")
assert_ids(encode_chunk(b"", example), [], "encode_chunk(b'', ...)")
assert_ids(encode_chunk(b"abc", {(98, 99): 256, (97, 98): 257}), [97, 256], (
    "encode_chunk(b'abc', {(98, 99): 256, (97, 98): 257}): (98, 99) has the lower rank, so "
    "it is merged first"
))
assert_ids(encode_chunk("é".encode("utf-8"), {}), [195, 169], "encode_chunk of 'é' without merges: its two bytes")
assert_ids(encode_bpe("aa aa", example), [256, 32, 256], (
    "encode_bpe('aa aa', ...): the chunks 'aa' and ' aa', each encoded on its own"
))

### BEGIN HIDDEN TESTS
# hidden: encoding equals applying every merge in order, chunk by chunk, on random texts
def _h_apply(data, merges):
    """Plain Python: every merge applied in the order learned."""
    ids = list(data)
    for (first, second), new_id in merges.items():
        out, k = [], 0
        while k < len(ids):
            if k + 1 < len(ids) and ids[k] == first and ids[k + 1] == second:
                out.append(new_id)
                k += 2
            else:
                out.append(ids[k])
                k += 1
        ids = out
    return ids


def _h_vocab(merges):
    """Plain Python: the bytes of every id."""
    table = {i: bytes([i]) for i in range(256)}
    for (first, second), new_id in merges.items():
        table[new_id] = table[first] + table[second]
    return table


import random as _h_random  # noqa: E402

_h_rng = _h_random.Random(4040)
_h_train_text = "".join(_h_rng.choice("abc  \n") for _ in range(400))
_h_merges = train_bpe(_h_train_text, 30, None)
for _h_n in (1, 2, 5, 30, 120):
    _h_text = "".join(_h_rng.choice("abc  \nd") for _ in range(_h_n))
    _h_ids = encode_chunk(_h_text.encode("utf-8"), _h_merges)
    assert same_ids(_h_ids, _h_apply(_h_text.encode("utf-8"), _h_merges)), (
        "encoding random text applies the merges by rank"
    )
    assert b"".join(_h_vocab(_h_merges)[i] for i in _h_ids) == _h_text.encode("utf-8"), (
        "the ids spell the text's bytes exactly"
    )
# hidden: the lowest rank wins over the leftmost pair
assert same_ids(encode_chunk(b"abcd", {(98, 99): 256, (97, 98): 257, (99, 100): 258}), [97, 256, 100]), (
    "ranks, not positions, decide"
)
assert same_ids(encode_chunk(b"abcab", {(98, 99): 256, (97, 98): 257, (97, 256): 258}), [258, 257]), (
    "a merge of a merged token"
)
# hidden: merges are applied to the merged tokens, and overlapping runs merge from the left
_h_m = {(97, 97): 256, (256, 256): 257, (256, 97): 258}
for _h_n in range(1, 9):
    assert same_ids(encode_chunk(b"a" * _h_n, _h_m), _h_apply(b"a" * _h_n, _h_m)), "runs of a"
# hidden: chunks are encoded separately and concatenated
_h_text = "the cat sat on the mat, the end\n\n  "
_h_merges = train_bpe(_h_text * 3, 25)
_h_expected = [i for c in split_text(_h_text) for i in _h_apply(c.encode("utf-8"), _h_merges)]
assert same_ids(encode_bpe(_h_text, _h_merges), _h_expected), "encode_bpe joins the chunks"
# hidden: multi-byte text is encoded losslessly
_h_text = "naïve café 🙂👍🏽 한국어, 한국어!"
_h_merges = train_bpe(_h_text * 2, 20, None)
_h_ids = encode_chunk(_h_text.encode("utf-8"), _h_merges)
assert same_ids(_h_ids, _h_apply(_h_text.encode("utf-8"), _h_merges)), "multi-byte text"
assert b"".join(_h_vocab(_h_merges)[i] for i in _h_ids) == _h_text.encode("utf-8"), "lossless"
# hidden: without merges the ids are the bytes
assert same_ids(encode_chunk(bytes(range(256)), {}), list(range(256))), "every byte value"
assert same_ids(encode_chunk(b"q", {(113, 113): 256}), [113]), "one byte"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `decode`: ids to bytes to text (2 points)
#
# Decoding needs the bytes of every id: the **vocabulary**. Ids 0 to 255 are the single
# bytes (`bytes([i])`), and each merge's id is the bytes of its pair joined,
# `vocab[a] + vocab[b]`. Because a merge only uses ids that exist before it, one pass over
# the merges in order fills the table. Its size is exactly 256 plus the number of merges.
#
# `decode_bpe(ids, vocab)` joins the bytes of the ids and decodes them as UTF-8. Two cases
# need a decision:
#
# - **An id that is not in the vocabulary** (negative, or too large) is a bug in the caller:
#   raise a `ValueError` that names the id and the valid range.
# - **Bytes that are not valid UTF-8.** A model can emit any ids in any order, for example
#   only the first two of the four bytes of `🙂`. `bytes.decode("utf-8")` would raise; a
#   tokenizer should return text anyway, with each broken piece shown as the **replacement
#   character** `\ufffd` (`�`), which is what `errors="replace"` does:
#   `bytes([0xF0, 0x9F, 0x41]).decode("utf-8", errors="replace")` is `"�A"`.


# %% kind="solution" id="decode" export=true
def build_vocab(merges: dict[tuple[int, int], int]) -> dict[int, bytes]:
    """The bytes of every token: {id: bytes}.

    Ids 0..255 are the single bytes (bytes([i])); then, in the order of merges, each new
    id is the bytes of its pair joined, vocab[a] + vocab[b]. len(vocab) is 256 plus the
    number of merges.
    """
    # Task decode: the 256 single bytes, then every merge's bytes.
    ### BEGIN SOLUTION
    vocab = {i: bytes([i]) for i in range(256)}
    for (first, second), new_id in merges.items():
        vocab[new_id] = vocab[first] + vocab[second]
    return vocab
    ### END SOLUTION


def decode_bpe(ids: Iterable[int], vocab: dict[int, bytes]) -> str:
    """The text of ids: their bytes joined and decoded as UTF-8.

    Args:
        ids: token ids, Python or NumPy integers.
        vocab: {id: bytes} as build_vocab returns it.

    Returns:
        the text; bytes that are not valid UTF-8 become the replacement character
        U+FFFD (errors="replace"), so any list of known ids decodes.

    Raises:
        ValueError: for an id that is not in vocab (a negative one included), naming it
            and the valid range.
    """
    # Task decode: look every id up (unknown ids raise), join the bytes, decode with replacement.
    ### BEGIN SOLUTION
    parts = []
    for i in ids:
        if i not in vocab:
            raise ValueError(
                f"decode_bpe: unknown token id {i!r}; this vocabulary has ids 0 to "
                f"{len(vocab) - 1}"
            )
        parts.append(vocab[i])
    return b"".join(parts).decode("utf-8", errors="replace")
    ### END SOLUTION


# %% [markdown]
# ### Test `decode`

# %% kind="test" id="test_decode" points=2
vocab = build_vocab({(97, 97): 256, (256, 97): 257, (257, 98): 258})
assert isinstance(vocab, dict) and len(vocab) == 259, (
    f"build_vocab of 3 merges: a dict of 256 + 3 = 259 entries, got {type(vocab).__name__} "
    f"of length {len(vocab)}"
)
assert vocab[97] == b"a" and vocab[0] == b"\x00" and vocab[255] == b"\xff", "ids 0..255 are single bytes"
assert (vocab[256], vocab[257], vocab[258]) == (b"aa", b"aaa", b"aaab"), (
    f"merged ids: expected b'aa', b'aaa', b'aaab', got {vocab[256]!r}, {vocab[257]!r}, {vocab[258]!r}"
)
assert decode_bpe([258, 100, 258, 97, 99], vocab) == "aaabdaaabac", (
    f"decode_bpe([258, 100, 258, 97, 99]): got {decode_bpe([258, 100, 258, 97, 99], vocab)!r}"
)
assert decode_bpe([], vocab) == "", "decode_bpe([]) is the empty string"
assert decode_bpe([195, 169], vocab) == "é", "the two UTF-8 bytes of é decode to é"
assert decode_bpe([0xF0, 0x9F, 0x41], vocab) == "\ufffdA", (
    "decode_bpe([0xF0, 0x9F, 0x41]): a broken UTF-8 sequence becomes the replacement "
    "character: use errors='replace'"
)
for bad in (259, -1):
    err = raised(lambda: decode_bpe([97, bad], vocab))
    assert isinstance(err, ValueError), f"decode_bpe([97, {bad}]) should raise ValueError, got {err!r}"
tok_ids = encode_bpe("hello hello", train_bpe("hello hello", 5))
assert decode_bpe(tok_ids, build_vocab(train_bpe("hello hello", 5))) == "hello hello", "a round trip"

### BEGIN HIDDEN TESTS
# hidden: the vocabulary is 256 single bytes plus one entry per merge
import random as _h_random  # noqa: E402

_h_rng = _h_random.Random(5050)
_h_merges = train_bpe("".join(_h_rng.choice("abcd ") for _ in range(300)), 40, None)
_h_vocab = build_vocab(_h_merges)
assert isinstance(_h_vocab, dict) and len(_h_vocab) == 256 + len(_h_merges), "256 + merges"
assert all(type(_h_vocab[i]) is bytes and _h_vocab[i] == bytes([i]) for i in range(256)), (
    "single bytes"
)
_h_expected = {i: bytes([i]) for i in range(256)}
for (_h_a, _h_b), _h_id in _h_merges.items():
    _h_expected[_h_id] = _h_expected[_h_a] + _h_expected[_h_b]
assert all(type(_h_vocab.get(k)) is bytes and _h_vocab[k] == v for k, v in _h_expected.items()), (
    "each merge's bytes join its pair's bytes"
)
assert len(build_vocab({})) == 256, "no merges: 256 entries"
# hidden: exact round trips through encode and decode
_h_texts = [
    "",
    "🙂👍🏽🎉 emoji",
    "한국어 텍스트와 日本語のテキスト",
    "naïve café, Zürich, Ελληνικά",
    "a    b\n\n\n\nc\t\t d  \n ",
    "     ",
    "\n\n\n",
    "mixed 42 numbers_and_symbols #$%&*() {}[]",
]
_h_merges = train_bpe(" ".join(_h_texts) * 3, 60)
_h_vocab = build_vocab(_h_merges)
for _h_text in _h_texts:
    _h_out = decode_bpe(encode_bpe(_h_text, _h_merges), _h_vocab)
    assert same_text(_h_out, _h_text), "decode(encode(text)) is text"
    _h_out = decode_bpe(encode_bpe(_h_text, _h_merges, None), _h_vocab)
    assert same_text(_h_out, _h_text), "round trip without pre-split"
# hidden: a slice of Shakespeare round-trips exactly
_h_merges = train_bpe(load_corpus("shakespeare", "train")[:20000], 50)
_h_vocab = build_vocab(_h_merges)
_h_text = load_corpus("shakespeare", "val")[:20000]
_h_ids = encode_bpe(_h_text, _h_merges)
assert len(_h_ids) < len(_h_text), "merges shorten Shakespeare"
_h_out = decode_bpe(_h_ids, _h_vocab)
assert same_text(_h_out, _h_text), "a Shakespeare slice round-trips exactly"
# hidden: ids that are not in the vocabulary raise ValueError
for _h_bad in (-1, -256, len(_h_vocab), len(_h_vocab) + 1, 10**6):
    assert isinstance(raised(lambda b=_h_bad: decode_bpe([65, b], _h_vocab)), ValueError), (
        "unknown ids raise ValueError"
    )
# hidden: NumPy integer ids decode too
import numpy as _h_np  # noqa: E402

assert same_text(decode_bpe(_h_np.array([72, 105], dtype=_h_np.int64), build_vocab({})), "Hi"), (
    "NumPy ids"
)
# hidden: bytes that are not valid UTF-8 become replacement characters
_h_bytes_vocab = build_vocab({})
assert same_text(decode_bpe([0xFF], _h_bytes_vocab), "\ufffd"), "an invalid byte is replaced"
assert same_text(decode_bpe([0x80, 0x41], _h_bytes_vocab), "\ufffdA"), "a stray continuation byte"
_h_smile = list("🙂".encode("utf-8"))
assert same_text(decode_bpe(_h_smile[:2] + [0x42], _h_bytes_vocab), "\ufffdB"), "a cut emoji"
assert same_text(decode_bpe(_h_smile, _h_bytes_vocab), "🙂"), "a whole emoji"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `save_load`: a tokenizer in a file (2 points)
#
# `BPETokenizer` holds a trained tokenizer: its `merges`, its pre-split `pattern` and its
# `vocab`. `BPETokenizer().train(text, num_merges)` learns the merges (with your
# `train_bpe`), `encode` and `decode` call your functions, and `vocab_size` is
# `256 + len(merges)`. All of that is given below. What remains is to **save** a trained
# tokenizer, so that a model trained with it can be used later, and to **load** it back.
#
# The file is JSON text, one object with three keys:
#
# ```
#   {"format": "tinytorch-bpe-v1", "pattern": "'(?:[sdmt]|ll|ve|re)| ?...", "merges": [[97, 97], [256, 97], ...]}
# ```
#
# The merges are listed as pairs in the order learned; their ids are implied (the k-th
# pair, counting from 0, gets id 256 + k), so they are not stored. `pattern` is `null` for
# a tokenizer without pre-split. `load` must check what it reads: a file whose `"format"`
# is not `"tinytorch-bpe-v1"` is not a tokenizer of this kind, and a merge that uses an id
# not defined before it (negative, or at least its own id) cannot be decoded. Both raise a
# `ValueError` that says what is wrong. `json.dumps(obj)` gives the text of a dict,
# `json.loads(text)` the dict back; write and read bytes with `Path(path).write_bytes(...)`
# and `Path(path).read_bytes()` (`json.dumps` escapes every non-ASCII character, so the text
# is ASCII).


# %% kind="solution" id="save_load" export=true
FILE_FORMAT = "tinytorch-bpe-v1"


class BPETokenizer:
    """Byte-level BPE: the 256 byte values plus learned merges, with a pre-split pattern.

    Attributes:
        merges: {(a, b): new_id} in the order learned (new ids 256, 257, ...).
        pattern: the pre-split pattern (None: no pre-split).
        vocab: {id: bytes} from build_vocab(merges).

    Usage:
        tok = BPETokenizer().train(text, num_merges=512)
        ids = tok.encode("To be, or not to be")
        tok.decode(ids)       # "To be, or not to be"
        tok.save("shakespeare.bpe.json"); BPETokenizer.load("shakespeare.bpe.json")
    """

    def __init__(
        self,
        merges: dict[tuple[int, int], int] | None = None,
        pattern: str | None = SPLIT_PATTERN,
    ) -> None:
        self.merges = dict(merges or {})
        self.pattern = pattern
        self.vocab = build_vocab(self.merges)

    @property
    def vocab_size(self) -> int:
        """256 byte tokens plus one token per merge."""
        return len(self.vocab)

    def train(self, text: str, num_merges: int) -> "BPETokenizer":
        """Learn num_merges merges from text (train_bpe with this pattern); returns self."""
        self.merges = train_bpe(text, num_merges, self.pattern)
        self.vocab = build_vocab(self.merges)
        return self

    def encode(self, text: str) -> list[int]:
        """The token ids of text (encode_bpe)."""
        return encode_bpe(text, self.merges, self.pattern)

    def decode(self, ids: Iterable[int]) -> str:
        """The text of ids (decode_bpe); unknown ids raise ValueError."""
        return decode_bpe(ids, self.vocab)

    def save(self, path: str | Path) -> None:
        """Write the tokenizer to path as JSON text: {"format": FILE_FORMAT, "pattern":
        pattern or null, "merges": [[a, b], ...] in the order learned}."""
        # Task save_load: the three keys, as JSON, written to path.
        ### BEGIN SOLUTION
        data = {
            "format": FILE_FORMAT,
            "pattern": self.pattern,
            "merges": [list(pair) for pair in self.merges],
        }
        Path(path).write_bytes(json.dumps(data).encode("ascii"))
        ### END SOLUTION

    @classmethod
    def load(cls, path: str | Path) -> "BPETokenizer":
        """The tokenizer saved at path: merges with ids 256, 257, ... in file order.

        Raises:
            ValueError: when the file's "format" is not FILE_FORMAT, or a merge uses an id
                that is negative or not defined before it (at least 256 + its position).
        """
        # Task save_load: read the JSON, check the format and every merge, rebuild the tokenizer.
        ### BEGIN SOLUTION
        data = json.loads(Path(path).read_bytes())
        if not isinstance(data, dict) or data.get("format") != FILE_FORMAT:
            raise ValueError(
                f"BPETokenizer.load: {path} is not a tinytorch BPE file (its \"format\" should "
                f"be {FILE_FORMAT!r})"
            )
        merges = {}
        for first, second in data["merges"]:
            new_id = 256 + len(merges)
            if not (0 <= first < new_id and 0 <= second < new_id):
                raise ValueError(
                    f"BPETokenizer.load: merge {len(merges)} of {path}, ({first}, {second}), "
                    f"uses an id that is not defined before its own id {new_id}"
                )
            merges[(first, second)] = new_id
        return cls(merges, data["pattern"])
        ### END SOLUTION


# %% [markdown]
# ### Test `save_load`

# %% kind="test" id="test_save_load" points=2
import json  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

tok = BPETokenizer().train("aaabdaaabac", 3)
assert tok.vocab_size == 259, f"vocab_size: 256 + 3 merges = 259, got {tok.vocab_size}"
with tempfile.TemporaryDirectory() as folder:
    file = Path(folder) / "tok.json"
    tok.save(file)
    saved = json.loads(file.read_text())
    assert saved == {"format": "tinytorch-bpe-v1", "pattern": SPLIT_PATTERN, "merges": [[97, 97], [256, 97], [257, 98]]}, (
        f"the saved file should hold the format, the pattern and the merges in order, got {saved}"
    )
    back = BPETokenizer.load(file)
    assert isinstance(back, BPETokenizer), f"load should return a BPETokenizer, got {type(back).__name__}"
    assert_pairs(back.merges, tok.merges, "BPETokenizer.load(file).merges")
    assert back.pattern == SPLIT_PATTERN, f"the loaded pattern differs: {back.pattern!r}"
    assert_ids(back.encode("aaabdaaabac"), [258, 100, 258, 97, 99], "the loaded tokenizer's encode")
    assert back.decode([258, 100]) == "aaabd", "the loaded tokenizer's vocab decodes merged ids"
    file.write_text(json.dumps({"format": "something-else", "pattern": None, "merges": []}))
    err = raised(lambda: BPETokenizer.load(file))
    assert isinstance(err, ValueError), f"loading a file of another format should raise ValueError, got {err!r}"

### BEGIN HIDDEN TESTS
# hidden: saving and loading keeps merges, their order, the pattern and the vocabulary
import random as _h_random  # noqa: E402

_h_rng = _h_random.Random(6060)
_h_text = "".join(_h_rng.choice("abcde  \n") for _ in range(500))
with tempfile.TemporaryDirectory() as _h_folder:
    for _h_pattern in (None, SPLIT_PATTERN, r"\w+|\W+"):
        _h_tok = BPETokenizer(pattern=_h_pattern).train(_h_text, 25)
        _h_file = str(Path(_h_folder) / "t.json")
        _h_tok.save(_h_file)
        _h_saved = json.loads(Path(_h_file).read_text(encoding="ascii"))
        assert isinstance(_h_saved, dict), "the file holds one JSON object"
        assert _h_saved.get("format") == "tinytorch-bpe-v1", "the format is written"
        assert _h_saved.get("pattern") == _h_pattern, "the pattern is written (null for None)"
        assert _h_saved.get("merges") == [list(p) for p in _h_tok.merges], "merges in order"
        _h_back = BPETokenizer.load(_h_file)
        assert type(_h_back) is BPETokenizer, "load returns a BPETokenizer"
        assert same_pairs(_h_back.merges, _h_tok.merges), "merges and ids survive"
        assert (
            _h_back.pattern is None if _h_pattern is None else same_text(_h_back.pattern, _h_pattern)
        ), "the pattern survives"
        assert _h_back.vocab == _h_tok.vocab and _h_back.vocab_size == 256 + 25, "the vocab"
        assert same_ids(_h_back.encode(_h_text[:80]), _h_tok.encode(_h_text[:80])), "same ids"
# hidden: ids of loaded merges follow the file's order
with tempfile.TemporaryDirectory() as _h_folder:
    _h_file = Path(_h_folder) / "t.json"
    _h_file.write_text(json.dumps({"format": "tinytorch-bpe-v1", "pattern": None, "merges": [[98, 99], [97, 256], [257, 257]]}))
    _h_back = BPETokenizer.load(_h_file)
    assert same_pairs(_h_back.merges, {(98, 99): 256, (97, 256): 257, (257, 257): 258}), "ids"
    assert _h_back.pattern is None and same_text(_h_back.decode([258]), "abcabc"), "rebuilt vocab"
    _h_file.write_text(json.dumps({"format": "tinytorch-bpe-v1", "pattern": "x", "merges": []}))
    assert same_pairs(BPETokenizer.load(_h_file).merges, {}), "no merges"
# hidden: files of another format raise ValueError
with tempfile.TemporaryDirectory() as _h_folder:
    _h_file = Path(_h_folder) / "t.json"
    for _h_data in ({"pattern": None, "merges": []}, {"format": "tinytorch-bpe-v2", "pattern": None, "merges": []}, [[97, 98]]):
        _h_file.write_text(json.dumps(_h_data))
        assert isinstance(raised(lambda: BPETokenizer.load(_h_file)), ValueError), (
            "another format raises ValueError"
        )
# hidden: merges that use ids not defined before them raise ValueError
with tempfile.TemporaryDirectory() as _h_folder:
    _h_file = Path(_h_folder) / "t.json"
    for _h_bad in ([[97, 256]], [[256, 97]], [[97, 98], [258, 97]], [[97, 98], [97, 257]], [[-1, 97]], [[97, -3]]):
        _h_file.write_text(json.dumps({"format": "tinytorch-bpe-v1", "pattern": None, "merges": _h_bad}))
        assert isinstance(raised(lambda: BPETokenizer.load(_h_file)), ValueError), (
            "a merge of undefined ids raises ValueError"
        )
    _h_file.write_text(json.dumps({"format": "tinytorch-bpe-v1", "pattern": None, "merges": [[97, 98], [256, 256]]}))
    assert same_pairs(BPETokenizer.load(_h_file).merges, {(97, 98): 256, (256, 256): 257}), (
        "ids defined before are fine"
    )
    _h_file.write_text(json.dumps({"format": "tinytorch-bpe-v1", "pattern": None, "merges": [[0, 1], [256, 0]]}))
    assert same_pairs(BPETokenizer.load(_h_file).merges, {(0, 1): 256, (256, 0): 257}), (
        "byte 0 is a defined id"
    )
### END HIDDEN TESTS

# %% [markdown]
# ## Systems analysis: vocabulary size against sequence length
#
# Nothing below is graded. These cells measure the tokenizers you just built on the three
# corpora of the course; the whole section takes about half a minute.
#
# A bigger vocabulary means shorter sequences: more bytes per token. But every token costs
# a row of the embedding table and a column of the output layer (Module 11), and a token the
# model rarely sees in training is poorly learned. And sequence length is what attention
# pays for quadratically (Module 12). The question is how fast the sequences shrink as
# merges are added, and whether that depends on the kind of text.
#
# The cell below trains 512 merges on the `train` split of each corpus, then encodes its
# `val` split with the first $k$ merges, for several $k$. (Training is greedy, so the first
# $k$ of 512 learned merges are exactly the merges a $k$-merge training would learn: one
# training per corpus is enough.) A character tokenizer built on the train split is the
# first row: one token per character, which for these ASCII corpora is one byte.

# %%
import time  # noqa: E402  (the systems analysis is the only part that needs it)

CORPORA = ("shakespeare", "tinytalks", "pycode")
MERGE_COUNTS = (0, 32, 64, 128, 256, 512)

texts = {name: (load_corpus(name, "train"), load_corpus(name, "val")) for name in CORPORA}
learned, train_seconds = {}, {}
for name, (train_text, _) in texts.items():
    start = time.perf_counter()
    learned[name] = train_bpe(train_text, max(MERGE_COUNTS))
    train_seconds[name] = time.perf_counter() - start


def first_merges(merges: dict, k: int) -> dict:
    """The first k merges learned."""
    return dict(list(merges.items())[:k])


rows = []  # (corpus, tokenizer, vocab size, val bytes, tokens, bytes per token)
for name, (train_text, val_text) in texts.items():
    val_bytes = len(val_text.encode("utf-8"))
    chars = CharTokenizer(train_text)
    rows.append((name, "characters", chars.vocab_size, val_bytes, len(chars.encode(val_text))))
    for k in MERGE_COUNTS:
        ids = encode_bpe(val_text, first_merges(learned[name], k))
        rows.append((name, f"BPE, {k} merges", 256 + k, val_bytes, len(ids)))

print(f"{'corpus':<12} {'tokenizer':<16} {'vocab':>6} {'val bytes':>10} {'tokens':>9} "
      f"{'bytes/token':>12}")
for name, what, vocab_size, val_bytes, tokens in rows:
    print(f"{name:<12} {what:<16} {vocab_size:>6} {val_bytes:>10,} {tokens:>9,} "
          f"{val_bytes / tokens:>12.2f}")
print()
for name in CORPORA:
    print(f"training 512 merges on {name} train ({len(texts[name][0]):,} bytes): "
          f"{train_seconds[name]:.1f} s")

# %% [markdown]
# The same numbers as a plot: bytes per token of the validation split against vocabulary
# size, one line per corpus.

# %%
import matplotlib.pyplot as plt  # noqa: E402

fig, ax = plt.subplots(figsize=(6, 3.5))
for name in CORPORA:
    points = [(v, b / t) for n, what, v, b, t in rows if n == name and what.startswith("BPE")]
    ax.plot([v for v, _ in points], [r for _, r in points], marker="o", label=name)
ax.set_xlabel("vocabulary size (256 + merges)")
ax.set_ylabel("bytes per token (val split)")
ax.set_title("Byte-level BPE: longer tokens from more merges")
ax.grid(alpha=0.3)
ax.legend()
plt.show()

# %% [markdown]
# Things to look for in your table:
#
# - **The first merges pay the most.** They take the most frequent pairs (a space before a
#   letter, `th`, `e` followed by a space, ...), so each merge buys less than the one before:
#   with the reference solution, the first 32 merges shorten Shakespeare's validation text
#   by 23%, the last 256 of the 512 by another 11%.
# - **Code compresses better than verse.** Python source repeats itself: indentation (runs
#   of spaces), keywords, `self.`, the same names again and again. Compare the `pycode` and
#   `shakespeare` rows at the same vocabulary size.
# - **TinyTalks is small and repetitive.** Its 23 KB of training text are a few templates
#   (`Q: What is ...`, `A: ...`) filled with a small set of words, and its validation split
#   uses the same templates: with 512 merges whole phrases become tokens, and it has the
#   most bytes per token of the three. That says more about how narrow the corpus is than
#   about BPE: many of those 512 tokens occur only a handful of times, and a model would see
#   too few examples of each to learn them. Size a vocabulary for the data that trains the
#   model, not for compression alone.
# - **Characters versus bytes.** For ASCII text the character tokenizer gives exactly one
#   byte per token, with a vocabulary of under 100 tokens. Byte-level BPE with 0 merges gives
#   the same lengths with 256 tokens, but encodes every string; with merges it is shorter.
#
# ### What training costs
#
# The straightforward trainer recounts every pair of the text for every merge: its cost per
# merge is proportional to the text's length. Your trainer revisits only the distinct chunks
# that hold the merged pair. The cell below times both on 15,000 characters of Shakespeare,
# for a growing number of merges (the straightforward one is written out here; it learns
# the same merges, which the cell checks), and times your trainer without pre-split, where
# the whole text is one chunk that every merge must rewrite.


# %%
def train_by_recounting(text: str, num_merges: int, pattern: str | None = SPLIT_PATTERN) -> dict:
    """The straightforward trainer: count every pair of every chunk for every merge."""
    chunks = [list(chunk.encode("utf-8")) for chunk in split_text(text, pattern)]
    merges = {}
    for new_id in range(256, 256 + num_merges):
        stats = {}
        for ids in chunks:
            get_stats(ids, stats)
        if not stats:
            break
        best = max(stats, key=stats.get)  # the first of the largest counts
        merges[best] = new_id
        chunks = [merge(ids, best, new_id) for ids in chunks]
    return merges


def seconds(fn, *args) -> tuple[float, object]:
    """Wall time of one call, and its result."""
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


sample = texts["shakespeare"][0][:15000]
print(f"{'merges':>7} {'recounting s':>13} {'incremental s':>14} {'no pre-split s':>15} {'speed-up':>9}")
for k in (16, 64, 128):
    slow, slow_merges = seconds(train_by_recounting, sample, k)
    fast, fast_merges = seconds(train_bpe, sample, k)
    whole, _ = seconds(train_bpe, sample, k, None)
    assert fast_merges == slow_merges, "both trainers learn the same merges"
    print(f"{k:>7} {slow:>13.3f} {fast:>14.3f} {whole:>15.3f} {slow / fast:>8.0f}x")
print()
full = texts["shakespeare"][0] + texts["shakespeare"][1]
t_train, big_merges = seconds(train_bpe, full, 512)
t_encode, full_ids = seconds(encode_bpe, full, big_merges)
print(f"the whole Shakespeare corpus ({len(full):,} bytes): train 512 merges {t_train:.1f} s, "
      f"encode {t_encode:.2f} s ({len(full) / t_encode / 1e6:.2f} MB/s), "
      f"{len(full) / len(full_ids):.2f} bytes per token")

# %% [markdown]
# The recounting trainer's time grows in proportion to the number of merges times the
# length of the text; the incremental one grows far more slowly, because a late merge
# touches only the few chunks that contain its pair. Without pre-split the text is a single
# chunk, and every merge rewrites all of it, so the incremental idea cannot help: the
# pre-split is what makes both the training fast and the tokens meaningful. `make
# bench-tokenizer` times the same job on the whole corpus, beside the Rust `tokenizers`
# library when it is installed.
#
# ## Summary
#
# - A tokenizer maps text to ids and back; `decode(encode(s)) == s` is the contract to keep.
# - Character vocabularies are small but open-ended: unknown characters become `<unk>` and
#   are lost. Special tokens take the first ids and never come from text.
# - UTF-8 writes every character as one to four bytes; a byte-level vocabulary of 256 can
#   encode anything, and decoding arbitrary ids needs `errors="replace"`.
# - BPE learns merges of the most frequent neighbouring pair, left to right without
#   overlaps, ties to the first occurrence; a vocabulary of $256 + k$ tokens.
# - Encoding applies merges by rank (the order learned), not left to right.
# - Training is fast when each distinct chunk is counted once, weighted, and a merge
#   revisits only the chunks that contain its pair.
#
# **Reflection.**
#
# 1. A model's output layer has one logit per token. For a vocabulary of 50,257 tokens
#    (GPT-2's: 256 bytes, 50,000 merges, one special token) and a model width of 768, how
#    many parameters does the output layer have, and how does that compare with your
#    512-merge tokenizer?
# 2. Your table shows how many bytes a token covers. If attention costs time proportional
#    to the square of the sequence length, how much cheaper is attention over 1,000 bytes of
#    Shakespeare with 512 merges than with the character tokenizer?
# 3. Why can a merged pair never occur again in the text during training? Which property of
#    `merge` and of the new ids does the argument use?
