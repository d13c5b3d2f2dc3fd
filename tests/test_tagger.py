"""The tagger's `head.decoder: crf`, another spelling of `head.output: crf`, end to end; its CRF
keeps to the transitions of the learned tag scheme."""

import numpy as np
from keras import ops

import keras_seq
from keras_seq.metrics.spans import allowed_transitions
from keras_seq.tasks import Task

SPEC = """
seed: 4
input: {kind: tokens, embedding_dim: 8}
encoder: {cell: gru, units: 8, direction: forward}
head: {type: tagger, %s}
training: {learning_rate: 0.05, batch_size: 16}
"""


def _records(count, seed):
    """BIO tags that need the previous word: x begins an entity, y continues one after x or y
    (else it is O), z is O."""
    rng = np.random.default_rng(seed)
    records = []
    for _ in range(count):
        tokens = [str(t) for t in rng.choice(["x", "y", "z"], size=int(rng.integers(3, 8)))]
        tags = []
        for token in tokens:
            inside = token == "y" and tags and tags[-1] != "O"
            tags.append("B-E" if token == "x" else "I-E" if inside else "O")
        records.append({"tokens": tokens, "tags": tags})
    return records


def _trained(head, train, epochs=6):
    task = Task.for_spec(SPEC % head).learn(train)
    model = task.build_model()
    encoded = task.encode(train)
    history = model.fit(
        encoded.x,
        encoded.y,
        sample_weight=encoded.sample_weight,
        epochs=epochs,
        batch_size=16,
        shuffle=False,
        verbose=0,
    )
    return task, history.history["loss"]


def test_decoder_crf_trains_and_predicts_as_output_crf(tmp_path):
    train, test = _records(48, 0), _records(16, 1)
    task, losses = _trained("decoder: crf", train)
    assert (task.spec.head.decoder, task.spec.head.output) == ("crf", "crf")
    assert isinstance(task.model.layers[-1], keras_seq.layers.CRF) and task.model.loss is None
    assert losses[-1] < 0.5 * losses[0], losses
    predicted = task.predict([record["tokens"] for record in test])
    gold = [tag for record in test for tag in record["tags"]]
    flat = [tag for tags in predicted for tag in tags]
    assert np.mean([g == p for g, p in zip(gold, flat)]) > 0.9

    # The same seed and data with `output: crf`: the same model, losses and predictions.
    other, other_losses = _trained("output: crf", train)
    np.testing.assert_allclose(other_losses, losses, rtol=1e-5)
    assert other.predict([record["tokens"] for record in test]) == predicted

    task.save(tmp_path / "tagger.keras")
    loaded = keras_seq.load(tmp_path / "tagger.keras")
    assert loaded.spec.head.decoder == "crf" and loaded.spec == task.spec
    assert loaded.predict([record["tokens"] for record in test]) == predicted


def test_decoder_softmax_is_the_default_softmax_tagger():
    train = _records(8, 2)
    models = [
        Task.for_spec(SPEC % head).learn(train).build_model()
        for head in ("decoder: softmax", "output: softmax")
    ]
    for model in models:
        assert model.layers[-1].name == "head" and model.loss is not None
        assert not any(isinstance(layer, keras_seq.layers.CRF) for layer in model.layers)
    for mine, theirs in zip(*(model.get_weights() for model in models)):
        np.testing.assert_array_equal(mine, theirs)


def test_a_crf_tagger_decodes_only_sequences_legal_in_the_learned_scheme(tmp_path):
    train = _records(32, 3)
    task = Task.for_spec(SPEC % "output: crf").learn(train)
    crf = task.build_model().get_layer("crf")
    labels = task.state["labels"].tokens
    assert (task.state["scheme"], labels) == ("BIO", ["B-E", "I-E", "O"])
    assert crf.constraints == [list(pair) for pair in allowed_transitions("BIO", labels)]
    assert crf.train_constraints is False
    # Weights that favour the illegal: I-E first, and I-E after O.
    transitions = np.zeros((3, 3), "float32")
    transitions[2, 1] = 5.0
    crf.set_weights([transitions, np.array([0, 5, 0], "float32"), np.zeros(3, "float32")])
    sentences = [record["tokens"] for record in _records(24, 4)]
    for tags in task.predict(sentences):
        assert tags[0] != "I-E" and ("O", "I-E") not in zip(tags, tags[1:])
    scores = task.model.predict(task.encode_inputs(sentences), verbose=0)
    loose = keras_seq.layers.CRF.from_config({**crf.get_config(), "constraints": None})
    loose.build(scores.shape)
    loose.set_weights(crf.get_weights())
    assert (ops.convert_to_numpy(loose.decode(scores))[:, 0] == 1).any()  # I-E first, unchecked

    task.save(tmp_path / "tagger.keras")
    assert keras_seq.load(tmp_path / "tagger.keras").predict(sentences) == task.predict(sentences)


def test_crf_constraints_in_training_and_tags_without_a_scheme():
    train = _records(8, 5)
    spec = SPEC % "output: crf, crf_constraints: decode_and_train"
    crf = Task.for_spec(spec).learn(train).build_model().get_layer("crf")
    assert crf.train_constraints is True and crf.constraints
    pos = [{"tokens": ["the", "dog"], "tags": ["DET", "NOUN"]}]
    crf = Task.for_spec(SPEC % "output: crf").learn(pos).build_model().get_layer("crf")
    assert crf.constraints is None


def test_graph_outputs_follow_the_head_output_and_the_learned_scheme():
    """The tagger says what its exported graph returns (the export card asks it)."""
    spec = "input: {kind: tokens}\nencoder: {cell: gru, units: 4}\nhead: {type: tagger%s}"
    bio = [{"tokens": ["Anna", "runs"], "tags": ["B-PER", "O"]}]
    pos = [{"tokens": ["Anna", "runs"], "tags": ["NOUN", "VERB"]}]
    softmax = Task.for_spec(spec % "").learn(bio)
    assert softmax.graph_outputs.startswith("probabilities (batch, time, labels)")
    crf = Task.for_spec(spec % ", output: crf").learn(bio)
    assert crf.graph_outputs.startswith("tags (batch, time), int32")
    assert "(Viterbi decoding is part of the graph, kept to the transitions BIO allows)" in (
        crf.graph_outputs
    )
    plain = Task.for_spec(spec % ", output: crf").learn(pos)
    assert "(Viterbi decoding is part of the graph), 0 at padding" in plain.graph_outputs
