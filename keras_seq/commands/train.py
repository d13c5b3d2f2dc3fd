"""`keras-seq train`: a spec and its data to a complete run folder (see `keras_seq.runs`).

The command reads its arguments, applies `--set`, and prints; the training itself is
`keras_seq.train` (`keras_seq.pipeline`).
"""

import sys

from keras_seq.commands.arguments import positive_int
from keras_seq.commands.overrides import add_set, load_with_overrides

HELP = "train a spec's model; write a run folder"


def add_arguments(parser):
    parser.add_argument("spec", metavar="SPEC", nargs="?", help="the spec (not with --resume)")
    parser.add_argument(
        "--resume", metavar="DIR", help="continue an interrupted run from its last checkpoint"
    )
    for split in ("train", "validation", "test"):
        parser.add_argument(f"--{split}", metavar="F", help=f"default: data.{split}")
    parser.add_argument("--epochs", type=positive_int, metavar="N", help="default: training.epochs")
    parser.add_argument("--output", metavar="DIR", help="run folder (default: runs/NAME-TIME)")
    add_set(parser)
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="validate, read and check all data, build the model and print its summary; no "
        "training",
    )


def dry_run_report(task, encoded):
    """What `train --dry-run` prints: the model summary, the data sizes and parameters."""
    from keras_seq.report import data_figures

    lines = []
    task.model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    lines.append("data:")
    for split, data in encoded.items():
        figures = ", ".join(f"{k} {_plain(v)}" for k, v in data_figures(data.stats).items())
        lines.append(f"  {split}: {figures}")
    for name in ("vocab", "labels"):
        if name in task.state:
            lines.append(f"{name}: {len(task.state[name])} entries")
    lines.append(f"parameters: {task.model.count_params():,}")
    lines.append("dry run: nothing trained, nothing written")
    return "\n".join(lines)


def _plain(value):
    return f"{value:.3f}" if isinstance(value, float) else f"{value:,}"


def summary(path, metrics):
    """`run saved to PATH: test accuracy 0.934, loss 0.210` (the last split scored)."""
    split = next(s for s in ("test", "validation", "train") if s in metrics)
    names = sorted(metrics[split], key=lambda name: name == "loss")
    scores = ", ".join(f"{name} {_score(metrics[split][name])}" for name in names)
    return f"run saved to {path}: {split} {scores}"


def _score(value):
    return "null" if value is None else f"{value:.3f}"


def run(args):
    from keras_seq import pipeline, record, runs
    from keras_seq.training import NonFiniteLoss

    if (args.spec is None) == (args.resume is None):
        print("keras-seq train: give a SPEC, or --resume DIR (not both)", file=sys.stderr)
        return 2
    try:
        if args.resume:
            refused = _not_for_resume(args)
            if refused:
                print(refused, file=sys.stderr)
                return 2
            result = pipeline.resume(args.resume, epochs=args.epochs)
        else:
            spec = load_with_overrides(args.spec, args.set)
            files = {"train": args.train, "validation": args.validation, "test": args.test}
            if args.dry_run:
                task, encoded = pipeline.dry_run(spec, epochs=args.epochs, **files)
                print(dry_run_report(task, encoded))
                return 0
            result = pipeline.train(spec, output=args.output, epochs=args.epochs, **files)
    except NonFiniteLoss as error:
        print(f"keras-seq train: {error}{_kept(runs.RunFolder.last_kept)}", file=sys.stderr)
        return 3
    except (KeyboardInterrupt, SystemExit) as stop:
        code = 130 if isinstance(stop, KeyboardInterrupt) else stop.code
        if code not in (130, 143):
            raise
        word = "interrupted" if code == 130 else "terminated"
        print(f"keras-seq train: {word}{_kept(runs.RunFolder.last_kept)}", file=sys.stderr)
        return code
    print(record.line(result.record))
    print(summary(result.folder, result.metrics))
    return 0


def _not_for_resume(args):
    """The message refusing options `--resume` cannot apply (the run's spec, data and folder
    are its checkpoint's), or None; `--epochs` applies (it extends or shortens the run)."""
    given = [
        option
        for option, value in (
            ("--set", args.set),
            ("--train", args.train),
            ("--validation", args.validation),
            ("--test", args.test),
            ("--output", args.output),
            ("--dry-run", args.dry_run),
        )
        if value
    ]
    if not given:
        return None
    return (
        f"keras-seq train: {', '.join(given)} cannot be used with --resume: a resumed run keeps "
        "the spec, data and folder of its checkpoint. Fix: drop them (--epochs N may change "
        "the number of epochs), or start a new run: keras-seq train SPEC"
    )


def _kept(folder):
    if folder is None:
        return "; no run folder was written"
    return f"; {folder} holds the last epoch's checkpoint: keras-seq train --resume {folder}"
