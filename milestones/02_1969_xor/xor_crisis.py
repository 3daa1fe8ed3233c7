"""1969, the XOR crisis: a single-layer perceptron cannot learn exclusive or.

The learning rule of perceptron_trained.py, on the four corners of the unit square
labelled by XOR: (0, 1) and (1, 0) are +1, (0, 0) and (1, 1) are -1. The rule keeps
correcting and never finishes an epoch without a mistake, and no straight line, learned or
random, gets more than three of the four points right.

Run from the repository root:
    python milestones/02_1969_xor/xor_crisis.py [--seed N] [--plot]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

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
    wants_plot,
    xor_points,
)

forward_pass = load_script("01_1957_perceptron/forward_pass.py")
perceptron_trained = load_script("01_1957_perceptron/perceptron_trained.py")

WHY = (
    "Why: a perceptron draws one straight line, and f(x) = x @ w + b is linear, so "
    "f(1, 1) = f(0, 1) + f(1, 0) - f(0, 0) for every w and b. If (0, 1) and (1, 0) score "
    "above zero and (0, 0) below, then (1, 1) scores above zero too, on the wrong side. "
    "Some corner is always misclassified: at most 75% accuracy, whatever the training. In "
    "their 1969 book Perceptrons, Marvin Minsky and Seymour Papert worked out limits like "
    "this one for single-layer perceptrons, and interest and funding for neural networks "
    "fell away for more than a decade. The way out, a hidden layer trained by "
    "backpropagation, is xor_solved.py."
)

RANDOM_LINES = 10_000


def main(argv: list[str] | None = None) -> dict:
    """Run the milestone; return accuracy, epochs, converged and details."""
    parser = milestone_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--max-epochs", type=int, default=perceptron_trained.MAX_EPOCHS, help="stop after this many"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    framework_banner()
    Tensor = need("Tensor", "tinytorch.core.tensor", "Module 01")
    print()

    data, labels = xor_points()  # (4, 2), (4,)
    points = Tensor(data)
    rng = np.random.default_rng((args.seed, 1))
    # Start from a random line: from zeros, with whole-number corners, the rule keeps
    # producing lines that pass exactly through a corner, which is neither side.
    weights, bias = forward_pass.random_perceptrons(Tensor, rng)  # (2,), ()
    weights, bias, mistakes_per_epoch = perceptron_trained.train_perceptron(
        points, labels, weights, bias, rng, max_epochs=args.max_epochs
    )
    perceptron_trained.print_mistakes(mistakes_per_epoch)
    final_accuracy = accuracy(forward_pass.perceptron_predict(points, weights, bias), labels)
    converged = mistakes_per_epoch[-1] == 0

    # Could a luckier line do better? Try many at once: one column of weights per line.
    line_weights, line_biases = forward_pass.random_perceptrons(Tensor, rng, RANDOM_LINES)
    line_predictions = forward_pass.perceptron_predict(points, line_weights, line_biases)  # (4, k)
    best_line = float((line_predictions == labels[:, None]).mean(axis=0).max())
    say(WHY)

    seconds = time.perf_counter() - started
    print_results(
        "1969 XOR crisis, one perceptron on exclusive or",
        [
            ("data", "4 corners of the unit square", ""),
            ("epochs", f"{len(mistakes_per_epoch)} (max {args.max_epochs})", ""),
            ("mistakes in the last epoch", str(mistakes_per_epoch[-1]), "never 0"),
            ("converged", "yes" if converged else "no", "no"),
            ("accuracy after training", f"{final_accuracy:.0%}", "<= 75%"),
            (f"best of {RANDOM_LINES} random lines", f"{best_line:.0%}", "<= 75%"),
        ],
        seconds,
    )
    if wants_plot(args):
        print("\nThe line after the last epoch:")
        print(
            ascii_decision_plot(
                lambda grid: forward_pass.perceptron_predict(Tensor(grid), weights, bias),
                data,
                labels,
            )
        )
    return {
        "accuracy": final_accuracy,
        "best_random_line_accuracy": best_line,
        "epochs": len(mistakes_per_epoch),
        "mistakes_per_epoch": mistakes_per_epoch,
        "converged": converged,
        "framework": str(framework_folder()),
        "seconds": seconds,
        "target_met": not converged and final_accuracy <= 0.75,
    }


if __name__ == "__main__":
    sys.exit(0 if main()["target_met"] else 1)
