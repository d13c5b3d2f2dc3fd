"""Run folders: atomic creation, metrics, history and curves files."""

import datetime
import json
import os

import pytest

from keras_seq import runs


def test_run_folder_is_filled_only_when_the_block_succeeds(tmp_path):
    target = tmp_path / "tagger-1"
    with runs.RunFolder(target) as folder:
        (folder / "model.keras").write_text("x")
        assert list(target.iterdir()) == []  # reserved, empty, until the block succeeds
        assert folder.parent == tmp_path and folder.name.startswith(".tagger-1.")
    assert [p.name for p in tmp_path.iterdir()] == ["tagger-1"]
    assert (target / "model.keras").read_text() == "x"
    assert oct(target.stat().st_mode & 0o777) == oct(0o777 & ~_umask())


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_run_folder_is_removed_on_error(tmp_path, error):
    with pytest.raises(error), runs.RunFolder(tmp_path / "run") as folder:
        (folder / "model.keras").write_text("x")
        raise error()
    assert list(tmp_path.iterdir()) == []


def test_folders_a_failed_run_created_above_its_own_are_removed(tmp_path):
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "other").mkdir()  # an earlier run's: kept
    with pytest.raises(RuntimeError), runs.RunFolder(tmp_path / "runs" / "a" / "b" / "run"):
        raise RuntimeError()
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["other"]
    with pytest.raises(RuntimeError), runs.RunFolder(tmp_path / "new" / "run"):
        raise RuntimeError()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]


def test_run_folder_never_overwrites(tmp_path):
    (tmp_path / "run").mkdir()
    with (
        pytest.raises(FileExistsError, match="choose another --output"),
        runs.RunFolder(tmp_path / "run"),
    ):
        pass
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_default_path_is_name_and_timestamp():
    now = datetime.datetime(2025, 3, 4, 5, 6, 7)
    assert str(runs.default_path("pos-tagger", "runs", now)) == "runs/pos-tagger-20250304-050607"


def test_metrics_round_trip_with_non_finite_as_null(tmp_path):
    runs.write_metrics(
        tmp_path, {"train": {"loss": 0.25, "accuracy": 1}, "test": {"loss": float("nan")}}
    )
    assert json.loads((tmp_path / runs.METRICS).read_text()) == {
        "train": {"loss": 0.25, "accuracy": 1.0},
        "test": {"loss": None},
    }
    assert [p.name for p in tmp_path.iterdir()] == [runs.METRICS]  # no temporary file left


def test_write_text_atomic_replaces_and_cleans_up(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    runs.write_text_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_history_reads_back_and_curves_draw_one_panel_per_quantity(tmp_path):
    (tmp_path / runs.HISTORY).write_text("epoch,loss,val_loss\n1,2.0,2.5\n2,1.0,1.5\n")
    history = runs.read_history(tmp_path)
    assert history == {"epoch": [1.0, 2.0], "loss": [2.0, 1.0], "val_loss": [2.5, 1.5]}
    one = tmp_path / "one.png"
    runs.plot_curves(history, one)
    two = tmp_path / "two.png"
    runs.plot_curves({**history, "accuracy": [0.5, 0.6], "val_accuracy": [0.4, 0.5]}, two)
    from matplotlib import image

    assert image.imread(one).shape[1] * 2 == image.imread(two).shape[1]  # 5 inches per panel
