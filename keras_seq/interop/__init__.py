"""Weights from and to PyTorch: `nn.RNN` / `nn.LSTM` / `nn.GRU` state_dicts.

>>> import numpy as np, keras_seq
>>> layer = keras_seq.Recurrent("gru", 4, layers=2)
>>> _ = layer(np.zeros((1, 3, 5), "float32"))
>>> state = keras_seq.interop.torch_state_dict(layer)
>>> list(state)[:4], state["weight_ih_l0"].shape
(['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0'], (12, 5))
>>> keras_seq.interop.load_torch_state_dict(layer, state)
"""

from keras_seq.interop.pytorch import load_torch_state_dict, torch_state_dict

__all__ = ["load_torch_state_dict", "torch_state_dict"]
