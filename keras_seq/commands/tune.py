"""`keras-seq tune`: a spec's `search:` section run on keras-tuner. The search is
`keras_seq.tune` (`keras_seq.tuning`); this module parses the arguments and prints the outcome."""

from keras_seq.commands.overrides import add_set

HELP = "run a spec's search: section on keras-tuner; write results and the best spec"


def add_arguments(parser):
    parser.add_argument("spec", metavar="SPEC", help="a spec with a search: section")
    parser.add_argument(
        "--output", metavar="DIR", required=True, help="search folder; an existing one resumes"
    )
    add_set(parser)


def run(args):
    from keras_seq.tuning import tune

    best, rows = tune(args.spec, args.output, assignments=args.set)
    done = [row for row in rows if row["status"] == "COMPLETED"]
    print(f"{len(done)} of {len(rows)} trials finished; best spec written to {best}")
    return 0
