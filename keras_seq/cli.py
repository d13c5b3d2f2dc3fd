"""The `keras-seq` command line: validate, show and explain specs; train and check models.

Run `keras-seq --help`, or `keras-seq COMMAND --help` for one command.
"""

import argparse
import json
import logging
import os
import sys

from keras_seq.commands import evaluate, predict, train
from keras_seq.data import DataError
from keras_seq.spec import SpecError, load_spec
from keras_seq.spec.reference import markdown
from keras_seq.spec.schema import schema


def _validate(args):
    results = []
    for source in args.specs:
        try:
            load_spec(source)
            results.append({"spec": source, "valid": True, "problems": []})
        except SpecError as error:
            problems = [p.to_dict() for p in error.problems]
            results.append({"spec": source, "valid": False, "problems": problems})
            if not args.json:
                print(error, file=sys.stderr)
                continue
        if not args.json:
            print(f"{source}: valid")
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    return 0 if all(r["valid"] for r in results) else 1


def _show(args):
    print(load_spec(args.spec).to_yaml(), end="")
    return 0


def _schema(args):
    print(markdown() if args.markdown else json.dumps(schema(), indent=2))
    return 0


def _check_backends(args):
    from keras_seq.portability import check_backends

    if args.weights and len(args.specs) > 1:
        print("check-backends: --weights goes with exactly one SPEC", file=sys.stderr)
        return 1
    report = check_backends(args.specs, weights=args.weights)
    print(report)
    return 0 if report.passed else 1


def _tune(args):
    from keras_seq.commands import tune

    return tune.main(args)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-seq",
        description="Define, train and move recurrent sequence models between Keras backends.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    command = commands.add_parser("validate", help="check specs; exit 1 if any is invalid")
    command.add_argument("specs", nargs="+", metavar="SPEC", help="spec files (YAML)")
    command.add_argument("--json", action="store_true", help="print results as JSON")
    command.set_defaults(run=_validate)

    command = commands.add_parser("show", help="print a spec with every default filled in")
    command.add_argument("spec", metavar="SPEC")
    command.set_defaults(run=_show)

    command = commands.add_parser("schema", help="print the spec's JSON schema")
    command.add_argument("--markdown", action="store_true", help="print the field reference")
    command.set_defaults(run=_schema)

    command = commands.add_parser("train", help="train a spec's model; write a run folder")
    command.add_argument("spec", metavar="SPEC")
    for split in ("train", "validation", "test"):
        command.add_argument(f"--{split}", metavar="F", help=f"default: data.{split}")
    command.add_argument("--epochs", type=int, metavar="N", help="default: training.epochs")
    command.add_argument("--output", metavar="DIR", help="run folder (default: runs/NAME-TIME)")
    command.set_defaults(run=train.main)

    command = commands.add_parser(
        "tune", help="run a spec's search: section; write results and the best spec"
    )
    command.add_argument("spec", metavar="SPEC")
    command.add_argument("--output", metavar="DIR", required=True, help="search folder (resumed)")
    command.set_defaults(run=_tune)

    command = commands.add_parser("evaluate", help="print a run's metrics on a file as JSON")
    command.add_argument("run_dir", metavar="RUN_DIR")
    command.add_argument("--data", metavar="F", required=True)
    command.set_defaults(run=evaluate.main)

    command = commands.add_parser("predict", help="write a run's predictions for a file")
    command.add_argument("run_dir", metavar="RUN_DIR")
    command.add_argument("--data", metavar="F", required=True)
    command.add_argument("--output", metavar="F", help="default: standard output")
    command.set_defaults(run=predict.main)
    command = commands.add_parser(
        "check-backends",
        help="run specs' models on TensorFlow, JAX and PyTorch; exit 1 if they disagree",
    )
    command.add_argument("specs", nargs="+", metavar="SPEC", help="spec files (YAML)")
    command.add_argument("--weights", metavar="F", help="a .weights.h5 file to compare with")
    command.set_defaults(run=_check_backends)

    for name in ("train", "evaluate", "predict", "tune"):
        commands.choices[name].add_argument("--backend", choices=["tensorflow", "jax", "torch"])
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    backend = getattr(args, "backend", None)
    if backend and os.environ.get("KERAS_BACKEND") != backend:
        # Keras reads KERAS_BACKEND once, at import: run the command again in a fresh process.
        env = {**os.environ, "KERAS_BACKEND": backend}
        argv = sys.argv[1:] if argv is None else list(argv)
        os.execve(sys.executable, [sys.executable, "-m", "keras_seq.cli", *argv], env)
    try:
        return args.run(args)
    except (SpecError, DataError, FileExistsError) as error:
        print(error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
