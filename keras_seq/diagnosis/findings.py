"""One finding of `keras-seq debug-data`: its level, the check that made it, what and the fix."""

import dataclasses

# A label seen fewer times than this in training is flagged: too few examples to learn it.
RARE_LABEL = 10
# An out-of-vocabulary share above this in a split is flagged (5%: about one word a sentence).
OOV_WARNING = 0.05
# A vectors file covering less than this share of the training words is flagged.
VECTORS_WARNING = 0.5


@dataclasses.dataclass(frozen=True)
class Finding:
    """`level`: `error` (training would fail or mislead) or `warning`; `check`: its name
    (`duplicates`, `overlap`, `labels`, `oov`, `length`, `vectors`, `characters`, `bio`,
    `series`, `read`); `message`: what was found, with counts; `fix`: what to change."""

    level: str
    check: str
    message: str
    fix: str = ""

    def to_dict(self):
        return dataclasses.asdict(self)

    def __str__(self):
        mark = "error" if self.level == "error" else "warning"
        fix = f" Fix: {self.fix}" if self.fix else ""
        return f"{mark} [{self.check}] {self.message}.{fix}"


def share(part, whole):
    """`part / whole`, 0.0 for an empty whole."""
    return part / whole if whole else 0.0


def percent(part, whole):
    """`'12 of 400 (3.0%)'`."""
    return f"{part:,} of {whole:,} ({100 * share(part, whole):.1f}%)"
