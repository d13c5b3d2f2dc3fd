"""`FIELD=VALUE` assignments (the command line's `--set`) applied to a spec: values read as
YAML, the spec validated again, each problem naming the assignment that caused it.

>>> from keras_seq.spec import load_spec
>>> from keras_seq.spec.overrides import with_overrides
>>> spec = load_spec("{input: {kind: tokens}, encoder: {cell: gru, units: 8}, head: {type: none}}")
>>> with_overrides(spec, ["encoder.units=16"]).encoder.units
16
"""

from keras_seq.spec.errors import Problem, SpecError
from keras_seq.spec.yaml_source import read_yaml


def parse_assignments(assignments):
    """`["encoder.units=128", ...]` as `{"encoder.units": 128}` (values read as YAML).

    Raises:
        keras_seq.SpecError: an assignment without `=`, or whose value is not YAML.
    """
    changes = {}
    for assignment in assignments:
        field, equals, text = assignment.partition("=")
        if not equals or not field.strip():
            raise SpecError(
                [
                    Problem(
                        "",
                        "expected FIELD=VALUE",
                        found=assignment,
                        allowed="e.g. encoder.units=128",
                    )
                ],
                f"--set {_shortened(assignment)}",
            )
        try:
            value = read_yaml(text, f"--set {_shortened(assignment)}")[0] if text.strip() else None
        except SpecError as error:
            raise SpecError(error.problems, f"--set {_shortened(assignment)}") from None
        changes[field.strip()] = value
    return changes


def _shortened(text, limit=80):
    """A command-line argument as messages show it: at most `limit` characters."""
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def with_overrides(spec, assignments):
    """`spec` with `--set` assignments applied and re-validated; each problem the changes
    cause names its --set argument."""
    changes = parse_assignments(assignments)
    if not changes:
        return spec
    try:
        return spec.replace(changes)
    except SpecError as error:
        origin = {field: f"--set {_shortened(a)}" for field, a in zip(changes, assignments)}
        problems = []
        for problem in error.problems:
            source = next(
                (origin[f] for f in origin if problem.path == f or problem.path.startswith(f)),
                None,
            )
            message = f"{problem.message} (from {source})" if source else problem.message
            problems.append(Problem(**{**problem.to_dict(), "message": message}))
        raise SpecError(problems, "--set") from None
