"""The JSON schema of spec version 1: the one place field names, types, defaults and help live."""

import copy
import functools
import json
from importlib import resources


@functools.cache
def _schema_text():
    return resources.files("keras_seq.spec").joinpath("schema.json").read_text(encoding="utf-8")


def schema():
    """The JSON schema (a fresh copy), as `keras-seq schema` prints it."""
    return json.loads(_schema_text())


ROOT = schema()


def resolve(node, value=None):
    """The object or array schema that describes `value` at `node`.

    Follows `$ref` and, for `anyOf`, picks the branch of the value's JSON type, so callers can
    walk data and schema side by side.
    """
    if "$ref" in node:
        target = ROOT["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    for branch in node.get("anyOf", ()):
        branch = resolve(branch, value)
        if isinstance(value, dict) and branch.get("type") == "object":
            return branch
        if isinstance(value, list) and branch.get("type") == "array":
            return branch
    return node


def applies(field_schema, siblings):
    """Whether a field with `x-applies-when` is meaningful next to these sibling values."""
    return _condition_holds(field_schema.get("x-applies-when"), siblings)


def for_head(field_schema, head_type):
    """Whether a field is read by a task of `head_type` (its `x-heads`, when it has one)."""
    heads = field_schema.get("x-heads")
    return heads is None or head_type in heads


def applicable(values, node=None, head_type=None):
    """A resolved spec's dict (`Spec.to_dict()`) without the fields that do not apply to its
    task: those whose `x-applies-when` fails next to their siblings (`applies`) or whose
    `x-heads` leave out its `head.type` (`for_head`), at every depth.

    >>> from keras_seq.spec.schema import applicable
    >>> applicable({"head": {"type": "tagger"}, "data": {"format": "csv", "tags_column": "t",
    ...     "text_column": "x", "source_column": "s", "streaming": "auto"}})["data"]
    {'format': 'csv', 'tags_column': 't', 'streaming': 'auto'}
    """
    node = resolve(ROOT if node is None else node, values)
    if head_type is None:
        head_type = (values.get("head") or {}).get("type")
    fields = node.get("properties", {})
    kept = {}
    for name, value in values.items():
        field = fields.get(name, {})
        if not (applies(field, values) and for_head(field, head_type)):
            continue
        nested = isinstance(value, dict) and field
        kept[name] = applicable(value, field, head_type) if nested else value
    return kept


def required(field_schema, siblings):
    """Whether a field with `x-required-when` must be given next to these sibling values."""
    condition = field_schema.get("x-required-when")
    return condition is not None and _condition_holds(condition, siblings)


def _condition_holds(condition, siblings):
    if not condition:
        return True
    return all(siblings.get(name) in values for name, values in condition.items())


def describe_condition(field_schema, parent=""):
    """'encoder.cell is simple' style text for an `x-applies-when` rule."""
    condition = field_schema.get("x-applies-when") or field_schema.get("x-required-when")
    prefix = f"{parent}." if parent else ""
    return " and ".join(
        f"{prefix}{name} is {' or '.join(map(str, values))}" for name, values in condition.items()
    )


def default_of(field_schema):
    return copy.deepcopy(field_schema.get("default"))


def allowed_text(field_schema):
    """A short human description of what a field accepts, made from its schema."""
    field_schema = resolve(field_schema)
    if "enum" in field_schema:
        return ", ".join(_show(v) for v in field_schema["enum"])
    if "const" in field_schema:
        return _show(field_schema["const"])
    if "anyOf" in field_schema:
        return " or ".join(_branch_text(branch) for branch in field_schema["anyOf"])
    kind = field_schema.get("type", "any value")
    kinds = kind if isinstance(kind, list) else [kind]
    text = " or ".join(_TYPE_WORDS.get(k, k) for k in kinds)
    bounds = []
    for key, word in (
        ("minimum", ">="),
        ("exclusiveMinimum", ">"),
        ("maximum", "<="),
        ("exclusiveMaximum", "<"),
    ):
        if key in field_schema:
            bounds.append(f"{word} {field_schema[key]}")
    if bounds:
        text += " " + " and ".join(bounds)
    return text


def _branch_text(branch):
    """What one `anyOf` branch accepts, with its own `x-applies-when` rule if it has one."""
    text = allowed_text(branch)
    return f"{text} (when {describe_condition(branch)})" if "x-applies-when" in branch else text


_TYPE_WORDS = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "null": "null",
    "object": "a mapping",
    "array": "a list",
}


def _show(value):
    return "null" if value is None else str(value)
