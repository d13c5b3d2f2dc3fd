"""The verbs work alike: `--set` on every command that reads a spec (train's implementation),
and `task.predict("one text")` predicts that text."""

import json
import pathlib

import pytest

import keras_seq
from keras_seq import backtesting, cli, portability, tuning

SPECS = pathlib.Path(__file__).parent.parent / "specs"
# Each command that reads a spec, with its required arguments.
COMMANDS = {
    "train": ["s.yaml"],
    "show": ["s.yaml"],
    "debug-data": ["s.yaml"],
    "backtest": ["s.yaml"],
    "tune": ["s.yaml", "--output", "o"],
    "evaluate": ["run", "--data", "d.csv"],
    "check-backends": ["s.yaml"],
}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_that_reads_a_spec_takes_set(command):
    parser = cli.build_parser()
    args = parser.parse_args([command, *COMMANDS[command], "--set", "a=1", "--set", "b=2"])
    assert args.set == ["a=1", "b=2"]


def test_show_applies_and_validates_set(capsys):
    spec = str(SPECS / "tagger.yaml")
    assert cli.main(["show", spec, "--set", "encoder.units=16"]) == 0
    assert "  units: 16\n" in capsys.readouterr().out
    assert cli.main(["show", spec, "--set", "encoder.unit=16"]) == 1
    assert "unknown field 'unit' (from --set encoder.unit=16)" in capsys.readouterr().err


def test_check_backends_gets_every_spec_changed_and_refuses_a_bad_set(monkeypatch, capsys):
    seen = []

    class Report:
        passed = True

    def fake(specs, weights=None):
        seen.extend(specs)
        return Report()

    monkeypatch.setattr(portability, "check_backends", fake)
    specs = [str(SPECS / "tagger.yaml"), str(SPECS / "ner.yaml")]
    assert cli.main(["check-backends", *specs, "--set", "encoder.units=5"]) == 0
    assert [spec.encoder.units for spec in seen] == [5, 5]
    seen.clear()
    assert cli.main(["check-backends", *specs, "--set", "encoder.units=-1"]) == 1
    assert seen == [] and "--set encoder.units=-1" in capsys.readouterr().err


def test_backtest_gets_the_changed_spec_and_refuses_set_with_resume(monkeypatch, capsys):
    seen = {}

    def fake(spec, **options):
        seen["spec"] = spec
        return "folder", {}

    monkeypatch.setattr(backtesting, "backtest", fake)
    monkeypatch.setattr(backtesting, "table", lambda report: "")
    spec = str(SPECS / "load.yaml")
    assert cli.main(["backtest", spec, "--set", "training.epochs=1"]) == 0
    assert seen["spec"].training.epochs == 1 and seen["spec"].data.lookback == 28
    assert cli.main(["backtest", "--resume", "folder", "--set", "training.epochs=1"]) == 2
    assert "--set cannot be used with --resume" in capsys.readouterr().err


def test_tune_trials_start_from_the_changed_spec():
    source = SPECS / "tagger-search.yaml"
    spec = keras_seq.load_spec(source)
    raw = tuning._raw_with_absolute_paths(source, spec, {"training.epochs": 1, "seed": 7})
    assert raw["training"]["epochs"] == 1 and raw["seed"] == 7
    assert keras_seq.load_spec(raw).training.epochs == 1


def test_evaluate_set_changes_data_fields_only(small_runs, tmp_path, capsys):
    run, _ = small_runs["classifier"]
    rows = ["a good film,pos", "a bad film,neg", "film,pos"]
    (tmp_path / "plain.csv").write_text("text,label\n" + "\n".join(rows) + "\n")
    (tmp_path / "renamed.csv").write_text("review,label\n" + "\n".join(rows) + "\n")
    assert cli.main(["evaluate", str(run), "--data", str(tmp_path / "plain.csv")]) == 0
    plain = json.loads(capsys.readouterr().out)
    renamed = [str(tmp_path / "renamed.csv"), "--set", "data.text_column=review"]
    assert cli.main(["evaluate", str(run), "--data", *renamed]) == 0
    assert json.loads(capsys.readouterr().out) == plain
    assert cli.main(["evaluate", str(run), "--data", *renamed[:1], "--set", "encoder.units=3"]) == 1
    assert "evaluate scores the trained model" in capsys.readouterr().err


@pytest.mark.parametrize(
    "name, text", [("classifier", "a good film"), ("tagger", "the old man"), ("seq2seq", "c a")]
)
def test_predict_takes_one_text_as_one_input(small_runs, name, text):
    task = keras_seq.load(small_runs[name][0])
    assert task.predict(text) == task.predict([text])
    assert len(task.predict(text)) == 1
