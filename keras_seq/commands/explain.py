"""`keras-seq explain`: why a trained run predicted what it did, as JSON and an HTML page.

Integrated gradients (`keras_seq.explain`) of each prediction for the records of a data file
(read with the run's spec, format from the extension; a forecaster's: every full window),
those predicted wrongly first, up to `--limit`.
"""

HELP = "explain a run's predictions for a file (integrated gradients)"


def add_arguments(parser):
    parser.add_argument("run_dir", metavar="RUN_DIR")
    parser.add_argument("--data", metavar="F", required=True)
    parser.add_argument("--output", metavar="F", help="the JSON (default: standard output)")
    parser.add_argument("--html", metavar="F", help="also write the shaded view here")
    parser.add_argument("--limit", type=int, default=20, help="records explained (default 20)")
    parser.add_argument(
        "--steps", type=int, default=64, help="integration points (default 64; more: exact)"
    )
    parser.add_argument(
        "--step", type=int, help="explain only this output step (token or horizon step)"
    )


def explain(run_dir, data, limit=20, steps=64, step=None):
    """The explanations of a run's predictions for the file `data` (see
    `keras_seq.explain.explain_records`)."""
    from keras_seq.datafiles import for_file
    from keras_seq.explain import explain_records
    from keras_seq.tasks import load

    task = load(run_dir)
    task.spec = for_file(task, data)
    records = task.explain_examples(task.spec.data.test)
    return explain_records(task, records, limit=limit, steps=steps, step=step)


def run(args):
    from keras_seq import runs
    from keras_seq.data import DataError

    for option in ("limit", "steps"):
        if getattr(args, option) < 1:
            raise DataError(f"--{option} is {getattr(args, option)}", hint="give 1 or more")
    for output in (args.output, args.html):
        if output:
            runs.check_writable(output, "--output" if output == args.output else "--html")
            runs.check_not_input(output, [args.data, args.run_dir])
    found = explain(args.run_dir, args.data, args.limit, args.steps, args.step)
    text = runs.finite_json(found)
    if args.html:
        from keras_seq.explain.view import html

        runs.write_text_atomic(args.html, html(found, f"keras-seq explain {args.run_dir}"))
    if args.output:
        runs.write_text_atomic(args.output, text)
    else:
        print(text, end="")
    return 0
