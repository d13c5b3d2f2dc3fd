"""The error a bad spec raises: every problem at once, each with its place and its fix."""

import dataclasses
import difflib
import math


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec.

    `path` is the dotted field path (`encoder.units`, `encoder.layers[1].units`), `line` and
    `column` are 1-based positions in the YAML text (None for specs given as dicts), `found` is
    the offending value as written, `allowed` says what would be accepted and `hint` is a
    "did you mean" suggestion, when one is close enough.
    """

    path: str
    message: str
    line: int | None = None
    column: int | None = None
    found: object = None
    allowed: str | None = None
    hint: str | None = None

    def format(self, source=None):
        place = ":".join(str(p) for p in (source, self.line, self.column) if p is not None)
        text = f"{place}: " if place else ""
        text += f"{self.path or '(top level)'}: {self.message}"
        if self.allowed:
            text += f"; allowed: {self.allowed}"
        if self.hint:
            text += f". Did you mean {self.hint!r}?"
        return text

    def to_dict(self):
        """The fields as standard JSON values (a non-finite `found` becomes its text)."""
        data = dataclasses.asdict(self)
        if isinstance(self.found, float) and not math.isfinite(self.found):
            data["found"] = str(self.found)
        return data


class SpecError(ValueError):
    """A spec that cannot be used; `problems` lists every problem found, not just the first.

    Example:

    >>> import keras_seq
    >>> try:
    ...     keras_seq.load_spec("{input: {kind: tokens}, encoder: {cell: lstmm, units: 8}, "
    ...                          "head: {type: none}}")
    ... except keras_seq.SpecError as error:
    ...     print(error.problems[0].hint)
    lstm
    """

    def __init__(self, problems, source=None):
        self.problems = list(problems)
        self.source = source
        count = len(self.problems)
        heading = f"{source or 'spec'}: {count} problem{'s' if count != 1 else ''} found"
        lines = [heading] + ["  " + p.format(source) for p in self.problems]
        super().__init__("\n".join(lines))


def format_path(path):
    """('encoder', 'layers', 1, 'units') -> 'encoder.layers[1].units'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def closest(word, choices):
    """The choice closest to a misspelt `word`, or None when nothing is close."""
    matches = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return matches[0] if matches else None
