"""A run's data: every split its spec names, read, learned from (training split) and encoded.

A file that `data.streaming` streams is read a chunk at a time (`keras_seq.data.streaming`):
its `Encoded.x` is a `StreamingDataset` and it has no records in memory. Every other split is
read whole, once: its records are scored again after training (`keras_seq.scoring`).

Example:

>>> import keras_seq
>>> from keras_seq import splits
>>> from keras_seq.datafiles import with_files
>>> task = keras_seq.tasks.Task.for_spec('''
... input: {kind: tokens, embedding_dim: 4}
... encoder: {cell: gru, units: 4}
... head: {type: tagger}
... ''')
>>> task.spec = with_files(task)  # no data section: the bundled tagger data
>>> encoded, records = splits.read_encoded(task, learn=True)
>>> sorted(encoded), len(records["train"]) == encoded["train"].stats.examples
(['test', 'train', 'validation'], True)
"""

import logging

logger = logging.getLogger("keras_seq.train")


def read_splits(task, skip=()):
    """`{split: records}` for every split the task's spec names (but those in `skip`)."""
    from keras_seq.datafiles import split_paths

    records = {}
    for split, path in split_paths(task.spec).items():
        if split in skip:
            continue
        records[split] = task.read(path)
        logger.info("%s: %d records from %s", split, len(records[split]), path)
    return records


def read_encoded(task, learn):
    """Every split of the task's spec, encoded.

    Args:
        task: a `keras_seq.tasks.Task` whose spec's data section names the files (see
            `keras_seq.datafiles.with_files`).
        learn: bool. Learn the task's state (vocabularies, labels, scales) from the training
            split first; False for a task that has it already (a resumed run).

    Returns:
        `(encoded, records)`: `{split: Encoded}` for every split, and `{split: records}` for
        those read whole (a streamed split has none).

    Raises:
        keras_seq.DataError: a file is missing or cannot be read (named with file:line).
    """
    from keras_seq.data import streaming
    from keras_seq.datafiles import check_split_files, split_paths

    check_split_files(task.spec)
    paths = split_paths(task.spec)
    streamed = [split for split, file in paths.items() if streaming.wants_streaming(task, file)]
    records = read_splits(task, skip=streamed)
    if learn and "train" in streamed:
        streaming.learn_from_file(task, paths["train"])
    elif learn:
        task.learn(records["train"])
    encoded = {}
    for split, path in paths.items():
        if split in streamed:
            encoded[split] = streaming.stream_split(task, path, shuffle=split == "train")
        else:
            encode = task.encode_training if split == "train" else task.encode
            encoded[split] = encode(records[split])
            encoded[split].stats.warn(task.spec.get(f"data.{split}"))
    return encoded, records


def prepare(task):
    """`read_encoded(task, learn=True)`, then the model built (`task.model`)."""
    import keras

    encoded, records = read_encoded(task, learn=True)
    model = task.build_model()
    logger.info("keras backend: %s; %d parameters", keras.backend.backend(), model.count_params())
    return encoded, records
