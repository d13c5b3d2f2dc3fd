"""`load_spec`: from a path, YAML text or dict to a validated, frozen `Spec`."""

import copy
import os
import pathlib

from keras_seq.spec.errors import Problem, SpecError
from keras_seq.spec.types import SCHEMAS, Spec, from_data
from keras_seq.spec.validation import PATH_FIELDS, check, fill_section, path_field_owner
from keras_seq.spec.yaml_source import MAX_BYTES, read_yaml

_TOO_DEEP = Problem("", "the spec nests too deeply", allowed="a few levels of sections")


def load_spec(source):
    """Load, validate and resolve a spec.

    Args:
        source: a path to a YAML file, YAML text, a dict, or a `Spec` (returned as is).

    Returns:
        A frozen `keras_seq.Spec` with every default filled in and the data paths made
        relative to the spec file's folder.

    Raises:
        keras_seq.SpecError: listing every problem, each with its field path, YAML line and
            column, the value found, what is allowed and a "did you mean".

    Example:

    >>> import keras_seq
    >>> spec = keras_seq.load_spec('''
    ... input: {kind: tokens, vocab_size: 1000}
    ... encoder: {cell: gru, units: 32, direction: bidirectional}
    ... head: {type: tagger, classes: 5}
    ... ''')
    >>> spec.encoder.merge, spec.training.optimizer
    ('concat', 'adam')
    """
    if isinstance(source, Spec):
        return source
    data, locations, origin, path = _read(source)
    try:
        problems, resolved = check(data, locations)
    except RecursionError:  # a dict source nested thousands of levels deep
        problems = [_TOO_DEEP]
    if problems:
        raise SpecError(problems, origin)
    _fill_derived_defaults(resolved, path)
    return from_data(resolved)


def validate(source):
    """The problems of a spec as a list (empty when valid), without raising."""
    try:
        load_spec(source)
    except SpecError as error:
        return error.problems
    return []


def _read(source):
    """(data, locations, name for messages, file path or None)."""
    if isinstance(source, dict):
        try:
            return copy.deepcopy(source), {}, None, None
        except RecursionError:
            raise SpecError([_TOO_DEEP]) from None
    if isinstance(source, os.PathLike) or _looks_like_path(source):
        path = pathlib.Path(source)
        data, locations = read_yaml(_read_spec_file(path), str(path))
        return data, locations, str(path), path
    if isinstance(source, str):
        data, locations = read_yaml(source)
        return data, locations, None, None
    raise SpecError(
        [
            Problem(
                "",
                f"cannot read a spec from {type(source).__name__}",
                allowed="a path, YAML text, a dict or a keras_seq.Spec",
            )
        ]
    )


def _looks_like_path(source):
    """A one-line string is a path when it names a spec file, an existing path, or cannot be
    a YAML mapping (no colon or bracket: `myspec` is a missing file, not a string spec)."""
    return (
        isinstance(source, str)
        and "\n" not in source
        and (
            source.endswith((".yaml", ".yml", ".json"))
            or os.path.exists(source)
            or (source.strip() and not any(mark in source for mark in ":{}[]"))
        )
    )


def _read_spec_file(path):
    """The text of a spec file; a missing file, a folder or bytes that are not UTF-8 raise
    `SpecError` naming the file (and the line of the first bad byte)."""
    allowed = "a path to an existing .yaml file"
    try:
        with open(path, "rb") as file:  # never more than a spec may hold (/dev/zero ends)
            raw = file.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise SpecError([Problem("", "spec file not found", allowed=allowed)], str(path)) from None
    except IsADirectoryError:
        raise SpecError(
            [Problem("", "a folder, not a spec file", allowed=allowed)], str(path)
        ) from None
    except OSError as error:
        raise SpecError(
            [Problem("", f"cannot read the spec file ({error.strerror})")], str(path)
        ) from None
    if len(raw) > MAX_BYTES:
        too_big = f"the spec is larger than {MAX_BYTES // 1000} kB; a spec is a short file"
        raise SpecError([Problem("", too_big)], str(path))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        problem = Problem(
            "",
            f"not valid UTF-8 (byte 0x{raw[error.start]:02x})",
            line,
            allowed="text saved as UTF-8",
        )
        raise SpecError([problem], str(path)) from None


def _fill_derived_defaults(data, path):
    """Defaults that depend on other fields, as the schema's descriptions state them."""
    data.setdefault("name", None)
    if data["name"] is None:
        data["name"] = path.stem if path else "model"
    encoder = data["encoder"]
    if isinstance(encoder["layers"], list):
        for layer in encoder["layers"]:
            layer.setdefault("units", encoder["units"])
    decoder = data["head"].get("decoder")
    if isinstance(decoder, dict):  # seq2seq's stack (a tagger's is a string: softmax or crf)
        decoder.setdefault("cell", encoder["cell"])
        decoder.setdefault("units", encoder["units"])
        layers = encoder["layers"]
        decoder.setdefault("layers", len(layers) if isinstance(layers, list) else layers)
        decoder.setdefault("embedding_dim", data["input"].get("embedding_dim") or decoder["units"])
    base = path.parent if path else pathlib.Path.cwd()
    for field in PATH_FIELDS:
        owner = path_field_owner(data, field)
        if owner and owner.get(field[-1]):
            owner[field[-1]] = str((base / owner[field[-1]]).resolve())


def make_section(title, **values):
    """One section of a spec (e.g. `"DataSpec"`), the fields not in `values` at their defaults.

    >>> from keras_seq.spec import make_section
    >>> make_section("DataSpec", format="csv", train="train.csv").label_column
    'label'
    """
    node = SCHEMAS[title]
    values = {name: value for name, value in values.items() if value is not None}
    problems = fill_section(node, values)
    if problems:
        raise SpecError(problems, title)
    return from_data(values, node)
