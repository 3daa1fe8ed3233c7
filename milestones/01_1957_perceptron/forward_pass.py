"""1957, Rosenblatt's perceptron: the forward pass, with random weights.

A perceptron sorts a point x into one of two classes with one straight line: it predicts
step(x @ w + b), that is +1 on one side of the line x @ w + b = 0 and -1 on the other.
Before any learning, w and b are random, so the line is a guess. This script evaluates 1000
random perceptrons at once, with a single matrix product, on two well-separated blobs of
points: on average a guess is right half of the time, which is chance.

Run from the repository root:
    python milestones/01_1957_perceptron/forward_pass.py [--seed N] [--plot]
"""

from __future__ import annotations

import sys
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
    milestone_parser,
    need,
    print_results,
    say,
    separable_blobs,
    wants_plot,
)

if TYPE_CHECKING:
    from tinytorch.core.tensor import Tensor

HISTORY = """\
1957: Frank Rosenblatt, at the Cornell Aeronautical Laboratory, described the perceptron,
a weighted sum of inputs followed by a threshold. The Mark I Perceptron machine built soon
after kept its weights in potentiometers that electric motors turned as it learned."""

RANDOM_PERCEPTRONS = 1000


def step(scores: Tensor) -> np.ndarray:
    """Rosenblatt's threshold: +1.0 where a score is >= 0, else -1.0 (float32, same shape).

    Tensor has no comparisons yet (Module 02 brings activations), so the threshold is
    applied with NumPy to the scores' values.
    """
    return np.where(scores.numpy() >= 0, 1.0, -1.0).astype(np.float32)


def perceptron_predict(points: Tensor, weights: Tensor, bias: Tensor) -> np.ndarray:
    """Classes in {-1, +1}: step(points @ weights + bias).

    points (n, 2); weights (2,) and bias () for one perceptron, giving (n,); or weights
    (2, k) and bias (k,) for k perceptrons side by side (one per column), giving (n, k).
    """
    return step(points @ weights + bias)


def random_perceptrons(
    tensor_type: type, rng: np.random.Generator, count: int | None = None
) -> tuple[Tensor, Tensor]:
    """Untrained weights and bias, every value drawn from N(0, 1), as `tensor_type` tensors.

    count None: weights (2,) and bias (), one perceptron. count k: weights (2, k) and
    bias (k,), k perceptrons, one per column.
    """
    shape = () if count is None else (count,)
    return tensor_type(rng.normal(size=(2, *shape))), tensor_type(rng.normal(size=shape))


def main(argv: list[str] | None = None) -> dict:
    """Run the milestone; return accuracy (mean over the random perceptrons) and details."""
    args = milestone_parser(__doc__.splitlines()[0]).parse_args(argv)
    started = time.perf_counter()
    framework_banner()
    Tensor = need("Tensor", "tinytorch.core.tensor", "Module 01")
    print(f"\n{HISTORY}\n")

    data, labels = separable_blobs(seed=args.seed)  # (200, 2), (200,)
    points = Tensor(data)
    rng = np.random.default_rng((args.seed, 1))  # a stream separate from the data's
    weights, bias = random_perceptrons(Tensor, rng, RANDOM_PERCEPTRONS)  # (2, k), (k,)
    predictions = perceptron_predict(points, weights, bias)  # (200, k)
    accuracies = (predictions == labels[:, None]).mean(axis=0)  # (k,)
    first = accuracy(predictions[:, 0], labels)
    mean = float(accuracies.mean())
    target_met = 0.2 <= mean <= 0.8

    say(
        f"One random perceptron is right on {first:.1%} of the points. Over "
        f"{RANDOM_PERCEPTRONS} random perceptrons the mean is {mean:.1%}: a random line points "
        "the right way as often as the wrong way. Some guesses are lucky and some exactly "
        "backwards; perceptron_trained.py learns a good line every time."
    )
    seconds = time.perf_counter() - started
    print_results(
        "1957 perceptron, forward pass with random weights",
        [
            ("data", f"{len(labels)} points, 2 blobs", ""),
            ("one random perceptron", f"{first:.1%}", ""),
            (
                f"{RANDOM_PERCEPTRONS} random perceptrons, mean",
                f"{mean:.1%}",
                "chance: 20% to 80%",
            ),
            ("  worst / best of them", f"{accuracies.min():.1%} / {accuracies.max():.1%}", ""),
        ],
        seconds,
    )
    if wants_plot(args):
        print("\nThe first random perceptron's line:")
        print(
            ascii_decision_plot(
                lambda grid: perceptron_predict(Tensor(grid), weights[:, 0], bias[0]),
                data,
                labels,
            )
        )
    return {
        "accuracy": mean,
        "single_accuracy": first,
        "worst_accuracy": float(accuracies.min()),
        "best_accuracy": float(accuracies.max()),
        "perceptrons": RANDOM_PERCEPTRONS,
        "epochs": 0,
        "converged": False,
        "framework": str(framework_folder()),
        "seconds": seconds,
        "target_met": target_met,
    }


if __name__ == "__main__":
    sys.exit(0 if main()["target_met"] else 1)
