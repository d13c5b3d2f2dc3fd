"""Same numbers on TensorFlow, JAX and PyTorch: `check_backends` and its report.

- `report`: `BackendReport`, what a check found, per spec and quantity.
- `runner`: `check_backends`, one process per backend, with a time limit.
- `worker`: what each backend's process computes.
"""

from keras_seq.portability.report import BACKENDS, TOLERANCES, BackendReport, SpecComparison
from keras_seq.portability.runner import check_backends
