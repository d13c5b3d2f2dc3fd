"""The `search:` section: the spec fields a hyperparameter search varies, checked and applied.

A search names dotted spec fields and a range for each:

```yaml
search:
  space:
    encoder.units: {choice: [32, 64, 128]}
    training.learning_rate: {log_uniform: [1.0e-4, 1.0e-2]}
  objective: val_accuracy
  budget: {trials: 6}
  algorithm: random
```

Every candidate value (each choice, both ends of a range) is put into the spec in place of the
field and the whole spec is validated again, so a misspelt field, a value outside the field's
range or a value that does not fit the rest of the spec (`encoder.activation` on an LSTM) is a
`SpecError` naming the line of the search section, before any trial runs.
"""

import copy

import jsonschema

from keras_seq.spec import schema as spec_schema
from keras_seq.spec.errors import Problem, closest, format_path

RANGES = ("choice", "uniform", "log_uniform", "int")
# Fields a search may not vary: they name the spec, or the search itself.
_FIXED = ("version", "name", "search")
# Words that mark an objective to maximize; everything else (loss, mse, error...) is minimized.
_MAXIMIZED = ("accuracy", "auc", "precision", "recall", "f1", "iou", "r2")
_RANGE = jsonschema.Draft202012Validator(
    {"$defs": spec_schema.ROOT["$defs"], "$ref": "#/$defs/search_range"}
)


def searchable_fields():
    """Dotted paths of every field a search may vary, with their schemas."""
    from keras_seq.spec.reference import fields

    return {
        path: field
        for path, field in fields()
        if path.split(".")[0] not in _FIXED and "properties" not in spec_schema.resolve(field)
    }


def direction(objective, direction="auto"):
    """'min' or 'max' for an objective: the one given, or inferred from the metric's name.

    >>> from keras_seq.spec.search import direction
    >>> direction("val_loss"), direction("val_accuracy"), direction("val_loss", "max")
    ('min', 'max', 'max')
    """
    if direction != "auto":
        return direction
    return "max" if any(word in objective.lower() for word in _MAXIMIZED) else "min"


def set_field(data, dotted, value):
    """`data` (plain spec data, changed in place) with the field at a dotted path set."""
    *sections, name = dotted.split(".")
    node = data
    for section in sections:
        if not isinstance(node.get(section), dict):
            node[section] = {}
        node = node[section]
    node[name] = value
    return data


def trial_data(data, values):
    """A copy of plain spec `data` without its search section, with `values` (dotted -> value)."""
    trial = copy.deepcopy(data)
    trial.pop("search", None)
    for dotted, value in values.items():
        set_field(trial, dotted, value)
    return trial


def search_problems(data, locations):
    """The problems of a spec's `search` section (empty without one), each at its YAML line.

    `data` is the spec as written (no defaults filled), so that each candidate value is checked
    in the spec exactly as a trial will build it.
    """
    search = data.get("search")
    space = search.get("space") if isinstance(search, dict) else None
    if not isinstance(space, dict):
        return []  # absent, or a shape the schema has already reported
    fields = searchable_fields()
    problems = []
    for dotted, where in space.items():
        path = ("search", "space", dotted)
        if dotted not in fields:
            problems.append(_unknown_field(dotted, path, fields, locations))
            continue
        if not _RANGE.is_valid(where):
            continue  # the schema has reported it ($defs.search_range)
        kind, values = next(iter(where.items()))
        found = _range_problems(dotted, kind, values, fields[dotted], path, locations)
        problems.extend(found or _candidate_problems(data, dotted, kind, values, path, locations))
    return problems


def _unknown_field(dotted, path, fields, locations):
    return Problem(
        format_path(path),
        f"{dotted!r} is not a spec field a search can vary",
        *locations.get(path + ("<key>",), (None, None)),
        found=dotted,
        allowed="a dotted field path such as encoder.units or training.learning_rate",
        hint=closest(dotted, fields),
    )


def _range_problems(dotted, kind, values, field, path, locations):
    def problem(message, allowed=None):
        where = locations.get(path + (kind,), (None, None))
        place = format_path(path + (kind,))
        return [Problem(place, message, *where, found=values, allowed=allowed)]

    if kind == "choice":
        return []
    low, high = values
    if not low < high:
        return problem(f"the range [{low}, {high}] is empty", "[low, high] with low < high")
    kinds = _json_types(field)
    if kind == "int" and "integer" not in kinds:
        return problem(f"{dotted} does not take integers", _allowed(field, "choice"))
    if kind != "int" and "number" not in kinds:
        return problem(f"{dotted} does not take real numbers", _allowed(field, "int or choice"))
    return []


def _candidate_problems(data, dotted, kind, values, path, locations):
    """Each choice (or both ends of a range) validated in the spec in place of the field."""
    from keras_seq.spec.validation import check

    baseline = {(p.path, p.message) for p in check(trial_data(data, {}))[0]}
    problems = []
    for index, value in enumerate(values):
        found, _ = check(trial_data(data, {dotted: value}))
        where = locations.get(path + (kind, index), (None, None))
        for problem in found:
            if (problem.path, problem.message) in baseline or not _about(problem.path, dotted):
                # Other fields' problems are left to the trial: in a spec with its defaults
                # filled in (Spec.replace) they are often defaults that no longer apply.
                continue
            problems.append(
                Problem(
                    format_path(path + (kind, index)),
                    f"{dotted} = {value!r}: {problem.path}: {problem.message}",
                    *where,
                    found=value,
                    allowed=problem.allowed,
                    hint=problem.hint,
                )
            )
    return problems


def _about(path, dotted):
    return path == dotted or path.startswith((dotted + ".", dotted + "["))


def _json_types(field):
    field = spec_schema.resolve(field)
    kinds = set()
    for branch in field.get("anyOf", [field]):
        kind = spec_schema.resolve(branch).get("type", [])
        kinds.update(kind if isinstance(kind, list) else [kind])
    return kinds


def _allowed(field, ranges):
    return f"{ranges} (the field takes {spec_schema.allowed_text(field)})"


def sample_value(kind, values, hp, name):
    """The value of one searched field in a trial, drawn through keras-tuner's `hp`.

    Choices of one plain type (all strings, all integers, all numbers, all booleans) are
    registered as themselves; a mixed list (or mappings, null) by position.
    """
    if kind == "choice":
        for plain in (str, bool, int, (int, float)):
            if all(isinstance(v, plain) and (plain is bool) == isinstance(v, bool) for v in values):
                return hp.Choice(name, list(values))
        return values[hp.Choice(name, list(range(len(values))))]
    low, high = values
    if kind == "int":
        return hp.Int(name, low, high)
    sampling = "log" if kind == "log_uniform" else "linear"
    return hp.Float(name, float(low), float(high), sampling=sampling)
