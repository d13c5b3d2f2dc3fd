"""Shared test setup: the `backend` marker and the backend this run uses."""

import keras
import pytest
import small_runs as _small_runs


def pytest_collection_modifyitems(config, items):
    current = keras.backend.backend()
    for item in items:
        marker = item.get_closest_marker("backend")
        if marker and current not in marker.args:
            names = ", ".join(marker.args)
            item.add_marker(pytest.mark.skip(reason=f"needs KERAS_BACKEND={names}"))


def pytest_report_header(config):
    return f"keras backend: {keras.backend.backend()}"


@pytest.fixture(scope="session")
def small_runs(tmp_path_factory):
    """One small trained run per task on this backend: `{task: (run folder, raw inputs)}`."""
    from keras_seq import cli

    made = {}
    for name, make in _small_runs.TASKS.items():
        folder = tmp_path_factory.mktemp(name)
        spec, inputs = make(folder)
        assert cli.main(["train", str(spec), "--output", str(folder / "run")]) == 0
        made[name] = (folder / "run", inputs)
    return made
