"""keras-seq with and without its fast path, alternating in one process (same load for both).

    KERAS_BACKEND=jax python -m benchmarks.fastpath --workload tagger --rounds 8

Switches off `keras_seq.backend.recur` and `recur_stack` (every backend) for the "generic"
model; prints median train step and predict batch, ms.
"""

import argparse
import statistics
import time

from benchmarks import workloads
from keras_seq import backend


def _refuse(*args, **kwargs):
    raise NotImplementedError("switched off: the generic scan runs")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fastpath")
    parser.add_argument("--workload", default="tagger", choices=sorted(workloads.WORKLOADS))
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args(argv)
    originals = {name: getattr(backend, name) for name in ("recur", "recur_stack")}
    harnesses = {}
    for label in ("fast", "generic"):
        for name, original in originals.items():  # models trace lazily: build and call under it
            setattr(backend, name, original if label == "fast" else _refuse)
        harnesses[label] = workloads.build("keras-seq", workloads.WORKLOADS[args.workload])
        harnesses[label].train_step()
        harnesses[label].predict()
    for name, original in originals.items():
        setattr(backend, name, original)
    times = {(label, kind): [] for label in harnesses for kind in ("train", "predict")}
    for _ in range(args.rounds):
        for label, harness in harnesses.items():
            for kind, fn in [("train", harness.train_step), ("predict", harness.predict)]:
                start = time.perf_counter()
                for _ in range(args.steps):
                    fn()
                times[label, kind].append((time.perf_counter() - start) * 1000 / args.steps)
    for label in harnesses:
        train = statistics.median(times[label, "train"])
        predict = statistics.median(times[label, "predict"])
        print(f"{label:8s} train {train:7.1f} ms  predict {predict:6.1f} ms")


if __name__ == "__main__":
    main()
