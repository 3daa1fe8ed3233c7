"""1957, Rosenblatt's perceptron: the learning rule finds a separating line.

Starting from all-zero weights, visit the points one by one in a shuffled order; for each
point the perceptron gets wrong, move the line towards getting it right:
    w += lr * y * x,    b += lr * y        (y is the true class, -1 or +1)
Repeat epochs until one passes without a mistake, or until --max-epochs. On data that a line
can separate, this stops after finitely many corrections.

Run from the repository root:
    python milestones/01_1957_perceptron/perceptron_trained.py [--seed N] [--plot]
"""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

MILESTONES = Path(__file__).resolve().parents[1]
if str(MILESTONES) not in sys.path:
    sys.path.insert(0, str(MILESTONES))  # so that `import common` works from any folder

from common import (  # noqa: E402
    accuracy,
    ascii_decision_plot,
    framework_banner,
    framework_folder,
    load_script,
    milestone_parser,
    need,
    print_results,
    say,
    separable_blobs,
    wants_plot,
)

if TYPE_CHECKING:
    from tinytorch.core.tensor import Tensor

forward_pass = load_script("01_1957_perceptron/forward_pass.py")

HISTORY = """\
Rosenblatt's rule learns from mistakes only: a point on the wrong side pulls the line
towards itself. Novikoff proved in 1962 that on data a line can separate with some margin,
the rule makes a bounded number of corrections and then stops."""

LEARNING_RATE = 1.0  # from a zero start any rate learns the same lines, only scaled
MAX_EPOCHS = 100


def train_perceptron(
    points: Tensor,
    labels: np.ndarray,
    weights: Tensor,
    bias: Tensor,
    rng: np.random.Generator,
    max_epochs: int = MAX_EPOCHS,
    learning_rate: float = LEARNING_RATE,
) -> tuple[Tensor, Tensor, list[int]]:
    """Rosenblatt's learning rule, one point at a time, in a fresh shuffled order each epoch.

    points (n, 2), labels (n,) in {-1, +1}, weights (2,), bias (). A point is a mistake when
    y * (x @ w + b) <= 0: lying exactly on the line counts as wrong, so after an epoch
    without mistakes every point is strictly on its own side.
    Returns the final weights and bias and the number of mistakes in each epoch; training
    converged when the last number is 0.
    """
    mistakes_per_epoch = []
    for _ in range(max_epochs):
        mistakes = 0
        for index in rng.permutation(len(labels)):
            x, y = points[int(index)], float(labels[index])  # x: (2,)
            if y * (x @ weights + bias).item() <= 0:
                weights = weights + learning_rate * y * x  # (2,)
                bias = bias + learning_rate * y  # ()
                mistakes += 1
        mistakes_per_epoch.append(mistakes)
        if mistakes == 0:
            break
    return weights, bias, mistakes_per_epoch


def print_mistakes(mistakes_per_epoch: list[int]) -> None:
    """Print the mistakes of each epoch as one wrapped line of numbers."""
    numbers = ", ".join(str(count) for count in mistakes_per_epoch)
    print(textwrap.fill(f"Mistakes per epoch: {numbers}", width=88, subsequent_indent="  "))
    print()


def main(argv: list[str] | None = None) -> dict:
    """Run the milestone; return accuracy, epochs, converged and details."""
    parser = milestone_parser(__doc__.splitlines()[0])
    parser.add_argument("--max-epochs", type=int, default=MAX_EPOCHS, help="stop after this many")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    framework_banner()
    Tensor = need("Tensor", "tinytorch.core.tensor", "Module 01")
    print(f"\n{HISTORY}\n")

    data, labels = separable_blobs(seed=args.seed)  # (200, 2), (200,)
    points = Tensor(data)
    rng = np.random.default_rng((args.seed, 1))  # a stream separate from the data's
    weights, bias = Tensor(np.zeros(2)), Tensor(0.0)  # (2,), (): every score 0, every point +1
    start_accuracy = accuracy(forward_pass.perceptron_predict(points, weights, bias), labels)
    weights, bias, mistakes_per_epoch = train_perceptron(
        points, labels, weights, bias, rng, max_epochs=args.max_epochs
    )
    print_mistakes(mistakes_per_epoch)
    final_accuracy = accuracy(forward_pass.perceptron_predict(points, weights, bias), labels)
    converged = mistakes_per_epoch[-1] == 0
    w1, w2 = weights.numpy()
    say(
        f"The learned line: {w1:+.2f} * x1 {w2:+.2f} * x2 {bias.item():+.2f} = 0. "
        f"It classifies {final_accuracy:.1%} of the points correctly."
    )

    seconds = time.perf_counter() - started
    print_results(
        "1957 perceptron, trained with Rosenblatt's rule",
        [
            ("data", f"{len(labels)} points, 2 blobs", ""),
            ("accuracy before training", f"{start_accuracy:.1%}", ""),
            ("epochs", f"{len(mistakes_per_epoch)} (max {args.max_epochs})", ""),
            ("corrections in total", str(sum(mistakes_per_epoch)), ""),
            ("converged", "yes" if converged else "no", "yes"),
            ("accuracy after training", f"{final_accuracy:.1%}", ">= 98%"),
        ],
        seconds,
    )
    if wants_plot(args):
        print("\nThe learned line:")
        print(
            ascii_decision_plot(
                lambda grid: forward_pass.perceptron_predict(Tensor(grid), weights, bias),
                data,
                labels,
            )
        )
    return {
        "accuracy": final_accuracy,
        "start_accuracy": start_accuracy,
        "epochs": len(mistakes_per_epoch),
        "mistakes_per_epoch": mistakes_per_epoch,
        "converged": converged,
        "framework": str(framework_folder()),
        "seconds": seconds,
        "target_met": converged and final_accuracy >= 0.98,
    }


if __name__ == "__main__":
    sys.exit(0 if main()["target_met"] else 1)
