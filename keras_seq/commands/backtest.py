"""`keras-seq backtest`: a rolling-origin backtest of a time-series forecaster against naive
baselines. The work is `keras_seq.backtest` (`keras_seq.backtesting`); this module parses the
arguments and prints the table."""

import sys

from keras_seq.commands.arguments import positive_int
from keras_seq.commands.overrides import add_set

HELP = "rolling-origin backtest of a forecaster against naive, seasonal-naive and Holt-Winters"


def add_arguments(parser):
    parser.add_argument("spec", metavar="SPEC", nargs="?", help="the spec (not with --resume)")
    parser.add_argument(
        "--folds", type=positive_int, default=5, metavar="K", help="origins (default 5)"
    )
    parser.add_argument("--train", metavar="F", help="the series file (default: data.train)")
    parser.add_argument("--epochs", type=positive_int, metavar="N", help="default: training.epochs")
    parser.add_argument("--output", metavar="DIR", help="default: runs/NAME-backtest-TIME")
    parser.add_argument(
        "--resume", metavar="DIR", help="continue an interrupted backtest (its finished folds kept)"
    )
    add_set(parser)


def run(args):
    from keras_seq import backtesting, runs
    from keras_seq.commands.overrides import load_with_overrides

    if (args.spec is None) == (args.resume is None):
        print("keras-seq backtest: give a SPEC, or --resume DIR (not both)", file=sys.stderr)
        return 2
    if args.resume and args.set:
        print(
            "keras-seq backtest: --set cannot be used with --resume: a resumed backtest keeps "
            "the spec of its checkpoint",
            file=sys.stderr,
        )
        return 2
    try:
        if args.resume:
            path, report = backtesting.resume(args.resume)
        else:
            spec = load_with_overrides(args.spec, args.set)
            options = dict(folds=args.folds, train=args.train, epochs=args.epochs)
            path, report = backtesting.backtest(spec, output=args.output, **options)
    except KeyboardInterrupt:
        kept = runs.RunFolder.last_kept
        if kept is None:
            raise
        print(
            f"keras-seq backtest: interrupted; {kept} holds its progress: "
            f"keras-seq backtest --resume {kept}",
            file=sys.stderr,
        )
        return 130
    print(backtesting.table(report), end="")
    print(f"backtest saved to {path}")
    return 0
