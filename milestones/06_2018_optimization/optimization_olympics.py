"""2018 and after, the optimization olympics: every trick measured, one Pareto table per model.

Two trained models enter: the digits CNN of the 1998 milestone (cnn_digits.py, 8x8 digits
shipped with the course) and the Shakespeare character GPT of the 2017 milestone (trained as
quantize_gpt.py trains it). Module 15 profiles each baseline (parameters, FLOPs, where the
time of a training step goes); then Module 17 and Module 18 make variants of it:

- int8: Module 17's `quantize_model` (calibrated on training data). For the CNN, each trained
  Conv2d is first rewritten as Module 09's `im2col` followed by one Linear holding the same
  weights (checked to give the same outputs), so that `quantize_model` turns the
  convolutions into int8 too, not only the final Linear;
- pruned: Module 18's `magnitude_prune` (global, by magnitude), then fine-tuned with the
  masks attached to the optimizer (`PruningMasks.attach`), so pruned weights stay zero; the
  sparsity is measured again after fine-tuning;
- pruned + int8: the pruned model quantized (zeros stay zeros in int8);
- low rank: Module 18's `low_rank_factorize` (truncated SVD) of the Linear layers where a
  rank r saves parameters (the CNN's classifier; every Linear of the GPT), then fine-tuned;
- a smaller student trained with Module 18's `distillation_loss` from the baseline's logits
  (for the CNN also the same student trained on the labels alone, the control).

Module 19 measures every variant the same way: latency of one forward pass on the same input
batch (3 untimed calls each, then the variants timed in interleaved rounds, one call each
per round, so that a shared machine's load falls on all alike, timed in CPU seconds of the
process with one BLAS thread; median, interquartile range and a bootstrap interval of the
median), quality with `evaluate_quality` on the real held-out data (test
accuracy of the 360 test digits; the validation loss of the GPT on every character of the
validation text, or its first 12,800 with --quick), and bytes as Module 17's `model_bytes`
counts them (the arrays the model holds). A pruned model stored densely holds as many bytes
as the baseline; its CSR size (values + int32 column indices + int32 row pointers of every
pruned matrix, computed from the actual nonzeros) is shown beside, not used for the front.
A variant is on the Pareto front when no other variant is at least as good on quality, bytes
and median latency and better on one (Module 19's `pareto_front`). Each model gets a table,
a JSON report (compared with the previous report in the same folder, if any) and two PNG
plots of the front (bytes and latency against quality), written to --out (build/olympics).

Targets: int8 at least 3x fewer bytes, accuracy down by less than 1 point (CNN) or the
validation loss up by less than 0.05 nats (GPT); pruned sparsity after fine-tuning equal to
the target (the masks held); at least one variant besides the baseline on the front.

Run from the repository root:
    python milestones/06_2018_optimization/optimization_olympics.py [--seed N] [--quick]
        [--model cnn|gpt|both] [--out DIR]
"""

from __future__ import annotations

import copy
import os
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace

if __name__ == "__main__":
    # Small matrices: one BLAS thread is faster and steadier on a busy machine (see
    # milestones/README.md). Only as a command, before NumPy starts, unless already set.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

MILESTONES = Path(__file__).resolve().parents[1]
if str(MILESTONES) not in sys.path:
    sys.path.insert(0, str(MILESTONES))  # so that `import common` works from any folder

from common import (  # noqa: E402
    framework_banner,
    framework_folder,
    load_script,
    milestone_parser,
    need,
    print_results,
    say,
)

cnn_digits = load_script("04_1998_cnn/cnn_digits.py")
lm = load_script("05_2017_transformer/_lm.py")
quantize_gpt = load_script("06_2018_optimization/quantize_gpt.py")

HISTORY = """\
2018 on: MLPerf (2018) began to publish inference benchmarks with rules for what counts as a
fair measurement, and "Deep Compression" (Han et al., 2016), distillation (Hinton et al.,
2015) and int8 inference (Jacob et al., 2018) became the toolbox for fitting a network into
a phone. No single trick wins: each trades accuracy for bytes or for time, and the honest
answer is a measured table and its Pareto front. Here your Modules 15 to 19 compete on your
digits CNN and your Shakespeare GPT."""


@dataclass(frozen=True)
class CnnSetting:
    epochs: int = cnn_digits.EPOCHS  # baseline and students
    fine_tune_epochs: int = 4  # pruned and low-rank
    fine_tune_lr: float = 1e-3
    sparsity: float = 0.8
    rank: int = 8  # Linear(256, 10): 8 * (256 + 10) < 2560
    student_channels: tuple[int, int] = (8, 16)
    temperature: float = 4.0
    alpha: float = 0.7
    repeats: int = 30  # timed forward passes per variant


@dataclass(frozen=True)
class GptSetting:
    train: lm.Settings = field(default_factory=lambda: quantize_gpt.FULL)  # 2000 steps
    fine_tune_steps: int = 300
    fine_tune_lr: float = 1e-3
    sparsity: float = 0.5
    rank: int = 16  # d_model / 4: every Linear of the model gets smaller
    student_width: int = 32
    temperature: float = 2.0
    alpha: float = 0.5
    val_chars: int | None = None  # None: the whole validation text
    repeats: int = 30
    resamples: int = 400  # bootstrap resamples: of ~100,000 per-character losses each


CNN_FULL, GPT_FULL = CnnSetting(), GptSetting()
CNN_QUICK = replace(CNN_FULL, epochs=6, fine_tune_epochs=2, repeats=15)
GPT_QUICK = replace(
    GPT_FULL,
    train=replace(quantize_gpt.QUICK, steps=150),  # quantize_gpt.py's quick schedule, shorter
    fine_tune_steps=40,
    val_chars=12_800,
    repeats=15,
)
LATENCY_BATCH = 64  # CNN: test images per timed forward pass
GPT_LATENCY_BATCH = 8  # GPT: validation windows (of 64 characters) per timed forward pass
CALIBRATION_BATCHES = 8
TARGET_RATIO = 3.0  # int8: float32 bytes / int8 bytes, at least
TARGET_ACCURACY_DROP = 0.01  # CNN int8: test accuracy lower by less than 1 point
TARGET_LOSS_RISE = 0.05  # GPT int8: validation loss higher by less than 0.05 nats
BASELINE = "baseline"


def framework() -> SimpleNamespace:
    """The pieces of both earlier milestones and of Modules 15 to 19 (exit 2 naming the first
    module missing)."""
    tt = SimpleNamespace(**{**vars(cnn_digits.framework()), **vars(lm.framework())})
    tt.Layer = need("Layer", "tinytorch.core.layers", "Module 03")
    tt.im2col = need("im2col", "tinytorch.core.spatial", "Module 09")
    tt.conv_output_size = need("conv_output_size", "tinytorch.core.spatial", "Module 09")
    tt.Profiler = need("Profiler", "tinytorch.profiling.profiler", "Module 15")
    tt.count_flops = need("count_flops", "tinytorch.profiling.profiler", "Module 15")
    tt.format_hotspots = need("format_hotspots", "tinytorch.profiling.profiler", "Module 15")
    tt.quantize_model = need("quantize_model", "tinytorch.optimization.quantization", "Module 17")
    tt.model_bytes = need("model_bytes", "tinytorch.optimization.quantization", "Module 17")
    tt.sublayers = need("sublayers", "tinytorch.optimization.quantization", "Module 17")
    tt.QuantizedLinear = need("QuantizedLinear", "tinytorch.optimization.quantization", "Module 17")
    tt.magnitude_prune = need("magnitude_prune", "tinytorch.optimization.compression", "Module 18")
    tt.measure_sparsity = need(
        "measure_sparsity", "tinytorch.optimization.compression", "Module 18"
    )
    tt.low_rank_compress = need(
        "low_rank_compress", "tinytorch.optimization.compression", "Module 18"
    )
    tt.low_rank_factorize = need(
        "low_rank_factorize", "tinytorch.optimization.compression", "Module 18"
    )
    tt.distillation_loss = need(
        "distillation_loss", "tinytorch.optimization.compression", "Module 18"
    )
    tt.Benchmark = need("Benchmark", "tinytorch.benchmarking.benchmark", "Module 19")
    tt.time_function = need("time_function", "tinytorch.benchmarking.benchmark", "Module 19")
    tt.summarize = need("summarize", "tinytorch.benchmarking.benchmark", "Module 19")
    tt.bootstrap_ci = need("bootstrap_ci", "tinytorch.benchmarking.benchmark", "Module 19")
    tt.metric = need("metric", "tinytorch.benchmarking.benchmark", "Module 19")
    tt.pareto_front = need("pareto_front", "tinytorch.benchmarking.benchmark", "Module 19")
    tt.load_report = need("load_report", "tinytorch.benchmarking.benchmark", "Module 19")
    tt.format_comparison = need(
        "format_comparison", "tinytorch.benchmarking.benchmark", "Module 19"
    )
    return tt


@dataclass
class Variant:
    """One competitor: its name, the model, how it was made, and what pruning left."""

    name: str
    model: object
    how: str
    sparsity: float | None = None  # measured, for pruned variants
    target_sparsity: float | None = None


# --------------------------------------------------------------------------------------
# Measuring: CSR bytes, FLOPs of a Sequential, the benchmark, the front, the table
# --------------------------------------------------------------------------------------


def csr_bytes(tt: SimpleNamespace, model) -> int:
    """The bytes of model if every matrix it holds (>= 2 axes) were stored in CSR.

    model_bytes(model), minus the dense bytes of every distinct array of >= 2 axes, plus
    that array's CSR size as a (shape[0], rest) matrix: nnz values of its dtype, nnz int32
    column indices and shape[0] + 1 int32 row pointers. nnz is counted, not assumed.
    """
    total, seen = tt.model_bytes(model), set()
    for layer in tt.sublayers(model):
        for value in vars(layer).values():
            for item in value if isinstance(value, list | tuple) else [value]:
                array = item.data if isinstance(item, tt.Tensor) else item
                if isinstance(array, np.ndarray) and array.ndim >= 2 and id(array) not in seen:
                    seen.add(id(array))
                    nnz = int(np.count_nonzero(array))
                    total += nnz * (array.itemsize + 4) + (array.shape[0] + 1) * 4 - array.nbytes
    return int(total)


def sequential_flops(tt: SimpleNamespace, model, input_shape: tuple) -> int:
    """Forward FLOPs of a Sequential: Module 15's count_flops of every Conv2d and Linear on
    the shape that reaches it (found by running a zero input through the steps)."""
    x, flops = tt.Tensor(np.zeros(input_shape, dtype=np.float32)), 0
    with tt.no_grad():
        for step in model.layers:
            if isinstance(step, tt.Conv2d | tt.Linear):
                flops += tt.count_flops(step, x.shape)
            x = step(x)
    return flops


def profile_baseline(
    tt: SimpleNamespace, model, flops: int, per: str, step_loss, top: int = 6
) -> list:
    """Module 15 on the baseline: parameters, FLOPs, forward/backward split and hotspots of
    one training step. Prints them; returns the hotspot rows."""
    profiler = tt.Profiler()
    parameters = model.parameters()
    split = profiler.time_forward_backward(step_loss, parameters, warmup=1, repeats=3)
    rows = profiler.hotspots(lambda: step_loss().backward(), repeats=3, top=top)
    for p in parameters:
        p.grad = None  # the profile's gradients are not the variants' business
    print(
        f"Profile (Module 15): {profiler.count_parameters(model):,} parameters, "
        f"{flops:,} forward FLOPs per {per}; one training step: forward "
        f"{1e3 * split['forward']:.1f} ms, backward {1e3 * split['backward']:.1f} ms (medians "
        f"of 3). Where the time of a step goes (per step, top {top} operations):"
    )
    print(tt.format_hotspots(rows, per=3) + "\n")
    return rows


def benchmark_variants(
    tt: SimpleNamespace, variants: list[Variant], inputs, data: list, setting, seed: int
) -> SimpleNamespace:
    """Module 19 on every variant, the same input batch and the same data for all.

    Benchmark.run measures the quality (evaluate_quality, with bootstrap intervals) and the
    peak memory of one call. The latency is then measured in interleaved rounds, so that a
    shared machine's changing load falls on every variant alike: after 3 untimed calls of
    each, every round times one call of each variant (time_function), in a rotating order;
    the clock is the CPU time of this process (time.process_time: with one BLAS thread, the
    work of the call, which other programs on the machine do not inflate, as
    generation_speedup.py measures). The samples give the median, the interquartile range
    (summarize) and a bootstrap interval of the median (bootstrap_ci), which replace
    Benchmark.run's own (wall-clock) latency. Bytes held (model_bytes) and CSR bytes are
    added as metrics.
    """
    resamples = getattr(setting, "resamples", 2000)
    bench = tt.Benchmark(warmup=1, repeats=2, seed=seed, resamples=resamples)
    calls = {}
    for variant in variants:
        print(f"  measuring the quality of {variant.name} ...", flush=True)
        bench.run(variant.name, variant.model, inputs, data=data)
        variant.model.eval()

        def call(model=variant.model):
            with tt.no_grad():
                model(inputs)

        calls[variant.name] = call
    print(f"  timing {len(variants)} variants in {setting.repeats} interleaved rounds ...")
    samples = {name: [] for name in calls}
    for call in calls.values():
        tt.time_function(call, warmup=3, repeats=1)  # the warm-up; this sample is dropped
    names = list(calls)
    for round_ in range(setting.repeats):
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            seconds = tt.time_function(calls[name], warmup=0, repeats=1, clock=time.process_time)
            samples[name].append(float(seconds[0]))
    for variant in variants:
        times = samples[variant.name]
        stats = tt.summarize(times)
        low, high = tt.bootstrap_ci(times, np.median, 0.95, resamples, seed)
        metrics = bench.results[variant.name]
        metrics["latency"] = tt.metric(
            stats["median"],
            low,
            high,
            "s",
            "lower",
            iqr=stats["iqr"],
            samples=len(times),
            clock="process CPU time",
        )
        held = tt.model_bytes(variant.model)
        metrics["bytes"] = tt.metric(held, held, held, "bytes", "lower")
        sparse = csr_bytes(tt, variant.model)
        metrics["csr_bytes"] = tt.metric(sparse, sparse, sparse, "bytes", "lower")
    print()
    return bench


def front(tt: SimpleNamespace, bench, quality: str) -> list[str]:
    """The names on the Pareto front of (quality, bytes, median latency)."""
    names = list(bench.results)
    points = [[bench.results[n][k]["value"] for k in (quality, "bytes", "latency")] for n in names]
    higher = bench.results[names[0]][quality]["better"] == "higher"
    return [names[i] for i in tt.pareto_front(points, [higher, False, False])]


def variant_rows(
    tt: SimpleNamespace, bench, variants: list[Variant], quality: str, on_front: list[str]
) -> list:
    """The table rows: a header, one row per variant (quality, bytes held, median latency
    and its interquartile range, on the front or not), then the CSR size of pruned ones."""
    word = "accuracy" if quality == "accuracy" else "val loss"
    rows = [("variant", f"{word:>8} {'bytes':>8} {'CPU ms':>6} {'IQR':>5} front", "")]
    for variant in variants:
        m = bench.results[variant.name]
        q = m[quality]["value"]
        shown = f"{100 * q:7.1f}%" if quality == "accuracy" else f"{q:8.4f}"  # 8 wide
        lat = m["latency"]
        cells = (
            f"{shown} {m['bytes']['value']:8,.0f} {1e3 * lat['value']:6.2f} "
            f"{1e3 * lat['iqr']:5.2f} {'yes' if variant.name in on_front else 'no':>5}"
        )
        rows.append((variant.name, cells, ""))
    for variant in variants:
        if variant.sparsity is not None:
            csr = bench.results[variant.name]["csr_bytes"]["value"]
            target = variant.target_sparsity
            rows.append(
                (
                    f"{variant.name}: zeros",
                    f"{variant.sparsity:.1%}; as CSR {csr:,.0f} bytes",
                    "" if target is None else f"= {target:.1%}",
                )
            )
    return rows


def save_outputs(tt: SimpleNamespace, bench, key: str, quality: str, title: str, out: Path):
    """The JSON report (compared with the previous one in `out`, if any) and two plots."""
    out.mkdir(parents=True, exist_ok=True)
    report = out / f"{key}_report.json"
    if report.is_file():
        try:
            previous = tt.load_report(report)
        except ValueError as error:
            print(f"The previous report {report} cannot be compared: {error}")
        else:
            print(f"Against the previous report in {report} (Module 19's compare):")
            print(tt.format_comparison(bench.compare(previous)) + "\n")
    bench.save(report)
    plots = []
    for x, words in (("bytes", "bytes"), ("latency", "latency")):
        path = out / f"{key}_pareto_{words}.png"
        bench.plot(path, x=x, y=quality, title=f"{title}: {quality} against {words}")
        plots.append(path)
    return report, plots


# --------------------------------------------------------------------------------------
# The digits CNN
# --------------------------------------------------------------------------------------

_IM2COL_CONV: dict = {}


def im2col_conv(tt: SimpleNamespace, conv):
    """A trained Conv2d as Module 09's im2col and one Linear (C_in kH kW, C_out) holding the
    same weights: the same outputs, and a Linear that Module 17's quantize_model can find."""
    if "class" not in _IM2COL_CONV:

        class Im2colConv2d(tt.Layer):
            """Conv2d for inference: patches (N H' W', C kH kW) @ matmul -> (N, C_out, H', W')."""

            def __init__(self, conv) -> None:
                super().__init__()
                c_out, c_in, kh, kw = conv.weight.shape
                self.kernel_size, self.stride, self.padding = (kh, kw), conv.stride, conv.padding
                self.out_channels = c_out
                self.matmul = tt.Linear(c_in * kh * kw, c_out, bias=conv.bias is not None)
                weight = conv.weight.data.reshape(c_out, c_in * kh * kw).T  # (K, C_out)
                self.matmul.weight = tt.Tensor(np.ascontiguousarray(weight), requires_grad=True)
                if conv.bias is not None:
                    self.matmul.bias = tt.Tensor(conv.bias.data.copy(), requires_grad=True)

            def forward(self, x):
                x = x.data if isinstance(x, tt.Tensor) else np.asarray(x, dtype=np.float32)
                n, _, h, w = x.shape
                cols = tt.im2col(x, self.kernel_size, self.stride, self.padding)
                out = self.matmul(tt.Tensor(cols)).data  # (N H' W', C_out)
                h_out = tt.conv_output_size(h, self.kernel_size[0], self.stride[0], self.padding[0])
                w_out = tt.conv_output_size(w, self.kernel_size[1], self.stride[1], self.padding[1])
                return tt.Tensor(
                    out.reshape(n, h_out, w_out, self.out_channels).transpose(0, 3, 1, 2)
                )

        _IM2COL_CONV["class"] = Im2colConv2d
    return _IM2COL_CONV["class"](conv)


def quantize_cnn(tt: SimpleNamespace, model, calibration: list, check: np.ndarray):
    """A copy of model with every Conv2d as im2col + Linear (checked against the original on
    `check`), then every Linear quantized by Module 17. Returns (int8 model, largest
    |difference| of the rewritten float model)."""
    rewritten = copy.deepcopy(model)
    rewritten.layers = [
        im2col_conv(tt, step) if isinstance(step, tt.Conv2d) else step for step in rewritten.layers
    ]
    with tt.no_grad():
        difference = float(
            np.abs(model(tt.Tensor(check)).data - rewritten(tt.Tensor(check)).data).max()
        )
    return tt.quantize_model(rewritten, [tt.Tensor(batch) for batch in calibration]), difference


def build_student(tt: SimpleNamespace, channels: tuple[int, int], rng: np.random.Generator):
    """cnn_digits.build_cnn's shape with fewer channels."""
    first, second = channels
    return tt.Sequential(
        tt.Conv2d(1, first, 3, padding=1, rng=rng),
        tt.ReLU(),
        tt.MaxPool2d(2),
        tt.Conv2d(first, second, 3, padding=1, rng=rng),
        tt.ReLU(),
        tt.MaxPool2d(2),
        tt.Flatten(),
        tt.Linear(second * 4, cnn_digits.CLASSES, rng=rng),
    )


def fit_cnn(
    tt: SimpleNamespace,
    model,
    images: np.ndarray,
    labels: np.ndarray,
    epochs: int,
    lr: float,
    seed: int,
    masks=None,
    teacher=None,
    setting: CnnSetting = CNN_FULL,
) -> float:
    """Adam with cosine decay on shuffled batches (as cnn_digits.train), with the pruning
    masks attached to the optimizer, or Module 18's distillation loss against the teacher's
    logits. Returns the mean loss of the last epoch."""
    loader = tt.DataLoader(
        tt.TensorDataset(tt.Tensor(images), tt.Tensor(labels)),
        batch_size=cnn_digits.BATCH_SIZE,
        shuffle=True,
        seed=seed,
    )
    optimizer = tt.Adam(model.parameters(), lr=lr)
    if masks is not None:
        masks.attach(optimizer)  # re-applied after every step: pruned weights stay zero
    loss_fn = tt.CrossEntropyLoss()
    for epoch in range(epochs):
        optimizer.lr = lr * (1 + np.cos(np.pi * epoch / epochs)) / 2
        total = 0.0
        for batch_images, batch_labels in loader:
            logits = model(batch_images)
            if teacher is None:
                loss = loss_fn(logits, batch_labels)
            else:
                with tt.no_grad():
                    soft = teacher(batch_images).data  # constants: no gradient to the teacher
                loss = tt.distillation_loss(
                    logits, soft, batch_labels, setting.temperature, setting.alpha
                )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch_labels)
    return total / len(labels)


def cnn_olympics(tt: SimpleNamespace, setting: CnnSetting, seed: int, out: Path) -> dict:
    """Train, profile, compress, benchmark and judge the digits CNN."""
    train_images, train_labels = cnn_digits.load_digits_split("train")
    test_images, test_labels = cnn_digits.load_digits_split("test")
    train_x = train_images.reshape(-1, 1, 8, 8).astype(np.float32)
    test_x = test_images.reshape(-1, 1, 8, 8).astype(np.float32)
    train_y, test_y = train_labels.astype(np.int64), test_labels.astype(np.int64)
    print(
        f"== The digits CNN: {len(train_y):,} training and {len(test_y):,} test images, "
        f"{setting.epochs} epochs ==\n"
    )
    baseline = cnn_digits.build_cnn(tt, np.random.default_rng((seed, 2)))
    cnn_digits.train(
        tt, "baseline CNN", baseline, (train_x, train_y), (test_x, test_y), setting.epochs, seed
    )
    batch = (tt.Tensor(train_x[:32]), train_y[:32])
    flops = sequential_flops(tt, baseline, (1, 1, 8, 8))
    profile_baseline(
        tt, baseline, flops, "image", lambda: tt.CrossEntropyLoss()(baseline(batch[0]), batch[1])
    )

    variants = [Variant(BASELINE, baseline, f"cnn_digits.py, {setting.epochs} epochs")]
    rng = np.random.default_rng((seed, 29))
    calibration = [
        train_x[rng.choice(len(train_x), 32, replace=False)] for _ in range(CALIBRATION_BATCHES)
    ]
    int8, difference = quantize_cnn(tt, baseline, calibration, test_x[:64])
    variants.append(Variant("int8", int8, "convs as im2col + Linear, quantize_model"))

    print(f"Pruning {setting.sparsity:.0%} of the weights by magnitude, then fine-tuning ...")
    pruned = copy.deepcopy(baseline)
    masks = tt.magnitude_prune(pruned, setting.sparsity, "global")
    fit_cnn(
        tt, pruned, train_x, train_y, setting.fine_tune_epochs, setting.fine_tune_lr, seed, masks
    )
    sparsity = tt.measure_sparsity(pruned)
    name = f"pruned {setting.sparsity:.0%}"
    variants.append(
        Variant(name, pruned, "magnitude_prune + masked fine-tune", sparsity, setting.sparsity)
    )
    pruned_int8, _ = quantize_cnn(tt, pruned, calibration, test_x[:64])
    int8_weights = [
        layer.weight_q
        for layer in tt.sublayers(pruned_int8)
        if isinstance(layer, tt.QuantizedLinear)
    ]
    variants.append(
        Variant(
            "pruned+int8",
            pruned_int8,
            "the pruned model quantized",
            tt.measure_sparsity(int8_weights),
        )
    )

    print(f"Low rank: the classifier Linear(256, 10) at rank {setting.rank}, then fine-tuning ...")
    low_rank = tt.low_rank_compress(baseline, setting.rank)
    fit_cnn(tt, low_rank, train_x, train_y, setting.fine_tune_epochs, setting.fine_tune_lr, seed)
    variants.append(Variant(f"low rank r{setting.rank}", low_rank, "low_rank_compress + fine-tune"))

    channels = setting.student_channels
    print(f"Students: conv 1->{channels[0]}->{channels[1]}, on the labels and distilled ...\n")
    for label, teacher in (("student labels", None), ("student distilled", baseline)):
        student = build_student(tt, channels, np.random.default_rng((seed, 31)))
        fit_cnn(
            tt,
            student,
            train_x,
            train_y,
            setting.epochs,
            cnn_digits.LEARNING_RATE,
            seed,
            teacher=teacher,
            setting=setting,
        )
        variants.append(
            Variant(label, student, "distillation_loss" if teacher else "cross-entropy")
        )

    print(f"Benchmarking (Module 19): the same {LATENCY_BATCH} test images for every latency ...")
    data = [
        (tt.Tensor(test_x[i : i + 120]), test_y[i : i + 120]) for i in range(0, len(test_y), 120)
    ]
    bench = benchmark_variants(tt, variants, tt.Tensor(test_x[:LATENCY_BATCH]), data, setting, seed)
    on_front = front(tt, bench, "accuracy")
    report, plots = save_outputs(tt, bench, "cnn", "accuracy", "digits CNN", out)

    base, q8 = bench.results[BASELINE], bench.results["int8"]
    ratio = base["bytes"]["value"] / q8["bytes"]["value"]
    drop = base["accuracy"]["value"] - q8["accuracy"]["value"]
    checks = {
        "int8 size": ratio >= TARGET_RATIO,
        "int8 quality": drop < TARGET_ACCURACY_DROP,
        "sparsity held": all(
            abs(v.sparsity - v.target_sparsity) < 1e-3
            for v in variants
            if v.target_sparsity is not None
        ),
        "front": any(n != BASELINE for n in on_front),
        "im2col form": difference < 1e-4,
    }
    rows = variant_rows(tt, bench, variants, "accuracy", on_front)
    rows += [
        ("int8 size ratio", f"{ratio:.2f}x", f">= {TARGET_RATIO}x"),
        (
            "int8 accuracy change",
            f"{-100 * drop + 0.0:+.1f} points",
            f"> -{100 * TARGET_ACCURACY_DROP:.0f} point",
        ),
        ("im2col form vs Conv2d", f"max |diff| {difference:.1e}", "< 1e-4"),
        (
            "front besides baseline",
            ", ".join(n for n in on_front if n != BASELINE) or "none",
            ">= 1",
        ),
        ("report, plots", f"{report.name}, {', '.join(p.name for p in plots)}", ""),
    ]
    return {
        "bench": bench,
        "variants": variants,
        "front": on_front,
        "ratio": ratio,
        "accuracy_drop": drop,
        "checks": checks,
        "rows": rows,
        "report": str(report),
        "plots": [str(p) for p in plots],
        "flops": flops,
    }


# --------------------------------------------------------------------------------------
# The Shakespeare GPT
# --------------------------------------------------------------------------------------


def factorize_linears(tt: SimpleNamespace, model, rank: int) -> int:
    """Replace, in place, every Linear of model that rank makes smaller by Module 18's
    low_rank_factorize(layer, rank). Returns how many were replaced."""
    done = {}
    for layer in tt.sublayers(model):
        for name, value in list(vars(layer).items()):
            if (
                isinstance(value, tt.Linear)
                and rank * (value.in_features + value.out_features)
                < value.in_features * value.out_features
            ):
                done.setdefault(id(value), tt.low_rank_factorize(value, rank))
                setattr(layer, name, done[id(value)])
    return len(done)


def gpt_training(
    tt: SimpleNamespace,
    model,
    settings,
    corpus,
    seed: int,
    masks=None,
    teacher=None,
    setting=GPT_FULL,
):
    """lm.Training on random training windows; masks attached to its optimizer; with a
    teacher, each step's loss is distillation_loss of the (B T, V) logits."""

    def sample(rng):
        return (*lm.random_windows(corpus.train, settings.batch, settings.context, rng), None)

    def distilled(inputs, logits, targets, keep):
        with tt.no_grad():
            soft = teacher(inputs).data  # (B, T, V), constants
        b, t, v = logits.shape
        loss = tt.distillation_loss(
            logits.reshape(b * t, v),
            soft.reshape(b * t, v),
            targets.reshape(b * t),
            setting.temperature,
            setting.alpha,
        )
        return loss, b * t

    loss_fn = distilled if teacher is not None else None
    run = lm.Training(tt, model, settings, sample, seed=seed, loss_fn=loss_fn)
    if masks is not None:
        masks.attach(run.optimizer)  # re-applied after every AdamW step
    while run.done < settings.steps:
        run.step()
    return run.smoothed_loss()


def gpt_olympics(tt: SimpleNamespace, setting: GptSetting, seed: int, out: Path, clock) -> dict:
    """Train, profile, compress, benchmark and judge the Shakespeare GPT."""
    corpus = lm.load_text(tt, "shakespeare")
    settings = setting.train
    print(f"== The Shakespeare GPT: {settings.steps} steps ==\n")
    baseline, _ = quantize_gpt.train(tt, corpus, settings, seed, clock)
    context = settings.context
    val = corpus.val if setting.val_chars is None else corpus.val[: setting.val_chars + 1]
    windows = (len(val) - 1) // context  # whole windows only: evaluate_quality has no mask
    val_x, val_y, _ = lm.eval_windows(val[: windows * context + 1], context, 0)
    print(f"\nScoring {val_y.size:,} validation characters ({windows} windows of {context}).")
    rng = np.random.default_rng((seed, 37))
    x, y = lm.random_windows(corpus.train, settings.batch, context, rng)
    flops = tt.count_flops(baseline, (1, context)) // context
    profile_baseline(
        tt, baseline, flops, "character", lambda: lm.sequence_loss(tt, baseline(x), y)[0]
    )

    variants = [Variant(BASELINE, baseline, f"quantize_gpt.py's training, {settings.steps} steps")]
    calibration = [
        lm.random_windows(corpus.train, settings.batch, context, rng)[0]
        for _ in range(CALIBRATION_BATCHES)
    ]
    variants.append(
        Variant("int8", tt.quantize_model(copy.deepcopy(baseline), calibration), "quantize_model")
    )

    fine = replace(
        settings,
        steps=setting.fine_tune_steps,
        lr=setting.fine_tune_lr,
        min_lr=setting.fine_tune_lr / 10,
        warmup=min(20, setting.fine_tune_steps - 1),
    )
    print(
        f"Pruning {setting.sparsity:.0%} of the weights by magnitude, then {fine.steps} steps of fine-tuning ..."
    )
    pruned = copy.deepcopy(baseline)
    masks = tt.magnitude_prune(pruned, setting.sparsity, "global")
    gpt_training(tt, pruned, fine, corpus, seed, masks=masks)
    name = f"pruned {setting.sparsity:.0%}"
    variants.append(
        Variant(
            name,
            pruned,
            "magnitude_prune + masked fine-tune",
            tt.measure_sparsity(pruned),
            setting.sparsity,
        )
    )
    pruned_int8 = tt.quantize_model(copy.deepcopy(pruned), calibration)
    int8_weights = [
        layer.weight_q
        for layer in tt.sublayers(pruned_int8)
        if isinstance(layer, tt.QuantizedLinear)
    ]
    variants.append(
        Variant(
            "pruned+int8",
            pruned_int8,
            "the pruned model quantized",
            tt.measure_sparsity(int8_weights),
            None,
        )
    )

    low_rank = copy.deepcopy(baseline)
    replaced = factorize_linears(tt, low_rank, setting.rank)
    print(
        f"Low rank: {replaced} Linear layers at rank {setting.rank}, then {fine.steps} steps of fine-tuning ..."
    )
    gpt_training(tt, low_rank, fine, corpus, seed)
    variants.append(
        Variant(f"low rank r{setting.rank}", low_rank, "low_rank_factorize + fine-tune")
    )

    student_settings = replace(settings, d_model=setting.student_width)
    student = lm.build_gpt(tt, corpus.vocab_size, student_settings, seed + 1)
    print(f"Student: d_model {setting.student_width}, distilled for {settings.steps} steps ...\n")
    gpt_training(tt, student, student_settings, corpus, seed, teacher=baseline, setting=setting)
    variants.append(Variant("student distilled", student, f"d_model {setting.student_width}"))

    print(
        f"Benchmarking (Module 19): the same {GPT_LATENCY_BATCH} windows of {context} characters for every latency ..."
    )
    data = [(val_x[i : i + 64], val_y[i : i + 64]) for i in range(0, windows, 64)]
    bench = benchmark_variants(tt, variants, val_x[:GPT_LATENCY_BATCH], data, setting, seed)
    on_front = front(tt, bench, "loss")
    report, plots = save_outputs(tt, bench, "gpt", "loss", "Shakespeare GPT", out)

    base, q8 = bench.results[BASELINE], bench.results["int8"]
    ratio = base["bytes"]["value"] / q8["bytes"]["value"]
    rise = q8["loss"]["value"] - base["loss"]["value"]
    judged = [v for v in variants if v.target_sparsity is not None]
    checks = {
        "int8 size": ratio >= TARGET_RATIO,
        "int8 quality": rise < TARGET_LOSS_RISE,
        "sparsity held": all(abs(v.sparsity - v.target_sparsity) < 1e-3 for v in judged),
        "front": any(n != BASELINE for n in on_front),
    }
    rows = variant_rows(tt, bench, variants, "loss", on_front)
    rows += [
        ("characters scored", f"{val_y.size:,}", ""),
        ("int8 size ratio", f"{ratio:.2f}x", f">= {TARGET_RATIO}x"),
        ("int8 val loss change", f"{rise:+.4f}", f"< {TARGET_LOSS_RISE}"),
        (
            "front besides baseline",
            ", ".join(n for n in on_front if n != BASELINE) or "none",
            ">= 1",
        ),
        ("report, plots", f"{report.name}, {', '.join(p.name for p in plots)}", ""),
    ]
    return {
        "bench": bench,
        "variants": variants,
        "front": on_front,
        "ratio": ratio,
        "loss_rise": rise,
        "checks": checks,
        "rows": rows,
        "report": str(report),
        "plots": [str(p) for p in plots],
        "flops": flops,
        "characters": int(val_y.size),
    }


def main(argv: list[str] | None = None) -> dict:
    """Run the milestone; return the measured results per model and the verdict."""
    parser = milestone_parser(__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the short setting of the tests")
    parser.add_argument("--model", choices=("cnn", "gpt", "both"), default="both")
    # Relative to where it runs: a student's run (tito runs it in their home) cannot write
    # into the course repository; `make milestone-olympics` passes build/olympics.
    parser.add_argument(
        "--out", type=Path, default=Path("olympics"), help="folder for reports and plots"
    )
    args = parser.parse_args(argv)
    clock = lm.Clock()
    banner = framework_banner()
    tt = framework()
    tt.enable_autograd()
    print(f"\n{HISTORY}\n")
    results = {"framework": str(framework_folder()), "banner": banner, "models": {}}
    if args.model in ("cnn", "both"):
        cnn = cnn_olympics(tt, CNN_QUICK if args.quick else CNN_FULL, args.seed, args.out)
        results["models"]["cnn"] = cnn
    if args.model in ("gpt", "both"):
        gpt = gpt_olympics(tt, GPT_QUICK if args.quick else GPT_FULL, args.seed, args.out, clock)
        results["models"]["gpt"] = gpt
    titles = {"cnn": "2018 olympics: the digits CNN", "gpt": "2018 olympics: the Shakespeare GPT"}
    for key, result in results["models"].items():
        failed = [name for name, ok in result["checks"].items() if not ok]
        say(
            f"{titles[key]}: " + (f"missed {', '.join(failed)}." if failed else "every target met.")
        )
        print_results(titles[key], result["rows"], clock.wall())
    results["passed"] = all(all(r["checks"].values()) for r in results["models"].values())
    results["seconds"] = clock.wall()
    return results


if __name__ == "__main__":
    sys.exit(0 if main()["passed"] else 1)
