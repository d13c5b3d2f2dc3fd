"""`keras-seq export`: a run's graph as SavedModel or ONNX, with `preprocessing.json` and
`model-card.md` beside it.

The arguments are checked before any backend loads (the run folder, a free output, ONNX's
time length from the run's `spec.yaml`). A format the current backend cannot write is exported
in a child process of one that can (`keras_seq.exporting.SUPPORTED`): the run's `model.keras`
loads on every backend.
"""

import os
import pathlib
import subprocess
import sys

from keras_seq.commands.arguments import positive_int

HELP = "export a run as SavedModel or ONNX, with its preprocessing (any training backend)"


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


def _check(run_dir, output, args):
    """What can be refused without a backend: a missing run, a taken output and, when the
    run's `spec.yaml` says, an ONNX export without a time length."""
    from keras_seq import runs
    from keras_seq.data.errors import DataError
    from keras_seq.exporting import time_lengths
    from keras_seq.spec import load_spec

    if not run_dir.exists():
        hint = "give a folder written by `keras-seq train`, or its model.keras"
        raise DataError("no such run folder or model file", path=run_dir, hint=hint)
    runs.check_free(output)
    if args.format == "onnx" and (run_dir / runs.SPEC).is_file():
        time_lengths(load_spec(run_dir / runs.SPEC), args.length)


def _export_in(backend, run_dir, output, args):
    """Runs this export in a child process on `backend`; returns its exit status."""
    command = [sys.executable, "-m", "keras_seq.cli", "export", str(run_dir)]
    command += ["--format", args.format, "--output", str(output)]
    command += ["--length", str(args.length)] if args.length else []
    command += ["--verbose"] if args.verbose else []
    env = {**os.environ, "KERAS_BACKEND": backend}
    try:  # the real standard error: the CLI points file descriptor 2 at /dev/null
        errors = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # a stream without one (a test's capture)
        errors = None
    return subprocess.run(command, env=env, stderr=errors, check=False).returncode


def run(args):
    from keras_seq.exporting import ExportError, current_backend, exporting_backend

    run_dir = pathlib.Path(args.run_dir)
    # `export .` names its default folder after the run's real name, not "."
    output = args.output or run_dir.resolve().with_name(f"{run_dir.resolve().stem}-{args.format}")
    try:
        _check(run_dir, output, args)
        backend = exporting_backend(args.format)
        if backend != current_backend():
            print(
                f"keras-seq export: the {current_backend()} backend cannot write "
                f"{args.format}; exporting on {backend}",
                file=sys.stderr,
            )
            sys.stderr.flush()
            return _export_in(backend, run_dir, output, args)
        _export_here(run_dir, output, args)
    except ExportError as error:
        print(f"keras-seq export: {error}", file=sys.stderr)
        return 1
    print(output)
    return 0


def _export_here(run_dir, output, args):
    from keras_seq import runs
    from keras_seq.export import export
    from keras_seq.tasks import load

    metrics = runs.read_metrics(run_dir) if (run_dir / runs.METRICS).is_file() else None
    export(load(run_dir), output, args.format, length=args.length, metrics=metrics)
