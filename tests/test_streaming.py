"""Streaming: the same vocabulary, arrays and first-epoch loss as in memory; bounded shuffling."""

import json
import pathlib

import keras
import numpy as np
import pytest

import keras_seq
from keras_seq.data import readers
from keras_seq.data.streaming import (
    Layout,
    StreamingDataset,
    learn_from_file,
    stream_split,
    wants_streaming,
)
from keras_seq.tasks import Task

SPECS = pathlib.Path(__file__).parent.parent / "specs"


def spec_of(name, **changes):
    return keras_seq.load_spec(SPECS / f"{name}.yaml").replace(changes)


def in_memory(spec):
    task = Task.for_spec(spec)
    records = task.read(task.split_path("train"))
    return task, task.learn(records).encode(records)


def streamed(spec, shuffle=False):
    task = Task.for_spec(spec)
    path = task.split_path("train")
    return task, stream_split(learn_from_file(task, path), path, shuffle=shuffle)


def tagged_jsonl(path, count, rng, words, longest):
    """Writes `count` random tagger records (tags follow the word ids, so they can be learned)."""
    lines = []
    for _ in range(count):
        tokens = [f"w{i}" for i in rng.integers(0, words, rng.integers(2, longest))]
        tags = [f"T{int(w[1:]) % 3}" for w in tokens]
        lines.append(json.dumps({"tokens": tokens, "tags": tags}))
    path.write_text("\n".join(lines) + "\n")


def batches(dataset):
    return [dataset[i] for i in range(dataset.num_batches)]


def joined(parts):
    return keras.tree.map_structure(lambda *arrays: np.concatenate(arrays), *parts)


@pytest.mark.parametrize("name", ["tagger", "classifier", "seq2seq"])  # conllu, csv, jsonl
def test_same_vocabulary_labels_and_arrays_as_in_memory(name):
    # Chunks of 64 records (50 rounded up to whole batches of 16): many chunk boundaries.
    spec = spec_of(name, **{"training.batch_size": 16, "data.shuffle_buffer": 50})
    memory_task, memory = in_memory(spec)
    task, stream = streamed(spec)
    assert task.state["vocab"] == memory_task.state["vocab"]
    assert task.state["labels"] == memory_task.state["labels"]
    assert task.spec == memory_task.spec  # the same learned sizes
    assert len(stream.x.layout.sizes) > 5 and stream.stats == memory.stats
    x, y, weights = (joined(part) for part in zip(*batches(stream.x)))
    keras.tree.map_structure(np.testing.assert_array_equal, x, memory.x)
    np.testing.assert_array_equal(y, memory.y)
    np.testing.assert_array_equal(weights, memory.sample_weight)


def test_shuffling_stays_within_a_chunk_and_follows_the_seed():
    spec = spec_of("classifier", **{"training.batch_size": 32, "data.shuffle_buffer": 100})
    _, stream = streamed(spec, shuffle=True)  # chunks of 128 records
    dataset = stream.x
    in_file_order = [tuple(row) for row in in_memory(spec)[1].x.tolist()]
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
    again = streamed(spec, shuffle=True)[1].x  # the spec's seed: the same first epoch
    assert [tuple(row) for batch in batches(again) for row in batch[0].tolist()] == epochs[0]


def _single_chunk(dataset, chunk):
    layout = Layout(
        [dataset.layout.starts[chunk]], [dataset.layout.sizes[chunk]], dataset.layout.header
    )
    return StreamingDataset(
        dataset.path, dataset.read, dataset.encode, layout, dataset.batch_size, shuffle=False
    )


def test_first_epoch_loss_equals_the_in_memory_loss(tmp_path):
    path = tmp_path / "tags.jsonl"
    tagged_jsonl(path, 96, np.random.default_rng(0), words=30, longest=9)
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
    memory_task, memory = in_memory(spec)
    task, stream = streamed(spec)
    assert len(stream.x.layout.sizes) == 3
    losses, weights = [], []
    for fitted, inputs in (
        (memory_task, {"x": memory.x, "y": memory.y, "sample_weight": memory.sample_weight}),
        (task, {"x": stream.x}),
    ):
        history = fitted.build_model().fit(**inputs, batch_size=16, shuffle=False, verbose=0)
        losses.append(history.history["loss"][0])
        weights.append(fitted.model.get_weights())
    assert losses[0] == pytest.approx(losses[1], rel=1e-6)
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_chunks_resume_at_their_bookmark_with_true_line_numbers(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("text,label\n" + "".join(f'"w{i}\nx",a\n' for i in range(6)))
    lines = readers.FileLines(path)
    records = readers.iter_records(path, "csv", {}, lines)
    # A quoted newline makes each row 2 lines; a row is numbered by the line it starts on.
    assert [next(records)[0] for _ in range(2)] == [2, 4]
    bookmark = lines.position
    resumed = readers.iter_records(
        path, "csv", {}, readers.FileLines(path, bookmark), ["text", "label"]
    )
    assert [(line, row["text"]) for line, row in resumed] == [
        (6, "w2\nx"),
        (8, "w3\nx"),
        (10, "w4\nx"),
        (12, "w5\nx"),
    ]


def test_a_chunk_past_the_header_sniffs_the_files_delimiter(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("text;label\n" + "".join(f"w{i} v;a{i}\n" for i in range(4)))
    assert readers.csv_header(path) == ["text", "label"]
    lines = readers.FileLines(path)
    next(readers.iter_records(path, "csv", {}, lines))
    whole = readers.read_records(path, "csv", {})  # reads the whole file, sniffing at its top
    chunk = readers.FileLines(path, lines.position)
    assert list(readers.iter_records(path, "csv", {}, chunk, ["text", "label"])) == whole[1:]
    assert whole[1] == (3, {"text": "w1 v", "label": "a1"})


def test_a_bad_row_late_in_the_file_names_its_line(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"text": "a b", "label": "x"}\n' * 300 + '{"text": "", "label": "x"}\n')
    task = Task.for_spec(
        {
            "input": {"kind": "tokens"},
            "encoder": {"cell": "gru", "units": 4},
            "head": {"type": "classifier"},
            "data": {"format": "jsonl", "train": str(path)},
        }
    )
    with pytest.raises(keras_seq.DataError) as caught:
        learn_from_file(task, path)
    assert caught.value.line == 301 and caught.value.field == "text"


def test_vocabulary_from_a_file_and_when_to_stream(tmp_path):
    memory_task, _ = in_memory(spec_of("tagger"))
    vocab = memory_task.state["vocab"]
    vocab_file = tmp_path / "vocab.txt"
    keras_seq.Vocabulary(vocab.tokens[:10], lowercase=True).save(vocab_file)
    task, _ = streamed(spec_of("tagger", **{"data.vocabulary": str(vocab_file)}))
    assert task.state["vocab"].tokens == vocab.tokens[:10] and task.spec.input.vocab_size == 10

    def streams(**changes):
        task = Task.for_spec(spec_of("tagger", **changes))
        return wants_streaming(task, task.split_path("train"))

    assert not streams()  # auto, a 200 kB file
    assert streams(**{"data.streaming_above_mb": 0.001})
    assert streams(**{"data.streaming": True})
    assert not streams(**{"data.streaming": False, "data.streaming_above_mb": 0})
    forecaster = Task.for_spec(spec_of("forecaster", **{"data.streaming": True}))
    assert not wants_streaming(forecaster, forecaster.split_path("train"))


def test_train_streams_and_scores_like_keras_on_the_whole_file(tmp_path):
    rng = np.random.default_rng(1)
    for split, count in (("train", 64), ("test", 40)):
        tagged_jsonl(tmp_path / f"{split}.jsonl", count, rng, words=40, longest=9)
    spec = {
        "seed": 2,
        "input": {"kind": "tokens", "embedding_dim": 4},
        "encoder": {"cell": "gru", "units": 4},
        "head": {"type": "tagger"},
        "training": {"batch_size": 8, "epochs": 1},
        "data": {
            "format": "jsonl",
            "train": str(tmp_path / "train.jsonl"),
            "test": str(tmp_path / "test.jsonl"),
            "streaming": True,
            "shuffle_buffer": 16,
        },
    }
    run = keras_seq.train(spec, output=tmp_path / "run", verbose=0)
    path, metrics = run.folder, run.metrics
    task = keras_seq.load(path)
    encoded = task.encode(task.read(tmp_path / "test.jsonl"))  # the whole file, in memory
    expected = task.model.evaluate(
        encoded.x,
        encoded.y,
        sample_weight=encoded.sample_weight,
        batch_size=8,  # the streamed batches (Keras averages the loss per batch)
        verbose=0,
        return_dict=True,
    )
    for name in ("loss", "accuracy"):
        assert metrics["test"][name] == pytest.approx(float(expected[name]), rel=1e-5)
    assert json.loads((path / "metrics.json").read_text())["test"]["loss"] == pytest.approx(
        metrics["test"]["loss"]
    )
