"""Seq2seq generation: step by step equals the teacher-forced model, with and without attention;
beam search equals exhaustive search over the model's own scores; padding changes nothing."""

import itertools

import numpy as np
import pytest
from task_checks import check_task

import keras_seq
from keras_seq.decoding import BOS_ID, EOS_ID
from keras_seq.tasks.seq2seq import NEVER_GENERATED

TARGET_VOCABULARY = 6  # <pad> <unk> <bos> <eos> + 2 words
OUTPUT_LENGTH = 3
ALLOWED = [t for t in range(TARGET_VOCABULARY) if t not in NEVER_GENERATED]


def _task(attention, beam_size=1, max_length=5):
    spec = f"""
    seed: 3
    input: {{kind: tokens, vocab_size: 8, embedding_dim: 6, max_length: {max_length}}}
    encoder: {{cell: gru, units: 8, direction: bidirectional}}
    head: {{type: seq2seq, target_vocab_size: {TARGET_VOCABULARY}, attention: {attention},
            beam_size: {beam_size}, max_output_length: {OUTPUT_LENGTH},
            decoder: {{cell: lstm, layers: 2}}}}
    """
    task = keras_seq.tasks.Task.for_spec(spec)
    model = task.build_model()
    # Sharper output distributions than an untrained model's near-uniform ones, so that the
    # best sequences are well separated from the runners-up.
    kernel, bias = task.output_layer.get_weights()
    task.output_layer.set_weights([6.0 * kernel, bias])
    return task, model


SOURCES = np.array([[4, 5, 6, 7, 0], [3, 0, 0, 0, 0], [2, 7, 7, 0, 0]], "int32")


def _teacher_forced_log_probs(model, source, sequences):
    """log p(y_t | y_<t, source) of every step of each sequence, by the whole model at once."""
    decoder_input = np.zeros((len(sequences), OUTPUT_LENGTH), "int32")
    for row, sequence in enumerate(sequences):
        decoder_input[row, : len(sequence)] = [BOS_ID, *sequence[:-1]]
    probabilities = model.predict(
        [np.repeat(source[None], len(sequences), 0), decoder_input], verbose=0
    )
    return np.log(probabilities.astype("float64"))


def _all_sequences():
    """Every output of at most OUTPUT_LENGTH tokens: ended by <eos>, or cut at the limit."""
    words = [t for t in ALLOWED if t != EOS_ID]
    sequences = []
    for length in range(1, OUTPUT_LENGTH + 1):
        for prefix in itertools.product(words, repeat=length - 1):
            sequences.append([*prefix, EOS_ID])
            if length == OUTPUT_LENGTH:
                sequences.extend([*prefix, word] for word in words)
    return sequences


def _rows(ids):
    return [row[: row.index(EOS_ID) + 1] if EOS_ID in row else row for row in ids.tolist()]


@pytest.mark.parametrize("attention", ["none", "luong", "bahdanau"])
def test_greedy_generation_agrees_with_teacher_forced_model(attention):
    # Feeding <bos> + the generated ids back as teacher-forcing input, the model's most probable
    # allowed token at each step must be the generated one: the step-by-step decoder (its
    # attention over one query at a time included) computes what the whole model computes.
    task, model = _task(attention)
    generated = _rows(task.generate(SOURCES))
    for source, sequence in zip(SOURCES, generated):
        log_probs = _teacher_forced_log_probs(model, source, [sequence])[0]
        steps = np.arange(len(sequence))
        assert np.array(ALLOWED)[np.argmax(log_probs[steps][:, ALLOWED], -1)].tolist() == sequence


@pytest.mark.parametrize("attention", ["none", "luong", "bahdanau"])
def test_beam_search_equals_exhaustive_search_over_the_model(attention):
    # A beam wide enough for every hypothesis (16 > the 13 live after two steps) must return
    # the sequence with the best mean log-probability per token, as the teacher-forced model
    # scores every possible output.
    task, model = _task(attention, beam_size=16)
    candidates = _all_sequences()
    generated = _rows(task.generate(SOURCES))
    for source, sequence in zip(SOURCES, generated):
        log_probs = _teacher_forced_log_probs(model, source, candidates)
        scores = np.array(
            [np.mean(log_probs[row, np.arange(len(c)), c]) for row, c in enumerate(candidates)]
        )
        best, runner_up = np.sort(scores)[::-1][:2]
        assert best - runner_up > 1e-4  # a well-posed comparison at float32 precision
        assert sequence == candidates[int(np.argmax(scores))]


@pytest.mark.parametrize("attention", ["luong", "bahdanau"])
@pytest.mark.parametrize("beam_size", [1, 3])
def test_source_padding_changes_no_generation(attention, beam_size):
    task, _ = _task(attention, max_length="null")  # any source length
    padded = np.pad(SOURCES, ((0, 0), (0, 3)))
    np.testing.assert_array_equal(
        task.generate(padded, beam_size=beam_size), task.generate(SOURCES, beam_size=beam_size)
    )


def test_beam_size_one_is_greedy_and_spec_beam_size_is_used():
    task, _ = _task("luong", beam_size=4)
    greedy = task.generate(SOURCES, beam_size=1)
    again, _ = _task("luong", beam_size=1)
    np.testing.assert_array_equal(again.generate(SOURCES), greedy)
    np.testing.assert_array_equal(task.generate(SOURCES), task.generate(SOURCES, beam_size=4))


def test_attention_task_checks(tmp_path):
    # Config round trip, fit, save/load (the attention layer found again) and predictions on
    # raw inputs equal after loading, with beam search.
    spec = """
    seed: 1
    input: {kind: tokens, embedding_dim: 8, max_length: 6}
    encoder: {cell: gru, units: 8, direction: bidirectional}
    head: {type: seq2seq, attention: bahdanau, beam_size: 2}
    training: {learning_rate: 0.02, batch_size: 8}
    """
    words = ["a", "b", "c", "d"]
    rng = np.random.default_rng(0)
    train = []
    for _ in range(24):
        source = [str(w) for w in rng.choice(words, rng.integers(2, 5))]
        train.append({"source": source, "target": source[::-1]})
    task = keras_seq.tasks.Task.for_spec(spec)
    loaded, _ = check_task(task, train, [["a", "b", "c"], ["d", "a"]], tmp_path)
    assert loaded.attention is not None and loaded.attention.score == "bahdanau"


@pytest.mark.parametrize(
    "head, message",
    [
        ("{type: seq2seq, beam_size: 0}", "head.beam_size"),
        ("{type: seq2seq, attention: dot}", "head.attention"),
        ("{type: tagger, attention: luong}", "head.attention"),
        ("{type: classifier, beam_size: 2}", "head.beam_size"),
    ],
)
def test_misused_fields_are_spec_errors(head, message):
    with pytest.raises(keras_seq.SpecError, match=message):
        keras_seq.load_spec(f"{{input: {{kind: tokens}}, encoder: {{units: 4}}, head: {head}}}")


def _memory_task(memory):
    spec = f"""
    seed: 4
    input: {{kind: tokens, embedding_dim: 6, max_length: 4, lowercase: true}}
    encoder: {{cell: gru, units: 8}}
    head: {{type: seq2seq, max_output_length: 3, memory: {str(memory).lower()}}}
    """
    records = [
        {"source": "a b", "target": "x"},
        {"source": "A b", "target": "y"},  # the same source once lowercased
        {"source": "a b", "target": "y"},
        {"source": "c", "target": "z w"},  # a tie: the first seen wins
        {"source": "c", "target": "w"},
    ]
    task = keras_seq.tasks.Task.for_spec(spec)
    task.learn(records).build_model()
    return task


def test_memory_answers_sources_seen_in_training_and_generates_the_rest(tmp_path):
    remembering, plain = _memory_task(True), _memory_task(False)
    assert remembering.state["memory"] == [[["a", "b"], ["y"]], [["c"], ["z", "w"]]]
    unseen = ["b a", ["d"]]
    generated = plain.predict(unseen)  # same seed, same weights: memory adds no parameter
    assert remembering.predict(["a B", *unseen, "c"]) == ["y", *generated, "z w"]
    remembering.save(tmp_path / "model.keras")
    loaded = keras_seq.load(tmp_path / "model.keras")
    assert loaded.predict(["a b", "c", *unseen]) == ["y", "z w", *generated]
    assert loaded.export_preprocessing()["memory"] == remembering.state["memory"]
