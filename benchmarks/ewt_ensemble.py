"""A seed ensemble of `specs/ewt-upos.yaml` runs trained apart, scored on UD English EWT test.

    # one run per core, seeds apart (e.g. 42 on core 0, 43 on core 1), then:
    keras-seq train specs/ewt-upos.yaml --set seed=43 --output runs/ewt-43
    python -m benchmarks.ewt_ensemble runs/ewt-42 runs/ewt-43 [runs/ewt-44 ...]

Combines the runs with `keras_seq.ensembles.from_runs` (the model `training.ensemble: N`
trains in one run, which trains its members one after the other: N times the wall time), saves
it beside its first run (`ensemble-I-J-....keras`, the runs' indexes) and prints each run's
test accuracy, on every word and on the test words whose lowercased form never occurs in the
training file, then the ensemble's after each run is added (`--subsets`: of every subset of
two runs or more).

Exits 0 with "skipped: data absent" when the data folder is missing.
"""

import argparse
import itertools
import pathlib
import sys

from benchmarks.ud_tagger_chars import DATA, score
from keras_seq.errors import DataError, SpecError


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", type=pathlib.Path)
    parser.add_argument("--backend", default="torch", choices=["jax", "tensorflow", "torch"])
    parser.add_argument("--data", type=pathlib.Path, default=DATA)
    parser.add_argument(
        "--subsets", action="store_true", help="every subset of 2 runs or more, not the first N"
    )
    args = parser.parse_args(argv)
    train, test = (args.data / f"en_ewt-ud-{name}.conllu" for name in ("train", "test"))
    if not (train.is_file() and test.is_file()):
        print(f"skipped: data absent ({args.data})")
        return 0
    print(f"UD English EWT UPOS test; backend {args.backend}")
    print(f"{'model':40s} {'accuracy':>8s} {'unseen':>7s}")
    try:
        for run in args.runs:
            accuracy, unseen, *_ = score(run, args.backend, train, test)
            print(f"{str(run):40s} {accuracy:8.4f} {unseen:7.4f}")
        _ensembles(args, train, test)
    except (DataError, SpecError) as error:  # runs of other specs, a missing run: say which
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _ensembles(args, train, test):
    """Scores the ensembles of `args.runs` (the first N, or with `--subsets` every subset)."""
    from keras_seq import ensembles

    indexes = range(len(args.runs))
    for count in range(2, len(args.runs) + 1):
        chosen = itertools.combinations(indexes, count) if args.subsets else [indexes[:count]]
        for subset in chosen:
            path = args.runs[subset[0]] / f"ensemble-{'-'.join(map(str, subset))}.keras"
            ensembles.from_runs([args.runs[i] for i in subset]).save(path)
            accuracy, unseen, *_ = score(path, args.backend, train, test)
            name = f"ensemble of runs {', '.join(str(i + 1) for i in subset)}"
            print(f"{name:40s} {accuracy:8.4f} {unseen:7.4f}")


if __name__ == "__main__":
    sys.exit(main())
