"""Two local processes as two JAX hosts: a data-parallel step equals the one-process step.

    python -m benchmarks.multihost_jax            # port 12355 on localhost

Each process is a "host" with one CPU device. Both call `keras.distribution.initialize` (which
calls `jax.distributed.initialize`) with the same coordinator address, build the same seeded
model under `keras.distribution.DataParallel` over the 2 global devices, and train 3 steps,
each feeding its own half of every global batch of 8. A third, single process trains the same
model on the whole batches on one device. The script prints the largest weight difference.
"""

import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
BATCH, STEPS, PROCESSES = 8, 3, 2


def data():
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.integers(1, 40, (BATCH * STEPS, 7)).astype("int32")
    x[::2, 5:] = 0
    y = rng.integers(0, 5, x.shape).astype("int32")
    return x, y, (x > 0).astype("float32")


def train(process_id):
    import keras
    import numpy as np

    if process_id is not None:
        keras.distribution.initialize(f"localhost:{os.environ['PORT']}", PROCESSES, process_id)
    import keras_seq
    from keras_seq.tasks import Task

    spec = keras_seq.load_spec(
        {
            "seed": 3,
            "input": {"kind": "tokens", "vocab_size": 40, "embedding_dim": 8},
            "encoder": {"cell": "gru", "units": 8},
            "head": {"type": "tagger", "classes": 5},
            "training": {"batch_size": BATCH, "learning_rate": 0.01},
        }
    )
    x, y, w = data()
    if process_id is None:
        model = Task.for_spec(spec).build_model()
        model.fit(x, y, sample_weight=w, batch_size=BATCH, shuffle=False, verbose=0)
    else:
        devices = keras.distribution.list_devices()
        parallel = keras.distribution.DataParallel(devices=devices, auto_shard_dataset=False)
        with parallel.scope():
            model = Task.for_spec(spec).build_model()
            # This host's half of each global batch: rows [i*4, i*4+4) of every batch of 8.
            local = BATCH // PROCESSES
            rows = np.concatenate(
                [
                    np.arange(s * BATCH + process_id * local, s * BATCH + (process_id + 1) * local)
                    for s in range(STEPS)
                ]
            )
            model.fit(
                x[rows], y[rows], sample_weight=w[rows], batch_size=local, shuffle=False, verbose=0
            )
    weights = [np.asarray(v).tolist() for v in model.get_weights()]
    print(json.dumps({"devices": len(keras.distribution.list_devices()), "weights": weights}))


def run(process_id, port):
    env = {
        **os.environ,
        "KERAS_BACKEND": "jax",
        "PORT": str(port),
        "PYTHONPATH": str(ROOT),
        "XLA_FLAGS": "--xla_force_host_platform_device_count=1",
    }
    command = [sys.executable, "-m", "benchmarks.multihost_jax", "--worker", str(process_id)]
    return subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def main():
    import numpy as np

    if sys.argv[1:2] == ["--worker"]:
        process_id = sys.argv[2]
        return train(None if process_id == "single" else int(process_id))
    port = 12355
    processes = [run(i, port) for i in range(PROCESSES)] + [run("single", port)]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=600)
        if process.returncode:
            raise SystemExit(err[-3000:])
        results.append(json.loads(out.strip().splitlines()[-1]))
    host, single = results[0], results[-1]
    difference = max(
        float(np.abs(np.array(a) - np.array(b)).max())
        for a, b in zip(host["weights"], single["weights"])
    )
    print(f"global devices seen by each host: {[r['devices'] for r in results[:-1]]}")
    print(f"largest weight difference after {STEPS} steps, 2 hosts vs 1 process: {difference:.3g}")
    return 0 if difference < 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())
