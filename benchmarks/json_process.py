"""Run a benchmark worker in a fresh Python process and read the JSON line it prints last."""

import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def run_json(arguments, env):
    """`python ARGUMENTS` in the repository root with `env`; its last stdout line as JSON.

    Exits with the worker's error output when it fails.
    """
    done = subprocess.run(
        [sys.executable, *arguments], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])
