"""Seed ensembles (`training.ensemble`): a saved ensemble against its members' mean, the
trained model against the mean of the runs of its members' seeds alone, an interrupted
ensemble against an uninterrupted one, its explanations against the mean of its members',
and the heads it refuses."""

import keras
import numpy as np
import pytest
import test_pipeline

import keras_seq
from keras_seq import cli, ensembles, pipeline, runs, training
from keras_seq.explain import integrated_gradients
from keras_seq.export import export

# test_pipeline's tiny tagger (seed 3, the bundled data), two epochs, two members.
TAGGER = test_pipeline.TAGGER.replace("epochs: 1", "epochs: 2, ensemble: 2")
SENTENCES = [["the", "dog", "barks", "loudly"], ["a", "cat", "sat", "down"]]


def _alone(seed, tmp_path):
    spec = TAGGER.replace("ensemble: 2", "ensemble: 1").replace("seed: 3", f"seed: {seed}")
    return keras_seq.train(spec, output=tmp_path / f"seed-{seed}", verbose=0)


def _built_members(seeds=(3, 4)):
    """Tagger tasks of `seeds`, built (untrained) on a vocabulary of `SENTENCES`."""
    from keras_seq.tasks import Task

    records = [{"tokens": s, "tags": ["NOUN", "VERB"] * 2} for s in SENTENCES]
    members = []
    for seed in seeds:
        members.append(Task.for_spec(TAGGER.replace("seed: 3", f"seed: {seed}")).learn(records))
        members[-1].build_model()
    return members


def _ensemble_of(members):
    from keras_seq.tasks import Task

    task = Task.for_spec(TAGGER, state=members[0].state)
    task.compile(ensembles.averaged([m.model for m in members], "two"))
    return task


def test_a_saved_ensemble_loads_and_predicts_its_members_mean(tmp_path):
    members = _built_members()
    _ensemble_of(members).save(tmp_path / "model.keras")
    loaded = keras_seq.load(tmp_path / "model.keras")
    assert [m.name for m in ensembles.members(loaded.model)] == ["member_1", "member_2"]
    x = loaded.encode_inputs(SENTENCES)
    mean = np.mean([m.model.predict(x, verbose=0) for m in members], axis=0)
    np.testing.assert_allclose(loaded.model.predict(x, verbose=0), mean, atol=1e-6, rtol=0)


def test_runs_trained_apart_combine_into_the_ensemble_and_others_are_refused(tmp_path):
    members = _built_members()
    paths = []
    for k, member in enumerate(members):
        paths.append(tmp_path / f"{k}.keras")
        member.save(paths[-1])
    combined = ensembles.from_runs(paths)
    assert combined.spec.training.ensemble == 2 and combined.spec.seed == 3
    x = combined.encode_inputs(SENTENCES)
    mean = np.mean([m.model.predict(x, verbose=0) for m in members], axis=0)
    np.testing.assert_allclose(combined.model.predict(x, verbose=0), mean, atol=1e-6, rtol=0)

    other = _built_members(seeds=(5,))[0]
    other.spec = other.spec.replace({"encoder.units": 4, "head.dropout": 0.1})
    other.build_model()
    other.save(tmp_path / "other.keras")
    with pytest.raises(keras_seq.DataError, match="differs .* in encoder.units, head.dropout"):
        ensembles.from_runs([paths[0], tmp_path / "other.keras"])
    combined.save(tmp_path / "two.keras")
    with pytest.raises(keras_seq.DataError, match="already an ensemble of 2"):
        ensembles.from_runs([paths[0], tmp_path / "two.keras"])
    with pytest.raises(keras_seq.DataError, match="two runs or more"):
        ensembles.from_runs(paths[:1])


def test_an_exported_ensemble_computes_its_members_mean(tmp_path):
    """ONNX on torch (whose parameters Keras keys by variable path, which the members share),
    SavedModel on the others: the graph's outputs against the members' mean."""
    import test_export

    members = _built_members()
    _ensemble_of(members).save(tmp_path / "model.keras")
    loaded = keras_seq.load(tmp_path / "model.keras")
    fmt = test_export.FORMAT[keras.backend.backend()]
    folder = export(loaded, tmp_path / "out", fmt, length=6)
    ids = np.pad(loaded.encode_inputs(SENTENCES), ((0, 0), (0, 2)))
    read = test_export._onnx_outputs if fmt == "onnx" else test_export._saved_model_outputs
    mean = np.mean([m.model.predict(ids, verbose=0) for m in members], axis=0)
    np.testing.assert_allclose(read(folder, [ids]), mean, atol=1e-5)


@pytest.mark.slow
@pytest.mark.backend("torch")  # which seeds train, in which order: the same on every backend
def test_an_ensemble_predicts_the_mean_of_its_seeds_trained_alone(tmp_path):
    run = keras_seq.train(TAGGER, output=tmp_path / "ensemble", verbose=0)
    alone = [_alone(3, tmp_path), _alone(4, tmp_path)]
    loaded = keras_seq.load(run.folder)
    assert loaded.spec.seed == 3 and loaded.spec.training.ensemble == 2
    x = loaded.encode_inputs(SENTENCES)
    mean = np.mean([r.task.model.predict(x, verbose=0) for r in alone], axis=0)
    np.testing.assert_allclose(loaded.model.predict(x, verbose=0), mean, atol=1e-6, rtol=0)
    # The history: each member's epochs in turn, as each seed's run logged them.
    assert run.history["member"] == [1, 1, 2, 2]
    joined = alone[0].history["loss"] + alone[1].history["loss"]
    np.testing.assert_allclose(run.history["loss"], joined, rtol=1e-5)
    assert runs.read_history(run.folder)["member"] == [1.0, 1.0, 2.0, 2.0]
    assert run.metrics["test"] == pytest.approx(
        loaded.evaluate(run.task.spec.data.test), rel=1e-5, abs=1e-7
    )
    # The same runs trained apart, combined by `keras-seq ensemble`: the same run folder.
    combined = tmp_path / "combined"
    folders = [str(r.folder) for r in alone]
    assert cli.main(["ensemble", *folders, "--output", str(combined)]) == 0
    for split, scores in run.metrics.items():
        assert runs.read_metrics(combined)[split] == pytest.approx(scores, rel=1e-6, abs=1e-7)
    history = runs.read_history(combined)
    assert history["member"] == [1.0, 1.0, 2.0, 2.0]
    np.testing.assert_allclose(history["loss"], joined, rtol=1e-5)
    assert keras_seq.load(combined).spec.training.ensemble == 2
    walls = [runs.read_record(folder)["wall_seconds"] for folder in folders]
    assert runs.read_record(combined)["members_wall_seconds"] == walls


@pytest.mark.backend("torch")  # arithmetic on what each backend's own explain tests check
def test_an_ensembles_explanations_are_its_members_mean():
    members = _built_members()
    task = _ensemble_of(members)
    sentence = SENTENCES[0]
    found = task.explain([sentence], steps=8)[0]["targets"]
    # The members' integrated gradients of the ensemble's predicted tags.
    x = task.encode_inputs([sentence])
    shape = np.shape(task.model.predict(x, verbose=0))[1:]
    targets = task.explain_targets(sentence, task.predict([sentence])[0], shape)
    weights = np.stack([weight for _, weight in targets])
    each = [integrated_gradients(m.model, x, weights, 8) for m in members]
    attributions, outputs, baselines = (np.mean(parts, axis=0) for parts in zip(*each))
    assert len(found) == len(sentence)
    for j, target in enumerate(found):
        assert target["output"] == pytest.approx(outputs[j], abs=1e-6)
        assert target["baseline_output"] == pytest.approx(baselines[j], abs=1e-6)
        per_word = attributions[j].sum(-1).reshape(-1)  # the tokens part: all the front vector
        np.testing.assert_allclose(target["attributions"]["tokens"], per_word, atol=1e-6)


@pytest.mark.slow
@pytest.mark.backend("torch")  # the members' order and files; each backend resumes in test_pipeline
def test_an_ensemble_stopped_in_its_second_member_resumes_to_the_same_weights(
    tmp_path, monkeypatch
):
    whole = keras_seq.train(TAGGER, output=tmp_path / "whole", verbose=0)
    save = training.EpochCheckpoint.on_epoch_end
    epochs = []

    def crash_in_the_second_member(self, epoch, logs=None):
        save(self, epoch, logs)
        epochs.append(epoch)
        if len(epochs) == 3:  # member 2's first epoch
            raise KeyboardInterrupt

    monkeypatch.setattr(training.EpochCheckpoint, "on_epoch_end", crash_in_the_second_member)
    with pytest.raises(KeyboardInterrupt):
        keras_seq.train(TAGGER, output=tmp_path / "broken", verbose=0)
    monkeypatch.setattr(training.EpochCheckpoint, "on_epoch_end", save)
    checkpoint = tmp_path / "broken" / "checkpoint"
    assert sorted(p.name for p in (checkpoint / ensembles.MEMBERS).iterdir()) == [
        "0.json",
        "0.keras",
    ]

    resumed = pipeline.resume(tmp_path / "broken", verbose=0)
    assert resumed.task.spec.seed == 3 and resumed.history["member"] == [1, 1, 2, 2]
    for a, b in zip(whole.task.model.get_weights(), resumed.task.model.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)
    for split, scores in whole.metrics.items():
        assert resumed.metrics[split] == pytest.approx(scores, rel=1e-5, abs=1e-7)


@pytest.mark.parametrize(
    "head",
    [
        "{type: tagger, output: crf}",
        "{type: tagger, decoder: crf}",
        "{type: seq2seq}",
        "{type: forecaster, anchor: last, shrink: validation}",
    ],
)
def test_heads_that_decode_or_shrink_outside_the_averaged_outputs_refuse_an_ensemble(head):
    kind = "features, dim: 1" if "forecaster" in head else "tokens"
    text = f"input: {{kind: {kind}}}\nencoder: {{cell: gru, units: 4}}\nhead: {head}\n"
    keras_seq.load_spec(text + "training: {ensemble: 1}\n")
    with pytest.raises(keras_seq.SpecError) as caught:
        keras_seq.load_spec(text + "training: {ensemble: 3}\n")
    (problem,) = caught.value.problems
    assert problem.path == "training.ensemble" and "training.ensemble: 1" in str(problem)
