"""Real data at real size: `specs/ewt-upos.yaml` on the whole UD English EWT treebank (UPOS).

    python -m benchmarks.ewt_upos                          # torch
    python -m benchmarks.ewt_upos --backends jax tensorflow --epochs 2   # speed only

Trains the spec with `keras-seq train` as a user would (train file 204,577 words, early
stopping and model selection on dev), then scores the saved model on the test file: accuracy
on every word and on the test words whose lowercased form never occurs in the training file.
Reports, per backend: epochs run, training wall and CPU time, training words per second (the
median of `history.csv`'s `words_per_second` over the epochs after the first, which compiles),
prediction words per second (the whole test file through `Task.predict`, warm), and the
1-minute load average at the start (the 2-core machines this runs on are often shared).
Published anchors on EWT test (UPOS): Stanza 1.5 96.20 (BiLSTM with a character language
model, pretrained word vectors), UDPipe 2 with BERT 97.50; the bar set for keras-seq is 95.5,
the goal 96.2, without pretrained embeddings.

Exits 0 with "skipped: data absent" when the data folder (default: ../shared/data/ud_english_ewt
beside the repository) is missing.
"""

import argparse
import csv
import os
import pathlib
import statistics
import sys

from benchmarks.ud_tagger_chars import DATA, ROOT, score, train

SPEC = ROOT / "specs" / "ewt-upos.yaml"


def _history(run):
    """(epochs run, median training words per second over the epochs after the first, whose
    time includes compiling, or the first alone)."""
    with open(run / "history.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    speeds = [float(row["words_per_second"]) for row in rows]
    return len(rows), statistics.median(speeds[1:] or speeds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", nargs="+", default=["torch"])
    parser.add_argument("--data", type=pathlib.Path, default=DATA)
    parser.add_argument("--output", type=pathlib.Path, default=ROOT / "runs" / "ewt-upos-bench")
    parser.add_argument("--epochs", type=int, help="cap the spec's epochs (speed checks)")
    args = parser.parse_args(argv)
    options = ["--epochs", str(args.epochs)] if args.epochs else []
    files = {
        split: args.data / f"en_ewt-ud-{name}.conllu"
        for split, name in (("train", "train"), ("validation", "dev"), ("test", "test"))
    }
    if not all(path.is_file() for path in files.values()):
        print(f"skipped: data absent ({args.data})")
        return 0
    print("UD English EWT UPOS: train on train, early stopping on dev, scored on test")
    print(
        f"{'backend':10s} {'accuracy':>8s} {'unseen':>7s} {'epochs':>6s} {'wall min':>8s} "
        f"{'cpu min':>7s} {'train w/s':>9s} {'pred w/s':>8s} {'load':>5s}"
    )
    for backend in args.backends:
        load = os.getloadavg()[0]
        run = args.output / backend
        wall, cpu = train(SPEC, run, backend, files, options)
        accuracy, unseen, count, predict_speed = score(run, backend, files["train"], files["test"])
        epochs, train_speed = _history(run)
        print(
            f"{backend:10s} {accuracy:8.4f} {unseen:7.4f} {epochs:6d} {wall / 60:8.1f} "
            f"{cpu / 60:7.1f} {train_speed:9.0f} {predict_speed:8.0f} {load:5.1f}"
        )
    print(f"unseen: the {count} test words whose lowercased form is not in the training file")
    return 0


if __name__ == "__main__":
    sys.exit(main())
