"""What a `/predict` request may hold: `Limits`, and the request body's model for a spec's input.

A record is what the task's `predict` takes for one example: for token input, a text (split on
whitespace) or a list of tokens; for feature input, a list of rows of `input.dim` numbers (a
row may be a bare number when `input.dim` is 1). Each check names the record and, where a limit
was passed, the limit.
"""

import dataclasses
import functools
import math
from typing import Annotated, Any

import pydantic
from pydantic_core import PydanticCustomError


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one request may hold, and how concurrent requests are batched.

    Args:
        max_records: int. Records in one request.
        max_tokens: int. Tokens (or time steps, for feature input) in one record.
        max_body_bytes: int. Size of one request body.
        max_batch_size: int. Records the model takes in one call; 1 runs it once per request.
        max_wait_ms: float. How long a request waits for others to share its batch.
        body_timeout_s: float. Seconds from a request's headers to the end of its body.
    """

    max_records: int = 64
    max_tokens: int = 512
    max_body_bytes: int = 1_000_000
    max_batch_size: int = 32
    max_wait_ms: float = 5.0
    body_timeout_s: float = 10.0


def _fail(kind, message, **context):
    raise PydanticCustomError(kind, message, context)


def _count_limit(count, limit, what):
    if count == 0:
        _fail("record_empty", f"the record has no {what}; give at least one")
    if count > limit:
        _fail(
            "record_too_long",
            f"{{count}} {what} in one record; the limit is {{limit}}",
            count=count,
            limit=limit,
        )


def _token_record(value, limit):
    if isinstance(value, str):
        tokens = value.split()
    elif isinstance(value, list):
        tokens = value
        for index, token in enumerate(tokens):
            if not isinstance(token, str):
                _fail(
                    "token_type",
                    f"token {index} is {type(token).__name__}; tokens are strings",
                )
    else:
        _fail(
            "record_type",
            f"a record is a text or a list of tokens (strings), not {type(value).__name__}",
        )
    _count_limit(len(tokens), limit, "tokens")
    return tokens


def _number(value, where):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail("value_type", f"{where} is {type(value).__name__}; values are numbers")
    if not math.isfinite(value):
        _fail("value_finite", f"{where} is {value}; values must be finite")
    return float(value)


def _rows_record(value, dim, limit):
    if not isinstance(value, list):
        _fail("record_type", f"a record is a list of rows, not {type(value).__name__}")
    _count_limit(len(value), limit, "rows")
    rows = []
    for index, row in enumerate(value):
        if dim == 1 and not isinstance(row, list):
            row = [row]
        if not isinstance(row, list) or len(row) != dim:
            size = f"{len(row)} values" if isinstance(row, list) else type(row).__name__
            _fail(
                "row_shape",
                f"row {index} has {size}; each row has input.dim = {{limit}} numbers",
                limit=dim,
            )
        rows.append([_number(x, f"row {index} value {i}") for i, x in enumerate(row)])
    return rows


def record_type(input_spec, limits):
    """The annotated type of one record for a spec's `input` section under `limits`."""
    if input_spec.kind == "tokens":
        check = functools.partial(_token_record, limit=limits.max_tokens)
        schema = {
            "anyOf": [
                {"type": "string", "description": "a text, split on whitespace"},
                {"type": "array", "items": {"type": "string"}, "maxItems": limits.max_tokens},
            ],
            "examples": ["the cat sat", ["the", "cat", "sat"]],
        }
    else:
        check = functools.partial(_rows_record, dim=input_spec.dim, limit=limits.max_tokens)
        row = {"type": "array", "items": {"type": "number"}, "minItems": input_spec.dim}
        row["maxItems"] = input_spec.dim
        schema = {"type": "array", "items": row, "maxItems": limits.max_tokens}
    return Annotated[Any, pydantic.PlainValidator(check), pydantic.WithJsonSchema(schema)]


def sample_record(spec):
    """A valid record for a spec, to warm the model up: one token, or a window of zeros."""
    if spec.input.kind == "tokens":
        return ["."]
    steps = spec.input.max_length or spec.get("data.lookback") or 1
    return [[0.0] * spec.input.dim for _ in range(steps)]


def request_model(input_spec, limits):
    """The pydantic model of a `/predict` body: `{"records": [record, ...]}`, nothing else."""
    records = Annotated[
        list[record_type(input_spec, limits)],
        pydantic.Field(
            min_length=1,
            max_length=limits.max_records,
            description=f"1 to {limits.max_records} records",
        ),
    ]
    return pydantic.create_model(
        "PredictRequest",
        __config__=pydantic.ConfigDict(extra="forbid"),
        records=(records, ...),
    )
