"""`keras-seq debug-data`: a spec's data files checked before training (no backend loads)."""

import json

from keras_seq.commands.overrides import add_set

HELP = "check a spec's data before training: duplicates, overlap, labels, OOV, lengths, series"


def add_arguments(parser):
    parser.add_argument("spec", metavar="SPEC")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    add_set(parser)


def run(args):
    """Prints the figures and findings; exit 1 when there is an error, 0 with warnings."""
    from keras_seq.commands.overrides import load_with_overrides
    from keras_seq.diagnosis import debug_data

    diagnosis = debug_data(load_with_overrides(args.spec, args.set))
    if args.json:
        print(json.dumps(diagnosis.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(diagnosis.text())
    return 1 if diagnosis.errors else 0
