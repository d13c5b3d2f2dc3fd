"""`keras_seq.tune`: a spec's `search:` section run on keras-tuner, each trial a `train` run
(`keras-seq tune` prints what it returns).

Each trial puts the sampled values into the spec as written (`keras_seq.spec.search.trial_data`)
and validates the result with `load_spec` before anything is trained; a combination the spec
rejects fails that trial alone. A valid trial is trained exactly as `keras-seq train` trains it
(`keras_seq.train`), into its own run folder `DIR/trials/NNN`, and its objective is that run's
validation (or training) metric, so the best spec trains again to the score reported here.

The output folder holds:
- `keras_tuner/`: keras-tuner's state. Running the same command again on the same folder
  resumes: finished trials are kept, an interrupted trial continues from its last epoch's
  checkpoint (`keras_seq.resume` on `trials/NNN`), and the budget (the section's `budget`,
  which may be changed on a re-run) counts every trial, failed ones included.
- `trials/NNN`: each trial's run folder.
- `results.csv`: one row per trial (number, status, each searched field, objective, seconds,
  and for a failed trial the one-line reason: a spec the trial's values make invalid, a loss
  that became NaN). A failed trial is logged as a warning and the search goes on.
- `search.png`: the objective of each trial and the best so far.
- `best.yaml`: the best trial's spec (without the search section), a valid commented spec.
- `search.json`: the `search:` section the folder was started with; a re-run with another one
  (its budget aside) is refused, naming both.
"""

import csv
import json
import logging
import pathlib
import time

import yaml

from keras_seq.spec import load_spec
from keras_seq.spec.errors import Problem, SpecError
from keras_seq.spec.overrides import parse_assignments, with_overrides
from keras_seq.spec.search import direction, sample_value, trial_data
from keras_seq.spec.yaml_source import read_yaml

logger = logging.getLogger("keras_seq.tune")

RESULTS, PLOT, BEST, SEARCH = "results.csv", "search.png", "best.yaml", "search.json"
_PATH_FIELDS = ("train", "validation", "test", "vocabulary")


def tune(source, output, assignments=()):
    """Runs the search a spec's `search:` section describes.

    Args:
        source: str or path-like. A spec file with a `search:` section.
        output: str or path-like. The search folder (created, or resumed when it exists).
        assignments: list of str. `FIELD=VALUE` changes to the spec (`--set`), applied to
            every trial (`keras_seq.spec.overrides`).

    Returns:
        `(best_spec_path, rows)`: `DIR/best.yaml` and the results table as a list of dicts.

    Raises:
        keras_seq.SpecError: the spec, its search section, or its objective cannot be used.
    """
    import keras_tuner

    spec = with_overrides(load_spec(source), assignments)
    if spec.search is None:
        raise SpecError(
            [Problem("search", "the spec has no search section", allowed=_SEARCH_EXAMPLE)],
            str(source),
        )
    raw = _raw_with_absolute_paths(source, spec, parse_assignments(assignments))
    search = spec.search
    output = pathlib.Path(output)
    _bind_search(spec.to_dict()["search"], output, source)
    space = {dotted: next(iter(where.items())) for dotted, where in search.space.items()}
    hyperparameters = keras_tuner.HyperParameters()
    for dotted, (kind, values) in space.items():
        sample_value(kind, values, hyperparameters, dotted)
    goal = keras_tuner.Objective(search.objective, direction(search.objective, search.direction))
    tuner = _tuner(keras_tuner, search, spec, goal, hyperparameters, raw, space, output)
    from keras_tuner.src import config as tuner_config

    # keras-tuner prints each failed trial's traceback; its one-line reason is logged instead
    # (the traceback only with -v).
    tuner_config.DEBUG = logger.isEnabledFor(logging.INFO)
    tuner.search()
    rows = _results(tuner, space, search.objective)
    _write_rows(rows, output / RESULTS)
    if not any(row["status"] == "COMPLETED" for row in rows):
        raise SpecError(
            [Problem("search", "no trial finished", allowed=f"see {output / RESULTS}")],
            str(source),
        )
    _plot(rows, search.objective, goal.direction, output / PLOT)
    best = max(
        (row for row in rows if row["status"] == "COMPLETED"),
        key=lambda row: row[search.objective] * (1 if goal.direction == "max" else -1),
    )
    best_path = output / BEST
    _write_best(raw, best, space, search, len(rows), source, best_path)
    return best_path, rows


def _bind_search(section, output, source):
    """Binds the folder `output` to the `search:` section it was started with (`SEARCH`,
    written on the first run): a re-run with another section is refused, naming both, since
    keras-tuner would relabel the old trials with values they never used. Only the budget
    may change (more trials to go on, fewer to stop): it is applied, logged, and recorded."""
    from keras_seq import runs

    bound = output / SEARCH
    if not output.exists():
        output.mkdir(parents=True)
    before = None
    if bound.is_file():
        try:
            before = json.loads(bound.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            before = "(unreadable)"
        if not isinstance(before, dict) or _but_budget(before) != _but_budget(section):
            _refuse_other_search(before, section, output, source)
        if before.get("budget") != section.get("budget"):
            logger.warning(
                "search: budget changed from %s to %s; it counts the earlier trials too",
                _short(before.get("budget")),
                _short(section.get("budget")),
            )
    if before != section:
        runs.write_text_atomic(bound, json.dumps(section, indent=2, sort_keys=True) + "\n")


def _but_budget(section):
    return {key: value for key, value in section.items() if key != "budget"}


def _refuse_other_search(before, section, output, source):
    problem = Problem(
        "search",
        f"{output} holds a search started with another search: section ({output / SEARCH}: "
        f"{_short(before)}); this spec's is {_short(section)}",
        allowed="a new --output for the new search, or the section the folder was started with "
        "(only its budget may change)",
    )
    raise SpecError([problem], str(source))


def _short(section, limit=200):
    text = json.dumps(section, sort_keys=True)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _tuner(keras_tuner, search, spec, goal, hyperparameters, raw, space, output):
    options = dict(
        objective=goal,
        hyperparameters=hyperparameters,
        allow_new_entries=False,
        tune_new_entries=False,
        seed=spec.seed,
        # A failed trial (NaN, an invalid combination) is recorded and the search goes on;
        # keras-tuner would otherwise stop with a traceback after 3 in a row.
        max_consecutive_failed_trials=None,
    )
    if search.algorithm == "random":
        oracle = keras_tuner.oracles.RandomSearchOracle(max_trials=search.budget.trials, **options)
    elif search.algorithm == "bayesian":
        oracle = keras_tuner.oracles.BayesianOptimizationOracle(
            max_trials=search.budget.trials, **options
        )
    else:
        oracle = keras_tuner.oracles.HyperbandOracle(max_epochs=spec.training.epochs, **options)
        oracle.max_trials = search.budget.trials  # Hyperband's own budget is in epochs
    minutes = search.budget.max_minutes
    deadline = None if minutes is None else time.monotonic() + 60 * minutes

    class SpecTuner(keras_tuner.Tuner):
        def pre_create_trial(self):
            if deadline is not None and time.monotonic() > deadline:
                logger.info("search: %s minutes spent, no new trial", minutes)
                self.oracle.max_trials = len(self.oracle.trials)

        def run_trial(self, trial):
            return _run_trial(trial, raw, space, search.objective, output)

        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            if str(trial.status) != "COMPLETED":
                logger.warning("search: trial %s failed: %s", trial.trial_id, _reason(trial))

    return SpecTuner(
        oracle=oracle, directory=str(output), project_name="keras_tuner", overwrite=False
    )


def _run_trial(trial, raw, space, objective, output):
    """Validate the trial's spec, train it as `keras-seq train` does, return its metrics."""
    import keras_tuner

    from keras_seq.training import NonFiniteLoss

    hp = trial.hyperparameters
    values = {
        dotted: sample_value(kind, choices, hp, dotted) for dotted, (kind, choices) in space.items()
    }
    try:
        spec = load_spec(trial_data(raw, values))
    except SpecError as error:
        reason = " ".join(str(error).split())
        raise keras_tuner.errors.FailedTrialError(f"invalid trial spec: {reason}") from None
    epochs = hp.values.get("tuner/epochs")  # Hyperband: this round's epochs (from scratch)
    started = time.monotonic()
    try:
        metrics = _trained(spec, output / "trials" / trial.trial_id, epochs)
    except NonFiniteLoss as error:
        raise keras_tuner.errors.FailedTrialError(f"diverged: {error}") from None
    results = {f"val_{name}": value for name, value in metrics.get("validation", {}).items()}
    results.update(metrics["train"])
    if objective not in results:
        raise keras_tuner.errors.FatalValueError(
            f"search.objective {objective!r} is not a metric of this model; its metrics: "
            f"{', '.join(sorted(results))}"
        )
    results["seconds"] = time.monotonic() - started
    return results


def _trained(spec, folder, epochs):
    """The metrics of the trial's run folder `folder`: trained; continued from its checkpoint
    when an interrupted search left one (`keras_seq.resume`); read when the trial finished
    but the search stopped before recording it; trained again when a hard kill left it empty."""
    from keras_seq import pipeline, runs

    if (folder / runs.CHECKPOINT / runs.PROGRESS).is_file():
        logger.info("search: trial %s continues from its checkpoint", folder.name)
        return pipeline.resume(folder, verbose=0).metrics
    if (folder / runs.METRICS).is_file():
        return runs.read_metrics(folder)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
    return pipeline.train(spec, output=folder, epochs=epochs, verbose=0).metrics


def _reason(trial):
    """A failed trial's reason in one line: the last line of keras-tuner's traceback, without
    the exception's name."""
    lines = [line for line in (trial.message or "").splitlines() if line.strip()]
    if not lines:
        return "no reason recorded"
    last = lines[-1]
    return last.split("FailedTrialError: ", 1)[-1] if "FailedTrialError: " in last else last


def _raw_with_absolute_paths(source, spec, changes=None):
    """The spec as written (no defaults filled), with the `--set` `changes` (`{dotted field:
    value}`) and its data paths made absolute."""
    text = pathlib.Path(source).read_text(encoding="utf-8")
    raw, _ = read_yaml(text, str(source))
    for dotted, value in (changes or {}).items():
        *sections, name = dotted.split(".")
        place = raw
        for section in sections:
            place = place.setdefault(section, {})
        place[name] = value
    if spec.data is not None:
        for name in _PATH_FIELDS:
            if getattr(spec.data, name, None):
                raw["data"][name] = getattr(spec.data, name)
    return raw


def _results(tuner, space, objective):
    rows = []
    for number, trial_id in enumerate(tuner.oracle.start_order, 1):
        trial = tuner.oracle.trials[trial_id]
        hp = trial.hyperparameters
        row = {"trial": number, "trial_id": trial_id, "status": str(trial.status)}
        for dotted, (kind, choices) in space.items():
            row[dotted] = sample_value(kind, choices, hp.copy(), dotted)
        for name in (objective, "seconds"):
            metric = trial.metrics.get_last_value(name) if trial.metrics.exists(name) else None
            row[name] = metric
        row["reason"] = "" if row["status"] == "COMPLETED" else _reason(trial)
        rows.append(row)
    return rows


def _write_rows(rows, path):
    if not rows:
        return
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})


def _cell(value):
    if isinstance(value, (dict, list)):
        return yaml.safe_dump(value, default_flow_style=True).strip()
    return "" if value is None else value


def _plot(rows, objective, goal, path):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    done = [row for row in rows if row[objective] is not None]
    numbers = [row["trial"] for row in done]
    scores = [row[objective] for row in done]
    pick = max if goal == "max" else min
    best = [pick(scores[: i + 1]) for i in range(len(scores))]
    figure, axis = pyplot.subplots(figsize=(6, 3.6))
    axis.plot(numbers, scores, "o", label="trial")
    axis.step(numbers, best, where="post", label=f"best so far ({goal})")
    axis.set_xlabel("trial")
    axis.set_ylabel(objective)
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)


def _write_best(raw, best, space, search, trials, source, path):
    """`best.yaml`: the best trial's spec, validated, commented with where its values came from."""
    values = {dotted: best[dotted] for dotted in space}
    data = trial_data(raw, values)
    load_spec(data)  # the best spec is a valid spec
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    _, locations = read_yaml(text)
    lines = text.split("\n")
    for dotted, (kind, choices) in space.items():
        line, _ = locations[tuple(dotted.split(".")) + ("<key>",)]
        lines[line - 1] += f"  # searched: {kind} {_cell(list(choices))}"
    header = [
        f"# The best of {trials} trials of `keras-seq tune {source}` ({search.algorithm} search).",
        f"# Trial {best['trial']}: {search.objective} {best[search.objective]:.6g}, measured as",
        "# `keras-seq train` measures it (same seed, data and training); train it again with",
        f"#   keras-seq train {path}",
    ]
    path.write_text("\n".join(header + lines), encoding="utf-8")


_SEARCH_EXAMPLE = (
    "a search: section, e.g. search: {space: {encoder.units: {choice: [32, 64]}}, "
    "objective: val_loss, budget: {trials: 6}}"
)
