"""Time one (implementation, workload) in this process; print one JSON line.

Run by the runner with KERAS_BACKEND already set. Timing: `warmup` untimed calls (the first
compiles), then `repeats` blocks of `steps` calls each; a block's time / steps is one sample and
the median sample is reported. Peak memory: growth of the process' maximum resident set size
(`resource.getrusage(RUSAGE_SELF).ru_maxrss`) from after building the data (imports done) to the
end of the run, so it includes the model, optimizer state, activations kept for the backward pass
and any compiled-graph caches. On Linux the worker also reports how much of the growth is
file-backed (`RssFile` in /proc/self/status): the libraries' own code read in from disk, such as
TensorFlow's XLA compiler on first use (shared between processes, dropped by the kernel under
memory pressure, not allocated memory).
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


def _file_rss_mb():
    """Resident file-backed memory (library code read in), or None off Linux."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("RssFile:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


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


def _matmul(library, size):
    """A call that multiplies two random (size, size) float32 matrices to completion."""
    if library == "torch":
        import torch

        a, b = torch.randn(size, size), torch.randn(size, size)
        return lambda: torch.matmul(a, b)
    if library == "tensorflow":
        import tensorflow as tf

        a, b = tf.random.normal((size, size)), tf.random.normal((size, size))
        matmul = tf.function(tf.linalg.matmul)
        return lambda: matmul(a, b)
    import jax

    a, b = jax.random.normal(jax.random.key(0), (2, size, size))
    matmul = jax.jit(jax.numpy.matmul)
    return lambda: matmul(a, b).block_until_ready()


def roof_gflops(library, size=2048, calls=5):
    """Float32 matmul speed, GFLOP/s, of `library` ("torch", "tensorflow", "jax") here.

    The libraries differ by 2x on one machine (measured on a 2-core AMD EPYC: PyTorch's CPU
    build 210, JAX 400, TensorFlow's oneDNN 475), so the runner takes the fastest as the
    machine's roof.
    """
    ms, _ = _time(_matmul(library, size), 2, calls, 3)
    return 2 * size**3 / (ms * 1e6)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--roof", choices=["torch", "tensorflow", "jax"], help="only measure this matmul roof"
    )
    parser.add_argument("--impl", choices=["keras-seq", "builtin", "torch"])
    parser.add_argument("--workload")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    from keras_seq.allocator import keep_freed_memory

    keep_freed_memory()  # every implementation alike (KERAS_SEQ_KEEP_FREED_MEMORY=0: off)
    if args.roof:
        sys.stdout.write("RESULT " + json.dumps({"gflops": roof_gflops(args.roof)}) + "\n")
        return

    from benchmarks import workloads

    w = workloads.WORKLOADS[args.workload]
    if args.impl == "torch":
        import torch  # noqa: F401  (imported before the baseline, like keras below)
    else:
        import keras  # noqa: F401
    base, base_file = _max_rss_mb(), _file_rss_mb()
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
    if base_file is not None:
        result["file_mem_mb"] = _file_rss_mb() - base_file
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
