"""`keras-seq check-backends`: the same numbers on TensorFlow, JAX and PyTorch?"""

import sys

HELP = "run specs' models on TensorFlow, JAX and PyTorch; exit 1 if they disagree"


def add_arguments(parser):
    parser.add_argument("specs", nargs="+", metavar="SPEC", help="spec files (YAML)")
    parser.add_argument("--weights", metavar="F", help="a .weights.h5 file to compare with")


def run(args):
    from keras_seq.portability import check_backends

    if args.weights and len(args.specs) > 1:
        print("check-backends: --weights goes with exactly one SPEC", file=sys.stderr)
        return 1
    report = check_backends(args.specs, weights=args.weights)
    print(report)
    return 0 if report.passed else 1
