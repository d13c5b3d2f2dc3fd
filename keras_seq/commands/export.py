"""`keras-seq export`: a run's graph as SavedModel or ONNX, with `preprocessing.json` and
`model-card.md` beside it."""

import pathlib
import sys

from keras_seq.commands.arguments import positive_int

HELP = "export a run as SavedModel (tensorflow, jax) or ONNX (torch), with its preprocessing"


def add_arguments(parser):
    parser.add_argument("run_dir", metavar="RUN", help="a run folder or a model.keras file")
    parser.add_argument("--format", choices=["saved_model", "onnx"], required=True)
    parser.add_argument(
        "--output", metavar="DIR", help="new folder (default: RUN-FORMAT beside RUN)"
    )
    parser.add_argument(
        "--length",
        type=positive_int,
        metavar="N",
        help="ONNX: the inputs' time length (default: input.max_length)",
    )


def run(args):
    from keras_seq import runs
    from keras_seq.export import ExportError, check_supported, export
    from keras_seq.tasks import load

    run_dir = pathlib.Path(args.run_dir)
    # `export .` names its default folder after the run's real name, not "."
    output = args.output or run_dir.resolve().with_name(f"{run_dir.resolve().stem}-{args.format}")
    try:
        check_supported(args.format)  # before the model loads
        runs.check_free(output)
        metrics = runs.read_metrics(run_dir) if (run_dir / runs.METRICS).is_file() else None
        export(load(run_dir), output, args.format, length=args.length, metrics=metrics)
    except ExportError as error:
        print(f"keras-seq export: {error}", file=sys.stderr)
        return 1
    print(output)
    return 0
