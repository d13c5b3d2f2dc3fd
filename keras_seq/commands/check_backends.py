"""`keras-seq check-backends`: the same numbers on TensorFlow, JAX and PyTorch?"""

import sys

from keras_seq.commands.overrides import add_set

HELP = "run specs' models on TensorFlow, JAX and PyTorch; exit 1 if they disagree"


def add_arguments(parser):
    parser.add_argument("specs", nargs="+", metavar="SPEC", help="spec files (YAML)")
    parser.add_argument("--weights", metavar="F", help="a .weights.h5 file to compare with")
    add_set(parser)


def run(args):
    from keras_seq.portability import check_backends

    if args.weights and len(args.specs) > 1:
        print("check-backends: --weights goes with exactly one SPEC", file=sys.stderr)
        return 1
    if args.weights:
        _check_weights_file(args.weights)
    specs = args.specs
    if args.set:  # every spec changed alike, validated before any backend starts
        from keras_seq.commands.overrides import load_with_overrides

        specs = [load_with_overrides(spec, args.set) for spec in args.specs]
    report = check_backends(specs, weights=args.weights)
    print(report)
    return 0 if report.passed else 1


def _check_weights_file(path):
    """A missing file, or one that is not HDF5 under a `.weights.h5` name (what Keras'
    `load_weights` reads), fails here with a `DataError`, before any backend starts."""
    from keras_seq.data.errors import DataError, check_file

    check_file(path, "--weights")
    with open(path, "rb") as file:
        signature = file.read(8)
    if not str(path).endswith(".weights.h5") or signature != b"\x89HDF\r\n\x1a\n":
        raise DataError(
            "not a Keras weights file (HDF5, named *.weights.h5)",
            path=path,
            hint="give a file written by model.save_weights('NAME.weights.h5')",
        )
