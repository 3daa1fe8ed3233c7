"""The 2017 milestones around the training runs: attention_proof, the shared helpers of
_lm.py, the copilot's documents and padding, the chat model's answers, and the TinyTalks
dashboard (tinytalks.py). The three GPT scripts train for real in test_milestones_gpt.py.

- attention_proof reverses 12 digits with >= 95% exact sequences; its control without
  attention cannot;
- the baselines the scripts compute are the ones datasets/README.md documents;
- padding is never counted in a loss: sequence_loss, the copilot's padded batches and its
  document windows;
- the dashboard runs in tmux as a person would see it (panels, figures, the answers table,
  Ctrl-C keeps the last frame and prints a summary, exit code 130), and prints plain log
  lines when its output is not a terminal;
- tito lists the milestones and finds `tinytalks`; a package without Module 12 or 13 stops
  them with exit code 2 naming it.

enable_autograd() rewires Tensor, the activations and the losses for the whole process; the
`autograd_undone` fixture puts them back after each in-process run (as in
tests/test_milestones_mlp.py).
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
MILESTONES = REPO / "milestones"
sys.path.insert(0, str(MILESTONES))

import common  # noqa: E402

ERA = "05_2017_transformer"
SCRIPTS = {
    "attention_proof": f"{ERA}/attention_proof.py",
    "vaswani_shakespeare": f"{ERA}/vaswani_shakespeare.py",
    "vaswani_chatgpt": f"{ERA}/vaswani_chatgpt.py",
    "vaswani_copilot": f"{ERA}/vaswani_copilot.py",
    "tinytalks": f"{ERA}/tinytalks.py",
}
# datasets/README.md: unigram and bigram baselines on val, nats per character.
BASELINES = {
    "shakespeare": (3.374, 2.569),
    "tinytalks": (3.258, 2.104),
    "pycode": (3.195, 2.519),
}

lm = common.load_script(f"{ERA}/_lm.py")


def framework() -> Path:
    return common.framework_folder()


def run_main(script: str, *args: str) -> dict:
    results = common.load_script(SCRIPTS[script]).main(list(args))
    assert results["framework"] == str(framework())
    return results


def run_script(
    script: str, *args: str, env: dict | None = None, timeout: float = 300
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


@pytest.fixture
def tt(autograd_undone):
    pieces = lm.framework()
    pieces.enable_autograd()
    return pieces


# --------------------------------------------------------------------------------------
# attention_proof.py
# --------------------------------------------------------------------------------------


def test_attention_proof_reverses_sequences_and_the_control_cannot(capsys, autograd_undone):
    results = run_main("attention_proof", "--seed", "1")
    assert results["accuracy"] >= 0.95 and results["target_met"] is True
    assert results["steps"] == 400 and results["history"][-1]["step"] == 400
    assert results["history"][0]["sequences"] < results["accuracy"], "it learns, from ~0"
    assert results["anti_diagonal"] > 0.5, "output i attends to input 11 - i"
    assert results["control_digit_accuracy"] < 0.2, "no attention: about 1 digit in 10"
    assert results["control_accuracy"] == 0.0
    assert results["parameters"] == 10 * 32 + 12 * 32 + 4 * (32 * 32 + 32) + (32 * 10 + 10)
    out = capsys.readouterr().out
    assert table_value(out, "exact sequences") == f"{results['accuracy']:.1%} of 1,000"
    assert "output 11:" in out and "looks at:" in out


def test_attention_proof_as_a_command_and_an_honest_failure():
    started = time.perf_counter()
    result = run_script("attention_proof", "--seed", "2")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert time.perf_counter() - started < 90
    assert f"tinytorch at {framework()}" in result.stdout
    assert result.stdout.isascii(), "piped output should be plain ASCII"
    short = run_script("attention_proof", "--steps", "5")
    assert short.returncode == 1, "5 steps cannot reverse sequences: exit 1"
    assert float(table_value(short.stdout, "exact sequences").split("%")[0]) < 95


# --------------------------------------------------------------------------------------
# _lm.py: baselines, windows, the masked loss
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_baselines_are_the_documented_ones(name, tt):
    corpus = lm.load_text(tt, name)
    unigram, bigram = BASELINES[name]
    assert round(corpus.unigram, 3) == unigram and round(corpus.bigram, 3) == bigram
    assert corpus.vocab_size == 4 + len(lm.VOCABULARIES[name])
    assert corpus.tokenizer.stoi[lm.PAD] == 0
    assert corpus.tokenizer.unk_id not in set(corpus.train) | set(corpus.val), "no <unk>"


def test_eval_windows_score_every_character_once():
    ids = np.arange(1, 12)  # 11 ids: 10 predictions
    inputs, targets, keep = lm.eval_windows(ids, context=4, pad_id=0)
    assert inputs.shape == targets.shape == keep.shape == (3, 4)
    assert keep.sum() == 10
    assert targets[keep].tolist() == list(range(2, 12))
    assert inputs[keep].tolist() == list(range(1, 11))
    assert (targets[~keep] == 0).all() and (inputs[~keep] == 0).all()


def test_sequence_loss_never_counts_padding(tt):
    rng = np.random.default_rng(0)
    B, T, V = 3, 5, 7
    values = rng.standard_normal((B, T, V)).astype(np.float32)
    targets = rng.integers(1, V, size=(B, T))
    keep = np.ones((B, T), dtype=bool)
    keep[0, 3:] = keep[2, 1:] = False  # padded ends
    targets[~keep] = 0

    def loss_and_grad(logit_values, target_values):
        logits = tt.Tensor(logit_values, requires_grad=True)
        loss, count = lm.sequence_loss(tt, logits, target_values, keep)
        loss.backward()
        return loss.item(), count, logits.grad

    loss, count, grad = loss_and_grad(values, targets)
    assert count == keep.sum() == 9
    kept = values[keep]  # (9, V)
    log_probs = kept - np.log(np.exp(kept).sum(axis=1, keepdims=True))
    expected = -log_probs[np.arange(9), targets[keep]].mean()
    assert loss == pytest.approx(expected, rel=1e-5), "the mean over real positions only"
    assert np.all(grad[~keep] == 0), "padded positions get no gradient"
    assert np.abs(grad[keep]).sum() > 0
    # Whatever the logits and the targets at the padded positions, nothing changes.
    noisy, other_targets = values.copy(), targets.copy()
    noisy[~keep] = 100 * rng.standard_normal(noisy[~keep].shape)
    other_targets[~keep] = rng.integers(0, V, size=(~keep).sum())
    loss2, _, grad2 = loss_and_grad(noisy, other_targets)
    assert loss2 == loss and np.array_equal(grad2[keep], grad[keep])


def test_a_gpt_loss_ignores_what_follows_the_padding(tt):
    """End to end: the padded batch of a GPT scores like its real parts, one row at a time."""
    model = tt.GPT(12, 16, 1, 2, 8, rng=0)
    rows = np.array([[5, 6, 7, 8, 9, 10, 11, 5, 6], [4, 5, 6, 7, 0, 0, 0, 0, 0]])
    keep = np.ones((2, 8), dtype=bool)
    keep[1, 3:] = False  # row 1 has 4 real ids: 3 real targets
    with tt.no_grad():
        loss, count = lm.sequence_loss(tt, model(rows[:, :-1]), rows[:, 1:], keep)
        first, _ = lm.sequence_loss(tt, model(rows[:1, :-1]), rows[:1, 1:])
        second, _ = lm.sequence_loss(tt, model(rows[1:, :3]), rows[1:, 1:4])
    assert count == 11
    assert loss.item() == pytest.approx((8 * first.item() + 3 * second.item()) / 11, rel=1e-5)


# --------------------------------------------------------------------------------------
# vaswani_copilot.py: documents, padding, held-out headers
# --------------------------------------------------------------------------------------


@pytest.fixture
def copilot():
    return common.load_script(SCRIPTS["vaswani_copilot"])


def test_copilot_batches_stay_in_one_module_and_mask_the_padding(tt, copilot):
    corpus = lm.load_text(tt, "pycode")
    docs = copilot.split_documents(corpus.train_text, corpus.tokenizer)
    assert len(docs) == 27 and docs[0].path == "argparse.py"
    assert "".join(d.text for d in docs) == corpus.train_text
    short = [
        copilot.Document("a.py", "", np.arange(5, 25)),
        copilot.Document("b.py", "", np.arange(30, 33)),
    ]
    rng = np.random.default_rng(0)
    padded_rows = 0
    for _ in range(30):
        inputs, targets, keep = copilot.padded_windows(short, 8, 16, 0, rng)
        assert inputs.shape == targets.shape == keep.shape == (8, 16)
        assert (targets[~keep] == 0).all(), "past a module's end: <pad>"
        padded_rows += (~keep).any(axis=1).sum()
        for x, y, k in zip(inputs, targets, keep, strict=True):
            real = np.append(x[:1], y[k])  # the real ids of the window, in order
            assert np.all(np.diff(real) == 1), "one contiguous piece of one module"
            assert k[0] and np.all(k[: k.sum()]), "real targets first, then padding"
            assert np.all(x[1 : k.sum()] == y[: k.sum() - 1])
    assert padded_rows > 0


def test_copilot_validation_scores_every_character_of_every_module_once(tt, copilot):
    corpus = lm.load_text(tt, "pycode")
    docs = copilot.split_documents(corpus.val_text, corpus.tokenizer)
    assert [d.path for d in docs][:2] == ["calendar.py", "json/__init__.py"]
    inputs, targets, keep = copilot.document_windows(docs, 128, 0)
    assert keep.sum() == sum(len(d.ids) - 1 for d in docs)
    assert np.array_equal(targets[keep], np.concatenate([d.ids[1:] for d in docs]))
    assert (targets[~keep] == 0).all()


def test_copilot_held_out_headers_and_indented_bodies(tt, copilot):
    corpus = lm.load_text(tt, "pycode")
    docs = copilot.split_documents(corpus.val_text, corpus.tokenizer)
    headers = copilot.held_out_headers(docs, 5)
    assert len(headers) == 5
    for path, before, header in headers:
        assert before.endswith(header + "\n") and header.lstrip().startswith("def ")
        assert path in corpus.val_text and header in corpus.val_text
        assert header not in corpus.train_text.splitlines(), f"held out: {header}"
    assert copilot.indented_body("def f(x):", "\n    return x\n")
    assert copilot.indented_body("    def f(self):", '        """Doc."""')
    assert not copilot.indented_body("    def f(self):", "    def g(self):")
    assert not copilot.indented_body("def f(x):", "   \n\n")


def test_chatgpt_answers_are_measured_from_the_model(tt):
    chat_module = common.load_script(SCRIPTS["vaswani_chatgpt"])
    settings = dataclasses.replace(chat_module.QUICK, steps=1)
    chat = chat_module.ChatRun(tt, settings, seed=0)
    pairs = chat.val_pairs[:4]
    answers = chat.answers(pairs)
    # Whatever an untrained model writes, cut at its first newline; scored by exact match.
    assert len(answers) == 4 and all("\n" not in a for a in answers)
    figures = chat_module.score(pairs, [p.answer for p in pairs])
    assert figures["right"] == 4 and figures["accuracy"] == 1.0
    figures = chat_module.score(pairs, ["", *[p.answer for p in pairs[1:]]])
    assert figures["right"] == 3, "an empty answer is wrong"
    assert chat_module.score(pairs, [p.answer + " " for p in pairs])["right"] == 0


# --------------------------------------------------------------------------------------
# The TinyTalks dashboard
# --------------------------------------------------------------------------------------


def test_dashboard_prints_plain_log_lines_when_not_a_terminal():
    result = run_script("tinytalks", "--steps", "40", "--eval-every", "20", "--prompts", "3")
    assert result.returncode == 1, "40 steps do not reach the target: exit 1"
    out = result.stdout
    assert "\x1b[" not in out, "no terminal control codes in a pipe"
    lines = re.findall(
        r"^step (\d+)/40  train loss [\d.]+  val loss ([\d.]+)  ([\d,]+) tokens/s  "
        r"(\d+) ms/step  memory (\d+) MB  elapsed \d+:\d\d  ETA \d+:\d\d$",
        out,
        re.M,
    )
    assert [int(line[0]) for line in lines] == [20, 40]
    assert out.count("    Q: ") == 2 * 3
    assert table_value(out, "training") == "AdamW, batch 16, 40 steps"
    assert table_value(out, "val loss (nats/char)") == lines[-1][1]


def test_dashboard_ctrl_c_in_a_pipe_prints_a_summary():
    process = subprocess.Popen(
        [
            sys.executable,
            str(MILESTONES / SCRIPTS["tinytalks"]),
            "--steps",
            "2000",
            "--eval-every",
            "5",
            "--prompts",
            "2",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell's background job starts with SIGINT ignored, and Python keeps it so:
        # give the script the default, as a terminal would.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        for line in process.stdout:
            if line.startswith("step 5/2000"):
                break
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "stopped by Ctrl-C" in out and "Stopped after" in out
    assert "The target was not judged" in out
    assert "Traceback" not in err


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def wait_for_pane(session: str, pattern: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        pane = tmux("capture-pane", "-p", "-S", "-200", "-t", session)
        if re.search(pattern, pane):
            return pane
        if time.monotonic() > deadline:
            raise AssertionError(f"{pattern!r} not on screen after {timeout} s:\n{pane}")
        time.sleep(0.5)


def test_dashboard_live_in_tmux_and_ctrl_c(tmp_path):
    """As a person sees it: `tito milestone tinytalks` in a 120x45 terminal (tmux), the
    panels and their figures, then Ctrl-C: the last frame stays, a summary follows."""
    assert shutil.which("tmux"), "tmux is missing: `make setup` installs it"
    session = f"tinytalks-test-{os.getpid()}"
    status = tmp_path / "exit-code"
    # A detached pane may start at 80x24 before taking the size asked for, and a shell that
    # sees it then exports COLUMNS=80, which rich obeys: forget it, then run.
    command = (
        f"unset COLUMNS LINES; sleep 1; cd {tmp_path} && TINYTORCH_HOME={REPO} "
        f"{sys.executable} -m tito milestone tinytalks "
        f"-- --steps 2000 --eval-every 10 --prompts 4; echo $? > {status}; sleep 120"
    )
    tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "45", command)
    try:
        pane = wait_for_pane(session, r"Answers at step 10 \(\d/4 right\)", 120)
        assert "Milestone tinytalks (05_2017_transformer/tinytalks.py)" in pane
        for panel in ("TinyTalks live", "Loss (nats/char)", "System", "Progress"):
            assert panel in pane, f"no {panel!r} panel:\n{pane}"
        for figure in (
            "tokens/s",
            "ms per step",
            "memory (RSS)",
            "parameters",
            "ETA",
            "held-out question",
            "model says",
            "expected",
            "bigram baseline",
        ):
            assert figure in pane, f"no {figure!r}:\n{pane}"
        assert "116,608" in pane, "the parameter count"
        assert re.search(r"step \d+/2,000", pane)
        assert re.search(r"(right|wrong)", pane), "each answer is marked"
        assert "Traceback" not in pane
        tmux("send-keys", "-t", session, "C-c")
        pane = wait_for_pane(session, r"stopped by Ctrl-C before its result could be judged", 60)
        assert "stopped by Ctrl-C" in pane, "the last frame stays on the screen"
        assert re.search(r"Stopped after \d+ of 2,000 steps", pane)
        assert "The target was not judged" in pane
        assert "Loss (nats/char)" in pane and "Answers at step" in pane
        assert "Traceback" not in pane
        deadline = time.monotonic() + 10
        while not status.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert status.read_text().strip() == "130"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def test_dashboard_eta_and_prompts(tt):
    dashboard = common.load_script(SCRIPTS["tinytalks"])
    chat_module = common.load_script(SCRIPTS["vaswani_chatgpt"])
    settings = dataclasses.replace(chat_module.QUICK, steps=20)
    chat = chat_module.ChatRun(tt, settings, seed=0)
    prompts = dashboard.pick_prompts(chat.val_pairs, 8)
    assert [p.level for p in prompts] == [1, 2, 3, 4, 1, 2, 3, 4]
    assert all(p in chat.val_pairs for p in prompts), "held-out questions only"
    monitor = dashboard.Monitor(chat, prompts[:2], eval_every=10)
    for _ in range(4):
        chat.training.step()
    figures = monitor.figures()
    assert figures["step"] == 4 and figures["parameters"] == 116_608
    assert figures["eta"] == pytest.approx(16 * figures["ms_per_step"] / 1000, rel=1e-6)
    assert figures["memory_mb"] > 10 and figures["tokens_per_second"] > 0
    monitor.evaluate()  # at step 4: evaluations left at steps 10 and 20, at its measured cost
    assert monitor.answered_at == 4 and len(monitor.answers) == 2
    assert chat.val_marks[-1][0] == 4
    expected = 16 * chat.training.ms_per_step() / 1000 + 2 * monitor.eval_seconds
    assert monitor.eta() == pytest.approx(expected, rel=1e-6)
    assert dashboard.duration(125.4) == "2:05"


# --------------------------------------------------------------------------------------
# tito and missing modules
# --------------------------------------------------------------------------------------


def test_tito_lists_the_2017_milestones():
    from tito import milestones

    found = {m.name: m for m in milestones.discover(MILESTONES)}
    for name in (
        "attention-proof",
        "vaswani-shakespeare",
        "vaswani-chatgpt",
        "vaswani-copilot",
        "tinytalks",
    ):
        assert name in found, sorted(found)
    assert not [m for m in found.values() if m.script.name.startswith("_")], "_lm.py is a helper"
    assert milestones.find("tinytalks", MILESTONES).script.name == "tinytalks.py"
    needs = {r.package: r.number for r in found["tinytalks"].requires}
    assert (
        needs["tinytorch.models.transformer"] == 13 and needs["tinytorch.text.tokenization"] == 10
    )
    proof = {r.package: r.number for r in found["attention-proof"].requires}
    assert proof["tinytorch.core.attention"] == 12 and "tinytorch.models.transformer" not in proof


@pytest.mark.parametrize(
    ("script", "removed", "module"),
    [
        ("attention_proof", "core/attention.py", "Module 12 (tinytorch.core.attention)"),
        (
            "vaswani_shakespeare",
            "models/transformer.py",
            "Module 13 (tinytorch.models.transformer)",
        ),
        ("tinytalks", "models/transformer.py", "Module 13 (tinytorch.models.transformer)"),
    ],
)
def test_a_missing_module_exits_2_naming_it(script, removed, module, tmp_path):
    package = tmp_path / "tinytorch"
    shutil.copytree(framework(), package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / removed).unlink()
    result = run_script(script, env={"PYTHONPATH": str(tmp_path)}, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"tinytorch at {package} (your own package)" in result.stdout
    assert f"this milestone needs {module}; export it first" in result.stderr
    assert "Traceback" not in result.stderr
