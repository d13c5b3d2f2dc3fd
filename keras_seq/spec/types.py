"""`Spec`: frozen dataclasses generated from the schema, so field names live in one place."""

import dataclasses
import types
import typing

import yaml

from keras_seq.spec import schema as spec_schema

_PYTHON_TYPES = {
    "integer": int,
    "number": float,
    "string": str,
    "boolean": bool,
    "null": type(None),
    "array": tuple,
    "object": typing.Mapping,
}


def _annotation(field_schema):
    field_schema = spec_schema.resolve(field_schema)
    if "title" in field_schema:
        return field_schema["title"]
    if "enum" in field_schema or "const" in field_schema:
        return str if field_schema.get("const", "") != 1 else int
    if "anyOf" in field_schema:
        members = tuple(_annotation(b) for b in field_schema["anyOf"])
        return typing.Union[members]  # noqa: UP007 (members may be forward-reference strings)
    kinds = field_schema.get("type", "object")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    members = tuple(_PYTHON_TYPES[k] for k in kinds)
    return typing.Union[members]  # noqa: UP007 (members may be forward-reference strings)


def _object_schemas(node, found):
    """Every titled object schema reachable from `node`, inner ones first."""
    node = spec_schema.resolve(node)
    for branch in node.get("anyOf", ()):
        _object_schemas(branch, found)
    if isinstance(node.get("items"), dict):
        _object_schemas(node["items"], found)
    for field in node.get("properties", {}).values():
        _object_schemas(field, found)
    if "title" in node and node["title"] not in found:
        found[node["title"]] = node
    return found


def _to_plain(value):
    if dataclasses.is_dataclass(value):
        fields = ((f.name, getattr(value, f.name)) for f in dataclasses.fields(value))
        return {name: _to_plain(v) for name, v in fields if v is not None}
    if isinstance(value, (tuple, list)):
        return [_to_plain(v) for v in value]
    if isinstance(value, typing.Mapping):
        return {k: _to_plain(v) for k, v in value.items()}
    return value


def _to_dict(self):
    """The spec as plain data (dicts and lists), every default filled in.

    Fields that are None (not set, or not applicable) are left out, so the result validates.
    """
    return _to_plain(self)


def _to_yaml(self):
    """The spec as YAML text that `keras_seq.load_spec` reads back to an equal spec."""
    return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None)


def _get(self, path):
    """The value at a dotted path, e.g. `spec.get("head.classes")` (None where unset).

    >>> import keras_seq
    >>> spec = keras_seq.load_spec("{input: {kind: tokens}, encoder: {cell: gru, units: 8},"
    ...                            " head: {type: tagger}}")
    >>> spec.get("encoder.units"), spec.get("head.classes")
    (8, 'auto')
    """
    value = self
    for name in path.split("."):
        value = getattr(value, name, None)
    return value


def _replace(self, changes=None, **fields):
    """A new, re-validated spec with some fields changed: the one way to derive a spec.

    Args:
        changes: dict. Dotted field path -> new value, e.g. `{"encoder.units": 128}`; a
            section may be given whole (`{"data": {...}}`), and None removes a field (its
            default applies again).
        **fields: top-level fields, e.g. `seed=3`.

    Raises:
        keras_seq.SpecError: the changed spec breaks the schema; each problem names the path.

    >>> import keras_seq
    >>> spec = keras_seq.load_spec("{input: {kind: tokens}, encoder: {cell: gru, units: 8},"
    ...                            " head: {type: tagger}}")
    >>> spec.replace({"encoder.units": 16, "head.classes": 5}).encoder.units
    16
    """
    from keras_seq.spec.loading import load_spec
    from keras_seq.spec.validation import drop_stale_defaults

    data = self.to_dict()
    for path, value in {**(changes or {}), **fields}.items():
        *parents, name = path.split(".")
        node = data
        for parent in parents:
            child = node.get(parent)
            if not isinstance(child, dict):
                child = node[parent] = {}
            node = child
        if value is None:
            node.pop(name, None)
        else:
            node[name] = value
    drop_stale_defaults(data, {**(changes or {}), **fields})
    return load_spec(data)


def _make_classes():
    classes = {}
    for title, node in SCHEMAS.items():
        fields = [
            (name, _annotation(field), dataclasses.field(default=None))
            for name, field in node["properties"].items()
        ]
        namespace = {"__doc__": node.get("description", title), "to_dict": _to_dict}
        if title == "Spec":
            namespace.update(to_yaml=_to_yaml, get=_get, replace=_replace)
        classes[title] = dataclasses.make_dataclass(title, fields, frozen=True, namespace=namespace)
        classes[title].__module__ = __name__
    return classes


SCHEMAS = _object_schemas(spec_schema.ROOT, {})
CLASSES = _make_classes()
Spec = CLASSES["Spec"]


def from_data(resolved, node=spec_schema.ROOT):
    """Build the frozen dataclass tree from validated, default-filled plain data."""
    node = spec_schema.resolve(node, resolved)
    if isinstance(resolved, dict) and "title" in node:
        fields = node["properties"]
        values = {name: from_data(resolved.get(name), fields[name]) for name in fields}
        return CLASSES[node["title"]](**values)
    if isinstance(resolved, dict):
        return types.MappingProxyType(dict(resolved))
    if isinstance(resolved, list):
        items = node.get("items", {})
        return tuple(from_data(item, items) for item in resolved)
    if isinstance(resolved, int) and not isinstance(resolved, bool) and _is_number(node):
        return float(resolved)
    return resolved


def _is_number(node):
    kinds = node.get("type", [])
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return "number" in kinds
