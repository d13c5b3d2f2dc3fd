"""Check plain spec data against the schema and fill in the defaults.

Every problem is collected (schema errors, then cross-field rules) so the user sees them all
at once; defaults are only filled into data that has none.
"""

import copy
import math

import jsonschema

from keras_seq.spec import schema as spec_schema
from keras_seq.spec.errors import Problem, closest, format_path
from keras_seq.spec.search import search_problems

_VALIDATOR = jsonschema.Draft202012Validator(spec_schema.ROOT)
_DEFS = spec_schema.ROOT["$defs"]


def check(data, locations=None):
    """Return (problems, resolved): `resolved` is `data` with every applicable default filled."""
    locations = locations or {}
    if not isinstance(data, dict):
        return [
            Problem(
                "",
                f"a spec must be a mapping of sections, found {_kind(data)}",
                *locations.get((), (None, None)),
                allowed="input, encoder, head, and optionally training and data",
            )
        ], None
    problems = []
    for error in sorted(_VALIDATOR.iter_errors(data), key=lambda e: list(map(str, e.path))):
        problems.extend(_explain(error, locations))
    resolved = copy.deepcopy(data)
    _normalize_schedule(resolved)
    _walk(spec_schema.ROOT, resolved, (), problems, locations)
    problems.extend(_cross_section_rules(resolved, locations))
    problems.extend(search_problems(data, locations))
    problems = _unique(problems)
    problems.sort(key=lambda p: (p.line or 0, p.column or 0, p.path))
    return problems, (None if problems else resolved)


def _problem(path, message, locations, key_location=False, **details):
    where = locations.get(tuple(path) + ("<key>",)) if key_location else None
    where = where or _nearest_location(path, locations)
    return Problem(format_path(path), message, *where, **details)


def _nearest_location(path, locations):
    path = tuple(path)
    while path and path not in locations:
        path = path[:-1]
    return locations.get(path, (None, None))


def _explain(error, locations):
    """Turn one jsonschema error into problems that say what is wrong and how to fix it."""
    explain = _EXPLAINERS.get(error.validator, _explain_other)
    return explain(error, list(error.absolute_path), locations)


def _explain_branches(error, path, locations):
    """anyOf / oneOf: the fitting branch's errors, or "not valid here" with every choice."""
    branch_errors = _errors_of_matching_branch(error)
    if branch_errors:
        return [p for e in branch_errors for p in _explain(e, locations)]
    value = error.instance
    hint = closest(value, _constants(error.schema)) if isinstance(value, str) else None
    return [
        _problem(
            path,
            f"{_show(value)} is not valid here",
            locations,
            found=value,
            allowed=spec_schema.allowed_text(error.schema),
            hint=hint,
        )
    ]


def _explain_unknown_fields(error, path, locations):
    known = list(error.schema.get("properties", {}))
    return [
        _problem(
            path + [key],
            f"unknown field {key!r}",
            locations,
            key_location=True,
            found=key,
            allowed=", ".join(known),
            hint=closest(key, known),
        )
        for key in error.instance
        if key not in known
    ]


def _explain_required(error, path, locations):
    return [
        _problem(
            path + [name],
            f"missing required field {name!r}",
            locations,
            allowed=_field_help(error.schema, name),
        )
        for name in error.validator_value
        if name not in error.instance
    ]


def _explain_enum(error, path, locations):
    value = error.instance
    return [
        _problem(
            path,
            f"{_show(value)} is not one of the choices",
            locations,
            found=value,
            allowed=spec_schema.allowed_text(error.schema),
            hint=closest(value, error.validator_value),
        )
    ]


def _explain_const(error, path, locations):
    value = error.instance
    message = f"{_show(value)} is not supported"
    return [_problem(path, message, locations, found=value, allowed=_show(error.validator_value))]


def _explain_type(error, path, locations):
    value = error.instance
    expected = spec_schema.allowed_text(error.schema)
    message = f"expected {expected}, found {_show(value)} ({_kind(value)})"
    return [_problem(path, message, locations, found=value)]


def _explain_range(error, path, locations):
    value = error.instance
    allowed = spec_schema.allowed_text(error.schema)
    return [
        _problem(path, f"{_show(value)} is out of range", locations, found=value, allowed=allowed)
    ]


def _explain_empty(error, path, locations):
    return [_problem(path, "must not be empty", locations, found=error.instance)]


def _explain_too_long(error, path, locations):
    return [_problem(path, f"is longer than {error.validator_value} characters", locations)]


def _explain_pattern(error, path, locations):
    value = error.instance
    allowed = error.schema.get("x-pattern-help", f"text matching {error.validator_value}")
    return [
        _problem(
            path, f"{_show(value)} is not allowed here", locations, found=value, allowed=allowed
        )
    ]


def _explain_too_many(error, path, locations):
    return [_problem(path, f"has more than {error.validator_value} items", locations)]


def _explain_other(error, path, locations):
    return [_problem(path, error.message, locations, found=error.instance)]


# jsonschema validator keyword -> the function that explains its error.
_EXPLAINERS = {
    "anyOf": _explain_branches,
    "oneOf": _explain_branches,
    "additionalProperties": _explain_unknown_fields,
    "required": _explain_required,
    "enum": _explain_enum,
    "const": _explain_const,
    "type": _explain_type,
    "minimum": _explain_range,
    "maximum": _explain_range,
    "exclusiveMinimum": _explain_range,
    "exclusiveMaximum": _explain_range,
    "minLength": _explain_empty,
    "minItems": _explain_empty,
    "maxLength": _explain_too_long,
    "pattern": _explain_pattern,
    "maxItems": _explain_too_many,
}


def _errors_of_matching_branch(error):
    """For anyOf: the errors of the one branch whose JSON type fits the value, if any."""
    by_branch = {}
    for sub in error.context:
        by_branch.setdefault(sub.relative_schema_path[0], []).append(sub)
    fitting = [
        errors
        for errors in by_branch.values()
        if not any(e.validator in ("type", "const", "enum") and not e.relative_path for e in errors)
    ]
    return fitting[0] if len(fitting) == 1 else None


def _constants(field_schema):
    values = list(field_schema.get("enum", ()))
    if "const" in field_schema:
        values.append(field_schema["const"])
    for branch in field_schema.get("anyOf", ()):
        values.extend(_constants(spec_schema.resolve(branch)))
    return [v for v in values if isinstance(v, str)]


def _field_help(object_schema, name):
    field = object_schema.get("properties", {}).get(name, {})
    return f"{spec_schema.allowed_text(field)} ({field.get('description', '')})".strip()


def _normalize_schedule(data):
    training = data.get("training")
    if not isinstance(training, dict):
        return
    schedule = training.get("schedule")
    if isinstance(schedule, str):
        schedule = training["schedule"] = {"type": schedule}
    if isinstance(schedule, dict) and schedule.get("type") == "none" and len(schedule) == 1:
        training["schedule"] = None


def fill_section(node_schema, values, path=()):
    """`values` (a dict, changed in place) with the schema's applicable defaults filled in.

    Returns the problems found (fields that do not apply, required ones missing).
    """
    problems = []
    _walk(node_schema, values, tuple(path), problems, {})
    return problems


def _walk(node_schema, value, path, problems, locations):
    """Check x-applies-when / x-required-when and fill defaults, depth first."""
    if isinstance(value, float) and not math.isfinite(value):
        if not any(problem.path == format_path(path) for problem in problems):
            problems.append(
                _problem(
                    path,
                    f"{value} is not a finite number",
                    locations,
                    found=value,
                    allowed=spec_schema.allowed_text(node_schema),
                )
            )
        return
    node_schema = spec_schema.resolve(node_schema, value)
    if isinstance(value, str):
        problems.extend(_check_name(node_schema, value, path, locations))
        return
    if isinstance(value, list) and isinstance(node_schema.get("items"), dict):
        for index, item in enumerate(value):
            _walk(node_schema["items"], item, path + (index,), problems, locations)
        return
    if not isinstance(value, dict) or "properties" not in node_schema:
        return
    fields = node_schema["properties"]
    problems.extend(_copy_spellings(fields, value, path, locations))
    siblings = _siblings(fields, value)
    for name, field in fields.items():
        branch = _branch(field, value[name]) if name in value else {}
        rule = next((r for r in (branch, field) if not spec_schema.applies(r, siblings)), None)
        if name in value and rule is not None:
            problems.append(
                _not_applying(name, value[name], field, rule, siblings, path, locations)
            )
        elif name not in value and spec_schema.required(field, siblings):
            problems.append(
                _problem(
                    path + (name,),
                    f"missing field {name!r}, required when "
                    f"{spec_schema.describe_condition(field, format_path(path))}",
                    locations,
                    allowed=_field_help(node_schema, name),
                )
            )
        elif name not in value and spec_schema.applies(field, siblings):
            default = _default_branch(field, siblings)
            if default is not None:
                value[name] = spec_schema.default_of(default)
    for name, item in value.items():
        if name in fields:
            _walk(fields[name], item, path + (name,), problems, locations)


def _default_branch(field_schema, siblings):
    """The schema whose `default` fills a missing field: the field's own, where the `anyOf`
    branch of that default applies, else the first applying branch with a default of its own
    (`data.tokens_column`: a name for csv, an index for conll); None when there is none."""
    if "default" in field_schema:
        if spec_schema.applies(_branch(field_schema, field_schema["default"]), siblings):
            return field_schema
    return next(
        (
            branch
            for branch in field_schema.get("anyOf", ())
            if "default" in branch and spec_schema.applies(branch, siblings)
        ),
        None,
    )


def _branch(field_schema, value):
    """The `anyOf` branch of a field that `value` is valid against ({} if none).

    A branch may carry its own `x-applies-when` (`head.decoder`: a mapping for seq2seq, a
    string for taggers) and `x-same-as` (the field it is another spelling of)."""
    for branch in field_schema.get("anyOf", ()):
        if jsonschema.Draft202012Validator({**branch, "$defs": _DEFS}).is_valid(value):
            return branch
    return {}


def _not_applying(name, value, field, rule, siblings, path, locations):
    """A field (or, when `rule` is one of its `anyOf` branches, a kind of value) given where
    its `x-applies-when` fails: says when it applies, and how to get there."""
    shown = repr(name)
    if rule is not field:
        shown = f"{name!r} as a mapping" if isinstance(value, dict) else f"'{name}: {value}'"
    prefix = f"{format_path(path)}." if path else ""
    fixes = " and ".join(
        f"{prefix}{sibling}: {' or '.join(map(str, values))}"
        for sibling, values in rule["x-applies-when"].items()
    )
    allowed = f"remove {name!r}, or set {fixes}"
    for other in field.get("anyOf", ()) if rule is not field else ():
        if other is not rule and spec_schema.applies(other, siblings):
            kind = ", ".join(other["properties"]) if "properties" in other else None
            kind = f"a mapping of {kind}" if kind else spec_schema.allowed_text(other)
            allowed += f"; here {name!r} is {kind} ({other['description']})"
    return _problem(
        path + (name,),
        f"{shown} applies only when {spec_schema.describe_condition(rule, format_path(path))}",
        locations,
        key_location=True,
        found=value,
        allowed=allowed,
    )


def drop_stale_defaults(data, changed, node_schema=None, path=()):
    """Removes from `data` (in place) each field that holds its default but no longer applies
    next to its siblings, unless its dotted path is in `changed`.

    `Spec.replace` changes a spec whose defaults are all filled in; after
    `{"head.output": "softmax"}`, the CRF-only `head.crf_constraints` default would otherwise
    read as a field the user wrote where it does not apply.
    """
    node_schema = spec_schema.resolve(
        spec_schema.ROOT if node_schema is None else node_schema, data
    )
    if not isinstance(data, dict) or "properties" not in node_schema:
        return
    fields = node_schema["properties"]
    siblings = _siblings(fields, data)
    for name in [n for n in data if n in fields]:
        field, dotted = fields[name], format_path(path + (name,))
        stale = not spec_schema.applies(field, siblings) and data[name] == field.get("default")
        if stale and dotted not in changed:
            del data[name]
        elif name in data:
            drop_stale_defaults(data[name], changed, field, path + (name,))


def _siblings(fields, value):
    """Each field of a section: its value, else its default (what `x-applies-when` reads)."""
    return {name: value.get(name, field.get("default")) for name, field in fields.items()}


def _copy_spellings(fields, value, path, locations):
    """Fields written in another field's spelling (`x-same-as`: `head.decoder: crf` for
    `head.output: crf`) set that field; both given and differing is a problem."""
    problems = []
    siblings = _siblings(fields, value)
    for name, field in fields.items():
        branch = _branch(field, value[name]) if name in value else {}
        target = branch.get("x-same-as")
        if target is None or not spec_schema.applies(branch, siblings):
            continue
        if value.get(target, value[name]) != value[name]:
            problems.append(
                _problem(
                    path + (name,),
                    f"{name}: {value[name]} is another spelling of "
                    f"{format_path(path + (target,))}, which says {value[target]}",
                    locations,
                    key_location=True,
                    found=value[name],
                    allowed=f"one of {name!r} and {target!r}, or both alike",
                )
            )
        else:
            value[target] = value[name]
    return problems


def _cross_section_rules(data, locations):
    """Rules that link sections; each is stated in the field's schema description."""
    problems = []
    head = data.get("head") or {}
    source = data.get("input") or {}
    if head.get("type") == "forecaster" and source.get("kind") == "tokens":
        problems.append(
            _problem(
                ("input", "kind"),
                "a forecaster predicts numbers from numeric features",
                locations,
                found="tokens",
                allowed="features (with input.dim)",
            )
        )
    problems.extend(_monitor_rules(data, locations))
    problems.extend(_quantile_rules(head, locations))
    problems.extend(_target_rules(data, locations))
    problems.extend(_path_rules(data, locations))
    problems.extend(_ensemble_rules(data, locations))
    # input.chars / vectors / shape_features: the heads each is wired into (their descriptions).
    for field, heads in (
        ("chars", ("tagger", "classifier")),
        ("vectors", ("tagger", "classifier", "seq2seq")),
        ("shape_features", ("tagger", "classifier")),
    ):
        if source.get(field) not in (None, False) and head.get("type") not in heads:
            names = ", ".join(heads[:-1]) + " and " + heads[-1]
            problems.append(
                _problem(
                    ("input", field),
                    f"input.{field} is read only by {names} heads",
                    locations,
                    key_location=True,
                    found=f"head.type {head.get('type')}",
                    allowed=f"remove input.{field}, or use one of those heads",
                )
            )
    return problems


def _ensemble_rules(data, locations):
    """`training.ensemble` averages the model's outputs: not a CRF's or a decoder's, whose
    predictions are searched outside them, and with one share of the correction kept for
    all members, not one each (its description)."""
    training, head = data.get("training") or {}, data.get("head") or {}
    if not isinstance(training.get("ensemble"), int) or training["ensemble"] < 2:
        return []
    count = training["ensemble"]
    if head.get("shrink") == "validation":
        return [
            _problem(
                ("training", "ensemble"),
                "each member would choose its own head.shrink share on validation windows",
                locations,
                found=f"ensemble {count} with head.shrink validation",
                allowed="head.shrink none or a share in [0, 1], or training.ensemble: 1",
            )
        ]
    decoded = head.get("output") == "crf" or head.get("decoder") == "crf"
    if head.get("type") != "seq2seq" and not decoded:
        return []
    found = "head.type seq2seq" if head.get("type") == "seq2seq" else "head.output crf"
    return [
        _problem(
            ("training", "ensemble"),
            "an ensemble averages the model's outputs, and this head decodes outside them",
            locations,
            found=f"ensemble {count} with {found}",
            allowed="training.ensemble: 1, or a softmax tagger, a classifier or a forecaster",
        )
    ]


def _check_name(field_schema, value, path, locations):
    """A string field with `x-names` (a Keras optimizer, loss, metric or initializer name)
    must be one of them; the lists are in the schema so that validation imports no Keras."""
    names = field_schema.get("x-names")
    if names is None:
        strings = [b for b in field_schema.get("anyOf", ()) if b.get("type") == "string"]
        names = strings[0].get("x-names") if strings else None
    if names is None:
        return []
    found = value.lower() if field_schema.get("x-case-insensitive") else value
    if found in names:
        return []
    return [
        _problem(
            path,
            f"{value!r} is not a name Keras knows here",
            locations,
            found=value,
            allowed=_some(names),
            hint=closest(found, names),
        )
    ]


def _some(names, count=16):
    """A list of names short enough for a message: the lowercase spellings, then `...`."""
    plain = [name for name in names if name == name.lower()]
    shown = ", ".join(plain[:count])
    return shown + (", ... (`keras-seq schema` lists all)" if len(plain) > count else "")


def logged_names(data):
    """The names a (resolved) spec's training will log: `loss`, each metric as written in
    `training.metrics` (or the head's defaults: `x-head-defaults` in the schema, or
    `x-output-defaults` for its `head.output`), each of those with `val_` (validation data is
    only known at training time, so it is allowed), and the head's own validation scores
    (`x-head-validation-scores`, with `val_`)."""
    training = data.get("training") or {}
    head = data.get("head") or {}
    field = _TRAINING_FIELDS["metrics"]
    metrics = training.get("metrics")
    if metrics is None:
        metrics = field["x-head-defaults"].get(head.get("type")) or []
        metrics = field["x-output-defaults"].get(head.get("output"), metrics)
    names = ["loss"] + [m for m in metrics if isinstance(m, str)]
    own = field["x-head-validation-scores"].get(head.get("type"), [])
    return names + [f"val_{name}" for name in [*names, *own]]


_TRAINING_FIELDS = spec_schema.ROOT["properties"]["training"]["properties"]


# The fields that name files (made absolute, relative to the spec, when it loads).
PATH_FIELDS = (
    ("data", "train"),
    ("data", "validation"),
    ("data", "test"),
    ("data", "vocabulary"),
    ("input", "vectors", "path"),
)


def path_field_owner(data, path):
    """The mapping in `data` that holds the last key of `path` (a `PATH_FIELDS` entry), or
    None where a section on the way is absent."""
    owner = data
    for key in path[:-1]:
        owner = owner.get(key) if isinstance(owner, dict) else None
    return owner if isinstance(owner, dict) else None


def _path_rules(data, locations):
    """A file name cannot hold a NUL character (the operating system refuses it)."""
    problems = []
    for path in PATH_FIELDS:
        value = (path_field_owner(data, path) or {}).get(path[-1])
        if isinstance(value, str) and "\x00" in value:
            problems.append(
                _problem(
                    path,
                    "a file name cannot hold a NUL character",
                    locations,
                    found=value,
                    allowed="a path to a file",
                )
            )
    return problems


def _target_rules(data, locations):
    """`training.loss` and `training.metrics` must fit the head's targets (`x-head-names` in
    the schema); names Keras does not know are reported by the name check instead."""
    training = data.get("training")
    if not isinstance(training, dict):
        return []
    head = (data.get("head") or {}).get("type")
    metrics = training.get("metrics")
    chosen = [(("training", "loss"), "loss", training.get("loss"))]
    if isinstance(metrics, list):
        chosen += [(("training", "metrics", i), "metrics", m) for i, m in enumerate(metrics)]
    problems = []
    for path, name, value in chosen:
        field = _TRAINING_FIELDS[name]
        names = field["x-head-names"].get(head)
        known = field["x-names"] if name == "loss" else field["items"]["x-names"]
        if names is None or value in names or value not in known:
            continue
        problems.append(
            _problem(
                path,
                f"{value!r} does not fit a {head}'s targets (integer class ids)",
                locations,
                found=value,
                allowed=", ".join(names) + f" (or no training.{name}: the head's default)",
            )
        )
    return problems


def _monitor_rules(data, locations):
    training = data.get("training")
    if not isinstance(training, dict):
        return []
    watched = []
    stopping = training.get("early_stopping")
    if isinstance(stopping, dict):
        watched.append((("training", "early_stopping", "monitor"), stopping.get("monitor")))
    schedule = training.get("schedule")
    if isinstance(schedule, dict) and schedule.get("type") == "plateau":
        watched.append((("training", "schedule", "monitor"), schedule.get("monitor")))
    names = logged_names(data)
    search = data.get("search")
    if isinstance(search, dict) and not _VARIES_LOGGED.intersection(search.get("space") or {}):
        # A trial's objective is a key of its run's scores: the logged names, and the train
        # split's own scores (`x-head-validation-scores` without `val_`).
        watched.append((("search", "objective"), search.get("objective", "val_loss")))
        own = _TRAINING_FIELDS["metrics"]["x-head-validation-scores"]
        names = names + own.get((data.get("head") or {}).get("type"), [])
    return [
        _problem(
            path,
            f"{monitor!r} is not a name the model will log",
            locations,
            found=monitor,
            allowed=", ".join(names),
            hint=closest(monitor, names),
        )
        for path, monitor in watched
        if isinstance(monitor, str) and monitor not in names
    ]


# Searched fields that change the names a trial logs: its objective is then checked per trial.
_VARIES_LOGGED = {"training.metrics", "head.type", "head.output"}


def _quantile_rules(head, locations):
    """`head.quantiles` strictly increasing: the pinball loss keeps its outputs in that order
    (training refuses any other)."""
    quantiles = head.get("quantiles")
    if not isinstance(quantiles, list) or not all(
        isinstance(q, (int, float)) and not isinstance(q, bool) for q in quantiles
    ):
        return []  # absent, or a type the schema has reported
    if all(a < b for a, b in zip(quantiles, quantiles[1:])):
        return []
    return [
        _problem(
            ("head", "quantiles"),
            "quantiles must be strictly increasing",
            locations,
            found=quantiles,
            allowed=f"the same values in increasing order: {sorted(set(quantiles))}",
        )
    ]


def _unique(problems):
    seen, result = set(), []
    for problem in problems:
        key = (problem.path, problem.message)
        if key not in seen:
            seen.add(key)
            result.append(problem)
    return result


def _show(value, limit=60):
    """A value as messages quote it; a long string is cut to `limit` characters."""
    if value is None:
        return "null"
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value)} characters)"
    return repr(value) if isinstance(value, str) else str(value)


def _kind(value):
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)
