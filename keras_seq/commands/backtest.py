"""`keras-seq backtest`: a rolling-origin backtest of a time-series forecaster against naive
baselines. The work is `keras_seq.backtest` (`keras_seq.backtesting`); this module parses the
arguments and prints the table."""

from keras_seq.commands.arguments import positive_int

HELP = "rolling-origin backtest of a time-series forecaster against naive baselines"


def add_arguments(parser):
    parser.add_argument("spec", metavar="SPEC")
    parser.add_argument(
        "--folds", type=positive_int, default=5, metavar="K", help="origins (default 5)"
    )
    parser.add_argument("--train", metavar="F", help="the series file (default: data.train)")
    parser.add_argument("--epochs", type=positive_int, metavar="N", help="default: training.epochs")
    parser.add_argument("--output", metavar="DIR", help="default: runs/NAME-backtest-TIME")


def run(args):
    from keras_seq.backtesting import backtest, table

    path, report = backtest(
        args.spec, folds=args.folds, train=args.train, epochs=args.epochs, output=args.output
    )
    print(table(report), end="")
    print(f"backtest saved to {path}")
    return 0
