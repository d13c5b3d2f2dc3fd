"""`keras-seq evaluate`: a trained run's model scored on one data file."""

import json

HELP = "print a run's metrics on a file as JSON"


def add_arguments(parser):
    parser.add_argument("run_dir", metavar="RUN_DIR")
    parser.add_argument("--data", metavar="F", required=True)


def evaluate(run_dir, data):
    """`{metric: value}` of a run's model on the file `data` (format from its extension,
    columns from the run's spec; see `keras_seq.tasks.Task.evaluate`).

    A tagger of BIO, BIOES or IOB1 tags adds `entity_types`: per entity type, its
    `precision`, `recall`, `f1`, `support` (gold entities), `predicted` and `correct`
    (`keras_seq.metrics.spans.span_scores`, seqeval's figures), beside the overall
    `entity_precision`, `entity_recall` and `entity_f1`.
    """
    from keras_seq.datafiles import for_file
    from keras_seq.tasks import load

    task = load(run_dir)
    task.spec = for_file(task, data)
    # The file's path, so warnings name it; read and predicted once for scores and tables.
    scores, tables = task.evaluate_with_tables(task.spec.data.test)
    if "entity_f1" in scores:
        scores["entity_types"] = tables["entities"]["types"]
    return scores


def run(args):
    metrics = evaluate(args.run_dir, args.data)
    print(json.dumps(metrics, indent=2))
    return 0
