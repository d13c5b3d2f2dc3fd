"""The `search:` section: good sections load; every kind of bad one is a SpecError at its line."""

import pathlib
import textwrap

import pytest

import keras_seq
from keras_seq.spec.search import direction, sample_value, searchable_fields, trial_data

BASE = """\
seed: 1
input: {kind: tokens, vocab_size: 50}
encoder:
  cell: lstm
  units: 16
head: {type: tagger, classes: 4}
"""


def spec_with(search):
    return BASE + "search:\n" + textwrap.indent(textwrap.dedent(search), "  ")


def only_problem(search):
    with pytest.raises(keras_seq.SpecError) as caught:
        keras_seq.load_spec(spec_with(search))
    problems = caught.value.problems
    assert len(problems) == 1, [p.format() for p in problems]
    return problems[0]


def test_good_section_loads_with_defaults():
    spec = keras_seq.load_spec(
        spec_with("""\
        space:
          encoder.units: {choice: [8, 16, 32]}
          encoder.cell: {choice: [lstm, gru]}
          training.learning_rate: {log_uniform: [1.0e-4, 1.0e-2]}
          encoder.dropout: {uniform: [0.0, 0.5]}
          encoder.layers: {int: [1, 3]}
        objective: val_accuracy
        budget: {trials: 6}
        """)
    )
    assert spec.search.space["encoder.units"] == {"choice": [8, 16, 32]}
    assert spec.search.budget.trials == 6 and spec.search.budget.max_minutes is None
    assert spec.search.algorithm == "random" and spec.search.direction == "auto"
    # The searched spec itself is unchanged: `train` ignores the search section.
    assert spec.encoder.units == 16


def test_no_search_section_is_none():
    assert keras_seq.load_spec(BASE).search is None


def test_misspelt_field_names_its_line_and_suggests():
    problem = only_problem("space:\n  encoder.unitz: {choice: [8, 16]}\n")
    assert (problem.line, problem.column) == (9, 5)
    assert problem.hint == "encoder.units" and "not a spec field" in problem.message


def test_value_outside_the_fields_range_names_the_value():
    problem = only_problem("space:\n  encoder.units: {choice: [8, 0]}\n")
    assert problem.path == "search.space.encoder.units.choice[1]"
    assert (problem.line, problem.column) == (9, 33)
    assert problem.found == 0 and problem.allowed == "an integer >= 1"


def test_range_end_outside_the_field_and_misspelt_choice():
    problem = only_problem("space:\n  encoder.dropout: {uniform: [0.1, 1.5]}\n")
    assert problem.path == "search.space.encoder.dropout.uniform[1]" and problem.found == 1.5
    problem = only_problem("space:\n  encoder.cell: {choice: [gru, lsmt]}\n")
    assert problem.hint == "lstm" and problem.line == 9


def test_value_that_does_not_fit_the_rest_of_the_spec():
    problem = only_problem("space:\n  encoder.activation: {choice: [relu]}\n")
    assert "applies only when encoder.cell is simple" in problem.message


def test_range_kind_must_suit_the_field():
    assert (
        "does not take real numbers"
        in only_problem("space:\n  encoder.units: {uniform: [8, 64]}\n").message
    )
    assert (
        "does not take integers" in only_problem("space:\n  encoder.cell: {int: [1, 2]}\n").message
    )
    assert "is empty" in only_problem("space:\n  encoder.units: {int: [64, 8]}\n").message


def test_schema_level_mistakes():
    problem = only_problem("space:\n  encoder.units: {choise: [8]}\n")
    assert problem.hint == "choice"
    assert only_problem("space:\n  training.learning_rate: {log_uniform: [0, 1]}\n").line == 9
    assert only_problem("space: {}\n").path == "search.space"
    assert only_problem("space: {encoder.units: {choice: [8]}}\nalgorithm: grid\n").hint in (
        "random",
        "hyperband",
        None,
    )
    problem = only_problem("space:\n  name: {choice: [a, b]}\n")
    assert "not a spec field a search can vary" in problem.message


def test_every_problem_at_once():
    with pytest.raises(keras_seq.SpecError) as caught:
        keras_seq.load_spec(
            spec_with("space:\n  encoder.unitz: {choice: [8]}\n  encoder.units: {choice: [0]}\n")
        )
    assert [p.line for p in caught.value.problems] == [9, 10]


def test_a_resolved_spec_with_a_search_loads_again():
    # Spec.replace re-validates the resolved spec: unit_forget_bias (filled in for the LSTM)
    # must not make the gru choice an error.
    spec = keras_seq.load_spec(spec_with("space:\n  encoder.cell: {choice: [lstm, gru]}\n"))
    assert keras_seq.load_spec(spec.to_dict()) == spec
    assert spec.replace({"encoder.units": 8}).search == spec.search


def test_searchable_fields_are_leaves_of_the_schema():
    fields = searchable_fields()
    assert "encoder.units" in fields and "training.distribution.strategy" in fields
    assert "encoder" not in fields and not any(path.startswith("search") for path in fields)


def test_direction_is_inferred_from_the_metric_name():
    assert direction("val_loss") == "min" and direction("val_mean_absolute_error") == "min"
    assert direction("val_accuracy") == "max" and direction("val_auc") == "max"
    assert direction("val_loss", "max") == "max"


def test_trial_data_sets_dotted_fields_and_drops_the_search():
    data = {"input": {"kind": "tokens"}, "search": {"space": {}}}
    trial = trial_data(data, {"encoder.units": 8, "training.learning_rate": 0.1})
    assert trial == {
        "input": {"kind": "tokens"},
        "encoder": {"units": 8},
        "training": {"learning_rate": 0.1},
    }
    assert "search" in data  # the original is left alone


def test_sample_value_registers_keras_tuner_hyperparameters():
    kt = pytest.importorskip("keras_tuner")
    hp = kt.HyperParameters()
    assert sample_value("choice", [8, 16], hp, "a") == 8
    assert sample_value("choice", [{"type": "step", "step_size": 2}, None], hp, "b") == {
        "type": "step",
        "step_size": 2,
    }
    assert sample_value("log_uniform", [1e-4, 1e-2], hp, "c") == pytest.approx(1e-4)
    assert sample_value("int", [1, 3], hp, "d") == 1
    assert hp.get("c") == pytest.approx(1e-4) and hp.get("b") == 0


def test_example_search_spec_validates():
    path = pathlib.Path(__file__).parent.parent / "specs" / "tagger-search.yaml"
    search = keras_seq.load_spec(path).search
    assert search.budget.trials == 6 and search.space["encoder.cell"] == {"choice": ["lstm", "gru"]}
