"""Streaming: the same vocabulary, arrays and first-epoch loss as in memory; bounded shuffling."""

import dataclasses
import json
import pathlib

import keras
import numpy as np
import pytest

import keras_seq
from keras_seq import builder
from keras_seq.data import readers
from keras_seq.data.dataset import load_dataset, stream_dataset, wants_streaming

SPECS = pathlib.Path(__file__).parent.parent / "specs"


def spec_of(name, **data):
    spec = keras_seq.load_spec(SPECS / f"{name}.yaml")
    return dataclasses.replace(spec, data=dataclasses.replace(spec.data, **data))


def batches(dataset):
    return [dataset[i] for i in range(dataset.num_batches)]


def joined(parts):
    return keras.tree.map_structure(lambda *arrays: np.concatenate(arrays), *parts)


@pytest.mark.parametrize("name", ["tagger", "classifier", "seq2seq"])  # conllu, csv, jsonl
def test_same_vocabulary_labels_and_arrays_as_in_memory(name):
    spec = spec_of(name, shuffle_buffer=50)  # chunks of 64 examples: many chunk boundaries
    memory = load_dataset(spec)
    streamed = stream_dataset(spec, batch_size=16, shuffle=False)
    assert streamed.vocab == memory.vocab and streamed.labels == memory.labels
    assert len(streamed.x.layout.sizes) > 5 and streamed.stats.examples == memory.stats.examples
    assert streamed.stats.tokens == memory.stats.tokens
    x, y, weights = (joined(part) for part in zip(*batches(streamed.x)))
    keras.tree.map_structure(np.testing.assert_array_equal, x, memory.x)
    np.testing.assert_array_equal(y, memory.y)
    np.testing.assert_array_equal(weights, memory.sample_weight)


def test_shuffling_stays_within_a_chunk_and_follows_the_seed():
    spec = spec_of("classifier", shuffle_buffer=100)  # rounded up to 4 batches: 128 examples
    dataset = stream_dataset(spec, batch_size=32).x
    in_file_order = [tuple(row) for row in load_dataset(spec).x.tolist()]
    chunks = [
        {tuple(row) for batch in batches(_single_chunk(dataset, c)) for row in batch[0].tolist()}
        for c in range(len(dataset.layout.sizes))
    ]
    epochs = []
    for _ in range(2):
        order = [tuple(row) for batch in batches(dataset) for row in batch[0].tolist()]
        assert sorted(order) == sorted(in_file_order)  # every example once per epoch
        for batch in batches(dataset):  # each batch from one chunk (the shuffle buffer)
            assert any({tuple(row) for row in batch[0].tolist()} <= chunk for chunk in chunks)
        epochs.append(order)
        dataset.on_epoch_end()
    assert epochs[0] != epochs[1] != in_file_order
    again = stream_dataset(spec, batch_size=32).x  # the spec's seed: the same first epoch
    assert [tuple(row) for batch in batches(again) for row in batch[0].tolist()] == epochs[0]


def _single_chunk(dataset, chunk):
    from keras_seq.data.streaming import Layout, StreamingDataset

    layout = Layout(
        [dataset.layout.starts[chunk]], [dataset.layout.sizes[chunk]], dataset.layout.header
    )
    return StreamingDataset(
        dataset.path, dataset.read, dataset.encode, layout, dataset.batch_size, shuffle=False
    )


def test_first_epoch_loss_equals_the_in_memory_loss(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "tags.jsonl"
    lines = []
    for _ in range(96):
        words = [f"w{i}" for i in rng.integers(0, 30, rng.integers(2, 9))]
        lines.append(json.dumps({"tokens": words, "tags": [f"T{int(w[1:]) % 3}" for w in words]}))
    path.write_text("\n".join(lines) + "\n")
    spec = keras_seq.load_spec(
        {
            "seed": 5,
            "input": {"kind": "tokens", "embedding_dim": 4},
            "encoder": {"cell": "gru", "units": 4},
            "head": {"type": "tagger"},
            "training": {"batch_size": 16, "learning_rate": 0.05},
            "data": {"format": "jsonl", "train": str(path), "shuffle_buffer": 32},
        }
    )
    memory = load_dataset(spec)
    streamed = stream_dataset(spec, shuffle=False)
    assert len(streamed.x.layout.sizes) == 3
    sizes = {"vocab_size": len(memory.vocab), "classes": len(memory.labels)}
    losses, weights = [], []
    for inputs in (
        {"x": memory.x, "y": memory.y, "sample_weight": memory.sample_weight},
        {"x": streamed.x},
    ):
        model = builder.build(builder.resolve(spec, **sizes))
        history = model.fit(**inputs, batch_size=16, epochs=1, shuffle=False, verbose=0)
        losses.append(history.history["loss"][0])
        weights.append(model.get_weights())
    assert losses[0] == pytest.approx(losses[1], rel=1e-6)
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_chunks_resume_at_their_bookmark_with_true_line_numbers(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("text,label\n" + "".join(f'"w{i}\nx",a\n' for i in range(6)))
    lines = readers.FileLines(path)
    records = readers.iter_records(path, "csv", {}, lines)
    assert [next(records)[0] for _ in range(2)] == [3, 5]  # a quoted newline: 2 lines a row
    bookmark = lines.position
    resumed = readers.iter_records(
        path, "csv", {}, readers.FileLines(path, bookmark), ["text", "label"]
    )
    assert [(line, row["text"]) for line, row in resumed] == [
        (7, "w2\nx"),
        (9, "w3\nx"),
        (11, "w4\nx"),
        (13, "w5\nx"),
    ]


def test_a_bad_row_late_in_the_file_names_its_line(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"text": "a b", "label": "x"}\n' * 300 + '{"text": "", "label": "x"}\n')
    spec = keras_seq.load_spec(
        {
            "input": {"kind": "tokens"},
            "encoder": {"cell": "gru", "units": 4},
            "head": {"type": "classifier"},
            "data": {"format": "jsonl", "train": str(path)},
        }
    )
    with pytest.raises(keras_seq.DataError) as caught:
        stream_dataset(spec)
    assert caught.value.line == 301 and caught.value.field == "text"


def test_vocabulary_from_a_file_and_when_to_stream(tmp_path):
    spec = spec_of("tagger")
    vocab = load_dataset(spec).vocab
    vocab_file = tmp_path / "vocab.txt"
    keras_seq.Vocabulary(vocab.tokens[:10], lowercase=True).save(vocab_file)
    given = stream_dataset(spec_of("tagger", vocabulary=str(vocab_file)))
    assert given.vocab.tokens == vocab.tokens[:10]
    train = spec.data.train
    assert not wants_streaming(spec, train)  # auto, a small file
    assert wants_streaming(spec_of("tagger", streaming_above_mb=0.001), train)
    assert wants_streaming(spec_of("tagger", streaming=True), train)
    assert not wants_streaming(spec_of("tagger", streaming=False, streaming_above_mb=0), train)


def test_forecasting_data_is_not_streamed():
    spec = spec_of("forecaster", streaming=True)
    assert not wants_streaming(spec, spec.data.train)
    with pytest.raises(keras_seq.DataError, match="cannot be streamed"):
        stream_dataset(spec)
