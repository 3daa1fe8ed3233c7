"""`python -m coursekit.bench.training`: one training step of the digits MLP, three ways.

The model of milestones/03_1986_mlp/mlp_digits.py, Linear(64, 128), ReLU, Linear(128, 10),
with cross-entropy and SGD (lr 0.1, momentum 0.9), trained on one fixed batch of 64 rows.
One step is forward, loss, backward and the optimizer's update, timed for:

- tinytorch: the package Python imports (the reference package in this repository, or a
  student's), with Module 05's autograd switched on;
- numpy by hand: the same arithmetic written out, explicit matrix products and gradients;
- PyTorch on the CPU, when `import torch` works (it is not a course dependency).

All three start from the same weights and see the same batch; their losses over the first
steps are compared before anything is timed, so the table compares the same computation.
Each step is timed on its own after a warm-up; the table shows the median in milliseconds,
the spread between the 10th and 90th percentile, and each median divided by PyTorch's.

By default NumPy's BLAS and PyTorch each use one thread (--threads): at these sizes (a
64 x 128 hidden layer) threads cost more than they save, and on a busy machine they make
the timings jump. The BLAS thread count can only be set before NumPy starts, so it takes
effect when this module runs as a command.

    python -m coursekit.bench.training [--repeats 500] [--warmup 50] [--threads 1]
                                       [--batch 64] [--hidden 128]

--batch and --hidden change the sizes, to see where a framework's fixed cost per
operation stops mattering.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from types import ModuleType

from .timing import (
    Unavailable,
    import_torch,
    limit_threads,
    summary,
    time_calls,
    tinytorch_folder,
    whose_tinytorch,
)

INPUTS, HIDDEN, CLASSES = 64, 128, 10  # the sizes of mlp_digits.py's MLP
BATCH = 64
LEARNING_RATE, MOMENTUM = 0.1, 0.9
CHECK_STEPS = 5  # steps whose losses must agree between the implementations

Step = Callable[[], float]  # one training step; returns the loss before the update


def initial_weights(seed: int, batch: int = BATCH, hidden: int = HIDDEN) -> dict:
    """float32 weights (in, out) and biases, PyTorch's default init, and one batch of data."""
    import numpy as np

    rng = np.random.default_rng(seed)

    def uniform(fan_in: int, shape: tuple) -> np.ndarray:
        bound = 1 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape).astype(np.float32)

    return {
        "w1": uniform(INPUTS, (INPUTS, hidden)),
        "b1": uniform(INPUTS, (hidden,)),
        "w2": uniform(hidden, (hidden, CLASSES)),
        "b2": uniform(hidden, (CLASSES,)),
        "x": rng.random((batch, INPUTS), dtype=np.float32),  # like the digits: pixels in [0, 1]
        "y": rng.integers(0, CLASSES, batch),
    }


# --------------------------------------------------------------------------------------
# The three implementations: each returns a function doing one step
# --------------------------------------------------------------------------------------


TINYTORCH_MODULES = (  # what the tinytorch step needs, in course order
    ("tensor", "Module 01"),
    ("activations", "Module 02"),
    ("layers", "Module 03"),
    ("losses", "Module 04"),
    ("autograd", "Module 05"),
    ("optimizers", "Module 06"),
)


def import_tinytorch() -> dict[str, ModuleType]:
    """tinytorch.core's modules by short name; Unavailable naming the first one missing."""
    modules = {}
    for short, course_module in TINYTORCH_MODULES:
        name = f"tinytorch.core.{short}"
        try:
            modules[short] = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name and (name == error.name or name.startswith(error.name + ".")):
                raise Unavailable(f"needs {course_module} ({name}): export it") from error
            raise
    return modules


def tinytorch_step(start: dict) -> tuple[Step, str]:
    """One step of tinytorch's Sequential(Linear, ReLU, Linear), CrossEntropyLoss and SGD."""
    tt = import_tinytorch()
    tt["autograd"].enable_autograd()
    layers = tt["layers"]
    inputs, hidden = start["w1"].shape
    model = layers.Sequential(
        layers.Linear(inputs, hidden), tt["activations"].ReLU(), layers.Linear(hidden, CLASSES)
    )
    first, second = model.layers[0], model.layers[2]
    for parameter, key in ((first.weight, "w1"), (first.bias, "b1")):
        parameter.data = start[key].copy()
    for parameter, key in ((second.weight, "w2"), (second.bias, "b2")):
        parameter.data = start[key].copy()
    optimizer = tt["optimizers"].SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    loss_fn = tt["losses"].CrossEntropyLoss()
    Tensor = tt["tensor"].Tensor
    x, y = Tensor(start["x"]), Tensor(start["y"])

    def step() -> float:
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step, whose_tinytorch()


def numpy_step(start: dict) -> tuple[Step, str]:
    """The same step with NumPy alone: forward, gradients by hand, SGD with momentum."""
    import numpy as np

    w1, b1, w2, b2 = (start[key].copy() for key in ("w1", "b1", "w2", "b2"))
    params = [w1, b1, w2, b2]
    buffers = [np.zeros_like(p) for p in params]  # momentum * 0 + g = g: PyTorch's first step
    x, y = start["x"], start["y"]
    rows = np.arange(len(x))

    def step() -> float:
        pre = x @ w1 + b1  # (B, H)
        hidden = np.maximum(pre, 0)  # (B, H)
        logits = hidden @ w2 + b2  # (B, C)
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_probs[rows, y].mean()
        d_logits = np.exp(log_probs)  # softmax - one_hot, over the batch size
        d_logits[rows, y] -= 1
        d_logits /= len(x)
        d_hidden = (d_logits @ w2.T) * (pre > 0)  # (B, H)
        grads = [x.T @ d_hidden, d_hidden.sum(axis=0), hidden.T @ d_logits, d_logits.sum(axis=0)]
        for p, g, b in zip(params, grads, buffers, strict=True):
            b *= MOMENTUM
            b += g
            p -= LEARNING_RATE * b
        return float(loss)

    return step, f"numpy {np.__version__}"


def torch_step(start: dict, threads: int) -> tuple[Step, str]:
    """The same step in PyTorch on the CPU (nn.Sequential, F.cross_entropy, optim.SGD)."""
    torch = import_torch(threads)
    inputs, hidden = start["w1"].shape
    model = torch.nn.Sequential(
        torch.nn.Linear(inputs, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, CLASSES)
    )
    with torch.no_grad():  # nn.Linear keeps weight as (out, in): transpose ours
        model[0].weight.copy_(torch.from_numpy(start["w1"].T.copy()))
        model[0].bias.copy_(torch.from_numpy(start["b1"]))
        model[2].weight.copy_(torch.from_numpy(start["w2"].T.copy()))
        model[2].bias.copy_(torch.from_numpy(start["b2"]))
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    x, y = torch.from_numpy(start["x"]), torch.from_numpy(start["y"])

    def step() -> float:
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step, f"torch {torch.__version__}"


# --------------------------------------------------------------------------------------
# Timing and report
# --------------------------------------------------------------------------------------


def run(
    repeats: int,
    warmup: int,
    threads: int,
    seed: int = 0,
    batch: int = BATCH,
    hidden: int = HIDDEN,
) -> dict:
    """Build the three steps, check that they agree, time them; one dict per row.

    A row has "name", "what" (version or reason), "losses" (of the check steps) and, when
    it ran, "median_ms", "p10_ms", "p90_ms"; a row that could not run has "unavailable".
    """

    start = initial_weights(seed, batch, hidden)
    builders = {
        "tinytorch": lambda: tinytorch_step(start),
        "numpy by hand": lambda: numpy_step(start),
        "PyTorch (CPU)": lambda: torch_step(start, threads),
    }
    rows = []
    for name, build in builders.items():
        try:
            step, what = build()
        except Unavailable as reason:
            rows.append({"name": name, "unavailable": str(reason)})
            continue
        losses = [step() for _ in range(CHECK_STEPS)]
        timed = summary(time_calls(step, warmup, repeats))
        rows.append({"name": name, "what": what, "losses": losses, **timed})
    return {"rows": rows, "agree": losses_agree(rows), "batch": batch, "hidden": hidden}


def losses_agree(rows: list[dict]) -> bool:
    """Whether every implementation that ran saw the same losses over the check steps."""
    import numpy as np

    ran = [row["losses"] for row in rows if "losses" in row]
    return all(np.allclose(losses, ran[0], rtol=1e-4, atol=1e-5) for losses in ran)


def report(results: dict, repeats: int, warmup: int, threads: str) -> None:
    """Print the table: median ms per step, spread, ratio to PyTorch, what ran."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, markup=False)
    if not console.is_terminal:  # piped: wide enough that no row wraps
        console = Console(highlight=False, markup=False, width=110)
    rows = results["rows"]
    torch_row = next(
        (r for r in rows if r["name"].startswith("PyTorch") and "median_ms" in r), None
    )
    table = Table(
        title=(
            f"One training step of the {INPUTS}-{results['hidden']}-{CLASSES} MLP, "
            f"batch {results['batch']}: forward, backward, SGD"
        ),
        box=box.ROUNDED if console.is_terminal else box.ASCII,
    )
    for column, justify in (
        ("implementation", "left"),
        ("ms/step", "right"),
        ("p10-p90 ms", "right"),
        ("vs PyTorch", "right"),
        ("what ran", "left"),
    ):
        table.add_column(column, justify=justify)
    for row in rows:
        if "unavailable" in row:
            table.add_row(row["name"], "-", "-", "-", row["unavailable"])
            continue
        ratio = f"{row['median_ms'] / torch_row['median_ms']:.1f}x" if torch_row else "n/a"
        table.add_row(
            row["name"],
            f"{row['median_ms']:.3f}",
            f"{row['p10_ms']:.3f}-{row['p90_ms']:.3f}",
            ratio,
            row["what"],
        )
    console.print(table)
    if tinytorch_folder() is not None:
        console.print(f"tinytorch: {tinytorch_folder()}")
    console.print(
        f"Median of {repeats} steps after {warmup} warm-up steps; threads: {threads}.\n"
        "vs PyTorch: the median divided by PyTorch's (above 1.0x: slower than PyTorch).\n"
        f"Losses over the first {CHECK_STEPS} steps "
        + (
            "agree: all ran the same computation."
            if results["agree"]
            else "DIFFER: the implementations do not compute the same thing."
        )
    )


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when every installed implementation ran and agreed; 1 when the losses differ;
    2 when tinytorch itself could not run."""
    parser = argparse.ArgumentParser(prog="bench_training", description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=500, help="timed steps (default 500)")
    parser.add_argument("--warmup", type=int, default=50, help="untimed steps first (default 50)")
    parser.add_argument(
        "--threads", type=int, default=1, help="BLAS and PyTorch threads; 0: library defaults"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the batch")
    parser.add_argument(
        "--batch", type=int, default=BATCH, help=f"rows per batch (default {BATCH}, as mlp_digits)"
    )
    parser.add_argument(
        "--hidden", type=int, default=HIDDEN, help=f"hidden units (default {HIDDEN}, as mlp_digits)"
    )
    args = parser.parse_args(argv)
    threads = limit_threads(args.threads)  # before NumPy is imported
    results = run(
        max(1, args.repeats), max(0, args.warmup), args.threads, args.seed, args.batch, args.hidden
    )
    report(results, max(1, args.repeats), max(0, args.warmup), threads)
    if any(r["name"] == "tinytorch" and "unavailable" in r for r in results["rows"]):
        return 2
    return 0 if results["agree"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
