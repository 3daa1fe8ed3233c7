"""1998, the convolutional network: shared local filters read digits better than an MLP.

A LeNet-style network classifies the 8x8 handwritten digits shipped with the course (1437
training and 360 test images): Conv2d(1, 32, 3x3, padding 1), ReLU, MaxPool2d(2),
Conv2d(32, 64, 3x3, padding 1), ReLU, MaxPool2d(2), Flatten, Linear(256, 10). The images
keep their shape, (N, 1, 8, 8), so the network knows which pixels are neighbours. On the
same split, with the same training (Adam, a learning rate that decays along a cosine to 0,
batches of 32, the same epochs), the script also trains the multilayer perceptron of 1986
(64-128-10, ReLU) on the flattened pixels, and prints both in one table with their
training times.

Run from the repository root:
    python milestones/04_1998_cnn/cnn_digits.py [--seed N] [--epochs N]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

if __name__ == "__main__":
    # Small matrices: one BLAS thread is faster and steadier than several on a busy machine
    # (see milestones/README.md). Only as a command, before NumPy starts, unless already set.
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
1998: Yann LeCun, Leon Bottou, Yoshua Bengio and Patrick Haffner published LeNet-5, a
convolutional network that read handwritten digits on bank cheques. Its layers do not
connect every pixel to every unit: a convolution slides a few small filters over the
image, so a stroke detector learned in one place works everywhere, and pooling keeps
"there is a stroke around here" while forgetting exactly where. Knowledge about images
built into the layers bought better accuracy than a multilayer perceptron's."""

CLASSES = 10
CHANNELS = (32, 64)  # of the two convolutions
BATCH_SIZE = 32
LEARNING_RATE = 0.005
EPOCHS = 15
MLP_HIDDEN = 128
TARGET = 0.97  # test accuracy of the CNN; it must also beat the MLP on the same split
EVAL_CHUNK = 512  # images per forward pass when measuring accuracy


def framework() -> SimpleNamespace:
    """The tinytorch pieces the CNN milestones use (exit 2 naming the first module missing)."""
    return SimpleNamespace(
        Tensor=need("Tensor", "tinytorch.core.tensor", "Module 01"),
        ReLU=need("ReLU", "tinytorch.core.activations", "Module 02"),
        Linear=need("Linear", "tinytorch.core.layers", "Module 03"),
        Sequential=need("Sequential", "tinytorch.core.layers", "Module 03"),
        CrossEntropyLoss=need("CrossEntropyLoss", "tinytorch.core.losses", "Module 04"),
        enable_autograd=need("enable_autograd", "tinytorch.core.autograd", "Module 05"),
        no_grad=need("no_grad", "tinytorch.core.autograd", "Module 05"),
        Adam=need("Adam", "tinytorch.core.optimizers", "Module 06"),
        TensorDataset=need("TensorDataset", "tinytorch.data.loader", "Module 08"),
        DataLoader=need("DataLoader", "tinytorch.data.loader", "Module 08"),
        Conv2d=need("Conv2d", "tinytorch.core.spatial", "Module 09"),
        MaxPool2d=need("MaxPool2d", "tinytorch.core.spatial", "Module 09"),
        Flatten=need("Flatten", "tinytorch.core.spatial", "Module 09"),
    )


def build_cnn(tt: SimpleNamespace, rng: np.random.Generator, size: int = 8):
    """LeNet for small grey images (N, 1, size, size): two conv-ReLU-pool stages, a classifier.

    Shapes for size 8: (1, 8, 8) -> conv (32, 8, 8) -> pool (32, 4, 4) -> conv (64, 4, 4)
    -> pool (64, 2, 2) -> flatten 256 -> 10 logits.
    """
    first, second = CHANNELS
    side = size // 4  # two poolings of 2
    return tt.Sequential(
        tt.Conv2d(1, first, 3, padding=1, rng=rng),
        tt.ReLU(),
        tt.MaxPool2d(2),
        tt.Conv2d(first, second, 3, padding=1, rng=rng),
        tt.ReLU(),
        tt.MaxPool2d(2),
        tt.Flatten(),
        tt.Linear(second * side * side, CLASSES, rng=rng),
    )


def build_mlp(tt: SimpleNamespace, inputs: int, rng: np.random.Generator):
    """The 1986 baseline: Linear(inputs, 128), ReLU, Linear(128, 10) on flattened images."""
    return tt.Sequential(
        tt.Linear(inputs, MLP_HIDDEN, rng=rng), tt.ReLU(), tt.Linear(MLP_HIDDEN, CLASSES, rng=rng)
    )


def parameter_count(model) -> int:
    return sum(p.size for p in model.parameters())


def evaluate(tt: SimpleNamespace, model, images: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of images whose largest logit is at their label, computed without a graph."""
    correct = 0
    with tt.no_grad():
        for start in range(0, len(images), EVAL_CHUNK):
            logits = model(tt.Tensor(images[start : start + EVAL_CHUNK])).numpy()
            correct += int((logits.argmax(axis=1) == labels[start : start + EVAL_CHUNK]).sum())
    return correct / len(images)


def train(
    tt: SimpleNamespace,
    name: str,
    model,
    train_set: tuple[np.ndarray, np.ndarray],
    test_set: tuple[np.ndarray, np.ndarray],
    epochs: int,
    seed: int,
    learning_rate: float = LEARNING_RATE,
    batch_size: int = BATCH_SIZE,
    log_every: int = 1,
) -> list[dict]:
    """Train with Adam on shuffled mini-batches, printing a line every `log_every` epochs.

    The learning rate of epoch e (counted from 0) is learning_rate * (1 + cos(pi e / epochs))
    / 2: full at the start, close to 0 at the end, so the last epochs settle rather than
    jump around (Module 07 has this as a scheduler). Returns one dict per epoch: the mean
    loss over the epoch's batches, the test accuracy, and the seconds spent in training
    steps (the accuracy measurement is not counted).
    """
    images, labels = train_set
    loader = tt.DataLoader(
        tt.TensorDataset(tt.Tensor(images), tt.Tensor(labels)),
        batch_size=batch_size,
        shuffle=True,
        seed=seed,
    )
    loss_fn = tt.CrossEntropyLoss()
    optimizer = tt.Adam(model.parameters(), lr=learning_rate)
    print(f"{name}:")
    print(f"{'epoch':>9}  {'loss':>7}  {'test acc':>8}  {'s/epoch':>7}")
    history = []
    for epoch in range(1, epochs + 1):
        optimizer.lr = learning_rate * (1 + np.cos(np.pi * (epoch - 1) / epochs)) / 2
        started = time.perf_counter()
        total_loss = 0.0
        for batch_images, batch_labels in loader:
            loss = loss_fn(model(batch_images), batch_labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(batch_labels)
        seconds = time.perf_counter() - started
        row = {
            "epoch": epoch,
            "loss": total_loss / len(labels),
            "test_accuracy": evaluate(tt, model, *test_set),
            "seconds": seconds,
        }
        history.append(row)
        if epoch % log_every == 0 or epoch == epochs:
            print(
                f"  {epoch:>3}/{epochs:<3}  {row['loss']:7.4f}  {row['test_accuracy']:8.1%}  "
                f"{seconds:7.2f}",
                flush=True,
            )
    print()
    return history


def load_digits_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    """The shipped digits: where load_digits looks first, else this repository's datasets/."""
    load_digits = need("load_digits", "tinytorch.data.loader", "Module 08")
    try:
        return load_digits(split)
    except FileNotFoundError as error:
        shipped = REPO_ROOT / "datasets" / "digits"
        if (shipped / "digits.npz").is_file():
            return load_digits(split, path=shipped)
        stop(str(error))


def main(argv: list[str] | None = None) -> dict:
    """Run the milestone; return both test accuracies, times and details."""
    parser = milestone_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--epochs", type=int, default=EPOCHS, help=f"training epochs (default {EPOCHS})"
    )
    args = parser.parse_args(argv)
    epochs = max(1, args.epochs)
    started = time.perf_counter()
    framework_banner()
    tt = framework()
    tt.enable_autograd()
    print(f"\n{HISTORY}\n")
    train_images, train_labels = load_digits_split("train")  # (N, 8, 8) in [0, 1]
    test_images, test_labels = load_digits_split("test")
    as_images = [a.reshape(len(a), 1, 8, 8).astype(np.float32) for a in (train_images, test_images)]
    as_rows = [a.reshape(len(a), 64).astype(np.float32) for a in (train_images, test_images)]

    cnn = build_cnn(tt, np.random.default_rng((args.seed, 2)))
    mlp = build_mlp(tt, 64, np.random.default_rng((args.seed, 3)))
    print(
        f"8x8 digits: {len(train_labels):,} training and {len(test_labels):,} test images. "
        f"CNN {parameter_count(cnn):,} parameters, MLP {parameter_count(mlp):,} parameters; "
        f"both trained with Adam (lr {LEARNING_RATE}, cosine decay), batches of {BATCH_SIZE}, "
        f"{epochs} epochs.\n"
    )
    cnn_history = train(
        tt,
        "CNN (1998)",
        cnn,
        (as_images[0], train_labels),
        (as_images[1], test_labels),
        epochs,
        args.seed,
    )
    mlp_history = train(
        tt,
        "MLP (1986)",
        mlp,
        (as_rows[0], train_labels),
        (as_rows[1], test_labels),
        epochs,
        args.seed,
    )
    cnn_accuracy = cnn_history[-1]["test_accuracy"]
    mlp_accuracy = mlp_history[-1]["test_accuracy"]
    cnn_seconds = sum(row["seconds"] for row in cnn_history)
    mlp_seconds = sum(row["seconds"] for row in mlp_history)
    cnn_errors = round((1 - cnn_accuracy) * len(test_labels))
    mlp_errors = round((1 - mlp_accuracy) * len(test_labels))
    target_met = cnn_accuracy >= TARGET and cnn_accuracy > mlp_accuracy
    say(
        f"The CNN misreads {cnn_errors} of the {len(test_labels)} test digits, the MLP "
        f"{mlp_errors}. Each convolution slides its 3x3 filters over every position, so what "
        "it learns about a stroke in one place applies everywhere; the MLP must learn every "
        "stroke at every place separately. The price is arithmetic: the CNN uses each of "
        f"its {parameter_count(cnn):,} parameters at every position of the image, so its "
        f"training took {cnn_seconds / mlp_seconds:.0f} times as long as the MLP's."
    )
    seconds = time.perf_counter() - started
    print_results(
        "1998 convolutional network vs 1986 MLP on the 8x8 digits",
        [
            ("data", f"8x8 digits, {len(train_labels):,} train / {len(test_labels):,} test", ""),
            (
                "training",
                f"Adam, lr {LEARNING_RATE} cosine, batch {BATCH_SIZE}, {epochs} epochs",
                "",
            ),
            ("CNN", f"conv 1->{CHANNELS[0]}, pool, conv ->{CHANNELS[1]}, pool, linear", ""),
            ("CNN parameters", f"{parameter_count(cnn):,}", ""),
            ("CNN test accuracy", f"{cnn_accuracy:.1%}", f">= {TARGET:.0%}"),
            ("CNN training time", f"{cnn_seconds:.2f} s", ""),
            ("MLP", f"64-{MLP_HIDDEN}-10, ReLU", ""),
            ("MLP parameters", f"{parameter_count(mlp):,}", ""),
            ("MLP test accuracy", f"{mlp_accuracy:.1%}", ""),
            ("MLP training time", f"{mlp_seconds:.2f} s", ""),
            ("CNN beats MLP", "yes" if cnn_accuracy > mlp_accuracy else "no", "yes"),
        ],
        seconds,
    )
    return {
        "accuracy": cnn_accuracy,
        "mlp_accuracy": mlp_accuracy,
        "epochs": epochs,
        "cnn_history": cnn_history,
        "mlp_history": mlp_history,
        "cnn_parameters": parameter_count(cnn),
        "mlp_parameters": parameter_count(mlp),
        "cnn_seconds": cnn_seconds,
        "mlp_seconds": mlp_seconds,
        "converged": target_met,
        "framework": str(framework_folder()),
        "seconds": seconds,
        "target_met": target_met,
    }


if __name__ == "__main__":
    sys.exit(0 if main()["target_met"] else 1)
