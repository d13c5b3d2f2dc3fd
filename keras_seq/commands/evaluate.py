"""`keras-seq evaluate`: a trained run's model scored on one data file."""

import json

HELP = "print a run's metrics on a file as JSON"


def add_arguments(parser):
    parser.add_argument("run_dir", metavar="RUN_DIR")
    parser.add_argument("--data", metavar="F", required=True)


def evaluate(run_dir, data):
    """`{metric: value}` of a run's model on the file `data` (format from its extension,
    columns from the run's spec; see `keras_seq.tasks.Task.evaluate`)."""
    from keras_seq.datafiles import for_file
    from keras_seq.tasks import load

    task = load(run_dir)
    task.spec = for_file(task, data)
    return task.evaluate(task.spec.data.test)


def run(args):
    metrics = evaluate(args.run_dir, args.data)
    print(json.dumps(metrics, indent=2))
    return 0
