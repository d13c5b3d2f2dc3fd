"""Which files a run reads: the spec's data section, the bundled data, command-line overrides."""

import pathlib

from keras_seq.data import DataError
from keras_seq.data.dataset import SPLITS, bundled_data
from keras_seq.spec import load_spec

_EXTENSIONS = {".conllu": "conllu", ".csv": "csv", ".jsonl": "jsonl"}


def file_format(path, default):
    """The format a file's extension names (`.conllu`, `.csv`, `.jsonl`), else `default`."""
    return _EXTENSIONS.get(pathlib.Path(path).suffix.lower(), default)


def _section(spec):
    """The spec's data section as plain data, or the bundled data's when the spec has none."""
    return (spec.data or bundled_data(spec.head.type)).to_dict()


def _with_section(spec, section, paths, format_from):
    given = {split: str(pathlib.Path(path).resolve()) for split, path in paths.items() if path}
    fmt = file_format(given[format_from], section["format"]) if format_from in given else None
    if fmt and fmt != section["format"]:
        # Column names belong to the old format; the new one starts from its defaults.
        section = {key: value for key, value in section.items() if key in SPLITS}
        section["format"] = fmt
    section.update(given)
    plain = spec.to_dict()
    plain["data"] = section
    return load_spec(plain)


def with_files(spec, **paths):
    """The spec with its data section filled in: the command-line `paths` win over the spec's.

    Args:
        spec: `keras_seq.Spec`.
        **paths: `train`, `validation`, `test`: str or None (None keeps the spec's path).

    Returns:
        A new `keras_seq.Spec` whose `data` names every file used, with absolute paths. A spec
        without a data section gets the bundled dataset for its head; a training file with
        another extension (`.conllu`, `.csv`, `.jsonl`) than `data.format` sets the format.

    Raises:
        keras_seq.DataError: when no training file is known.
    """
    section = _section(spec)
    if spec.data is None and paths.get("train"):
        # Only the training file was named: do not mix it with bundled validation/test files.
        section = {key: value for key, value in section.items() if key not in SPLITS}
    resolved = _with_section(spec, section, paths, "train")
    if not resolved.data.train:
        raise DataError(
            "no training data: the spec has no data.train",
            hint="give it on the command line (--train FILE) or as data.train in the spec",
        )
    return resolved


def for_file(spec, path):
    """A trained run's spec reading `path` as its `test` split (in the format its extension
    names): the one file `keras-seq evaluate` and `predict` read."""
    return _with_section(spec, _section(spec), {"test": path}, "test")


def split_paths(spec):
    """`{split: path}` for the splits the spec's data section names, in SPLITS order."""
    return {split: getattr(spec.data, split) for split in SPLITS if getattr(spec.data, split)}
