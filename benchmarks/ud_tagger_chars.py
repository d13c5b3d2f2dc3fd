"""Real data: what characters add to a tagger, overall and on words never seen in training.

    python -m benchmarks.ud_tagger_chars                  # torch
    python -m benchmarks.ud_tagger_chars --backend jax --data ../shared/data/ud_english_ewt

Trains `specs/ud-bilstm.yaml` (words only) and `specs/ud-tagger-chars.yaml` (words and
characters) with `keras-seq train`, as a user would, on Universal Dependencies English EWT's
dev file, and scores both saved models on its test file (UPOS): accuracy on every test word
(what `metrics.json` reports), and on the test words whose lowercased form never occurs in
the training file. Times: wall time of each `keras-seq train` process and its CPU time (user +
system, children included), with the machine's load average at the start and the end, since
the 2-core machines this runs on are often shared.

Exits 0 with "skipped: data absent" when the data folder (default: ../shared/data/ud_english_ewt
beside the repository) is missing.
"""

import argparse
import json
import os
import pathlib
import resource
import subprocess
import sys
import time

from keras_seq.errors import DataError

ROOT = pathlib.Path(__file__).resolve().parent.parent
SPECS = {
    "words": ROOT / "specs" / "ud-bilstm.yaml",
    "chars": ROOT / "specs" / "ud-tagger-chars.yaml",
}
DATA = ROOT.parent / "shared" / "data" / "ud_english_ewt"


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def train(spec, output, backend, files, options=()):
    """Runs `keras-seq train SPEC` with `files` (`{"train": path, ...}`, given as `--train`
    ...) and further command-line `options`; returns (wall seconds, CPU seconds)."""
    command = [
        sys.executable, "-m", "keras_seq.cli", "train", str(spec), "--backend", backend,
        "--output", str(output),
    ]  # fmt: skip
    for split, path in files.items():
        command += [f"--{split}", str(path)]
    command += list(options)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    wall, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{done.stderr[-3000:]}")
    return time.perf_counter() - wall, _children_cpu() - cpu


def unseen_accuracy(run, train_file, test_file):
    """(accuracy on all test words, on test words unseen in training, unseen count,
    prediction words per second: the second pass over the test file, the first having
    compiled every batch shape)."""
    import keras_seq
    from keras_seq.data import read_conllu

    task = keras_seq.load(run)
    train_sentences, _ = read_conllu(train_file)
    sentences, gold = read_conllu(test_file)
    seen = {word.lower() for sentence in train_sentences for word in sentence}
    task.predict(sentences)  # warm: a compiling backend traces each batch shape once
    start = time.perf_counter()
    predicted = task.predict(sentences)
    speed = sum(map(len, sentences)) / (time.perf_counter() - start)
    pairs = [
        (g == p, word.lower() not in seen)
        for words, tags, guesses in zip(sentences, gold, predicted)
        for word, g, p in zip(words, tags, guesses)
    ]
    unseen = [right for right, new in pairs if new]
    unseen_share = sum(unseen) / len(unseen) if unseen else float("nan")
    return sum(r for r, _ in pairs) / len(pairs), unseen_share, len(unseen), speed


def score(run, backend, train_file, test_file):
    """`unseen_accuracy` in a process of its own on `backend`."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.ud_tagger_chars", "--score", str(run),
         "--train-file", str(train_file), "--test-file", str(test_file)],
        env={**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"},
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode:  # the scoring process's own error, without its traceback
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise DataError(last.split(": ", 1)[-1])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default="torch", choices=["jax", "tensorflow", "torch"])
    parser.add_argument("--data", type=pathlib.Path, default=DATA)
    parser.add_argument("--output", type=pathlib.Path, default=ROOT / "runs" / "ud-chars-bench")
    parser.add_argument("--score", metavar="RUN", help=argparse.SUPPRESS)
    parser.add_argument("--train-file", type=pathlib.Path, help=argparse.SUPPRESS)
    parser.add_argument("--test-file", type=pathlib.Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.score:
        print(json.dumps(unseen_accuracy(args.score, args.train_file, args.test_file)))
        return 0
    if not (args.data / "en_ewt-ud-dev.conllu").is_file():
        print(f"skipped: data absent ({args.data})")
        return 0
    files = {
        "train": args.data / "en_ewt-ud-dev.conllu",
        "test": args.data / "en_ewt-ud-test.conllu",
    }
    rows = {}
    for name, spec in SPECS.items():
        load = os.getloadavg()[0]
        wall, cpu = train(spec, args.output / name, args.backend, files)
        scores = score(args.output / name, args.backend, files["train"], files["test"])
        rows[name] = (*scores[:3], wall, cpu, load)
    print(f"UD English EWT UPOS, train on dev, score on test; backend {args.backend}")
    print(
        f"{'':6s} {'accuracy':>8s} {'unseen':>7s} {'train wall s':>12s} {'cpu s':>7s} {'load':>5s}"
    )
    for name, (accuracy, unseen, _, wall, cpu, load) in rows.items():
        print(f"{name:6s} {accuracy:8.4f} {unseen:7.4f} {wall:12.0f} {cpu:7.0f} {load:5.1f}")
    count = rows["words"][2]
    print(f"unseen: the {count} test words whose lowercased form is not in the training file")
    print(f"load: 1-minute load average when each run started (now {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
