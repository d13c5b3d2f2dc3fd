"""`keras-seq evaluate`: a trained run's model scored on one data file."""

import json

from keras_seq.commands.overrides import add_set

HELP = "print a run's metrics on a file as JSON"


def add_arguments(parser):
    parser.add_argument("run_dir", metavar="RUN_DIR")
    parser.add_argument("--data", metavar="F", required=True)
    add_set(parser)


def evaluate(run_dir, data, assignments=()):
    """`{metric: value}` of a run's model on the file `data` (format from its extension,
    columns from the run's spec; see `keras_seq.tasks.Task.evaluate`).

    A tagger of BIO, BIOES or IOB1 tags adds `entity_types`: per entity type, its
    `precision`, `recall`, `f1`, `support` (gold entities), `predicted` and `correct`
    (`keras_seq.metrics.spans.span_scores`, seqeval's figures), beside the overall
    `entity_precision`, `entity_recall` and `entity_f1`.

    `assignments` (`--set FIELD=VALUE`) may change `data.*` and `training.*` fields (the
    file's columns, the batch size); the model's own fields are refused, since the trained
    model does not change with them.
    """
    from keras_seq.datafiles import for_file
    from keras_seq.spec.overrides import with_overrides
    from keras_seq.tasks import load

    task = load(run_dir)
    task.spec = with_overrides(for_file(task, data), _for_evaluation(assignments))
    # The file's path, so warnings name it; read and predicted once for scores and tables.
    scores, tables = task.evaluate_with_tables(task.spec.data.test)
    if "entity_f1" in scores:
        scores["entity_types"] = tables["entities"]["types"]
    return scores


def _for_evaluation(assignments):
    """`assignments`, once each names a `data.` or `training.` field; else a `SpecError`."""
    from keras_seq.spec import Problem, SpecError

    for assignment in assignments:
        field = assignment.partition("=")[0].strip()
        if not field.startswith(("data.", "training.")):
            problem = Problem(
                field,
                "evaluate scores the trained model, which this field would not change",
                found=assignment,
                allowed="data.* or training.* fields (train again to change the model)",
            )
            raise SpecError([problem], f"--set {assignment}")
    return assignments


def run(args):
    metrics = evaluate(args.run_dir, args.data, args.set)
    print(json.dumps(metrics, indent=2))
    return 0
