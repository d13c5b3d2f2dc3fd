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
        "unit_forget_bias, use_bias. Did you mean 'units'?"
    )


def test_misspelt_value_suggests_the_choice():
    problem = only_problem(MINIMAL.replace("cell: lstm", "cell: lstmm"))
    assert (problem.path, problem.line, problem.column) == ("encoder.cell", 4, 9)
    assert problem.found == "lstmm" and problem.hint == "lstm"
    assert problem.allowed == "simple, lstm, gru"
    assert problem.format() == (
        "4:9: encoder.cell: 'lstmm' is not one of the choices; allowed: simple, lstm, gru. "
        "Did you mean 'lstm'?"
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
        "allowed: remove 'activation', or change what it depends on"
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
    assert "| `encoder.cell` | simple, lstm, gru | (required) |" in text
    assert text == markdown() + "\n"


def test_exponent_numbers_without_a_dot_are_numbers():
    spec = keras_seq.load_spec(MINIMAL + "training: {learning_rate: 1e-3, clipnorm: 5E+0}\n")
    assert spec.training.learning_rate == 0.001 and spec.training.clipnorm == 5.0


def test_unknown_optimizer_suggests_a_keras_optimizer():
    problem = only_problem(MINIMAL + "training: {optimizer: adamm}\n")
    assert problem.path == "training.optimizer" and problem.hint == "adam"
    assert "sgd" in problem.allowed.split(", ")
    assert keras_seq.load_spec(MINIMAL + "training: {optimizer: AdamW}\n").training.optimizer


def test_readme_spec_example_is_valid():
    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    example = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    spec = keras_seq.load_spec(example)
    assert (spec.name, spec.encoder.cell, spec.head.type) == ("upos-tagger", "lstm", "tagger")
