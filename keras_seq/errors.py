"""The two errors a user's mistake raises: `SpecError` (the spec) and `DataError` (the data).

Both subclass `ValueError`, name the place (spec field and YAML line; file, line and field)
and say how to fix it.
"""

from keras_seq.data.errors import DataError
from keras_seq.spec.errors import Problem, SpecError

__all__ = ["DataError", "Problem", "SpecError"]
