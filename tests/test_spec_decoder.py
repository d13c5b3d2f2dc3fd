"""`head.decoder`: seq2seq's decoder stack (a mapping), or a tagger's `softmax | crf` (another
spelling of `head.output`); each misuse is a SpecError naming the field, line and fix."""

import textwrap

import pytest

import keras_seq
from keras_seq import cli
from keras_seq.spec.reference import markdown

TOKENS = "input: {kind: tokens}\n"
FEATURES = "input: {kind: features, dim: 2}\n"


def _spec(head, source=TOKENS):
    return f"{source}encoder: {{cell: gru, units: 8}}\nhead: {head}\n"


def _only_problem(text):
    with pytest.raises(keras_seq.SpecError) as caught:
        keras_seq.load_spec(textwrap.dedent(text))
    problems = caught.value.problems
    assert len(problems) == 1, [p.format() for p in problems]
    return problems[0]


@pytest.mark.parametrize(
    "head, output, decoder",
    [
        ("decoder: crf", "crf", "crf"),
        ("decoder: softmax", "softmax", "softmax"),
        ("decoder: crf, output: crf", "crf", "crf"),
        ("output: crf", "crf", None),
        ("classes: 3", "softmax", None),
    ],
)
def test_a_tagger_decoder_is_its_output(head, output, decoder):
    spec = keras_seq.load_spec(_spec(f"{{type: tagger, {head}}}"))
    assert (spec.head.output, spec.head.decoder) == (output, decoder)
    assert keras_seq.load_spec(spec.to_yaml()) == spec  # `show` output loads back as is


def test_seq2seq_decoder_stays_a_mapping_with_the_encoders_defaults():
    spec = keras_seq.load_spec(_spec("{type: seq2seq, decoder: {units: 4}}"))
    decoder = spec.head.decoder
    assert (decoder.cell, decoder.units, decoder.layers) == ("gru", 4, 1)
    assert keras_seq.load_spec(_spec("{type: seq2seq}")).head.decoder.units == 8
    assert spec.head.output is None


@pytest.mark.parametrize(
    "head_type, source",
    [("classifier", TOKENS), ("none", TOKENS), ("forecaster", FEATURES), ("seq2seq", TOKENS)],
)
def test_decoder_crf_off_a_tagger_names_field_line_and_fix(head_type, source):
    problem = _only_problem(_spec(f"\n  type: {head_type}\n  decoder: crf", source))
    assert (problem.path, problem.line, problem.column) == ("head.decoder", 5, 3)
    assert problem.message == "'decoder: crf' applies only when head.type is tagger"
    assert problem.allowed.startswith("remove 'decoder', or set head.type: tagger")
    if head_type == "seq2seq":  # what decoder means there instead
        assert "here 'decoder' is a mapping of cell, units, layers, embedding_dim" in (
            problem.allowed
        )


def test_a_decoder_stack_on_a_tagger_is_refused():
    problem = _only_problem(_spec("{type: tagger, decoder: {cell: lstm}}"))
    assert problem.path == "head.decoder"
    assert problem.message == "'decoder' as a mapping applies only when head.type is seq2seq"
    assert problem.allowed.startswith("remove 'decoder', or set head.type: seq2seq; here ")
    assert "'decoder' is softmax, crf" in problem.allowed


def test_decoder_and_output_that_disagree():
    problem = _only_problem(_spec("\n  type: tagger\n  output: softmax\n  decoder: crf"))
    assert (problem.path, problem.line) == ("head.decoder", 6)
    assert problem.message == (
        "decoder: crf is another spelling of head.output, which says softmax"
    )
    assert problem.allowed == "one of 'decoder' and 'output', or both alike"


def test_misspelt_decoder_suggests_crf_and_says_when_each_kind_applies():
    problem = _only_problem(_spec("{type: tagger, decoder: cfr}"))
    assert problem.hint == "crf"
    assert (
        problem.allowed == "a mapping (when type is seq2seq) or softmax, crf (when type is tagger)"
    )


def test_other_misuses_of_the_issue_fields():
    chars = _only_problem(_spec("{type: tagger}", "input: {kind: features, dim: 2, chars: {}}\n"))
    assert (chars.path, chars.line) == ("input.chars", 1)
    assert chars.message == "'chars' applies only when input.kind is tokens"
    assert chars.allowed == "remove 'chars', or set input.kind: tokens"
    beam = _only_problem(_spec("{type: seq2seq, beam_size: 0}"))
    assert (beam.path, beam.message, beam.allowed) == (
        "head.beam_size",
        "0 is out of range",
        "an integer >= 1",
    )
    crf = _only_problem(_spec("{type: classifier, output: crf}"))
    assert crf.allowed == "remove 'output', or set head.type: tagger"


def test_cli_validate_show_and_reference(tmp_path, capsys):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(_spec("{type: tagger, decoder: crf}"))
    bad.write_text(_spec("{type: classifier, decoder: crf}"))
    assert cli.main(["validate", str(good), str(bad)]) == 1
    assert (
        f"{bad}:3:26: head.decoder: 'decoder: crf' applies only when head.type is tagger; "
        "allowed: remove 'decoder', or set head.type: tagger"
    ) in capsys.readouterr().err
    assert cli.main(["show", str(good)]) == 0
    shown = " ".join(capsys.readouterr().out.split())  # `show` wraps long flow mappings
    assert (
        "head: {type: tagger, classes: auto, dropout: 0.0, output: crf, crf_constraints: decode, "
        "decoder: crf}"
    ) in shown
    row = next(line for line in markdown().splitlines() if line.startswith("| `head.decoder` |"))
    assert "| a mapping (when type is seq2seq) or softmax, crf (when type is tagger) |" in row
    assert "| type is seq2seq or tagger |" in row
