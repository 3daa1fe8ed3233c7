"""1986, the multilayer perceptron on MNIST: the same network and loop, 28x28 digits.

mlp_digits.py's code (model, training loop, accuracy, table) on MNIST: 60,000 training and
10,000 test images of 28x28 pixels, loaded by Module 08's load_mnist from its cache folder.
The network is Linear(784, 128), ReLU, Linear(128, 10).

MNIST is not shipped with the course. Without --download this script only reads the cache
($TINYTORCH_DATA/mnist, else ~/.cache/tinytorch/mnist, or --data-root) and, when the files
are not there, says how to get them and exits with code 2. With --download, load_mnist
fetches the four gzipped files (about 11 MB) from public mirrors, checks their MD5
checksums and caches them.

Run from the repository root:
    python milestones/03_1986_mlp/mlp_mnist.py [--download] [--data-root DIR] [--epochs N]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # see mlp_digits.py

MILESTONES = Path(__file__).resolve().parents[1]
if str(MILESTONES) not in sys.path:
    sys.path.insert(0, str(MILESTONES))  # so that `import common` works from any folder

from common import (  # noqa: E402
    framework_banner,
    load_script,
    milestone_parser,
    need,
    stop,
)

mlp_digits = load_script("03_1986_mlp/mlp_digits.py")

HISTORY = """\
1998: Yann LeCun, Corinna Cortes and Christopher Burges published MNIST, 70,000
handwritten digits from NIST's databases, centred in 28x28 pixels. For two decades it was
the standard first test of a learning algorithm. A multilayer perceptron with one hidden
layer of 128 units, trained for a few epochs, gets about 97% to 98% of its test digits
right."""

EPOCHS = 5


MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def cache_folder(data_root: str | None) -> Path:
    """Where load_mnist looks: data_root, else $TINYTORCH_DATA/mnist, else ~/.cache/tinytorch/mnist.

    The same rule as load_mnist's `root` argument (see its docstring), for the messages.
    """
    if data_root:
        return Path(data_root).expanduser()
    if os.environ.get("TINYTORCH_DATA"):
        return Path(os.environ["TINYTORCH_DATA"]).expanduser() / "mnist"
    return Path.home() / ".cache" / "tinytorch" / "mnist"


def how_to_get_mnist(folder: Path, error: Exception) -> str:
    """The message for a missing MNIST: where it was looked for and the two ways to get it."""
    files = "\n".join(f"      {name}" for name in MNIST_FILES)
    return (
        f"MNIST is not in the cache folder {folder} yet. Get it in one of two ways:\n"
        "  - run this milestone again with --download: load_mnist fetches the four files "
        "(about 11 MB)\n    from public mirrors, checks their MD5 checksums and caches them "
        "in that folder;\n"
        f"  - or copy the four files, still gzipped, into {folder} yourself:\n{files}\n"
        "    (--data-root DIR reads them from another folder).\n"
        f"Details: {error}"
    )


def load_mnist_splits(load_mnist, data_root: str | None, download: bool) -> tuple:
    """(train, test), each (images (N, 28, 28), labels (N,)); exit 2 when the data is missing."""
    try:
        return tuple(
            load_mnist(split, root=data_root, download=download) for split in ("train", "test")
        )
    except FileNotFoundError as error:  # not cached, and download=False
        stop(how_to_get_mnist(cache_folder(data_root), error))
    except (ConnectionError, ValueError) as error:  # no mirror reachable, damaged or odd files
        stop(f"MNIST could not be loaded.\n{error}")


def main(argv: list[str] | None = None) -> dict:
    """Run the milestone; return the test accuracy, the history per epoch and details."""
    parser = milestone_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--epochs", type=int, default=EPOCHS, help=f"training epochs (default {EPOCHS})"
    )
    parser.add_argument(
        "--download",
        action="store_true",
        help="fetch MNIST from the mirrors when it is not cached (about 11 MB)",
    )
    parser.add_argument(
        "--data-root",
        metavar="DIR",
        help="the folder holding the four MNIST .gz files "
        "(default: $TINYTORCH_DATA/mnist, else ~/.cache/tinytorch/mnist)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    framework_banner()
    tt = mlp_digits.framework()
    load_mnist = need("load_mnist", "tinytorch.data.loader", "Module 08")
    (train_images, train_labels), (test_images, test_labels) = load_mnist_splits(
        load_mnist, args.data_root, args.download
    )
    tt.enable_autograd()
    print(f"\n{HISTORY}\n")
    return mlp_digits.run_experiment(
        tt,
        "1986 multilayer perceptron on MNIST",
        "MNIST",
        (mlp_digits.flatten(train_images), train_labels),
        (mlp_digits.flatten(test_images), test_labels),
        args.epochs,
        args.seed,
        started,
    )


if __name__ == "__main__":
    sys.exit(0 if main()["target_met"] else 1)
