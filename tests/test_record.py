"""The run record: metrics.json's `run` section, the report's header, read back."""

import datetime
import importlib
import json
import platform
import time

import keras
import pytest

from keras_seq import record, report, runs


def test_metrics_json_records_the_backend_versions_machine_and_speed(small_runs):
    folder, _ = small_runs["tagger"]
    found = json.loads((folder / runs.METRICS).read_text())["run"]
    assert runs.read_record(folder) == found and "run" not in runs.read_metrics(folder)
    backend = keras.backend.backend()
    library = importlib.import_module(record.BACKEND_LIBRARIES[backend])
    assert found["backend"] == backend
    assert found["versions"]["keras"] == keras.__version__
    assert found["versions"][library.__name__] == library.__version__
    assert found["versions"]["python"] == platform.python_version()
    date = datetime.datetime.fromisoformat(found["date"])
    assert date.tzinfo is not None and 0 < time.time() - date.timestamp() < 3600
    # Speed: the training file's words over all epochs' seconds (history.csv).
    history = runs.read_history(folder)
    words = 40 * 6  # small_runs' tagger: 40 sentences of 6 words
    expected = words * len(history["seconds"]) / sum(history["seconds"])
    assert found["words_per_second"] == pytest.approx(expected, rel=1e-6)
    assert found["wall_seconds"] >= sum(history["seconds"])
    assert "examples_per_second" not in found


def test_report_header_shows_the_record(small_runs):
    folder, _ = small_runs["classifier"]
    found = runs.read_record(folder)
    page = (folder / runs.REPORT).read_text()
    header = page[page.index("<h1>") : page.index("<h2>")]
    assert f"<tr><th>backend</th><td>{found['backend']}</td></tr>" in header
    assert f"keras {keras.__version__}" in header and found["date"] in header
    speed = f"<tr><th>examples per second</th><td>{found['examples_per_second']:,.0f}</td></tr>"
    assert speed in header


def test_speed_weights_each_epoch_by_its_seconds():
    # 100 words/s for 1 s, then 400 words/s for 3 s: 1300 words in 4 s.
    history = {"seconds": [1.0, 3.0], "words_per_second": [100.0, 400.0]}
    assert record.make(history, 0.0, 4.5)["words_per_second"] == pytest.approx(325.0)


def test_wide_tables_scroll_inside_their_box():
    labels = ["B-LOC", "I-LOC", "B-MISC", "I-MISC", "B-ORG", "I-ORG", "B-PER", "I-PER"]
    labels += ["B-DATE", "I-DATE", "B-TIME", "I-TIME", "O"]
    matrix = [[i * 13 + j for j in range(13)] for i in range(13)]
    page = report.render(
        name="ner",
        spec_yaml="",
        metrics={"test": {"loss": 1.0}},
        confusion={"test": {"labels": labels, "matrix": matrix}},
    )
    assert ".scroll { overflow-x: auto;" in page
    box = page[page.index("<h2>Confusion matrix (test)</h2>") :]
    box = box[: box.index("</div>") + len("</div>")]
    assert box.count('<div class="scroll"><table>') == 1 and box.endswith("</table></div>")
    # The last column (O) is in the box: its heading and the last row's last count.
    assert "<th>O</th></tr>" in box and f">{13 * 13 - 1}</td></tr>" in box
