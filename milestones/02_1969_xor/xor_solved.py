"""1986, XOR solved: a hidden layer trained by backpropagation learns exclusive or.

The four XOR corners that defeated the single perceptron of xor_crisis.py, now fed to a
multilayer perceptron: Linear(2, 8), Tanh, Linear(8, 1), Sigmoid. Its loss is the binary
cross-entropy against the targets 0 and 1; Module 05's autograd computes every gradient
with loss.backward(), and Module 06's SGD with momentum updates the weights. One epoch is
one step on all four corners. Within a few dozen epochs every corner is classified right.

Run from the repository root:
    python milestones/02_1969_xor/xor_solved.py [--seed N] [--epochs N] [--plot]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from types import SimpleNamespace

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
    wants_plot,
    xor_points,
)

HISTORY = """\
1986: David Rumelhart, Geoffrey Hinton and Ronald Williams showed in Nature how to train
the hidden layers that Minsky and Papert's single perceptron lacked: run the chain rule
backwards through the network, layer by layer ("backpropagation"). A hidden layer bends the
plane so that the four XOR corners become separable; backpropagation finds such a bend by
itself."""

HIDDEN = 8
EPOCHS = 300
LEARNING_RATE = 0.5
MOMENTUM = 0.9
LOSS_MILESTONES = (1, 10, 25, 50, 100, 200, 300, 500, 1000)  # epochs whose loss is printed


def framework() -> SimpleNamespace:
    """The tinytorch pieces this milestone uses, module by module (exit 2 for a missing one).

    Asked for in course order, so the first module missing is the one named.
    """
    return SimpleNamespace(
        Tensor=need("Tensor", "tinytorch.core.tensor", "Module 01"),
        Tanh=need("Tanh", "tinytorch.core.activations", "Module 02"),
        Sigmoid=need("Sigmoid", "tinytorch.core.activations", "Module 02"),
        Linear=need("Linear", "tinytorch.core.layers", "Module 03"),
        Sequential=need("Sequential", "tinytorch.core.layers", "Module 03"),
        BinaryCrossEntropyLoss=need("BinaryCrossEntropyLoss", "tinytorch.core.losses", "Module 04"),
        enable_autograd=need("enable_autograd", "tinytorch.core.autograd", "Module 05"),
        no_grad=need("no_grad", "tinytorch.core.autograd", "Module 05"),
        SGD=need("SGD", "tinytorch.core.optimizers", "Module 06"),
    )


def build_mlp(tt: SimpleNamespace, rng: np.random.Generator):
    """Linear(2, HIDDEN) -> Tanh -> Linear(HIDDEN, 1) -> Sigmoid: one probability per point."""
    return tt.Sequential(
        tt.Linear(2, HIDDEN, rng=rng), tt.Tanh(), tt.Linear(HIDDEN, 1, rng=rng), tt.Sigmoid()
    )


def predict_classes(tt: SimpleNamespace, model, points: np.ndarray) -> np.ndarray:
    """Classes in {-1, +1} (+1 where the predicted probability is above 0.5), for points (m, 2)."""
    with tt.no_grad():
        probabilities = model(tt.Tensor(points)).numpy()[:, 0]  # (m,)
    return np.where(probabilities > 0.5, 1.0, -1.0).astype(np.float32)


def train_xor(
    tt: SimpleNamespace, model, points: np.ndarray, labels: np.ndarray, epochs: int
) -> tuple[list[float], list[float]]:
    """Full-batch training: each epoch is one forward, one backward and one SGD step.

    points (4, 2), labels (4,) in {-1, +1}. Returns the loss and the accuracy of each
    epoch, both measured on the forward pass of that epoch (before its update).
    """
    inputs = tt.Tensor(points)
    targets = tt.Tensor(((labels + 1) / 2).reshape(-1, 1))  # (4, 1): -1 -> 0, +1 -> 1
    loss_fn = tt.BinaryCrossEntropyLoss()
    optimizer = tt.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    losses, accuracies = [], []
    for _ in range(epochs):
        probabilities = model(inputs)  # (4, 1)
        loss = loss_fn(probabilities, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        predicted = np.where(probabilities.numpy()[:, 0] > 0.5, 1.0, -1.0)
        losses.append(loss.item())
        accuracies.append(accuracy(predicted, labels))
    return losses, accuracies


def loss_chart(losses: list[float], width: int = 60, height: int = 6) -> str:
    """The loss curve as `height` rows of ASCII text, epoch 1 on the left.

    Each column is one epoch, or the mean of a run of epochs when there are more epochs
    than `width` columns; a '*' marks its loss. The scale is logarithmic, from the smallest
    loss (bottom row) to the largest (top row), so that the fall from 0.7 to 0.001 stays
    visible after the first few epochs.
    """
    values = np.asarray(losses, dtype=np.float64).clip(1e-12)
    columns = np.log10([chunk.mean() for chunk in np.array_split(values, min(width, len(values)))])
    low, high = columns.min(), columns.max()
    span = max(high - low, 1e-12)
    levels = np.minimum(((columns - low) / span * height).astype(int), height - 1)
    labels = {height - 1: f"{10**high:.4f}", 0: f"{10**low:.4f}"}
    lines = []
    for row in range(height - 1, -1, -1):
        cells = "".join("*" if level == row else " " for level in levels)
        lines.append(f"{labels.get(row, ''):>7} |{cells}".rstrip())
    lines.append(" " * 8 + "+" + "-" * len(levels))
    last = f"epoch {len(values)}" if len(values) > 1 else ""
    lines.append((" " * 9 + "epoch 1".ljust(max(8, len(levels) - len(last))) + last).rstrip())
    return "\n".join(lines)


def print_loss_curve(losses: list[float], accuracies: list[float]) -> None:
    """A few epochs' loss and accuracy, then the whole curve as an ASCII chart."""
    print("Training (one epoch = one step on the four corners):")
    for epoch in LOSS_MILESTONES:
        if epoch <= len(losses):
            print(
                f"  epoch {epoch:4d}: loss {losses[epoch - 1]:.4f}, "
                f"accuracy {accuracies[epoch - 1]:.0%}"
            )
    print("\nBinary cross-entropy per epoch (log scale):")
    print(loss_chart(losses))
    print()


def main(argv: list[str] | None = None) -> dict:
    """Run the milestone; return accuracy, epochs, converged and details."""
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

    points, labels = xor_points()  # (4, 2), (4,)
    rng = np.random.default_rng((args.seed, 2))  # a stream of its own for the weights
    model = build_mlp(tt, rng)
    start_accuracy = accuracy(predict_classes(tt, model, points), labels)
    losses, accuracies = train_xor(tt, model, points, labels, max(1, args.epochs))
    print_loss_curve(losses, accuracies)
    final_accuracy = accuracy(predict_classes(tt, model, points), labels)
    solved_at = next((i + 1 for i, value in enumerate(accuracies) if value == 1.0), None)
    converged = final_accuracy == 1.0
    parameters = sum(p.size for p in model.parameters())
    say(
        f"The network has {parameters} parameters. After {len(losses)} "
        f"epoch{'s' if len(losses) != 1 else ''} its loss is "
        f"{losses[-1]:.4f} and it classifies {final_accuracy:.0%} of the corners right"
        + (f"; all four were right from epoch {solved_at} on." if converged else ".")
        + " A single line could never do better than 75%: the hidden layer's eight tanh units"
        " give the output unit curved regions to work with."
    )

    seconds = time.perf_counter() - started
    print_results(
        "1986 XOR solved, a multilayer perceptron trained by backpropagation",
        [
            ("data", "4 corners of the unit square", ""),
            ("model", f"2-{HIDDEN}-1 MLP, tanh, sigmoid", ""),
            ("parameters", str(parameters), ""),
            ("optimizer", f"SGD, lr {LEARNING_RATE}, momentum {MOMENTUM}", ""),
            ("accuracy before training", f"{start_accuracy:.0%}", ""),
            ("epochs", str(len(losses)), ""),
            ("first epoch with 4 of 4 right", str(solved_at or "never"), ""),
            ("final loss", f"{losses[-1]:.4f}", ""),
            ("accuracy after training", f"{final_accuracy:.0%}", "100%"),
        ],
        seconds,
    )
    if wants_plot(args):
        print("\nThe regions the trained network draws:")
        print(ascii_decision_plot(lambda grid: predict_classes(tt, model, grid), points, labels))
    return {
        "accuracy": final_accuracy,
        "start_accuracy": start_accuracy,
        "epochs": len(losses),
        "losses": losses,
        "solved_at_epoch": solved_at,
        "converged": converged,
        "framework": str(framework_folder()),
        "seconds": seconds,
        "target_met": converged,
    }


if __name__ == "__main__":
    sys.exit(0 if main()["target_met"] else 1)
