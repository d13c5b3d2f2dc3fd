"""The spec language: defaults, every kind of error with its exact shape, safety, the CLI."""

import dataclasses
import json
import pathlib
import textwrap

import pytest

import keras_seq
from keras_seq import cli
from keras_seq.spec import schema as spec_schema
from keras_seq.spec.reference import markdown

SPECS = sorted((pathlib.Path(__file__).parent.parent / "specs").glob("*.yaml"))

MINIMAL = """\
input:
  kind: tokens
encoder:
  cell: lstm
  units: 16
head:
  type: tagger
"""


def problems_of(text):
    with pytest.raises(keras_seq.SpecError) as caught:
        keras_seq.load_spec(textwrap.dedent(text))
    return caught.value.problems


def only_problem(text):
    problems = problems_of(text)
    assert len(problems) == 1, [p.format() for p in problems]
    return problems[0]


def test_defaults_come_from_the_schema():
    spec = keras_seq.load_spec(MINIMAL)
    assert spec.version == 1 and spec.name == "model" and spec.seed is None
    assert spec.input.vocab_size == "auto" and spec.input.embedding_dim == 100
    assert spec.encoder.layers == 1 and spec.encoder.direction == "forward"
    assert spec.encoder.initializers.kernel == "glorot_uniform"
    assert spec.encoder.initializers.recurrent == "orthogonal"
    assert spec.encoder.unit_forget_bias is True
    assert spec.training.optimizer == "adam" and spec.training.learning_rate == 0.001
    assert spec.training.batch_size == 32 and spec.training.epochs == 10
    assert spec.head.classes == "auto" and spec.head.dropout == 0.0
    # Fields that do not apply stay None rather than carrying a misleading default.
    assert spec.encoder.merge is None and spec.encoder.activation is None
    assert spec.input.dim is None and spec.head.pooling is None and spec.data is None


def test_every_schema_default_is_valid_for_its_field():
    import jsonschema

    for _, field in _all_fields():
        if "default" in field and field["default"] is not None:
            resolved = dict(field)
            resolved.pop("default")
            schema = {"$defs": spec_schema.ROOT["$defs"], **resolved}
            jsonschema.validate(field["default"], schema)


def _all_fields():
    from keras_seq.spec.reference import fields

    return list(fields())


def test_spec_is_frozen_and_typed():
    spec = keras_seq.load_spec(MINIMAL + "training: {learning_rate: 1}\n")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.encoder.units = 3
    assert isinstance(spec.training.learning_rate, float)
    assert type(spec).__name__ == "Spec" and isinstance(spec, keras_seq.Spec)


def test_derived_defaults_per_layer_units_and_decoder():
    spec = keras_seq.load_spec("""
input: {kind: tokens, embedding_dim: 12}
encoder: {cell: gru, units: 16, layers: [{units: 32}, {}]}
head: {type: seq2seq}
""")
    assert [layer.units for layer in spec.encoder.layers] == [32, 16]
    decoder = spec.head.decoder
    assert (decoder.cell, decoder.units, decoder.layers, decoder.embedding_dim) == (
        "gru",
        16,
        2,
        12,
    )


def test_schedule_shorthand_and_none():
    spec = keras_seq.load_spec(MINIMAL + "training: {schedule: cosine}\n")
    assert spec.training.schedule.type == "cosine"
    assert spec.training.schedule.min_learning_rate == 0.0
    assert keras_seq.load_spec(MINIMAL + "training: {schedule: none}\n").training.schedule is None
    step = keras_seq.load_spec(MINIMAL + "training: {schedule: {type: step, step_size: 5}}\n")
    assert (step.training.schedule.step_size, step.training.schedule.gamma) == (5, 0.1)


def test_show_output_loads_back_to_the_same_spec(tmp_path):
    spec = keras_seq.load_spec(
        MINIMAL.replace("units: 16", "units: 16\n  direction: bidirectional")
    )
    again = keras_seq.load_spec(spec.to_yaml())
    assert again == spec


def test_data_paths_are_relative_to_the_spec_file(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    path = folder / "my-tagger.yaml"
    path.write_text(MINIMAL + "data: {format: conllu, train: data/train.conllu}\n")
    spec = keras_seq.load_spec(path)
    assert spec.name == "my-tagger"
    assert spec.data.train == str(folder / "data" / "train.conllu")
    assert spec.data.tags_field == "upos" and spec.data.text_column is None


def test_dict_source_is_not_modified():
    source = {
        "input": {"kind": "tokens"},
        "encoder": {"cell": "gru", "units": 4},
        "head": {"type": "none"},
    }
    keras_seq.load_spec(source)
    assert source["encoder"] == {"cell": "gru", "units": 4}


# Each error kind: the exact message shape (path, line, column, found, allowed, hint).


def test_misspelt_key_names_line_and_suggests():
    problem = only_problem(MINIMAL.replace("  units: 16", "  unitz: 16\n  units: 16"))
    assert problem.format("s.yaml") == (
        "s.yaml:5:3: encoder.unitz: unknown field 'unitz'; allowed: cell, units, layers, "
        "direction, merge, dropout, recurrent_dropout, activation, initializers, "
        "unit_forget_bias, reset_after, use_bias. Did you mean 'units'?"
    )


def test_misspelt_value_suggests_the_choice():
    problem = only_problem(MINIMAL.replace("cell: lstm", "cell: lstmm"))
    assert (problem.path, problem.line, problem.column) == ("encoder.cell", 4, 9)
    assert problem.found == "lstmm" and problem.hint == "lstm"
    assert problem.allowed == "simple, lstm, gru, mingru, minlstm"
    assert problem.format() == (
        "4:9: encoder.cell: 'lstmm' is not one of the choices; allowed: simple, lstm, gru, "
        "mingru, minlstm. Did you mean 'lstm'?"
    )


def test_out_of_range_number():
    problem = only_problem(MINIMAL + "training: {learning_rate: 0}\n")
    assert problem.format() == (
        "8:27: training.learning_rate: 0 is out of range; allowed: a number > 0"
    )
    problem = only_problem(MINIMAL.replace("units: 16", "units: 16\n  dropout: 1.5"))
    assert problem.path == "encoder.dropout" and problem.allowed == "a number >= 0 and < 1"


def test_wrong_type():
    problem = only_problem(MINIMAL.replace("units: 16", "units: many"))
    assert problem.format() == (
        "5:10: encoder.units: expected an integer >= 1, found 'many' (a string)"
    )
    problem = only_problem(MINIMAL.replace("units: 16", "units: 16\n  layers: two"))
    assert problem.path == "encoder.layers" and problem.line == 6
    assert problem.allowed == "an integer >= 1 and <= 16 or a list"


def test_auto_or_integer_fields_suggest_auto():
    problem = only_problem(MINIMAL.replace("kind: tokens", "kind: tokens\n  vocab_size: autp"))
    assert problem.path == "input.vocab_size" and problem.hint == "auto"


def test_missing_section_and_missing_field():
    problems = problems_of("input: {kind: tokens}\nencoder: {cell: gru}\n")
    messages = {(p.path, p.message) for p in problems}
    assert ("head", "missing required field 'head'") in messages
    assert ("encoder.units", "missing required field 'units'") in messages
    units = next(p for p in problems if p.path == "encoder.units")
    assert units.line == 2 and "an integer >= 1" in units.allowed


def test_field_that_does_not_apply():
    problem = only_problem(MINIMAL.replace("units: 16", "units: 16\n  activation: relu"))
    assert problem.format() == (
        "6:3: encoder.activation: 'activation' applies only when encoder.cell is simple; "
        "allowed: remove 'activation', or set encoder.cell: simple"
    )
    problem = only_problem(MINIMAL.replace("units: 16", "units: 16\n  merge: sum"))
    assert problem.message == "'merge' applies only when encoder.direction is bidirectional"
    problem = only_problem(MINIMAL.replace("type: tagger", "type: tagger\n  pooling: mean"))
    assert problem.message == "'pooling' applies only when head.type is classifier"


def test_features_input_requires_dim():
    problem = only_problem(MINIMAL.replace("kind: tokens", "kind: features"))
    assert problem.path == "input.dim"
    assert problem.message == "missing field 'dim', required when input.kind is features"


def test_forecaster_needs_numeric_features():
    problem = only_problem(MINIMAL.replace("type: tagger", "type: forecaster"))
    assert problem.path == "input.kind" and "forecaster" in problem.message


def test_all_problems_are_reported_at_once_in_line_order():
    problems = problems_of("""\
input: {kind: tokenz}
encoder:
  cel: lstm
  units: -3
head: {type: taggr}
""")
    assert [p.path for p in problems] == [
        "input.kind",
        "encoder.cel",
        "encoder.cell",
        "encoder.units",
        "head.type",
    ]
    assert [p.line for p in problems] == [1, 3, 3, 4, 5]


def test_yaml_syntax_error_names_its_line():
    problem = only_problem("input:\n  kind: tokens\n encoder: {cell: lstm}\n")
    assert problem.line == 3 and problem.message.startswith("YAML syntax error")


def test_python_object_tags_are_refused_not_executed(tmp_path):
    marker = tmp_path / "hacked"
    problem = only_problem(MINIMAL + f"seed: !!python/object/apply:os.system ['touch {marker}']\n")
    assert not marker.exists()
    assert problem.path == "seed" and problem.line == 8
    assert "tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed" in problem.message


def test_alias_bomb_fails_fast():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for name, previous in zip("bcdefghij", "abcdefghi"):
        lines.append(f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]")
    problem = only_problem("\n".join(lines))
    assert "alias/anchor bomb" in problem.message


def test_recursive_alias_fails_fast():
    problem = only_problem("a: &a [*a]\n")
    assert "alias" in problem.message or "deeper" in problem.message


def test_duplicate_key():
    problem = only_problem(MINIMAL + "head: {type: none}\n")
    assert problem.message == "duplicate key 'head'" and problem.line == 8


def test_empty_and_non_mapping_specs():
    assert only_problem("").message.startswith("the spec is empty")
    assert only_problem("- a\n- b\n").message == (
        "a spec must be a mapping of sections, found a list"
    )


def test_missing_file_is_a_spec_error():
    with pytest.raises(keras_seq.SpecError, match="spec file not found"):
        keras_seq.load_spec("no/such/spec.yaml")


def test_validate_returns_problems_without_raising():
    assert keras_seq.validate(MINIMAL) == []
    assert [p.path for p in keras_seq.validate(MINIMAL.replace("lstm", "lsmt"))] == ["encoder.cell"]


@pytest.mark.parametrize("path", SPECS, ids=[p.name for p in SPECS])
def test_bundled_specs_validate(path):
    spec = keras_seq.load_spec(path)
    assert spec.name


# The command line.


def test_cli_validate_exit_codes_and_json(tmp_path, capsys):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(MINIMAL)
    bad.write_text(MINIMAL.replace("units: 16", "units: 0"))
    assert cli.main(["validate", str(good)]) == 0
    assert cli.main(["validate", str(good), str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:5:10: encoder.units: 0 is out of range" in err
    assert cli.main(["validate", "--json", str(good), str(bad)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [r["valid"] for r in report] == [True, False]
    assert report[1]["problems"][0]["path"] == "encoder.units"
    assert report[1]["problems"][0]["line"] == 5


def test_cli_show_prints_resolved_yaml(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(MINIMAL)
    assert cli.main(["show", str(path)]) == 0
    shown = capsys.readouterr().out
    assert keras_seq.load_spec(shown).encoder == keras_seq.load_spec(path).encoder
    assert "recurrent: orthogonal" in shown


def test_cli_schema_is_the_packaged_schema(capsys):
    assert cli.main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == spec_schema.schema()
    assert cli.main(["schema", "--markdown"]) == 0
    text = capsys.readouterr().out
    assert "| `encoder.cell` | simple, lstm, gru, mingru, minlstm | (required) |" in text
    assert text == markdown() + "\n"


def test_exponent_numbers_without_a_dot_are_numbers():
    spec = keras_seq.load_spec(MINIMAL + "training: {learning_rate: 1e-3, clipnorm: 5E+0}\n")
    assert spec.training.learning_rate == 0.001 and spec.training.clipnorm == 5.0


def test_unknown_optimizer_suggests_a_keras_optimizer():
    problem = only_problem(MINIMAL + "training: {optimizer: adamm}\n")
    assert problem.path == "training.optimizer" and problem.hint == "adam"
    assert "sgd" in problem.allowed.split(", ")
    assert keras_seq.load_spec(MINIMAL + "training: {optimizer: AdamW}\n").training.optimizer


def test_readme_spec_example_is_the_shipped_tagger_spec_and_its_files_exist():
    root = pathlib.Path(__file__).parent.parent
    example = (root / "README.md").read_text().split("```yaml\n", 1)[1].split("```", 1)[0]
    assert example == (root / "specs" / "tagger.yaml").read_text()
    spec = keras_seq.load_spec(root / "specs" / "tagger.yaml")
    assert (spec.name, spec.encoder.cell, spec.head.type) == ("pos-tagger", "lstm", "tagger")
    assert all(pathlib.Path(getattr(spec.data, split)).is_file() for split in ("train", "test"))


def test_readme_set_up_commands_use_separate_venvs_and_ci_runs_the_test_one():
    root = pathlib.Path(__file__).parent.parent
    readme = (root / "README.md").read_text()
    commands = [block.split("```", 1)[0].strip() for block in readme.split("```bash\n")[1:3]]
    venvs = [command.split()[3] for command in commands]  # python3 -m venv DIR && ...
    assert venvs[0] != venvs[1]
    ci = (root / ".ci" / "run").read_text()
    assert f"python3 -m venv {venvs[1]}\n. {venvs[1]}/bin/activate" in ci
    assert 'pip install -e ".[all,test]"' in commands[1] and "bash tests/run.sh" in commands[1]


# Everything that validates trains: Keras names, logged monitor names, file-name-safe names.


def _listed(field_path):
    node = spec_schema.ROOT
    for part in field_path:
        node = spec_schema.resolve(node)["properties"][part] if part != "items" else node[part]
    return node["x-names"]


def _accepted(get, names, abstract):
    """The names `get` turns into a usable object (a class made with no arguments)."""
    found = set()
    for name in names:
        try:
            value = get(name)
            value = value() if isinstance(value, type) else value
        except (TypeError, ValueError):
            continue
        if type(value).__name__ not in abstract:
            found.add(name)
    return found


def test_keras_name_lists_in_the_schema_match_keras():
    import keras
    from keras.src import initializers, losses, metrics

    from keras_seq import training

    assert _listed(["training", "optimizer"]) == training.optimizer_names()
    assert set(_listed(["training", "loss"])) == _accepted(
        keras.losses.get, losses.ALL_OBJECTS_DICT, {"Loss", "LossFunctionWrapper"}
    )
    # `acc` is an alias compile() resolves itself.
    assert set(_listed(["training", "metrics", "items"])) == {"acc"} | _accepted(
        keras.metrics.get, metrics.ALL_OBJECTS_DICT, {"Metric", "Mean", "Sum"}
    )
    initializer = spec_schema.ROOT["$defs"]["initializer"]["anyOf"]
    names = initializer[0]["x-names"]
    assert names == initializer[1]["properties"]["name"]["x-names"]
    # Every Keras initializer name the portable initializers draw is listed, and only those.
    assert set(names) == _accepted(
        keras_seq.initializers.portable, initializers.ALL_OBJECTS_DICT, ()
    )


def test_head_default_metrics_and_losses_are_in_the_schema():
    training_fields = spec_schema.ROOT["properties"]["training"]["properties"]
    heads = spec_schema.ROOT["properties"]["head"]["properties"]["type"]["enum"]
    assert set(training_fields["metrics"]["x-head-defaults"]) == set(heads)
    assert set(training_fields["loss"]["x-head-defaults"]) == set(heads)


@pytest.mark.parametrize(
    ("section", "path", "hint"),
    [
        ("training: {optimizer: adamm}", "training.optimizer", "adam"),
        ("training: {loss: sparse_categorical_crossentropyy}", "training.loss", None),
        ("training: {metrics: [acuracy]}", "training.metrics[0]", "accuracy"),
        ("encoder: {cell: lstm, units: 4, initializers: {kernel: glorot_unifrom}}", None, None),
        ("encoder: {cell: lstm, units: 4, initializers: {bias: {name: zerose}}}", None, None),
    ],
)
def test_names_keras_does_not_know_are_spec_errors(section, path, hint):
    text = MINIMAL + section + "\n"
    if section.startswith("encoder"):
        text = text.replace("encoder:\n  cell: lstm\n  units: 16\n", "")
    problem = only_problem(text)
    assert "is not a name Keras knows here" in problem.message
    if path:
        assert problem.path == path
    if hint:
        assert problem.hint == hint


def test_known_names_are_accepted_whatever_their_listed_spelling():
    spec = keras_seq.load_spec(
        MINIMAL + "training: {optimizer: RMSprop, loss: SparseCategoricalCrossentropy, "
        "metrics: [acc, sparse_top_k_categorical_accuracy]}\n"
    )
    assert list(spec.training.metrics) == ["acc", "sparse_top_k_categorical_accuracy"]


@pytest.mark.parametrize(
    ("training", "valid"),
    [
        ("{early_stopping: {monitor: val_accuracy}}", True),
        ("{early_stopping: {monitor: loss}}", True),
        ("{early_stopping: {monitor: val_acc}}", False),  # the tagger logs accuracy
        ("{metrics: [acc], early_stopping: {monitor: val_acc}}", True),
        ("{metrics: [acc], early_stopping: {monitor: val_accuracy}}", False),
        ("{schedule: {type: plateau, monitor: val_los}}", False),
        ("{schedule: {type: plateau, monitor: accuracy}}", True),
    ],
)
def test_monitors_must_be_names_the_model_logs(training, valid):
    text = MINIMAL + f"training: {training}\n"
    if valid:
        assert keras_seq.validate(text) == []
        return
    problem = only_problem(text)
    assert problem.path.endswith(".monitor") and "will log" in problem.message
    assert "val_loss" in problem.allowed.split(", ")


def test_forecaster_monitor_uses_its_default_metric():
    text = (
        "input: {kind: features, dim: 2}\nencoder: {cell: gru, units: 4}\n"
        "head: {type: forecaster}\ntraining: {early_stopping: {monitor: val_mean_absolute_error}}"
    )
    assert keras_seq.validate(text) == []
    problem = only_problem(text.replace("val_mean_absolute_error", "val_accuracy"))
    assert problem.allowed == "loss, mean_absolute_error, val_loss, val_mean_absolute_error"


@pytest.mark.parametrize(
    "name", ["a/b", "a\\b", ".", "..", ".hidden", "x:y", "tab\there", "n" * 101]
)
def test_name_must_be_usable_as_a_file_name(name):
    problem = only_problem(MINIMAL + f"name: {json.dumps(name)}\n")
    assert problem.path == "name"


def test_unicode_and_punctuated_names_are_fine():
    assert keras_seq.load_spec(MINIMAL + "name: tägger-v2.1_(big)\n").name == "tägger-v2.1_(big)"


@pytest.mark.parametrize(
    "text", ["[" * 100_000 + "]" * 100_000, "{a: " * 50_000 + "1" + "}" * 50_000]
)
def test_deeply_nested_yaml_is_a_spec_error(text):
    problem = only_problem(text)
    assert "deep" in problem.message


def test_deeply_nested_dict_is_a_spec_error():
    data = node = {}
    for _ in range(100_000):
        node["a"] = {}
        node = node["a"]
    with pytest.raises(keras_seq.SpecError, match="deep"):
        keras_seq.load_spec({"input": data, "encoder": {}, "head": {}})


def test_quick_commands_import_no_deep_learning_backend(tmp_path):
    import subprocess
    import sys

    spec = tmp_path / "s.yaml"
    spec.write_text(MINIMAL)
    script = textwrap.dedent(
        f"""
        import contextlib, io, sys
        import keras_seq.spec
        keras_seq.load_spec({str(spec)!r})
        from keras_seq import cli
        with contextlib.redirect_stdout(io.StringIO()):
            for argv in (["validate", {str(spec)!r}], ["show", {str(spec)!r}], ["schema"]):
                assert cli.main(argv) == 0
            try:
                cli.main(["--help"])
            except SystemExit:
                pass
        print(sorted({{m.split(".")[0] for m in sys.modules}}
                     & {{"keras", "tensorflow", "jax", "torch"}}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]" and result.stderr == ""


def test_every_task_compiles_the_schema_head_defaults():
    from keras_seq.tasks import Task

    training_fields = spec_schema.ROOT["properties"]["training"]["properties"]
    for head, metrics in training_fields["metrics"]["x-head-defaults"].items():
        kind = "{kind: features, dim: 2}" if head in ("forecaster", "none") else "{kind: tokens}"
        task = Task.for_spec(
            f"input: {kind}\nencoder: {{cell: gru, units: 4}}\nhead: {{type: {head}}}"
        )
        assert task.default_metrics() == metrics
        assert task.default_loss() == training_fields["loss"]["x-head-defaults"][head]


def test_replace_drops_filled_defaults_that_no_longer_apply():
    spec = keras_seq.load_spec(
        "{input: {kind: tokens}, encoder: {cell: gru, units: 8}, head: {type: tagger, output: crf}}"
    )
    assert spec.head.crf_constraints == "decode"  # filled in: applies to a CRF
    softmax = spec.replace({"head.output": "softmax"})
    assert (softmax.head.output, softmax.head.crf_constraints) == ("softmax", None)
    with pytest.raises(keras_seq.SpecError, match="crf_constraints"):  # named: still checked
        spec.replace({"head.output": "softmax", "head.crf_constraints": "decode"})
    chosen = spec.replace({"head.crf_constraints": "decode_and_train"})  # not a default: kept
    with pytest.raises(keras_seq.SpecError, match="crf_constraints"):
        chosen.replace({"head.output": "softmax"})
