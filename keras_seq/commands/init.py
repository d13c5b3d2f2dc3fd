"""`keras-seq init DATA_FILE`: a commented starter spec for a data file, guessed from its
content. The guessing and the spec's text are `keras_seq.starter`; this module parses the
arguments, writes the file and prints where."""

import pathlib
import sys

from keras_seq.starter import TASKS, guess, spec_name, spec_text

HELP = "write a starter spec for a data file (format, task and columns guessed)"


def add_arguments(parser):
    parser.add_argument(
        "data", metavar="DATA_FILE", help="a .conllu, .conll (token columns), .csv or .jsonl file"
    )
    parser.add_argument("--task", choices=TASKS, help="default: guessed from the columns")
    parser.add_argument("--input-column", metavar="NAME", help="text / tokens / source column")
    parser.add_argument("--target-column", metavar="NAME", help="label / tags / target column")
    parser.add_argument("--delimiter", metavar="C", help="CSV field separator (default: sniffed)")
    parser.add_argument("--time-column", metavar="NAME", help="forecaster: the column of times")
    parser.add_argument(
        "--series-id-column", metavar="NAME", help="forecaster: the column naming each series"
    )
    parser.add_argument(
        "--output", metavar="SPEC", help="where to write the spec (default: DATA_STEM.yaml)"
    )


def run(args):
    from keras_seq.runs import write_text_atomic
    from keras_seq.spec import load_spec

    output = pathlib.Path(args.output or f"{spec_name(pathlib.Path(args.data))}.yaml")
    if output.exists():
        print(f"{output} already exists: choose another --output", file=sys.stderr)
        return 1
    guessed = guess(
        args.data,
        args.task,
        args.input_column,
        args.target_column,
        args.delimiter,
        args.time_column,
        args.series_id_column,
    )
    text = spec_text(guessed, args.data, output)
    load_spec(text)  # never write a spec that does not validate
    output.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(output, text)
    print(f"wrote {output}: a {guessed['task']} for {args.data}")
    return 0
