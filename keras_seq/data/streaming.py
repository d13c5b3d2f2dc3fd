"""`StreamingDataset`: a data file read a chunk at a time, as a `keras.utils.PyDataset`.

A task's records come through the same readers the in-memory path uses
(`keras_seq.data.readers.iter_*` on a `FileLines` source). `learn_from_file` lets the task
learn its vocabularies and labels from passes over the file, never holding it. `stream_split`
then makes one more pass (`scan`): it notes a bookmark (byte offset, line number) every
`chunk_size` records and encodes each chunk once, to find the padded widths the whole file
needs (so every batch has the shapes, and the loss, of the in-memory arrays). Training reads
one chunk at a time from its bookmark, encodes it with the task and serves its batches, so
memory holds one chunk, never the file.

Shuffling happens within a bounded buffer: each epoch visits the chunks in a shuffled order and
shuffles the examples inside each chunk, both drawn from `(seed, epoch)`; the same seed gives the
same order on every backend. Batches never straddle chunks (a chunk's last batch may be short).
Give `model.fit` `shuffle=False`: the dataset shuffles itself, and Keras' own shuffling of batch
indices would make it re-read a chunk for every batch.
"""

import dataclasses
import functools
import itertools
import os

import keras
import numpy as np

from keras_seq.data.encoding import Encoded, EncodeStats
from keras_seq.data.readers import FileLines, csv_header
from keras_seq.data.vocabulary import Vocabulary


@dataclasses.dataclass
class Layout:
    """Where a file's chunks start (`(byte offset, line number)` each) and how many examples each
    holds; `header` is a CSV file's column names (None otherwise)."""

    starts: list
    sizes: list
    header: list = None

    @property
    def examples(self):
        return sum(self.sizes)


def scan(path, read, chunk_size, observe=None, header=None):
    """One pass over a file: the `Layout` of its chunks.

    Args:
        path: str or path-like.
        read: callable. `read(lines=..., header=...)` yields the examples of a line source.
        chunk_size: int. Examples per chunk.
        observe: callable, optional. Called with each chunk's examples (a list), in file order.
        header: list of str, optional. A CSV file's column names, kept in the layout for reading
            the chunks after the first.

    Returns:
        `Layout`.
    """
    lines = FileLines(path)
    examples = read(lines=lines, header=None)  # from the top, a CSV reader reads the header
    starts, sizes = [], []
    while True:
        start = lines.position
        chunk = list(itertools.islice(examples, chunk_size))
        if not chunk:
            return Layout(starts, sizes, header)
        if observe is not None:
            observe(chunk)
        starts.append(start)
        sizes.append(len(chunk))


class StreamingDataset(keras.utils.PyDataset):
    """Batches of a file read one chunk at a time, shuffled within a bounded buffer.

    Args:
        path: str or path-like. The file `layout` describes.
        read: callable. `read(lines, header)` yields the examples of a line source (a reader
            from `keras_seq.data.readers` with its options bound).
        encode: callable. `encode(examples)` returns `(x, y, sample_weight)` arrays for a list
            of examples (`x` may be a list of arrays), padded to one fixed width.
        layout: `Layout` from `scan`.
        batch_size: int.
        shuffle: bool. Shuffle chunk order and examples within each chunk, every epoch.
        seed: int, optional. Fixes the shuffling; a fresh one is drawn when None.
        **kwargs: `keras.utils.PyDataset` arguments (`workers`, `use_multiprocessing`,
            `max_queue_size`).

    Examples:

    >>> import pathlib, tempfile
    >>> from keras_seq.data import readers, streaming
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.jsonl"
    >>> _ = path.write_text("".join('{"text": "w%d", "label": "a"}\\n' % i for i in range(5)))
    >>> read = lambda lines, header: readers.iter_classification(path, "jsonl", lines=lines)
    >>> layout = streaming.scan(path, read, chunk_size=2)
    >>> layout.sizes
    [2, 2, 1]
    >>> encode = lambda examples: ([e[0][0] for e in examples], [e[1] for e in examples])
    >>> data = streaming.StreamingDataset(path, read, encode, layout, batch_size=2, shuffle=False)
    >>> [data[i][0] for i in range(data.num_batches)]
    [['w0', 'w1'], ['w2', 'w3'], ['w4']]
    """

    def __init__(self, path, read, encode, layout, batch_size, shuffle=True, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.path = path
        self.read = read
        self.encode = encode
        self.layout = layout
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = np.random.SeedSequence().entropy if seed is None else seed
        self.epoch = 0
        self._batches = [-(-size // batch_size) for size in layout.sizes]
        self._chunk = (None, None)  # ((epoch, chunk index), encoded chunk)
        self._plan()

    @property
    def num_batches(self):
        return sum(self._batches)

    def on_epoch_end(self):
        self.epoch += 1
        self._plan()

    def __getitem__(self, index):
        if not 0 <= index < self.num_batches:
            raise IndexError(f"batch {index} of {self.num_batches}")
        position = int(np.searchsorted(self._ends, index, side="right"))
        chunk = int(self._order[position])
        first = index - (self._ends[position] - self._batches[chunk])
        batch = slice(first * self.batch_size, (first + 1) * self.batch_size)
        return keras.tree.map_structure(lambda array: array[batch], self._encoded(chunk))

    def _plan(self):
        """This epoch's chunk order and, per position in it, the batches served so far."""
        count = len(self.layout.sizes)
        order = np.arange(count)
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(count)
        self._order = order
        self._ends = np.cumsum([self._batches[chunk] for chunk in order])

    def _encoded(self, chunk):
        key, encoded = self._chunk
        if key != (self.epoch, chunk):
            start, size = self.layout.starts[chunk], self.layout.sizes[chunk]
            header = self.layout.header if start != (0, 1) else None
            lines = FileLines(self.path, start)
            examples = list(itertools.islice(self.read(lines=lines, header=header), size))
            if self.shuffle:
                rng = np.random.default_rng([self.seed, self.epoch, chunk])
                examples = [examples[i] for i in rng.permutation(size)]
            encoded = tuple(self.encode(examples))
            self._chunk = ((self.epoch, chunk), encoded)
        return encoded


class FileRecords:
    """A task's records of one file, read again from the top on every iteration."""

    def __init__(self, task, path):
        self.task = task
        self.path = path

    def __iter__(self):
        return iter(self.task.records(self.path, lines=FileLines(self.path)))


def wants_streaming(task, path):
    """Whether a task reads `path` a chunk at a time: `data.streaming` true, or auto and the
    file larger than `data.streaming_above_mb`; never for a task that cannot stream, nor for
    Parquet (read whole: a columnar file has no lines to resume at)."""
    data = task.data_section()
    setting = getattr(data, "streaming", False)
    if not task.streams or setting is False or data.format == "parquet":
        return False
    return setting is True or os.path.getsize(path) > data.streaming_above_mb * 1e6


def learn_from_file(task, path):
    """`task.learn` on a training file read in passes, never held whole.

    A `data.vocabulary` file replaces the learned input vocabulary (and fixes
    `input.vocab_size` when the spec leaves it `auto`).
    """
    field = task.sizes.get("vocab")
    auto = field is not None and task.spec.get(field) == "auto"
    task.learn(FileRecords(task, path))
    given = getattr(task.data_section(), "vocabulary", None)
    if given:
        vocab = Vocabulary.load(given, lowercase=task.spec.input.lowercase)
        task.state["vocab"] = vocab
        if auto:
            task.spec = task.spec.replace({field: len(vocab)})
    return task


def stream_split(task, path, shuffle=False):
    """One split's file as `Encoded` whose `x` is a `StreamingDataset` (y and weights inside).

    Args:
        task: a `keras_seq.tasks.Task` that has learned its state and can stream
            (`task.streams`).
        path: str or path-like. The split's file.
        shuffle: bool. Shuffle within `data.shuffle_buffer` records, seeded by the spec.

    Returns:
        `Encoded(x=StreamingDataset, y=None, stats=...)`: give `x` to `model.fit` with
        `shuffle=False`. `stats` counts the whole file (examples, truncation, unseen labels).
    """
    data = task.data_section()
    header = csv_header(path, data.delimiter) if data.format == "csv" else None
    read = functools.partial(task.records, path)
    batch_size = task.spec.training.batch_size
    chunk_size = -(-data.shuffle_buffer // batch_size) * batch_size  # whole batches
    widths, stats = {}, EncodeStats()

    def observe(records):
        encoded = task.encode(records)
        for index, array in enumerate(_arrays(encoded)):
            if array is not None and array.ndim > 1:
                widths[index] = max(widths.get(index, 0), array.shape[1])
        _add_stats(stats, encoded.stats)

    layout = scan(path, read, chunk_size, observe, header)
    dataset = StreamingDataset(
        path,
        read,
        lambda records: _padded(task.encode(records), widths),
        layout,
        batch_size,
        shuffle=shuffle,
        seed=task.spec.seed,
    )
    stats.warn(path)
    return Encoded(dataset, None, stats=stats)


def _arrays(encoded):
    return keras.tree.flatten(encoded.x) + [encoded.y, encoded.sample_weight]


def _padded(encoded, widths):
    """`(x, y[, sample_weight])` with each sequence array post-padded (0) to its file width."""
    arrays = []
    for index, array in enumerate(_arrays(encoded)):
        if index in widths and array.shape[1] < widths[index]:
            padding = [(0, 0)] * array.ndim
            padding[1] = (0, widths[index] - array.shape[1])
            array = np.pad(array, padding)
        arrays.append(array)
    *x, y, weights = arrays
    x = keras.tree.pack_sequence_as(encoded.x, x)
    return (x, y) if weights is None else (x, y, weights)


def _add_stats(total, part):
    for name in ("examples", "truncated", "tokens", "oov"):
        setattr(total, name, getattr(total, name) + getattr(part, name))
    for label, count in part.unseen_labels.items():
        total.unseen_labels[label] = total.unseen_labels.get(label, 0) + count
