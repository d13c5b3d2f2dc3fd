"""`keras-seq predict`: a trained run's predictions, written in the input file's own format.

- CoNLL-U (taggers): a copy of the input with the predicted tag in the `data.tags_field`
  column (UPOS by default) of every word line; comments, multi-word token lines and the other
  columns are kept as they are. Words past `input.max_length` get `_` (and a warning).
- CoNLL column files (taggers): a copy of the input with the predicted tag appended to every
  token line (conlleval's layout: the original columns, then the prediction; `-DOCSTART-`
  lines get `O`, sentences stay in order with one empty line between them), so `conlleval`
  or seqeval score a labelled file's last two columns directly.
- CSV, JSONL and Parquet: every record as read, plus a `prediction` column: the label
  (classifier, with a `probability` column), one tag per token (tagger: space-separated in CSV,
  a list in JSONL and Parquet), the generated text (seq2seq), or the forecast of the
  `head.horizon` steps that follow each row (forecaster: empty for the first rows, which have
  no full window behind them). Parquet is written as Parquet (to --output, or as bytes to
  standard output).

`--calibrate BACKTEST_DIR` (a forecaster with `head.quantiles`): the interval of the outer
quantiles moved by the conformal margin that `keras-seq backtest` of the spec measured, in
each series' MASE scale (`keras_seq.backtesting.interval_margin`), so it covers what the
backtest's calibrated coverage says.
"""

import sys

HELP = "write a run's predictions for a file"


def add_arguments(parser):
    parser.add_argument("run_dir", metavar="RUN_DIR")
    parser.add_argument("--data", metavar="F", required=True)
    parser.add_argument("--output", metavar="F", help="default: standard output")
    parser.add_argument(
        "--calibrate",
        metavar="BACKTEST_DIR",
        help="forecasters with head.quantiles: move the interval by the conformal margin that "
        "`keras-seq backtest` of this spec measured (backtest.json)",
    )


def predict(run_dir, data, calibrate=None):
    """The text of `data` with a trained run's predictions added, in `data`'s own format;
    `calibrate`: a backtest folder whose interval margin a forecast's quantiles take."""
    from keras_seq.datafiles import for_file
    from keras_seq.tasks import load

    task = load(run_dir)
    task.spec = for_file(task, data)
    if calibrate is None:
        return task.predict_file(task.spec.data.test)
    from keras_seq.backtesting import interval_margin
    from keras_seq.data import DataError

    quantiles = task.spec.get("head.quantiles") if task.supports_backtest else None
    if not quantiles:
        raise DataError(
            "--calibrate applies to a time-series forecaster with head.quantiles",
            path=run_dir,
            hint="drop --calibrate, or train a spec with head.quantiles and data.time_column",
        )
    margin = interval_margin(calibrate, quantiles, task.spec.head.horizon)
    return task.predict_file(task.spec.data.test, margin=margin)


def run(args):
    from keras_seq import runs

    if args.output:
        runs.check_writable(args.output, "--output")  # before the work, not after
        runs.check_not_input(args.output, [args.data, args.run_dir])
    text = predict(args.run_dir, args.data, args.calibrate)
    if args.output:
        runs.write_text_atomic(args.output, text)
    elif isinstance(text, bytes):  # Parquet
        sys.stdout.flush()
        sys.stdout.buffer.write(text)
    else:
        print(text, end="")
    return 0
