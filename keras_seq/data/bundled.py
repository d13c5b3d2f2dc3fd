"""The small datasets shipped in the package (`keras_seq/datasets/`), as spec data sections."""

import importlib.resources

from keras_seq.spec import make_section

SPLITS = ("train", "validation", "test")


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
