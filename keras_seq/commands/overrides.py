"""`--set FIELD=VALUE`, shared by every command that reads a spec: the assignments read as
YAML, applied to the spec and validated again, each problem naming its `--set` argument."""


def add_set(parser):
    """Adds the repeatable `--set FIELD=VALUE` option to a command's parser."""
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a spec field, e.g. --set encoder.units=128 (repeatable; validated)",
    )


def load_with_overrides(source, assignments):
    """The spec at `source` (a path or YAML text) with the `--set` `assignments` applied
    (`keras_seq.spec.overrides`)."""
    from keras_seq.spec import load_spec
    from keras_seq.spec.overrides import with_overrides

    return with_overrides(load_spec(source), assignments)
