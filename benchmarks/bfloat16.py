"""`training.precision: mixed_bfloat16` against float32: train-step speed, and tagger accuracy.

    python -m benchmarks.bfloat16                      # speed, every backend (a few minutes)
    python -m benchmarks.bfloat16 --backends torch --rounds 9 --threads 0 1
    python -m benchmarks.bfloat16 --accuracy           # bundled tagger (specs/tagger.yaml)

Speed: the reference tagger (`workloads.WORKLOADS["tagger"]`: batch 32, length 64, vocab 5000,
embedding 64, 2 bidirectional LSTM layers of 128, 10 tags) built by `keras_seq.build` in each
precision. One process per backend builds both models, warms each up, then alternates them
(`--rounds` rounds of `--steps` train steps and predict batches each, the order flipped every
round, so both see the same machine load); prints median ms per train step / predict batch and
the ratio bfloat16 / float32, one table per `--threads` setting (0: the frameworks' defaults;
on a loaded machine torch's default threads can slow its float32 kernel tenfold).

Accuracy (`--accuracy`): trains `specs/tagger.yaml` on its bundled data in each precision with
`keras-seq train` (one process per run) and prints the test accuracy of both.
"""

import argparse
import json
import pathlib
import statistics
import sys
import tempfile
import time

from benchmarks import runner, workloads

BACKENDS = ["jax", "tensorflow", "torch"]
PRECISIONS = ["float32", "mixed_bfloat16"]
ROOT = pathlib.Path(__file__).resolve().parent.parent
TAGGER_SPEC = ROOT / "specs" / "tagger.yaml"


def reference_spec(precision):
    w = workloads.WORKLOADS["tagger"]
    return {
        "seed": 0,
        "input": {"kind": "tokens", "vocab_size": w.vocab, "embedding_dim": w.embed},
        "encoder": {
            "cell": w.cell,
            "units": w.units,
            "layers": w.layers,
            "direction": "bidirectional",
        },
        "head": {"type": "tagger", "classes": w.classes},
        "training": {"precision": precision, "batch_size": w.batch},
    }


def time_precisions(rounds, steps):
    """{precision: {"train": [ms...], "predict": [ms...]}} on this process' backend."""
    import keras_seq

    x, y, _ = workloads.make_data(workloads.WORKLOADS["tagger"])
    calls = {}
    for precision in PRECISIONS:
        model = keras_seq.build(reference_spec(precision))
        calls[precision] = {
            "train": lambda m=model: m.train_on_batch(x, y),
            "predict": lambda m=model: m.predict_on_batch(x),
        }
        for fn in calls[precision].values():  # warm-up: the first calls compile
            fn()
            fn()
    samples = {p: {"train": [], "predict": []} for p in PRECISIONS}
    for r in range(rounds):
        for precision in PRECISIONS if r % 2 == 0 else PRECISIONS[::-1]:
            for kind, fn in calls[precision].items():
                start = time.perf_counter()
                for _ in range(steps):
                    fn()
                samples[precision][kind].append((time.perf_counter() - start) * 1000 / steps)
    return samples


def tagger_accuracy(precision, folder):
    """Test accuracy of specs/tagger.yaml trained in `precision` (run folder in `folder`)."""
    from keras_seq import cli

    output = pathlib.Path(folder) / precision
    argv = ["train", str(TAGGER_SPEC), "--output", str(output)]
    status = cli.main(argv + ["--set", f"training.precision={precision}"])
    if status != 0:
        raise SystemExit(status)
    metrics = json.loads((output / "metrics.json").read_text())
    return {"accuracy": metrics["test"]["accuracy"], "loss": metrics["test"]["loss"]}


def worker(args):
    if args.accuracy:
        with tempfile.TemporaryDirectory() as folder:
            result = tagger_accuracy(args.precision, folder)
    else:
        result = time_precisions(args.rounds, args.steps)
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")


def run_worker(backend, argv, timeout, threads=0):
    """Runs `worker` in a process of its own on `backend`; its result, or {"error": ...}."""
    job = {"argv": ["--worker", *argv], "env": {"KERAS_BACKEND": backend}}
    return runner._worker(job, timeout, threads, module="benchmarks.bfloat16")


def speed_table(args, threads):
    print(
        "reference tagger, ms per train step / predict batch (medians), bfloat16 / float32, "
        f"threads {threads or 'default'}"
    )
    print(
        f"{'backend':10s} {'f32 train':>10s} {'bf16 train':>10s} {'ratio':>6s}"
        f" {'f32 pred':>9s} {'bf16 pred':>9s} {'ratio':>6s}"
    )
    for backend in args.backends:
        argv = ["--rounds", str(args.rounds), "--steps", str(args.steps)]
        result = run_worker(backend, argv, args.timeout, threads)
        if "error" in result:
            print(f"{backend:10s} ERROR {result['error']}")
            continue
        medians = {
            (p, kind): statistics.median(result[p][kind]) for p in PRECISIONS for kind in result[p]
        }
        cells = []
        for kind in ("train", "predict"):
            full, mixed = medians["float32", kind], medians["mixed_bfloat16", kind]
            cells += [f"{full:10.1f}", f"{mixed:10.1f}", f"{mixed / full:6.2f}"]
        print(f"{backend:10s} " + " ".join(cells), flush=True)


def accuracy_table(args):
    print(f"{TAGGER_SPEC.name} on its bundled data: test accuracy")
    print(f"{'backend':10s} {'float32':>8s} {'bfloat16':>8s} {'diff':>7s}")
    for backend in args.backends:
        scores = {
            p: run_worker(backend, ["--accuracy", "--precision", p], args.timeout)
            for p in PRECISIONS
        }
        errors = [s["error"] for s in scores.values() if "error" in s]
        if errors:
            print(f"{backend:10s} ERROR {errors[0]}")
            continue
        full, mixed = (scores[p]["accuracy"] for p in PRECISIONS)
        print(f"{backend:10s} {full:8.4f} {mixed:8.4f} {mixed - full:+7.4f}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bfloat16")
    parser.add_argument("--backends", nargs="+", default=BACKENDS, choices=BACKENDS)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--accuracy", action="store_true", help="bundled tagger accuracy")
    parser.add_argument("--threads", type=int, nargs="+", default=[0], help="0: defaults")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per process")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--precision", choices=PRECISIONS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
    elif args.accuracy:
        accuracy_table(args)
    else:
        for threads in args.threads:
            speed_table(args, threads)


if __name__ == "__main__":
    main()
