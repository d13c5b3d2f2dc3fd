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
"""

import sys

HELP = "write a run's predictions for a file"


def add_arguments(parser):
    parser.add_argument("run_dir", metavar="RUN_DIR")
    parser.add_argument("--data", metavar="F", required=True)
    parser.add_argument("--output", metavar="F", help="default: standard output")


def predict(run_dir, data):
    """The text of `data` with a trained run's predictions added, in `data`'s own format."""
    from keras_seq.datafiles import for_file
    from keras_seq.tasks import load

    task = load(run_dir)
    task.spec = for_file(task, data)
    return task.predict_file(task.spec.data.test)


def run(args):
    from keras_seq import runs

    if args.output:
        runs.check_writable(args.output, "--output")  # before the work, not after
        runs.check_not_input(args.output, [args.data, args.run_dir])
    text = predict(args.run_dir, args.data)
    if args.output:
        runs.write_text_atomic(args.output, text)
    elif isinstance(text, bytes):  # Parquet
        sys.stdout.flush()
        sys.stdout.buffer.write(text)
    else:
        print(text, end="")
    return 0
