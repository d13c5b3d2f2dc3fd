"""Real data: `keras-seq train` against the same BiLSTM tagger written in plain Keras.

    python -m benchmarks.ud_tagger                 # jax, one seed
    python -m benchmarks.ud_tagger --backend torch --seeds 5

Both sides train on Universal Dependencies English EWT's dev file and are scored on its test
file (UPOS). keras-seq runs `keras-seq train specs/ud-bilstm.yaml` as a user would; plain Keras
builds `Embedding(mask_zero=True) -> Bidirectional(LSTM) x layers -> Dense(softmax)` with the
spec's sizes, epochs, batch size, optimizer and learning rate, on the same encoded data (same
vocabulary, truncation and padding). Accuracy is counted by hand on real tokens only, from
each side's saved model, so both are measured the same way. Times: wall time of the whole
process (start, data, fit, scoring, saving), the sum of Keras' per-epoch fit times, and the
median train step after the first epoch (which includes compiling). With `--seeds N` both sides
train with seeds 42, 43, ... (`--set seed=S` for keras-seq; the plain model's
`keras.utils.set_random_seed(S)`), and the table ends with each side's mean and standard
deviation over seeds and the difference of the means.

Exits 0 with "skipped: data absent" when ../shared/data/ud_english_ewt (beside the repository)
is missing.
"""

import argparse
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "ud-bilstm.yaml"
DATA = ROOT.parent / "shared" / "data" / "ud_english_ewt"
TRAIN = DATA / "en_ewt-ud-dev.conllu"
TEST = DATA / "en_ewt-ud-test.conllu"


def _encoded(spec):
    import keras_seq

    train = keras_seq.load_dataset(spec, "train", path=TRAIN)
    test = keras_seq.load_dataset(spec, "test", path=TEST, vocab=train.vocab, labels=train.labels)
    return train, test


def real_token_accuracy(model, data):
    predicted = model.predict(data.x, batch_size=256, verbose=0).argmax(-1)
    real = data.sample_weight > 0
    return float((predicted == data.y)[real].mean())


def plain_keras(output, seed):
    """The hand-written tagger (run in its own process, with KERAS_BACKEND set)."""
    import keras

    import keras_seq

    spec = keras_seq.load_spec(SPEC)
    train, _ = _encoded(spec)
    keras.utils.set_random_seed(seed)
    encoder, training = spec.encoder, spec.training
    model = keras.Sequential([keras.Input((spec.input.max_length,), dtype="int32")])
    model.add(keras.layers.Embedding(len(train.vocab), spec.input.embedding_dim, mask_zero=True))
    for _ in range(encoder.layers):
        model.add(
            keras.layers.Bidirectional(keras.layers.LSTM(encoder.units, return_sequences=True))
        )
    model.add(keras.layers.Dense(len(train.labels), activation="softmax"))
    model.compile(
        optimizer=keras.optimizers.get(
            {"class_name": training.optimizer, "config": {"learning_rate": training.learning_rate}}
        ),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(
        train.x,
        train.y,
        sample_weight=train.sample_weight,
        epochs=training.epochs,
        batch_size=training.batch_size,
        verbose=2,
    )
    model.save(output)


def _run(command, backend):
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, command))}\n{done.stderr[-3000:]}")
    # Keras' verbose=2 epoch lines: "63/63 - 5s - 80ms/step - ...".
    epochs = re.findall(r"^\d+/\d+ - (\d+)s - ([\d.]+)(m?s)/step", done.stdout, re.MULTILINE)
    fit = sum(int(seconds) for seconds, _, _ in epochs)
    steps = [float(v) * (1 if unit == "ms" else 1000) for _, v, unit in epochs[1:]]
    return wall, fit, statistics.median(steps) if steps else float("nan")


def _score(backend, folder):
    """Real-token test accuracy of both saved models, in one process on `backend`."""
    code = (
        "import json, sys, keras, keras_seq\n"
        "from benchmarks import ud_tagger as b\n"
        "spec = keras_seq.load_spec(b.SPEC)\n"
        "_, test = b._encoded(spec)\n"
        f"folder = {str(folder)!r}\n"
        "scores = {name: b.real_token_accuracy(keras.saving.load_model(path), test)\n"
        "          for name, path in (('keras-seq', folder + '/run/model.keras'),\n"
        "                             ('plain Keras', folder + '/plain.keras'))}\n"
        "print(json.dumps(scores))\n"
    )
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _one_seed(backend, seed, folder):
    """`{side: (accuracy, wall, fit, step)}` for one seed, and keras-seq's reported accuracy."""
    ours = _run(
        [sys.executable, "-m", "keras_seq.cli", "train", SPEC, "--train", TRAIN, "--test", TEST,
         "--output", f"{folder}/run", "--set", f"seed={seed}"],
        backend,
    )  # fmt: skip
    plain = _run(
        [sys.executable, "-m", "benchmarks.ud_tagger", "--plain", f"{folder}/plain.keras",
         "--seed", str(seed)],
        backend,
    )  # fmt: skip
    scores = _score(backend, folder)
    reported = json.loads(pathlib.Path(folder, "run", "metrics.json").read_text())
    rows = {
        "keras-seq": (scores["keras-seq"], *ours),
        "plain Keras": (scores["plain Keras"], *plain),
    }
    return rows, reported["test"]["accuracy"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default="jax", choices=["jax", "tensorflow", "torch"])
    parser.add_argument("--seeds", type=int, default=1, help="seeds 42, 43, ... (default 1)")
    parser.add_argument("--plain", metavar="OUTPUT", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=42, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.plain:
        return plain_keras(args.plain, args.seed)
    if not (TRAIN.is_file() and TEST.is_file()):
        print(f"skipped: data absent ({DATA})")
        return 0
    print(f"UD English EWT UPOS, train on dev, score on test; backend {args.backend}")
    print(
        f"{'':12s} {'seed':>4s} {'test accuracy':>13s} {'fit s':>6s} {'ms/step':>8s} {'wall s':>7s}"
    )
    accuracies = {"keras-seq": [], "plain Keras": []}
    for seed in range(42, 42 + args.seeds):
        with tempfile.TemporaryDirectory() as folder:
            rows, reported = _one_seed(args.backend, seed, folder)
        for name, (accuracy, wall, fit, step) in rows.items():
            accuracies[name].append(accuracy)
            print(f"{name:12s} {seed:4d} {accuracy:13.4f} {fit:6d} {step:8.0f} {wall:7.1f}")
        print(f"{'':12s} {'':4s} keras-seq metrics.json test accuracy: {reported:.4f}")
    for name, values in accuracies.items():
        spread = statistics.stdev(values) if len(values) > 1 else float("nan")
        print(f"{name:12s} mean {statistics.mean(values):.4f} sd {spread:.4f} over {len(values)}")
    gap = statistics.mean(accuracies["keras-seq"]) - statistics.mean(accuracies["plain Keras"])
    print(f"keras-seq - plain Keras: {100 * gap:+.2f} points")
    print(
        "fit s: sum of Keras' per-epoch times (the first includes compiling); ms/step: median "
        "over epochs 2+; wall s: the whole process"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
