"""An HTML page of explanations: each input's steps shaded by their attribution.

Red: the step raised the explained output; blue: it lowered it; the stronger the colour, the
larger the share of that output's largest attribution (hover a step for its value).
"""

import html as escape

#: The rules `target_html`'s markup needs (`keras_seq.report` inlines them too).
CSS = """
.target { margin: 0.3em 0; } .about { color: #444; font-size: 90%; margin-right: 0.6em; }
.step { padding: 0.15em 0.25em; margin: 0 0.1em; border-radius: 0.2em; font-family: monospace; }
"""
_STYLE = f"""<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 70em; }}
.input {{ margin-bottom: 1.5em; }} .error {{ color: #b00; font-weight: bold; }}
{CSS}</style>"""


def html(explanations, title="keras-seq explanations"):
    """The page of `keras_seq.explain.explain`'s result (`explain_records`' wrong predictions
    show their gold labels).

    >>> page = html([{"input": ["good"], "prediction": {"label": "pos"}, "parts": ["tokens"],
    ...     "targets": [{"label": "pos", "output": 0.9, "baseline_output": 0.5,
    ...                  "attributions": {"tokens": [0.4]}, "gap": 0.0}]}])
    >>> "rgba(214, 39, 40, 1.00)" in page
    True
    """
    body = [f"<h1>{escape.escape(title)}</h1>"]
    for number, found in enumerate(explanations, 1):
        body.append(f'<div class="input"><h3>Input {number}</h3>')
        if found.get("error"):
            body.append(f'<div class="error">gold: {escape.escape(str(found["gold"]))}</div>')
        body += [target_html(found["input"], target) for target in found["targets"]]
        body.append("</div>")
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape.escape(title)}"
        f"</title>{_STYLE}</head><body>{''.join(body)}</body></html>"
    )


def target_html(steps, target):
    """One explained output (an item of an explanation's `targets`): what it is, then every
    input step (`steps`: the explanation's `input`) shaded by its attribution."""
    scores = _per_step(target["attributions"])
    largest = max((abs(s) for s in scores), default=0.0) or 1.0
    about = ", ".join(
        f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}"
        for key, value in target.items()
        if key not in ("attributions", "gap", "baseline_output")
    )
    cells = []
    for index, score in enumerate(scores):
        label = steps[index] if isinstance(steps[index], str) else f"t{index - len(scores)}"
        red = score >= 0
        colour = (214, 39, 40) if red else (31, 119, 180)
        share = abs(score) / largest
        cells.append(
            f'<span class="step" title="{score:.4g}" style="background: rgba({colour[0]}, '
            f'{colour[1]}, {colour[2]}, {share:.2f})">{escape.escape(label)}</span>'
        )
    about = f'<span class="about">{escape.escape(about)}</span>'
    return f'<div class="target">{about}{"".join(cells)}</div>'


def _per_step(attributions):
    """Each step's attribution: its parts (and a window's features) summed."""
    totals = None
    for values in attributions.values():
        flat = [sum(v) if isinstance(v, list) else v for v in values]
        totals = flat if totals is None else [a + b for a, b in zip(totals, flat)]
    return totals or []
