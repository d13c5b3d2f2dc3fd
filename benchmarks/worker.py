"""Time one (implementation, workload) in this process; print one JSON line.

Run by the runner with KERAS_BACKEND already set. Timing: `warmup` untimed calls (the first
compiles), then `repeats` blocks of `steps` calls each; a block's time / steps is one sample and
the median sample is reported. Peak memory: growth of the process' maximum resident set size
(`resource.getrusage(RUSAGE_SELF).ru_maxrss`) from after building the data (imports done) to the
end of the run, so it includes the model, optimizer state, activations kept for the backward pass
and any compiled-graph caches.
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time


def _max_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _time(fn, warmup, steps, repeats):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            fn()
        samples.append((time.perf_counter() - start) * 1000.0 / steps)
    return statistics.median(samples), samples


def roof_gflops(size=1024, calls=20):
    """This process' float32 matmul speed (PyTorch, oneDNN), GFLOP/s: the machine's roof."""
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    ms, _ = _time(lambda: torch.matmul(a, b), 3, calls, 3)
    return 2 * size**3 / (ms * 1e6)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--roof", action="store_true", help="only measure the matmul roof")
    parser.add_argument("--impl", choices=["keras-seq", "builtin", "torch"])
    parser.add_argument("--workload")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if args.roof:
        sys.stdout.write("RESULT " + json.dumps({"gflops": roof_gflops()}) + "\n")
        return

    from benchmarks import workloads

    w = workloads.WORKLOADS[args.workload]
    if args.impl == "torch":
        import torch  # noqa: F401  (imported before the baseline, like keras below)
    else:
        import keras  # noqa: F401
    base = _max_rss_mb()
    harness = workloads.build(args.impl, w)
    train_ms, train_samples = _time(harness.train_step, args.warmup, args.steps, args.repeats)
    predict_ms, predict_samples = _time(harness.predict, args.warmup, args.steps, args.repeats)
    result = {
        "impl": args.impl,
        "backend": "torch" if args.impl == "torch" else os.environ.get("KERAS_BACKEND", ""),
        "workload": w.name,
        "train_ms": train_ms,
        "predict_ms": predict_ms,
        "train_samples": train_samples,
        "predict_samples": predict_samples,
        "peak_mem_mb": _max_rss_mb() - base,
    }
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
