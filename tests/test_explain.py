"""Integrated-gradients explanations: completeness, finite differences, every backend alike."""

import json

import keras
import numpy as np
import pytest
from other_backend import run_on_next_backend

import keras_seq
from keras_seq import cli
from keras_seq.data import DataError
from keras_seq.explain import integrated
from keras_seq.explain.view import html

RECORDS = [
    {"tokens": ["the", "dog", "runs"], "tags": ["DET", "NOUN", "VERB"]},
    {"tokens": ["a", "cat", "sleeps"], "tags": ["DET", "NOUN", "VERB"]},
]


def _tagger(extra=""):
    task = keras_seq.tasks.Task.for_spec(
        "input: {kind: tokens, embedding_dim: 4" + extra + "}\n"
        "encoder: {cell: gru, units: 4}\nhead: {type: tagger}\nseed: 1\n"
    )
    task.learn(RECORDS).build_model()
    # Larger weights than the initial ones, so the outputs move away from uniform.
    for variable in task.model.trainable_variables:
        variable.assign(keras.ops.convert_to_numpy(variable) * 3.0)
    return task


def _forecaster(mask_value=None):
    masking = "" if mask_value is None else f", mask_value: {mask_value}"
    task = keras_seq.tasks.Task.for_spec(
        "input: {kind: features, dim: 2, max_length: 3" + masking + "}\n"
        "encoder: {cell: lstm, units: 4}\nhead: {type: forecaster, horizon: 2}\nseed: 2\n"
    )
    task.build_model()
    return task


def test_attributions_add_up_to_the_output_difference_for_tokens_and_characters():
    task = _tagger(", chars: {embedding_dim: 3, units: 2}")
    found = task.explain(["the cat runs"], steps=64)[0]
    assert found["parts"] == ["tokens", "chars"]
    assert [t["token"] for t in found["targets"]] == ["the", "cat", "runs"]
    probabilities = keras.ops.convert_to_numpy(task.model(task.encode_inputs(["the cat runs"])))
    for target in found["targets"]:
        total = sum(map(sum, target["attributions"].values()))
        moved = target["output"] - target["baseline_output"]
        assert abs(moved) > 1e-3  # something to explain
        np.testing.assert_allclose(total, moved, rtol=1e-3, atol=1e-6)
        assert target["output"] == pytest.approx(probabilities[0, target["step"]].max(), abs=1e-6)


@pytest.mark.parametrize("mask_value", [None, 0.0])
def test_forecaster_attributions_add_up_per_step_and_feature(mask_value):
    task = _forecaster(mask_value)
    window = [[0.5, -1.0], [1.0, 0.25], [-0.5, 2.0]]
    found = task.explain([window], steps=64)[0]
    assert [(t["step"], t["column"]) for t in found["targets"]] == [(0, 0), (1, 0)]
    for target, value in zip(found["targets"], np.ravel(task.predict([window])[0])):
        assert np.shape(target["attributions"]["features"]) == (3, 2)
        assert target["value"] == pytest.approx(value, abs=1e-6)
        moved = target["output"] - target["baseline_output"]
        total = np.sum(target["attributions"]["features"])
        np.testing.assert_allclose(total, moved, rtol=1e-3, atol=1e-6)


def test_integrated_gradients_match_finite_differences_along_the_path():
    task = _tagger()
    x = task.encode_inputs([["the", "dog"]])
    model = task.model
    weights = np.zeros((1, 2, task.spec.head.classes), "float32")
    weights[0, 1, 2] = 1.0
    steps, h = 4, 1e-2
    attributions, _, _ = integrated.integrated_gradients(model, x, weights, steps=steps)
    front = integrated.front_layer(model)
    vectors = keras.ops.convert_to_numpy(keras.Model(model.input, front.output)(x))[0]
    # Central differences of F at each path point, one front value at a time.
    gradient = np.zeros_like(vectors)
    for k in range(steps):
        point = (k + 0.5) / steps * vectors
        shifts = np.eye(vectors.size, dtype="float32").reshape(-1, *vectors.shape) * h
        points = np.concatenate([point + shifts, point - shifts])
        values, _ = integrated._gradient(
            model, front, x, points, np.repeat(weights, len(points), 0)
        )
        up, down = np.split(values.astype("float64"), 2)
        gradient += ((up - down) / (2 * h)).reshape(vectors.shape) / steps
    np.testing.assert_allclose(attributions[0], gradient * vectors, atol=2e-5)


def test_a_head_without_explanations_and_a_step_too_far_are_clear_errors():
    task = _tagger()
    with pytest.raises(DataError, match="--step 5 is past the input's 2 explained tokens"):
        task.explain(["the dog"], step=5)
    encoder = keras_seq.tasks.Task.for_spec(
        "input: {kind: features, dim: 1, max_length: 2}\nencoder: {cell: gru, units: 2}\n"
        "head: {type: none}\n"
    )
    encoder.build_model()
    with pytest.raises(DataError, match="a none head has no explanations"):
        encoder.explain([[[0.5], [1.0]]])


def test_explain_command_writes_errors_first_and_the_shaded_page(small_runs, tmp_path):
    run, _ = small_runs["tagger"]
    data = run.parent / "train.conllu"
    output, page = tmp_path / "why.json", tmp_path / "why.html"
    argv = ["explain", str(run), "--data", str(data), "--limit", "2", "--steps", "32"]
    assert cli.main([*argv, "--output", str(output), "--html", str(page), "--step", "1"]) == 0
    found = json.loads(output.read_text())
    assert len(found) == 2 and all(len(f["targets"]) == 1 for f in found)
    task = keras_seq.load(run)
    records = task.read(str(data))
    errors = [r["tags"] != p for r, p in zip(records, task.predict([r["tokens"] for r in records]))]
    assert [f["error"] for f in found] == sorted(errors, reverse=True)[:2]
    first = [r for r, e in sorted(zip(records, errors), key=lambda pair: not pair[1])][0]
    again = task.explain([first], steps=32, step=1)[0]["targets"][0]
    np.testing.assert_allclose(
        found[0]["targets"][0]["attributions"]["tokens"], again["attributions"]["tokens"], atol=1e-6
    )
    assert found[0]["input"][1] in page.read_text()


def test_the_page_shades_each_step_by_its_share_of_the_largest_attribution():
    page = html(
        [
            {
                "input": ["up", "down"],
                "prediction": "x",
                "parts": ["tokens"],
                "targets": [
                    {
                        "label": "x",
                        "output": 1.0,
                        "baseline_output": 0.0,
                        "attributions": {"tokens": [0.5, -0.25]},
                        "gap": 0.0,
                    }
                ],
            }
        ]
    )
    assert 'rgba(214, 39, 40, 1.00)">up<' in page
    assert 'rgba(31, 119, 180, 0.50)">down<' in page


@pytest.mark.slow
def test_explanations_are_the_same_on_another_backend(tmp_path):
    task = _tagger(", chars: {embedding_dim: 3, units: 2}")
    task.save(tmp_path / "model.keras")
    here = task.explain(["the cat runs"], steps=16)
    script = """
        import json, sys
        import keras_seq
        task = keras_seq.load(sys.argv[1])
        print(json.dumps(task.explain(["the cat runs"], steps=16)))
        """
    elsewhere = run_on_next_backend(script, tmp_path / "model.keras")
    for mine, theirs in zip(here[0]["targets"], elsewhere[0]["targets"]):
        assert mine["tag"] == theirs["tag"]
        for part in ("tokens", "chars"):
            np.testing.assert_allclose(
                mine["attributions"][part], theirs["attributions"][part], atol=2e-6
            )
