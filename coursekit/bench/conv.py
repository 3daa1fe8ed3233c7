"""`python -m coursekit.bench.conv`: Module 09's convolution, timed against PyTorch.

Two measurements, in one run:

1. One forward and backward pass of a Conv2d layer: a batch of 32 images of 3x32x32, 16
   output channels, 3x3 kernel, padding 1 (the first layer of a small CIFAR network), for
   - tinytorch, im2col (`Conv2d`, the default: one matrix product forward, two backward);
   - tinytorch, loops (`Conv2d(..., use_loops=True)`: Tensor operations one kernel tap at a
     time). It is slow, so it runs the same batch on fewer repeats (--loop-repeats);
   - PyTorch on the CPU, when `import torch` works (it is not a course dependency).
2. One training step of the LeNet of milestones/04_1998_cnn/cnn_digits.py (conv 1->32,
   pool, conv 32->64, pool, linear 256->10; cross-entropy, Adam) on a batch of 32 digits,
   for tinytorch and PyTorch.

Every implementation starts from the same weights and input. Before anything is timed the
outputs and gradients of the conv pass, and the losses of the first training steps, are
compared, so the tables compare the same computation. Each pass is timed on its own after
a warm-up; the tables show the median in milliseconds, the 10th to 90th percentile, the
number of timed repeats, and each median divided by PyTorch's.

By default NumPy's BLAS and PyTorch use one thread each (--threads): the comparison is then
of the code, not of how many cores each library grabs, and timings on a busy machine are
steadier. The BLAS thread count can only be set before NumPy starts, so it takes effect
when this module runs as a command.

    python -m coursekit.bench.conv [--repeats 50] [--loop-repeats 5] [--warmup 3]
                                   [--threads 1] [--seed 0]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from ..modules import REPO
from .timing import (
    REFERENCE_PACKAGE,
    Unavailable,
    import_torch,
    limit_threads,
    summary,
    time_calls,
    tinytorch_folder,
)

CONV = {"batch": 32, "in": 3, "out": 16, "size": 32, "kernel": 3, "padding": 1}
LENET_CHANNELS = (32, 64)  # cnn_digits.py's convolutions
LENET_BATCH = 32
LEARNING_RATE = 0.005  # cnn_digits.py's Adam learning rate
CHECK_STEPS = 3  # training steps whose losses must agree
Pass = Callable[[], object]


# --------------------------------------------------------------------------------------
# Shared starting point
# --------------------------------------------------------------------------------------


def conv_start(seed: int) -> dict:
    """float32 input, weight (out, in, kH, kW), bias and upstream gradient of the conv pass."""
    import numpy as np

    rng = np.random.default_rng(seed)
    c = CONV
    bound = 1 / np.sqrt(c["in"] * c["kernel"] ** 2)
    return {
        "x": rng.standard_normal((c["batch"], c["in"], c["size"], c["size"])).astype(np.float32),
        "w": rng.uniform(-bound, bound, (c["out"], c["in"], c["kernel"], c["kernel"])).astype(
            np.float32
        ),
        "b": rng.uniform(-bound, bound, c["out"]).astype(np.float32),
        "g": rng.standard_normal((c["batch"], c["out"], c["size"], c["size"])).astype(np.float32),
    }


def digits_batch(seed: int) -> tuple:
    """A batch of LENET_BATCH shipped digits (N, 1, 8, 8) and labels; random images if the
    digits file cannot be found."""
    import numpy as np

    rng = np.random.default_rng(seed)
    try:
        from tinytorch.data.loader import load_digits

        path = REPO / "datasets" / "digits"
        images, labels = load_digits("train", path=path if path.is_dir() else None)
    except (ImportError, OSError, ValueError):
        images = rng.random((LENET_BATCH, 8, 8), dtype=np.float32)
        labels = rng.integers(0, 10, LENET_BATCH)
    rows = rng.choice(len(images), LENET_BATCH, replace=False)
    return images[rows].reshape(LENET_BATCH, 1, 8, 8).astype(np.float32), labels[rows]


def lenet_weights(seed: int) -> list:
    """float32 arrays: conv1 weight, bias, conv2 weight, bias, linear weight (in, out), bias."""
    import numpy as np

    rng = np.random.default_rng(seed)
    first, second = LENET_CHANNELS
    shapes = [
        ((first, 1, 3, 3), 9),
        ((first,), 9),
        ((second, first, 3, 3), first * 9),
        ((second,), first * 9),
        ((second * 4, 10), second * 4),
        ((10,), second * 4),
    ]
    return [
        rng.uniform(-1 / np.sqrt(fan), 1 / np.sqrt(fan), shape).astype(np.float32)
        for shape, fan in shapes
    ]


# --------------------------------------------------------------------------------------
# tinytorch
# --------------------------------------------------------------------------------------


def import_spatial():
    """tinytorch's modules for this benchmark; Unavailable naming the first one missing."""
    import importlib

    needed = (
        ("tinytorch.core.tensor", "Module 01"),
        ("tinytorch.core.activations", "Module 02"),
        ("tinytorch.core.layers", "Module 03"),
        ("tinytorch.core.losses", "Module 04"),
        ("tinytorch.core.autograd", "Module 05"),
        ("tinytorch.core.optimizers", "Module 06"),
        ("tinytorch.core.spatial", "Module 09"),
    )
    found = {}
    for name, course_module in needed:
        try:
            found[name.rsplit(".", 1)[1]] = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name and (name == error.name or name.startswith(error.name + ".")):
                raise Unavailable(f"needs {course_module} ({name}): export it") from error
            raise
    found["autograd"].enable_autograd()
    return found


def tinytorch_conv(start: dict, use_loops: bool) -> tuple[Pass, Callable[[], tuple]]:
    """(one forward+backward pass, a function returning (out, dx, dw, db) after a pass)."""
    tt = import_spatial()
    Tensor = tt["tensor"].Tensor
    c = CONV
    conv = tt["spatial"].Conv2d(
        c["in"], c["out"], c["kernel"], padding=c["padding"], use_loops=use_loops
    )
    conv.weight.data, conv.bias.data = start["w"].copy(), start["b"].copy()
    x = Tensor(start["x"], requires_grad=True)
    state = {}

    def one_pass():
        x.grad = conv.weight.grad = conv.bias.grad = None
        out = conv(x)
        out.backward(start["g"])
        state["out"] = out

    def results():
        return state["out"].data, x.grad, conv.weight.grad, conv.bias.grad

    return one_pass, results


def tinytorch_lenet(start: list, batch: tuple) -> Pass:
    """One training step of cnn_digits.py's LeNet in tinytorch; returns the loss."""
    tt = import_spatial()
    spatial, layers = tt["spatial"], tt["layers"]
    first, second = LENET_CHANNELS
    model = layers.Sequential(
        spatial.Conv2d(1, first, 3, padding=1),
        tt["activations"].ReLU(),
        spatial.MaxPool2d(2),
        spatial.Conv2d(first, second, 3, padding=1),
        tt["activations"].ReLU(),
        spatial.MaxPool2d(2),
        spatial.Flatten(),
        layers.Linear(second * 4, 10),
    )
    for parameter, values in zip(model.parameters(), start, strict=True):
        parameter.data = values.copy()
    optimizer = tt["optimizers"].Adam(model.parameters(), lr=LEARNING_RATE)
    loss_fn = tt["losses"].CrossEntropyLoss()
    x, y = tt["tensor"].Tensor(batch[0]), tt["tensor"].Tensor(batch[1])

    def step() -> float:
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


# --------------------------------------------------------------------------------------
# PyTorch
# --------------------------------------------------------------------------------------


def torch_conv(start: dict, threads: int) -> tuple[Pass, Callable[[], tuple]]:
    torch = import_torch(threads)
    c = CONV
    conv = torch.nn.Conv2d(c["in"], c["out"], c["kernel"], padding=c["padding"])
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(start["w"]))
        conv.bias.copy_(torch.from_numpy(start["b"]))
    x = torch.from_numpy(start["x"].copy()).requires_grad_(True)
    g = torch.from_numpy(start["g"])
    state = {}

    def one_pass():
        x.grad = conv.weight.grad = conv.bias.grad = None
        out = conv(x)
        out.backward(g)
        state["out"] = out

    def results():
        return tuple(
            t.detach().numpy() for t in (state["out"], x.grad, conv.weight.grad, conv.bias.grad)
        )

    return one_pass, results


def torch_lenet(start: list, batch: tuple, threads: int) -> Pass:
    torch = import_torch(threads)
    nn = torch.nn
    first, second = LENET_CHANNELS
    model = nn.Sequential(
        nn.Conv2d(1, first, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(first, second, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(second * 4, 10),
    )
    ours = [
        start[0],
        start[1],
        start[2],
        start[3],
        start[4].T.copy(),
        start[5],
    ]  # Linear: (out, in)
    with torch.no_grad():
        for parameter, values in zip(model.parameters(), ours, strict=True):
            parameter.copy_(torch.from_numpy(values))
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    x, y = torch.from_numpy(batch[0]), torch.from_numpy(batch[1].astype("int64"))

    def step() -> float:
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


# --------------------------------------------------------------------------------------
# Timing and report
# --------------------------------------------------------------------------------------


def run(
    repeats: int = 50, loop_repeats: int = 5, warmup: int = 3, threads: int = 1, seed: int = 0
) -> dict:
    """Check that the implementations agree, then time them; returns both tables' rows.

    A row has "name", "what" and, when it ran, "median_ms", "p10_ms", "p90_ms", "repeats";
    a row that could not run has "unavailable". "conv_agree" and "lenet_agree" say whether
    the outputs and gradients (conv) and the first losses (LeNet) matched.
    """
    import numpy as np

    start = conv_start(seed)
    conv_builders = {
        "tinytorch, im2col": (lambda: tinytorch_conv(start, use_loops=False), repeats),
        "tinytorch, loops": (lambda: tinytorch_conv(start, use_loops=True), loop_repeats),
        "PyTorch (CPU)": (lambda: torch_conv(start, threads), repeats),
    }
    conv_rows, outputs = [], []
    for name, (build, count) in conv_builders.items():
        try:
            one_pass, results = build()
        except Unavailable as reason:
            conv_rows.append({"name": name, "unavailable": str(reason)})
            continue
        one_pass()
        outputs.append(results())
        row = {"name": name, "what": describe(name)}
        row.update(summary(time_calls(one_pass, warmup, max(1, count))))
        conv_rows.append(row)
    conv_agree = all(
        np.allclose(mine, theirs, rtol=1e-3, atol=1e-3)
        for other in outputs[1:]
        for mine, theirs in zip(outputs[0], other, strict=True)
    )

    weights, batch = lenet_weights(seed), digits_batch(seed)
    lenet_builders = {
        "tinytorch": lambda: tinytorch_lenet(weights, batch),
        "PyTorch (CPU)": lambda: torch_lenet(weights, batch, threads),
    }
    lenet_rows, losses = [], []
    for name, build in lenet_builders.items():
        try:
            step = build()
        except Unavailable as reason:
            lenet_rows.append({"name": name, "unavailable": str(reason)})
            continue
        losses.append([step() for _ in range(CHECK_STEPS)])
        row = {"name": name, "what": describe(name)}
        row.update(summary(time_calls(step, warmup, max(1, repeats))))
        lenet_rows.append(row)
    lenet_agree = all(np.allclose(other, losses[0], rtol=1e-3, atol=1e-4) for other in losses)
    return {
        "conv": conv_rows,
        "lenet": lenet_rows,
        "conv_agree": conv_agree,
        "lenet_agree": lenet_agree,
    }


def describe(name: str) -> str:
    """What ran: the tinytorch package (reference or a student's) or the PyTorch version."""
    if name.startswith("PyTorch"):
        import torch

        return f"torch {torch.__version__}"
    folder = tinytorch_folder()
    return "reference tinytorch" if folder == REFERENCE_PACKAGE else f"tinytorch at {folder}"


def table(title: str, rows: list[dict], console) -> None:
    from rich import box
    from rich.table import Table

    torch_row = next(
        (r for r in rows if r["name"].startswith("PyTorch") and "median_ms" in r), None
    )
    out = Table(title=title, box=box.ROUNDED if console.is_terminal else box.ASCII)
    for column, justify in (
        ("implementation", "left"),
        ("ms", "right"),
        ("p10-p90 ms", "right"),
        ("repeats", "right"),
        ("vs PyTorch", "right"),
        ("what ran", "left"),
    ):
        out.add_column(column, justify=justify)
    for row in rows:
        if "unavailable" in row:
            out.add_row(row["name"], "-", "-", "-", "-", row["unavailable"])
            continue
        ratio = f"{row['median_ms'] / torch_row['median_ms']:.1f}x" if torch_row else "n/a"
        out.add_row(
            row["name"],
            f"{row['median_ms']:.3f}",
            f"{row['p10_ms']:.3f}-{row['p90_ms']:.3f}",
            str(row["repeats"]),
            ratio,
            row["what"],
        )
    console.print(out)


def report(results: dict, warmup: int, threads: str) -> None:
    """Print both tables and what they mean."""
    from rich.console import Console

    console = Console(highlight=False, markup=False)
    if not console.is_terminal:  # piped: wide enough that no row wraps
        console = Console(highlight=False, markup=False, width=140)
    c = CONV
    table(
        f"Conv2d forward + backward: batch {c['batch']}, {c['in']}->{c['out']} channels, "
        f"{c['size']}x{c['size']}, {c['kernel']}x{c['kernel']}, padding {c['padding']}",
        results["conv"],
        console,
    )
    first, second = LENET_CHANNELS
    table(
        f"One LeNet training step on {LENET_BATCH} digits (conv 1->{first}, pool, conv "
        f"{first}->{second}, pool, linear {second * 4}->10; cross-entropy, Adam)",
        results["lenet"],
        console,
    )
    agree = {True: "agree", False: "DIFFER"}
    console.print(
        f"Median of the timed repeats after {warmup} warm-up passes; threads: {threads}. "
        "The loop version runs the same batch on fewer repeats (--loop-repeats): it is slow.\n"
        "vs PyTorch: the median divided by PyTorch's (above 1.0x: slower than PyTorch).\n"
        f"Conv outputs and gradients {agree[results['conv_agree']]}; LeNet losses over the "
        f"first {CHECK_STEPS} steps {agree[results['lenet_agree']]}."
    )


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when everything that ran agreed; 1 when results differ; 2 when tinytorch (with
    Module 09) could not run."""
    parser = argparse.ArgumentParser(prog="bench_conv", description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=50, help="timed passes (default 50)")
    parser.add_argument(
        "--loop-repeats", type=int, default=5, help="timed passes of the loop version (default 5)"
    )
    parser.add_argument("--warmup", type=int, default=3, help="untimed passes first (default 3)")
    parser.add_argument(
        "--threads", type=int, default=1, help="BLAS and PyTorch threads; 0: library defaults"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the data")
    args = parser.parse_args(argv)
    threads = limit_threads(args.threads)  # before NumPy is imported
    results = run(
        max(1, args.repeats),
        max(1, args.loop_repeats),
        max(0, args.warmup),
        args.threads,
        args.seed,
    )
    report(results, max(0, args.warmup), threads)
    rows = results["conv"] + results["lenet"]
    if any(r["name"].startswith("tinytorch") and "unavailable" in r for r in rows):
        return 2
    return 0 if results["conv_agree"] and results["lenet_agree"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
