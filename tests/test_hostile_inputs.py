"""Hostile inputs and faults through the real CLI: each ends with one clear message naming the
file, line and field (exit code 1 or 2, no traceback, no file left behind), or, for legal but
suspicious input, a correct result and a visible warning. One case per bug found and fixed."""

import gzip
import json
import os
import subprocess
import sys
import zipfile

import pytest

from keras_seq import cli

TAGGER = """version: 1
name: t
seed: 1
input: {kind: tokens, embedding_dim: 3, max_length: 12}
encoder: {cell: gru, units: 4}
head: {type: tagger}
training: {batch_size: 8, epochs: 1}
data: {format: conllu, train: t.conllu}
"""
NER = TAGGER.replace("format: conllu, train: t.conllu", "format: jsonl, train: t.jsonl")
CLASSIFIER = TAGGER.replace("type: tagger", "type: classifier").replace(
    "format: conllu, train: t.conllu", "format: csv, train: t.csv"
)
SERIES = """version: 1
name: s
seed: 1
input: {kind: features, dim: 1}
encoder: {cell: gru, units: 4}
head: {type: forecaster, horizon: 2}
training: {batch_size: 8, epochs: 1}
data: {format: csv, time_column: date, target_columns: [value], lookback: 4, train: t.csv}
"""
WORDS = "1\tThe\tthe\tDET\t_\t_\t2\tdet\t_\t_\n2\tdog\tdog\tNOUN\t_\t_\t0\troot\t_\t_\n\n"
TAGS = '{"tokens": ["a", "b"], "tags": ["O", "B-PER"]}\n'
VECTORS = TAGGER.replace("max_length: 12", "max_length: 12, vectors: {path: v.txt}")
LAMBDA = {  # a Lambda layer whose function is Python bytecode: Keras' safe mode refuses it
    "module": "keras.layers",
    "class_name": "Lambda",
    "config": {
        "name": "evil",
        "function": {"class_name": "__lambda__", "config": {"code": "4wEAAAA=", "defaults": None}},
    },
}


def _model_keras(config=LAMBDA):
    with zipfile.ZipFile(buffer := __import__("io").BytesIO(), "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.15.0"}))
    return buffer.getvalue()


# (name, argv, files, expected in stderr). {d} is the case's folder; every case must exit
# non-zero with all the expected parts in its one message, and write nothing.
ERRORS = [
    (
        "spec learning rate NaN",
        ["validate", "{d}/s.yaml"],
        {"s.yaml": TAGGER.replace("epochs: 1", "epochs: 1, learning_rate: .nan")},
        ["s.yaml:7:", "training.learning_rate", "nan is not a finite number"],
    ),
    (
        "spec learning rate inf",
        ["validate", "{d}/s.yaml"],
        {"s.yaml": TAGGER.replace("epochs: 1", "epochs: 1, learning_rate: .inf")},
        ["s.yaml:7:", "training.learning_rate", "inf is not a finite number"],
    ),
    (
        "seed beyond 2**32 - 1 (NumPy's limit, found only when training)",
        ["validate", "{d}/s.yaml"],
        {"s.yaml": TAGGER.replace("seed: 1", "seed: 18446744073709551616")},
        ["s.yaml:3:7: seed: 18446744073709551616 is out of range", "<= 4294967295"],
    ),
    (
        "regression loss on a tagger (a shape error only when training)",
        ["validate", "{d}/s.yaml"],
        {"s.yaml": TAGGER.replace("epochs: 1", "epochs: 1, loss: mse")},
        ["s.yaml:7:", "training.loss: 'mse' does not fit a tagger's targets", "sparse_categ"],
    ),
    (
        "AUC metric on a tagger (a shape error only when training)",
        ["validate", "{d}/s.yaml"],
        {"s.yaml": TAGGER.replace("epochs: 1", "epochs: 1, metrics: [accuracy, auc]")},
        ["training.metrics[1]: 'auc' does not fit a tagger's targets", "(or no training.metrics"],
    ),
    (
        "data path with a NUL character",
        ["show", "{d}/s.yaml"],
        {"s.yaml": TAGGER.replace("train: t.conllu", 'train: "t\\0.conllu"')},
        ["s.yaml:8:", "data.train: a file name cannot hold a NUL character"],
    ),
    (
        "data path of 5000 characters",
        ["train", "{d}/s.yaml", "--dry-run", "--train", "x" * 5000],
        {"s.yaml": TAGGER},
        ["keras-seq train: ", "File name too long", "xxx..."],
    ),
    (
        "spec path is a folder",
        ["validate", "{d}/sub"],
        {"sub/x": "x"},
        ["sub: (top level): a folder, not a spec file"],
    ),
    ("spec name without extension", ["show", "{d}/myspec"], {}, ["myspec", "spec file not found"]),
    (
        "spec not UTF-8",
        ["validate", "{d}/s.yaml"],
        {"s.yaml": TAGGER.replace("name: t", "name: caf\xe9").encode("latin-1")},
        ["s.yaml:2: (top level): not valid UTF-8 (byte 0xe9)"],
    ),
    (
        "CSV header names a column twice",
        ["train", "{d}/s.yaml", "--output", "{d}/out"],
        {"s.yaml": CLASSIFIER, "t.csv": "text,text,label\na,b,pos\nc,d,neg\n"},
        ["t.csv:1: field 'text'", "names column 'text' 2 times (columns 1, 2)", "Fix:"],
    ),
    (
        "training labels all the same",
        ["train", "{d}/s.yaml", "--output", "{d}/out"],
        {"s.yaml": CLASSIFIER, "t.csv": "text,label\na b,pos\nc d,pos\n"},
        ["t.csv: the training data has 1 distinct label(s) ('pos')", "data.label_column"],
    ),
    (
        "JSONL integer with 5000 digits",
        ["train", "{d}/s.yaml", "--output", "{d}/out"],
        {"s.yaml": NER, "t.jsonl": TAGS + '{"tokens": ["a"], "tags": [' + "9" * 5000 + "]}\n"},
        ["t.jsonl:2: not usable JSON", "Fix:"],
    ),
    (
        "JSONL key given twice",
        ["train", "{d}/s.yaml", "--output", "{d}/out"],
        {"s.yaml": NER, "t.jsonl": TAGS + '{"tokens": ["a"], "tokens": ["a", "b"], "tags": []}\n'},
        ["t.jsonl:2: field 'tokens': the key 'tokens' appears twice"],
    ),
    (
        "CoNLL-U word IDs repeated",
        ["train", "{d}/s.yaml", "--output", "{d}/out"],
        {"s.yaml": TAGGER, "t.conllu": WORDS + WORDS.replace("2\tdog", "1\tdog")},
        ["t.conllu:5: field 'id': word ID 1 where 2 comes next"],
    ),
    (
        "vectors with NaN",
        ["train", "{d}/s.yaml", "--output", "{d}/out"],
        {"s.yaml": VECTORS, "t.conllu": WORDS, "v.txt": "the 1 2 3\ndog 1 nan 3\n"},
        ["v.txt:2: a value of 'dog' is NaN, infinite or too large"],
    ),
    (
        "vectors path is a folder",
        ["train", "{d}/s.yaml", "--output", "{d}/out"],
        {"s.yaml": VECTORS, "t.conllu": WORDS, "v.txt/x": "x"},
        ["v.txt: a folder, not a file. Fix: check the path given in input.vectors.path"],
    ),
    (
        "model sizes beyond memory",
        ["train", "{d}/s.yaml", "--dry-run"],
        {"s.yaml": TAGGER.replace("units: 4", "units: 100000000000"), "t.conllu": WORDS},
        ["keras-seq train: out of memory", "encoder.units"],
    ),
    (
        "model.keras truncated",
        ["evaluate", "{d}/run", "--data", "{d}/t.conllu"],
        {"run/model.keras": _model_keras()[:40], "t.conllu": WORDS},
        ["model.keras: not a .keras model file", "truncated"],
    ),
    (
        "model.keras not a zip",
        ["predict", "{d}/run", "--data", "{d}/t.conllu"],
        {"run/model.keras": "hello", "t.conllu": WORDS},
        ["model.keras: not a .keras model file"],
    ),
    (
        "model.keras with a Lambda layer",
        ["evaluate", "{d}/run", "--data", "{d}/t.conllu"],
        {"run/model.keras": _model_keras(), "t.conllu": WORDS},
        ["model.keras: cannot load the model: it would run Python code", "refused"],
    ),
    (
        "predict --output is a folder",
        ["predict", "{d}/run", "--data", "{d}/t.conllu", "--output", "{d}/od"],
        {"run/model.keras": "x", "t.conllu": WORDS, "od/keep": ""},
        ["cannot write --output", "od: it is a folder; give a file name"],
    ),
    (
        "predict --output in a missing folder",
        ["predict", "{d}/run", "--data", "{d}/t.conllu", "--output", "{d}/no/p.conllu"],
        {"run/model.keras": "x", "t.conllu": WORDS},
        ["cannot write --output", "the folder", "does not exist"],
    ),
    (
        "export --length 0",
        ["export", "{d}/run", "--format", "onnx", "--length", "0"],
        {},
        ["--length: must be a whole number >= 1, got '0'"],
    ),
    (
        "backtest --folds 0",
        ["backtest", "{d}/s.yaml", "--folds", "0"],
        {"s.yaml": SERIES},
        ["--folds: must be a whole number >= 1, got '0'"],
    ),
    (
        "check-backends --weights missing",
        ["check-backends", "{d}/s.yaml", "--weights", "{d}/w.weights.h5"],
        {"s.yaml": TAGGER},
        ["w.weights.h5: file not found. Fix: check the path given in --weights"],
    ),
    (
        "check-backends --weights not HDF5",
        ["check-backends", "{d}/s.yaml", "--weights", "{d}/w.weights.h5"],
        {"s.yaml": TAGGER, "w.weights.h5": "garbage"},
        ["w.weights.h5: not a Keras weights file"],
    ),
    (
        "data file is a device",
        ["train", "{d}/s.yaml", "--train", "/dev/null"],
        {"s.yaml": TAGGER},
        ["/dev/null: a device, not a data file. Fix: check the path given in --train"],
    ),
    (
        "CoNLL-U form with a line separator",
        ["train", "{d}/s.yaml", "--output", "{d}/out"],
        {"s.yaml": TAGGER, "t.conllu": WORDS + WORDS.replace("dog", "d\u2028g")},
        ["t.conllu:5: field 'form': \"d\\u2028g\" contains a line break character"],
    ),
    (
        "resume from a damaged checkpoint",
        ["train", "--resume", "{d}/run"],
        {"run/checkpoint/progress.json": "{garbage"},
        ["run/checkpoint/progress.json: not a checkpoint's progress file", "Fix: start the run"],
    ),
    (
        "serve --port out of range",
        ["serve", "{d}/run", "--port", "99999"],
        {},
        ["--port: must be a port number from 0 to 65535, got '99999'"],
    ),
    (
        "serve --max-records negative",
        ["serve", "{d}/run", "--max-records", "-1"],
        {},
        ["--max-records: must be a whole number >= 1, got '-1'"],
    ),
    (
        "--set with a 100 000-character value",
        ["train", "{d}/s.yaml", "--set", "encoder.cell=" + "x" * 100_000],
        {"s.yaml": TAGGER},
        ["encoder.cell: 'xxxxxxxxxx", "... (100000 characters) is not one of the choices"],
    ),
    (
        "init on a folder",
        ["init", "{d}/sub", "--output", "{d}/s.yaml"],
        {"sub/x": "x"},
        ["sub: a folder, not a file"],
    ),
    (
        "quantiles out of order (validate accepted them, training crashed)",
        ["validate", "{d}/s.yaml"],
        {"s.yaml": SERIES.replace("horizon: 2", "horizon: 2, quantiles: [0.9, 0.1, 0.5]")},
        [
            "s.yaml:6:",
            "head.quantiles: quantiles must be strictly increasing; allowed: the same values in "
            "increasing order: [0.1, 0.5, 0.9]",
        ],
    ),
    (
        "misspelt search.objective (validate accepted it, tune crashed)",
        ["validate", "{d}/s.yaml"],
        {
            "s.yaml": TAGGER
            + "search:\n  objective: val_acuracy\n  space: {encoder.units: {choice: [4, 8]}}\n"
        },
        [
            "s.yaml:10:14: search.objective: 'val_acuracy' is not a name the model will log",
            "Did you mean 'val_accuracy'?",
        ],
    ),
    (
        "vectors file giving one word twice (accepted silently)",
        ["train", "{d}/s.yaml", "--dry-run"],
        {"s.yaml": VECTORS, "t.conllu": WORDS, "v.txt": "dog 1 2 3\nThe 1 2 3\ndog 4 5 6\n"},
        [
            "v.txt:3: the word 'dog' has a vector on line 1 already. Fix: keep one line per "
            "word (delete one of the two)"
        ],
    ),
    (
        "lone UTF-16 surrogate in a JSONL token (a traceback after an epoch)",
        ["train", "{d}/s.yaml", "--output", "{d}/out"],
        {"s.yaml": NER, "t.jsonl": TAGS + '{"tokens": ["a", "\\ud800"], "tags": ["O", "O"]}\n'},
        [
            "t.jsonl:2: field 'tokens': a lone UTF-16 surrogate (\\ud800, from a \\u escape) is "
            "not a character. Fix: write the character itself, or both halves of a \\u pair "
            "(\\ud83d\\ude00)"
        ],
    ),
    (
        "init --input-column that is not there",
        ["init", "{d}/t.csv", "--input-column", "txt", "--output", "{d}/s.yaml"],
        {"t.csv": "text,label\na b,pos\nc d,neg\n"},
        ["t.csv: field 'txt': no column 'txt'", "--input-column one of: text, label"],
    ),
]


def _write(folder, files):
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("name, argv, files, expected", ERRORS, ids=[c[0] for c in ERRORS])
def test_bad_input_is_one_clear_error_and_writes_nothing(
    tmp_path, capsys, name, argv, files, expected
):
    _write(tmp_path, files)
    before = _files(tmp_path)
    argv = [part.replace("{d}", str(tmp_path)) for part in argv]
    try:
        code = cli.main(argv)
    except SystemExit as stop:  # argparse's usage errors
        code = stop.code
    err = capsys.readouterr().err
    assert code in (1, 2), err
    assert "Traceback" not in err
    for part in expected:
        assert part in err, err
    assert len(err) < 1000  # one paragraph, whatever the input's size
    assert _files(tmp_path) == before


def test_validate_json_is_standard_json_for_a_nan_value(tmp_path, capsys):
    _write(tmp_path, {"s.yaml": TAGGER.replace("epochs: 1", "epochs: 1, learning_rate: .nan")})
    assert cli.main(["validate", "--json", str(tmp_path / "s.yaml")]) == 1
    [result] = json.loads(capsys.readouterr().out, parse_constant=pytest.fail)
    assert result["problems"][0]["found"] == "nan"


def _untrained_run(folder, spec_text, files):
    """A run folder holding an untrained model: enough to check what evaluate reports."""
    from keras_seq.spec import load_spec
    from keras_seq.tasks import Task

    _write(folder, {"s.yaml": spec_text, **files})
    task = Task.for_spec(load_spec(folder / "s.yaml"))
    task.learn(task.read_split("train"))
    task.build_model()
    (folder / "run").mkdir()
    task.save(folder / "run" / "model.keras")
    return folder / "run"


@pytest.mark.parametrize(
    "test_file, warning",
    [
        ("text,label\nzzz qqq,pos\nwww eee,neg\n", "100% of the tokens are not in the training"),
        ("text,label\na b,what\nc d,neg\n", "1 labels not seen in training ('what' x1)"),
    ],
    ids=["all out of vocabulary", "unseen label"],
)
def test_evaluate_warns_visibly_on_suspicious_test_data(
    tmp_path, capsys, caplog, test_file, warning
):
    train = "text,label\na b,pos\nc d,neg\n"
    run = _untrained_run(tmp_path, CLASSIFIER, {"t.csv": train, "test.csv": test_file})
    assert cli.main(["evaluate", str(run), "--data", str(tmp_path / "test.csv")]) == 0
    assert warning in caplog.text  # a WARNING record: on standard error in the CLI
    assert "oov_rate" in json.loads(capsys.readouterr().out)


def test_a_test_set_of_unseen_labels_only_scores_null_with_a_reason(tmp_path, capsys, caplog):
    train = "text,label\na b,pos\nc d,neg\n"
    _write(tmp_path, {"t.csv": train, "test.csv": "text,label\na b,what\nc d,huh\n"})
    spec = CLASSIFIER.replace("train: t.csv", "train: t.csv, test: test.csv")
    _write(tmp_path, {"s.yaml": spec})
    assert cli.main(["train", str(tmp_path / "s.yaml"), "--output", str(tmp_path / "run")]) == 0
    assert "run saved to" in capsys.readouterr().out
    test = json.loads((tmp_path / "run" / "metrics.json").read_text())["test"]
    assert test == {"accuracy": None, "loss": None, "oov_rate": 0.0, "unseen_labels": 2.0}
    assert (
        "nothing scored: every label was unseen in training, so accuracy, loss are null (not 0)"
        in caplog.text
    )
    argv = ["evaluate", str(tmp_path / "run"), "--data", str(tmp_path / "test.csv")]
    assert cli.main(argv) == 0
    assert json.loads(capsys.readouterr().out)["loss"] is None


def test_vectors_that_match_no_word_warn_visibly(tmp_path, caplog):
    _write(tmp_path, {"s.yaml": VECTORS, "t.conllu": WORDS, "v.txt": "zzz 1 2 3\nyyy 1 2 3\n"})
    assert cli.main(["train", str(tmp_path / "s.yaml"), "--dry-run"]) == 0
    assert "0 of 2 vocabulary words found (0.0%); check the file's language" in caplog.text


def test_backtest_of_a_constant_series_warns_and_writes_standard_json(tmp_path, caplog):
    rows = "".join(f"2023-01-{day:02d},5.0\n" for day in range(1, 29))
    _write(tmp_path, {"s.yaml": SERIES, "t.csv": "date,value\n" + rows})
    argv = ["backtest", str(tmp_path / "s.yaml"), "--folds", "2", "--output", str(tmp_path / "b")]
    assert cli.main(argv) == 0
    assert "MASE is undefined (null in backtest.json)" in caplog.text
    text = (tmp_path / "b" / "backtest.json").read_text()
    report = json.loads(text, parse_constant=pytest.fail)  # no NaN literal
    assert report["overall"]["naive"]["mase"] is None
    assert report["overall"]["naive"]["mae"] == 0.0


def test_vectors_gz_truncated_names_the_file(tmp_path, capsys):
    partial = gzip.compress("".join(f"w{i} 1 2 3\n" for i in range(500)).encode())[:40]
    _write(tmp_path, {"s.yaml": VECTORS.replace("v.txt", "v.txt.gz"), "t.conllu": WORDS})
    (tmp_path / "v.txt.gz").write_bytes(partial)
    assert cli.main(["train", str(tmp_path / "s.yaml"), "--dry-run"]) == 1
    assert "v.txt.gz: cannot read the file" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, files, expected",
    [
        (["validate", "{d}/s.json"], {"s.json": "[" * 100_000 + "]" * 100_000}, "nests deeper"),
        (
            ["train", "{d}/s.yaml", "--output", "{d}/out"],
            {"s.yaml": CLASSIFIER, "t.csv": "text,label\na b,pos\nc d,neg,x\n"},
            "t.csv:3: the row has 3 fields split on commas (',', sniffed from the header), "
            "the header has 2",
        ),
    ],
    ids=["deep JSON spec", "ragged CSV row"],
)
def test_real_process_exits_1_with_one_message(tmp_path, argv, files, expected):
    _write(tmp_path, files)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    argv = [part.replace("{d}", str(tmp_path)) for part in argv]
    done = subprocess.run(
        [sys.executable, "-m", "keras_seq.cli", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 1
    assert expected in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def _export_format():
    import keras

    return "onnx" if keras.backend.backend() == "torch" else "saved_model"


def test_predict_never_overwrites_a_file_of_its_run(tmp_path, capsys):
    run = _untrained_run(tmp_path, TAGGER, {"t.conllu": WORDS})
    model = run / "model.keras"
    before, files = model.read_bytes(), _files(tmp_path)
    argv = ["predict", str(run), "--data", str(tmp_path / "t.conllu"), "--output", str(model)]
    assert cli.main(argv) == 1
    assert capsys.readouterr().err.strip() == (
        f"--output {model} is an input ({run}): give another file name (inputs are never "
        "overwritten)"
    )
    assert model.read_bytes() == before and _files(tmp_path) == files


def test_export_refuses_a_taken_output_before_loading_the_model(tmp_path, capsys, monkeypatch):
    from keras_seq import tasks

    run = _untrained_run(tmp_path, TAGGER, {"t.conllu": WORDS})
    (tmp_path / "taken").mkdir()
    monkeypatch.setattr(tasks, "load", pytest.fail)  # the model is never loaded
    argv = ["export", str(run), "--format", _export_format(), "--output", str(tmp_path / "taken")]
    assert cli.main(argv) == 1
    assert capsys.readouterr().err.strip() == (
        f"{tmp_path / 'taken'} already exists: choose another --output"
    )


def test_export_of_the_current_folder_that_is_no_run_names_it(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["export", ".", "--format", _export_format()]) == 1
    err = capsys.readouterr().err
    assert "not a run folder (no model.keras)" in err and "Traceback" not in err
    assert _files(tmp_path) == []


def test_export_of_a_run_with_a_truncated_metrics_file_names_it(tmp_path, capsys):
    run = _untrained_run(tmp_path, TAGGER, {"t.conllu": WORDS})
    (run / "metrics.json").write_text('{"test": {"loss": 0.')
    files = _files(tmp_path)
    assert cli.main(["export", str(run), "--format", _export_format()]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{run / 'metrics.json'}: not a run's metrics file (damaged or trunc")
    assert err.endswith(
        "Fix: delete it (the run is used without its scores), or train the run again"
    )
    assert _files(tmp_path) == files


def test_export_without_the_onnx_package_says_how_to_get_it(monkeypatch):
    import importlib.util

    from keras_seq.export import ExportError, check_supported

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "onnx" else real(name, *a)
    )
    with pytest.raises(ExportError, match="needs the onnx package, which is not installed. Fix"):
        check_supported("onnx", backend="torch")


@pytest.mark.parametrize(
    "error, expected",
    [
        (
            OSError(28, "No space left on device", "out/model.keras"),
            "keras-seq train: out/model.keras: No space left on device. Fix: free space on that "
            "disk, or give an --output on another one",
        ),
        (
            OSError(30, "Read-only file system", "out/.x.partial"),
            "keras-seq train: out/.x.partial: Read-only file system. Fix: give an --output on a "
            "writable file system",
        ),
        (
            OSError(28, "No space left on device"),
            "keras-seq train: a file (unnamed by the library): No space left on device. Fix: "
            "free space on that disk, or give an --output on another one",
        ),
    ],
    ids=["disk full", "read-only", "disk full, no file named"],
)
def test_an_os_error_names_the_file_and_the_fix(tmp_path, capsys, monkeypatch, error, expected):
    from keras_seq import pipeline

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(pipeline, "train", fail)
    _write(tmp_path, {"s.yaml": TAGGER, "t.conllu": WORDS})
    assert cli.main(["train", str(tmp_path / "s.yaml")]) == 1
    assert capsys.readouterr().err.strip() == expected
    assert cli.main(["-v", "train", str(tmp_path / "s.yaml")]) == 1
    assert "Traceback" in capsys.readouterr().err  # the traceback only with -v


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda task: task.pop("spec"), "it has no 'spec' entry"),
        (
            lambda task: task["spec"]["encoder"].update(units="x"),
            "encoder.units: expected an integer >= 1, found 'x' (a string)",
        ),
    ],
    ids=["no spec", "bad spec value"],
)
def test_a_damaged_keras_seq_section_in_model_keras_names_the_file(
    tmp_path, capsys, damage, reason
):
    run = _untrained_run(tmp_path, TAGGER, {"t.conllu": WORDS})
    with zipfile.ZipFile(run / "model.keras") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    damage(config["config"]["keras_seq_task"])
    members["config.json"] = json.dumps(config)
    with zipfile.ZipFile(run / "model.keras", "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    assert cli.main(["predict", str(run), "--data", str(tmp_path / "t.conllu")]) == 1
    assert capsys.readouterr().err.strip() == (
        f"{run / 'model.keras'}: the keras-seq section of the model (spec and vocabularies) is "
        f"damaged: {reason}. Fix: train the run again, or restore the file from a copy"
    )


def test_backtest_refuses_a_taken_output_before_reading_anything(tmp_path, capsys, monkeypatch):
    from keras_seq import tasks

    _write(tmp_path, {"s.yaml": SERIES, "b/kept.txt": "mine"})
    monkeypatch.setattr(tasks.Task, "for_spec", pytest.fail)  # no data read, no fold trained
    argv = ["backtest", str(tmp_path / "s.yaml"), "--output", str(tmp_path / "b")]
    assert cli.main(argv) == 1
    assert capsys.readouterr().err.strip() == (
        f"{tmp_path / 'b'} already exists: choose another --output"
    )
    assert (tmp_path / "b" / "kept.txt").read_text() == "mine"
