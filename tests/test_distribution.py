"""Data-parallel training: 2 virtual devices give the single-device weights; clear refusals."""

import json
import os
import pathlib
import subprocess
import sys

import keras
import pytest

import keras_seq
from keras_seq.backend import distribution

WORKER = pathlib.Path(__file__).with_name("data_parallel_worker.py")


def run_worker(backend, *args, **env):
    environment = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2", **env}
    done = subprocess.run(
        [sys.executable, str(WORKER), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.backend("jax")
def test_jax_data_parallel_steps_equal_one_device():
    result = run_worker("jax", XLA_FLAGS="--xla_force_host_platform_device_count=2")
    assert result["replicas"] == 2  # the weights really live on both devices
    assert result["max_difference"] < 1e-5
    assert result["losses"][0] == pytest.approx(result["losses"][1], abs=1e-6)


@pytest.mark.backend("jax")
def test_jax_batches_two_devices_cannot_share_give_the_one_device_results():
    # 27 rows in batches of 8 (the last of 3), 5 validation and predicted rows: each such
    # batch runs whole on both devices instead of raising jax's IndivisibleError.
    result = run_worker("jax", "uneven", XLA_FLAGS="--xla_force_host_platform_device_count=2")
    assert result["replicas"] == 2
    assert result["max_difference"] < 1e-5
    assert result["losses"][0] == pytest.approx(result["losses"][1], abs=1e-6)
    assert result["val_losses"][0] == pytest.approx(result["val_losses"][1], abs=1e-6)
    assert result["predicted_difference"] < 1e-5


@pytest.mark.backend("tensorflow")
def test_tensorflow_unequal_real_steps_per_device_equal_one_device():
    # Keras alone weighs the two shares' losses equally (4.5e-2 from one device after 3 steps):
    # each share's loss is divided by the whole batch's real steps instead. With the uneven
    # batches below, on a softmax tagger (its loss masked).
    result = run_worker("tensorflow", "skewed", "uneven")
    assert result["replicas"] == 2
    assert result["max_difference"] < 1e-5
    assert result["losses"][0] == pytest.approx(result["losses"][1], abs=1e-6)
    assert result["val_losses"][0] == pytest.approx(result["val_losses"][1], abs=1e-6)
    assert result["predicted_difference"] < 1e-5
    assert result["warnings"] == []


# 27 rows in batches of 8 (the last of 3: shares of 2 and 1 rows), 5 validation and predicted
# rows (3 and 2): Keras' build from the first batch failed on shares of different shapes, and
# its logged loss weighs each share's mean by its rows. A CRF (the layer's own loss, not
# divided by the replicas) with skewed padding, a classifier (no mask, per-sequence weights,
# some 0) with its gradients clipped (Keras alone clips each replica's before summing: 4.7e-2);
# the softmax tagger is above.
@pytest.mark.backend("tensorflow")
@pytest.mark.parametrize(
    "case", [["uneven", "skewed", "crf"], ["uneven", "classifier", "clipnorm"]]
)
def test_tensorflow_batches_two_devices_cannot_share_give_the_one_device_results(case):
    result = run_worker("tensorflow", *case)
    assert result["replicas"] == 2
    assert result["max_difference"] < 1e-5
    assert result["losses"][0] == pytest.approx(result["losses"][1], abs=1e-6)
    assert result["val_losses"][0] == pytest.approx(result["val_losses"][1], abs=1e-6)
    assert result["predicted_difference"] < 1e-5


@pytest.mark.backend("jax")
def test_jax_unequal_real_steps_per_device_equal_one_device():
    result = run_worker("jax", "skewed", XLA_FLAGS="--xla_force_host_platform_device_count=2")
    assert result["max_difference"] < 1e-5
    assert result["warnings"] == []


def training(**distribution_section):
    spec = keras_seq.load_spec(
        {
            "input": {"kind": "tokens"},
            "encoder": {"cell": "gru", "units": 4},
            "head": {"type": "tagger"},
            "training": {"batch_size": 6, "distribution": distribution_section},
        }
    )
    return spec.training


@pytest.mark.backend("torch")
def test_torch_refuses_and_names_the_backends_that_can():
    with pytest.raises(keras_seq.SpecError) as caught:
        with distribution.scope(training(strategy="data_parallel")):
            pass
    problem = caught.value.problems[0]
    assert problem.path == "training.distribution.strategy"
    assert "torch" in problem.message and "jax or tensorflow" in problem.allowed


@pytest.mark.backend("jax", "tensorflow")
def test_more_devices_than_there_are_is_a_spec_error():
    count = len(keras.distribution.list_devices()) if keras.backend.backend() == "jax" else 1
    with pytest.raises(keras_seq.SpecError) as caught:
        with distribution.scope(training(strategy="data_parallel", devices=count + 7)):
            pass
    assert caught.value.problems[0].path == "training.distribution.devices"


@pytest.mark.backend("jax", "tensorflow")
def test_batch_that_devices_cannot_share_is_a_spec_error(monkeypatch):
    monkeypatch.setattr(distribution, "_devices", lambda: ["cpu:0", "cpu:1", "cpu:2", "cpu:3"])
    with pytest.raises(keras_seq.SpecError) as caught:
        with distribution.scope(training(strategy="data_parallel", devices=4)):
            pass
    assert caught.value.problems[0].path == "training.batch_size"
    assert caught.value.problems[0].allowed == "a multiple of 4"


def test_strategy_none_is_a_plain_context():
    with distribution.scope(training()) as engine:
        assert engine is None
    assert distribution.device_count(training().distribution) == 1
