"""`keras-seq schema`: the spec's JSON schema, or the field reference made from it."""

import json

HELP = "print the spec's JSON schema"


def add_arguments(parser):
    parser.add_argument("--markdown", action="store_true", help="print the field reference")


def run(args):
    from keras_seq.spec.reference import markdown
    from keras_seq.spec.schema import schema

    print(markdown() if args.markdown else json.dumps(schema(), indent=2))
    return 0
