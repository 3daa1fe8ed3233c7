"""1986, the multilayer perceptron: a hidden layer learns to read handwritten digits.

A multilayer perceptron, Linear(64, 128), ReLU, Linear(128, 10), classifies the 8x8
handwritten digits shipped with the course (1437 training and 360 test images). The
training loop is written out: the DataLoader serves shuffled mini-batches of 64, the
network computes logits, CrossEntropyLoss scores them, loss.backward() (Module 05) fills
every gradient and SGD with momentum (Module 06) takes a step. After each epoch the loop
measures the accuracy on the training and the test images. mlp_mnist.py runs the same code
on MNIST.

Run from the repository root:
    python milestones/03_1986_mlp/mlp_digits.py [--seed N] [--epochs N]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

if __name__ == "__main__":
    # The matrices here are small (a batch of 64 by 128 units): one BLAS thread is faster and
    # far steadier than several, which wait for each other on a busy machine. Only when run
    # as a command, before NumPy starts, and only when the user has not chosen otherwise.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

MILESTONES = Path(__file__).resolve().parents[1]
if str(MILESTONES) not in sys.path:
    sys.path.insert(0, str(MILESTONES))  # so that `import common` works from any folder

from common import (  # noqa: E402
    REPO_ROOT,
    framework_banner,
    framework_folder,
    milestone_parser,
    need,
    print_results,
    say,
    stop,
)

HISTORY = """\
1986: with backpropagation (Rumelhart, Hinton and Williams), networks with hidden layers
could be trained on real data. By 1989 a network trained this way read handwritten ZIP
codes on US mail (Yann LeCun and colleagues at Bell Labs). Here a network with one hidden
layer of 128 units reads 8x8 digits: 64 pixels in, 10 scores out, one per digit."""

HIDDEN = 128
CLASSES = 10
BATCH_SIZE = 64
LEARNING_RATE = 0.1
MOMENTUM = 0.9
EPOCHS = 20
TARGET = 0.95  # test accuracy of the reference implementation: 96% to 98%
EVAL_CHUNK = 2048  # rows per forward pass when measuring accuracy


def framework() -> SimpleNamespace:
    """The tinytorch pieces the MLP milestones use (exit 2 naming the first module missing)."""
    return SimpleNamespace(
        Tensor=need("Tensor", "tinytorch.core.tensor", "Module 01"),
        ReLU=need("ReLU", "tinytorch.core.activations", "Module 02"),
        Linear=need("Linear", "tinytorch.core.layers", "Module 03"),
        Sequential=need("Sequential", "tinytorch.core.layers", "Module 03"),
        CrossEntropyLoss=need("CrossEntropyLoss", "tinytorch.core.losses", "Module 04"),
        enable_autograd=need("enable_autograd", "tinytorch.core.autograd", "Module 05"),
        no_grad=need("no_grad", "tinytorch.core.autograd", "Module 05"),
        SGD=need("SGD", "tinytorch.core.optimizers", "Module 06"),
        TensorDataset=need("TensorDataset", "tinytorch.data.loader", "Module 08"),
        DataLoader=need("DataLoader", "tinytorch.data.loader", "Module 08"),
    )


def build_mlp(tt: SimpleNamespace, inputs: int, rng: np.random.Generator):
    """Linear(inputs, HIDDEN) -> ReLU -> Linear(HIDDEN, CLASSES): logits for each class."""
    return tt.Sequential(
        tt.Linear(inputs, HIDDEN, rng=rng), tt.ReLU(), tt.Linear(HIDDEN, CLASSES, rng=rng)
    )


def evaluate(tt: SimpleNamespace, model, images: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of images (N, D) whose largest logit is at their label, without a graph."""
    correct = 0
    with tt.no_grad():
        for start in range(0, len(images), EVAL_CHUNK):
            logits = model(tt.Tensor(images[start : start + EVAL_CHUNK])).numpy()
            correct += int((logits.argmax(axis=1) == labels[start : start + EVAL_CHUNK]).sum())
    return correct / len(images)


def train_mlp(
    tt: SimpleNamespace,
    model,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    epochs: int,
    seed: int,
    batch_size: int = BATCH_SIZE,
) -> list[dict]:
    """Train with mini-batch SGD, printing one line per epoch; return one dict per epoch.

    train and test are (images (N, D) float32, labels (N,) int). Each epoch visits every
    training image once, in the DataLoader's shuffled order for that epoch, then measures
    the mean loss over the epoch's batches and the accuracy on both sets. The seconds of
    an epoch count the training steps only, not the two accuracy measurements.
    """
    images, labels = train
    loader = tt.DataLoader(
        tt.TensorDataset(tt.Tensor(images), tt.Tensor(labels)),
        batch_size=batch_size,
        shuffle=True,
        seed=seed,
    )
    loss_fn = tt.CrossEntropyLoss()
    optimizer = tt.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    print(f"{'epoch':>7}  {'loss':>7}  {'train acc':>9}  {'test acc':>8}  {'s/epoch':>7}")
    history = []
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        total_loss = 0.0
        for batch_images, batch_labels in loader:  # (B, D), (B,)
            loss = loss_fn(model(batch_images), batch_labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(batch_labels)
        seconds = time.perf_counter() - started
        row = {
            "epoch": epoch,
            "loss": total_loss / len(labels),
            "train_accuracy": evaluate(tt, model, images, labels),
            "test_accuracy": evaluate(tt, model, *test),
            "seconds": seconds,
        }
        history.append(row)
        print(
            f"{epoch:>3}/{epochs:<3}  {row['loss']:7.4f}  {row['train_accuracy']:9.1%}  "
            f"{row['test_accuracy']:8.1%}  {seconds:7.2f}",
            flush=True,
        )
    print()
    return history


def run_experiment(
    tt: SimpleNamespace,
    title: str,
    data_name: str,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    epochs: int,
    seed: int,
    started: float,
) -> dict:
    """Build, train and report the MLP on flattened images; return the results dict.

    Shared by mlp_digits.py and mlp_mnist.py: the same model, loop and table for both.
    """
    inputs = train[0].shape[1]
    model = build_mlp(tt, inputs, np.random.default_rng((seed, 2)))
    parameters = sum(p.size for p in model.parameters())
    print(
        f"{data_name}: {len(train[1]):,} training and {len(test[1]):,} test images of {inputs} "
        f"pixels. Model {inputs}-{HIDDEN}-{CLASSES}, {parameters:,} parameters.\n"
    )
    start_accuracy = evaluate(tt, model, *test)
    history = train_mlp(tt, model, train, test, max(1, epochs), seed)
    last = history[-1]
    per_epoch = float(np.mean([row["seconds"] for row in history]))
    target_met = last["test_accuracy"] >= TARGET
    say(
        f"After {len(history)} epochs the network gets {last['test_accuracy']:.1%} of the "
        f"test images right (chance is 10%; before training it got {start_accuracy:.1%}). "
        "The test images were never used for training; the gap between the training and "
        "the test accuracy is how much the network memorised rather than learned."
    )
    seconds = time.perf_counter() - started
    print_results(
        title,
        [
            ("data", f"{data_name}, {len(train[1]):,} train / {len(test[1]):,} test", ""),
            ("model", f"{inputs}-{HIDDEN}-{CLASSES} MLP, ReLU", ""),
            ("parameters", f"{parameters:,}", ""),
            ("optimizer", f"SGD, lr {LEARNING_RATE}, momentum {MOMENTUM}, batch {BATCH_SIZE}", ""),
            ("epochs", str(len(history)), ""),
            ("final training loss", f"{last['loss']:.4f}", ""),
            ("test accuracy before training", f"{start_accuracy:.1%}", ""),
            ("train accuracy", f"{last['train_accuracy']:.1%}", ""),
            ("test accuracy", f"{last['test_accuracy']:.1%}", f">= {TARGET:.0%}"),
            ("training time per epoch", f"{per_epoch:.2f} s", ""),
        ],
        seconds,
    )
    return {
        "accuracy": last["test_accuracy"],
        "train_accuracy": last["train_accuracy"],
        "start_accuracy": start_accuracy,
        "epochs": len(history),
        "history": history,
        "parameters": parameters,
        "seconds_per_epoch": per_epoch,
        "converged": target_met,
        "framework": str(framework_folder()),
        "seconds": seconds,
        "target_met": target_met,
    }


def flatten(images: np.ndarray) -> np.ndarray:
    """Images (N, H, W) as rows (N, H * W), float32: an MLP sees a list of pixels."""
    return images.reshape(len(images), -1).astype(np.float32)


def load_digits_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    """The shipped digits: where load_digits looks first, else this repository's datasets/.

    A student's package on JupyterHub has no datasets/ folder beside it; the course
    repository holding this milestone does.
    """
    load_digits = need("load_digits", "tinytorch.data.loader", "Module 08")
    try:
        return load_digits(split)
    except FileNotFoundError as error:
        shipped = REPO_ROOT / "datasets" / "digits"
        if (shipped / "digits.npz").is_file():
            return load_digits(split, path=shipped)
        stop(str(error))


def main(argv: list[str] | None = None) -> dict:
    """Run the milestone; return the test accuracy, the history per epoch and details."""
    parser = milestone_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--epochs", type=int, default=EPOCHS, help=f"training epochs (default {EPOCHS})"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    framework_banner()
    tt = framework()
    tt.enable_autograd()
    print(f"\n{HISTORY}\n")
    train_images, train_labels = load_digits_split("train")
    test_images, test_labels = load_digits_split("test")
    return run_experiment(
        tt,
        "1986 multilayer perceptron on the 8x8 digits",
        "8x8 digits",
        (flatten(train_images), train_labels),
        (flatten(test_images), test_labels),
        args.epochs,
        args.seed,
        started,
    )


if __name__ == "__main__":
    sys.exit(0 if main()["target_met"] else 1)
