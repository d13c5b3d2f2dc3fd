"""The benchmark's report: roof, ratios and memory columns from known figures (no timing)."""

import mmap
import sys

import pytest

from benchmarks import runner, worker


def run(train_ms, predict_ms, peak_mem_mb, file_mem_mb):
    return {
        "train_ms": train_ms,
        "predict_ms": predict_ms,
        "peak_mem_mb": peak_mem_mb,
        "file_mem_mb": file_mem_mb,
    }


def rows():
    ours = [run(30.0, 8.0, 300.0, 66.0), run(40.0, 10.0, 320.0, 66.0), run(35.0, 9.0, 310.0, 64.0)]
    theirs = [
        run(60.0, 12.0, 200.0, 15.0),
        run(50.0, 10.0, 210.0, 15.0),
        run(70.0, 18.0, 205.0, 16.0),
    ]
    return [
        runner.summarize("keras-seq", "tensorflow", "tagger", ours),
        runner.summarize("builtin", "tensorflow", "tagger", theirs),
    ]


def line_of(text, label, after):
    """The tagger line of the table that follows the header starting with `after`."""
    section = text[text.index(after) :]
    return next(line for line in section.splitlines() if line.startswith(label)).split()


def test_the_roof_is_the_fastest_library_and_named_with_the_others():
    text = runner.table(rows(), {"jax": 400.0, "tensorflow": 300.0, "torch": None})
    assert "float32 matmul roof: 400 GFLOP/s (the fastest of jax 400, tensorflow 300)" in text
    assert runner.machine_roof({"torch": None}) is None


def test_ratios_and_roof_column_match_a_hand_computation():
    text = runner.table(rows(), {"tensorflow": 400.0})
    train = line_of(text, "tagger", "train step")
    # Medians 35 and 60; paired: median of 30/60, 40/50, 35/70 = 0.5.
    assert train[2:6] == ["35.0", "60.0", f"{35 / 60:.2f}", "0.50"]
    # Recurrent matmul FLOPs of the tagger's forward pass, per direction and layer:
    # 2 * batch * time * (features + units) * 4 gates * units; features 64, then 256.
    forward = 2 * sum(2 * 32 * 64 * (f + 128) * 4 * 128 for f in (64, 256))
    ideal_ms = 3 * forward / 400.0 / 1e6
    assert train[-1] == f"{35 / ideal_ms:.1f}"
    predict = line_of(text, "tagger", "predict batch")
    # Paired: median of 8/12, 10/10, 9/18.
    assert predict[2:6] == ["9.0", "12.0", f"{9 / 12:.2f}", f"{8 / 12:.2f}"]


def test_memory_table_gives_each_peak_with_its_file_backed_part():
    text = runner.table(rows())
    memory = line_of(text, "tagger", "peak memory growth")
    # keras-seq, code, built-in, code, torch, code (no torch run: dashes).
    assert memory[2:] == ["310", "66", "205", "15", "-", "-"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/status is Linux's")
def test_file_backed_memory_grows_by_a_file_read_through_a_mapping(tmp_path):
    size = 32 * 1024 * 1024
    path = tmp_path / "pages.bin"
    path.write_bytes(b"\1" * size)
    before = worker._file_rss_mb()
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as pages:
        total = sum(pages[i] for i in range(0, size, mmap.PAGESIZE))  # touch every page
        grown = worker._file_rss_mb() - before
    assert total == size // mmap.PAGESIZE
    assert 30 <= grown <= 40
