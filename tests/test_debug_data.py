"""`keras-seq debug-data`: every figure checked against a brute-force count of small hand-made
files, the findings and exit codes, and no deep-learning backend imported."""

import collections
import json
import subprocess
import sys

import pytest

from keras_seq import cli
from keras_seq.diagnosis import debug_data
from keras_seq.diagnosis.figures import bio_violations, length_histogram
from keras_seq.spec import load_spec

TRAIN = [
    (["The", "cat", "sat"], ["B-ANI", "I-ANI", "O"]),
    (["The", "cat", "sat"], ["B-ANI", "I-ANI", "O"]),  # a repeat
    (["Paris", "is", "big", "and", "old", "too"], ["B-LOC", "O", "O", "O", "O", "O"]),
    (["a", "dog"], ["O", "I-ANI"]),  # I- after O
    (["Rome"], ["B-LOC"]),
]
VALIDATION = [
    (["The", "cat", "sat"], ["B-ANI", "I-ANI", "O"]),  # also in train
    (["Oslo", "é"], ["B-CITY", "O"]),  # an unseen label, two unseen words, chars O and é
]
TEST = [
    (["Oslo", "é"], ["B-CITY", "O"]),  # also in validation
    (["big", "big", "big", "big", "big", "big", "big"], ["O"] * 7),
]


def _write_jsonl(path, rows):
    lines = [json.dumps({"tokens": t, "tags": g}) for t, g in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture
def tagger_spec(tmp_path):
    paths = {
        split: _write_jsonl(tmp_path / f"{split}.jsonl", rows)
        for split, rows in (("train", TRAIN), ("validation", VALIDATION), ("test", TEST))
    }
    spec = {
        "input": {"kind": "tokens", "max_length": 4, "chars": {"embedding_dim": 4}},
        "encoder": {"cell": "lstm", "units": 4},
        "head": {"type": "tagger"},
        "data": {"format": "jsonl", **paths},
    }
    return load_spec(spec), tmp_path


def _brute(rows, train_rows):
    """Every token figure by plain loops, for one split."""
    keys = [(tuple(t), tuple(g)) for t, g in rows]
    train_words = {w for t, _ in train_rows for w in t}
    train_chars = {c for t, _ in train_rows for w in t for c in w}
    words = [w for t, _ in rows for w in t]
    letters = [c for w in words for c in w]
    return {
        "examples": len(rows),
        "tokens": len(words),
        "duplicates": len(keys) - len(set(keys)),
        "oov": sum(w not in train_words for w in words),
        "characters": len(letters),
        "unseen_characters": sum(c not in train_chars for c in letters),
    }


def test_token_figures_equal_a_brute_force_count(tagger_spec):
    spec, _ = tagger_spec
    diagnosis = debug_data(spec)
    splits = diagnosis.figures["splits"]
    for split, rows in (("train", TRAIN), ("validation", VALIDATION), ("test", TEST)):
        got = {name: splits[split][name] for name in _brute(rows, TRAIN)}
        assert got == _brute(rows, TRAIN), split
        lengths = [len(t) for t, _ in rows]
        assert splits[split]["lengths"]["cut"] == sum(n > 4 for n in lengths)
        assert splits[split]["lengths"]["longest"] == max(lengths)
    # hand-counted: one repeat in train; validation's first record is in train; test's first
    # is in validation; 2 of 5 validation tokens and 2 of 9 test tokens unseen in training
    assert splits["train"]["duplicates"] == 1
    overlap = {"validation~train": 1, "test~train": 0, "test~validation": 1}
    assert diagnosis.figures["overlap"] == overlap
    assert splits["validation"]["oov"] == 2 and splits["test"]["oov"] == 2
    labels = diagnosis.figures["labels"]
    assert labels["O"] == {"train": 8, "validation": 2, "test": 8}
    assert labels["B-CITY"] == {"train": 0, "validation": 1, "test": 1}


def test_token_findings_name_what_to_fix(tagger_spec):
    spec, _ = tagger_spec
    diagnosis = debug_data(spec)
    by_check = collections.defaultdict(list)
    for finding in diagnosis.findings:
        by_check[finding.check].append(finding.message)
    assert diagnosis.errors == 0
    repeat = "train: 1 of 5 (20.0%) examples repeat an earlier one exactly"
    assert by_check["duplicates"] == [repeat]
    assert "train: 1 of 5 (20.0%) examples are longer than input.max_length 4" in (
        " ".join(by_check["length"])
    )
    assert any("labels never seen in training: B-CITY (1)" in m for m in by_check["labels"])
    assert any(m.startswith("validation: training labels missing") for m in by_check["labels"])
    assert any("fewer than 10 training examples" in m for m in by_check["labels"])
    assert by_check["bio"] == [
        "train: 1 invalid BIO transitions (I-X at a start, after O or after another type), the "
        "first in example 4, token 2"
    ]
    assert any("['O', 'é']" in m for m in by_check["characters"])


def test_length_histogram_and_bio_against_loops():
    lengths = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 30]
    histogram = length_histogram(lengths, 12)
    assert [n for _, n in histogram["bins"]] == [
        sum(n <= 3 for n in lengths),
        sum(3 < n <= 6 for n in lengths),
        sum(6 < n <= 9 for n in lengths),
        sum(9 < n <= 12 for n in lengths),
        sum(n > 12 for n in lengths),
    ]
    assert histogram["cut"] == 2 and histogram["longest"] == 30
    free = length_histogram([1, 9, 17, 40], None)
    assert free["bins"] == [["<=8", 1], ["9-16", 1], ["17-32", 1], ["33-64", 1]]
    tags = [["I-A", "B-A", "I-A", "I-B", "O", "I-B", "B-B"]]
    assert bio_violations(tags) == {"count": 3, "first": [0, 0]}


SERIES = """date,region,load
2024-01-01,a,1
2024-01-02,a,2
2024-01-04,a,4
2024-01-05,a,5
2024-01-06,a,6
2024-01-07,a,7
2024-01-01,b,3
2024-01-02,b,3
2024-01-03,b,3
2024-01-04,b,3
2024-01-05,b,3
2024-01-06,b,3
2024-01-01,c,1
2024-01-02,c,2
"""


def _series_spec(tmp_path, fill):
    path = tmp_path / "series.csv"
    path.write_text(SERIES)
    return load_spec(
        {
            "input": {"kind": "features", "dim": 1},
            "encoder": {"cell": "gru", "units": 4},
            "head": {"type": "forecaster", "horizon": 2},
            "data": {
                "format": "csv",
                "time_column": "date",
                "series_id_column": "region",
                "target_columns": ["load"],
                "lookback": 3,
                "fill": fill,
                "train": str(path),
            },
        }
    )


def test_series_gaps_constant_and_short_series(tmp_path):
    diagnosis = debug_data(_series_spec(tmp_path, "interpolate"))
    figures = diagnosis.figures["splits"]["train"]
    # a: 2024-01-03 missing (1 gap, 7 steps); b: constant; c: 2 steps < lookback 3 + horizon 2
    assert figures == {"series": 3, "steps": 15, "gaps": 1, "constant": ["b"], "short": ["c"]}
    assert [(f.level, f.check) for f in diagnosis.findings] == [
        ("error", "series"),
        ("warning", "series"),
        ("warning", "series"),
    ]
    assert "1 series shorter than lookback 3 + horizon 2: 'c'" in diagnosis.findings[0].message


def test_a_gap_that_fill_error_refuses_is_an_error_and_figures_remain(tmp_path):
    diagnosis = debug_data(_series_spec(tmp_path, "error"))
    assert diagnosis.findings[0].level == "error" and "missing timestamps" in str(
        diagnosis.findings[0]
    )
    assert diagnosis.figures["splits"]["train"]["gaps"] == 1


def test_cli_exit_codes_json_and_set(tagger_spec, tmp_path, capsys):
    spec, folder = tagger_spec
    path = folder / "spec.yaml"
    path.write_text(spec.to_yaml())
    assert cli.main(["debug-data", str(path), "--json"]) == 0  # warnings only
    out = json.loads(capsys.readouterr().out)
    assert out["errors"] == 0 and out["warnings"] == len(out["findings"]) > 0
    assert out["splits"]["train"]["lengths"]["cut"] == 1
    # --set as train reads it: a longer max_length cuts nothing
    assert cli.main(["debug-data", str(path), "--json", "--set", "input.max_length=6"]) == 0
    assert json.loads(capsys.readouterr().out)["splits"]["train"]["lengths"]["cut"] == 0
    assert cli.main(["debug-data", str(path), "--set", "data.train=missing.jsonl"]) == 1
    assert "error [read] train:" in capsys.readouterr().out


def test_debug_data_imports_no_backend(tagger_spec):
    spec, folder = tagger_spec
    path = folder / "spec.yaml"
    path.write_text(spec.to_yaml())
    code = (
        "import sys\nfrom keras_seq import cli\n"
        f"code = cli.main(['debug-data', {str(path)!r}])\n"
        "loaded = [m for m in ('keras', 'jax', 'torch', 'tensorflow') if m in sys.modules]\n"
        "print('LOADED', loaded, code)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "LOADED [] 0" in done.stdout, done.stderr


def test_report_lists_the_findings_of_token_data_read_whole(tagger_spec):
    from keras_seq import report
    from keras_seq.diagnosis import report_findings
    from keras_seq.diagnosis.reading import read_splits

    spec, _ = tagger_spec
    records, _ = read_splits(spec)
    found = report_findings(spec, records)
    assert [str(f) for f in found] == [str(f) for f in debug_data(spec).findings]
    page = report.render(
        name="n",
        spec_yaml="",
        metrics={},
        data_stats={"train": {"examples": 5}},
        data_checks=[str(f) for f in found],
    )
    assert page.count("<li>") == len(found) > 0
    del records["test"]  # a streamed split: its records were never held, so nothing is said
    assert report_findings(spec, records) == []
