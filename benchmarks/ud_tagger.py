"""Real data: `keras-seq train` against the same BiLSTM tagger written in plain Keras.

    python -m benchmarks.ud_tagger                 # jax
    python -m benchmarks.ud_tagger --backend torch

Both sides train on Universal Dependencies English EWT's dev file and are scored on its test
file (UPOS). keras-seq runs `keras-seq train specs/ud-bilstm.yaml` as a user would; plain Keras
builds `Embedding(mask_zero=True) -> Bidirectional(LSTM) x layers -> Dense(softmax)` with the
spec's sizes, epochs, batch size, optimizer and learning rate, on the same encoded data (same
vocabulary, truncation and padding). Accuracy is counted by hand on real tokens only, from
each side's saved model, so both are measured the same way. Times: wall time of the whole
process (start, data, fit, scoring, saving), the sum of Keras' per-epoch fit times, and the
median train step after the first epoch (which includes compiling).

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


def plain_keras(output):
    """The hand-written tagger (run in its own process, with KERAS_BACKEND set)."""
    import keras

    import keras_seq

    spec = keras_seq.load_spec(SPEC)
    train, _ = _encoded(spec)
    keras.utils.set_random_seed(spec.seed)
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default="jax", choices=["jax", "tensorflow", "torch"])
    parser.add_argument("--plain", metavar="OUTPUT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.plain:
        return plain_keras(args.plain)
    if not (TRAIN.is_file() and TEST.is_file()):
        print(f"skipped: data absent ({DATA})")
        return 0
    with tempfile.TemporaryDirectory() as folder:
        ours = _run(
            [
                sys.executable,
                "-m",
                "keras_seq.cli",
                "train",
                SPEC,
                "--train",
                TRAIN,
                "--test",
                TEST,
                "--output",
                f"{folder}/run",
            ],
            args.backend,
        )
        plain = _run(
            [sys.executable, "-m", "benchmarks.ud_tagger", "--plain", f"{folder}/plain.keras"],
            args.backend,
        )
        scores = _score(args.backend, folder)
        reported = json.loads(pathlib.Path(folder, "run", "metrics.json").read_text())
    print(f"UD English EWT UPOS, train on dev, score on test; backend {args.backend}")
    print(f"{'':12s} {'test accuracy':>13s} {'fit s':>6s} {'ms/step':>8s} {'wall s':>7s}")
    for name, (wall, fit, step) in (("keras-seq", ours), ("plain Keras", plain)):
        print(f"{name:12s} {scores[name]:13.4f} {fit:6d} {step:8.0f} {wall:7.1f}")
    print(
        "fit s: sum of Keras' per-epoch times (the first includes compiling); ms/step: median "
        "over epochs 2+; wall s: the whole process"
    )
    print(f"keras-seq metrics.json test accuracy: {reported['test']['accuracy']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
