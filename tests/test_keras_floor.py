"""keras-seq refuses a Keras older than 3.13.2 (model-loading CVE fixes) when Keras is imported,
with one message naming the version found and the fix."""

import os
import subprocess
import sys

import pytest

import keras_seq

MESSAGE = (
    "keras-seq needs Keras 3.13.2 or newer, found {}: older Keras loads crafted .keras files "
    'unsafely (CVE-2025-9906, CVE-2026-1669). Fix: pip install --upgrade "keras>=3.13.2"'
)


@pytest.mark.parametrize("version", ["3.10.0", "3.13.1", "3.12.9", "2.15.0", "3.13.1rc1"])
def test_older_keras_is_refused_with_the_fix(version):
    with pytest.raises(ImportError) as error:
        keras_seq.check_keras_version(version)
    assert str(error.value) == MESSAGE.format(version)


@pytest.mark.parametrize("version", ["3.13.2", "3.13.10", "3.14.0.dev2026", "4.0.0"])
def test_the_floor_and_newer_are_accepted(version):
    assert keras_seq.check_keras_version(version) is None


@pytest.mark.parametrize("first", ["keras", "keras_seq"])
def test_import_refuses_an_installed_old_keras_whichever_comes_first(tmp_path, first):
    """An old Keras on the path (a stand-in package saying 3.12.0): `import keras_seq` after
    it, or `import keras` after keras_seq (its import hook), fails with the message."""
    (tmp_path / "keras").mkdir()
    (tmp_path / "keras" / "__init__.py").write_text("__version__ = '3.12.0'\n")
    second = "keras_seq" if first == "keras" else "keras"
    code = f"import {first}\nimport {second}\nprint('imported')"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert "imported" not in done.stdout
    assert f"ImportError: {MESSAGE.format('3.12.0')}" in done.stderr
