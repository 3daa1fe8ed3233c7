"""TinyTalks dashboard: watch your GPT learn to answer questions, live in the terminal.

Trains the chat model of vaswani_chatgpt.py (same data, model, settings and target) and
shows the run as it happens, with rich: the loss curve (training loss, validation loss at
each evaluation, the bigram baseline), the system figures (tokens per second, milliseconds
per step, memory of this process, parameters, CPU time), a progress bar with the time left,
and a table of held-out questions with the model's current answers, refreshed at every
evaluation. Every figure is measured on this run. Ctrl-C stops the training: the last state
stays on the screen and a summary follows (exit code 130). When the output is not a
terminal (a pipe, a log file, CI) or with --plain, it prints plain log lines instead. When
training finishes, it measures every exact answer and prints vaswani_chatgpt.py's table.

Run from the repository root (or `tito milestone tinytalks`):
    python milestones/05_2017_transformer/tinytalks.py [--seed N] [--steps N] [--quick]
        [--eval-every N] [--prompts N] [--plain]
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from pathlib import Path

if __name__ == "__main__":
    # Small matrices: one BLAS thread is faster and steadier on a busy machine (see
    # milestones/README.md). Only as a command, before NumPy starts, unless already set.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

MILESTONES = Path(__file__).resolve().parents[1]
if str(MILESTONES) not in sys.path:
    sys.path.insert(0, str(MILESTONES))  # so that `import common` works from any folder

from common import framework_banner, load_script, milestone_parser, say  # noqa: E402

lm = load_script("05_2017_transformer/_lm.py")
chatgpt = load_script("05_2017_transformer/vaswani_chatgpt.py")

INTERRUPTED = 130  # exit code after Ctrl-C (128 + SIGINT), as shells report it
EVAL_EVERY = 50  # steps between evaluations (validation loss, answers in the table)
PROMPTS = 8  # held-out questions in the table: the first two of each level in val
REFRESH = 0.25  # seconds between redraws of the dashboard
CHART_WIDTH = 56


def pick_prompts(pairs: list, count: int) -> list:
    """`count` held-out pairs, spread over the levels: the first of each level in turn."""
    by_level: dict = {}
    for pair in pairs:
        by_level.setdefault(pair.level, []).append(pair)
    chosen: list = []
    while len(chosen) < min(count, len(pairs)):
        for level in sorted(by_level, key=lambda x: (x is None, x)):
            if by_level[level] and len(chosen) < count:
                chosen.append(by_level[level].pop(0))
    return chosen


def duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


class Monitor:
    """What the dashboard and the log lines show, all measured on the run."""

    def __init__(self, chat, prompts: list, eval_every: int):
        self.chat, self.prompts, self.eval_every = chat, prompts, eval_every
        self.answers: list[str] = []
        self.answered_at = 0  # the step of the answers shown
        self.eval_seconds = 0.0
        self.clock = lm.Clock()

    @property
    def run(self):
        return self.chat.training

    def evaluate(self) -> None:
        started = time.perf_counter()
        self.chat.val_loss()
        self.answers = self.chat.answers(self.prompts)
        self.answered_at = self.run.done
        self.eval_seconds += time.perf_counter() - started

    @property
    def right(self) -> int:
        return sum(a == p.answer for a, p in zip(self.answers, self.prompts, strict=False))

    def eta(self) -> float:
        """Seconds left: the remaining steps at the recent median step time, plus the
        remaining evaluations at their mean measured cost."""
        run, total = self.run, self.chat.settings.steps
        left = total - run.done
        evaluations = len(self.chat.val_marks)
        per_eval = self.eval_seconds / evaluations if evaluations else 0.0
        every = self.eval_every  # evaluations come at its multiples and at the last step
        evals_left = total // every - run.done // every + (1 if left and total % every else 0)
        return left * run.ms_per_step() / 1000 + evals_left * per_eval

    def figures(self) -> dict:
        run = self.run
        current, peak = lm.memory_mb()
        return {
            "step": run.done,
            "steps": self.chat.settings.steps,
            "train_loss": run.smoothed_loss() if run.losses else float("nan"),
            "val_loss": self.chat.val_marks[-1][1] if self.chat.val_marks else float("nan"),
            "tokens_per_second": run.tokens_per_second(),
            "ms_per_step": run.ms_per_step(),
            "memory_mb": current,
            "peak_memory_mb": peak,
            "parameters": self.chat.parameters,
            "elapsed": self.clock.wall(),
            "cpu": self.clock.cpu(),
            "eta": self.eta(),
        }

    def log_line(self) -> str:
        f = self.figures()
        return (
            f"step {f['step']}/{f['steps']}  train loss {f['train_loss']:.3f}  val loss "
            f"{f['val_loss']:.3f}  {f['tokens_per_second']:,.0f} tokens/s  "
            f"{f['ms_per_step']:.0f} ms/step  memory {f['memory_mb']:.0f} MB  "
            f"elapsed {duration(f['elapsed'])}  ETA {duration(f['eta'])}"
        )


# --------------------------------------------------------------------------------------
# The rich dashboard
# --------------------------------------------------------------------------------------


def render(monitor: Monitor, status: str):
    """The whole dashboard as one rich renderable."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.progress_bar import ProgressBar
    from rich.table import Table
    from rich.text import Text

    chat, f = monitor.chat, monitor.figures()
    corpus, settings = chat.corpus, chat.settings
    header = Text.assemble(
        ("TinyTalks live: ", "bold"),
        f"a GPT of {f['parameters']:,} parameters learns to answer questions on your tinytorch. ",
        (status, "bold cyan"),
    )
    chart = lm.loss_chart(
        chat.training.losses, width=CHART_WIDTH, marks=chat.val_marks, baseline=corpus.bigram
    )
    legend = (
        f"* train loss   o val loss ({f['val_loss']:.3f})   - bigram baseline ({corpus.bigram:.3f})"
    )
    loss_panel = Panel(Group(Text(chart), Text(legend, style="dim")), title="Loss (nats/char)")

    system = Table.grid(padding=(0, 2))
    system.add_column(style="bold")
    system.add_column(justify="right")
    system.add_row("tokens/s", f"{f['tokens_per_second']:,.0f}")
    system.add_row("ms per step", f"{f['ms_per_step']:.1f}")
    system.add_row("memory (RSS)", f"{f['memory_mb']:.0f} MB")
    system.add_row("peak memory", f"{f['peak_memory_mb']:.0f} MB")
    system.add_row("parameters", f"{f['parameters']:,}")
    system.add_row("train loss", f"{f['train_loss']:.3f}")
    system.add_row("val loss", f"{f['val_loss']:.3f}")
    system.add_row("CPU time", duration(f["cpu"]))
    system.add_row("batch x context", f"{settings.batch} x {settings.context}")
    system_panel = Panel(system, title="System")

    bar = Table.grid(padding=(0, 2), expand=True)
    bar.add_column(ratio=1)
    bar.add_column(justify="right")
    bar.add_row(
        ProgressBar(total=f["steps"], completed=f["step"]),
        f"step {f['step']:,}/{f['steps']:,}  elapsed {duration(f['elapsed'])}  "
        f"ETA {duration(f['eta'])}",
    )
    progress_panel = Panel(bar, title="Progress")

    answers = Table(expand=True, show_edge=False)
    for name, ratio in (("held-out question", 5), ("model says", 3), ("expected", 3)):
        answers.add_column(name, ratio=ratio, no_wrap=True, overflow="ellipsis")
    answers.add_column("", width=5, no_wrap=True)
    for index, pair in enumerate(monitor.prompts):
        said = monitor.answers[index] if index < len(monitor.answers) else "..."
        if index < len(monitor.answers):
            ok = said == pair.answer
            mark = Text("right", style="green") if ok else Text("wrong", style="red")
        else:
            mark = Text("")
        answers.add_row(pair.question, said or "(nothing)", pair.answer, mark)
    title = (
        f"Answers at step {monitor.answered_at} ({monitor.right}/{len(monitor.prompts)} right)"
        if monitor.answers
        else "Answers (at the first evaluation)"
    )
    answers_panel = Panel(answers, title=title)

    middle = Table.grid(expand=True)
    middle.add_column(ratio=3)
    middle.add_column(ratio=2)
    middle.add_row(loss_panel, system_panel)
    footer = Text("Ctrl-C stops training and prints a summary.", style="dim")
    return Group(Panel(header), middle, progress_panel, answers_panel, footer)


def train_live(monitor: Monitor) -> bool:
    """Train with the rich dashboard; True when every step ran, False after Ctrl-C."""
    from rich.console import Console
    from rich.live import Live

    console = Console()
    run, settings = monitor.run, monitor.chat.settings
    with Live(
        render(monitor, "starting"),
        console=console,
        auto_refresh=False,
        vertical_overflow="visible",
        transient=False,
    ) as live:
        drawn = 0.0
        try:
            while run.done < settings.steps:
                run.step()
                if run.done % monitor.eval_every == 0 or run.done == settings.steps:
                    live.update(render(monitor, "evaluating"), refresh=True)
                    monitor.evaluate()
                    drawn = 0.0
                if time.perf_counter() - drawn >= REFRESH:
                    live.update(render(monitor, "training"), refresh=True)
                    drawn = time.perf_counter()
        except KeyboardInterrupt:
            live.update(render(monitor, "stopped by Ctrl-C"), refresh=True)
            return False
        live.update(render(monitor, "finished"), refresh=True)
    return True


def train_plain(monitor: Monitor) -> bool:
    """Train with plain log lines; True when every step ran, False after Ctrl-C."""
    run, settings = monitor.run, monitor.chat.settings
    try:
        while run.done < settings.steps:
            run.step()
            if run.done % monitor.eval_every == 0 or run.done == settings.steps:
                monitor.evaluate()
                print(monitor.log_line(), flush=True)
                for pair, said in zip(monitor.prompts, monitor.answers, strict=True):
                    mark = "right" if said == pair.answer else "wrong"
                    print(
                        f"    Q: {pair.question}  ->  {said!r}  ({mark}; expected {pair.answer!r})"
                    )
    except KeyboardInterrupt:
        print("\nstopped by Ctrl-C", flush=True)
        return False
    return True


def summary_after_interrupt(monitor: Monitor) -> dict:
    """What the run reached before Ctrl-C, from the last measurements (nothing new is run)."""
    f = monitor.figures()
    chat = monitor.chat
    val = (
        f"{f['val_loss']:.3f} (at step {chat.val_marks[-1][0]})"
        if chat.val_marks
        else "not measured yet"
    )
    print()
    say(
        f"Stopped after {f['step']:,} of {f['steps']:,} steps ({duration(f['elapsed'])} "
        f"elapsed, {duration(f['cpu'])} of CPU). Training loss {f['train_loss']:.3f} (mean of "
        f"the last 50 steps); validation loss {val}; bigram baseline "
        f"{chat.corpus.bigram:.3f}. Held-out answers at step {monitor.answered_at}: "
        f"{monitor.right} of {len(monitor.prompts)} right. Last speed "
        f"{f['tokens_per_second']:,.0f} tokens/s, {f['ms_per_step']:.0f} ms per step, "
        f"memory {f['memory_mb']:.0f} MB. The target was not judged: run it to the end."
    )
    return {**f, "interrupted": True, "target_met": False, "answered_at": monitor.answered_at}


def main(argv: list[str] | None = None) -> dict:
    parser = milestone_parser(__doc__.splitlines()[0])
    chatgpt.add_options(parser)
    parser.add_argument(
        "--eval-every",
        type=int,
        default=EVAL_EVERY,
        help=f"steps between evaluations ({EVAL_EVERY})",
    )
    parser.add_argument(
        "--prompts", type=int, default=PROMPTS, help=f"held-out questions in the table ({PROMPTS})"
    )
    parser.add_argument("--plain", action="store_true", help="plain log lines even in a terminal")
    args = parser.parse_args(argv)
    settings, margin = chatgpt.settings_from(args)
    eval_every = max(1, args.eval_every)
    settings = replace(settings, eval_every=eval_every)
    live = sys.stdout.isatty() and not args.plain
    framework_banner()
    tt = lm.framework()
    tt.enable_autograd()
    chat = chatgpt.ChatRun(tt, settings, args.seed)
    prompts = pick_prompts(chat.val_pairs, max(1, args.prompts))
    monitor = Monitor(chat, prompts, eval_every)
    if not live:
        print()
        chatgpt.introduce(chat)
        print(f"Evaluating every {eval_every} steps; held-out questions shown: {len(prompts)}.")
    completed = train_live(monitor) if live else train_plain(monitor)
    if not completed:
        return summary_after_interrupt(monitor)
    print()
    try:
        results = chatgpt.report(
            chat, monitor.clock, margin, plot=False, title="TinyTalks dashboard: the finished run"
        )
    except KeyboardInterrupt:  # while every answer was being measured
        print("\nstopped by Ctrl-C", flush=True)
        return summary_after_interrupt(monitor)
    return {**results, "interrupted": False, "answered_at": monitor.answered_at}


if __name__ == "__main__":
    outcome = main()
    sys.exit(INTERRUPTED if outcome["interrupted"] else 0 if outcome["target_met"] else 1)
