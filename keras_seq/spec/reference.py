"""The field reference, rendered from the schema (never written by hand)."""

from keras_seq.spec import schema as spec_schema


def markdown():
    """Every field of the spec as a Markdown table: path, allowed values, default, meaning.

    >>> from keras_seq.spec.reference import markdown
    >>> "| `encoder.units` |" in markdown()
    True
    """
    rows = ["| field | allowed | default | applies when | meaning |", "|---|---|---|---|---|"]
    for path, field in fields():
        default = field.get("default", "(required)" if _is_required(path) else "")
        condition = spec_schema.describe_condition(field) if "x-applies-when" in field else ""
        shown = "; ".join(text for text in [_show(default), *_branch_defaults(field)] if text)
        rows.append(
            f"| `{path}` | {spec_schema.allowed_text(field)} | {shown} | {condition} "
            f"| {field.get('description', '')} |"
        )
    return "\n".join(rows) + "\n"


def _branch_defaults(field):
    """E.g. "`0` (when format is conll)": the defaults `anyOf` branches carry of their own."""
    return [
        f"{_show(branch['default'])} (when {spec_schema.describe_condition(branch)})"
        for branch in field.get("anyOf", ())
        if "default" in branch
    ]


def fields(node=None, prefix=""):
    """(dotted path, field schema) for every field, depth first."""
    node = spec_schema.resolve(node or spec_schema.ROOT, {})
    for name, field in node.get("properties", {}).items():
        path = f"{prefix}{name}"
        yield path, field
        inner = spec_schema.resolve(field, {})
        if "properties" in inner:
            yield from fields(inner, path + ".")


def _is_required(path):
    *parents, name = path.split(".")
    node = spec_schema.ROOT
    for parent in parents:
        node = spec_schema.resolve(node["properties"][parent], {})
    return name in node.get("required", ())


def _show(value):
    if value in ("", "(required)"):
        return value
    return "null" if value is None else f"`{value}`"
