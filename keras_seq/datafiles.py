"""Which files a run reads: the spec's data section, the bundled data, command-line overrides."""

import pathlib

from keras_seq.data import DataError
from keras_seq.data.bundled import SPLITS
from keras_seq.data.errors import check_file

_EXTENSIONS = {
    ".conllu": "conllu",
    ".conll": "conll",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".parquet": "parquet",
}


def file_format(path, default):
    """The format a file's extension names (`.conllu`, `.conll`, `.csv`, `.jsonl`, `.parquet`), else
    `default`."""
    return _EXTENSIONS.get(pathlib.Path(path).suffix.lower(), default)


def _with_section(task, section, paths, format_from):
    """The task's spec with `section` as its data, `paths` (absolute) filled in."""
    given = {split: str(pathlib.Path(path).resolve()) for split, path in paths.items() if path}
    fmt = file_format(given[format_from], section["format"]) if format_from in given else None
    if fmt and fmt != section["format"]:
        # Column names belong to the old format; the new one starts from its defaults.
        section = {key: value for key, value in section.items() if key in SPLITS}
        section["format"] = fmt
    section.update(given)
    return task.spec.replace(data=section)


def with_files(task, **paths):
    """The task's spec with its data section filled in: the command-line `paths` win.

    Args:
        task: a `keras_seq.tasks.Task`.
        **paths: `train`, `validation`, `test`: str or None (None keeps the spec's path).

    Returns:
        A new `keras_seq.Spec` whose `data` names every file used, with absolute paths. A spec
        without a data section gets the bundled dataset for its head; a training file with
        another extension (`.conllu`, `.conll`, `.csv`, `.jsonl`, `.parquet`) than
        `data.format` sets the format.

    Raises:
        keras_seq.DataError: when no training file is known.
    """
    section = task.data_section().to_dict()
    if task.spec.data is None and paths.get("train"):
        # Only the training file was named: do not mix it with bundled validation/test files.
        section = {key: value for key, value in section.items() if key not in SPLITS}
    for split, path in paths.items():
        if path:
            check_file(path, f"--{split}")
    spec = _with_section(task, section, paths, "train")
    if not spec.data.train:
        raise DataError(
            "no training data: the spec has no data.train",
            hint="give it on the command line (--train FILE) or as data.train in the spec",
        )
    return spec


def for_file(task, path):
    """A trained task's spec reading `path` as its `test` split (in the format its extension
    names): the one file `keras-seq evaluate` and `predict` read, given as `--data`."""
    check_file(path, "--data")
    return _with_section(task, task.data_section().to_dict(), {"test": path}, "test")


def split_paths(spec):
    """`{split: path}` for the splits the spec's data section names, in SPLITS order."""
    return {split: getattr(spec.data, split) for split in SPLITS if getattr(spec.data, split)}


def check_split_files(spec):
    """Raises `DataError` for a data file the spec names that cannot be read, naming its field
    (`data.train`, ...): a spec copied to another folder keeps its relative paths."""
    for split, path in split_paths(spec).items():
        check_file(path, f"data.{split} in the spec (a relative path starts at its folder)")
