"""`keras-seq show`: a spec with every default filled in."""

from keras_seq.commands.overrides import add_set

HELP = "print a spec with every default filled in"


def add_arguments(parser):
    parser.add_argument("spec", metavar="SPEC")
    add_set(parser)


def run(args):
    from keras_seq.commands.overrides import load_with_overrides

    print(load_with_overrides(args.spec, args.set).to_yaml(), end="")
    return 0
