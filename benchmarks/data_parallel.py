"""Epoch time of data-parallel training on 2 virtual CPU devices against 1 device.

    python -m benchmarks.data_parallel                 # jax and tensorflow
    python -m benchmarks.data_parallel --backends jax

Each backend runs in its own process with 2 CPU devices (JAX: XLA_FLAGS
--xla_force_host_platform_device_count=2; TensorFlow: 2 logical CPUs). A GRU tagger (64 units,
2048 random sequences of 32 steps, global batch 64) trains 3 epochs with
`training.distribution.strategy: none`, then 3 with `data_parallel` over both devices; the
figure is the mean time of epochs 2-3 (epoch 1 includes compiling). Virtual devices share the
machine's cores, so this measures the cost of the mechanics, not a speedup from hardware.
"""

import argparse
import json
import os
import sys
import time

from benchmarks.json_process import ROOT, run_json


def worker():
    import keras
    import numpy as np

    from keras_seq.backend import distribution
    from keras_seq.tasks import Task

    distribution.virtual_cpu_devices(2)

    class EpochTimes(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.started)

    rng = np.random.default_rng(0)
    x = rng.integers(2, 500, (2048, 32)).astype("int32")
    y = rng.integers(0, 10, x.shape).astype("int32")
    results = {}
    for strategy in ("none", "data_parallel"):
        section = {"strategy": strategy}
        spec = {
            "seed": 1,
            "input": {"kind": "tokens", "vocab_size": 500, "embedding_dim": 32},
            "encoder": {"cell": "gru", "units": 64},
            "head": {"type": "tagger", "classes": 10},
            "training": {"batch_size": 64, "distribution": section},
        }
        task = Task.for_spec(spec)
        with distribution.scope(task.spec.training):
            timer = EpochTimes()
            timer.times = []
            task.build_model().fit(x, y, batch_size=64, epochs=3, verbose=0, callbacks=[timer])
        results[strategy] = sum(timer.times[1:]) / 2
    print(json.dumps(results))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", nargs="+", default=["jax", "tensorflow"])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker()
    for backend in args.backends:
        env = {
            **os.environ,
            "KERAS_BACKEND": backend,
            "PYTHONPATH": str(ROOT),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
        }
        times = run_json(["-m", "benchmarks.data_parallel", "--worker"], env)
        print(
            f"{backend}: 1 device {times['none']:.2f} s/epoch, 2 virtual devices "
            f"{times['data_parallel']:.2f} s/epoch (x{times['none'] / times['data_parallel']:.2f})",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
