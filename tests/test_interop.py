import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_seq
from keras_seq import interop

REFERENCE_SCRIPT = os.path.join(os.path.dirname(__file__), "torch_reference.py")

# Reference case (see tests/torch_reference.py) -> the keras_seq.Recurrent arguments it maps to.
CASES = {
    "rnn_relu_2_bidirectional": dict(
        cell="simple", layers=2, direction="bidirectional", activation="relu"
    ),
    "lstm_2_bidirectional": dict(cell="lstm", layers=2, direction="bidirectional"),
    "gru_2": dict(cell="gru", layers=2),
    "gru_bidirectional_no_bias": dict(cell="gru", direction="bidirectional", use_bias=False),
}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """PyTorch modules' weights, a padded batch and their packed-sequence outputs."""
    path = tmp_path_factory.mktemp("torch") / "reference.npz"
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    subprocess.run([sys.executable, REFERENCE_SCRIPT, str(path)], env=env, check=True)
    with np.load(path) as data:
        return {key: data[key] for key in data.files}


def _case(reference, name):
    prefix = f"{name}/"
    arrays = {k[len(prefix) :]: v for k, v in reference.items() if k.startswith(prefix)}
    state_dict = {
        k[len("state_dict/") :]: v for k, v in arrays.items() if k.startswith("state_dict/")
    }
    return arrays, state_dict


def _layer(name, units=7, features=5):
    layer = keras_seq.Recurrent(units=units, return_state=True, **CASES[name])
    layer.build((None, None, features))
    return layer


@pytest.mark.parametrize("name", sorted(CASES))
def test_imported_weights_reproduce_pytorch_on_padded_batch(reference, name):
    arrays, state_dict = _case(reference, name)
    layer = _layer(name)
    interop.load_torch_state_dict(layer, state_dict)
    inputs = arrays["inputs"].astype("float32")
    mask = np.arange(inputs.shape[1])[None, :] < arrays["lengths"][:, None]
    output, *states = layer(inputs, mask=mask)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(output), arrays["output"], atol=1e-5)
    # PyTorch's h_n is (layers * directions, batch, units); keras_seq returns the last layer's
    # states, [h] or [h, c] per direction.
    directions = 2 if CASES[name].get("direction") == "bidirectional" else 1
    per_direction = 2 if "c_n" in arrays else 1
    for d in range(directions):
        h, *c = states[d * per_direction : (d + 1) * per_direction]
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(h), arrays["h_n"][d - directions], atol=1e-5
        )
        if c:
            np.testing.assert_allclose(
                keras.ops.convert_to_numpy(c[0]), arrays["c_n"][d - directions], atol=1e-5
            )


@pytest.mark.parametrize("name", sorted(CASES))
def test_export_gives_back_the_state_dict(reference, name):
    _, state_dict = _case(reference, name)
    layer = _layer(name)
    interop.load_torch_state_dict(layer, state_dict)
    exported = interop.torch_state_dict(layer)
    assert list(exported) == list(state_dict)  # PyTorch's own key order
    for key, value in state_dict.items():
        assert exported[key].dtype == np.float32
        np.testing.assert_array_equal(exported[key], value.astype(np.float32))


def test_model_with_several_recurrent_layers_prefixes_keys():
    inputs = keras.Input((None, 3))
    hidden = keras_seq.Recurrent("gru", 4, name="encoder")(inputs)
    outputs = keras_seq.Recurrent("simple", 2, name="decoder")(hidden)
    model = keras.Model(inputs, outputs)
    state = interop.torch_state_dict(model)
    assert list(state)[:2] == ["encoder.weight_ih_l0", "encoder.weight_hh_l0"]
    assert state["decoder.weight_ih_l0"].shape == (2, 4)
    assert len(state) == 8
    state["decoder.bias_hh_l0"] = np.full(2, 0.25, "float32")
    interop.load_torch_state_dict(model, state)
    bias = model.get_layer("decoder").cells[0][0].recurrent_bias
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(bias), [0.25, 0.25])


def test_mismatches_name_every_key_and_both_shapes():
    layer = _layer("lstm_2_bidirectional")
    before = interop.torch_state_dict(layer)
    state = dict(before)
    state["weight_hh_l1_reverse"] = np.zeros((28, 6))
    del state["bias_ih_l0"]
    state["weight_hr_l0"] = np.zeros((7, 7))
    with pytest.raises(ValueError) as error:
        interop.load_torch_state_dict(layer, state)
    message = str(error.value)
    assert "missing key 'bias_ih_l0'" in message
    assert "unexpected key 'weight_hr_l0'" in message
    assert (
        "'weight_hh_l1_reverse' has shape (28, 6) in the state_dict, the model expects (28, 7)"
        in message
    )
    # Nothing was assigned.
    after = interop.torch_state_dict(layer)
    for key, value in before.items():
        np.testing.assert_array_equal(after[key], value)


def test_unbuilt_or_recurrent_free_models_are_refused():
    with pytest.raises(ValueError, match="Build the model before moving weights"):
        interop.torch_state_dict(keras_seq.Recurrent("gru", 3))
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="contains no keras_seq.Recurrent layer"):
        interop.torch_state_dict(model)


@pytest.mark.backend("torch")
def test_loads_torch_tensors(reference):
    import torch

    arrays, state_dict = _case(reference, "gru_2")
    layer = _layer("gru_2")
    interop.load_torch_state_dict(layer, {k: torch.from_numpy(v) for k, v in state_dict.items()})
    output = layer(arrays["inputs"].astype("float32"))[0]
    # No mask: the full-length sequence (index 0) is unaffected by padding.
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(output)[0], arrays["output"][0], atol=1e-5
    )
