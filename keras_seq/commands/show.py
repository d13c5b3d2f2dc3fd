"""`keras-seq show`: a spec with every default filled in."""

HELP = "print a spec with every default filled in"


def add_arguments(parser):
    parser.add_argument("spec", metavar="SPEC")


def run(args):
    from keras_seq.spec import load_spec

    print(load_spec(args.spec).to_yaml(), end="")
    return 0
