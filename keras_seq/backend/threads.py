"""`model_thread`: what a backend needs to run a model well outside the main thread.

On torch, oneDNN's fused RNN kernel (`torch.lstm` and kin, which `torch_fused` calls) runs
far slower in a thread other than the one that first used it (docs/speed.md). With oneDNN
off, PyTorch's own kernel computes the same values at full speed in any thread.
"""

import contextlib

import keras


def model_thread():
    """A context manager to wrap model calls made from a worker thread."""
    if keras.backend.backend() == "torch":
        import torch

        return torch.backends.mkldnn.flags(enabled=False)
    return contextlib.nullcontext()
