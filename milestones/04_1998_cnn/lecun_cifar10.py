"""1998 meets 2009: LeNet-5 on CIFAR-10, colour photographs of ten kinds of object.

The LeNet-5 layout (LeCun et al., 1998) on CIFAR-10's 32x32 colour images: Conv2d(3, 6, 5x5),
ReLU, MaxPool2d(2), Conv2d(6, 16, 5x5), ReLU, MaxPool2d(2), Flatten, Linear(400, 120), ReLU,
Linear(120, 84), ReLU, Linear(84, 10). It is trained with cnn_digits.py's loop (Adam, cosine
learning-rate decay, shuffled batches from the DataLoader) on images normalised with the
training set's per-channel mean and standard deviation.

CIFAR-10 is not shipped with the course. Without --download this script only reads the
cache folder ($TINYTORCH_DATA/cifar10, else ~/.cache/tinytorch/cifar10, or --data-root) and,
when the archive is not there, says how to get it and exits with code 2. With --download,
cifar10.load_cifar10 fetches cifar-10-python.tar.gz (163 MiB) from the official site,
checks its MD5, caches and extracts it.

Run from the repository root:
    python milestones/04_1998_cnn/lecun_cifar10.py [--download] [--data-root DIR]
        [--epochs N] [--limit N] [--seed N]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # see cnn_digits.py

import numpy as np  # noqa: E402

MILESTONES = Path(__file__).resolve().parents[1]
if str(MILESTONES) not in sys.path:
    sys.path.insert(0, str(MILESTONES))  # so that `import common` works from any folder

from common import (  # noqa: E402
    framework_banner,
    framework_folder,
    load_script,
    milestone_parser,
    print_results,
    say,
    stop,
)

cnn_digits = load_script("04_1998_cnn/cnn_digits.py")
cifar10 = load_script("04_1998_cnn/cifar10.py")

HISTORY = """\
LeNet-5 read 32x32 grey digits. Eleven years later Alex Krizhevsky collected CIFAR-10:
60,000 colour photographs of 32x32 pixels, of airplanes, cars, birds, cats, deer, dogs,
frogs, horses, ships and trucks, far harder than digits. The same architecture, with three
input channels instead of one, still learns it: not as well as the deep networks that
followed (AlexNet, by the same Krizhevsky, in 2012), but far above the 10% of chance."""

EPOCHS = 5
LEARNING_RATE = 0.002
BATCH_SIZE = 64
TARGET = 0.45  # test accuracy after the default epochs on the full training set


def build_lenet5(tt: SimpleNamespace, rng: np.random.Generator):
    """LeNet-5 for (N, 3, 32, 32) images: (6, 28, 28) -> (6, 14, 14) -> (16, 10, 10)
    -> (16, 5, 5) -> 400 -> 120 -> 84 -> 10 logits."""
    return tt.Sequential(
        tt.Conv2d(3, 6, 5, rng=rng),
        tt.ReLU(),
        tt.MaxPool2d(2),
        tt.Conv2d(6, 16, 5, rng=rng),
        tt.ReLU(),
        tt.MaxPool2d(2),
        tt.Flatten(),
        tt.Linear(16 * 5 * 5, 120, rng=rng),
        tt.ReLU(),
        tt.Linear(120, 84, rng=rng),
        tt.ReLU(),
        tt.Linear(84, len(cifar10.CLASSES), rng=rng),
    )


def load_split(split: str, data_root: str | None, download: bool):
    """cifar10.load_cifar10, or exit 2 with its message when the data cannot be had."""
    try:
        return cifar10.load_cifar10(split, root=data_root, download=download)
    except (cifar10.DatasetMissing, cifar10.DownloadError, cifar10.ChecksumError) as error:
        folder = cifar10.cache_folder(data_root)
        stop(
            f"CIFAR-10 is not available in {folder}.\n{error}\n"
            "Run this milestone again with --download to fetch it (163 MiB, needs network "
            "access), or copy the archive there by hand."
        )


def main(argv: list[str] | None = None) -> dict:
    """Run the milestone; return the test accuracy, the history per epoch and details."""
    parser = milestone_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--epochs", type=int, default=EPOCHS, help=f"training epochs (default {EPOCHS})"
    )
    parser.add_argument(
        "--limit", type=int, default=0, help="train on the first N images only (default: all)"
    )
    parser.add_argument("--download", action="store_true", help="download CIFAR-10 if missing")
    parser.add_argument("--data-root", default=None, help="the cache folder of CIFAR-10")
    args = parser.parse_args(argv)
    epochs = max(1, args.epochs)
    started = time.perf_counter()
    framework_banner()
    tt = cnn_digits.framework()
    tt.enable_autograd()
    print(f"\n{HISTORY}\n")
    train_images, train_labels = load_split("train", args.data_root, args.download)
    test_images, test_labels = load_split("test", args.data_root, args.download)
    if args.limit > 0:
        train_images, train_labels = train_images[: args.limit], train_labels[: args.limit]
    mean = train_images.mean(axis=(0, 2, 3), keepdims=True)  # (1, 3, 1, 1)
    std = train_images.std(axis=(0, 2, 3), keepdims=True) + 1e-6
    train_images = ((train_images - mean) / std).astype(np.float32)
    test_images = ((test_images - mean) / std).astype(np.float32)

    model = build_lenet5(tt, np.random.default_rng((args.seed, 2)))
    parameters = cnn_digits.parameter_count(model)
    print(
        f"CIFAR-10: {len(train_labels):,} training and {len(test_labels):,} test images of "
        f"3x32x32. LeNet-5, {parameters:,} parameters; Adam (lr {LEARNING_RATE}, cosine "
        f"decay), batches of {BATCH_SIZE}, {epochs} epochs.\n"
    )
    start_accuracy = cnn_digits.evaluate(tt, model, test_images, test_labels)
    history = cnn_digits.train(
        tt,
        "LeNet-5",
        model,
        (train_images, train_labels),
        (test_images, test_labels),
        epochs,
        args.seed,
        learning_rate=LEARNING_RATE,
        batch_size=BATCH_SIZE,
    )
    accuracy = history[-1]["test_accuracy"]
    train_seconds = sum(row["seconds"] for row in history)
    target_met = accuracy >= TARGET
    say(
        f"LeNet-5 labels {accuracy:.1%} of the test photographs correctly (chance: 10%; "
        f"before training {start_accuracy:.1%})."
        + (
            ""
            if args.limit <= 0
            else f" It saw {len(train_labels):,} of the 50,000 training images (--limit): "
            f"the target of {TARGET:.0%} is meant for the full set."
        )
    )
    seconds = time.perf_counter() - started
    print_results(
        "LeNet-5 (1998) on CIFAR-10",
        [
            ("data", f"CIFAR-10, {len(train_labels):,} train / {len(test_labels):,} test", ""),
            ("model", "LeNet-5: conv 3->6, pool, conv 6->16, pool, 400-120-84-10", ""),
            ("parameters", f"{parameters:,}", ""),
            ("training", f"Adam, lr {LEARNING_RATE} cosine, batch {BATCH_SIZE}", ""),
            ("epochs", str(epochs), ""),
            ("test accuracy before training", f"{start_accuracy:.1%}", ""),
            ("test accuracy", f"{accuracy:.1%}", f">= {TARGET:.0%}"),
            ("training time", f"{train_seconds:.1f} s ({train_seconds / epochs:.1f} s/epoch)", ""),
        ],
        seconds,
    )
    return {
        "accuracy": accuracy,
        "start_accuracy": start_accuracy,
        "epochs": epochs,
        "history": history,
        "parameters": parameters,
        "train_images": len(train_labels),
        "train_seconds": train_seconds,
        "converged": target_met,
        "framework": str(framework_folder()),
        "seconds": seconds,
        "target_met": target_met,
    }


if __name__ == "__main__":
    sys.exit(0 if main()["target_met"] else 1)
