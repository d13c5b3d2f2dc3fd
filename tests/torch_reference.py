"""Computes PyTorch references for tests/test_interop.py, in its own process.

Usage: python tests/torch_reference.py OUT.npz

Imports only torch and numpy (torch next to TensorFlow can crash). For each case below it
writes, under keys "<case>/<name>": the module's state_dict, a post-padded input batch with
varied lengths, and the outputs of running it through `pack_padded_sequence`: the padded
output sequence and the final states (h_n, and c_n for LSTM).
"""

import sys

import numpy as np
import torch

# name: (module class, keyword arguments)
CASES = {
    "rnn_relu_2_bidirectional": (
        torch.nn.RNN,
        {"num_layers": 2, "nonlinearity": "relu", "bidirectional": True},
    ),
    "lstm_2_bidirectional": (torch.nn.LSTM, {"num_layers": 2, "bidirectional": True}),
    "gru_2": (torch.nn.GRU, {"num_layers": 2}),
    "gru_bidirectional_no_bias": (torch.nn.GRU, {"bidirectional": True, "bias": False}),
}
INPUT_SIZE, HIDDEN_SIZE, BATCH, TIME = 5, 7, 4, 6
LENGTHS = [6, 3, 1, 4]


def run(name, module_class, kwargs):
    torch.manual_seed(len(name))
    module = module_class(INPUT_SIZE, HIDDEN_SIZE, batch_first=True, **kwargs).double()
    lengths = torch.tensor(LENGTHS)
    inputs = torch.randn(BATCH, TIME, INPUT_SIZE, dtype=torch.float64)
    inputs[torch.arange(TIME)[None, :] >= lengths[:, None]] = 0.0
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        inputs, lengths, batch_first=True, enforce_sorted=False
    )
    with torch.no_grad():
        output, states = module(packed)
    output, _ = torch.nn.utils.rnn.pad_packed_sequence(output, batch_first=True, total_length=TIME)
    h_n, c_n = states if isinstance(states, tuple) else (states, None)
    arrays = {f"state_dict/{k}": v.numpy() for k, v in module.state_dict().items()}
    arrays.update(
        inputs=inputs.numpy(), lengths=lengths.numpy(), output=output.numpy(), h_n=h_n.numpy()
    )
    if c_n is not None:
        arrays["c_n"] = c_n.numpy()
    return {f"{name}/{key}": value for key, value in arrays.items()}


if __name__ == "__main__":
    results = {}
    for case, (module_class, kwargs) in CASES.items():
        results.update(run(case, module_class, kwargs))
    np.savez(sys.argv[1], **results)
