"""`data.format: conll`: CoNLL-2003 and WNUT-style column files read by index, every bad file
named by its line, and a CRF tagger trained, evaluated (entity F1 per type against a hand
count) and predicting back into the conlleval layout."""

import json
import pathlib
import random

import pytest

import keras_seq
from keras_seq import cli
from keras_seq.data import DataError, conll, readers

SPECS = pathlib.Path(__file__).resolve().parents[1] / "specs"

CONLL2003 = (
    "-DOCSTART- -X- -X- O\n"
    "\n"
    "EU NNP B-NP B-ORG\n"
    "rejects VBZ B-VP O\n"
    "German JJ B-NP B-MISC\n"
    "call NN I-NP O\n"
    "\n"
    "Peter NNP B-NP B-PER\n"
    "Blackburn NNP I-NP I-PER\n"
    "\n"
    "-DOCSTART- -X- -X- O\n"
    "\n"
    "BRUSSELS  NNP  B-NP  B-LOC\n"  # runs of spaces
    "1996-08-22 CD I-NP O\n"
)

# WNUT 2017's train file: TAB-separated, some sentences ended by a line holding a lone TAB; here
# also CRLF line ends, a comment, and tokens that start with '#' (hashtags, a lone '#').
WNUT = (
    "# sent_id = 1\r\n"
    "@paulwalk\tO\r\n"
    "It\tO\r\n"
    "'s\tO\r\n"
    "Miami\tB-location\r\n"
    "\t\r\n"
    "#\tO\r\n"
    "New York\tB-location\r\n"
    "#photography\tO\r\n"
    "\r\n"
    "Spurs\tB-group"  # no line end at the end of the file
)


def write(tmp_path, name, text):
    path = tmp_path / name
    data = text.encode("utf-8") if isinstance(text, str) else text
    path.write_bytes(data)
    return path


def test_conll2003_columns_docstart_and_spaces(tmp_path):
    path = write(tmp_path, "eng.train", CONLL2003)
    sentences, tags = conll.read_conll(path)
    assert sentences == [
        ["EU", "rejects", "German", "call"],
        ["Peter", "Blackburn"],
        ["BRUSSELS", "1996-08-22"],
    ]
    assert tags == [["B-ORG", "O", "B-MISC", "O"], ["B-PER", "I-PER"], ["B-LOC", "O"]]
    assert conll.read_conll(path, 0, 1)[1][0] == ["NNP", "VBZ", "JJ", "NN"]  # POS by index
    assert conll.read_conll(path, -4, 2)[1][1] == ["B-NP", "I-NP"]  # chunks, token from the end
    assert readers.read_tagging(path, "conll", 0, -1) == (sentences, tags)


def test_wnut_crlf_tab_lines_comments_and_hash_tokens(tmp_path):
    path = write(tmp_path, "wnut.conll", WNUT)
    sentences, tags = conll.read_conll(path)
    assert sentences == [
        ["@paulwalk", "It", "'s", "Miami"],
        ["#", "New York", "#photography"],  # a TAB-separated '#' is a token, not a comment
        ["Spurs"],
    ]
    assert tags == [["O", "O", "O", "B-location"], ["O", "B-location", "O"], ["B-group"]]


def test_a_space_separated_hash_line_is_a_comment_only_before_a_sentence(tmp_path):
    path = write(tmp_path, "c.conll", "# a comment\nLove O\n# O\n\n#\nx O\n")
    assert conll.read_conll(path) == ([["Love", "#"], ["x"]], [["O", "O"], ["O"]])


def test_streaming_bookmarks_give_the_same_sentences(tmp_path):
    path = write(tmp_path, "eng.train", CONLL2003)
    lines = readers.FileLines(path)
    examples = conll.iter_conll(path, lines=lines)
    first = next(examples)
    rest = list(conll.iter_conll(path, lines=readers.FileLines(path, lines.position)))
    assert [first, *rest] == list(zip(*conll.read_conll(path)))


BAD = [
    # (file text, options, message, line)
    ("a O\nb O\n\nc\n", {}, r"the line has 1 column\(s\) .* first token line \(line 1\) has 2", 4),
    ("a\tO\tx\nb\tO\n", {}, r"the line has 2 column\(s\) \(TABs .*\(line 1\) has 3", 2),
    ("a O\nb O\n", {"tags_column": 3}, r"has 2 column\(s\), so data.tags_column 3 names none", 1),
    ("\na O\n", {"tokens_column": -3}, "data.tokens_column -3 names none", 2),
    ("a\nb\n", {}, "tokens_column 0 and data.tags_column -1 name the same column", 1),
    ("a\tO\n\tO\n", {}, r"an empty token \(data.tokens_column\)", 2),
    ("a\tO\nb\t\n", {}, r"an empty tag \(data.tags_column\)", 2),
    ("a O\nb\x0cc O\n", {}, "contains a line break character", 2),
    ("a O\n\nb\x00c O\n", {}, "a NUL byte", 3),
    ("-DOCSTART- -X- O\n\n# only a comment\n", {}, "no sentences found", None),
    (" \t\r\n\n", {}, "the file is empty", None),
    (b"a O\n\ncaf\xe9 O\n", {}, r"not valid UTF-8 \(byte 0xe9\)", 3),
    (b"\x89PNG\r\n\x1a\n\x00\x00", {}, r"not valid UTF-8 \(byte 0x89\)", 1),
]


@pytest.mark.parametrize(("text", "options", "message", "line"), BAD)
def test_bad_files_name_the_line(tmp_path, text, options, message, line):
    path = write(tmp_path, "bad.conll", text)
    with pytest.raises(DataError, match=message) as caught:
        conll.read_conll(path, **options)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{path}:{line}: " if line else f"{path}: ")
    if line is not None and not isinstance(text, bytes):  # the streaming source says the same
        with pytest.raises(DataError, match=message):
            list(conll.iter_conll(path, lines=readers.FileLines(path), **options))


def test_bundled_ner_data_as_conll_reads_and_streams_as_its_jsonl(tmp_path):
    import keras
    import numpy as np

    from keras_seq.data.streaming import learn_from_file, stream_split
    from keras_seq.tasks import Task

    ner = keras_seq.load_spec(SPECS / "ner.yaml")
    records = Task.for_spec(ner).read(ner.data.train)
    lines = ["-DOCSTART-\tO", ""]
    for i, record in enumerate(records):  # WNUT's TAB-only lines between half the sentences
        lines += [f"{w}\tNNP\t{t}" for w, t in zip(record["tokens"], record["tags"])]
        lines.append("\t" if i % 2 else "")
    path = write(tmp_path, "ner.conll", "\r\n".join(lines))
    changes = {"data": {"format": "conll", "train": str(path)}, "training.batch_size": 16}
    spec = ner.replace(changes).replace({"data.shuffle_buffer": 50})
    task = Task.for_spec(spec)
    assert task.read(path) == records
    memory = task.learn(records).encode(records)
    stream = stream_split(learn_from_file(Task.for_spec(spec), path), path, shuffle=False)
    assert len(stream.x.layout.sizes) > 5 and stream.stats == memory.stats
    parts = [stream.x[i] for i in range(stream.x.num_batches)]
    x, y, weights = (
        keras.tree.map_structure(lambda *a: np.concatenate(a), *part) for part in zip(*parts)
    )
    np.testing.assert_array_equal(x, memory.x)
    np.testing.assert_array_equal(y, memory.y)
    np.testing.assert_array_equal(weights, memory.sample_weight)


def test_schema_defaults_and_column_kinds():
    base = "input: {kind: tokens}\nencoder: {cell: gru, units: 2}\nhead: {type: tagger}\n"
    spec = keras_seq.load_spec(base + "data: {format: conll}\n")
    assert (spec.data.tokens_column, spec.data.tags_column) == (0, -1)
    spec = keras_seq.load_spec(base + "data: {format: csv}\n")
    assert (spec.data.tokens_column, spec.data.tags_column) == ("tokens", "tags")
    with pytest.raises(keras_seq.SpecError) as caught:
        keras_seq.load_spec(base + "data: {format: conll, tags_column: ner}\n")
    text = str(caught.value)
    assert "'tags_column: ner' applies only when data.format is csv or jsonl" in text
    assert "here 'tags_column' is an integer (a column index in conll" in text
    with pytest.raises(keras_seq.SpecError, match="'tokens_column: 2' applies only when data.f"):
        keras_seq.load_spec(base + "data: {format: jsonl, tokens_column: 2}\n")
    from keras_seq.spec.reference import markdown

    rows = {row.split(" | ")[0]: row.split(" | ") for row in markdown().splitlines()}
    assert rows["| `data.tags_column`"][2] == "`tags`; `-1` (when format is conll)"


# ---- a CRF tagger trained on CoNLL files, end to end ----

TYPES = {"PER": ["Peter", "Anna", "Jordan"], "LOC": ["Paris", "Berlin"], "ORG": ["EU", "Acme"]}


def _sentences(rng, count):
    found = []
    for _ in range(count):
        kind = rng.choice(list(TYPES))
        words = [("Yesterday", "NN", "O"), (rng.choice(TYPES[kind]), "NNP", f"B-{kind}")]
        if kind == "PER":
            words.append(("Smith", "NNP", "I-PER"))
        found.append(words + [("said", "VBD", "O"), ("so", "RB", "O")])
    return found


def _conll2003(path, sentences):
    lines = ["-DOCSTART- -X- -X- O", ""]
    for words in sentences:
        lines += [f"{w} {pos} I-NP {tag}" for w, pos, tag in words] + [""]
    path.write_text("\n".join(lines) + "\n")
    return path


def _wnut(path, sentences):
    text = "\t\r\n".join("".join(f"{w}\t{tag}\r\n" for w, _, tag in words) for words in sentences)
    path.write_bytes(text.encode())
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A CRF tagger with characters trained for two epochs; the files given on the command
    line (a CoNLL-2003 training file, a WNUT-style validation file, a CoNLL-2003 test file)."""
    folder = tmp_path_factory.mktemp("conll")
    rng = random.Random(5)
    files = {
        "train": _conll2003(folder / "train.conll", _sentences(rng, 60)),
        "validation": _wnut(folder / "dev.conll", _sentences(rng, 15)),
        "test": _conll2003(folder / "test.conll", _sentences(rng, 15)),
    }
    (folder / "spec.yaml").write_text(
        "seed: 3\ninput: {kind: tokens, embedding_dim: 8, chars: {units: 4, embedding_dim: 4}}\n"
        "encoder: {cell: gru, units: 8, direction: bidirectional}\n"
        "head: {type: tagger, output: crf}\n"
        "training: {epochs: 2, batch_size: 16, learning_rate: 0.05}\ndata: {format: conll}\n"
    )
    flags = [f"--{split}={path}" for split, path in files.items()]
    command = ["train", str(folder / "spec.yaml"), *flags, "--output", str(folder / "run")]
    assert cli.main(command) == 0
    return folder


@pytest.fixture(scope="module")
def task(run):
    return keras_seq.load(run / "run")


def test_training_reads_every_split_given_on_the_command_line(run):
    spec = keras_seq.load_spec(run / "run" / "spec.yaml")
    assert (spec.data.format, spec.data.tokens_column, spec.data.tags_column) == ("conll", 0, -1)
    assert spec.data.validation == str(run / "dev.conll")
    metrics = json.loads((run / "run" / "metrics.json").read_text())
    del metrics["run"]  # the run's record
    assert set(metrics) == {"train", "validation", "test"}
    assert all("entity_f1" in scores for scores in metrics.values())


def _bio_entities(tags):
    """(type, first, last) of BIO tags, seqeval's way: an I- that does not continue an
    entity of its type starts one."""
    found = []
    for index, tag in enumerate(tags):
        if tag.startswith("I-") and found and found[-1][0] == tag[2:] and found[-1][2] == index - 1:
            found[-1][2] = index
        elif tag != "O":
            found.append([tag[2:], index, index])
    return {(kind, first, last) for kind, first, last in found}


def _hand_count(gold, predicted):
    counts = {}
    for gold_tags, predicted_tags in zip(gold, predicted):
        truth = _bio_entities(gold_tags)
        guess = _bio_entities(predicted_tags)
        for kind, *_ in truth | guess:
            counts.setdefault(kind, [0, 0, 0])
        for entity in truth:
            counts[entity[0]][2] += 1
        for entity in guess:
            counts[entity[0]][1] += 1
            counts[entity[0]][0] += entity in truth
    return counts  # type -> [correct, predicted, gold]


def test_evaluate_reports_entity_f1_per_type_as_a_hand_count(run, task, capsys):
    capsys.readouterr()
    assert cli.main(["evaluate", str(run / "run"), "--data", str(run / "test.conll")]) == 0
    printed = json.loads(capsys.readouterr().out)
    sentences, gold = conll.read_conll(run / "test.conll")
    predicted = task.predict(sentences)
    counts = _hand_count(gold, predicted)
    assert sorted(printed["entity_types"]) == sorted(counts)
    for kind, (correct, guessed, support) in counts.items():
        scores = printed["entity_types"][kind]
        precision = correct / guessed if guessed else 0.0
        recall = correct / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if correct else 0.0
        assert (scores["correct"], scores["predicted"], scores["support"]) == tuple(counts[kind])
        assert scores["f1"] == pytest.approx(f1, abs=1e-12)
        assert scores["precision"] == pytest.approx(precision, abs=1e-12)
    correct, guessed, support = (sum(c[i] for c in counts.values()) for i in range(3))
    assert printed["entity_precision"] == pytest.approx(correct / guessed, abs=1e-12)
    assert printed["entity_recall"] == pytest.approx(correct / support, abs=1e-12)


def test_evaluate_reads_the_file_once_and_never_calls_predict(run, monkeypatch, capsys):
    """The scores and the entity table come from one pass of the model over the file."""
    from keras_seq.tasks.tagger import Tagger

    calls = []
    predict, read = Tagger.predict, Tagger.read

    def counting_predict(self, inputs, batch_size=None, **options):
        calls.append(("predict", len(inputs)))
        return predict(self, inputs, batch_size, **options)

    def counting_read(self, path):
        calls.append(("read", str(path)))
        return read(self, path)

    monkeypatch.setattr(Tagger, "predict", counting_predict)
    monkeypatch.setattr(Tagger, "read", counting_read)
    capsys.readouterr()
    assert cli.main(["evaluate", str(run / "run"), "--data", str(run / "test.conll")]) == 0
    printed = json.loads(capsys.readouterr().out)
    # The predictions are decoded from evaluate's own pass: `predict` never runs.
    assert calls == [("read", str(run / "test.conll"))]
    assert "entity_f1" in printed and printed["entity_types"]


def test_evaluate_per_type_equals_seqeval(run, task, capsys):
    sequence_labeling = pytest.importorskip("seqeval.metrics.sequence_labeling")
    capsys.readouterr()
    assert cli.main(["evaluate", str(run / "run"), "--data", str(run / "dev.conll")]) == 0
    printed = json.loads(capsys.readouterr().out)
    sentences, gold = conll.read_conll(run / "dev.conll")
    predicted = task.predict(sentences)
    report = sequence_labeling.classification_report(
        gold, predicted, output_dict=True, zero_division=0
    )
    for kind, scores in printed["entity_types"].items():
        expected = report[kind]
        assert scores["f1"] == pytest.approx(expected["f1-score"], abs=1e-12)
        assert scores["support"] == expected["support"]


def test_predict_writes_the_conlleval_layout_and_reads_back(run, task):
    out = run / "predicted.conll"
    data = run / "test.conll"
    assert cli.main(["predict", str(run / "run"), "--data", str(data), "--output", str(out)]) == 0
    sentences, gold = conll.read_conll(data)
    predicted = task.predict(sentences)
    assert conll.read_conll(out, 0, -2) == (sentences, gold)  # the original columns ...
    assert conll.read_conll(out, 0, -1) == (sentences, predicted)  # ... then the prediction
    original = [line.split() for line in data.read_text().splitlines()]
    written = [line.split() for line in out.read_text().splitlines()]
    assert [line[:-1] for line in written if line] == [line for line in original if line]
    assert written[0] == ["-DOCSTART-", "-X-", "-X-", "O", "O"]  # as conlleval wants it
    assert [bool(line) for line in written] == [bool(line) for line in original]


def test_predict_keeps_tabs_and_turns_separator_lines_empty(run, task):
    out = run / "predicted-dev.conll"
    data = run / "dev.conll"
    assert cli.main(["predict", str(run / "run"), "--data", str(data), "--output", str(out)]) == 0
    text = out.read_text()
    assert "\r" not in text and "\n\n" in text and "\t\n" not in text
    sentences, gold = conll.read_conll(data)
    predicted = task.predict(sentences)
    lines = [line for line in text.split("\n") if line]
    expected = [f"{w}\t{g}\t{p}" for s in zip(sentences, gold, predicted) for w, g, p in zip(*s)]
    assert lines == expected


def test_predict_refuses_to_overwrite_its_input(run, capsys):
    data = run / "test.conll"
    before = data.read_bytes()
    same = run / "." / "test.conll"
    assert cli.main(["predict", str(run / "run"), "--data", str(data), "--output", str(same)]) == 1
    assert "is an input" in capsys.readouterr().err
    assert data.read_bytes() == before


def test_predict_reads_a_file_of_tokens_alone(run, task, capsys):
    path = write(run, "raw.conll", "Anna\nSmith\nsaid\n\nParis\n")
    capsys.readouterr()
    assert cli.main(["predict", str(run / "run"), "--data", str(path)]) == 0
    written = capsys.readouterr().out
    predicted = task.predict([["Anna", "Smith", "said"], ["Paris"]])
    assert written == "Anna {}\nSmith {}\nsaid {}\n\nParis {}\n".format(*sum(predicted, []))


def test_a_conll_file_on_the_command_line_replaces_a_jsonl_spec_columns(tmp_path):
    from keras_seq.datafiles import for_file, with_files
    from keras_seq.tasks import Task

    task = Task.for_spec(SPECS / "ner.yaml")  # jsonl, tokens_column: tokens
    path = write(tmp_path, "eng.conll", CONLL2003)
    spec = with_files(task, train=str(path))
    assert (spec.data.format, spec.data.tokens_column, spec.data.tags_column) == ("conll", 0, -1)
    spec = for_file(Task.for_spec(spec), str(path))
    assert (spec.data.test, spec.data.tags_column) == (str(path), -1)
