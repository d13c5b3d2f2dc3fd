"""The small datasets shipped in the package (`keras_seq/datasets/`), as spec data sections."""

import importlib.resources

from keras_seq.spec import make_section

SPLITS = ("train", "validation", "test")
# Head type -> the bundled dataset's format and column options (`datasets/HEAD-SPLIT.FORMAT`);
# each task's `bundled`, and what `keras-seq debug-data` reads for a spec without data.
BUNDLED = {
    "tagger": {"format": "conllu"},
    "classifier": {"format": "csv"},
    "seq2seq": {"format": "jsonl"},
    "forecaster": {
        "format": "csv",
        "value_columns": ("load", "temperature"),
        "target_columns": ("load",),
    },
}


def bundled_section(name, format, **options):
    """The `data` section of the bundled dataset `name` (`datasets/NAME-SPLIT.FORMAT`).

    `keras_seq/datasets/make_datasets.py` regenerates the files; each task names its own
    dataset and column options (`keras_seq.tasks`).

    >>> from keras_seq.data.bundled import bundled_section
    >>> bundled_section("tagger", "conllu").train.endswith("tagger-train.conllu")
    True
    """
    folder = importlib.resources.files("keras_seq") / "datasets"
    paths = {split: str(folder / f"{name}-{split}.{format}") for split in SPLITS}
    return make_section("DataSpec", format=format, **options, **paths)
