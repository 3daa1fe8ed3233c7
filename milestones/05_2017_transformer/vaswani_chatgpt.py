"""2017 to 2022, the chatbot: a GPT trained on questions and answers starts to answer.

The same GPT as vaswani_shakespeare.py (your Modules 10 to 13), trained on TinyTalks, the
course's own question-and-answer corpus (datasets/tinytalks: 466 training pairs such as
"Q: What is five plus one?" / "A: Six.", at four levels: small talk, simple facts,
arithmetic in words, short reasoning). It learns the text as a language model, one
character after another, in windows of 128 characters. Then it is measured two ways:

- validation loss, nats per character on val.txt, next to the bigram baseline of
  datasets/README.md (2.104). Target: clearly below it (see TARGET);
- exact answers: each question becomes the prompt "Q: <question>\\nA: ", the model writes
  greedily (always its most likely character) until a newline, and the answer counts only
  when it is exactly the expected one. Reported for the held-out val and test questions,
  which no training pair asks (their facts and number combinations are held out too), per
  level, and for training questions, to show what it remembers next to what it generalises.
  The answers are measured, never assumed, and are not part of the target.

tinytalks.py trains the same model as a live terminal dashboard.

Run from the repository root:
    python milestones/05_2017_transformer/vaswani_chatgpt.py [--seed N] [--steps N] [--quick]
"""

from __future__ import annotations

import csv
import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

if __name__ == "__main__":
    # Small matrices: one BLAS thread is faster and steadier on a busy machine (see
    # milestones/README.md). Only as a command, before NumPy starts, unless already set.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

MILESTONES = Path(__file__).resolve().parents[1]
if str(MILESTONES) not in sys.path:
    sys.path.insert(0, str(MILESTONES))  # so that `import common` works from any folder

from common import (  # noqa: E402
    REPO_ROOT,
    framework_banner,
    framework_folder,
    load_script,
    milestone_parser,
    print_results,
    say,
    wants_plot,
)

lm = load_script("05_2017_transformer/_lm.py")

HISTORY = """\
2022: ChatGPT answered questions in plain language, and millions of people talked to a
transformer for the first time. Underneath it is the model of 2017 and 2018: a GPT that
predicts the next token, trained first on a great deal of text, then on conversations, so
that the most likely continuation of a question is an answer. This is the same idea at
the scale of a few hundred questions and a laptop: after "Q: ... A:" comes an answer."""

FULL = lm.Settings(
    context=128, steps=800, lr=3e-3, min_lr=3e-4, warmup=50, weight_decay=0.1, eval_every=100
)
QUICK = replace(FULL, steps=300, lr=4e-3, min_lr=4e-4, eval_every=100)
TARGET_MARGIN = 0.8  # full setting: val loss at least this far below the bigram baseline
QUICK_MARGIN = 0.4  # quick setting (CI)
TRAIN_SAMPLE = 100  # training questions asked back (the first ones of train.txt)
LEVELS = {1: "small talk", 2: "facts", 3: "arithmetic", 4: "reasoning"}


# --------------------------------------------------------------------------------------
# Questions and answers
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    question: str
    answer: str
    level: int | None  # 1 to 4, from datasets/tinytalks/index.tsv when it is there


def parse_pairs(text: str, levels: dict[str, int] | None = None) -> list[Pair]:
    """The "Q: ...\\nA: ...\\n" blocks of a TinyTalks split, in order."""
    pairs = []
    for block in text.strip("\n").split("\n\n"):
        question, answer = block.split("\n")
        assert question.startswith("Q: ") and answer.startswith("A: "), block
        q, a = question[3:], answer[3:]
        pairs.append(Pair(q, a, (levels or {}).get(q)))
    return pairs


def load_levels() -> dict[str, int]:
    """question -> level from index.tsv (the datasets folder of $TINYTORCH_DATA or of this
    repository); empty when neither has it (then no per-level figures are shown)."""
    places = [REPO_ROOT / "datasets" / "tinytalks" / "index.tsv"]
    if os.environ.get("TINYTORCH_DATA"):
        places.insert(0, Path(os.environ["TINYTORCH_DATA"]) / "tinytalks" / "index.tsv")
    for place in places:
        if place.is_file():
            with place.open(encoding="utf-8", newline="") as file:
                rows = csv.DictReader(file, delimiter="\t")
                return {row["question"]: int(row["level"]) for row in rows}
    return {}


def prompt_of(question: str) -> str:
    return f"Q: {question}\nA: "


def answer_questions(
    tt, model, tokenizer, questions: list[str], max_new: int, chunk: int = 8
) -> list[str]:
    """The model's greedy answers: each prompt "Q: <question>\\nA: " is extended by up to
    max_new characters (temperature 0) and cut at the first newline.

    Prompts of the same length are generated together, as one batch (GPT.generate takes a
    rectangular batch; padding on the left would shift what the model sees), `chunk`
    characters at a time until every answer of the batch has its newline.
    """
    newline = tokenizer.stoi["\n"]
    answers = [""] * len(questions)
    by_length: dict[int, list[int]] = {}
    encoded = [tokenizer.encode(prompt_of(q)) for q in questions]
    for index, ids in enumerate(encoded):
        by_length.setdefault(len(ids), []).append(index)
    for length, indices in by_length.items():
        ids = np.array([encoded[i] for i in indices], dtype=np.int64)
        while ids.shape[1] - length < max_new:
            steps = min(chunk, max_new - (ids.shape[1] - length))
            ids = model.generate(ids, steps, temperature=0)
            if (ids[:, length:] == newline).any(axis=1).all():
                break
        for i, row in zip(indices, ids, strict=True):
            answers[i] = tokenizer.decode(row[length:].tolist()).split("\n")[0]
    return answers


def score(pairs: list[Pair], answers: list[str]) -> dict:
    """Exact-match figures: overall and per level (right, asked)."""
    right = [a == p.answer for p, a in zip(pairs, answers, strict=True)]
    per_level: dict[int, list[int]] = {}
    for pair, ok in zip(pairs, right, strict=True):
        if pair.level is not None:
            tally = per_level.setdefault(pair.level, [0, 0])
            tally[0] += ok
            tally[1] += 1
    return {
        "right": int(sum(right)),
        "asked": len(pairs),
        "accuracy": sum(right) / len(pairs) if pairs else 0.0,
        "per_level": {level: tuple(t) for level, t in sorted(per_level.items())},
        "correct": right,
    }


def per_level_text(figures: dict) -> str:
    return ", ".join(
        f"{LEVELS[level]} {right}/{asked}" for level, (right, asked) in figures["per_level"].items()
    )


# --------------------------------------------------------------------------------------
# The run, shared with the dashboard (tinytalks.py)
# --------------------------------------------------------------------------------------


class ChatRun:
    """The TinyTalks corpus, the GPT, its Training, and the measurements on it."""

    def __init__(self, tt, settings: lm.Settings, seed: int):
        self.tt, self.settings, self.seed = tt, settings, seed
        self.corpus = lm.load_text(tt, "tinytalks")
        levels = load_levels()
        self.test_text = lm.read_split(tt, "tinytalks", "test")
        self.train_pairs = parse_pairs(self.corpus.train_text, levels)
        self.val_pairs = parse_pairs(self.corpus.val_text, levels)
        self.test_pairs = parse_pairs(self.test_text, levels)
        # Long enough for every answer of the corpus, and its newline.
        self.max_new = 2 + max(len(p.answer) for p in self.train_pairs)
        self.model = lm.build_gpt(tt, self.corpus.vocab_size, settings, seed)
        pad = self.corpus.tokenizer.stoi[lm.PAD]
        self.val_windows = lm.eval_windows(self.corpus.val, settings.context, pad)
        train = self.corpus.train

        def sample(rng):
            return (*lm.random_windows(train, settings.batch, settings.context, rng), None)

        self.training = lm.Training(tt, self.model, settings, sample, seed=seed)
        self.val_marks: list[tuple[int, float]] = []

    @property
    def parameters(self) -> int:
        return lm.parameter_count(self.model)

    def val_loss(self) -> float:
        """Nats per character over every character of val.txt (recorded with the step)."""
        loss = lm.evaluate_loss(self.tt, self.model, *self.val_windows, batch=64)
        self.val_marks.append((self.training.done, loss))
        return loss

    def answers(self, pairs: list[Pair]) -> list[str]:
        questions = [p.question for p in pairs]
        return answer_questions(self.tt, self.model, self.corpus.tokenizer, questions, self.max_new)


def settings_from(args) -> tuple[lm.Settings, float]:
    """The settings (--quick, --steps) and the margin below the bigram baseline to reach."""
    settings = QUICK if args.quick else FULL
    if args.steps:
        settings = replace(settings, steps=max(1, args.steps))
    return settings, (QUICK_MARGIN if args.quick else TARGET_MARGIN)


def add_options(parser) -> None:
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"the short setting of the tests: {QUICK.steps} steps, val loss at least "
        f"{QUICK_MARGIN} below the bigram baseline (instead of {TARGET_MARGIN})",
    )
    parser.add_argument("--steps", type=int, help=f"training steps (default {FULL.steps})")


def introduce(chat: ChatRun) -> None:
    corpus = chat.corpus
    print(
        f"TinyTalks: {len(chat.train_pairs)} training pairs ({len(corpus.train_text):,} "
        f"characters), {len(chat.val_pairs)} val and {len(chat.test_pairs)} test pairs held "
        f"out. Baselines on val, in nats per character: unigram {corpus.unigram:.3f}, bigram "
        f"{corpus.bigram:.3f}.\n"
    )
    print(f"Model: {chat.parameters:,} parameters. {chat.settings.describe()}.")


def measure_answers(chat: ChatRun) -> dict:
    """Exact answers for every val and test question and the first TRAIN_SAMPLE training
    questions: {"val"|"test"|"train": score(...) plus "answers"}, and "seconds"."""
    started = time.perf_counter()
    results: dict = {}
    sets = (("val", chat.val_pairs), ("test", chat.test_pairs))
    for name, pairs in (*sets, ("train", chat.train_pairs[:TRAIN_SAMPLE])):
        answers = chat.answers(pairs)
        results[name] = {**score(pairs, answers), "answers": answers}
    results["seconds"] = time.perf_counter() - started
    return results


def report(chat: ChatRun, clock, margin: float, plot: bool, title: str) -> dict:
    """After training: the loss chart (when plotting), every exact answer measured, a few
    shown, the result table; returns the figures (target_met: the val loss criterion)."""
    corpus, run, settings = chat.corpus, chat.training, chat.settings
    target = corpus.bigram - margin
    val_loss = (
        chat.val_marks[-1][1]
        if chat.val_marks and chat.val_marks[-1][0] == run.done
        else chat.val_loss()
    )
    if plot:
        print("Training loss ('*'), val loss ('o'), bigram baseline ('-'):")
        print(lm.loss_chart(run.losses, marks=chat.val_marks, baseline=corpus.bigram))
        print()
    results = measure_answers(chat)
    val, test, train = results["val"], results["test"], results["train"]
    print("Held-out questions (val), the model's answers (greedy) and the expected ones:")
    for pair, answer, ok in list(zip(chat.val_pairs, val["answers"], val["correct"], strict=True))[
        :12
    ]:
        print(
            f"  Q: {pair.question}\n     model: {answer!r}  expected: {pair.answer!r}  "
            f"{'right' if ok else 'wrong'}"
        )
    print()
    held_out = (val["right"] + test["right"]) / (val["asked"] + test["asked"])
    gap = (
        " It remembers far more than it generalises." if train["accuracy"] >= held_out + 0.1 else ""
    )
    say(
        f"The model scores {val_loss:.3f} nats per character on the held-out pairs, "
        f"{corpus.bigram - val_loss:+.3f} against the bigram model. It answers "
        f"{train['right']} of the first {train['asked']} training questions exactly, and "
        f"{val['right']} of {val['asked']} val and {test['right']} of {test['asked']} test "
        f"questions, whose facts and number combinations it never saw.{gap}"
    )
    seconds = clock.wall()

    def answers_row(name: str, figures: dict) -> tuple[str, str, str]:
        text = f"{figures['right']}/{figures['asked']} ({figures['accuracy']:.1%})"
        return (f"exact answers, {name}", text, "reported")

    rows = [
        ("data", f"TinyTalks, {len(chat.train_pairs)} train pairs", ""),
        (
            "model",
            f"GPT d {settings.d_model}, {settings.layers} blocks, ctx {settings.context}",
            "",
        ),
        ("parameters", f"{chat.parameters:,}", ""),
        ("training", f"AdamW, batch {settings.batch}, {run.done} steps", ""),
        ("training time", f"{run.train_seconds:.1f} s ({run.cpu_seconds:.1f} s CPU)", ""),
        ("unigram baseline", f"{corpus.unigram:.3f}", ""),
        ("bigram baseline", f"{corpus.bigram:.3f}", ""),
        ("characters scored", f"{int(chat.val_windows[2].sum()):,} (all of val)", ""),
        ("val loss (nats/char)", f"{val_loss:.3f}", f"< {target:.3f}"),
        answers_row("val", val),
        answers_row("test", test),
        answers_row("train", train),
        ("answering time", f"{results['seconds']:.1f} s", ""),
    ]
    print_results(title, rows, seconds)
    if val["per_level"]:
        print(f"Per level, val: {per_level_text(val)}; test: {per_level_text(test)}.")
    return {
        "val_loss": val_loss,
        "unigram": corpus.unigram,
        "bigram": corpus.bigram,
        "target": target,
        "steps": run.done,
        "losses": run.losses,
        "val_marks": chat.val_marks,
        "parameters": chat.parameters,
        "train_seconds": run.train_seconds,
        "train_cpu_seconds": run.cpu_seconds,
        "exact": {
            name: {key: results[name][key] for key in ("right", "asked", "accuracy", "per_level")}
            for name in ("val", "test", "train")
        },
        "answers": {name: results[name]["answers"] for name in ("val", "test", "train")},
        "framework": str(framework_folder()),
        "seconds": seconds,
        "target_met": val_loss < target,
    }


def main(argv: list[str] | None = None) -> dict:
    """Run the milestone; return the validation loss, exact answers, times and details."""
    parser = milestone_parser(__doc__.splitlines()[0])
    add_options(parser)
    args = parser.parse_args(argv)
    settings, margin = settings_from(args)
    clock = lm.Clock()
    framework_banner()
    tt = lm.framework()
    tt.enable_autograd()
    print(f"\n{HISTORY}\n")
    chat = ChatRun(tt, settings, args.seed)
    introduce(chat)
    run = chat.training
    print(f"{'step':>11}  {'train loss':>10}  {'val loss':>8}  {'tokens/s':>8}  {'elapsed':>7}")
    while run.done < settings.steps:
        run.step()
        if run.done % settings.eval_every == 0 or run.done == settings.steps:
            loss = chat.val_loss()
            print(
                f"  {run.done:>4}/{settings.steps:<4}  {run.smoothed_loss():10.3f}  {loss:8.3f}"
                f"  {run.tokens_per_second():8,.0f}  {clock.wall():6.0f}s",
                flush=True,
            )
    print()
    title = "2017 transformer: a GPT that answers TinyTalks"
    return report(chat, clock, margin, wants_plot(args), title)


if __name__ == "__main__":
    sys.exit(0 if main()["target_met"] else 1)
