"""Runs a script in a fresh process on the next backend (KERAS_BACKEND is read once, at import),
for tests that compare a saved model's numbers across backends."""

import json
import os
import subprocess
import sys
import textwrap

import keras

NEXT_BACKEND = {"tensorflow": "jax", "jax": "torch", "torch": "tensorflow"}


def run_on_next_backend(script, *args):
    """The JSON the script (dedented) prints last, run as `python -c script *args` with the
    backend after this one; the test fails with its stderr if it exits non-zero."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *map(str, args)],
        env={**os.environ, "KERAS_BACKEND": NEXT_BACKEND[keras.backend.backend()]},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
