"""The result of a portability check: per spec, each quantity's difference between backends."""

import dataclasses

BACKENDS = ("tensorflow", "jax", "torch")
# Quantity -> the largest max-abs difference from the reference backend that passes.
TOLERANCES = {
    "initial weights": 0.0,
    "outputs": 1e-5,
    "loss": 1e-5,
    "gradients": 1e-5,
    "loss after training": 1e-4,
    "weights after training": 1e-4,
}


@dataclasses.dataclass
class SpecComparison:
    """One spec's section of a `BackendReport`.

    Attributes:
        differences: quantity -> backend -> max abs difference from the reference (None where
            the quantity does not apply, e.g. loss for a model without one).
        errors: backend -> the error its run of this spec raised (the spec then fails).
    """

    differences: dict
    errors: dict


@dataclasses.dataclass
class BackendReport:
    """What `check_backends` found: a section per spec, each a table against one reference.

    Attributes:
        reference: the backend every other one is compared with.
        sections: spec label (its path, or its name) -> `SpecComparison`.
        tolerances: quantity -> the largest difference that passes.
        skipped: backend -> why it did not run (not installed).
        notes: how the check was run (batch, steps, dropout).
    """

    reference: str
    sections: dict
    tolerances: dict
    skipped: dict
    notes: list

    def spec_passed(self, label):
        section = self.sections[label]
        return not section.errors and all(
            self._within(quantity, row) for quantity, row in section.differences.items()
        )

    @property
    def passed(self):
        return all(self.spec_passed(label) for label in self.sections)

    def _within(self, quantity, row):
        return all(v is None or v <= self.tolerances[quantity] for v in row.values())

    def __str__(self):
        lines = []
        for label, section in self.sections.items():
            lines += [f"== {label}", *self._table(section)]
            lines += [f"{b} failed: {error}" for b, error in section.errors.items()]
            lines += ["passed" if self.spec_passed(label) else "FAILED", ""]
        lines += [f"skipped {b}: {why}" for b, why in self.skipped.items()]
        lines += self.notes
        failed = [label for label in self.sections if not self.spec_passed(label)]
        lines.append(f"FAILED: {', '.join(failed)}" if failed else "PASSED")
        return "\n".join(lines)

    def _table(self, section):
        backends = [b for b in BACKENDS if any(b in row for row in section.differences.values())]
        header = [
            "max abs difference",
            *[f"{b} vs {self.reference}" for b in backends],
            "tolerance",
        ]
        rows = [header]
        for quantity, row in section.differences.items():
            cells = ["n/a" if row[b] is None else f"{row[b]:.2e}" for b in backends]
            verdict = "" if self._within(quantity, row) else "  FAIL"
            rows.append([quantity, *cells, f"{self.tolerances[quantity]:.0e}{verdict}"])
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return lines
