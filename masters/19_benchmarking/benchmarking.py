# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Module 19: Benchmarking
#
# Modules 16 to 18 make models faster and smaller, and each claims a win: "2.3 times
# faster", "4 times smaller at the same accuracy". Module 15 gave you the instrument to
# measure one model. This module builds what turns measurements into **claims you can
# defend**: a benchmark harness that compares models fairly, says how sure it is, measures
# quality on real data, finds the trade-offs worth having, and writes a record that next
# week's run can be compared against.
#
# A benchmark answers "is B better than A, by how much, and how sure are we?". Every part
# of that question has a classic way to get it wrong:
#
# - **time**: a single run, or the first runs (cold caches, lazy loading), or a call so short
#   that the clock cannot see it; or the **mean** of times that are skewed by bursts of
#   noise, which only ever make runs slower;
# - **how sure**: no uncertainty at all, or a formula that does not fit. An earlier version of
#   this course reported "mean $\pm$ 1.96 standard errors" from **ten** runs. The 1.96 belongs
#   to the normal distribution, which the mean of ten skewed latencies is not, and even for
#   normal data ten runs call for 2.26. The interval is too narrow, and it is an interval
#   for the mean while the table reports medians;
# - **quality**: the same course's benchmark, given a model without an `evaluate` method,
#   **invented** its accuracy (`0.85 + noise`), and did the same inside a bare `except:`, so
#   that a model that crashed got a plausible score. A made-up number in a results table is
#   worse than a blank: it is believed;
# - **comparison**: two runs of the same code never give the same numbers. Calling every
#   difference a speedup or a regression is reading noise; a comparison must say which
#   changes are larger than the noise.
#
# ```
#   one model, one input           statistics                     many models, many runs
#   ────────────────────           ──────────────────────         ──────────────────────────
#   time_function  warm-up,        summarize     median, IQR      pareto_front  the trade-offs
#                  samples of      bootstrap_ci  an interval for  plot_pareto   (given) a PNG
#                  `number` calls                any statistic    save_report   versioned JSON
#   choose_number  calls per       throughput    items/s with     load_report   checked on read
#                  sample          its interval                   compare_reports  better, worse,
#   evaluate_quality  accuracy and loss on labelled data             or within the noise
#   └──────────────── Benchmark: one object, one clock, one report (given) ──────────────────┘
# ```
#
# ## Learning goals
#
# By the end of this notebook you can:
#
# - time a call properly: **warm-up** runs, many **samples**, enough calls per sample for the
#   clock to resolve them, and an **injectable clock** so that the timing code itself can be
#   tested exactly;
# - summarise skewed measurements with the **median** and the **interquartile range**, and
#   say why the mean and the standard deviation mislead for latencies;
# - put a **bootstrap confidence interval** on any statistic (a median latency, an accuracy,
#   a mean loss), check that it covers the truth at its nominal rate, and say why
#   "$\pm 1.96\,\sigma/\sqrt{n}$" on ten runs does not;
# - report **throughput** (tokens or images per second) with its interval;
# - measure **accuracy and loss** on real labelled data, in evaluation mode and without a
#   graph, and refuse, with an error, to report quality that was not measured;
# - find the **Pareto frontier** of several models (the ones no other model beats on every
#   metric) and plot it;
# - write a **versioned JSON report** and compare a later run against it, naming the
#   changes that are larger than the noise.

# %% [markdown]
# ## How this notebook is graded
#
# - You write code in ten places, for eight tasks. Each spot to fill in is marked with a
#   comment `# Task <task id>: ...` followed by `raise NotImplementedError()`. The docstring
#   above it is the contract: inputs, outputs, units, errors, and hints. Keep the names and
#   signatures as they are (the capstone calls them); the given cells are read-only.
# - Each task's test cell, `test_<task id>`, comes right after its code. The asserts you can
#   read there are the **visible tests**: run them as often as you like, and read their
#   messages when they fail. Timing is tested with `FakeClock` (in the checks cell): a clock
#   that moves only when the test says so, and calls whose cost in fake seconds the test
#   chooses, so the expected statistics are exact and a busy machine cannot change a verdict.
#   The few checks with the real clock (a `time.sleep` of known length) are one-sided: a busy
#   machine can only make a sleep longer.
# - When your notebook is graded, each test cell also runs **hidden tests**: the same
#   behaviours on other inputs (other samples, costs, warm-ups and numbers of calls, other
#   seeds, confidences and statistics, batches of other shapes, models in training mode,
#   point sets with ties and more objectives, reports with metrics added or removed). One of
#   them checks that your confidence intervals cover the true median at about their nominal
#   rate on hundreds of seeded synthetic data sets. A failing hidden check tells you which
#   behaviour it was about.
# - Each task is graded on its own: while a task's test runs, the code of the other tasks
#   comes from the course's reference solution, so a bug costs the points of the task it is
#   in. The last test, `test_benchmark`, is different: it benchmarks small models with
#   **your** code throughout, so it passes only when everything works together.
# - A test cell earns its points only when every check in it passes. Anything a test cell
#   writes to stderr counts as a failure.
# - Test cells are read-only and are restored before grading: do not edit, delete or copy them.
#
# | task id | what you build | points |
# |---|---|---|
# | `summary` | `summarize`: median, quartiles, interquartile range, mean, extremes | 2 |
# | `timing` | `time_function` (warm-up, samples of `number` calls) and `choose_number` | 3 |
# | `bootstrap` | `bootstrap_ci`: the percentile bootstrap of any statistic | 4 |
# | `throughput` | `throughput`: items per second from times, with its interval | 2 |
# | `quality` | `evaluate_quality`: accuracy and loss measured on labelled data, or an error | 4 |
# | `pareto` | `pareto_front`: the points no other point dominates | 3 |
# | `report` | `save_report` and `load_report`: a versioned JSON record | 2 |
# | `compare` | `compare_reports`: better, worse, or within the noise | 3 |
# | `benchmark` | (no code of its own) your tasks together behind `Benchmark` | 2 |
# | | **total** | **25** |
#
# Work in the order of the table. `Tensor`, `no_grad`, `Linear`, `Sequential`, `Dropout`
# and Module 15's `measure_memory` come from your earlier modules; when your work is graded
# they come from the course's reference solution, so a bug in an earlier module does not
# cost you points here.

# %% kind="locked" id="setup" export=true
"""tinytorch.benchmarking.benchmark: fair, honest comparisons of models.

Measured with an injectable clock: `time_function` (warm-up calls, then samples of `number`
calls each) and `choose_number` (enough calls per sample for the clock to resolve them).
Summarised by `summarize` (median, quartiles, interquartile range); made uncertain by
`bootstrap_ci` (the percentile bootstrap of any statistic) and `throughput` (items per second
with its interval). Quality is measured, never assumed: `evaluate_quality` runs a classifier
or a language model on labelled data and returns the accuracy and the cross-entropy of every
example, and raises when there is nothing to measure. `pareto_front` finds the non-dominated
trade-offs and `plot_pareto` draws them; `save_report`, `load_report` and `compare_reports`
keep a versioned JSON record that a later run is compared against, naming the changes larger
than the noise. `Benchmark` puts them behind one object.
Written by students in Module 19.
"""

import json
import os
import platform
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from tinytorch.core.autograd import no_grad
from tinytorch.core.tensor import Tensor
from tinytorch.profiling.profiler import measure_memory

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "summarize",
    "time_function",
    "choose_number",
    "bootstrap_ci",
    "throughput",
    "evaluate_quality",
    "pareto_front",
    "plot_pareto",
    "metric",
    "environment",
    "save_report",
    "load_report",
    "compare_reports",
    "format_comparison",
    "Benchmark",
]

SCHEMA = "tinytorch-benchmark-report"  # the "schema" field of every report
SCHEMA_VERSION = 1  # the "version" field: raise it when the meaning of a field changes

# %% [markdown]
# **Given: the input checks.** The read-only cell below checks what your functions receive,
# so that your code can rely on it and every error message is the same:
#
# - `_as_samples(samples, who, minimum=1)` returns a new float64 array of a 1-D sequence of
#   at least `minimum` finite numbers; `_check_times` also requires every time to be above 0;
# - `_check_timing`, `_check_calibration` and `_check_confidence` check the counts and
#   settings of a measurement; `_check_items` the number of items per call;
# - `_as_callable(model, who)` returns what to call: the model itself when it is callable
#   (a `Layer`, a function), else its `forward` method; anything else raises `TypeError`;
# - `_class_targets(targets, logits_shape, who)` returns the class labels as an int64 array
#   of shape `logits_shape[:-1]`, each in `0 .. C - 1`;
# - `_as_points(points, maximize, who)` returns the points as a float64 `(n, k)` array and
#   the directions as a boolean array of `k` entries;
# - `_results_of(report, who)` returns the `"results"` of a report after checking that every
#   metric in it is well formed (see `metric`, further down).


# %% kind="locked" id="input_checks" export=true
def _as_samples(samples, who: str, minimum: int = 1) -> np.ndarray:
    """samples (a list, tuple or 1-D array of numbers) as a new float64 array.

    Raises:
        ValueError: for anything that is not a 1-D sequence of at least `minimum` numbers,
            or that holds NaN or an infinity.
    """
    try:
        x = np.array(samples, dtype=np.float64)  # a copy: the caller's data never changes
    except (TypeError, ValueError) as error:
        raise ValueError(f"{who}: samples must be numbers, got {samples!r:.80}") from error
    if x.ndim != 1 or x.size < minimum:
        raise ValueError(
            f"{who}: need a 1-D sequence of at least {minimum} number(s), got shape {x.shape}"
        )
    if not np.isfinite(x).all():
        raise ValueError(f"{who}: samples must be finite numbers (no NaN or infinity)")
    return x


def _check_times(times, who: str) -> np.ndarray:
    """times (seconds per call, at least 2) as a new float64 array; every time above 0.

    Raises:
        ValueError: from _as_samples, or for a time <= 0 (a call shorter than the clock can
            resolve: time several calls per sample).
    """
    x = _as_samples(times, who, minimum=2)
    if (x <= 0).any():
        raise ValueError(
            f"{who}: every time must be above 0 s, got {x.min()!r}: the calls are shorter than "
            "the clock can resolve; time several calls per sample (number=...)"
        )
    return x


def _is_count(n) -> bool:
    return isinstance(n, int | np.integer) and not isinstance(n, bool)


def _check_timing(warmup: int, repeats: int, number: int, who: str) -> None:
    """Whole numbers with warmup >= 0, repeats >= 1 and number >= 1.

    Raises:
        ValueError: otherwise, naming all three.
    """
    if not all(_is_count(n) for n in (warmup, repeats, number)) or (
        warmup < 0 or repeats < 1 or number < 1
    ):
        raise ValueError(
            f"{who}: need whole numbers warmup >= 0, repeats >= 1 and number >= 1, got "
            f"warmup={warmup!r}, repeats={repeats!r}, number={number!r}"
        )


def _check_calibration(min_time: float, max_number: int, who: str) -> None:
    """min_time is a number >= 0 and max_number a whole number >= 1.

    Raises:
        ValueError: otherwise, naming both.
    """
    if not (isinstance(min_time, int | float) and 0 <= min_time < float("inf")) or not (
        _is_count(max_number) and max_number >= 1
    ):
        raise ValueError(
            f"{who}: need min_time >= 0 seconds and a whole max_number >= 1, got "
            f"min_time={min_time!r}, max_number={max_number!r}"
        )


def _check_confidence(confidence: float, resamples: int, who: str) -> None:
    """0 < confidence < 1 and resamples a whole number >= 1.

    Raises:
        ValueError: otherwise, naming both.
    """
    if not (isinstance(confidence, int | float) and 0 < confidence < 1) or not (
        _is_count(resamples) and resamples >= 1
    ):
        raise ValueError(
            f"{who}: need 0 < confidence < 1 (0.95 for a 95% interval) and a whole number of "
            f"resamples >= 1, got confidence={confidence!r}, resamples={resamples!r}"
        )


def _check_items(items, who: str) -> None:
    """items (the items one call processes: tokens, images) is a number above 0.

    Raises:
        ValueError: otherwise.
    """
    if isinstance(items, bool) or not isinstance(items, int | float | np.number) or not items > 0:
        raise ValueError(f"{who}: items per call must be a number above 0, got {items!r}")


def _as_callable(model, who: str) -> Callable:
    """What to call to run `model`: the model itself when callable, else model.forward.

    Raises:
        TypeError: for a model that is neither callable nor has a callable forward.
    """
    if callable(model):
        return model
    forward = getattr(model, "forward", None)
    if callable(forward):
        return forward
    raise TypeError(
        f"{who}: {type(model).__name__} is neither callable nor has a forward method: there is "
        "nothing to run, so nothing can be measured"
    )


def _class_targets(targets, logits_shape: tuple, who: str) -> np.ndarray:
    """The class labels of a batch as an int64 array of shape logits_shape[:-1].

    Args:
        targets: a Tensor, an array or a list of whole numbers (floats like 3.0 are accepted:
            a Tensor holds float32).
        logits_shape: the shape of the model's output, (..., C).

    Raises:
        ValueError: for another shape, a label that is not a whole number, or a label
            outside 0 .. C - 1.
    """
    labels = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
    if len(logits_shape) == 0 or labels.shape != tuple(logits_shape[:-1]):
        raise ValueError(
            f"{who}: the model's output has shape {tuple(logits_shape)}, so the targets should "
            f"have shape {tuple(logits_shape[:-1])} (one class label per row), got {labels.shape}"
        )
    if labels.dtype.kind not in "iuf" or (labels != np.round(labels)).any():
        raise ValueError(f"{who}: targets must be whole class numbers, got dtype {labels.dtype}")
    classes = logits_shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(
            f"{who}: targets must lie in 0 .. {classes - 1} for {classes} classes, got "
            f"{labels.min()} .. {labels.max()}"
        )
    return labels.astype(np.int64)


def _as_points(points, maximize, who: str) -> tuple[np.ndarray, np.ndarray]:
    """points as a float64 array (n, k), n >= 1, and maximize as a bool array (k,).

    Raises:
        ValueError: for points that are not a finite (n, k) table, or a maximize whose
            length is not k.
    """
    p = np.array(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] < 1 or p.shape[1] < 1 or not np.isfinite(p).all():
        raise ValueError(
            f"{who}: points must be a finite table (n points, k metrics) with n, k >= 1, got "
            f"shape {p.shape}"
        )
    directions = np.array(maximize, dtype=bool).reshape(-1)
    if directions.shape != (p.shape[1],):
        raise ValueError(
            f"{who}: maximize needs one True/False per metric ({p.shape[1]}), got {maximize!r}"
        )
    return p, directions


def _check_results(results, who: str) -> None:
    """results is {benchmark name: {metric name: metric}}, every metric well formed: a dict
    with finite numbers "value", "low" <= "high" and "better" "lower" or "higher".

    Raises:
        ValueError: otherwise, naming the first entry that is not.
    """
    if not isinstance(results, dict):
        raise ValueError(f"{who}: results must be a dict of benchmarks, got {results!r:.80}")
    for name, metrics in results.items():
        if not isinstance(name, str) or not isinstance(metrics, dict):
            raise ValueError(f"{who}: results[{name!r}] must be a dict of metrics")
        for key, entry in metrics.items():
            where = f"{who}: results[{name!r}][{key!r}]"
            if not isinstance(entry, dict) or entry.get("better") not in ("lower", "higher"):
                raise ValueError(f"{where} needs 'better': 'lower' or 'higher', got {entry!r:.80}")
            numbers = [entry.get(k) for k in ("value", "low", "high")]
            if not all(
                isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v)
                for v in numbers
            ):
                raise ValueError(
                    f"{where} needs finite numbers value, low, high, got {entry!r:.80}"
                )
            if numbers[1] > numbers[2]:
                raise ValueError(f"{where}: low {numbers[1]} is above high {numbers[2]}")


def _results_of(report, who: str) -> dict:
    """The "results" of a report (a dict as load_report returns), checked.

    Raises:
        ValueError: for something that is not a report with well-formed results.
    """
    if not isinstance(report, dict) or "results" not in report:
        raise ValueError(f"{who}: expected a report (a dict with 'results'), got {report!r:.80}")
    _check_results(report["results"], who)
    return report["results"]


# %% [markdown]
# ## Checks
#
# The read-only cell below holds what the tests share. The first part is the same in every
# module: `assert_tensor`, `assert_array` and `check_close` compare values the way
# `np.allclose` does, `check_equal` compares exactly, and `raised` returns the exception a
# call raised. The second part is this module's own:
#
# - `FakeClock(tick=0.0)`: a clock for tests. `clock()` returns the current fake time in
#   seconds and then moves it on by `tick`; `clock.advance(seconds)` moves it on. Your
#   functions take it wherever they take a clock, so what they measure is exactly what the
#   test arranged (the same clock as in Module 15). Read more than a million times, it
#   raises `RuntimeError`, so a loop that never ends fails at once instead of hanging;
# - `CostlyCall(clock, costs)`: a callable whose every call moves `clock` on by a cost in
#   fake seconds (a number for every call, or a list with one cost per call, in order) and
#   counts itself in `.calls`. Called more often than the test planned, it raises
#   `RuntimeError`, so a loop that never ends fails at once instead of hanging;
# - `ModeSpy(outputs)`: a `Layer` that returns the next of the arrays `outputs` as a Tensor
#   at each call and records in `.seen` a pair per call: was it in training mode, and was
#   autograd recording (`is_grad_enabled()`)?
# - `report_of(results)`: a report dict as `load_report` returns it, around `results`.


# %% kind="locked" id="checks" include="checks"
import tempfile  # noqa: E402

from tinytorch.core.autograd import is_grad_enabled  # noqa: E402
from tinytorch.core.layers import Dropout, Layer, Linear, Sequential  # noqa: E402


class FakeClock:
    """A clock the tests control: clock() returns the fake time in seconds, then moves it on
    by `tick`; advance(seconds) moves it on. `readings` counts the calls; reading it more
    than `limit` times raises RuntimeError (a loop that never ends)."""

    def __init__(self, tick: float = 0.0, limit: int = 1_000_000):
        self.now, self.tick, self.readings, self.limit = 0.0, tick, 0, limit

    def __call__(self) -> float:
        if self.readings >= self.limit:
            raise RuntimeError(f"the clock was read {self.readings} times: a loop that never ends?")
        value = self.now
        self.now += self.tick
        self.readings += 1
        return value

    def advance(self, seconds: float) -> None:
        self.now += seconds


class CostlyCall:
    """A callable that moves `clock` on by a cost per call: `costs` is a number (every call)
    or a list (one per call, in order). `calls` counts the calls; a call past the end of the
    list, or past `limit` calls, raises RuntimeError."""

    def __init__(self, clock, costs, limit: int = 100_000):
        self.clock, self.costs, self.limit, self.calls = clock, costs, limit, 0

    def __call__(self, *args):
        planned = len(self.costs) if isinstance(self.costs, list) else self.limit
        if self.calls >= min(planned, self.limit):
            raise RuntimeError(f"called more than the {self.calls} times the test planned")
        cost = self.costs[self.calls] if isinstance(self.costs, list) else self.costs
        self.calls += 1
        self.clock.advance(cost)
        return None


class ModeSpy(Layer):
    """A model returning Tensor(outputs[i]) at its i-th call; `seen` records, per call,
    (self.training, is_grad_enabled())."""

    def __init__(self, outputs):
        super().__init__()
        self.outputs, self.seen = list(outputs), []

    def forward(self, x):
        self.seen.append((self.training, is_grad_enabled()))
        return Tensor(self.outputs[len(self.seen) - 1])


def report_of(results: dict) -> dict:
    """A report around results, as load_report returns one."""
    return {"schema": SCHEMA, "version": SCHEMA_VERSION, "environment": {}, "results": results}


# %% [markdown]
# # Part 1: measuring time
#
# ## Task `summary`: the median and the interquartile range (2 points)
#
# Time the same call twenty times and you get twenty different numbers. Their distribution
# has a typical shape: a dense cluster near the fastest possible time, and a **long tail to
# the right**. Noise (an interrupt, another program on the core, a cache flushed by a
# neighbour) only ever **adds** time, and it comes in bursts, so a few runs are much slower
# than the rest and none is much faster.
#
# ```
#   runs (ms):  4.1 3.9 4.0 4.3 3.8 4.0 4.2 3.9 4.1 19.7
#               └──────────── cluster ────────────┘  tail
#   median 4.05   quartiles 3.925 .. 4.175 (IQR 0.25)   mean 5.6   standard deviation 5.0
# ```
#
# The **mean** and the **standard deviation** treat the one slow run as information. Had it
# taken 4.0 ms like its neighbours, the mean would be 4.03 and the standard deviation 0.15:
# one burst of noise moves the mean by 40% and the standard deviation thirty-fold. The
# **median** (half the runs were faster) and the **quartiles** ($Q_1$: a quarter of the runs
# were faster, $Q_3$: three quarters) barely notice it: the median moves from 4.0 to 4.05. Their distance, the **interquartile range**
# $\text{IQR} = Q_3 - Q_1$, is the spread of the middle half of the runs: a robust
# replacement for the standard deviation. Benchmark tables report "median (IQR)", and so do
# we. The minimum and the maximum stay useful: the minimum is the best the machine can do,
# the maximum shows how bad the tail gets.
#
# Quantiles of a finite sample need a rule between the data points. We use NumPy's default
# (`np.percentile(x, q)`, "linear"): sort the $n$ values, go to position $(n - 1)\,q / 100$
# (counting from 0), and interpolate linearly between the two values around it. For the ten
# runs above, $Q_1$ sits at position 2.25: a quarter of the way from 3.9 (the third
# smallest) to 4.0 (the fourth), 3.925.
#
# Contract of `summarize(samples)`:
#
# - `samples`: a 1-D sequence of at least one finite number (the given `_as_samples` checks
#   it and returns a float64 array; it raises `ValueError` otherwise);
# - returns a dict: `"n"`, the number of samples as a Python `int`, and the Python floats
#   `"median"`, `"q1"` and `"q3"` (`np.percentile` at 50, 25 and 75), `"iqr"` ($Q_3 -
#   Q_1$), `"mean"`, `"min"` and `"max"`.


# %% kind="solution" id="summary" export=true
def summarize(samples) -> dict:
    """The robust summary of a set of measurements.

    Args:
        samples: a 1-D sequence of finite numbers (seconds, bytes, ...), at least one.

    Returns:
        {"n": int, "median", "q1", "q3", "iqr", "mean", "min", "max": Python floats}, with
        q1, median and q3 the 25th, 50th and 75th percentiles (np.percentile's default
        linear rule) and iqr = q3 - q1.

    Raises:
        ValueError: from the given check, for an empty, non-1-D or non-finite input.

    Hint: np.percentile(x, [25, 50, 75]) returns the three quartiles at once.
    """
    x = _as_samples(samples, "summarize")
    # Task summary: the quartiles, their distance, and the plain statistics, as Python numbers.
    ### BEGIN SOLUTION
    q1, median, q3 = np.percentile(x, [25, 50, 75])
    return {
        "n": int(x.size),
        "median": float(median),
        "q1": float(q1),
        "q3": float(q3),
        "iqr": float(q3 - q1),
        "mean": float(np.mean(x)),
        "min": float(np.min(x)),
        "max": float(np.max(x)),
    }
    ### END SOLUTION


# %% [markdown]
# ### Test `summary`

# %% kind="test" id="test_summary" points=2
runs = [4.1, 3.9, 4.0, 4.3, 3.8, 4.0, 4.2, 3.9, 4.1, 19.7]
stats = summarize(runs)
assert isinstance(stats, dict), f"summarize should return a dict, got {type(stats).__name__}."
expected = {
    "median": 4.05,
    "q1": 3.925,
    "q3": 4.175,
    "iqr": 0.25,
    "mean": 5.6,
    "min": 3.8,
    "max": 19.7,
}
for key, value in expected.items():
    got = stats.get(key)
    assert type(got) is float and abs(got - value) < 1e-9, (
        f"summarize(runs)['{key}'] should be the Python float {value} for the ten runs of the "
        f"text, got {got!r}. Quartiles: np.percentile(x, 25) and np.percentile(x, 75)."
    )
assert type(stats.get("n")) is int and stats["n"] == 10, (
    f"summarize(runs)['n'] should be the int 10, got {stats.get('n')!r}."
)
one = summarize([2.5])
assert one["median"] == one["q1"] == one["q3"] == one["min"] == one["max"] == 2.5, (
    f"One sample is its own median, quartiles and extremes, got {one}."
)
assert one["iqr"] == 0.0 and one["n"] == 1, f"One sample has an IQR of 0, got {one}."
assert isinstance(raised(lambda: summarize([])), ValueError), (
    "summarize([]) should raise ValueError (the given check)."
)

### BEGIN HIDDEN TESTS
# hidden: the quartiles interpolate linearly between sorted samples, in any order
rng = np.random.default_rng(19)
for _h_n in (2, 3, 4, 7, 12, 41):
    _h_x = rng.lognormal(-5.0, 0.7, size=_h_n)
    stats = summarize(list(_h_x))
    _h_sorted = np.sort(_h_x)
    for key, q in (("q1", 25), ("median", 50), ("q3", 75)):
        position = q / 100 * (_h_n - 1)
        low = int(np.floor(position))
        high = min(low + 1, _h_n - 1)
        value = _h_sorted[low] + (position - low) * (_h_sorted[high] - _h_sorted[low])
        assert type(stats.get(key)) is float, "quartiles are Python floats"
        assert check_close(stats[key], value, rtol=1e-12, atol=0.0), (
            "the 25th, 50th and 75th percentiles with linear interpolation"
        )
    # hidden: the IQR is the third quartile minus the first
    assert check_close(stats["iqr"], stats["q3"] - stats["q1"], rtol=1e-12, atol=0.0), (
        "the IQR is q3 - q1"
    )
    assert stats["iqr"] >= 0.0, "the IQR is never negative"
    # hidden: the mean and the extremes are those of the samples
    assert check_close(
        [stats["mean"], stats["min"], stats["max"]],
        [_h_x.sum() / _h_n, _h_sorted[0], _h_sorted[-1]],
        rtol=1e-12,
        atol=0.0,
    ), "mean, minimum and maximum"
    assert type(stats["n"]) is int and stats["n"] == _h_n, "n counts the samples"
    assert all(type(stats[k]) is float for k in ("iqr", "mean", "min", "max")), (
        "statistics are Python floats"
    )
# hidden: negative values, an even number of samples and a NumPy array input
stats = summarize(np.array([-3.0, 5.0, 1.0, -1.0]))
assert check_close(
    [stats["median"], stats["q1"], stats["q3"], stats["iqr"], stats["mean"]],
    [0.0, -1.5, 2.0, 3.5, 0.5],
    rtol=1e-12,
), "the median of an even count is the mean of the middle two; quartiles interpolate"
assert check_close([stats["min"], stats["max"]], [-3.0, 5.0]), "the extremes"
# hidden: the summary has exactly its eight keys
assert set(stats) == {"n", "median", "q1", "q3", "iqr", "mean", "min", "max"}, "eight keys"
# hidden: invalid samples raise ValueError
for _h_bad in ([], [[1.0, 2.0]], [1.0, float("nan")], [float("inf")]):
    assert isinstance(raised(lambda b=_h_bad: summarize(b)), ValueError), (
        "empty, 2-D or non-finite samples raise ValueError"
    )
### END HIDDEN TESTS

# %% [markdown]
# ## Task `timing`: warm-up, samples, and enough calls per sample (3 points)
#
# Module 15's `measure_latency` timed every call on its own. That works for a forward pass
# of milliseconds. It fails for short calls, because the clock has limits of its own:
#
# - **resolution**: a clock advances in steps: tens of nanoseconds for `time.perf_counter()`
#   on Linux, but 15.6 ms for `time.time()` on older Windows. A call shorter than a step
#   measures 0 or one step;
# - **cost**: reading the clock takes time too, some tens of nanoseconds. Timing a call of
#   100 ns one by one measures the call plus the clock, and mostly the clock.
#
# The classic remedy, used by Python's `timeit`: time a **batch** of `number` calls in one
# pair of clock readings and divide by `number`. Each **sample** is then the average time per
# call over the batch, the clock's cost is shared by `number` calls, and its step is divided
# by `number`. We take `repeats` such samples (the statistics of Part 2 need several), after
# `warmup` untimed calls that pay the one-off costs (cold caches, first allocations, lazy
# loading):
#
# ```
#   warm-up (untimed)      sample 1                 sample 2                  ...  sample repeats
#   fn() fn()              t0 [fn() x number] t1    t0 [fn() x number] t1
#                          (t1 - t0) / number       (t1 - t0) / number
# ```
#
# How large should `number` be? Large enough that one sample lasts clearly longer than a
# clock step and a clock reading: `timeit` aims at 0.2 s per sample; with `perf_counter` a
# millisecond is already 20,000 steps. (Too long has a cost too, which the systems analysis
# measures: on a busy machine a long batch is likely to be interrupted.) `choose_number`
# finds it by trying batches of 1, 2, 4, 8, ... calls, each timed as a whole, until a batch
# lasts at least `min_time`; it returns that batch's size. Doubling needs few trials (a
# call of 1 microsecond reaches 10 ms with its 15th batch, 16,384 calls, after about 33 ms
# of calls in all), and those trials double as extra warm-up. `max_number` caps the search
# for calls that are fast or that the clock does not see at all: the batches never exceed
# it, and a batch of `max_number` calls ends the search whatever it lasted.
#
# Both functions take the clock as an argument, `clock=time.perf_counter`; the tests pass a
# `FakeClock` and calls whose costs they choose, so the expected numbers are exact.
#
# Contracts:
#
# - `time_function(fn, warmup=1, repeats=10, number=1, clock=time.perf_counter)`: calls
#   `fn()` `warmup` times untimed; then, for each of the `repeats` samples, reads the clock,
#   calls `fn()` `number` times, reads the clock again, and records (second reading - first
#   reading) / `number`. Returns the samples as a float64 NumPy array of shape `(repeats,)`,
#   in order. The given `_check_timing` raises `ValueError` for `warmup < 0`,
#   `repeats < 1` or `number < 1`.
# - `choose_number(fn, min_time=0.01, max_number=1_000_000, clock=time.perf_counter)`:
#   starting at `number = 1`, times a batch of `number` calls of `fn()` (one clock reading
#   before, one after); returns `number` when the batch lasted at least `min_time` seconds or
#   when `number >= max_number`; otherwise doubles `number` (but to no more than
#   `max_number`) and times a new batch. Returns a Python `int`. The given
#   `_check_calibration` raises `ValueError` for `min_time < 0` or `max_number < 1`.


# %% kind="solution" id="timing" export=true
def time_function(
    fn: Callable[[], object],
    warmup: int = 1,
    repeats: int = 10,
    number: int = 1,
    clock: Callable[[], float] = time.perf_counter,
) -> np.ndarray:
    """Seconds per call of fn(): `repeats` samples, each the mean over a batch of `number`
    calls timed together, after `warmup` untimed calls.

    Calls fn() warmup times; then, per sample: start = clock(), fn() number times,
    (clock() - start) / number.

    Returns:
        a float64 array (repeats,) of seconds per call, in the order the samples were taken.

    Raises:
        ValueError: from the given check, for warmup < 0, repeats < 1 or number < 1.
    """
    _check_timing(warmup, repeats, number, "time_function")
    # Task timing: warm up, then time `repeats` batches of `number` calls, per call.
    ### BEGIN SOLUTION
    for _ in range(warmup):
        fn()
    times = np.zeros(repeats)
    for sample in range(repeats):
        start = clock()
        for _ in range(number):
            fn()
        times[sample] = (clock() - start) / number
    return times
    ### END SOLUTION


def choose_number(
    fn: Callable[[], object],
    min_time: float = 0.01,
    max_number: int = 1_000_000,
    clock: Callable[[], float] = time.perf_counter,
) -> int:
    """The number of calls per sample: the first of 1, 2, 4, 8, ... (capped at max_number)
    whose batch of calls, timed as a whole, lasts at least min_time seconds.

    Starting at number = 1: time a batch of `number` calls (one clock reading before, one
    after); return number if the batch lasted >= min_time or number >= max_number; else
    number = min(2 * number, max_number) and time a new batch.

    Returns:
        a Python int between 1 and max_number.

    Raises:
        ValueError: from the given check, for min_time < 0 or max_number < 1.

    Hint: `while True:` with a `return` inside; min(2 * number, max_number) caps the growth.
    """
    _check_calibration(min_time, max_number, "choose_number")
    # Task timing: time batches of 1, 2, 4, ... calls until one lasts min_time or the cap.
    ### BEGIN SOLUTION
    number = 1
    while True:
        start = clock()
        for _ in range(number):
            fn()
        if clock() - start >= min_time or number >= max_number:
            return int(number)
        number = min(2 * number, max_number)
    ### END SOLUTION


# %% [markdown]
# ### Test `timing`

# %% kind="test" id="test_timing" points=3
clock = FakeClock()
call = CostlyCall(clock, [0.5, 0.25, 0.004, 0.002, 0.003, 0.010, 0.001])  # 2 warm-up, 5 timed
times = time_function(call, warmup=2, repeats=5, clock=clock)
assert call.calls == 7, (
    f"time_function(fn, warmup=2, repeats=5) should call fn 7 times, called it {call.calls} times."
)
assert isinstance(times, np.ndarray) and times.dtype == np.float64, (
    f"time_function should return a float64 NumPy array, got {type(times).__name__} "
    f"{getattr(times, 'dtype', '')}."
)
assert_array(
    times,
    [0.004, 0.002, 0.003, 0.010, 0.001],
    "time_function(fn, warmup=2, repeats=5): the five timed calls in order, without the two "
    "warm-up calls (which cost 0.5 and 0.25 fake seconds)",
)

clock = FakeClock()
call = CostlyCall(clock, [1.0] + [0.001, 0.003, 0.002, 0.006] * 2)  # 1 warm-up, 2 samples of 4
times = time_function(call, warmup=1, repeats=2, number=4, clock=clock)
assert call.calls == 9, f"warmup=1, repeats=2, number=4: 1 + 2 * 4 = 9 calls, got {call.calls}."
assert_array(
    times,
    [0.003, 0.003],
    "time_function(..., repeats=2, number=4): each sample is a batch of 4 calls costing "
    "0.012 fake seconds together, divided by 4",
)
assert isinstance(raised(lambda: time_function(call, repeats=0, clock=clock)), ValueError), (
    "repeats=0 should raise ValueError (the given check)."
)

clock = FakeClock()
call = CostlyCall(clock, 0.001)
number = choose_number(call, min_time=0.01, clock=clock)
assert type(number) is int and number == 16, (
    f"choose_number on a call of 0.001 fake seconds with min_time=0.01: batches of 1, 2, 4, 8 "
    f"last 0.001 to 0.008 s, the batch of 16 lasts 0.016 s, so 16; got {number!r}."
)
assert call.calls == 1 + 2 + 4 + 8 + 16, (
    f"choose_number should time batches of 1, 2, 4, 8 and 16 calls: 31 calls, got {call.calls}."
)
clock = FakeClock()
number = choose_number(CostlyCall(clock, 0.0), min_time=0.01, max_number=5, clock=clock)
assert number == 5, (
    f"A call the clock does not see never reaches min_time: choose_number should stop at "
    f"max_number=5 (batches of 1, 2, 4, then 5), got {number!r}."
)

real = time_function(lambda: time.sleep(0.005), warmup=1, repeats=3)
assert 0.0049 <= real.min() and np.median(real) < 1.0, (
    f"With the default clock, a call that sleeps 5 ms takes at least 0.005 s (a busy machine "
    f"can only make it longer), got {real!r}: the default clock should be time.perf_counter."
)

### BEGIN HIDDEN TESTS
# hidden: warm-up calls are untimed and every sample is its own batch, divided by number
for _h_warmup, _h_repeats, _h_number in ((0, 3, 1), (3, 2, 2), (1, 4, 3), (2, 1, 5)):
    clock = FakeClock()
    _h_costs = [float(2 ** -(i % 7)) for i in range(_h_warmup + _h_repeats * _h_number)]
    call = CostlyCall(clock, list(_h_costs))
    times = time_function(call, warmup=_h_warmup, repeats=_h_repeats, number=_h_number, clock=clock)
    assert call.calls == _h_warmup + _h_repeats * _h_number, (
        "fn runs warmup + repeats * number times"
    )
    assert isinstance(times, np.ndarray) and times.dtype == np.float64, "a float64 array"
    _h_timed = np.array(_h_costs[_h_warmup:]).reshape(_h_repeats, _h_number)
    assert check_close(times, _h_timed.sum(axis=1) / _h_number, rtol=1e-12, atol=0.0), (
        "each sample is the time of its batch divided by number, in order"
    )
# hidden: a clock that also ticks at every reading is read twice per sample
clock = FakeClock(tick=0.5)
times = time_function(CostlyCall(clock, 1.0), warmup=0, repeats=3, number=2, clock=clock)
assert check_close(times, [1.25, 1.25, 1.25], rtol=1e-12), (
    "one clock reading before the batch and one after"
)
assert clock.readings == 6, "two clock readings per sample"
# hidden: the defaults are one warm-up call, ten samples, one call per sample
clock = FakeClock()
call = CostlyCall(clock, 0.25)
times = time_function(call, clock=clock)
assert call.calls == 11 and times.shape == (10,), "warmup=1, repeats=10, number=1"
assert check_close(times, np.full(10, 0.25)), "every sample costs its own time"
# hidden: invalid counts raise ValueError
for _h_w, _h_r, _h_num in ((-1, 3, 1), (0, 0, 1), (0, 2, 0)):
    _h_err = raised(lambda w=_h_w, r=_h_r, k=_h_num: time_function(call, w, r, k, clock))
    assert isinstance(_h_err, ValueError), "invalid counts raise ValueError"
# hidden: choose_number returns the first batch size whose batch lasts at least min_time
for _h_cost, _h_min, _h_expected in (
    (2.0**-10, 2.0**-7, 8),
    (2.0**-10, 2.0**-7 + 2.0**-12, 16),
    (0.25, 0.1, 1),
    (0.25, 0.25, 1),
    (0.125, 0.25, 2),
    (1e-6, 0.001, 1024),
    (0.5, 0.0, 1),
):
    clock = FakeClock()
    call = CostlyCall(clock, _h_cost)
    number = choose_number(call, min_time=_h_min, clock=clock)
    assert type(number) is int and number == _h_expected, (
        "batches of 1, 2, 4, ... until one lasts at least min_time"
    )
    assert call.calls == 2 * _h_expected - 1, "every batch up to the chosen one is timed once"
# hidden: a batch that reaches min_time only through the clock's own ticks counts
clock = FakeClock(tick=0.004)
number = choose_number(CostlyCall(clock, 0.001), min_time=0.01, clock=clock)
assert number == 8, "the batch is timed from one clock reading to the next"
# hidden: the batches never exceed max_number, and max_number ends the search
for _h_cap, _h_sizes in ((1, [1]), (3, [1, 2, 3]), (8, [1, 2, 4, 8]), (12, [1, 2, 4, 8, 12])):
    clock = FakeClock()
    call = CostlyCall(clock, 0.0, limit=sum(_h_sizes))
    number = choose_number(call, min_time=1.0, max_number=_h_cap, clock=clock)
    assert number == _h_cap and call.calls == sum(_h_sizes), (
        "the search stops at max_number, with batches capped at it"
    )
# hidden: the default is min_time=0.01
clock = FakeClock()
assert choose_number(CostlyCall(clock, 0.0011), clock=clock) == 16, "min_time=0.01"
# hidden: invalid settings raise ValueError
for _h_min, _h_cap in ((-0.1, 10), (0.01, 0)):
    _h_err = raised(lambda m=_h_min, c=_h_cap: choose_number(call, m, c, clock))
    assert isinstance(_h_err, ValueError), "min_time < 0 or max_number < 1 raises ValueError"
# hidden: a real sleep of known length is measured at least that long, and not far above
real = time_function(lambda: time.sleep(0.01), warmup=1, repeats=4, number=2)
assert real.shape == (4,) and real.min() >= 0.0099, "a real call is never faster than it is"
assert float(np.median(real)) < 0.5, "the default clock measures seconds"
_h_sleeps = choose_number(lambda: time.sleep(0.003), min_time=0.01)
assert _h_sleeps in (1, 2, 4), "four sleeps of 3 ms always last 10 ms or more"
### END HIDDEN TESTS

# %% [markdown]
# # Part 2: how sure are we?
#
# ## Task `bootstrap`: an interval for any statistic (4 points)
#
# Twenty runs give a median of 4.05 ms. Twenty other runs, on the same machine a minute
# later, would give another median: 4.01, or 4.12. The median we report is one draw from a
# distribution of medians we could have got, and a claim such as "B is 3% faster than A"
# means something only if that distribution is narrower than 3%. A **confidence interval**
# describes it: a range computed from the data that, in repeated experiments, contains the
# true value (here: the median latency of the call, over all the runs we could make) in a
# chosen share of them, for instance 95%.
#
# The textbook interval is $\bar{x} \pm 1.96\, s / \sqrt{n}$. It is right under three
# conditions, and a latency benchmark meets none of them:
#
# 1. it is an interval for the **mean**, and we report the median;
# 2. the 1.96 assumes the mean is normally distributed, which the central limit theorem
#    delivers only for large $n$. Latencies are skewed, and with ten of them the mean is
#    skewed too;
# 3. even for normal data, estimating $\sigma$ from ten runs calls for Student's $t$:
#    2.26 instead of 1.96 for $n = 10$. With 1.96 the "95%" interval covers the mean only
#    about 92% of the time, before the skew makes it worse.
#
# The **bootstrap** (Efron, 1979) needs no formula. The sample is our best picture of the
# distribution it came from, so we treat it as the population: draw $n$ values **with
# replacement** from the $n$ we have (a *resample*: some runs appear twice, some not at
# all), compute the statistic on it, and repeat a few thousand times. The spread of the
# statistic over the resamples estimates its spread over repeated experiments. The
# **percentile interval** at confidence $c$ keeps the middle $c$ of the resampled
# statistics, cutting $\alpha / 2$ from each end with $\alpha = 1 - c$:
#
# ```
#   samples x (n)  ──draw n indices with replacement, resamples times──>  x[idx] (resamples, n)
#   statistic over each row ──> stats (resamples,)
#   interval = (np.percentile(stats, 100 alpha / 2), np.percentile(stats, 100 (1 - alpha / 2)))
# ```
#
# It works for any statistic you can compute: the median latency, the mean loss, an
# accuracy (the mean of a vector of 0s and 1s, one per test example). A hidden test draws
# hundreds of synthetic data sets whose true median is known and checks that your
# intervals cover it at about their nominal rate; the systems analysis does the same with
# real measurements, beside "mean $\pm$ 1.96".
#
# Two practical points. The bootstrap is random, so a report would change each time it is
# computed: take a **seed** (or a generator) and draw all the indices in **one call**, so
# the same data and seed always give the same interval. And it is only as good as the
# sample: with very few runs (say, fewer than 10) no method can say much, and the interval
# of a median jumps between the few values it can take.
#
# Contract of `bootstrap_ci(samples, statistic=np.median, confidence=0.95, resamples=2000,
# rng=None)`:
#
# - `samples`: at least 2 finite numbers (the given `_as_samples` makes a float64 array
#   `x` of $n$ of them); `statistic`: a NumPy reduction that accepts an `axis` argument
#   (`np.median`, `np.mean`); `rng`: an int seed, a `np.random.Generator` or `None`, made
#   into a generator with `np.random.default_rng(rng)`;
# - draws the indices of every resample in **one call**,
#   `rng.integers(0, n, size=(resamples, n))` (row $r$ holds the indices of resample $r$),
#   computes the statistic of every row, `statistic(x[idx], axis=1)`, and returns the
#   percentile interval above as a tuple of two Python floats `(low, high)`;
# - the given `_check_confidence` raises `ValueError` unless `0 < confidence < 1` and
#   `resamples >= 1`.


# %% kind="solution" id="bootstrap" export=true
def bootstrap_ci(
    samples,
    statistic: Callable = np.median,
    confidence: float = 0.95,
    resamples: int = 2000,
    rng: np.random.Generator | int | None = None,
) -> tuple[float, float]:
    """The percentile bootstrap interval of statistic(samples).

    Args:
        samples: a 1-D sequence of at least 2 finite numbers.
        statistic: a NumPy reduction taking axis= (np.median, np.mean).
        confidence: the share of the resampled statistics the interval keeps, in (0, 1).
        resamples: how many resamples to draw, >= 1.
        rng: an int seed, a np.random.Generator or None (np.random.default_rng(rng)).

    Returns:
        (low, high), Python floats: the 100 alpha / 2 and 100 (1 - alpha / 2) percentiles of
        the statistic over the resamples, alpha = 1 - confidence.

    Raises:
        ValueError: from the given checks, for fewer than 2 samples, non-finite samples, a
            confidence outside (0, 1) or resamples < 1.

    Hint: with x of shape (n,) and idx of shape (resamples, n), x[idx] has shape
    (resamples, n): one resample per row.
    """
    x = _as_samples(samples, "bootstrap_ci", minimum=2)
    _check_confidence(confidence, resamples, "bootstrap_ci")
    # Task bootstrap: one draw of all the indices, the statistic per row, two percentiles.
    ### BEGIN SOLUTION
    rng = np.random.default_rng(rng)
    idx = rng.integers(0, x.size, size=(resamples, x.size))  # row r: the indices of resample r
    stats = statistic(x[idx], axis=1)  # (resamples,)
    alpha = 1.0 - confidence
    low, high = np.percentile(stats, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(low), float(high)
    ### END SOLUTION


# %% [markdown]
# ### Test `bootstrap`

# %% kind="test" id="test_bootstrap" points=4
x = np.array([4.1, 3.9, 4.0, 4.3, 3.8, 4.0, 4.2, 3.9, 4.1, 19.7])
interval = bootstrap_ci(x, rng=0)
assert isinstance(interval, tuple) and len(interval) == 2, (
    f"bootstrap_ci should return a tuple (low, high), got {interval!r}."
)
assert all(type(v) is float for v in interval), (
    f"low and high should be Python floats, got {[type(v).__name__ for v in interval]}."
)
idx = np.random.default_rng(0).integers(0, 10, size=(2000, 10))
medians = np.median(x[idx], axis=1)
expected = np.percentile(medians, [2.5, 97.5])
assert check_close(interval, expected, rtol=1e-12), (
    f"bootstrap_ci(x, rng=0) should be the 2.5th and 97.5th percentiles of the medians of 2000 "
    f"resamples drawn as rng.integers(0, 10, size=(2000, 10)) from np.random.default_rng(0): "
    f"{tuple(expected)}, got {interval}. Draw all the indices in one call, in that shape."
)
assert interval[0] <= np.median(x) <= interval[1], (
    f"The interval {interval} should contain the median of the sample, {np.median(x)}."
)
assert bootstrap_ci(x, rng=0) == interval, (
    "The same samples and seed should always give the same interval."
)
narrow = bootstrap_ci(x, np.mean, confidence=0.5, resamples=500, rng=1)
means = np.mean(x[np.random.default_rng(1).integers(0, 10, size=(500, 10))], axis=1)
assert check_close(narrow, np.percentile(means, [25, 75]), rtol=1e-12), (
    f"bootstrap_ci(x, np.mean, confidence=0.5, resamples=500, rng=1) should keep the middle "
    f"50% of the resampled means, the 25th to 75th percentiles, got {narrow}."
)
assert isinstance(raised(lambda: bootstrap_ci([1.0])), ValueError), (
    "One sample has no spread to resample: bootstrap_ci([1.0]) should raise ValueError."
)

### BEGIN HIDDEN TESTS
# hidden: the interval follows the recipe exactly, for other samples, statistics and settings
for _h_seed, _h_n, _h_stat, _h_conf, _h_res in (
    (3, 7, np.median, 0.9, 300),
    (11, 25, np.mean, 0.95, 1000),
    (5, 2, np.median, 0.8, 50),
    (8, 40, np.mean, 0.99, 2000),
    (2, 12, np.median, 0.5, 1),
):
    _h_x = np.random.default_rng(100 + _h_seed).lognormal(0.0, 0.6, size=_h_n)
    got = bootstrap_ci(list(_h_x), _h_stat, _h_conf, _h_res, _h_seed)
    _h_idx = np.random.default_rng(_h_seed).integers(0, _h_n, size=(_h_res, _h_n))
    _h_stats = _h_stat(_h_x[_h_idx], axis=1)
    _h_alpha = 1 - _h_conf
    want = np.percentile(_h_stats, [50 * _h_alpha, 100 - 50 * _h_alpha])
    assert isinstance(got, tuple) and len(got) == 2, "a tuple (low, high)"
    assert type(got[0]) is float and type(got[1]) is float, "Python floats"
    assert check_close(got, want, rtol=1e-9, atol=1e-12), (
        "the alpha/2 and 1 - alpha/2 percentiles of the statistic over resamples drawn in one call"
    )
    assert got[0] <= got[1], "low <= high"
# hidden: the defaults are the median, 95% and 2000 resamples
_h_x = np.array([0.5, 2.0, 1.5, 0.25, 3.0, 1.0, 0.75])
_h_idx = np.random.default_rng(4).integers(0, 7, size=(2000, 7))
want = np.percentile(np.median(_h_x[_h_idx], axis=1), [2.5, 97.5])
assert check_close(bootstrap_ci(_h_x, rng=4), want, rtol=1e-12), "median, 95%, 2000 resamples"
# hidden: a generator passed in is used, and moved on
_h_gen = np.random.default_rng(21)
first = bootstrap_ci(_h_x, np.mean, 0.9, 200, _h_gen)
second = bootstrap_ci(_h_x, np.mean, 0.9, 200, _h_gen)
_h_ref = np.random.default_rng(21)
for got in (first, second):
    _h_idx = _h_ref.integers(0, 7, size=(200, 7))
    want = np.percentile(np.mean(_h_x[_h_idx], axis=1), [5, 95])
    assert check_close(got, want, rtol=1e-12), "a Generator is used as it is, not reseeded"
# hidden: the samples are not changed
_h_copy = _h_x.copy()
bootstrap_ci(_h_x, rng=0)
assert check_equal(_h_x, _h_copy), "the caller's samples are left unchanged"
# hidden: an accuracy interval from per-example 0/1 values
_h_correct = np.array([1.0] * 45 + [0.0] * 15)
low, high = bootstrap_ci(_h_correct, np.mean, 0.95, 2000, 9)
assert 0.6 < low < 0.75 < high < 0.9, "an interval around the accuracy of 0.75"
# hidden: 90% and 50% intervals cover the true median at about their nominal rates
_h_data = np.random.default_rng(2024)
for _h_conf, _h_lo, _h_hi in ((0.9, 0.85, 0.95), (0.5, 0.42, 0.58)):
    _h_hits = 0
    for _h_trial in range(300):
        _h_sample = _h_data.lognormal(0.0, 0.5, size=30)  # skewed, true median exp(0) = 1
        low, high = bootstrap_ci(_h_sample, np.median, _h_conf, 400, _h_trial)
        _h_hits += low <= 1.0 <= high
    assert _h_lo <= _h_hits / 300 <= _h_hi, "coverage near the nominal confidence"
# hidden: invalid settings raise ValueError
for _h_kwargs in ({"confidence": 0.0}, {"confidence": 1.0}, {"confidence": 95}, {"resamples": 0}):
    assert isinstance(raised(lambda k=_h_kwargs: bootstrap_ci(_h_x, **k)), ValueError), (
        "confidence outside (0, 1) or resamples < 1 raises ValueError"
    )
### END HIDDEN TESTS

# %% [markdown]
# ## Task `throughput`: items per second, with its interval (2 points)
#
# Latency answers "how long does one call take?". **Throughput** answers "how much work per
# second?": images classified, tokens generated or read. If one call processes `items`
# items (a batch of 360 images; 4 sequences of 64 new tokens = 256 tokens) and takes $t$
# seconds, the throughput is $\text{items} / t$.
#
# Which $t$? The median time, for the reasons of Part 1. Then the throughput is the median
# rate too: dividing by a positive time reverses the order of the runs but keeps the middle
# run in the middle, so $\text{items} / \text{median}(t) = \text{median}(\text{items} / t)$
# (exactly, for an odd number of runs). The **mean** does not survive the division: the mean
# of the rates is not the rate of the mean time, and for skewed times they can differ a
# lot. A rate averaged over runs is a classic way to report a number no run achieved.
#
# The interval comes along the same way. With `(low_time, high_time)` the bootstrap interval
# of the median time, the interval of the rate is `(items / high_time, items / low_time)`:
# the slow end of the times is the low end of the rates.
#
# Contract of `throughput(times, items, confidence=0.95, resamples=2000, rng=None)`:
#
# - `times`: seconds per call, at least 2, every one above 0 (the given `_check_times`;
#   a time of 0 means the clock could not see the call); `items`: a number above 0 (the given
#   `_check_items`);
# - `(low_time, high_time) = bootstrap_ci(times, np.median, confidence, resamples, rng)`;
# - returns a dict of Python floats: `"per_second"` = items / the median time, `"low"` =
#   items / high_time, `"high"` = items / low_time.


# %% kind="solution" id="throughput" export=true
def throughput(
    times,
    items: float,
    confidence: float = 0.95,
    resamples: int = 2000,
    rng: np.random.Generator | int | None = None,
) -> dict:
    """Items processed per second: items / median time, with the inverted bootstrap interval.

    Args:
        times: seconds per call, at least 2, each above 0.
        items: items (tokens, images, ...) one call processes, above 0.
        confidence, resamples, rng: passed to bootstrap_ci for the median time.

    Returns:
        {"per_second": items / median(times), "low": items / high_time,
        "high": items / low_time}, Python floats, where (low_time, high_time) is
        bootstrap_ci(times, np.median, confidence, resamples, rng).

    Raises:
        ValueError: from the given checks (times, items) and from bootstrap_ci.
    """
    x = _check_times(times, "throughput")
    _check_items(items, "throughput")
    # Task throughput: the rate at the median time; the interval of the times, inverted.
    ### BEGIN SOLUTION
    low_time, high_time = bootstrap_ci(x, np.median, confidence, resamples, rng)
    return {
        "per_second": float(items / np.median(x)),
        "low": float(items / high_time),
        "high": float(items / low_time),
    }
    ### END SOLUTION


# %% [markdown]
# ### Test `throughput`

# %% kind="test" id="test_throughput" points=2
times = [0.02, 0.025, 0.02, 0.04, 0.016, 0.02, 0.05]  # seconds per call of 64 tokens
rate = throughput(times, 64, rng=0)
assert isinstance(rate, dict) and set(rate) == {"per_second", "low", "high"}, (
    f"throughput should return a dict with 'per_second', 'low' and 'high', got {rate!r}."
)
assert type(rate["per_second"]) is float and abs(rate["per_second"] - 3200.0) < 1e-6, (
    f"64 tokens per call at a median of 0.02 s per call is 3200 tokens/s, got "
    f"{rate['per_second']!r}. Divide by the median time, not the mean."
)
low_time, high_time = bootstrap_ci(times, np.median, 0.95, 2000, 0)
assert check_close([rate["low"], rate["high"]], [64 / high_time, 64 / low_time], rtol=1e-12), (
    f"The rate's interval is the time's interval inverted: (64 / {high_time}, 64 / {low_time}) "
    f"= {(64 / high_time, 64 / low_time)}, got ({rate['low']}, {rate['high']})."
)
assert rate["low"] <= rate["per_second"] <= rate["high"], f"low <= per_second <= high, got {rate}."
assert isinstance(raised(lambda: throughput([0.0, 0.01], 8)), ValueError), (
    "A time of 0 s should raise ValueError (the given check)."
)

### BEGIN HIDDEN TESTS
# hidden: the rate is items over the median time, the interval the inverted interval of times
for _h_seed, _h_items, _h_n, _h_conf, _h_res in (
    (1, 360, 9, 0.95, 2000),
    (2, 2.5, 4, 0.8, 300),
    (3, 1, 20, 0.9, 1000),
    (4, 4096, 6, 0.5, 50),
):
    _h_t = np.random.default_rng(_h_seed).lognormal(-6.0, 0.4, size=_h_n)
    rate = throughput(list(_h_t), _h_items, _h_conf, _h_res, _h_seed + 10)
    low_time, high_time = bootstrap_ci(_h_t, np.median, _h_conf, _h_res, _h_seed + 10)
    assert isinstance(rate, dict) and all(
        type(rate.get(k)) is float for k in ("per_second", "low", "high")
    ), "three Python floats"
    assert check_close(rate["per_second"], _h_items / np.median(_h_t), rtol=1e-12), (
        "items divided by the median time"
    )
    assert check_close(
        [rate["low"], rate["high"]], [_h_items / high_time, _h_items / low_time], rtol=1e-12
    ), "the slow end of the times is the low end of the rates"
# hidden: the defaults are 95% and 2000 resamples
_h_t = [0.5, 0.25, 1.0, 0.125, 0.75]
rate = throughput(_h_t, 10, rng=6)
low_time, high_time = bootstrap_ci(_h_t, np.median, 0.95, 2000, 6)
assert check_close([rate["low"], rate["high"]], [10 / high_time, 10 / low_time], rtol=1e-12), (
    "confidence=0.95 and resamples=2000 by default"
)
# hidden: an even number of times uses the median of the middle two
rate = throughput([0.1, 0.4, 0.2, 0.3], 6, rng=0)
assert check_close(rate["per_second"], 24.0, rtol=1e-12), "the median of an even count"
# hidden: invalid times and items raise ValueError
for _h_args in (([0.1], 5), ([0.1, -0.2], 5), ([0.1, 0.2], 0), ([0.1, 0.2], -3)):
    assert isinstance(raised(lambda a=_h_args: throughput(*a)), ValueError), (
        "one time, a time <= 0, or items <= 0 raises ValueError"
    )
### END HIDDEN TESTS

# %% [markdown]
# # Part 3: quality, measured
#
# ## Task `quality`: accuracy and loss on labelled data, or an error (4 points)
#
# A faster model is only better if it still does its job. Quantization (Module 17) and
# pruning (Module 18) trade accuracy for speed and size, so every benchmark row needs the
# model's **quality, measured on data it was not trained on**. The earlier course's
# harness did, in essence, this:
#
# ```python
# try:
#     accuracy = model.evaluate(data)             # a model without evaluate() ...
# except:                                         # ... or one that crashes ...
#     accuracy = 0.85 + 0.05 * i + noise          # ... gets a plausible, invented accuracy
# ```
#
# Two bugs in four lines. The invented number appears in tables beside measured ones and
# nothing marks it. And the bare `except:` catches everything, so a model that raises (a
# shape error, a bug in a quantized layer) is reported as working well. The rule here: a
# benchmark **measures or refuses**. A model that cannot be run, or data that is missing or
# empty, is an error; an exception raised by the model reaches the caller untouched.
#
# What "measured" means, for a classifier whose output is **logits** of shape `(..., C)`
# (one score per class) and whose targets are class labels of shape `(...)`:
#
# - every position of the leading axes is **one example**: `(N, C)` logits for $N$ images,
#   `(B, T, V)` for a language model reading $B$ sequences of $T$ tokens (each position
#   predicts its next token: $B T$ examples);
# - the example is **correct** when its largest logit is at its label (`argmax`, ties to
#   the first, as Module 07's `accuracy`);
# - its **loss** is the cross-entropy in nats, $-\log \operatorname{softmax}(z)_y =
#   \operatorname{logsumexp}(z) - z_y$, computed stably by subtracting the row's maximum
#   first (Module 04): logits of 1000 must give a finite loss;
# - we keep **one value per example**, in order, not only the averages: the accuracy is the
#   mean of the 0/1 vector, the loss the mean of the losses, and `bootstrap_ci` turns both
#   vectors into intervals. (360 test images measure an accuracy of 97% to within about
#   ±2%: two models 1% apart on them are not known to differ.)
#
# And the model must be run the way it will be used:
#
# - in **evaluation mode**: a `Layer` with `Dropout` (Module 03) drops units in training
#   mode, which makes its accuracy random and lower. If the model has a `training`
#   attribute, call `model.eval()` before and `model.train(was_training)` after, in a
#   `finally:` so that the mode is restored even when a batch raises;
# - under **`no_grad()`** (Module 05): recording a graph for a backward pass that never comes
#   costs time and memory, and a memory benchmark would measure it.
#
# Contract of `evaluate_quality(model, batches)`:
#
# - `model`: a `Layer` or any callable, called as `model(inputs)` (the given `_as_callable`
#   returns what to call, or raises `TypeError` for an object that cannot be run);
# - `batches`: an iterable of `(inputs, targets)` pairs (a list, a `DataLoader`). `inputs` go
#   to the model unchanged; its output is a `Tensor` (use `.data`) or an array of logits
#   `(..., C)`; the given `_class_targets(targets, logits.shape, "evaluate_quality")` returns
#   the labels as int64 of shape `logits.shape[:-1]`, or raises `ValueError`;
# - raises `ValueError` when `batches` is `None` or holds no example; exceptions from the
#   model or the checks propagate (no `except` around them);
# - returns a dict: `"accuracy"` and `"loss"` (Python floats: the means over all examples),
#   `"examples"` (a Python int), `"correct"` (float64 array `(N,)` of 1.0 and 0.0) and
#   `"losses"` (float64 array `(N,)`), in the order of the batches and, within a batch, of
#   the flattened leading axes (`reshape(-1, C)`).


# %% kind="solution" id="quality" export=true
def evaluate_quality(model, batches: Iterable) -> dict:
    """Accuracy and cross-entropy of a classifier, measured on labelled batches.

    Args:
        model: a Layer or a callable, model(inputs) -> logits (..., C) (a Tensor or array).
        batches: an iterable of (inputs, targets), targets class labels of shape (...).

    Returns:
        {"accuracy": float, "loss": float (nats), "examples": int, "correct": float64 (N,)
        of 1.0/0.0, "losses": float64 (N,)}: one entry per example (every position of the
        leading axes), in order.

    The model runs under no_grad(); a model with a `training` attribute (a Layer) runs in
    evaluation mode (model.eval()) and gets model.train(was_training) back afterwards, also
    when a batch raises (finally). Nothing is caught: the model's exceptions propagate.
    Labels come from the given _class_targets(targets, logits.shape, "evaluate_quality").

    Raises:
        TypeError: from the given check, for a model that cannot be run.
        ValueError: for batches that are None or hold no example; from the given check, for
            targets that do not fit the logits.

    Hint: float64 logits z of shape (N, C): z - z.max(axis=1, keepdims=True) keeps exp()
    finite; the loss of row i is log(sum(exp(shifted[i]))) - shifted[i, y_i].
    """
    call = _as_callable(model, "evaluate_quality")
    # Task quality: eval mode and no_grad, every example's correctness and loss, or an error.
    ### BEGIN SOLUTION
    if batches is None:
        raise ValueError(
            "evaluate_quality: no data: quality is measured on labelled batches, never assumed"
        )
    was_training = getattr(model, "training", None)
    if was_training is not None:
        model.eval()
    correct, losses, count = [], [], 0
    try:
        with no_grad():
            for inputs, targets in batches:
                out = call(inputs)
                logits = np.asarray(out.data if isinstance(out, Tensor) else out, np.float64)
                labels = _class_targets(targets, logits.shape, "evaluate_quality")
                logits = logits.reshape(-1, logits.shape[-1])  # (N, C): one row per example
                labels = labels.reshape(-1)  # (N,)
                shifted = logits - logits.max(axis=1, keepdims=True)
                log_norm = np.log(np.exp(shifted).sum(axis=1))  # (N,)
                losses.append(log_norm - shifted[np.arange(labels.size), labels])
                correct.append((np.argmax(logits, axis=1) == labels).astype(np.float64))
                count += labels.size
    finally:
        if was_training is not None:
            model.train(was_training)
    if count == 0:
        raise ValueError("evaluate_quality: the batches hold no example to measure")
    correct, losses = np.concatenate(correct), np.concatenate(losses)
    return {
        "accuracy": float(correct.mean()),
        "loss": float(losses.mean()),
        "examples": int(count),
        "correct": correct,
        "losses": losses,
    }
    ### END SOLUTION


# %% [markdown]
# ### Test `quality`

# %% kind="test" id="test_quality" points=4
logits = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 3.0], [1.0, 1.0, 0.0], [0.0, 0.0, 5.0]])
labels = np.array([0, 2, 1, 2])
result = evaluate_quality(lambda inputs: Tensor(logits), [(None, labels)])
assert isinstance(result, dict), f"evaluate_quality should return a dict, got {result!r:.100}."
assert_array(
    result.get("correct"),
    [1.0, 1.0, 0.0, 1.0],
    "evaluate_quality(...)['correct']: example 2 has a tie between classes 0 and 1; argmax picks "
    "the first, 0, and its label is 1",
)
z = logits - logits.max(axis=1, keepdims=True)
expected = np.log(np.exp(z).sum(axis=1)) - z[np.arange(4), labels]
assert_array(
    result.get("losses"),
    expected,
    "evaluate_quality(...)['losses']: log(sum(exp(z))) - z[label] for every row",
)
assert type(result.get("accuracy")) is float and abs(result["accuracy"] - 0.75) < 1e-12, (
    f"3 of 4 examples are correct: accuracy 0.75, got {result.get('accuracy')!r}."
)
assert type(result.get("loss")) is float and abs(result["loss"] - expected.mean()) < 1e-9, (
    f"The loss is the mean of the per-example losses, {expected.mean()}, got "
    f"{result.get('loss')!r}."
)
assert type(result.get("examples")) is int and result["examples"] == 4, (
    f"4 examples, as a Python int, got {result.get('examples')!r}."
)

huge = evaluate_quality(lambda x: np.array([[1000.0, 0.0], [0.0, 1000.0]]), [(0, [1, 1])])
assert_array(
    huge["losses"],
    [1000.0, 0.0],
    "Logits of 1000: subtract each row's maximum before exp() (exp(1000) overflows)",
)

spy = ModeSpy([np.eye(3)])  # a Layer, in training mode (the default)
evaluate_quality(spy, [(np.zeros((3, 2)), np.arange(3))])
assert spy.seen == [(False, False)], (
    f"The model should run in evaluation mode (training False) and under no_grad() (no graph "
    f"recorded), got (training, recording) = {spy.seen}."
)
assert spy.training is True, (
    "After evaluate_quality the model should be back in the mode it was in (training)."
)

for bad in (None, []):
    err = raised(lambda b=bad: evaluate_quality(lambda x: np.eye(2), b))
    assert isinstance(err, ValueError), (
        f"evaluate_quality(model, {bad!r}) should raise ValueError: with no data there is no "
        f"accuracy to report, got {type(err).__name__ if err else 'a result'}."
    )
err = raised(lambda: evaluate_quality(object(), [(0, [0])]))
assert isinstance(err, TypeError), (
    f"A model that cannot be called should raise TypeError (the given check), got "
    f"{type(err).__name__ if err else 'a result'}."
)

### BEGIN HIDDEN TESTS
# hidden: several batches, and the leading axes of a language model's logits, are examples
rng = np.random.default_rng(7)
_h_batches = [
    (rng.standard_normal((2, 3, 5)), rng.integers(0, 5, size=(2, 3))),
    (rng.standard_normal((1, 3, 5)), rng.integers(0, 5, size=(1, 3))),
    (rng.standard_normal((4, 3, 5)), rng.integers(0, 5, size=(4, 3))),
]
result = evaluate_quality(lambda x: Tensor(x), _h_batches)
_h_z = np.concatenate([b[0].reshape(-1, 5) for b in _h_batches])
_h_y = np.concatenate([b[1].reshape(-1) for b in _h_batches])
_h_z32 = _h_z.astype(np.float32).astype(np.float64)  # what the Tensor holds
_h_shift = _h_z32 - _h_z32.max(axis=1, keepdims=True)
_h_loss = np.log(np.exp(_h_shift).sum(axis=1)) - _h_shift[np.arange(21), _h_y]
_h_hit = (_h_z32.argmax(axis=1) == _h_y).astype(np.float64)
assert isinstance(result["correct"], np.ndarray) and result["correct"].dtype == np.float64, (
    "correct is a float64 array"
)
assert isinstance(result["losses"], np.ndarray) and result["losses"].dtype == np.float64, (
    "losses is a float64 array"
)
assert check_equal(result["correct"], _h_hit), "one 0/1 per example, batches in order"
assert check_close(result["losses"], _h_loss, rtol=1e-6, atol=1e-9), (
    "one cross-entropy per example, batches in order"
)
assert result["examples"] == 21 and type(result["examples"]) is int, "every position counts"
assert check_close([result["accuracy"], result["loss"]], [_h_hit.mean(), _h_loss.mean()]), (
    "the means over all examples"
)
# hidden: array outputs, list targets and float targets are accepted
result = evaluate_quality(lambda x: x * 2.0, [(np.array([[0.0, 1.0], [3.0, -1.0]]), [1, 1])])
assert check_equal(result["correct"], [1.0, 0.0]), "an array output is used as logits"
result = evaluate_quality(lambda x: x, [(np.array([[0.1, 0.9]]), Tensor(np.array([1.0])))])
assert check_equal(result["correct"], [1.0]), "a Tensor of float labels"
# hidden: the loss is stable for large logits and exact for a known case
result = evaluate_quality(
    lambda x: x, [(np.array([[-800.0, 800.0, 0.0], [0.0, 0.0, 0.0]]), [0, 2])]
)
assert check_close(result["losses"], [1600.0, np.log(3.0)], rtol=1e-6), (
    "cross-entropy computed after subtracting the maximum"
)
# hidden: a Layer with Dropout is evaluated in evaluation mode and restored
_h_net = Sequential(Linear(4, 3, rng=0), Dropout(0.5, rng=1))
_h_inputs = Tensor(np.random.default_rng(3).standard_normal((50, 4)))
_h_logits = (_h_inputs.data @ _h_net.layers[0].weight.data + _h_net.layers[0].bias.data).astype(
    np.float64
)
_h_labels = np.random.default_rng(4).integers(0, 3, size=50)
result = evaluate_quality(_h_net, [(_h_inputs, _h_labels)])
assert check_equal(result["correct"], (_h_logits.argmax(axis=1) == _h_labels) * 1.0), (
    "dropout is off while evaluating"
)
assert _h_net.training is True, "a model in training mode is put back in training mode"
_h_net.eval()
evaluate_quality(_h_net, [(_h_inputs, _h_labels)])
assert _h_net.training is False, "a model in evaluation mode stays in evaluation mode"
# hidden: every batch runs without a graph and in evaluation mode
spy = ModeSpy([np.eye(2), np.eye(2), np.eye(2)])
result = evaluate_quality(spy, [(0, [0, 1]), (0, [1, 1]), (0, [0, 0])])
assert spy.seen == [(False, False)] * 3, "evaluation mode and no_grad for every batch"
assert check_equal(result["correct"], [1.0, 1.0, 0.0, 1.0, 1.0, 0.0]), "batch after batch"
# hidden: a model that raises is not scored: its exception propagates and its mode is restored
spy = ModeSpy([np.eye(2)])
err = raised(lambda: evaluate_quality(spy, [(0, [0, 1]), (0, [0, 1])]))
assert isinstance(err, IndexError), "the model's own exception reaches the caller"
assert spy.training is True, "the mode is restored when a batch raises"


class _HBroken(Layer):
    def forward(self, x):
        raise RuntimeError("a bug inside the model")


_h_broken = _HBroken()
assert isinstance(raised(lambda: evaluate_quality(_h_broken, [(0, [0])])), RuntimeError), (
    "a broken model raises instead of getting a score"
)
assert _h_broken.training is True, "the mode is restored after a crash"
# hidden: targets that do not fit the logits raise ValueError
for _h_out, _h_target in ((np.eye(3), [0, 1]), (np.eye(3), [0, 1, 3]), (np.eye(3), [0.5, 1, 2])):
    _h_err = raised(lambda o=_h_out, t=_h_target: evaluate_quality(lambda x: o, [(0, t)]))
    assert isinstance(_h_err, ValueError), "targets of the wrong shape or range raise ValueError"
# hidden: missing or empty data, and a model that cannot run, raise instead of a number
for _h_data in (None, [], iter([]), [(np.zeros((0, 3)), np.zeros(0, dtype=int))]):
    _h_err = raised(lambda d=_h_data: evaluate_quality(lambda x: np.zeros((0, 3)), d))
    assert isinstance(_h_err, ValueError), "no data, no examples: ValueError, never a number"


class _HForwardOnly:
    def forward(self, x):
        return np.array([[0.0, 1.0]])


result = evaluate_quality(_HForwardOnly(), [(0, [1])])
assert check_equal(result["correct"], [1.0]), "a model with only a forward method is run"
for _h_model in (object(), 3.5, "model"):
    _h_err = raised(lambda m=_h_model: evaluate_quality(m, [(0, [0])]))
    assert isinstance(_h_err, TypeError), "a model without an evaluation path raises TypeError"
### END HIDDEN TESTS

# %% [markdown]
# # Part 4: comparing models, and runs
#
# ## Task `pareto`: the trade-offs worth having (3 points)
#
# Benchmark four models and each has a latency, an accuracy, a memory peak. Which is best?
# Usually none: the most accurate is the slowest, the fastest the least accurate. What a
# benchmark can say without knowing your priorities is which models are **not worth
# considering**. Model $a$ **dominates** model $b$ when $a$ is at least as good as $b$ on
# every metric and strictly better on at least one: nobody, whatever their priorities,
# should choose $b$ over $a$. The models that no other model dominates form the **Pareto
# frontier** (after Vilfredo Pareto): every one of them is the best choice for somebody.
#
# ```
#   accuracy
#      ▲                       ● C          frontier: A, B, C (each is best for some weighting)
#      │              ● B                   D is dominated by B: slower and less accurate
#      │                    ○ D             E ties A on latency and is less accurate:
#      │   ● A                                dominated by A (as good on one, worse on the other)
#      │   ○ E
#      └──────────────────────────────► latency (lower is better)
# ```
#
# "Good" depends on the metric: lower is better for latency, memory and loss, higher for
# accuracy and throughput. `maximize` says which, one boolean per metric. Flip the sign of
# the metrics to maximise and every metric is "lower is better"; then $a$ dominates $b$ when
# `all(a <= b)` and `any(a < b)`. Two identical points do not dominate each other (neither
# is strictly better anywhere): both stay on the frontier.
#
# Contract of `pareto_front(points, maximize)`:
#
# - `points`: a table of `n` points with `k` metrics each, `maximize`: `k` booleans (the
#   given `_as_points` returns them as a float64 array `(n, k)` and a bool array `(k,)`, and
#   raises `ValueError` for anything else);
# - returns the indices of the non-dominated points, ascending, as an int64 NumPy array.
#
# Comparing every point with every other is $O(n^2 k)$: fine for the tens of models a
# benchmark compares.


# %% kind="solution" id="pareto" export=true
def pareto_front(points, maximize) -> np.ndarray:
    """Indices of the points that no other point dominates.

    Args:
        points: (n, k) finite numbers, one row per model, one column per metric.
        maximize: k booleans, True where a larger value is better.

    Returns:
        an int64 array of the non-dominated rows' indices, ascending. Point a dominates b
        when a is at least as good as b on every metric and strictly better on one; equal
        points do not dominate each other (both stay).

    Raises:
        ValueError: from the given check.

    Hint: cost = np.where(maximize, -p, p) makes every metric "lower is better"; then
    (cost <= cost[i]).all(axis=1) & (cost < cost[i]).any(axis=1) marks the points that
    dominate point i.
    """
    p, maximize = _as_points(points, maximize, "pareto_front")
    # Task pareto: every metric "lower is better", then keep the points nobody dominates.
    ### BEGIN SOLUTION
    cost = np.where(maximize, -p, p)  # (n, k)
    keep = []
    for i in range(len(cost)):
        dominates_i = (cost <= cost[i]).all(axis=1) & (cost < cost[i]).any(axis=1)
        if not dominates_i.any():
            keep.append(i)
    return np.array(keep, dtype=np.int64)
    ### END SOLUTION


# %% [markdown]
# ### Test `pareto`

# %% kind="test" id="test_pareto" points=3
# (latency in ms, accuracy) of the models A to E of the picture
points = [[1.0, 0.90], [4.0, 0.95], [9.0, 0.99], [6.0, 0.93], [1.0, 0.85]]
front = pareto_front(points, maximize=[False, True])
assert isinstance(front, np.ndarray) and front.dtype == np.int64, (
    f"pareto_front should return an int64 NumPy array of indices, got {type(front).__name__} "
    f"{getattr(front, 'dtype', '')}."
)
assert front.tolist() == [0, 1, 2], (
    f"A, B and C (indices 0, 1, 2) are the frontier; D is dominated by B, E by A (same "
    f"latency, lower accuracy); got {front.tolist()}."
)
front = pareto_front(points, maximize=[True, False])
assert front.tolist() == [2, 3, 4], (
    f"With the directions reversed (high latency good, low accuracy good): C is the slowest, "
    f"E the least accurate, and only C is slower than D, but C is more accurate: [2, 3, 4], "
    f"got {front.tolist()}."
)
twins = pareto_front([[1.0, 2.0], [1.0, 2.0], [2.0, 3.0]], maximize=[False, False])
assert twins.tolist() == [0, 1], (
    f"Two identical points do not dominate each other, and both dominate (2, 3): [0, 1], got "
    f"{twins.tolist()}."
)

### BEGIN HIDDEN TESTS
# hidden: the frontier is exactly the non-dominated points, for random point sets


def _h_front(pts, up):
    """Pairwise, in plain Python, as the definition says."""
    n, k = len(pts), len(up)
    better = [
        [(pts[a][m] > pts[b][m]) if up[m] else (pts[a][m] < pts[b][m]) for m in range(k)]
        for a in range(n)
        for b in range(n)
    ]
    worse = [
        [(pts[a][m] < pts[b][m]) if up[m] else (pts[a][m] > pts[b][m]) for m in range(k)]
        for a in range(n)
        for b in range(n)
    ]
    out = []
    for b in range(n):
        beaten = False
        for a in range(n):
            if not any(worse[a * n + b]) and any(better[a * n + b]):
                beaten = True
        if not beaten:
            out.append(b)
    return out


rng = np.random.default_rng(19)
for _h_n, _h_k, _h_levels in ((12, 2, 5), (30, 2, 100), (20, 3, 4), (8, 1, 3), (25, 4, 3)):
    _h_pts = rng.integers(0, _h_levels, size=(_h_n, _h_k)).astype(float) * 0.5 - 1.0
    _h_up = [bool(v) for v in rng.integers(0, 2, size=_h_k)]
    got = pareto_front(_h_pts, _h_up)
    assert isinstance(got, np.ndarray) and got.dtype == np.int64, "an int64 array"
    assert check_equal(got, np.array(_h_front(_h_pts.tolist(), _h_up))), (
        "exactly the non-dominated points, in ascending order"
    )
# hidden: a single metric keeps every point at the best value
got = pareto_front([[3.0], [1.0], [2.0], [1.0]], [False])
assert check_equal(got, [1, 3]), "one metric: the ties at the best value"
got = pareto_front([[3.0], [1.0], [3.0]], [True])
assert check_equal(got, [0, 2]), "one metric to maximise"
# hidden: a single point is its own frontier; all identical points stay
assert check_equal(pareto_front([[5.0, -2.0]], [False, True]), [0]), "one point"
assert check_equal(pareto_front([[1.0, 1.0]] * 4, [True, False]), [0, 1, 2, 3]), (
    "identical points all stay"
)
# hidden: a point better on one metric and equal on the others dominates
got = pareto_front([[2.0, 5.0, 1.0], [2.0, 5.0, 0.5], [1.0, 9.0, 9.0]], [False, True, False])
assert check_equal(got, [1, 2]), "equal on two metrics and better on one dominates"
# hidden: invalid points raise ValueError
for _h_args in (([[1.0, 2.0]], [True]), ([1.0, 2.0], [True, False]), ([[np.nan, 1.0]], [1, 0])):
    assert isinstance(raised(lambda a=_h_args: pareto_front(*a)), ValueError), (
        "points that are not a finite (n, k) table with k directions raise ValueError"
    )
### END HIDDEN TESTS

# %% [markdown]
# **Given: drawing the frontier.** `plot_pareto(points, names, maximize, path, ...)` draws
# two metrics of several models as a PNG file: every model a named point, the frontier (from
# your `pareto_front`) highlighted and joined in the order of the first metric, the
# dominated models in grey. It draws with matplotlib's `Agg` backend (a PNG in memory, no
# window), so it works on a server without a display, and returns the path of the file. The
# x axis is logarithmic when the values span more than a factor of 100 (latencies of
# microseconds beside milliseconds).


# %% kind="locked" id="plot" export=true
def plot_pareto(
    points,
    names: list[str],
    maximize,
    path,
    xlabel: str = "",
    ylabel: str = "",
    title: str = "Pareto frontier",
    logx: bool | None = None,
    intervals=None,
) -> Path:
    """A PNG at `path` of models on two metrics, the Pareto frontier highlighted.

    Args:
        points: (n, 2) values of the two metrics (x, y), one row per model.
        names: n labels, one per row.
        maximize: 2 booleans, True where a larger value is better.
        logx: a logarithmic x axis; None: when every x is > 0 and they span > 100x.
        intervals: None, or (n, 2, 2): [[x_low, x_high], [y_low, y_high]] per model, drawn
            as error bars.

    Returns:
        the Path of the PNG written.

    Raises:
        ValueError: for points that are not (n, 2), or names that are not n.
    """
    p, up = _as_points(points, maximize, "plot_pareto")
    if p.shape[1] != 2 or len(names) != len(p):
        raise ValueError(
            f"plot_pareto: need points (n, 2) and n names, got {p.shape} and {len(names)} names"
        )
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    front = pareto_front(p, up)
    others = np.setdiff1d(np.arange(len(p)), front)
    order = front[np.argsort(p[front, 0], kind="stable")]
    fig = Figure(figsize=(6.4, 4.2))
    FigureCanvasAgg(fig)  # the Agg canvas: a PNG in memory, no window, no display needed
    ax = fig.add_subplot()
    if intervals is not None:
        bars = np.array(intervals, dtype=np.float64).reshape(len(p), 2, 2)
        below, above = p - bars[:, :, 0], bars[:, :, 1] - p  # (n, 2) distances to the ends
        ax.errorbar(
            p[:, 0],
            p[:, 1],
            xerr=[below[:, 0], above[:, 0]],
            yerr=[below[:, 1], above[:, 1]],
            fmt="none",
            ecolor="0.75",
            zorder=1,
        )
    ax.scatter(p[others, 0], p[others, 1], color="0.6", label="dominated", zorder=2)
    ax.plot(p[order, 0], p[order, 1], "o--", color="C3", label="Pareto frontier", zorder=3)
    for (x, y), name in zip(p, names, strict=True):
        ax.annotate(str(name), (x, y), textcoords="offset points", xytext=(5, 4), fontsize=8)
    if logx is None:
        logx = bool((p[:, 0] > 0).all() and p[:, 0].max() > 100 * p[:, 0].min())
    if logx:
        ax.set_xscale("log")
    word = ["lower is better", "higher is better"]
    ax.set_xlabel(f"{xlabel} ({word[int(up[0])]})".strip())
    ax.set_ylabel(f"{ylabel} ({word[int(up[1])]})".strip())
    ax.set_title(title)
    ax.margins(x=0.12, y=0.08)  # room for the names of the extreme points
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    return path


# %% [markdown]
# ## Task `report`: a record a later run can compare against (2 points)
#
# A benchmark that is printed and forgotten cannot catch a regression. Written to a file,
# it becomes a **baseline**: next week, after a change to the code, a new run is compared
# against it, and the question "did this change make anything worse?" gets an answer. JSON
# is the natural format: plain text (it diffs in git), readable by every language, and
# Python's `json` module writes and reads it.
#
# A report is a dict of **results**: for each benchmark (a model, a setting), a dict of
# **metrics**, each made by the given `metric(value, low, high, unit, better)` below:
#
# ```json
# {"schema": "tinytorch-benchmark-report", "version": 1,
#  "environment": {"python": "3.11.7", "numpy": "2.4.6", "cpus": 2, "created": "...", ...},
#  "results": {"mlp": {"latency":  {"value": 4.1e-05, "low": 4.0e-05, "high": 4.3e-05,
#                                   "unit": "s", "better": "lower", "iqr": 2e-06},
#                      "accuracy": {"value": 0.964, "low": 0.944, "high": 0.983,
#                                   "unit": "", "better": "higher"}}}}
# ```
#
# Three fields make it a record rather than a dump:
#
# - **`"schema"` and `"version"`**: what the file is, and which version of its layout. When a
#   later version of the harness changes what a field means (latency per batch instead of
#   per call, a loss in bits instead of nats), it raises `SCHEMA_VERSION`, and
#   `load_report` **refuses** a file of another version instead of comparing numbers that
#   mean different things;
# - **`"environment"`**: where and when it was measured (the given `environment()`): a
#   latency measured on a laptop says little about a server, and a comparison across
#   machines should be visible as one;
# - every metric carries its **interval** (`low`, `high`) and its **direction** (`better`),
#   so that the comparison of the next task needs nothing but the two files.
#
# Contracts:
#
# - `save_report(results, path, environment=None)`: the given `_check_results` checks the
#   results (raising `ValueError` before anything is written). Writes to `path` the JSON
#   text of the dict `{"schema": SCHEMA, "version": SCHEMA_VERSION, "environment":
#   environment (an empty dict when None), "results": results}`, with its keys in this
#   order, indented (`json.dumps(..., indent=2)`) and followed by a newline (a text file
#   ends with one), as UTF-8 text. Returns `Path(path)`.
# - `load_report(path)`: reads and parses the file (`json.loads`; a file that is not JSON
#   raises `json.JSONDecodeError`, a `ValueError`). Raises `ValueError` when the parsed value
#   is not a dict whose `"schema"` is `SCHEMA`, when its `"version"` is not `SCHEMA_VERSION`
#   (say which version it is, and which this code reads), and (through the given
#   `_check_results`) when its `"results"` are not well formed. Returns the dict.


# %% kind="locked" id="metric" export=true
def metric(value, low, high, unit: str, better: str, **extra) -> dict:
    """One metric of a report: {"value", "low", "high", "unit", "better", **extra}.

    value, low, high are stored as Python floats; better is "lower" or "higher"; extra keys
    (NumPy numbers made Python numbers) record how it was measured (iqr, number, ...).

    Raises:
        ValueError: for non-finite numbers, low > high, or another `better`.
    """
    entry = {"value": float(value), "low": float(low), "high": float(high)}
    entry |= {"unit": str(unit), "better": better}
    entry |= {k: v.item() if isinstance(v, np.generic) else v for k, v in extra.items()}
    _check_results({"benchmark": {"metric": entry}}, "metric")
    return entry


def environment() -> dict:
    """Where and when a report is measured: time (UTC), Python, NumPy, machine, threads."""
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
    }


# %% kind="solution" id="report" export=true
def save_report(results: dict, path, environment: dict | None = None) -> Path:
    """Write results as a versioned JSON report.

    The file holds json.dumps({"schema": SCHEMA, "version": SCHEMA_VERSION, "environment":
    environment or {}, "results": results}, indent=2) (keys in this order) and a final
    newline, written as UTF-8 text.

    Args:
        results: {benchmark name: {metric name: metric(...)}}.
        path: the file to write (a str or a Path).
        environment: a dict saying where the results were measured, or None ({}).

    Returns:
        Path(path).

    Raises:
        ValueError: from the given check, for results that are not well formed (nothing is
            written then).
    """
    _check_results(results, "save_report")
    # Task report: the four fields, as indented JSON text in the file.
    ### BEGIN SOLUTION
    document = {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "environment": {} if environment is None else dict(environment),
        "results": results,
    }
    path = Path(path)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path
    ### END SOLUTION


def load_report(path) -> dict:
    """Read a report written by save_report, refusing anything else.

    Parses the UTF-8 text with json.loads, then checks, in order: a dict whose "schema" is
    SCHEMA; its "version" is SCHEMA_VERSION; its "results" pass the given _check_results.

    Returns:
        the report: {"schema", "version", "environment", "results"}.

    Raises:
        ValueError: for a file that is not JSON (json.JSONDecodeError), not a report of
            this SCHEMA, of another version than SCHEMA_VERSION, or with results that are not
            well formed (the given _check_results).
    """
    # Task report: parse, then check what the file claims to be before trusting it.
    ### BEGIN SOLUTION
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise ValueError(f"load_report: {path} is not a benchmark report (schema {SCHEMA!r})")
    if document.get("version") != SCHEMA_VERSION:
        raise ValueError(
            f"load_report: {path} is a report of version {document.get('version')!r}; this "
            f"code reads version {SCHEMA_VERSION}: measure the baseline again"
        )
    _check_results(document.get("results"), "load_report")
    return document
    ### END SOLUTION


# %% [markdown]
# ### Test `report`

# %% kind="test" id="test_report" points=2
results = {
    "mlp": {
        "latency": metric(4.1e-05, 4.0e-05, 4.3e-05, "s", "lower", iqr=2e-06),
        "accuracy": metric(0.964, 0.944, 0.983, "", "higher"),
    }
}
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "report.json"
    written = save_report(results, str(path), {"cpus": 2})
    assert isinstance(written, Path) and written == path, (
        f"save_report should return Path(path), got {written!r}."
    )
    document = json.loads(path.read_text(encoding="utf-8"))
    assert type(document) is dict and list(document) == [
        "schema",
        "version",
        "environment",
        "results",
    ], (
        f"The file should hold a JSON object with the keys schema, version, environment, "
        f"results (in that order), got {list(document) if isinstance(document, dict) else document!r:.100}."
    )
    assert document["schema"] == SCHEMA and document["version"] == SCHEMA_VERSION, (
        f"'schema' should be {SCHEMA!r} and 'version' {SCHEMA_VERSION}, got "
        f"{document['schema']!r} and {document['version']!r}."
    )
    assert document["environment"] == {"cpus": 2}, (
        f"'environment' should be the dict given, got {document['environment']!r}."
    )
    assert json.dumps(document["results"]) == json.dumps(results), (
        "'results' should be the results given, unchanged."
    )
    loaded = load_report(path)
    assert type(loaded) is dict and json.dumps(loaded) == json.dumps(document), (
        f"load_report should return the dict in the file, got {loaded!r:.200}."
    )

    path.write_text(json.dumps({"results": results}), encoding="utf-8")
    err = raised(lambda: load_report(path))
    assert isinstance(err, ValueError), (
        f"A JSON file without the report's 'schema' should raise ValueError, got "
        f"{type(err).__name__ if err else 'a report'}."
    )
    path.write_text(json.dumps(dict(document, version=SCHEMA_VERSION + 1)), encoding="utf-8")
    err = raised(lambda: load_report(path))
    assert isinstance(err, ValueError), (
        f"A report of version {SCHEMA_VERSION + 1} should raise ValueError (this code reads "
        f"version {SCHEMA_VERSION}), got {type(err).__name__ if err else 'a report'}."
    )

### BEGIN HIDDEN TESTS
# hidden: the file is indented JSON of the four fields, read back unchanged
_h_results = {
    "a": {"latency": metric(0.5, 0.25, 0.75, "s", "lower", number=4)},
    "b": {"memory": metric(1024, 1024, 1024, "bytes", "lower")},
    "c": {},
}
with tempfile.TemporaryDirectory() as _h_folder:
    _h_path = Path(_h_folder) / "sub.json"
    written = save_report(_h_results, _h_path)
    assert isinstance(written, Path) and str(written) == str(_h_path), "returns the Path"
    _h_text = _h_path.read_text(encoding="utf-8")
    _h_doc = json.loads(_h_text)
    assert _h_doc.get("environment") == {} and type(_h_doc["environment"]) is dict, (
        "no environment: an empty dict"
    )
    assert _h_doc.get("schema") == SCHEMA and _h_doc.get("version") == SCHEMA_VERSION, (
        "schema and version"
    )
    assert json.dumps(_h_doc.get("results")) == json.dumps(_h_results), "the results, as given"
    assert _h_text == json.dumps(_h_doc, indent=2) + "\n", (
        "json.dumps(document, indent=2), then a newline"
    )
    loaded = load_report(str(_h_path))
    assert type(loaded) is dict and json.dumps(loaded) == json.dumps(_h_doc), "a round trip"
    # hidden: the environment given is written
    save_report(_h_results, _h_path, environment={"python": "3.11", "cpus": 8})
    assert json.loads(_h_path.read_text(encoding="utf-8"))["environment"] == {
        "python": "3.11",
        "cpus": 8,
    }, "the environment given"
    # hidden: results that are not well formed are refused before anything is written
    _h_new = Path(_h_folder) / "never.json"
    _h_bad = {"a": {"latency": {"value": 1.0, "low": 2.0, "high": 0.5, "better": "lower"}}}
    assert isinstance(raised(lambda: save_report(_h_bad, _h_new)), ValueError), (
        "malformed results raise ValueError"
    )
    assert not _h_new.exists(), "nothing is written for malformed results"
    # hidden: a report holding non-ASCII text, written as UTF-8 by another tool, is read
    _h_utf8 = dict(json.loads(_h_path.read_text(encoding="utf-8")), environment={"by": "Zoë"})
    _h_path.write_bytes(json.dumps(_h_utf8, ensure_ascii=False).encode("utf-8"))
    loaded = load_report(_h_path)
    assert loaded["environment"] == {"by": "Zoë"}, "reports are UTF-8 text"
    # hidden: files that are not reports of this version are refused
    _h_good = json.loads(_h_path.read_text(encoding="utf-8"))
    for _h_other in (
        "not json at all",
        json.dumps([1, 2, 3]),
        json.dumps(dict(_h_good, schema="another-report")),
        json.dumps({k: v for k, v in _h_good.items() if k != "schema"}),
        json.dumps(dict(_h_good, version=0)),
        json.dumps(dict(_h_good, version="1")),
        json.dumps({k: v for k, v in _h_good.items() if k != "version"}),
        json.dumps(dict(_h_good, results=_h_bad)),
        json.dumps({k: v for k, v in _h_good.items() if k != "results"}),
    ):
        _h_path.write_text(_h_other, encoding="utf-8")
        assert isinstance(raised(lambda: load_report(_h_path)), ValueError), (
            "anything but a well-formed report of this schema and version raises ValueError"
        )
### END HIDDEN TESTS

# %% [markdown]
# ## Task `compare`: better, worse, or within the noise (3 points)
#
# Run the same benchmark twice, without changing a line, and every number changes: the
# latencies by a few percent, sometimes by tens of percent on a shared machine. A
# comparison that calls each difference a speedup or a regression cries wolf on every run,
# and soon nobody reads it. What we want to know is which changes are **larger than the
# noise**, and the intervals in the reports say how large the noise is.
#
# The rule we use is simple and conservative: a change counts when the two intervals **do
# not overlap**. If last week's median latency was somewhere in [4.0, 4.3] ms and this
# week's is in [4.2, 4.6] ms, the data are consistent with no change at all: "same". If
# this week's is in [4.5, 4.9] ms, it got slower. (Two 95% intervals that do not overlap
# mean a difference significant at well beyond the 5% level; the rule misses some real
# changes, in exchange for few false alarms.)
#
# Some metrics have no spread: a memory peak measured with `tracemalloc` is the same number
# on every run (its interval is `[value, value]`), so any difference, even a byte, makes the
# intervals disjoint. And with enough runs, a latency interval becomes so narrow that a 0.3%
# change is "real", but too small to matter. The `tolerance` adds a second condition: a
# change counts only when it is also larger than `tolerance` (relative to the old value, 1%
# by default). Statistically significant and practically significant are two different
# questions, and a regression alarm should ask both.
#
# ```
#   old  [4.0 ─── 4.3]                                   verdict for latency (lower is better)
#   new        [4.2 ─── 4.6]                             overlap            -> "same"
#   new                     [4.5 ─── 4.9]                disjoint, higher   -> "worse"
#   new [3.1 ─ 3.4]                                      disjoint, lower    -> "better"
# ```
#
# Contract of `compare_reports(old, new, tolerance=0.01)`:
#
# - `old`, `new`: reports (dicts as `load_report` returns them); the given `_results_of`
#   returns their `"results"` (raising `ValueError` for malformed ones); the given check
#   raises `ValueError` for a negative `tolerance`;
# - returns a list of rows, one per metric. First every metric of `new`, in the order of
#   `new` (benchmark by benchmark, metric by metric), then the metrics of `old` that `new`
#   does not have, in the order of `old`. Each row is a dict with the keys `"benchmark"`,
#   `"metric"`, `"old"` (the old `value`, or `None`), `"new"` (the new `value`, or `None`),
#   `"change"` (`new / old - 1` when both exist and old is not 0, else `None`) and
#   `"verdict"`; the given `_comparison_row(benchmark, metric, old, new, verdict)` makes
#   one (it computes `"change"`). The verdicts:
#   - `"added"`: the metric is only in `new`; `"removed"`: only in `old`;
#   - `"same"`: the intervals `[low, high]` overlap (`new_low <= old_high` and
#     `old_low <= new_high`), or `|new - old| <= tolerance * |old|`;
#   - otherwise `"better"` when the new value is higher and the metric's `better` is
#     `"higher"`, or lower and `"lower"`; `"worse"` in the other two cases;
# - raises `ValueError` when a metric's `better` differs between the two reports (the
#   reports do not measure the same thing).


# %% kind="solution" id="compare" export=true
def compare_reports(old: dict, new: dict, tolerance: float = 0.01) -> list[dict]:
    """Each metric of two reports: better, worse, same (within the noise), added or removed.

    Args:
        old, new: reports ({"results": {benchmark: {metric: metric(...)}}, ...}).
        tolerance: the smallest relative change that counts, >= 0.

    Returns:
        a list of rows made by the given _comparison_row(benchmark, metric, old value, new
        value, verdict): new's metrics in new's order, then those only in old, in old's
        order. Verdicts: "added" (only in new, old value None), "removed" (only in old, new
        value None); "same" when the intervals overlap (new low <= old high and old low <=
        new high) or |new - old| <= tolerance * |old|; else "better" when the new value is
        on the side of the metric's "better" ("higher": larger), "worse" otherwise.

    Raises:
        ValueError: for malformed reports or tolerance < 0 (given checks); for a metric
            whose "better" differs between the reports.
    """
    old_results = _results_of(old, "compare_reports")
    new_results = _results_of(new, "compare_reports")
    if not (isinstance(tolerance, int | float) and tolerance >= 0):
        raise ValueError(f"compare_reports: tolerance must be >= 0, got {tolerance!r}")
    # Task compare: a row per metric of new, then per metric only old has.
    ### BEGIN SOLUTION
    rows = []
    for name, metrics in new_results.items():
        for key, b in metrics.items():
            a = old_results.get(name, {}).get(key)
            if a is None:
                rows.append(_comparison_row(name, key, None, b["value"], "added"))
                continue
            if a["better"] != b["better"]:
                raise ValueError(
                    f"compare_reports: {name}/{key} is '{a['better']} is better' in the old "
                    f"report and '{b['better']} is better' in the new one"
                )
            overlap = b["low"] <= a["high"] and a["low"] <= b["high"]
            small = abs(b["value"] - a["value"]) <= tolerance * abs(a["value"])
            if overlap or small:
                verdict = "same"
            elif (b["value"] > a["value"]) == (b["better"] == "higher"):
                verdict = "better"
            else:
                verdict = "worse"
            rows.append(_comparison_row(name, key, a["value"], b["value"], verdict))
    for name, metrics in old_results.items():
        for key, a in metrics.items():
            if key not in new_results.get(name, {}):
                rows.append(_comparison_row(name, key, a["value"], None, "removed"))
    return rows
    ### END SOLUTION


def _comparison_row(name: str, key: str, old, new, verdict: str) -> dict:
    """One row of compare_reports (given): change = new / old - 1 when both exist, old != 0."""
    change = None if old is None or new is None or old == 0 else new / old - 1
    return {
        "benchmark": name,
        "metric": key,
        "old": old,
        "new": new,
        "change": change,
        "verdict": verdict,
    }


def format_comparison(rows: list[dict]) -> str:
    """compare_reports' rows as a text table, the changes in percent."""
    lines = [f"{'benchmark':<16} {'metric':<12} {'old':>12} {'new':>12} {'change':>8}  verdict"]
    for row in rows:
        numbers = ["-" if v is None else f"{v:.4g}" for v in (row["old"], row["new"])]
        change = "-" if row["change"] is None else f"{100 * row['change']:+.1f}%"
        lines.append(
            f"{row['benchmark']:<16} {row['metric']:<12} {numbers[0]:>12} {numbers[1]:>12} "
            f"{change:>8}  {row['verdict']}"
        )
    return "\n".join(lines)


# %% [markdown]
# ### Test `compare`

# %% kind="test" id="test_compare" points=3
old = report_of(
    {
        "cnn": {
            "latency": metric(4.1e-3, 4.0e-3, 4.3e-3, "s", "lower"),
            "accuracy": metric(0.97, 0.95, 0.99, "", "higher"),
            "memory": metric(2e6, 2e6, 2e6, "bytes", "lower"),
        }
    }
)
new = report_of(
    {
        "cnn": {
            "latency": metric(4.7e-3, 4.5e-3, 4.9e-3, "s", "lower"),
            "accuracy": metric(0.975, 0.955, 0.99, "", "higher"),
            "memory": metric(1.5e6, 1.5e6, 1.5e6, "bytes", "lower"),
            "loss": metric(0.09, 0.07, 0.11, "nats", "lower"),
        }
    }
)
rows = compare_reports(old, new)
assert isinstance(rows, list) and all(isinstance(r, dict) for r in rows), (
    f"compare_reports should return a list of dicts, got {rows!r:.200}."
)
assert [(r["benchmark"], r["metric"]) for r in rows] == [
    ("cnn", "latency"),
    ("cnn", "accuracy"),
    ("cnn", "memory"),
    ("cnn", "loss"),
], f"One row per metric of the new report, in its order, got {[r['metric'] for r in rows]}."
verdicts = [r["verdict"] for r in rows]
assert verdicts == ["worse", "same", "better", "added"], (
    f"latency [4.5, 4.9] ms against [4.0, 4.3]: slower beyond the noise, 'worse'; accuracy "
    f"intervals overlap, 'same'; memory 1.5 MB against 2 MB with no spread, 'better'; loss is "
    f"new, 'added'. Got {verdicts}."
)
assert rows[0]["old"] == 4.1e-3 and rows[0]["new"] == 4.7e-3, (
    f"'old' and 'new' are the two values, got {rows[0]}."
)
assert abs(rows[0]["change"] - (4.7 / 4.1 - 1)) < 1e-12 and rows[3]["change"] is None, (
    f"'change' is new / old - 1 (None for an added metric), got {rows[0]['change']} and "
    f"{rows[3]['change']}."
)
rows = compare_reports(new, old)
assert [r["verdict"] for r in rows] == ["better", "same", "worse", "removed"], (
    f"The other way round: faster, same, more memory, and loss removed; got "
    f"{[r['verdict'] for r in rows]}."
)
tiny = report_of({"cnn": {"memory": metric(2.01e6, 2.01e6, 2.01e6, "bytes", "lower")}})
rows = compare_reports(old, tiny)
assert rows[0]["verdict"] == "same", (
    f"2.01 MB against 2 MB is a 0.5% change, under the 1% tolerance: 'same', got "
    f"{rows[0]['verdict']!r}."
)

### BEGIN HIDDEN TESTS
# hidden: intervals that overlap, even at one end, are the same


def _h_m(value, low, high, better="lower"):
    return metric(value, low, high, "", better)


_h_old = report_of({"m": {"t": _h_m(10.0, 9.0, 11.0)}})
for _h_low, _h_high in ((11.0, 13.0), (7.0, 9.0), (8.0, 12.0), (9.5, 10.5), (10.5, 20.0)):
    _h_new = report_of({"m": {"t": _h_m((_h_low + _h_high) / 2, _h_low, _h_high)}})
    rows = compare_reports(_h_old, _h_new)
    assert rows[0]["verdict"] == "same", "overlapping intervals are within the noise"
# hidden: disjoint intervals are better or worse, following the metric's direction
for _h_better, _h_value, _h_expected in (
    ("lower", 13.0, "worse"),
    ("lower", 7.0, "better"),
    ("higher", 13.0, "better"),
    ("higher", 7.0, "worse"),
):
    _h_a = report_of({"m": {"t": _h_m(10.0, 9.0, 11.0, _h_better)}})
    _h_b = report_of({"m": {"t": _h_m(_h_value, _h_value - 0.5, _h_value + 0.5, _h_better)}})
    rows = compare_reports(_h_a, _h_b)
    assert rows[0]["verdict"] == _h_expected, "the direction of the metric decides the verdict"
    assert rows[0]["old"] == 10.0 and rows[0]["new"] == _h_value, "the two values"
# hidden: the tolerance decides for changes with no spread
_h_a = report_of({"m": {"b": _h_m(1000.0, 1000.0, 1000.0)}})
for _h_tol, _h_value, _h_expected in (
    (0.01, 1010.0, "same"),
    (0.01, 1010.5, "worse"),
    (0.01, 989.0, "better"),
    (0.0, 1000.5, "worse"),
    (0.0, 1000.0, "same"),
    (0.2, 1150.0, "same"),
    (0.2, 700.0, "better"),
):
    _h_b = report_of({"m": {"b": _h_m(_h_value, _h_value, _h_value)}})
    rows = compare_reports(_h_a, _h_b, tolerance=_h_tol)
    assert rows[0]["verdict"] == _h_expected, "a change must exceed the tolerance to count"
# hidden: the default tolerance is 1%
_h_b = report_of({"m": {"b": _h_m(1009.0, 1009.0, 1009.0)}})
assert compare_reports(_h_a, _h_b)[0]["verdict"] == "same", "tolerance=0.01 by default"
# hidden: an old value of 0 compares by the intervals
_h_a = report_of({"m": {"z": _h_m(0.0, 0.0, 0.0, "higher")}})
_h_b = report_of({"m": {"z": _h_m(0.5, 0.25, 0.75, "higher")}})
rows = compare_reports(_h_a, _h_b)
assert rows[0]["verdict"] == "better" and rows[0]["change"] is None, "from zero, no ratio"
assert compare_reports(_h_a, _h_a)[0]["verdict"] == "same", "zero against zero"
# hidden: rows follow the new report's order, then what only the old report had
_h_a = report_of(
    {
        "x": {"p": _h_m(1.0, 1.0, 1.0), "q": _h_m(2.0, 2.0, 2.0), "r": _h_m(3.0, 3.0, 3.0)},
        "y": {"p": _h_m(4.0, 4.0, 4.0)},
        "w": {"s": _h_m(5.0, 5.0, 5.0)},
    }
)
_h_b = report_of(
    {
        "z": {"p": _h_m(9.0, 9.0, 9.0)},
        "x": {"r": _h_m(3.0, 3.0, 3.0), "p": _h_m(0.5, 0.5, 0.5), "t": _h_m(1.0, 1.0, 1.0)},
    }
)
rows = compare_reports(_h_a, _h_b)
got = [(r["benchmark"], r["metric"], r["verdict"]) for r in rows]
assert got == [
    ("z", "p", "added"),
    ("x", "r", "same"),
    ("x", "p", "better"),
    ("x", "t", "added"),
    ("x", "q", "removed"),
    ("y", "p", "removed"),
    ("w", "s", "removed"),
], "new's metrics in order, then the removed ones in old's order"
assert [r["old"] for r in rows] == [None, 3.0, 1.0, None, 2.0, 4.0, 5.0], "old values or None"
assert [r["new"] for r in rows] == [9.0, 3.0, 0.5, 1.0, None, None, None], "new values or None"
assert all(set(r) == {"benchmark", "metric", "old", "new", "change", "verdict"} for r in rows), (
    "six keys per row"
)
rows = compare_reports(report_of({"m": {}}), report_of({}))
assert isinstance(rows, list) and len(rows) == 0, "nothing to compare"
# hidden: a metric whose direction changed cannot be compared
_h_a = report_of({"m": {"t": _h_m(1.0, 1.0, 1.0, "lower")}})
_h_b = report_of({"m": {"t": _h_m(1.0, 1.0, 1.0, "higher")}})
assert isinstance(raised(lambda: compare_reports(_h_a, _h_b)), ValueError), (
    "a metric 'lower is better' in one report and 'higher' in the other raises ValueError"
)
# hidden: malformed reports and a negative tolerance raise ValueError
for _h_args in ((_h_a, {"results": {"m": {"t": {"value": 1.0}}}}), ({}, _h_a), (_h_a, _h_a, -0.1)):
    assert isinstance(raised(lambda a=_h_args: compare_reports(*a)), ValueError), (
        "malformed reports or a negative tolerance raise ValueError"
    )
### END HIDDEN TESTS

# %% [markdown]
# ## Everything behind one object: `Benchmark`
#
# The read-only cell below puts your functions behind one object, the way the capstone and
# the systems analysis use them. `Benchmark(...)` holds the settings (warm-up, samples,
# `min_time` for `choose_number`, confidence, resamples, one seed, one clock) so that every
# model is measured the same way, and `run(name, model, inputs, data, items)`:
#
# 1. times `model(inputs)` (or `model()` when `inputs` is `None`: any callable, such as a
#    whole generation, can be benchmarked) in evaluation mode and under `no_grad()`, with
#    the **same inputs object** for every call and every model;
# 2. reports the median latency with its bootstrap interval and IQR, the throughput when
#    `items` says how many items a call processes, and the peak memory of one call
#    (Module 15's `measure_memory`, in a separate run, because tracing slows every
#    allocation);
# 3. measures accuracy and loss with `evaluate_quality` when `data` is given, with bootstrap
#    intervals over the examples. Without `data` there is no accuracy in the results: never
#    an invented one.
#
# `frontier(x, y)` names the models on the Pareto frontier of two metrics, `plot(path, x,
# y)` draws it, `report()` and `save(path)` write the results as a report with the
# environment, `compare(baseline)` compares the current results with a saved report, and
# `table()` prints the results.


# %% kind="locked" id="benchmark" export=true
class Benchmark:
    """Benchmarks models the same way and keeps their results for a report.

    Attributes:
        warmup, repeats: untimed calls, and samples (at least 2, for the intervals).
        min_time: seconds per sample for choose_number; 0 for one call per sample.
        confidence, resamples, seed: the bootstrap intervals (one seed: reproducible).
        clock: a function returning seconds (time.perf_counter; a FakeClock in tests).
        memory: whether to measure the peak memory of one call.
        results: {name: {metric name: metric(...)}} of every run so far.
    """

    def __init__(
        self,
        warmup: int = 2,
        repeats: int = 20,
        min_time: float = 0.0,
        confidence: float = 0.95,
        resamples: int = 2000,
        seed: int = 0,
        clock: Callable[[], float] = time.perf_counter,
        memory: bool = True,
    ):
        _check_timing(warmup, repeats, 1, "Benchmark")
        if repeats < 2:
            raise ValueError(f"Benchmark: an interval needs repeats >= 2, got {repeats}")
        _check_calibration(min_time, 1, "Benchmark")
        _check_confidence(confidence, resamples, "Benchmark")
        self.warmup, self.repeats, self.min_time = warmup, repeats, min_time
        self.confidence, self.resamples, self.seed = confidence, resamples, seed
        self.clock, self.memory = clock, memory
        self.results: dict[str, dict] = {}

    def _interval(self, values, statistic) -> tuple[float, float]:
        return bootstrap_ci(values, statistic, self.confidence, self.resamples, self.seed)

    def run(self, name: str, model, inputs=None, data=None, items: float | None = None) -> dict:
        """Benchmark one model on one input; store and return its metrics.

        Args:
            name: the benchmark's name in the results (a later run replaces it).
            model: a Layer or a callable: timed as model(inputs), or model() if inputs is None.
            inputs: what every timed call passes to the model (the same object each time).
            data: labelled batches for evaluate_quality (at least 2 examples, for the
                intervals), or None (no accuracy, no loss).
            items: the items one timed call processes, for throughput, or None.

        Returns:
            {"latency", ["throughput"], ["memory"], ["accuracy", "loss"]}: metric dicts.
        """
        call = _as_callable(model, "Benchmark.run")
        args = () if inputs is None else (inputs,)

        def once():
            with no_grad():
                call(*args)

        was_training = getattr(model, "training", None)
        if was_training is not None:
            model.eval()
        try:
            number = 1
            if self.min_time > 0:
                number = choose_number(once, self.min_time, clock=self.clock)
            times = time_function(once, self.warmup, self.repeats, number, self.clock)
            peak = measure_memory(once) if self.memory else None
        finally:
            if was_training is not None:
                model.train(was_training)
        stats = summarize(times)
        low, high = self._interval(times, np.median)
        metrics = {
            "latency": metric(
                stats["median"], low, high, "s", "lower", iqr=stats["iqr"], number=number
            )
        }
        if items is not None:
            rate = throughput(times, items, self.confidence, self.resamples, self.seed)
            metrics["throughput"] = metric(
                rate["per_second"], rate["low"], rate["high"], "items/s", "higher"
            )
        if peak is not None:
            metrics["memory"] = metric(peak, peak, peak, "bytes", "lower")
        if data is not None:
            quality = evaluate_quality(model, data)
            for key, values, unit, better in (
                ("accuracy", quality["correct"], "", "higher"),
                ("loss", quality["losses"], "nats", "lower"),
            ):
                low, high = self._interval(values, np.mean)
                metrics[key] = metric(
                    quality[key], low, high, unit, better, examples=quality["examples"]
                )
        self.results[name] = metrics
        return metrics

    def _points(self, x: str, y: str) -> tuple[list[str], np.ndarray, list[bool]]:
        names = [n for n, m in self.results.items() if x in m and y in m]
        if not names:
            raise ValueError(f"Benchmark: no result has both {x!r} and {y!r}")
        points = np.array(
            [[self.results[n][x]["value"], self.results[n][y]["value"]] for n in names]
        )
        first = self.results[names[0]]
        return names, points, [first[x]["better"] == "higher", first[y]["better"] == "higher"]

    def frontier(self, x: str = "latency", y: str = "accuracy") -> list[str]:
        """The names of the results on the Pareto frontier of metrics x and y."""
        names, points, maximize = self._points(x, y)
        return [names[i] for i in pareto_front(points, maximize)]

    def plot(self, path, x: str = "latency", y: str = "accuracy", title: str = "") -> Path:
        """A PNG of the results on metrics x and y, the frontier highlighted."""
        names, points, maximize = self._points(x, y)
        units = [self.results[names[0]][k]["unit"] for k in (x, y)]
        labels = [f"{k} ({u})" if u else k for k, u in zip((x, y), units, strict=True)]
        bars = [[[self.results[n][k][e] for e in ("low", "high")] for k in (x, y)] for n in names]
        return plot_pareto(
            points, names, maximize, path, *labels, title or "Pareto frontier", intervals=bars
        )

    def report(self) -> dict:
        """The results as a report, as load_report returns one, with this environment."""
        results = json.loads(json.dumps(self.results))  # a copy that later runs cannot change
        return {
            "schema": SCHEMA,
            "version": SCHEMA_VERSION,
            "environment": environment(),
            "results": results,
        }

    def save(self, path) -> Path:
        """Write the results to path as a JSON report."""
        return save_report(self.results, path, environment())

    def compare(self, baseline, tolerance: float = 0.01) -> list[dict]:
        """compare_reports(baseline, the current results): baseline a path or a report."""
        old = baseline if isinstance(baseline, dict) else load_report(baseline)
        return compare_reports(old, self.report(), tolerance)

    def table(self) -> str:
        """The results as a text table: medians and intervals."""
        head = (
            f"{'benchmark':<18} {'latency ms':>22} {'IQR ms':>8} {'items/s':>10} {'memory MB':>9}"
        )
        lines = [head + f" {'accuracy %':>21} {'loss (nats)':>20}"]
        for name, m in self.results.items():
            lat = m["latency"]
            cells = [f"{name:<18}"]
            cells.append(
                f"{1e3 * lat['value']:>8.3f} [{1e3 * lat['low']:.3f}, {1e3 * lat['high']:.3f}]"
            )
            cells.append(f"{1e3 * lat.get('iqr', 0.0):>8.3f}")
            cells.append(
                f"{m['throughput']['value']:>10.4g}" if "throughput" in m else f"{'-':>10}"
            )
            cells.append(f"{m['memory']['value'] / 1e6:>9.2f}" if "memory" in m else f"{'-':>9}")
            if "accuracy" in m:
                acc = m["accuracy"]
                cells.append(
                    f"{100 * acc['value']:>7.1f} [{100 * acc['low']:.1f}, {100 * acc['high']:.1f}]"
                )
                loss = m["loss"]
                cells.append(f"{loss['value']:>6.3f} [{loss['low']:.3f}, {loss['high']:.3f}]")
            else:
                cells.append(f"{'-':>21} {'-':>20}")
            lines.append(" ".join(cells))
        return "\n".join(lines)


# %% [markdown]
# ## Everything together: benchmarking models with known costs
#
# The last test benchmarks with **your** code throughout (no reference functions swapped
# in): three small classifiers whose forward passes cost a chosen number of fake seconds
# and whose logits are right on a chosen share of the examples, and a plain callable that
# "generates" 64 tokens. The harness must time them exactly, compute throughput and
# intervals, measure accuracy in evaluation mode, find the frontier, write a report, and
# recognise, a week later, which model got slower and which did not.


# %% kind="test" id="test_benchmark" points=2
clock = FakeClock()
labels = np.array([0, 1, 2, 0, 1, 2, 0, 1])
right = np.eye(3)[labels]  # logits with the largest score at the label: every example right
half = np.eye(3)[[0, 1, 2, 0, 2, 0, 1, 2]]  # the first four right, the last four wrong


class Timed(Layer):
    """A classifier whose forward pass costs `costs[i % len(costs)]` fake seconds."""

    def __init__(self, costs, logits):
        super().__init__()
        self.costs, self.logits, self.seen = costs, logits, []

    def forward(self, x):
        clock.advance(self.costs[len(self.seen) % len(self.costs)])
        self.seen.append((self.training, is_grad_enabled()))
        return Tensor(self.logits)


data = [(np.zeros((8, 3)), labels)]
bench = Benchmark(
    warmup=1, repeats=5, confidence=0.9, resamples=500, seed=3, clock=clock, memory=False
)
big = Timed([0.004, 0.005, 0.004, 0.003, 0.004, 0.006], right)
m = bench.run("big", big, np.zeros((8, 3)), data=data, items=8)
assert set(m) == {"latency", "throughput", "accuracy", "loss"}, (
    f"Benchmark.run with data and items should report latency, throughput, accuracy and "
    f"loss, got {sorted(m)}."
)
times = np.array([0.005, 0.004, 0.003, 0.004, 0.006])  # the five timed calls after warm-up
assert abs(m["latency"]["value"] - 0.004) < 1e-12, (
    f"The median of the timed calls is 0.004 fake seconds, got {m['latency']['value']!r}."
)
idx = np.random.default_rng(3).integers(0, 5, size=(500, 5))
low, high = np.percentile(np.median(times[idx], axis=1), [5, 95])
assert check_close([m["latency"]["low"], m["latency"]["high"]], [low, high], rtol=1e-9), (
    f"The latency interval should be the 90% bootstrap interval of the median with seed 3, "
    f"{(low, high)}, got {(m['latency']['low'], m['latency']['high'])}."
)
assert check_close(
    [m["throughput"]["value"], m["throughput"]["low"], m["throughput"]["high"]],
    [8 / 0.004, 8 / high, 8 / low],
    rtol=1e-9,
), f"Throughput: 8 items / 0.004 s = 2000 per second, interval inverted; got {m['throughput']}."
assert m["accuracy"]["value"] == 1.0 and big.seen[-1] == (False, False), (
    f"The big model is right on every example, evaluated in evaluation mode under no_grad; "
    f"got accuracy {m['accuracy']['value']!r} and (training, recording) {big.seen[-1]}."
)
bench.run("small", Timed([0.001], half), np.zeros((8, 3)), data=data, items=8)
bench.run("slow and wrong", Timed([0.005], half), np.zeros((8, 3)), data=data, items=8)
assert bench.results["small"]["accuracy"]["value"] == 0.5, "The small model is right on half."
front = bench.frontier("latency", "accuracy")
assert front == ["big", "small"], (
    f"big (most accurate) and small (fastest) are the frontier; 'slow and wrong' is slower "
    f"than small and no more accurate; got {front}."
)

### BEGIN HIDDEN TESTS
# hidden: a report written and compared a week later names what changed beyond the noise
with tempfile.TemporaryDirectory() as _h_folder:
    _h_path = bench.save(Path(_h_folder) / "baseline.json")
    _h_base = load_report(_h_path)
    assert json.dumps(_h_base["results"]) == json.dumps(bench.results), "the results round trip"
    later = Benchmark(
        warmup=1, repeats=5, confidence=0.9, resamples=500, seed=3, clock=clock, memory=False
    )
    later.run("big", Timed([0.008, 0.009, 0.0085], right), np.zeros((8, 3)), data=data, items=8)
    later.run("small", Timed([0.001], half), np.zeros((8, 3)), data=data, items=8)
    rows = later.compare(_h_path)
    _h_verdicts = {(r["benchmark"], r["metric"]): r["verdict"] for r in rows}
    assert _h_verdicts[("big", "latency")] == "worse", "the big model got slower"
    assert _h_verdicts[("big", "throughput")] == "worse", "and its throughput fell"
    assert _h_verdicts[("big", "accuracy")] == "same", "its accuracy did not change"
    assert _h_verdicts[("small", "latency")] == "same", "the small model did not change"
    assert _h_verdicts[("slow and wrong", "latency")] == "removed", "a model not run again"
# hidden: the loss interval and values come from the examples
_h_z = right - right.max(axis=1, keepdims=True)
_h_loss = np.log(np.exp(_h_z).sum(axis=1)) - _h_z[np.arange(8), labels]
assert check_close(bench.results["big"]["loss"]["value"], _h_loss.mean(), rtol=1e-6), (
    "the mean cross-entropy of the examples"
)
# hidden: a callable without inputs is timed as it is, with batches of calls
clock = FakeClock()
gen = Benchmark(warmup=2, repeats=4, min_time=0.01, resamples=200, clock=clock, memory=False)
_h_gen = CostlyCall(clock, 0.003)
m = gen.run("generate 64 tokens", _h_gen, items=64)
assert set(m) == {"latency", "throughput"}, "no data: no accuracy, never an invented one"
assert check_close(m["latency"]["value"], 0.003, rtol=1e-9), "seconds per call"
assert m["latency"]["number"] == 4, "four calls of 3 ms reach min_time"
assert _h_gen.calls == 7 + 2 + 4 * 4, "calibration, warm-up, then samples of 4 calls"
assert check_close(m["throughput"]["value"], 64 / 0.003, rtol=1e-9), "tokens per second"
# hidden: memory is measured, and missing data or a model that cannot run raise
_h_mem = Benchmark(warmup=0, repeats=2, resamples=50, clock=FakeClock(tick=1e-3))
m = _h_mem.run("alloc", lambda: np.ones(200_000))
assert 1_600_000 <= m["memory"]["value"] < 1_700_000, "the peak memory of one call"
assert isinstance(
    raised(lambda: _h_mem.run("empty", lambda x: np.eye(2), 0, data=[])), ValueError
), "empty data raises"
assert isinstance(raised(lambda: _h_mem.run("none", object())), TypeError), (
    "a model that cannot run raises"
)
### END HIDDEN TESTS

# %% [markdown]
# ## Systems analysis: benchmarking for real
#
# Nothing below is graded. The cells point your harness at the clock, at `time.sleep`, at
# real latencies, and at real models: four digit classifiers trained here in a few seconds
# (Module 08's digits, Module 09's convolutions) and Module 13's GPT generating text with
# and without Module 14's cache. On a quiet machine they take about half a minute. Your
# numbers will differ from the ones quoted in the text, which come from the course's
# shared two-core machine; the intervals say by how much they can be trusted.
#
# ### The clock, and calls too short for it
#
# First the instrument itself: the resolution Python reports for `perf_counter`, the
# smallest step seen between two readings, and the cost of one reading. Then a tiny call
# (adding two arrays of four numbers into a third) timed three ways: one call per sample,
# and in batches of the sizes `choose_number` picks for 1 ms and for 10 ms.

# %%
import tempfile  # noqa: E402

info = time.get_clock_info("perf_counter")
stamps = np.array([time.perf_counter_ns() for _ in range(200_000)])
steps = np.diff(stamps)
print(
    f"perf_counter ({info.implementation}): reported resolution {1e9 * info.resolution:.0f} ns, "
    f"smallest step seen {steps[steps > 0].min()} ns"
)
reading = choose_number(time.perf_counter, min_time=0.01)
cost = time_function(time.perf_counter, warmup=1, repeats=15, number=reading)
print(f"one clock reading: {1e9 * np.median(cost):.0f} ns (median of 15 batches of {reading:,})")

a4, b4, out4 = np.ones(4), np.ones(4), np.empty(4)


def tiny():
    np.add(a4, b4, out=out4)  # four additions, no allocation: a fraction of a microsecond


print(
    f"\n{'np.add of 4 numbers':<30} {'number':>7} {'samples':>8} {'median ns':>10} {'min ns':>7} {'IQR ns':>7}"
)
for label, min_time, samples in (
    ("1 call per sample", 0.0, 2000),
    ("batches of >= 1 ms", 0.001, 200),
    ("batches of >= 10 ms", 0.01, 20),
):
    number = choose_number(tiny, min_time) if min_time else 1
    s = summarize(time_function(tiny, warmup=100, repeats=samples, number=number))
    print(
        f"{label:<30} {number:>7,} {samples:>8} {1e9 * s['median']:>10.0f} {1e9 * s['min']:>7.0f} "
        f"{1e9 * s['iqr']:>7.0f}"
    )

# %% [markdown]
# On the course machine `perf_counter` claimed a resolution of 1 ns, but two readings were
# never less than 50 ns apart, and a reading cost 110 to 170 ns (the machine was busy: a
# load of 5 to 8 on two cores). Against those, the four additions:
#
# - **one call per sample** measured 570 to 610 ns at the median, with an IQR of 20 to 30 ns,
#   a step or two of the clock: every sample includes a reading of the clock, and the
#   samples can only take a few values;
# - **batches of at least 1 ms** (1,024 to 4,096 calls) measured 370 to 420 ns: the clock's
#   cost shared by thousands of calls. The true cost of the call is about a third less than
#   the one-by-one figure;
# - **batches of at least 10 ms** measured 900 to 1,400 ns at the median: two to three and a
#   half times more. On a machine that runs several jobs per core, the scheduler hands the
#   core to another job every few milliseconds, and a batch of 10 ms is almost always
#   interrupted: the interruption is charged to the calls.
#
# So `number` has to be chosen: a batch long against the clock (1 ms is 20,000 clock steps)
# and short against the interruptions, many samples, and the median. On a quiet machine
# there is little to interrupt a batch and the two batch sizes should agree: if yours
# disagree, the machine is busy. A `min_time` of a few milliseconds is a compromise; the
# systems cells below use 5 ms.
#
# ### A sleep of known length
#
# `time.sleep(s)` promises to sleep **at least** `s` seconds. How much longer is up to the
# operating system: the timer's slack, the scheduler, and on a busy machine the wait for a
# free core. A known length is also a check of the harness: every sample must come out at
# or above the request.

# %%
print(
    f"{'requested ms':>12} {'median ms':>10} {'IQR ms':>8} {'min ms':>8} {'max ms':>8} {'overshoot us':>13}"
)
for requested in (0.001, 0.005, 0.02):
    s = summarize(time_function(lambda r=requested: time.sleep(r), warmup=1, repeats=10))
    assert s["min"] >= requested, "a sleep is never shorter than requested"
    print(
        f"{1e3 * requested:>12.0f} {1e3 * s['median']:>10.3f} {1e3 * s['iqr']:>8.3f} "
        f"{1e3 * s['min']:>8.3f} {1e3 * s['max']:>8.3f} {1e6 * (s['median'] - requested):>13.0f}"
    )

# %% [markdown]
# Every sample came out at or above its request, as it must. The overshoot at the median
# was 75 to 120 microseconds, the same for 1, 5 and 20 ms: the cost of being woken (Linux
# lets a sleeping thread's timer fire up to 50 microseconds late by default, its "timer
# slack", to group wake-ups), not a fraction of the request. The maxima tell the other
# story of a busy machine: a 5 ms sleep sometimes took 8 to 9 ms, because the woken process
# then waited for a free core. This is why the tests of this module that use the real clock
# only check that a sleep is not *shorter* than requested and not absurdly longer: load
# can only lengthen it.
#
# ### Which interval covers the truth?
#
# The hidden test checks your intervals on synthetic data. Here is the same experiment on
# real latencies. We time a small computation (a `(64, 256) @ (256, 256)` float32 product
# followed by a softmax) 3,000 times and call those 3,000 runs **the population**: its
# median and its mean are the truth. Then, a thousand times, we pretend to be a benchmark
# that could afford only $n$ runs: draw $n$ of the 3,000, compute an interval from them,
# and check whether it contains the truth. A 95% interval should succeed about 950 times.

# %%
rng = np.random.default_rng(0)
a = rng.standard_normal((64, 256)).astype(np.float32)
w = rng.standard_normal((256, 256)).astype(np.float32)


def work():
    z = a @ w
    e = np.exp(z - z.max(axis=1, keepdims=True))
    e / e.sum(axis=1, keepdims=True)


population = time_function(work, warmup=20, repeats=3000)
truth = summarize(population)
print(
    f"population of 3000 runs: median {1e6 * truth['median']:.1f} us, mean "
    f"{1e6 * truth['mean']:.1f} us, IQR {1e6 * truth['iqr']:.1f} us, max {1e6 * truth['max']:.0f} us"
)
T_975 = {10: 2.262, 30: 2.045}  # Student's t, 97.5th percentile, n - 1 degrees of freedom
print(f"\n{'95% interval':<34} {'target':<8} {'n = 10':>8} {'n = 30':>8}")
coverage = {}
for n in (10, 30):
    hits = {"mean +- 1.96 s/sqrt(n)": [0, 0], "mean +- t s/sqrt(n)": [0, 0], "bootstrap": [0, 0]}
    for trial in range(1000):
        runs = rng.choice(population, size=n, replace=False)
        half_z = 1.96 * runs.std(ddof=1) / np.sqrt(n)
        half_t = T_975[n] * runs.std(ddof=1) / np.sqrt(n)
        for label, (low, high) in (
            ("mean +- 1.96 s/sqrt(n)", (runs.mean() - half_z, runs.mean() + half_z)),
            ("mean +- t s/sqrt(n)", (runs.mean() - half_t, runs.mean() + half_t)),
            ("bootstrap", bootstrap_ci(runs, np.median, 0.95, 1000, trial)),
        ):
            hits[label][0] += low <= truth["mean"] <= high
            hits[label][1] += low <= truth["median"] <= high
    for label, (mean_hits, median_hits) in hits.items():
        coverage[(label, n)] = (mean_hits / 1000, median_hits / 1000)
for label in hits:
    for k, target in ((0, "mean"), (1, "median")):
        if label == "bootstrap" and k == 0:
            continue
        print(
            f"{label:<34} {target:<8} {100 * coverage[(label, 10)][k]:>7.1f}% "
            f"{100 * coverage[(label, 30)][k]:>7.1f}%"
        )

# %% [markdown]
# On the course machine the population was typical of a shared computer: a median of 118 to
# 121 microseconds and an IQR of 2 to 10, but a **mean of 260 to 390**, carried by a few
# runs of 9 to 28 milliseconds when another job held the core. The intervals:
#
# - **mean $\pm$ 1.96 $s / \sqrt{n}$** covered the true mean only **26 to 31%** of the time at
#   $n = 10$, and 61 to 63% at $n = 30$, against a promise of 95%. Most samples of ten runs
#   contain no slow run: their mean sits near the median and their interval is narrow,
#   far below the true mean. The rare sample that contains one gets a huge interval;
# - **Student's $t$** (2.26 instead of 1.96) changed almost nothing: the constant is not the
#   problem, the skew is. The same intervals happened to cover the *median* 88 to 98% of the
#   time at $n = 10$ and only 71 to 87% at $n = 30$: an interval for one statistic says
#   nothing reliable about another;
# - **the bootstrap interval of the median** covered the true median **93 to 95%** of the
#   time, at both sizes: what it promises, with no assumption about the shape of the
#   distribution.
#
# On a quiet machine the tail is thinner and the mean's interval does better, but the
# lesson stands: report the statistic that noise cannot drag (the median), with an
# interval that does not assume a shape (the bootstrap).
#
# ### Four digit classifiers, benchmarked
#
# Now real models. The next cell trains four classifiers on Module 08's 8x8 digits (1,437
# training images), two multilayer perceptrons of different widths and two convolutional
# networks of different widths (the 1998 milestone's, and one with a quarter of its
# channels), each with Adam for a few epochs. Then one `Benchmark` measures them all the
# same way: the latency of classifying the 360 test images in one batch (the **same**
# inputs object for every model), the throughput in images per second, the peak memory of
# one call, and the accuracy and loss on the test images, with 95% bootstrap intervals.

# %%
from tinytorch.core.activations import ReLU  # noqa: E402
from tinytorch.core.layers import Linear, Sequential  # noqa: E402
from tinytorch.core.losses import CrossEntropyLoss  # noqa: E402
from tinytorch.core.optimizers import Adam  # noqa: E402
from tinytorch.core.spatial import Conv2d, Flatten, MaxPool2d  # noqa: E402
from tinytorch.data.loader import load_digits  # noqa: E402

try:
    x_train, y_train = load_digits("train")
    x_test, y_test = load_digits("test")
except FileNotFoundError:  # otter: the digits beside the notebook
    x_train, y_train = load_digits("train", path="digits")
    x_test, y_test = load_digits("test", path="digits")


def mlp(hidden, seed):
    return Sequential(Linear(64, hidden, rng=seed), ReLU(), Linear(hidden, 10, rng=seed + 1))


def cnn(c1, c2, seed):
    return Sequential(
        Conv2d(1, c1, 3, padding=1, rng=seed),
        ReLU(),
        MaxPool2d(2),
        Conv2d(c1, c2, 3, padding=1, rng=seed + 1),
        ReLU(),
        MaxPool2d(2),
        Flatten(),
        Linear(4 * c2, 10, rng=seed + 2),
    )


def train(model, images, labels, epochs, lr=0.005, batch=32, seed=0):
    optimizer, loss_fn = Adam(model.parameters(), lr=lr), CrossEntropyLoss()
    order = np.random.default_rng(seed)
    started = time.perf_counter()
    for _ in range(epochs):
        perm = order.permutation(len(images))
        for i in range(0, len(images), batch):
            rows = perm[i : i + batch]
            optimizer.zero_grad()
            loss_fn(model(Tensor(images[rows])), labels[rows]).backward()
            optimizer.step()
    return time.perf_counter() - started


flat_train, flat_test = x_train.reshape(-1, 64), x_test.reshape(-1, 64)
image_train, image_test = x_train[:, None], x_test[:, None]  # (N, 1, 8, 8)
models = {
    "MLP 64-16-10": (mlp(16, 0), flat_train, flat_test),
    "MLP 64-128-10": (mlp(128, 0), flat_train, flat_test),
    "CNN 8-16": (cnn(8, 16, 0), image_train, image_test),
    "CNN 32-64": (cnn(32, 64, 0), image_train, image_test),
}
for name, (model, train_x, _) in models.items():
    seconds = train(model, train_x, y_train, epochs=10 if name.startswith("MLP") else 8)
    print(f"trained {name:<14} in {seconds:4.1f} s")

bench = Benchmark(warmup=2, repeats=15, min_time=0.005)
for name, (model, _, test_x) in models.items():
    inputs = Tensor(test_x)
    bench.run(name, model, inputs, data=[(inputs, y_test)], items=len(test_x))
print()
print(bench.table())

# %% [markdown]
# Training all four took 7 to 11 seconds. On the course machine, for a batch of the 360 test
# images:
#
# - the small MLP took **40 to 100 microseconds** (5 to 9 million images per second), the
#   wide MLP 140 to 400, the small CNN **16 to 24 ms** and the large CNN 78 to 115 ms: a
#   thousand times the small MLP or more. Every convolution reads each pixel nine times
#   through im2col, and the large CNN's 32 and 64 channels multiply that;
# - the peak memory of one call follows the same order, from 0.08 MB to 15.7 MB (the im2col
#   matrices of the convolutions), and repeated to the byte in every run;
# - the accuracies ranged from 96.1% to 97.8%, each with an interval about **$\pm$2 points**
#   wide, and **all four intervals overlap**: 360 test images cannot tell these models
#   apart by accuracy. The losses separate them better: 0.060 nats for the large CNN, with
#   an interval (0.034 to 0.095) that barely touches the others'.
#
# Latency intervals were narrow for most rows, and wide when the machine interfered: an
# MLP's interval reached from 0.04 to 0.3 ms, or from 0.14 to 0.67 ms, in some runs, because
# some of its batches were interrupted. Nothing in the table is assumed: run it again and
# every latency will move, and the intervals say how far within a run.
#
# ### The frontier
#
# Which of the four is worth using? The next cell asks `Benchmark.frontier` for the models
# that no other model beats on both latency and accuracy, and draws them with
# `plot_pareto` into a PNG (in a temporary folder; set `runs` to a folder of your own to
# keep the files).

# %%
from IPython.display import Image, display  # noqa: E402

runs = Path(tempfile.mkdtemp(prefix="tinytorch-benchmarks-"))
print("frontier (latency, accuracy):", bench.frontier("latency", "accuracy"))
print("frontier (memory, accuracy): ", bench.frontier("memory", "accuracy"))
png = bench.plot(runs / "digits_pareto.png", "latency", "accuracy", "Digits: latency vs accuracy")
print(f"wrote {png} ({png.stat().st_size:,} bytes)")
display(Image(filename=str(png)))

# %% [markdown]
# The frontier was the same on every run: the **small MLP** (fastest, smallest) and the
# **large CNN** (most accurate), on latency and on memory alike. The wide MLP and the small
# CNN are dominated: slower and bigger than the small MLP, and no more accurate. Read the
# plot with its error bars, though. The small MLP is 96.7% accurate and the wide one 96.4%:
# 348 against 347 of the 360 images, one image apart, well inside both intervals. The
# frontier is a statement about these measurements; whether the wide MLP is really worse
# than the small one, 360 images cannot say. A larger test set would, and the harness would
# show it in narrower intervals.
#
# ### A baseline, a rerun, and a regression
#
# The next cell saves the results as the **baseline** report, then benchmarks the same four
# models again, unchanged, and compares: every difference in this second run is noise, so
# every verdict other than "same" would be a false alarm. Then it makes a real change to
# one model. `Conv2d` can compute with Module 09's loop version (`use_loops=True`): the same
# weights and the same outputs, computed one kernel position at a time. The smaller CNN
# switched to loops is benchmarked once more against the baseline.

# %%
baseline = bench.save(runs / "baseline.json")
print(f"baseline: {baseline} ({baseline.stat().st_size:,} bytes)")

rerun = Benchmark(warmup=2, repeats=15, min_time=0.005)
for name, (model, _, test_x) in models.items():
    inputs = Tensor(test_x)
    rerun.run(name, model, inputs, data=[(inputs, y_test)], items=len(test_x))
rows = rerun.compare(baseline)
print("\nthe same models again:")
print(format_comparison([r for r in rows if r["metric"] in ("latency", "memory", "accuracy")]))

loops_model = models["CNN 8-16"][0]
for layer in loops_model.layers:
    if isinstance(layer, Conv2d):
        layer.use_loops = True
regression = Benchmark(warmup=1, repeats=10, min_time=0.005)
inputs = Tensor(image_test)
regression.run("CNN 8-16", loops_model, inputs, data=[(inputs, y_test)], items=len(image_test))
print("\nCNN 8-16 with Conv2d(use_loops=True):")
print(format_comparison([r for r in regression.compare(baseline) if r["benchmark"] == "CNN 8-16"]))
for layer in loops_model.layers:
    if isinstance(layer, Conv2d):
        layer.use_loops = False

# %% [markdown]
# Run again unchanged, the four models should all come out "same". In most of our runs
# they did, although the numbers did not repeat: the medians of the CNNs moved by up to 16%,
# and those of the MLPs by factors of two to three (+126%, +165%, +218%, -61%). A comparison
# of medians alone would have reported regressions and speedups of models nobody touched;
# the MLPs' intervals were wide enough to cover both values (the interrupted batches), so
# the harness said what was true: on this machine their latency is not known better than
# that. Memory and accuracy repeated exactly.
#
# In one run, though, both CNNs came out **"worse"**, by 24% and 28%: a **false alarm**. The
# machine had become busier between the baseline and the rerun, a few seconds apart, and
# every call of the rerun was slower. The intervals measure the noise *within* a run; they
# cannot see that the machine changed *between* runs. The remedy is procedural, not
# statistical: measure the baseline and the candidate in the same session, interleaved
# (A, B, A, B, ...) so that both see the same load, on a machine as quiet as you can make
# it, and keep the environment in the report to notice when it differs. Against last
# week's baseline, measured on another day's machine, the risk only grows.
#
# The real change was caught: with the loop version of the convolutions, the small CNN's
# latency rose by **220 to 310%** and its throughput fell by 70 to 76%, its peak memory
# nearly doubled (+94%: every kernel position makes its own intermediate products), and its
# accuracy and loss were "same", identical to the fourth digit: the same weights computing
# the same function, more slowly. That is the report a regression test wants: what got
# worse, by how much, and what did not change.
#
# ### Tokens per second
#
# Last, the unit of language models. Module 13's GPT ($V = 77$, two blocks, four heads,
# context 128) at two widths generates 48 tokens after a 16-token prompt, with `generate`
# (the whole sequence at every step) and with Module 14's `generate_cached`. Each whole
# generation is one timed call of a plain callable (`inputs=None`), and `items=48` turns
# its latency into tokens per second. The weights are untrained: speed does not depend on
# them, and since no labelled data is given, the table has no accuracy (rather than an
# invented one).

# %%
from tinytorch.generation.kv_cache import generate_cached  # noqa: E402
from tinytorch.models.transformer import GPT  # noqa: E402

prompt = np.random.default_rng(1).integers(0, 77, size=(1, 16))
tokens = Benchmark(warmup=1, repeats=6, resamples=1000)
for width in (64, 128):
    gpt = GPT(77, width, 2, 4, 128, rng=0)
    same = np.array_equal(
        gpt.generate(prompt, 48, temperature=0.0), generate_cached(gpt, prompt, 48, temperature=0.0)
    )
    assert same, "the cached model must write the same tokens before it is timed"
    tokens.run(
        f"d={width} generate", lambda g=gpt: g.generate(prompt, 48, temperature=0.0), items=48
    )
    tokens.run(
        f"d={width} cached", lambda g=gpt: generate_cached(g, prompt, 48, temperature=0.0), items=48
    )
print(f"{'generation of 48 tokens':<22} {'tokens/s':>9} {'95% interval':>20} {'memory MB':>10}")
for name, m in tokens.results.items():
    rate = m["throughput"]
    print(
        f"{name:<22} {rate['value']:>9,.0f} [{rate['low']:>8,.0f}, {rate['high']:>8,.0f}] "
        f"{m['memory']['value'] / 1e6:>10.2f}"
    )
print("frontier (throughput, memory):", tokens.frontier("throughput", "memory"))

# %% [markdown]
# On the course machine, uncached generation ran at 250 to 450 tokens per second and cached
# generation at 460 to 780, with intervals of $\pm$10 to 30% from six generations on a busy
# machine. The cache was worth 1.3 to 2.4 times here, far from the 40 to 60 times of
# Module 14's milestone: with 16 prompt tokens and 48 new ones the sequence never exceeds 64
# positions, and the work the cache saves grows with the length (Module 14's curve). The
# cached runs also peaked at about 60% of the memory. In throughput against memory the
# cached models dominate the uncached ones; the small cached model was usually the whole
# frontier, but in one run the wider one came out faster (inside overlapping intervals) and
# joined it. A speedup is a property of a workload, not of a technique: say which workload,
# and measure it.
#
# ## Summary
#
# - **Time a call properly**: warm-up calls untimed, many samples, each a batch of `number`
#   calls long against the clock's step and cost and short against the machine's
#   interruptions (`choose_number`), and an injectable clock, so that the timing code itself
#   is tested exactly with a fake one. A real sleep is never shorter than requested: tests
#   with the real clock are one-sided.
# - **Summarise with the median and the IQR.** Latencies are skewed to the right, because
#   noise only adds time; the mean and the standard deviation follow the slowest runs.
# - **Put an interval on every number.** The percentile bootstrap works for any statistic
#   (a median latency, a throughput, an accuracy, a mean loss) and covers the truth at its
#   nominal rate, where "$\pm 1.96\, s/\sqrt{n}$" on ten skewed runs covered the mean a
#   quarter to a third of the time. Seed it, so that a report can be reproduced.
# - **Throughput is items over the median time**, its interval the time's interval
#   inverted; the mean of rates is not a rate.
# - **Quality is measured or the benchmark refuses.** Accuracy and cross-entropy per
#   example, on labelled data, in evaluation mode and under `no_grad()`; no data, no model
#   to run, or a model that raises: an error, never an invented number, and no `except`
#   around it. Small test sets measure accuracy to a couple of points at best.
# - **The Pareto frontier** is the set of models no other model beats on every metric: what
#   a benchmark can recommend without knowing your priorities. Read it with the intervals.
# - **A versioned JSON report** is a baseline: refuse files of another schema or version,
#   record the environment, and compare later runs metric by metric, calling a change only
#   when the intervals are disjoint and the change exceeds a tolerance. Intervals capture
#   the noise within a run, not a machine that changed between runs: compare runs made in
#   the same conditions, interleaved when you can.
#
# **Reflection.**
#
# 1. `choose_number` made batches of 16,384 calls for the four-number addition with a
#    `min_time` of 10 ms, and the median came out two to three times slower than with 1 ms
#    batches on a busy machine. What would you expect on an idle one, and how would you
#    check that the machine was idle while you measured?
# 2. Non-overlapping 95% intervals is a strict test: two medians can differ significantly
#    while their intervals still overlap a little. What would you bootstrap to test the
#    *difference* of two medians directly, and when would you time the two models
#    interleaved (A, B, A, B, ...) rather than one after the other?
# 3. The four digit classifiers' accuracies were within each other's intervals. How many
#    test images would you need to separate 96.4% from 97.8% with 95% intervals that do not
#    overlap? (Hint: the interval of an accuracy $p$ on $N$ examples is about $\pm 2
#    \sqrt{p (1 - p) / N}$.)
# 4. Your harness measures a model's memory as the peak of one call under `tracemalloc`.
#    Name two kinds of memory a deployed model uses that this number leaves out.
