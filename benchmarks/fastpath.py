"""keras-seq with and without its fast path, alternating in one process (same load for both).

    KERAS_BACKEND=jax python -m benchmarks.fastpath --workload tagger --rounds 8

Switches off `custom_backward.run_cell` (JAX, TensorFlow) or `torch_fused.run_stack`
(torch) for the "generic" model; prints median train step and predict batch, ms.
"""

import argparse
import statistics
import time

import keras

from benchmarks import workloads
from keras_seq.backend import custom_backward, torch_fused


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fastpath")
    parser.add_argument("--workload", default="tagger", choices=sorted(workloads.WORKLOADS))
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args(argv)
    module, name = (
        (torch_fused, "run_stack")
        if keras.backend.backend() == "torch"
        else (custom_backward, "run_cell")
    )
    original = getattr(module, name)
    harnesses = {}
    for label, function in [("fast", original), ("generic", lambda *a, **k: None)]:
        setattr(module, name, function)  # models trace lazily: build and call under it
        harnesses[label] = workloads.build("keras-seq", workloads.WORKLOADS[args.workload])
        harnesses[label].train_step()
        harnesses[label].predict()
    setattr(module, name, original)
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
