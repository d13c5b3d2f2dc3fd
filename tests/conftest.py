"""Shared test setup: the `backend` marker and the backend this run uses."""

import keras
import pytest


def pytest_collection_modifyitems(config, items):
    current = keras.backend.backend()
    for item in items:
        marker = item.get_closest_marker("backend")
        if marker and current not in marker.args:
            names = ", ".join(marker.args)
            item.add_marker(pytest.mark.skip(reason=f"needs KERAS_BACKEND={names}"))


def pytest_report_header(config):
    return f"keras backend: {keras.backend.backend()}"
