"""`keras-seq ensemble`: runs of one spec trained apart (seeds apart, on other cores or
machines), combined into one run folder whose model returns the mean of theirs, scored on the
spec's data as `keras-seq train` scores a run (`keras_seq.pipeline.combine`)."""

HELP = "combine runs of one spec trained with different seeds into one averaged model"


def add_arguments(parser):
    parser.add_argument("runs", nargs="+", metavar="RUN", help="two or more run folders")
    parser.add_argument("--output", metavar="DIR", help="new run folder (default: runs/NAME-TIME)")


def run(args):
    from keras_seq import pipeline
    from keras_seq.commands.train import summary
    from keras_seq.progress import duration

    result = pipeline.combine(args.runs, output=args.output)
    walls = result.record["members_wall_seconds"]
    trained = ", ".join("?" if s is None else duration(s) for s in walls)
    print(f"combined {len(args.runs)} runs (trained in {trained}) on {result.record['backend']}")
    print(summary(result.folder, result.metrics))
    return 0
